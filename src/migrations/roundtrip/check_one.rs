//! The check of one migration on a lane: its up, a snapshot, its down and its up again with
//! their snapshots compared with the states before, and its result.

use std::time::Instant;

use sqlx::PgConnection;

use crate::db::snapshot::{schema_diff, Mark, SchemaDiff, Tracker};
use crate::migrations::error::MigrateError;
use crate::migrations::source::{Migration, MigrationFile};
use crate::migrations::verify;

use super::report::{millis, MigrationCheck, Outcome, Problem, Step};
use super::steps::{
    classify_down, execute, lines, one_transaction_fits, run_step, run_user_file, RoundTrip,
};
use super::{CheckOptions, ScratchDatabase};

/// What checking one migration tells the lane's loop.
pub(super) enum Checked {
    /// The migration was checked (passed, failed, or skipped as irreversible): the database and
    /// the tracker are at S(i), and the lane goes on with the next one.
    Next(MigrationCheck),
    /// Its up failed: the chain is broken there, and the lane stops.
    UpFailed(MigrationCheck),
}

/// A lane checking its share, one migration after another.
pub(super) struct Checker<'a> {
    scratch: Scratch<'a>,
    options: &'a CheckOptions,
    tracker: Tracker,
    /// The verification mode's dumps of S(i-1) and S(i).
    dumps: Option<Dumps>,
    /// S(i-1): the state the next down must restore.
    before: Mark,
}

impl<'a> Checker<'a> {
    /// The checker of a lane whose scratch database, reached by `conn`, is at the state before
    /// the first migration it checks.
    pub(super) async fn start(
        mut conn: PgConnection,
        owner: &'a mut dyn ScratchDatabase,
        options: &'a CheckOptions,
    ) -> Result<Checker<'a>, MigrateError> {
        // One tracker per connection: a rebuilt scratch database starts a new one.
        let mut tracker = Tracker::with_event_log();
        refresh(&mut tracker, &mut conn).await?;
        let mut scratch = Scratch {
            conn: Some(conn),
            owner,
        };
        let dumps = match options.verify {
            true => Some(Dumps {
                before: verified_dump(&mut tracker, &mut scratch, "before the first check").await?,
                after_up: Vec::new(),
            }),
            false => None,
        };
        let before = tracker.mark();
        Ok(Checker {
            scratch,
            options,
            tracker,
            dumps,
            before,
        })
    }

    /// Checks `m`, the migration after the last one checked: applies its up, then, if it has a
    /// usable down, its down and its up again. The database is at S(i) after it unless its up
    /// failed.
    pub(super) async fn check_one(&mut self, m: &Migration) -> Result<Checked, MigrateError> {
        let started = Instant::now();
        if let Err(message) = run_user_file(self.scratch.conn(), &m.up, m.no_transaction).await {
            let result = MigrationCheck::failed_up(m, message, started.elapsed());
            return Ok(Checked::UpFailed(result));
        }
        let mut result = MigrationCheck::start(m);
        refresh(&mut self.tracker, self.scratch.conn()).await?;
        if let Some(dumps) = self.dumps.as_mut() {
            let what = format!("after the up of {}", m.name());
            dumps.after_up = verified_dump(&mut self.tracker, &mut self.scratch, &what).await?;
        }
        let mut after_up = self.tracker.mark();
        match &m.down {
            Some(down) if !m.down_is_empty() => {
                after_up = self.round_trip(m, down, after_up, &mut result).await?;
            }
            down => no_usable_down(down.as_ref(), self.options, &mut result),
        }
        if !result.problems.is_empty() {
            result.outcome = Outcome::Failed;
        }
        self.tracker.forget(self.before);
        self.tracker.forget(after_up);
        if let Some(dumps) = self.dumps.as_mut() {
            if result.outcome == Outcome::Irreversible || result.problems.is_empty() {
                // Irreversible (nothing ran) or passed: the state is S(i), as dumped.
                dumps.before = std::mem::take(&mut dumps.after_up);
            }
        }
        // After a pass, the state is S(i) again (up re-applied identically, or accepted as
        // differing in column order only).
        self.before = self.tracker.mark();
        result.millis = millis(started.elapsed());
        Ok(Checked::Next(result))
    }

    /// Runs down(i) and up(i) again from S(i) (`after_up`), recording in `result` what differs:
    /// in one transaction when that fits, otherwise (or when that transaction cannot commit)
    /// each file committed, after a checkpoint of S(i) that a failure is undone from. Returns
    /// the mark of S(i), where the database and the tracker are after it.
    async fn round_trip(
        &mut self,
        m: &Migration,
        down: &MigrationFile,
        mut after_up: Mark,
        result: &mut MigrationCheck,
    ) -> Result<Mark, MigrateError> {
        if !self.options.verify && one_transaction_fits(m, down) {
            match self.in_one_transaction(m, down, after_up, result).await? {
                OneTransaction::Ended(after_up) => return Ok(after_up),
                // The transaction could not commit (a deferred constraint): check again with
                // each file committed, as it would run.
                OneTransaction::NotCommitted(mark) => after_up = mark,
            }
        }
        // S(i), to come back to if the round trip fails.
        self.scratch.checkpoint().await?;
        self.down_and_up(m, down, after_up, RoundTrip::Committed, result)
            .await?;
        // The second up gave S(i) again only when nothing but an accepted column order differs.
        if result.problems.is_empty() {
            return Ok(after_up);
        }
        // Back to S(i) from the checkpoint: the database is the copy made after the up, and the
        // tracker goes back to that mark.
        self.scratch.restore().await?;
        let after_up = roll_back(&mut self.tracker, self.scratch.conn(), after_up).await?;
        if let Some(dumps) = self.dumps.as_mut() {
            let what = format!("after coming back to {}", m.name());
            dumps.before = verified_dump(&mut self.tracker, &mut self.scratch, &what).await?;
        }
        Ok(after_up)
    }

    /// The round trip in one transaction, committed when the check passes and rolled back when
    /// it fails.
    async fn in_one_transaction(
        &mut self,
        m: &Migration,
        down: &MigrationFile,
        after_up: Mark,
        result: &mut MigrationCheck,
    ) -> Result<OneTransaction, MigrateError> {
        self.down_and_up(m, down, after_up, RoundTrip::OneTransaction, result)
            .await?;
        if !result.problems.is_empty() {
            execute(self.scratch.conn(), "ROLLBACK").await?;
            // Back at S(i): the tracker forgets what it saw inside.
            let after_up = roll_back(&mut self.tracker, self.scratch.conn(), after_up).await?;
            return Ok(OneTransaction::Ended(after_up));
        }
        if execute(self.scratch.conn(), "COMMIT").await.is_ok() {
            return Ok(OneTransaction::Ended(after_up));
        }
        let _ = execute(self.scratch.conn(), "ROLLBACK").await;
        let after_up = roll_back(&mut self.tracker, self.scratch.conn(), after_up).await?;
        result.outcome = Outcome::Passed;
        result.note = None;
        Ok(OneTransaction::NotCommitted(after_up))
    }

    /// Applies down(i), compares with S(i-1), applies up(i) again and compares with S(i)
    /// (`after_up`), recording what differs in `result`.
    async fn down_and_up(
        &mut self,
        m: &Migration,
        down: &MigrationFile,
        after_up: Mark,
        how: RoundTrip,
        result: &mut MigrationCheck,
    ) -> Result<(), MigrateError> {
        let (down_place, up_place) = how.places();
        let conn = self.scratch.conn();
        if let Err(message) = run_step(conn, down, m.down_no_transaction(), down_place).await {
            result
                .problems
                .push(Problem::with_message(Step::DownFailed, message));
            return Ok(());
        }
        refresh(&mut self.tracker, self.scratch.conn()).await?;
        let difference = diff_since(&self.tracker, self.before);
        if let Some(dumps) = self.dumps.as_mut() {
            let what = format!("after the down of {}", m.name());
            let dump = verified_dump(&mut self.tracker, &mut self.scratch, &what).await?;
            verify::verdict_agrees(&what, !difference.is_empty(), &dumps.before, &dump)?;
        }
        classify_down(&difference, self.options, result);
        let conn = self.scratch.conn();
        if let Err(message) = run_step(conn, &m.up, m.no_transaction, up_place).await {
            result
                .problems
                .push(Problem::with_message(Step::UpNotReapplicable, message));
            return Ok(());
        }
        refresh(&mut self.tracker, self.scratch.conn()).await?;
        let difference = diff_since(&self.tracker, after_up);
        if let Some(dumps) = self.dumps.as_mut() {
            let what = format!("after the second up of {}", m.name());
            let dump = verified_dump(&mut self.tracker, &mut self.scratch, &what).await?;
            verify::verdict_agrees(&what, !difference.is_empty(), &dumps.after_up, &dump)?;
            // The state now, for the next migration if this one passes.
            dumps.after_up = dump;
        }
        let real = if self.options.ignore_column_order {
            difference.without_column_order()
        } else {
            difference
        };
        if !real.is_empty() {
            result
                .problems
                .push(Problem::with_changes(Step::UpNotIdentical, lines(&real)));
        }
        Ok(())
    }
}

/// How a round trip in one transaction ended.
enum OneTransaction {
    /// Checked, passed and committed or failed and rolled back: the database and the tracker
    /// are at S(i), this mark.
    Ended(Mark),
    /// Passed, but the transaction could not commit: nothing is reported, and the database and
    /// the tracker are at S(i) again, this mark.
    NotCommitted(Mark),
}

/// A migration without a usable down file: skipped as irreversible, or failed with
/// `require_down`.
fn no_usable_down(
    down: Option<&MigrationFile>,
    options: &CheckOptions,
    result: &mut MigrationCheck,
) {
    let reason = match down {
        None => "no down file".to_string(),
        Some(f) => format!("{} holds no statement", f.path.display()),
    };
    if options.require_down {
        result
            .problems
            .push(Problem::with_message(Step::DownMissing, reason));
    } else {
        result.outcome = Outcome::Irreversible;
        result.note = Some(format!("irreversible ({reason}): skipped"));
    }
}

/// A lane's scratch database: the connection to it and its owner.
struct Scratch<'a> {
    /// `None` only while the owner makes a checkpoint: it takes the connection to close it (a
    /// template database must have no session) and gives back a new one.
    conn: Option<PgConnection>,
    owner: &'a mut dyn ScratchDatabase,
}

impl Scratch<'_> {
    fn conn(&mut self) -> &mut PgConnection {
        self.conn.as_mut().expect(CONNECTED)
    }

    /// Copies the database as it is now, for `restore`.
    async fn checkpoint(&mut self) -> Result<(), MigrateError> {
        let conn = self.conn.take().expect(CONNECTED);
        self.conn = Some(self.owner.checkpoint(conn).await?);
        Ok(())
    }

    /// Replaces the database by a copy of the last checkpoint.
    async fn restore(&mut self) -> Result<(), MigrateError> {
        self.conn = Some(self.owner.restore().await?);
        Ok(())
    }
}

/// Why `Scratch::conn` is always there: only a checkpoint takes it, and a checkpoint that gives
/// none back ends the lane with its error.
const CONNECTED: &str = "a lane has a connection outside a checkpoint";

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
    scratch: &mut Scratch<'_>,
    what: &str,
) -> Result<Vec<String>, MigrateError> {
    verify::incremental_equals_whole(tracker, scratch.conn(), what).await?;
    Ok(verify::normalise_dump(&scratch.owner.schema_dump().await?))
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

/// Takes the tracker's next snapshot of the database.
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
