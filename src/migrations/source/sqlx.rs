//! sqlx's flat layout, as sqlx-core 0.8.6 `migrate::source::resolve_blocking` reads it.
//!
//! A regular file (symlinks followed) whose name splits at the first `_` into a version and a
//! rest ending in `.sql` is a migration; the version must parse as `i64` (sqlx fails the
//! whole folder otherwise; packit-db warns and skips the file). The rest ending in `.up.sql`
//! is the up half of a reversible migration, `.down.sql` its down half, else a simple
//! (irreversible) migration. The description is the rest with that suffix trimmed
//! (`trim_end_matches`) and every `_` replaced by a space. The text is read unchanged (CRLF
//! and a byte-order mark are kept and hashed). A migration runs outside a transaction when its
//! text starts with `-- no-transaction`, exactly at byte 0. Everything else in the folder is
//! ignored by sqlx; packit-db warns about files it ignores.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::error::SourceError;
use super::model::{Migration, MigrationFile, MigrationSet, Version, VersionStyle};
use super::sql::{checksum, is_blank, read_text};

/// The suffix of a reversible migration's up file.
pub(crate) const UP_SUFFIX: &str = ".up.sql";
/// The suffix of a reversible migration's down file.
pub(crate) const DOWN_SUFFIX: &str = ".down.sql";
/// The suffix of a simple migration's file.
pub(crate) const SIMPLE_SUFFIX: &str = ".sql";
/// The marker sqlx looks for at the very start of a file.
const NO_TRANSACTION: &str = "-- no-transaction";

/// sqlx's `MigrationType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Simple,
    Up,
    Down,
}

impl Kind {
    /// `MigrationType::from_filename` on the name after the version.
    fn from_rest(rest: &str) -> Kind {
        if rest.ends_with(UP_SUFFIX) {
            Kind::Up
        } else if rest.ends_with(DOWN_SUFFIX) {
            Kind::Down
        } else {
            Kind::Simple
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Kind::Simple => SIMPLE_SUFFIX,
            Kind::Up => UP_SUFFIX,
            Kind::Down => DOWN_SUFFIX,
        }
    }
}

/// How sqlx sees a file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Name {
    /// Not `<x>_<y>.sql`: sqlx ignores it.
    NotMigration,
    /// `<x>_<y>.sql` where `<x>` is not an `i64`: sqlx refuses the folder.
    BadVersion(String),
    /// A migration file.
    Migration {
        version: i64,
        kind: Kind,
        description: String,
    },
}

/// Classifies a file name as sqlx-core 0.8.6 does.
pub(crate) fn parse_name(file_name: &str) -> Name {
    let Some((version, rest)) = file_name.split_once('_') else {
        return Name::NotMigration;
    };
    if !rest.ends_with(SIMPLE_SUFFIX) {
        return Name::NotMigration;
    }
    let Some(version) = parse_version(version) else {
        return Name::BadVersion(version.to_owned());
    };
    let kind = Kind::from_rest(rest);
    let description = rest.trim_end_matches(kind.suffix()).replace('_', " ");
    Name::Migration {
        version,
        kind,
        description,
    }
}

/// A sqlx version: Rust's `i64` parsing, as sqlx uses (so `0003` is 3 and `+3` is 3).
pub(crate) fn parse_version(s: &str) -> Option<i64> {
    s.parse::<i64>().ok()
}

/// sqlx's no-transaction test: `sql.starts_with("-- no-transaction")`.
pub(crate) fn no_transaction(sql: &str) -> bool {
    sql.starts_with(NO_TRANSACTION)
}

/// One sqlx migration file found in the folder.
#[derive(Clone, Debug)]
pub(crate) struct File {
    pub(crate) path: PathBuf,
    pub(crate) version: i64,
    pub(crate) kind: Kind,
    pub(crate) description: String,
}

/// Builds the migrations from the folder's sqlx files (given in file-name order).
pub(crate) fn build(
    files: Vec<File>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Migration>, SourceError> {
    let mut by_version: BTreeMap<i64, Vec<File>> = BTreeMap::new();
    for file in files {
        by_version.entry(file.version).or_default().push(file);
    }
    let mut migrations = Vec::with_capacity(by_version.len());
    for (version, files) in by_version {
        migrations.push(build_one(version, files, warnings)?);
    }
    Ok(migrations)
}

/// One version's files: one simple file, or an up file and at most one down file.
fn build_one(
    version: i64,
    files: Vec<File>,
    warnings: &mut Vec<String>,
) -> Result<Migration, SourceError> {
    let duplicate = |first: &File, second: &File| SourceError::DuplicateVersion {
        version: Version::Sqlx(version),
        first: first.path.clone(),
        second: second.path.clone(),
    };
    let mut up: Option<File> = None;
    let mut down: Option<File> = None;
    let mut simple: Option<File> = None;
    for file in files {
        // A simple file shares its version with nothing; an up (down) file with no other up
        // (down) file.
        let taken = match file.kind {
            Kind::Simple => simple.as_ref().or(up.as_ref()).or(down.as_ref()),
            Kind::Up => simple.as_ref().or(up.as_ref()),
            Kind::Down => simple.as_ref().or(down.as_ref()),
        };
        if let Some(first) = taken {
            return Err(duplicate(first, &file));
        }
        match file.kind {
            Kind::Simple => simple = Some(file),
            Kind::Up => up = Some(file),
            Kind::Down => down = Some(file),
        }
    }
    let (up, down) = match (simple, up, down) {
        (Some(simple), None, None) => (simple, None),
        (None, Some(up), down) => (up, down),
        (None, None, Some(down)) => {
            let expected_up = sibling(&down.path, DOWN_SUFFIX, UP_SUFFIX);
            return Err(SourceError::DownWithoutUp {
                path: down.path,
                expected_up,
            });
        }
        _ => unreachable!("duplicates were rejected above"),
    };
    if let Some(down) = &down {
        if down.description != up.description {
            return Err(SourceError::MismatchedDown {
                path: down.path.clone(),
                up: up.path.clone(),
                expected: sibling(&up.path, UP_SUFFIX, DOWN_SUFFIX),
            });
        }
    }
    if up.kind == Kind::Up && down.is_none() {
        let down = sibling(&up.path, UP_SUFFIX, DOWN_SUFFIX);
        let down = down.file_name().unwrap_or_default().to_string_lossy();
        warnings.push(format!(
            "{}: no {down} next to it; the migration is treated as irreversible (add {down} \
             to make it reversible)",
            up.path.display(),
        ));
    }

    let up_sql = read_text(&up.path)?;
    if is_blank(&up_sql) {
        return Err(SourceError::EmptyUp { path: up.path });
    }
    warn_misplaced_marker(&up.path, &up_sql, warnings);
    let down = match down {
        Some(down) => {
            let sql = read_text(&down.path)?;
            warn_misplaced_marker(&down.path, &sql, warnings);
            Some(MigrationFile {
                path: down.path,
                sql,
            })
        }
        None => None,
    };
    Ok(Migration {
        version: Version::Sqlx(version),
        description: up.description,
        no_transaction: no_transaction(&up_sql),
        checksum: checksum(&up_sql),
        up: MigrationFile {
            path: up.path,
            sql: up_sql,
        },
        down,
    })
}

/// `path` with its `from` suffix replaced by `to`.
fn sibling(path: &Path, from: &str, to: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(from).unwrap_or(&name);
    path.with_file_name(format!("{stem}{to}"))
}

/// Warns when `-- no-transaction` is on the first line but not at byte 0 (after a
/// byte-order mark or whitespace): sqlx then runs the file in a transaction.
fn warn_misplaced_marker(path: &Path, sql: &str, warnings: &mut Vec<String>) {
    let trimmed = sql.trim_start_matches(|c: char| c == '\u{feff}' || c.is_whitespace());
    if !no_transaction(sql) && no_transaction(trimmed) {
        warnings.push(format!(
            "{}: `-- no-transaction` is not at the very start of the file (a byte-order mark \
             or whitespace comes first), so sqlx and packit-db run it in a transaction; move \
             it to the first byte if it must run outside one",
            path.display()
        ));
    }
}

/// The next sqlx version; see [`MigrationSet::next_version`].
pub(crate) fn next_version(set: &MigrationSet, style: VersionStyle, now: DateTime<Utc>) -> i64 {
    let last = set
        .migrations
        .iter()
        .filter_map(|m| match m.version {
            Version::Sqlx(n) => Some(n),
            Version::Diesel(_) => None,
        })
        .max();
    let after_last = last.map(|n| n.saturating_add(1));
    match style {
        VersionStyle::Sequential => after_last.unwrap_or(1),
        VersionStyle::Timestamp => {
            let stamp = timestamp(now);
            after_last.map_or(stamp, |next| next.max(stamp))
        }
    }
}

/// `now` as sqlx-cli's `%Y%m%d%H%M%S` number.
fn timestamp(now: DateTime<Utc>) -> i64 {
    now.format("%Y%m%d%H%M%S")
        .to_string()
        .parse()
        .expect("14 digits fit in an i64")
}
