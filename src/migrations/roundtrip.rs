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

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::{try_join_all, BoxFuture};
use serde::Serialize;
use sqlx::PgConnection;

use crate::db::snapshot::{schema_diff, Change, Mark, SchemaDiff, Tracker, READER_SETTINGS};
use crate::migrations::cluster::cluster_wide_statement;
use crate::migrations::error::MigrateError;
use crate::migrations::runner::{run_file, run_file_in_open_transaction};
use crate::migrations::source::{Layout, Migration, MigrationFile, MigrationSet, Version};
use crate::migrations::split::controls_its_transaction;
use crate::migrations::{tracking, verify};

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

/// The result of one migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Down restored the schema exactly and up could be re-applied identically.
    Passed,
    /// Passed, except for the physical order of columns, which was accepted.
    PassedIgnoringColumnOrder,
    /// No down file, or one without a statement: skipped.
    Irreversible,
    /// A step failed.
    Failed,
    /// Not checked, because an earlier migration could not be applied.
    NotChecked,
}

/// Which step went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// The up migration failed (the chain cannot go on).
    UpFailed,
    /// The down migration failed with an error.
    DownFailed,
    /// After down, objects remain that were not there before up.
    DownLeftResidue,
    /// After down, objects are missing that were there before up.
    DownRemovedTooMuch,
    /// After down, objects differ from before up.
    DownChangedObjects,
    /// After down, only the physical order of columns differs.
    ColumnOrderOnly,
    /// Up failed when applied again after down (e.g. a type left behind).
    UpNotReapplicable,
    /// Up applied again after down gave a different schema than the first time.
    UpNotIdentical,
    /// The migration has no usable down file and --require-down was given.
    DownMissing,
}

impl Step {
    /// A short phrase for people.
    pub fn describe(self) -> &'static str {
        match self {
            Step::UpFailed => "up failed",
            Step::DownFailed => "down failed with an error",
            Step::DownLeftResidue => "down left residue",
            Step::DownRemovedTooMuch => "down removed too much",
            Step::DownChangedObjects => "down did not restore these objects",
            Step::ColumnOrderOnly => {
                "down changed only the physical column order (--ignore-column-order accepts it)"
            }
            Step::UpNotReapplicable => "up could not be re-applied after down",
            Step::UpNotIdentical => "up re-applied after down gave another schema",
            Step::DownMissing => "no usable down file (--require-down)",
        }
    }
}

/// One problem of a migration.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    /// The step.
    pub step: Step,
    /// The error message, for steps that failed with one.
    pub message: Option<String>,
    /// The object differences, for steps that left the schema different.
    pub changes: Vec<String>,
}

/// The check of one migration.
#[derive(Clone, Debug, Serialize)]
pub struct MigrationCheck {
    /// Its version.
    pub version: Version,
    /// `<version>_<description>`.
    pub name: String,
    /// Its up file.
    pub file: String,
    /// The outcome.
    pub outcome: Outcome,
    /// Why it was skipped or not checked, when it was.
    pub note: Option<String>,
    /// What went wrong.
    pub problems: Vec<Problem>,
    /// Time spent on it (up, down, up and snapshots), in milliseconds.
    pub millis: u64,
}

/// The whole check.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// The layout of the set.
    pub layout: Layout,
    /// Every migration checked (and those after a broken up, not checked).
    pub migrations: Vec<MigrationCheck>,
    /// Counts.
    pub passed: usize,
    /// Failed ones.
    pub failed: usize,
    /// Irreversible ones that were skipped.
    pub irreversible: usize,
    /// Not checked ones.
    pub not_checked: usize,
    /// Scratch databases checked on at once (lanes).
    pub lanes: usize,
    /// Total wall time, in milliseconds.
    pub millis: u64,
}

impl CheckReport {
    /// Whether the check passed (exit 0).
    pub fn success(&self) -> bool {
        self.failed == 0 && self.not_checked == 0
    }
}

/// One scratch database the check runs on: a connection to it (empty) and its owner, who can
/// copy it and put a copy back.
pub struct Lane<'a> {
    /// A connection to the empty scratch database.
    pub conn: PgConnection,
    /// Its owner.
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

/// What every lane of one check shares.
struct Shared<'a, 'e> {
    set: &'a MigrationSet,
    options: &'a CheckOptions,
    /// The index of the first migration checked.
    first: usize,
    emitter: &'a Mutex<Emitter<'e>>,
    /// The lowest index whose failure broke the chain (the migrations after it cannot be
    /// checked): lanes past it stop.
    stop: &'a AtomicUsize,
}

impl Shared<'_, '_> {
    fn emit(&self, index: usize, check: MigrationCheck, breaks_chain: bool) {
        if breaks_chain {
            self.stop.fetch_min(index, Ordering::SeqCst);
        }
        self.emitter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .emit(index, check, breaks_chain);
    }

    /// Reports the migrations of `indexes` as not checked because of `broken`'s up.
    fn skip(&self, indexes: Range<usize>, broken: &Migration) {
        for index in indexes {
            self.emit(
                index,
                not_checked(&self.set.migrations[index], broken),
                false,
            );
        }
    }

    fn stopped_before(&self, index: usize) -> Option<&Migration> {
        let at = self.stop.load(Ordering::SeqCst);
        (at < index).then(|| &self.set.migrations[at])
    }
}

/// One lane: applies the ups before its share, then checks the share.
async fn check_share(
    run: &Shared<'_, '_>,
    lane: Lane<'_>,
    share: Range<usize>,
) -> Result<(), MigrateError> {
    let set = run.set;
    let options = run.options;
    let Lane { mut conn, scratch } = lane;
    tracking::ensure(&mut conn, set.layout).await?;
    // Bring the scratch database to S(share.start - 1) without checks.
    for (i, m) in set.migrations[..share.start].iter().enumerate() {
        if let Some(broken) = run.stopped_before(share.start) {
            run.skip(share, broken);
            return Ok(());
        }
        if let Err(message) = run_user_file(&mut conn, &m.up, m.no_transaction).await {
            if i < run.first {
                // Before the selection: no lane can check anything.
                run.stop.fetch_min(i, Ordering::SeqCst);
                run.emitter
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .failed_before_selection(i, message);
            } else {
                // In an earlier lane's share, which reports it.
                run.skip(share, m);
            }
            return Ok(());
        }
    }
    // One tracker per connection: a rebuilt scratch database starts a new one.
    let mut tracker = Tracker::with_event_log();
    refresh(&mut tracker, &mut conn).await?;
    // The verification mode's dumps of S(i-1) and S(i).
    let mut dumps = match options.verify {
        true => Some(Dumps {
            before: verified_dump(&mut tracker, &mut conn, scratch, "before the first check")
                .await?,
            after_up: Vec::new(),
        }),
        false => None,
    };
    // S(i-1): the state the next down must restore.
    let mut before = tracker.mark();
    let mut index = share.start;
    while index < share.end {
        if let Some(broken) = run.stopped_before(index) {
            run.skip(index..share.end, broken);
            break;
        }
        let m = &set.migrations[index];
        let step_started = Instant::now();
        let mut result = MigrationCheck {
            version: m.version.clone(),
            name: m.name(),
            file: m.up.path.display().to_string(),
            outcome: Outcome::Passed,
            note: None,
            problems: Vec::new(),
            millis: 0,
        };
        if let Err(message) = run_user_file(&mut conn, &m.up, m.no_transaction).await {
            run.emit(index, failed_up(m, message, step_started.elapsed()), true);
            run.skip(index + 1..share.end, m);
            break;
        }
        refresh(&mut tracker, &mut conn).await?;
        if let Some(dumps) = dumps.as_mut() {
            let what = format!("after the up of {}", m.name());
            dumps.after_up = verified_dump(&mut tracker, &mut conn, scratch, &what).await?;
        }
        let mut after_up = tracker.mark();
        match (&m.down, m.down_is_empty()) {
            (Some(down), false) => {
                let mut how = if options.verify || !one_transaction_fits(m, down) {
                    RoundTrip::Committed
                } else {
                    RoundTrip::OneTransaction
                };
                let mut checkpointed = false;
                loop {
                    if how == RoundTrip::Committed && !checkpointed {
                        // S(i), to come back to if the round trip fails.
                        conn = scratch.checkpoint(conn).await?;
                        checkpointed = true;
                    }
                    // A match, not `map`: a closure cannot reborrow `scratch` in a loop.
                    #[allow(clippy::manual_map)]
                    let verification = match dumps.as_mut() {
                        Some(d) => Some((&mut *scratch as &mut dyn ScratchDatabase, d)),
                        None => None,
                    };
                    let state = down_and_up_again(
                        &mut conn,
                        &mut tracker,
                        m,
                        down,
                        (before, &mut after_up),
                        how,
                        options,
                        &mut result,
                        verification,
                    )
                    .await?;
                    match state {
                        State::Known => {}
                        State::Unknown => {
                            // Back to S(i) from the checkpoint: the database is the copy
                            // made after the up, and the tracker goes back to that mark.
                            conn = scratch.restore().await?;
                            after_up = roll_back(&mut tracker, &mut conn, after_up).await?;
                            if let Some(dumps) = dumps.as_mut() {
                                let what = format!("after coming back to {}", m.name());
                                dumps.before =
                                    verified_dump(&mut tracker, &mut conn, scratch, &what).await?;
                            }
                        }
                        State::RetryCommitted => {
                            // The transaction could not commit (a deferred constraint):
                            // check again with each file committed, as it would run.
                            how = RoundTrip::Committed;
                            continue;
                        }
                    }
                    break;
                }
            }
            (down, _) => {
                let reason = match down {
                    None => "no down file".to_string(),
                    Some(f) => format!("{} holds no statement", f.path.display()),
                };
                if options.require_down {
                    result.problems.push(Problem {
                        step: Step::DownMissing,
                        message: Some(reason),
                        changes: Vec::new(),
                    });
                } else {
                    result.outcome = Outcome::Irreversible;
                    result.note = Some(format!("irreversible ({reason}): skipped"));
                }
            }
        }
        if !result.problems.is_empty() {
            result.outcome = Outcome::Failed;
        }
        tracker.forget(before);
        tracker.forget(after_up);
        if let Some(dumps) = dumps.as_mut() {
            if result.outcome == Outcome::Irreversible || result.problems.is_empty() {
                // Irreversible (nothing ran) or passed: the state is S(i), as dumped.
                dumps.before = std::mem::take(&mut dumps.after_up);
            }
        }
        // After a pass, the state is S(i) again (up re-applied identically, or accepted as
        // differing in column order only).
        before = tracker.mark();
        result.millis = millis(step_started.elapsed());
        run.emit(index, result, false);
        index += 1;
    }
    Ok(())
}

/// How a migration's down and its second up run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RoundTrip {
    /// Both in one transaction, rolled back when the check fails (the database is at S(i) again
    /// at once) and committed when it passes.
    OneTransaction,
    /// Each file in its own transaction (or none), as `migrate` runs them, after a checkpoint of
    /// S(i): a failure leaves the database in a state only that copy can undo.
    Committed,
}

/// The database's state after a round trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// S(i), the state after the first up (or one differing from it in column order only,
    /// accepted), and the tracker's snapshot is of it.
    Known,
    /// Unknown: the scratch database must be put back from its checkpoint.
    Unknown,
    /// The transaction could not commit: nothing is reported, and the database and the tracker
    /// are at S(i) again; check again with each file committed.
    RetryCommitted,
}

/// Whether a migration's down and second up can run in one transaction that is rolled back:
/// both run in a transaction, and neither controls it nor sets what lasts until it ends (which
/// would leak from the down into the second up).
fn one_transaction_fits(m: &Migration, down: &MigrationFile) -> bool {
    !m.no_transaction
        && !m.down_no_transaction()
        && !controls_its_transaction(&m.up.sql)
        && !controls_its_transaction(&down.sql)
}

/// Applies down(i), compares with S(i-1) (`marks.0`), applies up(i) again and compares with
/// S(i) (`marks.1`), recording what differs in `result`.
#[allow(clippy::too_many_arguments)]
async fn down_and_up_again(
    conn: &mut PgConnection,
    tracker: &mut Tracker,
    m: &Migration,
    down: &MigrationFile,
    (before, after_up): (Mark, &mut Mark),
    how: RoundTrip,
    options: &CheckOptions,
    result: &mut MigrationCheck,
    mut verification: Option<(&mut dyn ScratchDatabase, &mut Dumps)>,
) -> Result<State, MigrateError> {
    let outer = how == RoundTrip::OneTransaction;
    // In one transaction: the down's query string opens it.
    let down_place = if outer { Place::Opens } else { Place::Own };
    match run_step(conn, down, m.down_no_transaction(), down_place).await {
        Err(message) => {
            result.problems.push(Problem {
                step: Step::DownFailed,
                message: Some(message),
                changes: Vec::new(),
            });
        }
        Ok(()) => {
            refresh(tracker, conn).await?;
            let difference = diff_since(tracker, before);
            if let Some((scratch, dumps)) = verification.as_mut() {
                let what = format!("after the down of {}", m.name());
                let dump = verified_dump(tracker, conn, &mut **scratch, &what).await?;
                verify::verdict_agrees(&what, !difference.is_empty(), &dumps.before, &dump)?;
            }
            classify_down(&difference, options, result);
            let up_place = if outer { Place::Inside } else { Place::Own };
            match run_step(conn, &m.up, m.no_transaction, up_place).await {
                Err(message) => {
                    result.problems.push(Problem {
                        step: Step::UpNotReapplicable,
                        message: Some(message),
                        changes: Vec::new(),
                    });
                }
                Ok(()) => {
                    refresh(tracker, conn).await?;
                    let difference = diff_since(tracker, *after_up);
                    if let Some((scratch, dumps)) = verification.as_mut() {
                        let what = format!("after the second up of {}", m.name());
                        let dump = verified_dump(tracker, conn, &mut **scratch, &what).await?;
                        verify::verdict_agrees(
                            &what,
                            !difference.is_empty(),
                            &dumps.after_up,
                            &dump,
                        )?;
                        // The state now, for the next migration if this one passes.
                        dumps.after_up = dump;
                    }
                    let real = if options.ignore_column_order {
                        difference.without_column_order()
                    } else {
                        difference
                    };
                    if !real.is_empty() {
                        result.problems.push(Problem {
                            step: Step::UpNotIdentical,
                            message: None,
                            changes: lines(&real),
                        });
                    }
                }
            }
        }
    }
    // The second up gave S(i) again only when nothing but an accepted column order differs.
    let passed = result.problems.is_empty();
    if !outer {
        return Ok(if passed { State::Known } else { State::Unknown });
    }
    if passed {
        if execute(conn, "COMMIT").await.is_ok() {
            return Ok(State::Known);
        }
        let _ = execute(conn, "ROLLBACK").await;
        *after_up = roll_back(tracker, conn, *after_up).await?;
        result.outcome = Outcome::Passed;
        result.note = None;
        return Ok(State::RetryCommitted);
    }
    execute(conn, "ROLLBACK").await?;
    // Back at S(i): the tracker forgets what it saw inside.
    *after_up = roll_back(tracker, conn, *after_up).await?;
    Ok(State::Known)
}

/// Where a file of the round trip runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// In its own transaction (or none), as `migrate` runs it.
    Own,
    /// In a transaction its query string opens (`BEGIN;` before it: no round trip of its own),
    /// left open.
    Opens,
    /// In the transaction already open.
    Inside,
}

/// Runs a file of the round trip.
async fn run_step(
    conn: &mut PgConnection,
    file: &MigrationFile,
    no_transaction: bool,
    place: Place,
) -> Result<(), String> {
    match place {
        Place::Own => run_user_file(conn, file, no_transaction).await,
        Place::Opens => run_file_in_open_transaction(conn, file, &READER_SETTINGS, true).await,
        Place::Inside => run_file_in_open_transaction(conn, file, &READER_SETTINGS, false).await,
    }
}

/// The normalised schema dumps of the verification mode.
struct Dumps {
    /// Of S(i-1).
    before: Vec<String>,
    /// Of S(i) (after the second up, once it ran).
    after_up: Vec<String>,
}

/// Verification mode: checks the tracker's snapshot against a whole one, and returns the
/// database's normalised `pg_dump`.
async fn verified_dump(
    tracker: &mut Tracker,
    conn: &mut PgConnection,
    scratch: &mut dyn ScratchDatabase,
    what: &str,
) -> Result<Vec<String>, MigrateError> {
    verify::incremental_equals_whole(tracker, conn, what).await?;
    Ok(verify::normalise_dump(&scratch.schema_dump().await?))
}

async fn execute(conn: &mut PgConnection, sql: &str) -> Result<(), MigrateError> {
    sqlx::raw_sql(sql)
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(|source| MigrateError::Database {
            action: format!("run {sql} on the scratch database"),
            source,
        })
}

/// Puts the lanes' results in migration order, hands each to the caller as soon as all before
/// it are known, and makes every result after one that broke the chain "not checked".
struct Emitter<'a> {
    set: &'a MigrationSet,
    pending: Vec<Option<(MigrationCheck, bool)>>,
    next: usize,
    broken: Option<usize>,
    /// Set when a migration before the selection failed: the report is final.
    closed: bool,
    results: Vec<MigrationCheck>,
    on_result: &'a mut (dyn FnMut(&MigrationCheck) + Send),
}

impl<'a> Emitter<'a> {
    fn new(
        set: &'a MigrationSet,
        first: usize,
        on_result: &'a mut (dyn FnMut(&MigrationCheck) + Send),
    ) -> Emitter<'a> {
        Emitter {
            set,
            pending: vec![None; set.migrations.len()],
            next: first,
            broken: None,
            closed: false,
            results: Vec::new(),
            on_result,
        }
    }

    fn emit(&mut self, index: usize, check: MigrationCheck, breaks_chain: bool) {
        if self.closed {
            return;
        }
        self.pending[index] = Some((check, breaks_chain));
        while let Some((check, breaks_chain)) =
            self.pending.get_mut(self.next).and_then(Option::take)
        {
            let migrations = &self.set.migrations;
            let check = match self.broken {
                Some(broken) => not_checked(&migrations[self.next], &migrations[broken]),
                None => {
                    if breaks_chain {
                        self.broken = Some(self.next);
                    }
                    check
                }
            };
            self.deliver(check);
            self.next += 1;
        }
    }

    /// The up of migration `index`, before the selection, failed: it is reported with every
    /// migration after it as not checked, and nothing else.
    fn failed_before_selection(&mut self, index: usize, message: String) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.results.clear();
        let migrations = &self.set.migrations;
        let broken = &migrations[index];
        let mut checks = vec![failed_up(broken, message, Duration::ZERO)];
        checks.extend(
            migrations[index + 1..]
                .iter()
                .map(|m| not_checked(m, broken)),
        );
        for check in checks {
            self.deliver(check);
        }
    }

    fn deliver(&mut self, check: MigrationCheck) {
        (self.on_result)(&check);
        self.results.push(check);
    }

    fn finish(self) -> Vec<MigrationCheck> {
        self.results
    }
}

/// Lanes used when none are asked for: the cores, at most this many.
const MAX_DEFAULT_LANES: usize = 4;
/// Without `--jobs`, each lane checks at least this many migrations: below that, another
/// scratch database and the ups it applies first cost more than the lane saves.
const MIN_DEFAULT_SHARE: usize = 20;

/// How many lanes (scratch databases) a check uses, and why only one when the chain forbids
/// more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LanePlan {
    /// The number of lanes.
    pub lanes: usize,
    /// Why a single lane although more were possible.
    pub single_because: Option<String>,
}

/// Plans the lanes of a check: `requested` ones (`--jobs`), or by default one per core (at most
/// `MAX_DEFAULT_LANES`) with at least `MIN_DEFAULT_SHARE` migrations each; never more than there
/// are migrations to check, and one alone when a migration changes the cluster (roles,
/// tablespaces, databases: see [`cluster_wide_statement`]), which the scratch databases of one
/// server share.
pub fn plan_lanes(
    set: &MigrationSet,
    selection: &Selection,
    requested: Option<usize>,
    cores: usize,
) -> Result<LanePlan, MigrateError> {
    let count = set.migrations.len() - first_checked(set, selection)?;
    let lanes = match requested {
        Some(n) => n.clamp(1, count.max(1)),
        None => cores
            .min(MAX_DEFAULT_LANES)
            .min(count / MIN_DEFAULT_SHARE)
            .max(1),
    };
    if lanes == 1 {
        return Ok(LanePlan {
            lanes,
            single_because: None,
        });
    }
    let files = set
        .migrations
        .iter()
        .flat_map(|m| std::iter::once(&m.up).chain(m.down.as_ref()));
    for file in files {
        if let Some(statement) = cluster_wide_statement(&file.sql) {
            return Ok(LanePlan {
                lanes: 1,
                single_because: Some(format!(
                    "{} runs {statement}, which changes the whole server",
                    file.path.display()
                )),
            });
        }
    }
    Ok(LanePlan {
        lanes,
        single_because: None,
    })
}

/// What applying one up unchecked costs a later lane, as a share of checking one migration (up,
/// snapshot, down, snapshot, up, snapshot). An up alone costs about a fifth of a check; the rest
/// stands for later checks costing more than early ones (the schema they read is larger).
/// Measured on generated chains of 200 and 400 migrations, two lanes on two cores.
const UP_SHARE_OF_A_CHECK: f64 = 0.22;

/// Splits the migrations `first..len` into `lanes` consecutive, non-empty shares that take
/// about the same time, a lane applying the ups before its share unchecked first: the later a
/// share starts, the fewer migrations it checks.
pub fn partition(first: usize, len: usize, lanes: usize) -> Vec<Range<usize>> {
    let count = len.saturating_sub(first);
    let lanes = lanes.clamp(1, count.max(1));
    if lanes == 1 {
        return std::iter::once(first..len).collect();
    }
    // The ends of the shares if every lane works for `time` (in checks).
    let ends = |time: f64| -> Vec<f64> {
        let mut start = first as f64;
        (0..lanes)
            .map(|_| {
                start += (time - start * UP_SHARE_OF_A_CHECK).max(1.0);
                start
            })
            .collect()
    };
    // The shortest time in which the lanes check everything.
    let (mut low, mut high) = (0.0, len as f64 * (1.0 + UP_SHARE_OF_A_CHECK));
    for _ in 0..64 {
        let mid = (low + high) / 2.0;
        if ends(mid)[lanes - 1] >= len as f64 {
            high = mid;
        } else {
            low = mid;
        }
    }
    let mut shares = Vec::with_capacity(lanes);
    let mut start = first;
    for (lane, end) in ends(high).into_iter().enumerate() {
        let remaining_lanes = lanes - lane - 1;
        let end = if remaining_lanes == 0 {
            len
        } else {
            // Round, leaving at least one migration for each lane after this one.
            (end.round() as usize).clamp(start + 1, len - remaining_lanes)
        };
        shares.push(start..end);
        start = end;
    }
    shares
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

/// Sorts the differences after down into residue, removals and changes.
fn classify_down(difference: &SchemaDiff, options: &CheckOptions, result: &mut MigrationCheck) {
    if difference.is_empty() {
        return;
    }
    if difference.is_only_column_order() {
        if options.ignore_column_order {
            result.outcome = Outcome::PassedIgnoringColumnOrder;
            result.note =
                Some("only the physical column order differs after down; accepted".into());
        } else {
            result.problems.push(Problem {
                step: Step::ColumnOrderOnly,
                message: None,
                changes: lines(difference),
            });
        }
        return;
    }
    let (real, order) = difference.split_column_order();
    let mut residue = Vec::new();
    let mut removed = Vec::new();
    let mut changed = Vec::new();
    for change in &real.changes {
        match change {
            Change::Added { .. } => residue.push(change.to_string()),
            Change::Removed { .. } => removed.push(change.to_string()),
            Change::Changed { before: None, .. } => residue.push(change.to_string()),
            Change::Changed { after: None, .. } => removed.push(change.to_string()),
            Change::Changed { .. } => changed.push(change.to_string()),
        }
    }
    for (step, changes) in [
        (Step::DownLeftResidue, residue),
        (Step::DownRemovedTooMuch, removed),
        (Step::DownChangedObjects, changed),
    ] {
        if !changes.is_empty() {
            result.problems.push(Problem {
                step,
                message: None,
                changes,
            });
        }
    }
    if !options.ignore_column_order && !order.is_empty() {
        result.problems.push(Problem {
            step: Step::ColumnOrderOnly,
            message: None,
            changes: lines(&order),
        });
    }
}

/// Runs a migration file on a lane's connection, whose session has the snapshot reader's
/// settings: the file's statements are planned as on any other connection.
async fn run_user_file(
    conn: &mut PgConnection,
    file: &MigrationFile,
    no_transaction: bool,
) -> Result<(), String> {
    run_file(conn, file, no_transaction, &READER_SETTINGS).await
}

/// The diff between the marked snapshot and the tracker's current one, read from the units
/// re-read since only.
fn diff_since(tracker: &Tracker, mark: Mark) -> SchemaDiff {
    let (then, now) = tracker
        .changes_since(mark)
        .expect("a mark of this tracker, not yet forgotten");
    schema_diff(&then, &now)
}

/// Brings the tracker back to `mark` after the database went back to that state; the mark
/// that now stands for it.
async fn roll_back(
    tracker: &mut Tracker,
    conn: &mut PgConnection,
    mark: Mark,
) -> Result<Mark, MigrateError> {
    tracker
        .roll_back_to(conn, mark)
        .await
        .map_err(|source| MigrateError::Database {
            action: "take a schema snapshot".into(),
            source,
        })
}

async fn refresh(tracker: &mut Tracker, conn: &mut PgConnection) -> Result<(), MigrateError> {
    tracker
        .refresh(conn)
        .await
        .map(|_| ())
        .map_err(|source| MigrateError::Database {
            action: "take a schema snapshot".into(),
            source,
        })
}

fn lines(d: &SchemaDiff) -> Vec<String> {
    d.changes.iter().map(ToString::to_string).collect()
}

fn failed_up(m: &Migration, message: String, elapsed: Duration) -> MigrationCheck {
    MigrationCheck {
        version: m.version.clone(),
        name: m.name(),
        file: m.up.path.display().to_string(),
        outcome: Outcome::Failed,
        note: None,
        problems: vec![Problem {
            step: Step::UpFailed,
            message: Some(message),
            changes: Vec::new(),
        }],
        millis: millis(elapsed),
    }
}

fn not_checked(m: &Migration, broken: &Migration) -> MigrationCheck {
    MigrationCheck {
        version: m.version.clone(),
        name: m.name(),
        file: m.up.path.display().to_string(),
        outcome: Outcome::NotChecked,
        note: Some(format!(
            "not checked: {} before it could not be applied",
            broken.name()
        )),
        problems: Vec::new(),
        millis: 0,
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn summarise(
    layout: Layout,
    migrations: Vec<MigrationCheck>,
    lanes: usize,
    started: Instant,
) -> CheckReport {
    let count = |o: &[Outcome]| migrations.iter().filter(|m| o.contains(&m.outcome)).count();
    CheckReport {
        layout,
        passed: count(&[Outcome::Passed, Outcome::PassedIgnoringColumnOrder]),
        failed: count(&[Outcome::Failed]),
        irreversible: count(&[Outcome::Irreversible]),
        not_checked: count(&[Outcome::NotChecked]),
        lanes,
        millis: millis(started.elapsed()),
        migrations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_consecutive_non_empty_and_cover_the_selection() {
        for (first, len, lanes) in [
            (0, 200, 2),
            (0, 400, 4),
            (5, 12, 3),
            (0, 3, 5),
            (90, 100, 4),
        ] {
            let shares = partition(first, len, lanes);
            assert_eq!(shares.len(), lanes.min(len - first), "{shares:?}");
            assert_eq!(shares[0].start, first);
            assert_eq!(shares.last().unwrap().end, len);
            for pair in shares.windows(2) {
                assert_eq!(pair[0].end, pair[1].start, "{shares:?}");
            }
            assert!(shares.iter().all(|s| !s.is_empty()), "{shares:?}");
        }
    }

    #[test]
    fn later_shares_are_smaller_by_the_ups_they_apply_first() {
        let shares = partition(0, 200, 2);
        // Equal times: n0 = start1 * UP_SHARE_OF_A_CHECK + n1.
        let (n0, n1) = (shares[0].len() as f64, shares[1].len() as f64);
        let start1 = shares[1].start as f64;
        assert!(
            (n0 - (start1 * UP_SHARE_OF_A_CHECK + n1)).abs() <= 1.5,
            "{shares:?}"
        );
        assert!(n0 > n1);
        assert_eq!(
            partition(0, 200, 1),
            std::iter::once(0..200).collect::<Vec<_>>()
        );
    }

    #[test]
    fn lanes_follow_the_cores_the_shares_and_server_wide_statements() {
        use crate::migrations::source::{read_set, LayoutChoice};
        let dir = tempfile::tempdir().unwrap();
        let write = |i: usize, up: &str| {
            let name = format!("{i:03}_t{i}");
            std::fs::write(dir.path().join(format!("{name}.up.sql")), up).unwrap();
            std::fs::write(
                dir.path().join(format!("{name}.down.sql")),
                format!("DROP TABLE t{i};"),
            )
            .unwrap();
        };
        for i in 1..=100 {
            write(i, &format!("CREATE TABLE t{i} (n int);"));
        }
        let set = read_set(dir.path(), LayoutChoice::Auto).unwrap();
        let lanes = |selection: Selection, requested, cores| {
            plan_lanes(&set, &selection, requested, cores)
                .unwrap()
                .lanes
        };
        assert_eq!(lanes(Selection::All, None, 2), 2);
        assert_eq!(
            lanes(Selection::All, None, 16),
            4,
            "at most four by default"
        );
        assert_eq!(lanes(Selection::All, None, 1), 1);
        assert_eq!(
            lanes(Selection::Last(30), None, 8),
            1,
            "20 migrations a lane"
        );
        assert_eq!(lanes(Selection::Last(45), None, 8), 2);
        assert_eq!(
            lanes(Selection::All, Some(3), 1),
            3,
            "--jobs wins over the cores"
        );
        assert_eq!(
            lanes(Selection::Last(5), Some(8), 2),
            5,
            "never more than checked"
        );

        write(50, "CREATE TABLE t50 (n int); GRANT t50_reader TO app;");
        let set = read_set(dir.path(), LayoutChoice::Auto).unwrap();
        let plan = plan_lanes(&set, &Selection::All, Some(4), 2).unwrap();
        assert_eq!(plan.lanes, 1);
        let reason = plan.single_because.unwrap();
        assert!(
            reason.contains("050_t50.up.sql runs GRANT ... TO"),
            "{reason}"
        );
    }
}
