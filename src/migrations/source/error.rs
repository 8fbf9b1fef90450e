//! Errors while reading a migrations folder or planning a new migration. Every message
//! starts with the file or folder it is about and says how to fix it.

use std::io;
use std::path::{Path, PathBuf};

use super::model::{Layout, LayoutChoice, Version};

/// An error while reading a migration set or planning a new migration.
// The variants' fields are named for what they hold: a doc comment on each would restate the name.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The migrations folder does not exist.
    #[error(
        "{}: the migrations folder does not exist; `cargo packit-db migrate new <message>` \
         creates it with a first migration, or set the `migrations` config key to the folder \
         that holds your migrations",
        .dir.display()
    )]
    MissingFolder { dir: PathBuf },

    /// The migrations path is not a folder.
    #[error(
        "{}: not a folder; set the `migrations` config key to the folder that holds your \
         migrations",
        .dir.display()
    )]
    NotAFolder { dir: PathBuf },

    /// The migrations folder could not be listed.
    #[error("{}: cannot read the folder: {source}", .dir.display())]
    ReadFolder { dir: PathBuf, source: io::Error },

    /// A file (or an entry's metadata) could not be read.
    #[error("{}: cannot read it: {source}", .path.display())]
    ReadFile { path: PathBuf, source: io::Error },

    /// A file is not valid UTF-8.
    #[error(
        "{}: not valid UTF-8 (first invalid byte at offset {offset}); save the file as UTF-8",
        .path.display()
    )]
    NotUtf8 {
        path: PathBuf,
        /// The byte offset of the first invalid byte.
        offset: usize,
    },

    /// An up file is empty or holds only whitespace.
    #[error(
        "{}: holds no SQL; write the migration's statements in it, or delete the migration",
        .path.display()
    )]
    EmptyUp { path: PathBuf },

    /// Two migrations have the same version.
    #[error(
        "{}: version {version} is also used by {}; each migration needs its own version: \
         rename one of them",
        .second.display(),
        file_name(.first)
    )]
    DuplicateVersion {
        version: Version,
        /// The first file or folder with it (in name order).
        first: PathBuf,
        second: PathBuf,
    },

    /// A sqlx `.down.sql` without its `.up.sql`.
    #[error(
        "{}: a down migration without its up file {}; add the up file, or delete this one",
        .path.display(),
        file_name(.expected_up)
    )]
    DownWithoutUp { path: PathBuf, expected_up: PathBuf },

    /// A sqlx `.down.sql` whose description differs from the `.up.sql` of its version.
    #[error(
        "{}: has the version of {} but another description; rename it to {}",
        .path.display(),
        file_name(.up),
        file_name(.expected)
    )]
    MismatchedDown {
        path: PathBuf,
        /// The up file of the same version.
        up: PathBuf,
        /// The name the down file should have.
        expected: PathBuf,
    },

    /// A subfolder of a diesel migrations folder without `up.sql`.
    #[error(
        "{}: no up.sql in this migration folder (diesel requires one in every subfolder of \
         the migrations folder); add up.sql, or move the folder out of {}",
        .dir.display(),
        .migrations.display()
    )]
    DieselMissingUp { dir: PathBuf, migrations: PathBuf },

    /// A diesel `metadata.toml` that is not valid TOML or has a wrong value.
    #[error("{}: {message}", .path.display())]
    InvalidMetadata {
        path: PathBuf,
        /// What is wrong, with the fix.
        message: String,
    },

    /// With `layout = auto`, the folder holds both layouts.
    #[error(
        "{}: holds both sqlx migration files (e.g. {}) and diesel migration folders (e.g. \
         {}); set the `layout` config key (or PACKIT_DB_LAYOUT) to sqlx or diesel to say \
         which one this project uses",
        .dir.display(),
        .sqlx_example.display(),
        .diesel_example.display()
    )]
    MixedLayouts {
        dir: PathBuf,
        /// One sqlx file.
        sqlx_example: PathBuf,
        /// One diesel folder.
        diesel_example: PathBuf,
    },

    /// The configured layout does not match the folder's contents.
    #[error(
        "{}: the `layout` config key says {configured}, but the folder holds {found} \
         migrations (e.g. {}); set `layout` to {found} or auto",
        .dir.display(),
        .example.display()
    )]
    WrongLayout {
        dir: PathBuf,
        configured: LayoutChoice,
        /// The layout the folder looks like.
        found: Layout,
        /// One entry of that layout.
        example: PathBuf,
    },

    /// The message of a new migration has no letter or digit.
    #[error(
        "the migration message {message:?} has no letter or digit to name the file with; \
         describe the change, e.g. `cargo packit-db migrate new \"add users table\"`"
    )]
    EmptyMessage { message: String },

    /// `--simple` with a diesel set.
    #[error(
        "{}: diesel migrations always have a down.sql; run `migrate new` without --simple",
        .dir.display()
    )]
    DieselSimple { dir: PathBuf },

    /// `--sequential` with a diesel set.
    #[error(
        "{}: diesel migrations are versioned by timestamp; --sequential works with sqlx \
         migrations only",
        .dir.display()
    )]
    DieselSequential { dir: PathBuf },

    /// A file or folder of the new migration already exists.
    #[error(
        "{}: already exists; use another message, or remove it first",
        .path.display()
    )]
    TargetExists { path: PathBuf },

    /// No version is left for a new migration (sqlx: the newest version is `i64::MAX`).
    #[error(
        "{}: no version is left after {last} for a new migration; renumber the migrations",
        .dir.display()
    )]
    NoVersionLeft { dir: PathBuf, last: Version },
}

/// The last component of `path`, for messages that already name its folder.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
