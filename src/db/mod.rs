//! The database layer: connection details and readiness of the local PostgreSQL, superuser
//! access to its container, and temporary databases.

pub(crate) mod admin;
mod connection;
mod error;
mod ready;
pub mod snapshot;
mod sql;
pub(crate) mod temporary;

pub use connection::ConnectionInfo;
pub use error::{AdminError, DbError};
pub use ready::{probe, wait_until_ready, ProbeFailure, Readiness};
pub use sql::{quote_ident, quote_literal};
