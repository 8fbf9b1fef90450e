//! How a round-trip check is shown to people: a line naming where it runs, one line a
//! migration as its result comes (with what differs under a failure), and a summary.

use console::style;

use crate::db::snapshot::indent_continuation;
use crate::migrations::roundtrip::{CheckReport, MigrationCheck, Outcome};
use crate::migrations::scratch_check::CheckEvent;
use crate::migrations::source::MigrationSet;
use crate::ui::{note, warn};

/// Shows what a check run reports: the line naming where it runs and each result for people
/// (`human`), and on stderr in any format why one lane only and what could not be dropped.
pub(crate) struct CheckDisplay {
    /// Text for people (else the command prints JSON at the end).
    human: bool,
    /// What the first line says: how many migrations of which layout, in which container.
    heading: String,
    container: String,
}

impl CheckDisplay {
    /// The display of a check of `set` in `container`.
    pub(crate) fn new(human: bool, set: &MigrationSet, container: &str) -> Self {
        CheckDisplay {
            human,
            heading: format!("{} {} migrations", set.migrations.len(), set.layout),
            container: container.to_string(),
        }
    }

    /// Shows one event.
    pub(crate) fn show(&mut self, event: CheckEvent<'_>) {
        match event {
            CheckEvent::Started {
                scratches,
                single_because,
            } => {
                if self.human {
                    let place = match scratches {
                        [one] => format!("scratch database {one}"),
                        many => format!(
                            "{} scratch databases at once ({})",
                            many.len(),
                            many.join(", ")
                        ),
                    };
                    println!(
                        "test-downgrade: {}, {place} in `{}`",
                        self.heading, self.container
                    );
                }
                if let Some(reason) = single_because {
                    note(&format!("checking on one scratch database: {reason}"));
                }
            }
            CheckEvent::Checked(c) => {
                if self.human {
                    print_result(c);
                }
            }
            CheckEvent::NotDropped { name, error } => {
                warn(&format!("could not drop scratch database {name}: {error}"));
            }
        }
    }
}

fn print_result(c: &MigrationCheck) {
    let (mark, label) = match c.outcome {
        Outcome::Passed => (style("✓").green().bold(), String::new()),
        Outcome::PassedIgnoringColumnOrder => {
            (style("✓").green().bold(), "  (column order ignored)".into())
        }
        Outcome::Irreversible => (
            style("~").yellow().bold(),
            format!("  {}", c.note.as_deref().unwrap_or("irreversible")),
        ),
        Outcome::Failed => (style("✗").red().bold(), String::new()),
        Outcome::NotChecked => (
            style("-").dim(),
            format!("  {}", c.note.as_deref().unwrap_or("not checked")),
        ),
    };
    let time = if c.outcome == Outcome::NotChecked {
        String::new()
    } else {
        format!("  {} ms", c.millis)
    };
    println!("  {mark} {}{time}{label}", c.name);
    for problem in &c.problems {
        let message = problem
            .message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        println!("      {}{message}", problem.step.describe());
        for change in &problem.changes {
            println!("        {}", indent_continuation(change, "        "));
        }
    }
}

/// Prints the last line of a check: how many passed, failed, were skipped, and how long it took.
pub fn print_summary(r: &CheckReport) {
    let mut parts = vec![
        format!("{} passed", r.passed),
        format!("{} failed", r.failed),
    ];
    if r.irreversible > 0 {
        parts.push(format!("{} irreversible (skipped)", r.irreversible));
    }
    if r.not_checked > 0 {
        parts.push(format!("{} not checked", r.not_checked));
    }
    println!("{} in {:.1} s", parts.join(", "), r.millis as f64 / 1000.0);
}
