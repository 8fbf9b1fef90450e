//! diesel's folder layout, as diesel_migrations' `FileBasedMigrations` reads it.
//!
//! Every subfolder of the migrations folder whose name does not start with `.` is a migration
//! and must hold `up.sql` (diesel refuses the whole folder otherwise). The version is the
//! folder name up to the first `_` with every `-` removed (`migrations_internals::
//! version_from_string`), stored as text in `__diesel_schema_migrations.version` and ordered
//! as text (`MigrationVersion` derives `Ord` on its string). diesel accepts any text there;
//! packit-db requires a digit first, then ASCII letters, digits or `-` (which covers
//! `20140924113530`, `2019-02-26-002946` and diesel 2.3's `2026-07-15-182934-0000`, whose
//! last part is a hexadecimal sub-version) and skips other folders with a warning.
//! `down.sql` is optional (diesel then refuses to revert). Files directly in the migrations
//! folder are ignored by diesel.
//!
//! `metadata.toml` is deserialised by diesel into `TomlMetadata { #[serde(default)]
//! run_in_transaction: bool, .. }`: a file that parses but lacks the key gives `false` (the
//! field's own default), so the migration runs *outside* a transaction; only a missing or
//! unreadable file gives the struct's `Default` (`true`). packit-db reproduces that (with a
//! warning), refuses invalid TOML (diesel would silently run in a transaction) and warns
//! about keys other than `run_in_transaction`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::error::SourceError;
use super::model::{Migration, MigrationFile, MigrationSet, Version};
use super::sql::{checksum, is_blank, read_text};

/// The up file of a migration folder.
pub(crate) const UP_FILE: &str = "up.sql";
/// The down file of a migration folder.
pub(crate) const DOWN_FILE: &str = "down.sql";
/// The metadata file of a migration folder.
const METADATA_FILE: &str = "metadata.toml";
/// The one metadata key diesel knows.
const RUN_IN_TRANSACTION: &str = "run_in_transaction";
/// `diesel migration generate`'s timestamp format (`diesel_cli::TIMESTAMP_FORMAT`).
const TIMESTAMP_FORMAT: &str = "%Y-%m-%d-%H%M%S";

/// The stored form of a version prefix (dashes removed), if it is a version packit-db
/// accepts: a digit first, then ASCII letters, digits or `-`.
pub(crate) fn parse_version(prefix: &str) -> Option<String> {
    let valid = prefix.starts_with(|c: char| c.is_ascii_digit())
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then(|| prefix.replace('-', ""))
}

/// Splits a folder name into the version prefix and the name after the first `_` (empty
/// without `_`, as diesel takes the whole name as the version then).
pub(crate) fn split_name(folder: &str) -> (&str, &str) {
    folder.split_once('_').unwrap_or((folder, ""))
}

/// Reads one migration folder (known to hold `up.sql`) with version `version`.
pub(crate) fn read_migration(
    dir: &Path,
    version: String,
    description: &str,
    warnings: &mut Vec<String>,
) -> Result<Migration, SourceError> {
    let up_path = dir.join(UP_FILE);
    let up_sql = read_text(&up_path)?;
    if is_blank(&up_sql) {
        return Err(SourceError::EmptyUp { path: up_path });
    }
    let down_path = dir.join(DOWN_FILE);
    let down = if exists(&down_path)? {
        Some(MigrationFile {
            sql: read_text(&down_path)?,
            path: down_path,
        })
    } else {
        None
    };
    let metadata_path = dir.join(METADATA_FILE);
    let run_in_transaction = if exists(&metadata_path)? {
        read_metadata(&metadata_path, warnings)?
    } else {
        true
    };
    Ok(Migration {
        version: Version::Diesel(version),
        description: description.to_owned(),
        no_transaction: !run_in_transaction,
        checksum: checksum(&up_sql),
        up: MigrationFile {
            path: up_path,
            sql: up_sql,
        },
        down,
    })
}

fn exists(path: &Path) -> Result<bool, SourceError> {
    path.try_exists().map_err(|source| SourceError::ReadFile {
        path: path.to_path_buf(),
        source,
    })
}

/// `run_in_transaction` as diesel reads `metadata.toml` (see the module docs).
fn read_metadata(path: &Path, warnings: &mut Vec<String>) -> Result<bool, SourceError> {
    let text = read_text(path)?;
    let invalid = |message: String| SourceError::InvalidMetadata {
        path: path.to_path_buf(),
        message,
    };
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let at = e
            .span()
            .map(|span| {
                let (line, column) = line_column(&text, span.start);
                format!(" at line {line}, column {column}")
            })
            .unwrap_or_default();
        invalid(format!(
            "invalid TOML{at}: {}; diesel would silently ignore this file and run the \
             migration in a transaction: fix it, or delete it",
            e.message()
        ))
    })?;
    for key in table.keys().filter(|k| *k != RUN_IN_TRANSACTION) {
        warnings.push(format!(
            "{}: unknown key `{key}` ignored (only `{RUN_IN_TRANSACTION}` is known)",
            path.display()
        ));
    }
    match table.get(RUN_IN_TRANSACTION) {
        Some(toml::Value::Boolean(value)) => Ok(*value),
        Some(other) => Err(invalid(format!(
            "`{RUN_IN_TRANSACTION}` must be true or false, not {other}"
        ))),
        None => {
            warnings.push(format!(
                "{}: no `{RUN_IN_TRANSACTION}` key, so diesel runs this migration outside a \
                 transaction (a missing key reads as false); add `{RUN_IN_TRANSACTION} = \
                 true` or `= false` to make it explicit",
                path.display()
            ));
            Ok(false)
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The folder prefix of a new migration at `now`: `%Y-%m-%d-%H%M%S-<sub>` with the smallest
/// 4-hex-digit sub-version such that no existing migration folder starts with the prefix and
/// no version equals its stored form (diesel_cli 2.3's `create_migration_dir`). After 65536
/// migrations in one second, the last prefix is returned (planning then fails on the
/// existing folder or version).
pub(crate) fn next_prefix(set: &MigrationSet, now: DateTime<Utc>) -> String {
    let stamp = now.format(TIMESTAMP_FORMAT).to_string();
    let names: Vec<String> = set.migrations.iter().map(Migration::name).collect();
    let mut prefix = String::new();
    for sub in 0..=u16::MAX {
        prefix = format!("{stamp}-{sub:04x}");
        let version = Version::Diesel(prefix.replace('-', ""));
        if !names.iter().any(|n| n.starts_with(&prefix)) && set.find(&version).is_none() {
            break;
        }
    }
    prefix
}

/// The migration folder for a new diesel migration.
pub(crate) fn migration_dir(set: &MigrationSet, prefix: &str, slug: &str) -> PathBuf {
    set.dir.join(format!("{prefix}_{slug}"))
}
