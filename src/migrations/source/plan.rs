//! Planning a new migration: its version and the paths of its files, in the set's layout.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::error::SourceError;
use super::model::{Layout, MigrationSet, Version, VersionStyle};
use super::{diesel, sqlx};

/// Where a new migration's files go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMigrationPlan {
    /// The new migration's version.
    pub version: Version,
    /// A folder to create (with `create_dir_all`) before writing the files: the diesel
    /// migration folder, or a sqlx migrations folder that does not exist yet.
    pub dir_to_create: Option<PathBuf>,
    /// The up file (sqlx `.up.sql` or simple `.sql`; diesel `up.sql`).
    pub up_path: PathBuf,
    /// The down file, `None` for a sqlx simple migration.
    pub down_path: Option<PathBuf>,
}

/// A migration message as a file-name description: lowercased, every run of characters
/// other than letters and digits replaced by one `_`, no `_` at either end.
/// `"Add users' e-mail!"` -> `add_users_e_mail`.
pub fn slugify(message: &str) -> String {
    let mut slug = String::with_capacity(message.len());
    let mut gap = false;
    for c in message.chars() {
        if c.is_alphanumeric() {
            if gap && !slug.is_empty() {
                slug.push('_');
            }
            gap = false;
            slug.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    slug
}

/// Plans a new migration for `message` in `set` at `now`.
///
/// sqlx: `<version>_<slug>.up.sql` and `.down.sql` when `reversible`, else
/// `<version>_<slug>.sql`; the version follows `style`, or [`MigrationSet::infer_style`]
/// when `None` (see [`MigrationSet::next_version`]); a sequential version is zero-padded to
/// 4 digits as sqlx-cli pads it, or to the width of the newest migration's zero-padded
/// prefix. diesel: the folder `<%Y-%m-%d-%H%M%S-xxxx>_<slug>/` with `up.sql` and `down.sql`;
/// `reversible = false` and [`VersionStyle::Sequential`] are refused. Any existing target
/// is refused.
pub fn plan_new(
    set: &MigrationSet,
    message: &str,
    reversible: bool,
    style: Option<VersionStyle>,
    now: DateTime<Utc>,
) -> Result<NewMigrationPlan, SourceError> {
    let slug = slugify(message);
    if slug.is_empty() {
        return Err(SourceError::EmptyMessage {
            message: message.to_owned(),
        });
    }
    let plan = match set.layout {
        Layout::Sqlx => plan_sqlx(set, &slug, reversible, style, now)?,
        Layout::Diesel => plan_diesel(set, &slug, reversible, style, now)?,
    };
    if let Some(last) = set
        .migrations
        .last()
        .filter(|_| set.find(&plan.version).is_some())
    {
        return Err(SourceError::NoVersionLeft {
            dir: set.dir.clone(),
            last: last.version.clone(),
        });
    }
    let targets = [Some(&plan.up_path), plan.down_path.as_ref()];
    let diesel_dir = plan
        .dir_to_create
        .as_ref()
        .filter(|_| set.layout == Layout::Diesel);
    for path in targets.into_iter().flatten().chain(diesel_dir) {
        if path.symlink_metadata().is_ok() {
            return Err(SourceError::TargetExists { path: path.clone() });
        }
    }
    Ok(plan)
}

fn plan_sqlx(
    set: &MigrationSet,
    slug: &str,
    reversible: bool,
    style: Option<VersionStyle>,
    now: DateTime<Utc>,
) -> Result<NewMigrationPlan, SourceError> {
    let style = style.unwrap_or_else(|| set.infer_style());
    let version = sqlx::next_version(set, style, now);
    let prefix = match style {
        VersionStyle::Timestamp => version.to_string(),
        VersionStyle::Sequential => format!("{version:0width$}", width = sequential_width(set)),
    };
    let file = |suffix: &str| set.dir.join(format!("{prefix}_{slug}{suffix}"));
    let (up_path, down_path) = if reversible {
        (file(sqlx::UP_SUFFIX), Some(file(sqlx::DOWN_SUFFIX)))
    } else {
        (file(sqlx::SIMPLE_SUFFIX), None)
    };
    let dir_to_create = (!set.dir.is_dir()).then(|| set.dir.clone());
    Ok(NewMigrationPlan {
        version: Version::Sqlx(version),
        dir_to_create,
        up_path,
        down_path,
    })
}

/// 4 (sqlx-cli's `{:04}`), or the length of the newest migration's version prefix when it
/// is zero-padded (`001_x.sql` -> 3).
fn sequential_width(set: &MigrationSet) -> usize {
    set.migrations
        .last()
        .map(|m| m.name())
        .and_then(|name| {
            let prefix = name.split('_').next()?;
            (prefix.len() > 1 && prefix.starts_with('0')).then_some(prefix.len())
        })
        .unwrap_or(4)
}

fn plan_diesel(
    set: &MigrationSet,
    slug: &str,
    reversible: bool,
    style: Option<VersionStyle>,
    now: DateTime<Utc>,
) -> Result<NewMigrationPlan, SourceError> {
    if style == Some(VersionStyle::Sequential) {
        return Err(SourceError::DieselSequential {
            dir: set.dir.clone(),
        });
    }
    if !reversible {
        return Err(SourceError::DieselSimple {
            dir: set.dir.clone(),
        });
    }
    let prefix = diesel::next_prefix(set, now);
    let dir = diesel::migration_dir(set, &prefix, slug);
    Ok(NewMigrationPlan {
        version: Version::Diesel(prefix.replace('-', "")),
        up_path: dir.join(diesel::UP_FILE),
        down_path: Some(dir.join(diesel::DOWN_FILE)),
        dir_to_create: Some(dir),
    })
}
