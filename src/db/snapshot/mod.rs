//! Schema snapshots and their diff: a canonical, sorted model of a database's schema read
//! from the catalogs in one query (or, for a sequence of snapshots of one connection, only
//! what changed since the previous one: `tracker`), and the object-by-object difference of two
//! snapshots, the base of the round-trip check (a down migration must restore the snapshot
//! taken before its up migration).

mod change;
mod diff;
mod model;
mod object;
mod query;
mod rows;
mod take;
mod tracker;
mod value_diff;

pub use change::{indent_continuation, Change};
pub use diff::{diff, schema_diff, SchemaDiff};
pub use model::{Attributes, Snapshot};
pub use object::{ObjectId, ObjectKind};
pub use take::take;
pub use tracker::{Mark, Tracker, TrackerStats, READER_SETTINGS};

#[cfg(test)]
mod tests;
