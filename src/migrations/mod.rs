//! Migrations: reading sqlx and diesel migration sets, the tracking tables of both tools,
//! applying and reverting under an advisory lock, templates for new migrations, and the
//! round-trip check.

mod apply;
pub mod cluster;
mod error;
mod lexer;
pub mod roundtrip;
mod runner;
pub(crate) mod scratch;
pub(crate) mod scratch_check;
pub mod source;
pub mod split;
mod status;
pub mod templates;
mod tracking;
pub use tracking::SQLX_TRACKING_DDL;
pub mod verify;

pub use apply::apply_pending;
pub use error::{locate, FilePosition, MigrateError};
pub use runner::{lock_id, read_status, DownTarget, Event, Session};
pub use status::{compare, Entry, State, Status};
pub use tracking::AppliedRow;
