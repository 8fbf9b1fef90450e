//! One lane's work: bring its scratch database to the start of its share with the ups before
//! it, unchecked, then check the share one migration after another.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use sqlx::PgConnection;

use crate::migrations::error::MigrateError;
use crate::migrations::source::{Migration, MigrationSet};
use crate::migrations::tracking;

use super::check_one::{Checked, Checker};
use super::emitter::Emitter;
use super::report::MigrationCheck;
use super::steps::run_user_file;
use super::{CheckOptions, Lane};

/// What every lane of one check shares.
pub(super) struct Shared<'a, 'e> {
    pub(super) set: &'a MigrationSet,
    pub(super) options: &'a CheckOptions,
    /// The index of the first migration checked.
    pub(super) first: usize,
    pub(super) emitter: &'a Mutex<Emitter<'e>>,
    /// The lowest index whose failure broke the chain (the migrations after it cannot be
    /// checked): lanes past it stop.
    pub(super) stop: &'a AtomicUsize,
}

impl<'e> Shared<'_, 'e> {
    fn emit(&self, index: usize, check: MigrationCheck, breaks_chain: bool) {
        if breaks_chain {
            self.stop.fetch_min(index, Ordering::SeqCst);
        }
        self.emitter().emit(index, check, breaks_chain);
    }

    /// Reports the migrations of `indexes` as not checked because of `broken`'s up.
    fn skip(&self, indexes: Range<usize>, broken: &Migration) {
        for index in indexes {
            let check = MigrationCheck::not_checked(&self.set.migrations[index], broken);
            self.emit(index, check, false);
        }
    }

    /// The up of migration `index`, before the selection, failed: no lane can check anything.
    fn failed_before_selection(&self, index: usize, message: String) {
        self.stop.fetch_min(index, Ordering::SeqCst);
        self.emitter().failed_before_selection(index, message);
    }

    fn stopped_before(&self, index: usize) -> Option<&Migration> {
        let at = self.stop.load(Ordering::SeqCst);
        (at < index).then(|| &self.set.migrations[at])
    }

    fn emitter(&self) -> MutexGuard<'_, Emitter<'e>> {
        self.emitter.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One lane: applies the ups before its share, then checks the share.
pub(super) async fn check_share(
    run: &Shared<'_, '_>,
    lane: Lane<'_>,
    share: Range<usize>,
) -> Result<(), MigrateError> {
    let Lane { mut conn, scratch } = lane;
    tracking::ensure(&mut conn, run.set.layout).await?;
    if !reach_share(run, &mut conn, &share).await {
        return Ok(());
    }
    let mut checker = Checker::start(conn, scratch, run.options).await?;
    for index in share.clone() {
        if let Some(broken) = run.stopped_before(index) {
            run.skip(index..share.end, broken);
            break;
        }
        let m = &run.set.migrations[index];
        match checker.check_one(m).await? {
            Checked::Next(result) => run.emit(index, result, false),
            Checked::UpFailed(result) => {
                run.emit(index, result, true);
                run.skip(index + 1..share.end, m);
                break;
            }
        }
    }
    Ok(())
}

/// Brings the scratch database to S(share.start - 1) without checks. False when the lane cannot
/// check its share, which is then reported (or left to the lane that reports why).
async fn reach_share(run: &Shared<'_, '_>, conn: &mut PgConnection, share: &Range<usize>) -> bool {
    for (i, m) in run.set.migrations[..share.start].iter().enumerate() {
        if let Some(broken) = run.stopped_before(share.start) {
            run.skip(share.clone(), broken);
            return false;
        }
        let Err(message) = run_user_file(conn, &m.up, m.no_transaction).await else {
            continue;
        };
        if i < run.first {
            // Before the selection: no lane can check anything.
            run.failed_before_selection(i, message);
        } else {
            // In an earlier lane's share, which reports it.
            run.skip(share.clone(), m);
        }
        return false;
    }
    true
}
