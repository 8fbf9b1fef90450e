//! Where the database stands against the folder: every migration's state and a diagnosis in
//! plain language, with the command that fixes it. Pure logic over the set and the rows.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::migrations::source::{Layout, MigrationSet, Version};
use crate::migrations::tracking::AppliedRow;

/// The state of one migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// In the folder and applied, unchanged.
    Applied,
    /// In the folder, not applied.
    Pending,
    /// Applied, but the up file changed since (checksum differs).
    Modified,
    /// Applied, but no longer in the folder (a branch switch, a deleted file).
    MissingLocally,
    /// Applied outside a transaction and failed part-way (`success = false`).
    Failed,
}

/// One line of the status.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// The migration's version, as in its file name.
    pub version: Version,
    /// The migration's description: the part of its name after the version.
    pub description: String,
    /// Where it stands: applied, pending, modified, missing locally or failed.
    pub state: State,
    /// The up file, when in the folder.
    pub file: Option<PathBuf>,
    /// When it was applied, when it was.
    pub applied_at: Option<String>,
    /// For modified ones: the checksum recorded and the file's, hex.
    pub checksums: Option<(String, String)>,
    /// Whether it can be reverted (has a non-empty down file).
    pub reversible: bool,
}

/// The status of every migration, for `migrate status`.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// The folder's layout.
    pub layout: Layout,
    /// The name of the tracking table the status was read from.
    pub table: &'static str,
    /// Every migration, in order.
    pub entries: Vec<Entry>,
    /// One sentence: the state and what to run.
    pub diagnosis: String,
}

impl Status {
    /// Entries in a given state.
    pub fn count(&self, state: State) -> usize {
        self.entries.iter().filter(|e| e.state == state).count()
    }

    /// Whether something other than pending migrations needs attention before applying.
    pub fn blocking(&self) -> bool {
        self.entries.iter().any(|e| {
            matches!(
                e.state,
                State::Modified | State::MissingLocally | State::Failed
            )
        })
    }
}

/// Compares the folder with the tracking table.
pub fn compare(set: &MigrationSet, applied: &[AppliedRow]) -> Status {
    let rows: BTreeMap<&Version, &AppliedRow> = applied.iter().map(|r| (&r.version, r)).collect();
    let mut entries: Vec<Entry> = set
        .migrations
        .iter()
        .map(|m| {
            let row = rows.get(&m.version);
            let (state, checksums) = match row {
                None => (State::Pending, None),
                Some(r) if !r.success => (State::Failed, None),
                Some(r) => match &r.checksum {
                    Some(recorded) if *recorded != m.checksum => {
                        (State::Modified, Some((hex(recorded), hex(&m.checksum))))
                    }
                    _ => (State::Applied, None),
                },
            };
            Entry {
                version: m.version.clone(),
                description: m.description.clone(),
                state,
                file: Some(m.up.path.clone()),
                applied_at: row.map(|r| r.installed_on.clone()),
                checksums,
                reversible: m.is_reversible() && !m.down_is_empty(),
            }
        })
        .collect();
    for row in applied {
        if set.find(&row.version).is_none() {
            entries.push(Entry {
                version: row.version.clone(),
                description: row.description.clone().unwrap_or_default(),
                state: if row.success {
                    State::MissingLocally
                } else {
                    State::Failed
                },
                file: None,
                applied_at: Some(row.installed_on.clone()),
                checksums: None,
                reversible: false,
            });
        }
    }
    entries.sort_by(|a, b| a.version.cmp(&b.version));
    let diagnosis = diagnose(set, &entries);
    Status {
        layout: set.layout,
        table: set.layout.tracking_table(),
        entries,
        diagnosis,
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn name(e: &Entry) -> String {
    if e.description.is_empty() {
        e.version.to_string()
    } else {
        format!("{} ({})", e.version, e.description)
    }
}

/// The most important problem first, each with its fix.
fn diagnose(set: &MigrationSet, entries: &[Entry]) -> String {
    let table = set.layout.tracking_table();
    if let Some(e) = entries.iter().find(|e| e.state == State::Failed) {
        return format!(
            "migration {} failed part-way outside a transaction: repair the database by hand, then `DELETE FROM {table} WHERE version = {}` and run `cargo packit-db migrate`",
            name(e),
            quote_version(&e.version)
        );
    }
    if let Some(e) = entries.iter().find(|e| e.state == State::Modified) {
        let file = e
            .file
            .as_ref()
            .map(|f| f.display().to_string())
            .unwrap_or_default();
        return format!(
            "migration {} was edited after it was applied (checksum differs): restore it (`git checkout -- {file}`) and put the change in a new migration (`cargo packit-db migrate new <message>`); on a disposable local database, `cargo packit-db migrate redo --steps N` re-applies it",
            name(e)
        );
    }
    let missing: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.state == State::MissingLocally)
        .collect();
    if let Some(e) = missing.first() {
        return format!(
            "{} applied to the database but not in {} (was it added on another branch?): switch to the branch that has {}, revert with `cargo packit-db migrate down`, then come back",
            if missing.len() == 1 { format!("migration {} is", name(e)) } else { format!("{} migrations are", missing.len()) },
            set.dir.display(),
            if missing.len() == 1 { "it" } else { "them" },
        );
    }
    let pending = entries.iter().filter(|e| e.state == State::Pending).count();
    let applied = entries.iter().filter(|e| e.state == State::Applied).count();
    if pending > 0 {
        let last_applied = entries
            .iter()
            .filter(|e| e.state == State::Applied)
            .map(|e| &e.version)
            .max();
        let out_of_order = entries
            .iter()
            .filter(|e| e.state == State::Pending)
            .any(|e| last_applied.is_some_and(|last| e.version < *last));
        let note = if out_of_order {
            " (some are older than the newest applied one: merged from another branch)"
        } else {
            ""
        };
        return format!(
            "the database is not up to date: {} pending{note}: run `cargo packit-db migrate`",
            plural(pending, "migration")
        );
    }
    if applied == 0 {
        return format!(
            "no migrations in {}: create one with `cargo packit-db migrate new <message>`",
            set.dir.display()
        );
    }
    format!("up to date: {} applied", plural(applied, "migration"))
}

fn quote_version(v: &Version) -> String {
    match v {
        Version::Sqlx(n) => n.to_string(),
        Version::Diesel(s) => format!("'{s}'"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
