//! The round-trip check: every down migration must restore the schema exactly.
//!
//! On a scratch database, for each migration i in order: S(i-1) is known; apply up(i) and
//! snapshot S(i); apply down(i), whose snapshot must equal S(i-1); apply up(i) again, whose
//! snapshot must equal S(i). One pass over the chain, three snapshots a migration, each after
//! the first re-reading only what the step changed (`snapshot::Tracker`), and compared with
//! S(i-1) or S(i) over what changed since their marks only. A failure does not end the run,
//! so one run reports every broken migration of a long history, and it costs no replay of the
//! chain: a down and second up that run in transactions run in one outer transaction, rolled
//! back on failure (the database and the tracker are at S(i) again at once); otherwise (a
//! no-transaction file, one that controls its transaction, the verification mode) the scratch
//! database is copied at S(i) before the down and put back from that copy on failure.
//!
//! Each scratch database holds the layout's tracking table, empty, as a real database of that
//! layout does: a migration may read it or attach a trigger to it. The check never writes to it.
//!
//! Here: the entry point and its options. `share` is one lane's loop over its share of the
//! migrations, `check_one` the check of one migration, `steps` how the files of a round trip
//! run and how their snapshots are judged, `emitter` the results put back in migration order,
//! `lanes` how many lanes and which share each, and `report` the results.

mod check_one;
mod emitter;
mod lanes;
mod report;
mod share;
mod steps;

use std::sync::atomic::AtomicUsize;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use futures_util::future::{try_join_all, BoxFuture};
use sqlx::PgConnection;

use crate::migrations::error::MigrateError;
use crate::migrations::source::{MigrationSet, Version};

pub use lanes::{partition, plan_lanes, LanePlan};
pub use report::{CheckReport, MigrationCheck, Outcome, Problem, Step};

use emitter::Emitter;
use report::summarise;
use share::{check_share, Shared};

/// What the checker needs from the scratch database's owner.
pub trait ScratchDatabase: Send {
    /// Copies the scratch database as it is now, closing `conn` first (a template database
    /// must have no session); returns a new connection to the scratch database.
    fn checkpoint(
        &mut self,
        conn: PgConnection,
    ) -> BoxFuture<'_, Result<PgConnection, MigrateError>>;
    /// Replaces the scratch database by a copy of the last checkpoint; returns a connection.
    fn restore(&mut self) -> BoxFuture<'_, Result<PgConnection, MigrateError>>;
    /// The scratch database's `pg_dump --schema-only` (for the verification mode).
    fn schema_dump(&mut self) -> BoxFuture<'_, Result<String, MigrateError>>;
}

/// Which migrations to check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Every migration.
    All,
    /// The last N.
    Last(usize),
    /// From this version on.
    From(Version),
}

/// Options of a check.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Irreversible migrations fail instead of being skipped.
    pub require_down: bool,
    /// A difference in column order only is accepted.
    pub ignore_column_order: bool,
    /// The verification mode: every file committed, and every snapshot and verdict checked
    /// against a whole snapshot and the database's `pg_dump --schema-only`.
    pub verify: bool,
}

/// One scratch database the check runs on: a connection to it (empty) and its owner, who can
/// copy it and put a copy back.
pub struct Lane<'a> {
    /// A connection to the empty scratch database.
    pub conn: PgConnection,
    /// The owner of the scratch database, which copies it and puts a copy back.
    pub scratch: &'a mut dyn ScratchDatabase,
}

/// Runs the round-trip check of the selected migrations, on one scratch database per lane.
///
/// With several lanes, the selected migrations are split into consecutive shares, one a lane,
/// sized so that the lanes finish together ([`partition`]): each lane applies the ups before
/// its share unchecked, then checks its share. Results reach `on_result` in migration order,
/// and the report is the one a single lane would give.
pub async fn check(
    set: &MigrationSet,
    selection: &Selection,
    options: &CheckOptions,
    lanes: Vec<Lane<'_>>,
    on_result: &mut (dyn FnMut(&MigrationCheck) + Send),
) -> Result<CheckReport, MigrateError> {
    let started = Instant::now();
    let first = first_checked(set, selection)?;
    if lanes.is_empty() {
        return Err(MigrateError::Blocked(
            "no scratch database to check on".into(),
        ));
    }
    let lane_count = lanes.len();
    let shares = partition(first, set.migrations.len(), lane_count);
    let emitter = Mutex::new(Emitter::new(set, first, on_result));
    let stop = AtomicUsize::new(usize::MAX);
    let run = Shared {
        set,
        options,
        first,
        emitter: &emitter,
        stop: &stop,
    };
    try_join_all(
        lanes
            .into_iter()
            .zip(shares)
            .map(|(lane, share)| check_share(&run, lane, share)),
    )
    .await?;
    let results = emitter
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .finish();
    Ok(summarise(set.layout, results, lane_count, started))
}

/// The index of the first migration to check.
fn first_checked(set: &MigrationSet, selection: &Selection) -> Result<usize, MigrateError> {
    Ok(match selection {
        Selection::All => 0,
        Selection::Last(n) => set.migrations.len().saturating_sub(*n),
        Selection::From(v) => set
            .migrations
            .iter()
            .position(|m| m.version == *v)
            .ok_or_else(|| MigrateError::UnknownVersion(v.to_string()))?,
    })
}
