//! The database layer: connection details and readiness of the local PostgreSQL.

mod connection;
mod error;
mod ready;
pub mod snapshot;
mod sql;

pub use connection::ConnectionInfo;
pub use error::DbError;
pub use ready::{probe, wait_until_ready, ProbeFailure, Readiness};
pub use sql::{quote_ident, quote_literal};
