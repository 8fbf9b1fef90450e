//! Reading migration sets from a folder, in sqlx's flat layout or diesel's folder layout, and
//! planning where a new migration's files go.
//!
//! Both readers mirror the tools' own resolvers (sqlx-core 0.8.6 `resolve_blocking`, diesel's
//! `FileBasedMigrations`) so that versions, descriptions, order, checksums and the
//! no-transaction flag are exactly what `sqlx::migrate!()` and diesel_migrations see; where
//! they silently ignore or guess, packit-db reports an error or a warning instead.

mod diesel;
mod error;
mod model;
mod plan;
mod read;
mod sql;
mod sqlx;

#[cfg(test)]
mod tests;

pub use self::error::SourceError;
pub use self::model::{
    Layout, LayoutChoice, Migration, MigrationFile, MigrationSet, Version, VersionStyle,
};
pub use self::plan::{plan_new, slugify, NewMigrationPlan};
pub use self::read::read_set;
pub use self::sql::has_statement;
pub(crate) use self::sqlx::no_transaction;
