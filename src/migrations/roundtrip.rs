//! The round-trip check: every down migration must restore the schema exactly.
//!
//! On a scratch database, for each migration i in order: S(i-1) is known; apply up(i) and
//! snapshot S(i); apply down(i), whose snapshot must equal S(i-1); apply up(i) again, whose
//! snapshot must equal S(i). One pass over the chain, three snapshots a migration, each after
//! the first re-reading only what the step changed (`snapshot::Tracker`), and compared with
//! S(i-1) or S(i) over what changed since their marks only. A failure does not end the run:
//! the scratch database is rebuilt up to that migration and the check goes on, so one run
//! reports every broken migration of a long history.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use serde::Serialize;
use sqlx::PgConnection;

use crate::db::snapshot::{self, Change, Mark, ObjectKind, SchemaDiff, Snapshot, Tracker};
use crate::migrations::error::MigrateError;
use crate::migrations::runner::run_file;
use crate::migrations::source::{Layout, Migration, MigrationSet, Version};

/// What the checker needs from the scratch database's owner.
pub trait ScratchDatabase: Send {
    /// Drops and re-creates the scratch database, empty; returns a connection to it.
    fn reset(&mut self) -> BoxFuture<'_, Result<PgConnection, MigrateError>>;
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
    /// Total wall time, in milliseconds.
    pub millis: u64,
}

impl CheckReport {
    /// Whether the check passed (exit 0).
    pub fn success(&self) -> bool {
        self.failed == 0 && self.not_checked == 0
    }
}

/// Runs the round-trip check of the selected migrations on `conn`, an empty scratch database.
pub async fn check(
    set: &MigrationSet,
    selection: &Selection,
    options: &CheckOptions,
    mut conn: PgConnection,
    scratch: &mut dyn ScratchDatabase,
    on_result: &mut (dyn FnMut(&MigrationCheck) + Send),
) -> Result<CheckReport, MigrateError> {
    let started = Instant::now();
    let first = first_checked(set, selection)?;
    // Bring the scratch database to S(first - 1) without checks.
    for (i, m) in set.migrations[..first].iter().enumerate() {
        if let Err(message) = run_file(&mut conn, &m.up, m.no_transaction).await {
            let mut checked = vec![failed_up(m, message, Duration::ZERO)];
            checked.extend(
                set.migrations[i + 1..]
                    .iter()
                    .map(|later| not_checked(later, m)),
            );
            for c in &checked {
                on_result(c);
            }
            return Ok(summarise(set.layout, checked, started));
        }
    }
    // One tracker per connection: a rebuilt scratch database starts a new one.
    let mut tracker = Tracker::with_event_log();
    refresh(&mut tracker, &mut conn).await?;
    // S(i-1): the state the next down must restore.
    let mut before = tracker.mark();
    let mut results = Vec::new();
    let mut index = first;
    while index < set.migrations.len() {
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
        if let Err(message) = run_file(&mut conn, &m.up, m.no_transaction).await {
            let failed = failed_up(m, message, step_started.elapsed());
            on_result(&failed);
            results.push(failed);
            for later in &set.migrations[index + 1..] {
                let skipped = not_checked(later, m);
                on_result(&skipped);
                results.push(skipped);
            }
            break;
        }
        refresh(&mut tracker, &mut conn).await?;
        let after_up = tracker.mark();
        // Down and up again usually touch what up did: read those with the marker.
        let touched = tracker.last_changed_units().clone();
        let mut needs_rebuild = false;
        match (&m.down, m.down_is_empty()) {
            (Some(down), false) => match run_file(&mut conn, down, m.down_no_transaction()).await {
                Err(message) => {
                    result.problems.push(Problem {
                        step: Step::DownFailed,
                        message: Some(message),
                        changes: Vec::new(),
                    });
                    needs_rebuild = true;
                }
                Ok(()) => {
                    refresh_expecting(&mut tracker, &mut conn, &touched).await?;
                    let difference = diff_since(&tracker, before);
                    classify_down(&difference, options, &mut result);
                    match run_file(&mut conn, &m.up, m.no_transaction).await {
                        Err(message) => {
                            result.problems.push(Problem {
                                step: Step::UpNotReapplicable,
                                message: Some(message),
                                changes: Vec::new(),
                            });
                            needs_rebuild = true;
                        }
                        Ok(()) => {
                            refresh_expecting(&mut tracker, &mut conn, &touched).await?;
                            let difference = diff_since(&tracker, after_up);
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
                                needs_rebuild = true;
                            }
                        }
                    }
                    if result
                        .problems
                        .iter()
                        .any(|p| p.step != Step::UpNotIdentical)
                    {
                        needs_rebuild = true;
                    }
                }
            },
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
        if needs_rebuild {
            match rebuild(set, index, scratch).await? {
                Ok(fresh) => {
                    conn = fresh;
                    tracker = Tracker::with_event_log();
                }
                Err(message) => {
                    result.problems.push(Problem {
                        step: Step::UpNotReapplicable,
                        message: Some(format!(
                            "the scratch database could not be rebuilt up to it: {message}"
                        )),
                        changes: Vec::new(),
                    });
                    result.millis = millis(step_started.elapsed());
                    on_result(&result);
                    results.push(result);
                    for later in &set.migrations[index + 1..] {
                        let skipped = not_checked(later, m);
                        on_result(&skipped);
                        results.push(skipped);
                    }
                    break;
                }
            }
            refresh(&mut tracker, &mut conn).await?;
        }
        // After a pass, the state is S(i) again (up re-applied identically, or accepted as
        // differing in column order only).
        before = tracker.mark();
        result.millis = millis(step_started.elapsed());
        on_result(&result);
        results.push(result);
        index += 1;
    }
    Ok(summarise(set.layout, results, started))
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

/// The diff of two snapshots, without column position changes that only follow from columns
/// added or removed in the same table (dropping a middle column shifts the ones after it):
/// a position change is kept only where the columns both sides have are in another order.
pub fn schema_diff(before: &Snapshot, after: &Snapshot) -> SchemaDiff {
    let full = snapshot::diff(before, after);
    if !full.changes.iter().any(Change::is_column_order) {
        return full;
    }
    let (old, new) = (columns_by_table(before), columns_by_table(after));
    let reordered: HashSet<&str> = old
        .iter()
        .filter(|(table, columns)| {
            let Some(other) = new.get(*table) else {
                return false;
            };
            let common = |cols: &Vec<(u32, String)>, against: &Vec<(u32, String)>| -> Vec<String> {
                cols.iter()
                    .filter(|(_, c)| against.iter().any(|(_, o)| o == c))
                    .map(|(_, c)| c.clone())
                    .collect()
            };
            common(columns, other) != common(other, columns)
        })
        .map(|(table, _)| table.as_str())
        .collect();
    SchemaDiff {
        changes: full
            .changes
            .into_iter()
            .filter(|c| {
                !c.is_column_order() || reordered.contains(split_column(&c.object().name).0)
            })
            .collect(),
    }
}

/// Columns of each table, in physical order.
fn columns_by_table(s: &Snapshot) -> HashMap<String, Vec<(u32, String)>> {
    let mut tables: HashMap<String, Vec<(u32, String)>> = HashMap::new();
    for (id, attributes) in &s.objects {
        if id.kind != ObjectKind::Column {
            continue;
        }
        let position = attributes
            .get("position")
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let (table, column) = split_column(&id.name);
        tables
            .entry(table.to_string())
            .or_default()
            .push((position, column.to_string()));
    }
    for columns in tables.values_mut() {
        columns.sort();
    }
    tables
}

/// Splits `schema.table.column` at the last dot outside double quotes.
fn split_column(name: &str) -> (&str, &str) {
    let mut quoted = false;
    let mut last_dot = None;
    for (i, c) in name.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => last_dot = Some(i),
            _ => {}
        }
    }
    match last_dot {
        Some(i) => (&name[..i], &name[i + 1..]),
        None => ("", name),
    }
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
    let real = difference.without_column_order();
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
    if !options.ignore_column_order && real.changes.len() != difference.changes.len() {
        let order = SchemaDiff {
            changes: difference
                .changes
                .iter()
                .filter(|c| !real.changes.contains(c))
                .cloned()
                .collect(),
        };
        result.problems.push(Problem {
            step: Step::ColumnOrderOnly,
            message: None,
            changes: lines(&order),
        });
    }
}

/// Re-creates the scratch database and applies every up up to and including `index`.
/// The outer error is an infrastructure failure; the inner one, a migration that failed.
async fn rebuild(
    set: &MigrationSet,
    index: usize,
    scratch: &mut dyn ScratchDatabase,
) -> Result<Result<PgConnection, String>, MigrateError> {
    let mut conn = scratch.reset().await?;
    for m in &set.migrations[..=index] {
        if let Err(message) = run_file(&mut conn, &m.up, m.no_transaction).await {
            return Ok(Err(message));
        }
    }
    Ok(Ok(conn))
}

/// The diff between the marked snapshot and the tracker's current one, read from the units
/// re-read since only.
fn diff_since(tracker: &Tracker, mark: Mark) -> SchemaDiff {
    let (then, now) = tracker
        .changes_since(mark)
        .expect("a mark of this tracker, not yet forgotten");
    schema_diff(&then, &now)
}

async fn refresh(tracker: &mut Tracker, conn: &mut PgConnection) -> Result<(), MigrateError> {
    refresh_expecting(tracker, conn, &BTreeSet::new()).await
}

/// Brings the tracker up to date, reading the `expected` units with its change marker.
async fn refresh_expecting(
    tracker: &mut Tracker,
    conn: &mut PgConnection,
    expected: &BTreeSet<String>,
) -> Result<(), MigrateError> {
    tracker
        .refresh_expecting(conn, expected)
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

fn summarise(layout: Layout, migrations: Vec<MigrationCheck>, started: Instant) -> CheckReport {
    let count = |o: &[Outcome]| migrations.iter().filter(|m| o.contains(&m.outcome)).count();
    CheckReport {
        layout,
        passed: count(&[Outcome::Passed, Outcome::PassedIgnoringColumnOrder]),
        failed: count(&[Outcome::Failed]),
        irreversible: count(&[Outcome::Irreversible]),
        not_checked: count(&[Outcome::NotChecked]),
        millis: millis(started.elapsed()),
        migrations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::snapshot::ObjectId;

    fn table(columns: &[(&str, u32)]) -> Snapshot {
        let mut s = Snapshot::default();
        for (name, position) in columns {
            let attributes = [
                ("position".to_string(), position.to_string()),
                ("type".to_string(), "int".to_string()),
            ];
            s.objects.insert(
                ObjectId::new(ObjectKind::Column, format!("public.\"t.x\".{name}")),
                attributes.into_iter().collect(),
            );
        }
        s
    }

    #[test]
    fn positions_shifted_by_a_removed_column_are_not_an_order_change() {
        let before = table(&[("a", 1), ("b", 2), ("c", 3)]);
        let after = table(&[("a", 1), ("c", 2)]);
        let d = schema_diff(&before, &after);
        assert_eq!(d.changes.len(), 1, "{d:?}");
        assert!(matches!(d.changes[0], Change::Removed { .. }));
    }

    #[test]
    fn a_column_re_added_at_the_end_is_an_order_change() {
        let before = table(&[("a", 1), ("b", 2), ("c", 3)]);
        let after = table(&[("a", 1), ("c", 2), ("b", 3)]);
        assert!(schema_diff(&before, &after).is_only_column_order());
    }

    #[test]
    fn column_names_split_outside_quotes() {
        assert_eq!(split_column("public.\"a.b\".c"), ("public.\"a.b\"", "c"));
        assert_eq!(split_column("public.t.\"x.y\""), ("public.t", "\"x.y\""));
    }
}
