//! Reading a migrations folder: listing it, detecting (or checking) the layout, and building
//! the set with the layout's reader.
//!
//! Entries whose name starts with `.` are skipped silently (as both tools do), and so are
//! `README*` files and folders. Every entry is classified once:
//! - a file named like a sqlx migration (`<i64>_<rest>.sql`) is sqlx evidence;
//! - a folder holding `up.sql` is diesel evidence;
//! - anything else is either a warning ("not a migration, ignored") or, for a folder without
//!   `up.sql` in a diesel set, an error (diesel refuses such a folder).
//!
//! With [`LayoutChoice::Auto`], sqlx evidence alone means sqlx, diesel evidence alone means
//! diesel, both is an error, and neither is sqlx (an empty folder), unless a folder is named
//! like a diesel migration (`<version>_<name>` without `up.sql`): then the set is diesel and
//! reading it reports the missing `up.sql`. A forced layout that finds only the other
//! layout's evidence is an error; with both present, the other layout's entries are ignored
//! with a warning.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::SourceError;
use super::model::{Layout, LayoutChoice, Migration, MigrationSet};
use super::{diesel, sqlx};

/// Reads the migration set in `dir` with the layout chosen by `choice`.
///
/// The paths in the set (and in errors and warnings) are `dir` joined with the entries'
/// names, so a relative `dir` gives relative paths.
pub fn read_set(dir: &Path, choice: LayoutChoice) -> Result<MigrationSet, SourceError> {
    let listing = list(dir)?;
    let layout = detect(dir, &listing, choice)?;
    let mut warnings = Vec::new();
    let migrations = match layout {
        Layout::Sqlx => read_sqlx(&listing, &mut warnings)?,
        Layout::Diesel => read_diesel(dir, &listing, &mut warnings)?,
    };
    Ok(MigrationSet {
        layout,
        dir: dir.to_path_buf(),
        migrations,
        warnings,
    })
}

/// One entry of the migrations folder.
#[derive(Debug)]
struct Entry {
    /// The name (lossy UTF-8, as sqlx reads it).
    name: String,
    /// `dir` joined with the name.
    path: PathBuf,
    /// What the entry looks like.
    kind: EntryKind,
}

#[derive(Debug)]
enum EntryKind {
    /// A file named like a sqlx migration.
    SqlxFile(sqlx::File),
    /// A file named `<x>_<y>.sql` whose `<x>` is not an integer.
    SqlxBadVersion(String),
    /// Any other file.
    OtherFile,
    /// A folder holding `up.sql`.
    DieselDir,
    /// A folder without `up.sql`.
    OtherDir,
}

/// The folder's entries in name order, classified; hidden and `README*` entries left out.
fn list(dir: &Path) -> Result<Vec<Entry>, SourceError> {
    let read = fs::read_dir(dir).map_err(|source| match fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => SourceError::MissingFolder {
            dir: dir.to_path_buf(),
        },
        Ok(meta) if !meta.is_dir() => SourceError::NotAFolder {
            dir: dir.to_path_buf(),
        },
        _ => SourceError::ReadFolder {
            dir: dir.to_path_buf(),
            source,
        },
    })?;
    let mut entries = Vec::new();
    for entry in read {
        let entry = entry.map_err(|source| SourceError::ReadFolder {
            dir: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.to_ascii_lowercase().starts_with("readme") {
            continue;
        }
        let path = dir.join(entry.file_name());
        // Follow symlinks, as both tools do.
        let meta = fs::metadata(&path).map_err(|source| SourceError::ReadFile {
            path: path.clone(),
            source,
        })?;
        let kind = if meta.is_dir() {
            let up = path.join(diesel::UP_FILE);
            let has_up = up.try_exists().map_err(|source| SourceError::ReadFile {
                path: up.clone(),
                source,
            })?;
            if has_up {
                EntryKind::DieselDir
            } else {
                EntryKind::OtherDir
            }
        } else {
            match sqlx::parse_name(&name) {
                sqlx::Name::Migration {
                    version,
                    kind,
                    description,
                } => EntryKind::SqlxFile(sqlx::File {
                    path: path.clone(),
                    version,
                    kind,
                    description,
                }),
                sqlx::Name::BadVersion(version) => EntryKind::SqlxBadVersion(version),
                sqlx::Name::NotMigration => EntryKind::OtherFile,
            }
        };
        entries.push(Entry { name, path, kind });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// The layout of the folder, detected or checked against `choice`.
fn detect(dir: &Path, entries: &[Entry], choice: LayoutChoice) -> Result<Layout, SourceError> {
    let sqlx_example = entries
        .iter()
        .find(|e| matches!(e.kind, EntryKind::SqlxFile(_)));
    let diesel_example = entries
        .iter()
        .find(|e| matches!(e.kind, EntryKind::DieselDir));
    match (choice.forced(), sqlx_example, diesel_example) {
        (None, Some(s), Some(d)) => Err(SourceError::MixedLayouts {
            dir: dir.to_path_buf(),
            sqlx_example: s.path.clone(),
            diesel_example: d.path.clone(),
        }),
        (None, None, Some(_)) => Ok(Layout::Diesel),
        // Only folders without up.sql: named like diesel migrations, they make a diesel set
        // (whose reader reports the missing up.sql); otherwise the folder is an empty sqlx set.
        (None, None, None) if entries.iter().any(is_diesel_like_dir) => Ok(Layout::Diesel),
        (None, _, None) => Ok(Layout::Sqlx),
        (Some(Layout::Sqlx), None, Some(d)) => Err(SourceError::WrongLayout {
            dir: dir.to_path_buf(),
            configured: choice,
            found: Layout::Diesel,
            example: d.path.clone(),
        }),
        (Some(Layout::Diesel), Some(s), None) => Err(SourceError::WrongLayout {
            dir: dir.to_path_buf(),
            configured: choice,
            found: Layout::Sqlx,
            example: s.path.clone(),
        }),
        (Some(layout), _, _) => Ok(layout),
    }
}

/// A folder without `up.sql` named like a diesel migration (`<version>_<name>`).
fn is_diesel_like_dir(entry: &Entry) -> bool {
    matches!(entry.kind, EntryKind::OtherDir)
        && entry
            .name
            .split_once('_')
            .is_some_and(|(prefix, _)| diesel::parse_version(prefix).is_some())
}

/// The sqlx set: migration files, warnings for the rest.
fn read_sqlx(entries: &[Entry], warnings: &mut Vec<String>) -> Result<Vec<Migration>, SourceError> {
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.path.display();
        match &entry.kind {
            EntryKind::SqlxFile(file) => files.push(file.clone()),
            EntryKind::SqlxBadVersion(version) => warnings.push(format!(
                "{path}: not a migration, ignored: `{version}` is not an integer version; \
                 sqlx itself refuses a folder holding this file (`sqlx::migrate!()` fails), so \
                 rename it to <version>_<description>.sql or move it out"
            )),
            EntryKind::OtherFile => warnings.push(format!(
                "{path}: not a migration, ignored (sqlx migrations are named \
                 <version>_<description>.sql, .up.sql or .down.sql)"
            )),
            EntryKind::DieselDir => warnings.push(format!(
                "{path}: a diesel migration folder in a sqlx set (the `layout` config key says \
                 sqlx), ignored"
            )),
            // sqlx ignores folders; so do we.
            EntryKind::OtherDir => {}
        }
    }
    sqlx::build(files, warnings)
}

/// The diesel set: migration folders, warnings for stray files, errors for folders without
/// `up.sql`.
fn read_diesel(
    dir: &Path,
    entries: &[Entry],
    warnings: &mut Vec<String>,
) -> Result<Vec<Migration>, SourceError> {
    let mut migrations: Vec<(Migration, &Path)> = Vec::new();
    for entry in entries {
        let path = entry.path.display();
        match &entry.kind {
            EntryKind::DieselDir => {
                let (prefix, description) = diesel::split_name(&entry.name);
                let Some(version) = diesel::parse_version(prefix) else {
                    warnings.push(format!(
                        "{path}: not a migration, ignored: `{prefix}` is not a version (diesel \
                         migration folders are named <version>_<name>, e.g. \
                         2019-02-26-002946_create_users); diesel itself would run it with \
                         version `{}`, so rename it or move it out",
                        prefix.replace('-', "")
                    ));
                    continue;
                };
                let migration =
                    diesel::read_migration(&entry.path, version, description, warnings)?;
                migrations.push((migration, &entry.path));
            }
            EntryKind::OtherDir => {
                return Err(SourceError::DieselMissingUp {
                    dir: entry.path.clone(),
                    migrations: dir.to_path_buf(),
                })
            }
            EntryKind::SqlxFile(_) => warnings.push(format!(
                "{path}: a sqlx migration file in a diesel set (the `layout` config key says \
                 diesel), ignored"
            )),
            EntryKind::SqlxBadVersion(_) | EntryKind::OtherFile => warnings.push(format!(
                "{path}: not a migration, ignored (diesel migrations are folders \
                 <version>_<name> holding up.sql and down.sql)"
            )),
        }
    }
    // Folders in name order; the tool's order is the stored version's order.
    migrations.sort_by(|(a, _), (b, _)| a.version.cmp(&b.version));
    for pair in migrations.windows(2) {
        let [(a, a_path), (b, b_path)] = pair else {
            continue;
        };
        if a.version == b.version {
            return Err(SourceError::DuplicateVersion {
                version: a.version.clone(),
                first: a_path.to_path_buf(),
                second: b_path.to_path_buf(),
            });
        }
    }
    Ok(migrations.into_iter().map(|(m, _)| m).collect())
}
