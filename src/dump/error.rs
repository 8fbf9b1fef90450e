//! Errors of `load-dump` and `dump`. Each names the file or database and what to do; a load
//! that fails leaves the target database as it was, and says so.

/// A dump could not be read, loaded or written.
// The variants' fields are named for what they hold: a doc comment on each would restate the name.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// The file or directory cannot be opened or read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        path: String,
        /// The system's reason.
        reason: String,
    },
    /// Zero bytes.
    #[error("{path} is empty: there is nothing to load; the database is unchanged")]
    Empty { path: String },
    /// Not a format `load-dump` reads.
    #[error("{path} is not a pg_dump dump: it is {what}; load-dump reads plain SQL (also gzip- or zstd-compressed), custom, tar and directory dumps")]
    NotADump {
        path: String,
        /// What it looks like.
        what: String,
    },
    /// The file breaks off or its compression is damaged.
    #[error(
        "{path} is corrupt or truncated ({reason}); the database is unchanged: take the dump again"
    )]
    Corrupt {
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// Made by a newer pg_dump (or server) than the container's PostgreSQL.
    #[error("{path} was made by {made_by}, newer than the container's PostgreSQL {server}: use image `{image}` (set `image`, then `cargo packit-db up --recreate`); nothing was loaded")]
    TooNew {
        path: String,
        /// "pg_dump 17.2 from PostgreSQL 17.2".
        made_by: String,
        /// The container's version.
        server: String,
        image: String,
    },
    /// Roles the dump names do not exist, and `--missing-roles fail` is in force.
    #[error("{path} refers to roles that do not exist in the container: {roles}; pass --missing-roles create (create them, NOLOGIN) or --missing-roles ignore-owner (objects owned by `{owner}`, grants to them left out); nothing was loaded")]
    MissingRoles {
        path: String,
        /// The roles, comma-separated.
        roles: String,
        /// Who would own the objects instead.
        owner: String,
    },
    /// A plain script with `\connect` would leave the staging database.
    #[error("{path} connects to another database itself (`\\connect`, made with pg_dump --create): take the dump without --create; nothing was loaded")]
    Connects { path: String },
    /// pg_dump's script ends before its closing comment.
    #[error("{path} ends before pg_dump's closing line `-- PostgreSQL database dump complete`: the file is truncated; the database `{database}` is unchanged")]
    Truncated { path: String, database: String },
    /// psql or pg_restore failed.
    #[error("loading {path} failed: {detail}; the database `{database}` is unchanged")]
    LoadFailed {
        path: String,
        database: String,
        /// The tool's error (last lines).
        detail: String,
    },
    /// A step in the container (creating a role or database, renaming) failed.
    #[error("cannot {action}: {detail}")]
    Admin {
        /// What was being done.
        action: String,
        /// The server's or tool's message.
        detail: String,
    },
    /// pg_dump failed.
    #[error("pg_dump of database `{database}` failed: {detail}")]
    DumpFailed {
        database: String,
        /// pg_dump's error.
        detail: String,
    },
    /// The output file could not be written.
    #[error("cannot write {path}: {reason}")]
    Write {
        path: String,
        /// The system's reason.
        reason: String,
    },
}

impl From<crate::db::AdminError> for DumpError {
    fn from(e: crate::db::AdminError) -> DumpError {
        DumpError::Admin {
            action: e.action,
            detail: e.detail,
        }
    }
}
