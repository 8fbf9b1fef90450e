//! Applying the pending migrations: what `migrate`, `migrate up` and `up` do.

use std::time::Duration;

use crate::db::ConnectionInfo;
use crate::migrations::error::MigrateError;
use crate::migrations::runner::{Event, Session};
use crate::migrations::source::{MigrationSet, Version};

/// Applies every pending migration of `set`, up to and including `to` when given, under the
/// migration lock (waiting at most `lock_timeout` for another run's); `on_event` hears each
/// step. Returns the versions applied, in order: none when nothing was pending.
pub async fn apply_pending(
    info: &ConnectionInfo,
    set: &MigrationSet,
    to: Option<&Version>,
    lock_timeout: Duration,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Vec<Version>, MigrateError> {
    let mut session = Session::open(info, set, lock_timeout, on_event).await?;
    let result = session.up(to, on_event).await;
    session.close().await;
    result
}
