//! What a round-trip check reports: the outcome of each migration, the step that went wrong and
//! the differences it left, and the counts of the whole check.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::migrations::source::{Layout, Migration, Version};

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
    /// The step that went wrong.
    pub step: Step,
    /// The error message, for steps that failed with one.
    pub message: Option<String>,
    /// The object differences, for steps that left the schema different.
    pub changes: Vec<String>,
}

impl Problem {
    /// A step that failed, or could not run, for this reason.
    pub(super) fn with_message(step: Step, message: String) -> Problem {
        Problem {
            step,
            message: Some(message),
            changes: Vec::new(),
        }
    }

    /// A step that left the schema different: the differences, one a line.
    pub(super) fn with_changes(step: Step, changes: Vec<String>) -> Problem {
        Problem {
            step,
            message: None,
            changes,
        }
    }
}

/// The check of one migration.
#[derive(Clone, Debug, Serialize)]
pub struct MigrationCheck {
    /// The migration's version.
    pub version: Version,
    /// `<version>_<description>`.
    pub name: String,
    /// The path of its up file.
    pub file: String,
    /// How its check ended.
    pub outcome: Outcome,
    /// Why it was skipped or not checked, when it was.
    pub note: Option<String>,
    /// What went wrong.
    pub problems: Vec<Problem>,
    /// Time spent on it (up, down, up and snapshots), in milliseconds.
    pub millis: u64,
}

impl MigrationCheck {
    /// The check of `m` before any step ran: passed until a step finds otherwise.
    pub(super) fn start(m: &Migration) -> MigrationCheck {
        MigrationCheck {
            version: m.version.clone(),
            name: m.name(),
            file: m.up.path.display().to_string(),
            outcome: Outcome::Passed,
            note: None,
            problems: Vec::new(),
            millis: 0,
        }
    }

    /// `m`, whose up failed with `message` after `elapsed`.
    pub(super) fn failed_up(m: &Migration, message: String, elapsed: Duration) -> MigrationCheck {
        MigrationCheck {
            outcome: Outcome::Failed,
            problems: vec![Problem::with_message(Step::UpFailed, message)],
            millis: millis(elapsed),
            ..MigrationCheck::start(m)
        }
    }

    /// `m`, not checked because the up of `broken`, before it, failed.
    pub(super) fn not_checked(m: &Migration, broken: &Migration) -> MigrationCheck {
        MigrationCheck {
            outcome: Outcome::NotChecked,
            note: Some(format!(
                "not checked: {} before it could not be applied",
                broken.name()
            )),
            ..MigrationCheck::start(m)
        }
    }
}

/// The whole check.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// The layout of the set.
    pub layout: Layout,
    /// Every migration checked (and those after a broken up, not checked).
    pub migrations: Vec<MigrationCheck>,
    /// Passed ones, those whose column order alone differed and was accepted included.
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

/// The report of a check that started at `started`, from its results in migration order.
pub(super) fn summarise(
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

/// A duration in whole milliseconds, as reported.
pub(super) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
