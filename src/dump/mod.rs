//! Dumps: telling their format from their content, reading which PostgreSQL made them, the
//! roles they name, streaming plain scripts into psql, and the staging database a load goes
//! into, and the swap that puts it in place. The commands that load and take dumps
//! (`commands::load_dump`, `commands::dump`) drive these through the engine layer.

mod error;
pub mod feed;
pub mod format;
pub mod header;
pub mod plain;
pub mod roles;
pub mod source;
pub(crate) mod staging;

pub use error::DumpError;
pub use format::{sniff, Compression, DumpFormat, Sniffed};

#[cfg(test)]
mod tests;
