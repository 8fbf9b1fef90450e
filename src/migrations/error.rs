//! Errors of applying and reverting migrations. Every message names the migration and its file.

use std::path::PathBuf;

use crate::db::snapshot::indent_continuation;
use crate::migrations::source::{SourceError, Version};
use crate::migrations::templates::TemplateError;

/// Where in a file a failing statement is (from the server's error position).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePosition {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// Failures of the migration commands.
// The variants' fields are named for what they hold: a doc comment on each would restate the name.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The migration folder could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A template could not be loaded or rendered.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A migration's SQL failed; the transaction was rolled back.
    #[error("{}{}: {message}; nothing of it was applied (its transaction was rolled back){}", .file.display(), fmt_position(.position), fmt_hint(.hint))]
    Failed {
        file: PathBuf,
        /// Where, when the server says.
        position: Option<FilePosition>,
        /// The server's message.
        message: String,
        /// The server's hint, when it gave one.
        hint: Option<String>,
    },
    /// A migration outside a transaction failed: the database may be partly changed.
    #[error("{}{}: {message}; it runs without a transaction (-- no-transaction), so the database may be partly changed: the {applied_statements} statement(s) before the failing one were applied. It is marked failed in {table}; repair the database by hand, then delete that row (DELETE FROM {table} WHERE version = {version}) and run the migration again", .file.display(), fmt_position(.position))]
    FailedNoTransaction {
        file: PathBuf,
        /// Where, when the server says.
        position: Option<FilePosition>,
        /// The server's message.
        message: String,
        /// How many statements succeeded before the failing one.
        applied_statements: usize,
        table: String,
        /// The version, as the table stores it.
        version: String,
    },
    /// The database and the folder disagree in a way that must be resolved first.
    #[error("{0}")]
    Blocked(String),
    /// A migration to revert has no down file (or an empty one).
    #[error("migration {name} cannot be reverted: {reason}; nothing was reverted. Write its down file, or stop before it with --to {version}")]
    Irreversible {
        /// `<version>_<description>`.
        name: String,
        /// Why.
        reason: String,
        version: Version,
    },
    /// `--to` names a version that is not in the folder.
    #[error("--to {0}: no migration with that version in the folder; `cargo packit-db migrate status` lists them")]
    UnknownVersion(String),
    /// The tracking table of the other layout is present.
    #[error("the database is tracked by {found} ({found_table}) but the folder {dir} is a {layout} migration set ({table}); set `layout` in the configuration, or point `migrations` at the right folder")]
    WrongTrackingTable {
        layout: String,
        table: String,
        /// The layout whose table exists.
        found: String,
        /// That table.
        found_table: String,
        dir: PathBuf,
    },
    /// Another run holds the migration lock.
    #[error("another migration run held the lock on database `{database}` for {waited_secs} s (PostgreSQL session {holder}); wait for it to finish, or raise --lock-timeout")]
    LockTimeout {
        database: String,
        /// Seconds waited.
        waited_secs: u64,
        /// The session holding it, when known.
        holder: String,
    },
    /// A database call outside any migration's SQL failed.
    #[error("failed to {action}: {source}")]
    Database {
        /// What was being done.
        action: String,
        /// The error.
        #[source]
        source: sqlx::Error,
    },
    /// A round trip left the schema different.
    #[error("{context} left the schema different:{}", fmt_changes(.changes))]
    RoundTripFailed {
        /// What was done, e.g. `redo of 3_add_users`.
        context: String,
        changes: Vec<String>,
    },
    /// A new migration's files could not be written.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn fmt_position(p: &Option<FilePosition>) -> String {
    p.as_ref()
        .map(|p| format!(":{}:{}", p.line, p.column))
        .unwrap_or_default()
}

/// One-line changes joined on the line (` a; b`); when one holds a diff (several lines), one
/// change a line, each indented, its diff under it.
fn fmt_changes(changes: &[String]) -> String {
    if !changes.iter().any(|c| c.contains('\n')) {
        return format!(" {}", changes.join("; "));
    }
    changes
        .iter()
        .map(|c| format!("\n  {}", indent_continuation(c, "  ")))
        .collect()
}

fn fmt_hint(h: &Option<String>) -> String {
    h.as_ref()
        .map(|h| format!(" (hint: {h})"))
        .unwrap_or_default()
}

/// Turns a 1-based character offset into `sql` (as PostgreSQL reports it) into line and column.
pub fn locate(sql: &str, char_position: usize) -> FilePosition {
    let mut line = 1;
    let mut column = 1;
    for (i, c) in sql.chars().enumerate() {
        if i + 1 >= char_position {
            break;
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    FilePosition { line, column }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_become_lines_and_columns() {
        let sql = "create table a (id int);\nselect nope\n  from a;";
        assert_eq!(locate(sql, 1), FilePosition { line: 1, column: 1 });
        assert_eq!(locate(sql, 33), FilePosition { line: 2, column: 8 });
        assert_eq!(locate("é\nx", 3), FilePosition { line: 2, column: 1 });
    }

    #[test]
    fn round_trip_changes_stay_on_one_line_unless_one_is_a_diff() {
        let error = |changes: &[&str]| {
            MigrateError::RoundTripFailed {
                context: "redo of 6".into(),
                changes: changes.iter().map(ToString::to_string).collect(),
            }
            .to_string()
        };
        assert_eq!(
            error(&["column public.t.a: removed", "index public.i: added"]),
            "redo of 6 left the schema different: column public.t.a: removed; index public.i: added"
        );
        assert_eq!(
            error(&[
                "column public.t.a: removed",
                "view public.v: definition changed\n  -  a,\n  +  b,"
            ]),
            "redo of 6 left the schema different:\n  column public.t.a: removed\n  \
             view public.v: definition changed\n    -  a,\n    +  b,"
        );
    }
}
