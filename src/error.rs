//! The crate's top-level error and its one exhaustive mapping to exit codes.
//!
//! Each area owns a `thiserror` enum (`config::ConfigError`, `engine::EngineError`, ...); this
//! module wraps them, and [`Error::exit_code`] decides the documented exit code for every kind.
//! The compiler checks that no kind is forgotten. It also holds [`CommandError`], the failures
//! of no single area. Only the commands and what sits above them use this module.

use crate::config::ConfigError;
use crate::db::{DbError, StartError};
use crate::dump::DumpError;
use crate::engine::{ContainerError, EngineError, EngineFailure, ImageError};
use crate::interrupt::{Interrupted, ListenFailed, StopSignal};
use crate::migrations::MigrateError;

/// Documented exit codes (README, "Exit codes").
pub mod exit_codes {
    /// Success.
    pub const OK: i32 = 0;
    /// An unexpected failure (I/O error, engine API error without a more specific kind).
    pub const FAILURE: i32 = 1;
    /// The command line could not be parsed (clap's own code).
    pub const USAGE: i32 = 2;
    /// The configuration is invalid: unknown key, bad value, unreadable file.
    pub const CONFIG: i32 = 3;
    /// No container engine could be reached.
    pub const ENGINE_UNAVAILABLE: i32 = 4;
    /// The container cannot be used as asked: not ours, another project's, settings differ, port
    /// in use, missing.
    pub const CONTAINER: i32 = 5;
    /// The image is missing and may not be pulled, or the pull failed.
    pub const IMAGE: i32 = 6;
    /// PostgreSQL did not become ready, or refused the connection.
    pub const DATABASE: i32 = 7;
    /// A check failed: `test-downgrade` found a migration that does not round-trip.
    pub const CHECK_FAILED: i32 = 8;
    /// A migration could not be read, applied or reverted; the database is at its previous
    /// version (except as the message says for `-- no-transaction` migrations).
    pub const MIGRATION: i32 = 9;
    /// A destructive step needed confirmation that was not given.
    pub const NOT_CONFIRMED: i32 = 10;
    /// A dump could not be read, loaded or written; the target database is unchanged.
    pub const DUMP: i32 = 11;
    /// Interrupted by Ctrl-C (128 + SIGINT).
    pub const INTERRUPTED: i32 = 130;
    /// Stopped by SIGTERM, as a CI runner cancelling a job does (128 + SIGTERM), after the same
    /// clean-up as for Ctrl-C.
    pub const TERMINATED: i32 = 143;
}

/// Any error a command can end with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Configuration could not be loaded or validated.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The container engine could not be reached or failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The project's container cannot be used as asked.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// The image is missing or could not be pulled.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// PostgreSQL was not reachable or not ready.
    #[error(transparent)]
    Database(#[from] DbError),
    /// A migration failure.
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    /// A dump could not be read, loaded or written.
    #[error(transparent)]
    Dump(#[from] DumpError),
    /// A command-level failure (confirmation missing, interrupted, I/O).
    #[error(transparent)]
    Command(#[from] CommandError),
}

/// Failures that belong to no single layer.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A destructive step needs confirmation and there is no terminal to ask on.
    #[error("{what} needs confirmation: run it on a terminal to be asked, or pass --yes")]
    NotConfirmed {
        /// The step, e.g. `deleting volume app-packit-db-data`.
        what: String,
    },
    /// The user answered no.
    #[error("{what} cancelled")]
    Declined {
        /// What was not done, as the question named it.
        what: String,
    },
    /// SIGINT (Ctrl-C) or SIGTERM, after the command removed what it had created.
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
    /// Local I/O failed.
    #[error("failed to {action}: {reason}")]
    Io {
        /// What was being done.
        action: String,
        /// Why it failed.
        reason: String,
    },
}

/// Stopped by a signal: a command-level failure, whichever layer noticed it.
impl From<Interrupted> for Error {
    fn from(e: Interrupted) -> Self {
        Error::Command(e.into())
    }
}

/// Not listening for signals is a local I/O failure like any other.
impl From<ListenFailed> for Error {
    fn from(e: ListenFailed) -> Self {
        Error::Command(CommandError::Io {
            action: "listen for SIGINT and SIGTERM".into(),
            reason: e.0.to_string(),
        })
    }
}

/// An engine failure becomes the variant of its kind, so its exit code is decided below like
/// any other engine, container or image error.
impl From<EngineFailure> for Error {
    fn from(e: EngineFailure) -> Self {
        match e {
            EngineFailure::Engine(e) => Error::Engine(e),
            EngineFailure::Container(e) => Error::Container(e),
            EngineFailure::Image(e) => Error::Image(e),
        }
    }
}

/// A failed start becomes the variant of its kind, like an engine failure.
impl From<StartError> for Error {
    fn from(e: StartError) -> Self {
        match e {
            StartError::Engine(e) => e.into(),
            StartError::Database(e) => Error::Database(e),
            StartError::Interrupted(e) => e.into(),
        }
    }
}

impl Error {
    /// The documented exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) => exit_codes::CONFIG,
            Error::Engine(e) => match e {
                EngineError::NotFound { .. }
                | EngineError::Unreachable { .. }
                | EngineError::UnsupportedScheme { .. }
                | EngineError::NotAnEngine { .. }
                | EngineError::PodmanService { .. } => exit_codes::ENGINE_UNAVAILABLE,
                EngineError::Api { .. } => exit_codes::FAILURE,
            },
            Error::Container(e) => match e {
                ContainerError::NotOurs { .. }
                | ContainerError::SettingsDiffer { .. }
                | ContainerError::VolumeMismatch { .. }
                | ContainerError::VolumeNotOurs { .. }
                | ContainerError::OtherProject { .. }
                | ContainerError::VolumeOtherProject { .. }
                | ContainerError::PortInUse { .. }
                | ContainerError::Missing { .. }
                | ContainerError::NotRunning { .. }
                | ContainerError::Exited { .. } => exit_codes::CONTAINER,
            },
            Error::Image(e) => match e {
                ImageError::Missing { .. } | ImageError::PullFailed { .. } => exit_codes::IMAGE,
            },
            Error::Database(e) => match e {
                DbError::NotReady { .. }
                | DbError::AuthFailed { .. }
                | DbError::Unreachable { .. } => exit_codes::DATABASE,
            },
            Error::Migrate(e) => match e {
                MigrateError::Database { .. } => exit_codes::DATABASE,
                MigrateError::RoundTripFailed { .. } => exit_codes::CHECK_FAILED,
                MigrateError::Source(_)
                | MigrateError::Template(_)
                | MigrateError::Failed { .. }
                | MigrateError::FailedNoTransaction { .. }
                | MigrateError::Blocked(_)
                | MigrateError::Irreversible { .. }
                | MigrateError::UnknownVersion(_)
                | MigrateError::WrongTrackingTable { .. }
                | MigrateError::LockTimeout { .. }
                | MigrateError::Write { .. } => exit_codes::MIGRATION,
            },
            Error::Dump(e) => match e {
                DumpError::Unreadable { .. }
                | DumpError::Empty { .. }
                | DumpError::NotADump { .. }
                | DumpError::Corrupt { .. }
                | DumpError::TooNew { .. }
                | DumpError::MissingRoles { .. }
                | DumpError::Connects { .. }
                | DumpError::Truncated { .. }
                | DumpError::LoadFailed { .. }
                | DumpError::Admin { .. }
                | DumpError::DumpFailed { .. }
                | DumpError::Write { .. } => exit_codes::DUMP,
            },
            Error::Command(e) => match e {
                CommandError::NotConfirmed { .. } | CommandError::Declined { .. } => {
                    exit_codes::NOT_CONFIRMED
                }
                CommandError::Interrupted(Interrupted { signal }) => match signal {
                    StopSignal::Interrupt => exit_codes::INTERRUPTED,
                    StopSignal::Terminate => exit_codes::TERMINATED,
                },
                CommandError::Io { .. } => exit_codes::FAILURE,
            },
        }
    }
}
