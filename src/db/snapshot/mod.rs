//! Schema snapshots and their diff: a canonical, sorted model of a database's schema read
//! from the catalogs in one query, and the object-by-object difference of two snapshots, the
//! base of the round-trip check (a down migration must restore the snapshot taken before its
//! up migration).

mod change;
mod diff;
mod model;
mod object;
mod query;
mod rows;
mod take;

pub use change::Change;
pub use diff::{diff, SchemaDiff};
pub use model::{Attributes, Snapshot};
pub use object::{ObjectId, ObjectKind};
pub use take::take;

#[cfg(test)]
mod tests;
