//! Errors of the database layer.

use crate::engine::{ContainerError, EngineError, EngineFailure};
use crate::interrupt::Interrupted;

/// PostgreSQL was not reachable or not ready.
// The variants' fields are named for what they hold: a doc comment on each would restate the name.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// It did not answer `SELECT 1` within the timeout.
    #[error("PostgreSQL in `{container}` did not accept connections within {timeout_secs} s (last error: {last_error}); raise --timeout, or look at the log below{}", .log_tail.as_ref().map(|t| format!(":\n{t}")).unwrap_or_default())]
    NotReady {
        container: String,
        timeout_secs: u64,
        last_error: String,
        /// The last lines of the container log.
        log_tail: Option<String>,
    },
    /// The server rejected the credentials.
    #[error("PostgreSQL in `{container}` rejected the password for user `{user}`; the data volume was initialised with another password: set `password` to that one, or run `cargo packit-db down --volumes` to start from an empty database")]
    AuthFailed { container: String, user: String },
    /// A connection failed for another reason.
    #[error("cannot connect to PostgreSQL at 127.0.0.1:{port}: {reason}")]
    Unreachable {
        port: u16,
        /// Why.
        reason: String,
    },
}

/// A step run as the container's superuser failed: a statement, or psql in the container.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action}: {detail}")]
pub struct AdminError {
    /// What was being done, e.g. ``create staging database `x` ``.
    pub action: String,
    /// The server's or the tool's message.
    pub detail: String,
}

/// Why a container could not be started and made ready.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The engine failed, or the container or its image cannot be used as asked.
    #[error(transparent)]
    Engine(#[from] EngineFailure),
    /// PostgreSQL did not become ready, or rejected the password.
    #[error(transparent)]
    Database(#[from] DbError),
    /// Stopped by SIGINT or SIGTERM.
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
}

impl From<EngineError> for StartError {
    fn from(e: EngineError) -> Self {
        StartError::Engine(e.into())
    }
}

impl From<ContainerError> for StartError {
    fn from(e: ContainerError) -> Self {
        StartError::Engine(e.into())
    }
}
