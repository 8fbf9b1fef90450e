//! The migration set model: layouts, versions, migrations and the set read from a folder.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::sql::has_statement;
use super::{diesel, sqlx};

/// The layout of a migrations folder, which is also the tool whose tracking table is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// sqlx: `<version>_<description>.up.sql` + `.down.sql`, or `<version>_<description>.sql`.
    Sqlx,
    /// diesel: `<version>_<name>/up.sql` (+ `down.sql`, `metadata.toml`).
    Diesel,
}

impl Layout {
    /// The tracking table of the layout's tool.
    pub fn tracking_table(self) -> &'static str {
        match self {
            Self::Sqlx => "_sqlx_migrations",
            Self::Diesel => "__diesel_schema_migrations",
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlx => "sqlx",
            Self::Diesel => "diesel",
        })
    }
}

/// The `layout` setting: detect the layout from the folder's contents, or force one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayoutChoice {
    /// Detect: sqlx files or diesel folders; an empty folder is sqlx.
    #[default]
    Auto,
    /// Always sqlx (diesel folders are ignored with a warning).
    Sqlx,
    /// Always diesel (sqlx files are ignored with a warning).
    Diesel,
}

impl LayoutChoice {
    /// The forced layout, `None` for [`LayoutChoice::Auto`].
    pub fn forced(self) -> Option<Layout> {
        match self {
            Self::Auto => None,
            Self::Sqlx => Some(Layout::Sqlx),
            Self::Diesel => Some(Layout::Diesel),
        }
    }
}

impl fmt::Display for LayoutChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Sqlx => "sqlx",
            Self::Diesel => "diesel",
        })
    }
}

/// A migration version, as the layout's tool stores it in its tracking table.
///
/// Within one set, the derived order is the order the tool applies migrations in: numeric for
/// sqlx (`ORDER BY version` on a `BIGINT`), byte-wise string order for diesel (its
/// `MigrationVersion` wraps the text and derives `Ord`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(untagged)]
pub enum Version {
    /// A sqlx version: the integer before the first `_` of the file name.
    Sqlx(i64),
    /// A diesel version: the text before the first `_` of the folder name with every `-`
    /// removed (`2019-02-26-002946` -> `20190226002946`), as stored in
    /// `__diesel_schema_migrations.version`.
    Diesel(String),
}

impl Version {
    /// Parses a version a user typed (after `--to`): for sqlx an integer (`3`, `0003`); for
    /// diesel a folder prefix with or without dashes (`2019-02-26-002946`,
    /// `20190226002946`). A trailing `_<description>` is accepted and ignored, so a
    /// migration's full name works too.
    pub fn parse(layout: Layout, s: &str) -> Option<Version> {
        let s = s.trim();
        let prefix = s.split('_').next().unwrap_or(s);
        match layout {
            Layout::Sqlx => sqlx::parse_version(prefix).map(Version::Sqlx),
            Layout::Diesel => diesel::parse_version(prefix).map(Version::Diesel),
        }
    }

    /// The layout this version belongs to.
    pub fn layout(&self) -> Layout {
        match self {
            Self::Sqlx(_) => Layout::Sqlx,
            Self::Diesel(_) => Layout::Diesel,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlx(n) => write!(f, "{n}"),
            Self::Diesel(s) => f.write_str(s),
        }
    }
}

/// One SQL file of a migration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationFile {
    /// The file (the migrations folder joined with the file's name).
    pub path: PathBuf,
    /// Its text, exactly as read (line endings and a byte-order mark are kept, as sqlx keeps
    /// them).
    pub sql: String,
}

/// One migration of a set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    /// The version, as the tool stores it.
    pub version: Version,
    /// The description, as the tool stores it: sqlx: the file name after the version with the
    /// suffix removed and every `_` replaced by a space; diesel (which stores none): the
    /// folder name after the first `_`, unchanged.
    pub description: String,
    /// The up file (sqlx: `.up.sql` or the simple `.sql`; diesel: `up.sql`).
    pub up: MigrationFile,
    /// The down file; `None` for a sqlx simple migration (or an `.up.sql` without its
    /// `.down.sql`) and a diesel folder without `down.sql`.
    pub down: Option<MigrationFile>,
    /// Runs outside a transaction: sqlx: the up file starts with `-- no-transaction` (a plain
    /// prefix test on the raw text, as sqlx does); diesel: `metadata.toml` sets
    /// `run_in_transaction = false`, or exists without that key (diesel deserialises a missing
    /// key as `false`; a warning says so).
    pub no_transaction: bool,
    /// SHA-384 of the up file's raw text, as sqlx computes it (computed for diesel too, to
    /// detect edits).
    pub checksum: Vec<u8>,
}

impl Migration {
    /// Has a down file (possibly one without any statement, see [`Self::down_is_empty`]).
    pub fn is_reversible(&self) -> bool {
        self.down.is_some()
    }

    /// The down file exists but holds no statement: only whitespace, `;`, `--` comments and
    /// `/* */` comments.
    pub fn down_is_empty(&self) -> bool {
        self.down.as_ref().is_some_and(|d| !has_statement(&d.sql))
    }

    /// Whether the down file runs outside a transaction. sqlx decides it per file (the down
    /// file itself starts with `-- no-transaction`); diesel per folder (`metadata.toml`, the
    /// same as [`Self::no_transaction`]). Without a down file, [`Self::no_transaction`].
    pub fn down_no_transaction(&self) -> bool {
        match (&self.version, &self.down) {
            (Version::Sqlx(_), Some(down)) => sqlx::no_transaction(&down.sql),
            _ => self.no_transaction,
        }
    }

    /// The name a user sees in the folder: the sqlx file name without its `.up.sql` / `.sql`
    /// suffix (`0001_create_users`), or the diesel folder name
    /// (`2019-02-26-002946_create_users`). Falls back to `<version>_<description>`.
    pub fn name(&self) -> String {
        let from_path = match self.version {
            Version::Sqlx(_) => file_name(&self.up.path).and_then(|n| {
                let stem = n
                    .strip_suffix(sqlx::UP_SUFFIX)
                    .or_else(|| n.strip_suffix(sqlx::SIMPLE_SUFFIX))?;
                Some(stem.to_owned())
            }),
            Version::Diesel(_) => self.up.path.parent().and_then(file_name).map(str::to_owned),
        };
        from_path.unwrap_or_else(|| format!("{}_{}", self.version, self.description))
    }
}

fn file_name(path: &Path) -> Option<&str> {
    path.file_name()?.to_str()
}

/// How a new migration's version is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionStyle {
    /// The current UTC time: sqlx `%Y%m%d%H%M%S`; diesel `%Y-%m-%d-%H%M%S-<4 hex digits>`.
    Timestamp,
    /// The last version plus one (sqlx only).
    Sequential,
}

/// The migrations read from one folder, in the order the tool applies them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationSet {
    /// The layout (detected or configured).
    pub layout: Layout,
    /// The migrations folder, as given to [`super::read_set`].
    pub dir: PathBuf,
    /// The migrations, sorted by version (the tool's order).
    pub migrations: Vec<Migration>,
    /// Entries that were skipped or look suspicious, one message each, naming the file.
    pub warnings: Vec<String>,
}

impl MigrationSet {
    /// The migration with version `v`.
    pub fn find(&self, v: &Version) -> Option<&Migration> {
        // The migrations are sorted by version.
        self.migrations
            .binary_search_by(|m| m.version.cmp(v))
            .ok()
            .map(|i| &self.migrations[i])
    }

    /// The version style of the set when none is forced, inferred as sqlx-cli infers it
    /// (`sqlx migrate add` without `--sequential`/`--timestamp`): sequential when the last
    /// two versions differ by exactly 1, or when the only migration has version 0 or 1;
    /// otherwise (and for an empty set) timestamp. sqlx-cli compares the last two *files*,
    /// so for reversible sets (whose last two files are the `.up.sql` and `.down.sql` of one
    /// version) it always falls back to timestamps; packit-db compares distinct versions,
    /// which is what the rule means. diesel sets are always timestamp.
    pub fn infer_style(&self) -> VersionStyle {
        if self.layout == Layout::Diesel {
            return VersionStyle::Timestamp;
        }
        let versions: Vec<i64> = self
            .migrations
            .iter()
            .filter_map(|m| match m.version {
                Version::Sqlx(n) => Some(n),
                Version::Diesel(_) => None,
            })
            .collect();
        let sequential = match versions.as_slice() {
            [] => false,
            [only] => matches!(only, 0 | 1),
            [.., previous, latest] => latest.checked_sub(*previous) == Some(1),
        };
        if sequential {
            VersionStyle::Sequential
        } else {
            VersionStyle::Timestamp
        }
    }

    /// The version a new migration gets with `style` at `now`.
    ///
    /// sqlx: `Timestamp` is `now` as `%Y%m%d%H%M%S`, but never at or below the newest
    /// version (then newest + 1, so two migrations created in the same second stay unique and
    /// in order); `Sequential` is the newest + 1, or 1. diesel has no sequential style: both
    /// give the timestamp version (the folder prefix `%Y-%m-%d-%H%M%S-0000` without dashes,
    /// with the smallest 4-hex-digit sub-version not already used, as `diesel migration
    /// generate` does); [`super::plan_new`] refuses `Sequential` for diesel.
    pub fn next_version(&self, style: VersionStyle, now: DateTime<Utc>) -> Version {
        match self.layout {
            Layout::Sqlx => Version::Sqlx(sqlx::next_version(self, style, now)),
            Layout::Diesel => {
                let prefix = diesel::next_prefix(self, now);
                Version::Diesel(prefix.replace('-', ""))
            }
        }
    }

    /// An empty set in `dir`: for a folder that does not exist yet. The layout is the forced
    /// one, or sqlx for [`LayoutChoice::Auto`].
    pub fn empty(dir: &Path, choice: LayoutChoice) -> MigrationSet {
        MigrationSet {
            layout: choice.forced().unwrap_or(Layout::Sqlx),
            dir: dir.to_path_buf(),
            migrations: Vec::new(),
            warnings: Vec::new(),
        }
    }
}
