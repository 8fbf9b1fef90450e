//! The steps of a round trip: where and how its files run on a lane's connection, and what the
//! difference after the down means for the migration's result.

use sqlx::PgConnection;

use crate::db::snapshot::{Change, SchemaDiff, READER_SETTINGS};
use crate::migrations::error::MigrateError;
use crate::migrations::runner::{run_file, run_file_in_open_transaction};
use crate::migrations::source::{Migration, MigrationFile};
use crate::migrations::split::controls_its_transaction;

use super::report::{MigrationCheck, Outcome, Problem, Step};
use super::CheckOptions;

/// Runs a migration file on a lane's connection, whose session has the snapshot reader's
/// settings: the file's statements are planned as on any other connection.
pub(super) async fn run_user_file(
    conn: &mut PgConnection,
    file: &MigrationFile,
    no_transaction: bool,
) -> Result<(), String> {
    run_file(conn, file, no_transaction, &READER_SETTINGS).await
}

/// How a migration's down and its second up run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RoundTrip {
    /// Both in one transaction, rolled back when the check fails (the database is at S(i) again
    /// at once) and committed when it passes.
    OneTransaction,
    /// Each file in its own transaction (or none), as `migrate` runs them, after a checkpoint of
    /// S(i): a failure leaves the database in a state only that copy can undo.
    Committed,
}

impl RoundTrip {
    /// Where the down and the second up run.
    pub(super) fn places(self) -> (Place, Place) {
        match self {
            // In one transaction: the down's query string opens it.
            RoundTrip::OneTransaction => (Place::Opens, Place::Inside),
            RoundTrip::Committed => (Place::Own, Place::Own),
        }
    }
}

/// Whether a migration's down and second up can run in one transaction that is rolled back:
/// both run in a transaction, and neither controls it nor sets what lasts until it ends (which
/// would leak from the down into the second up).
pub(super) fn one_transaction_fits(m: &Migration, down: &MigrationFile) -> bool {
    !m.no_transaction
        && !m.down_no_transaction()
        && !controls_its_transaction(&m.up.sql)
        && !controls_its_transaction(&down.sql)
}

/// Where a file of the round trip runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Place {
    /// In its own transaction (or none), as `migrate` runs it.
    Own,
    /// In a transaction its query string opens (`BEGIN;` before it: no round trip of its own),
    /// left open.
    Opens,
    /// In the transaction already open.
    Inside,
}

/// Runs a file of the round trip.
pub(super) async fn run_step(
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

/// Runs `COMMIT` or `ROLLBACK` on the scratch database.
pub(super) async fn execute(conn: &mut PgConnection, sql: &str) -> Result<(), MigrateError> {
    sqlx::raw_sql(sql)
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(|source| MigrateError::Database {
            action: format!("run {sql} on the scratch database"),
            source,
        })
}

/// Sorts the differences after down into residue, removals and changes.
pub(super) fn classify_down(
    difference: &SchemaDiff,
    options: &CheckOptions,
    result: &mut MigrationCheck,
) {
    if difference.is_empty() {
        return;
    }
    if difference.is_only_column_order() {
        if options.ignore_column_order {
            result.outcome = Outcome::PassedIgnoringColumnOrder;
            result.note =
                Some("only the physical column order differs after down; accepted".into());
        } else {
            let changes = lines(difference);
            result
                .problems
                .push(Problem::with_changes(Step::ColumnOrderOnly, changes));
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
            result.problems.push(Problem::with_changes(step, changes));
        }
    }
    if !options.ignore_column_order && !order.is_empty() {
        result
            .problems
            .push(Problem::with_changes(Step::ColumnOrderOnly, lines(&order)));
    }
}

/// The changes of a diff, one a line.
pub(super) fn lines(d: &SchemaDiff) -> Vec<String> {
    d.changes.iter().map(ToString::to_string).collect()
}
