//! The database layer: the local PostgreSQL's container as a server, connection details and
//! readiness, superuser access to its container, temporary databases, and schema snapshots.

pub(crate) mod admin;
mod connection;
pub(crate) mod container;
mod error;
mod ready;
pub mod snapshot;
mod sql;
pub(crate) mod temporary;

pub use connection::ConnectionInfo;
pub use error::{AdminError, DbError, StartError};
pub use ready::{probe, wait_until_ready, ProbeFailure, Readiness};
pub use sql::{quote_ident, quote_literal};
