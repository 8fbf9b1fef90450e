//! Errors of the configuration layer and the description of where a value came from.
//!
//! Every message names the offending key or variable and the place it was read from, and
//! lists what would have been accepted. Passwords never appear in a message: an invalid
//! password is reported without its value, and excerpts of configuration files are not
//! quoted.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::layer::{KEYS, KNOWN_ENV_VARS};

/// Where a configuration value (or a whole table of values) came from.
// The variants' fields are named for what they hold: a doc comment on each would restate the name.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueOrigin {
    /// A command-line flag, such as `--port`.
    Flag(&'static str),
    /// A variable of the process environment, such as `PACKIT_DB_PORT`.
    EnvVar(String),
    /// A variable set in a `.env` file.
    DotEnv {
        /// The `.env` file.
        path: PathBuf,
        /// The variable, such as `PACKIT_DB_PORT`.
        var: String,
    },
    /// A configuration file: `Cargo.toml` metadata or `packit-db.toml`.
    File {
        path: PathBuf,
        /// The table inside the file, such as `[package.metadata.packit-db]`; `None` for the
        /// top level of `packit-db.toml`.
        table: Option<String>,
    },
    /// The built-in defaults.
    Default,
}

impl fmt::Display for ValueOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag(flag) => write!(f, "command-line flag {flag}"),
            Self::EnvVar(var) => write!(f, "environment variable {var}"),
            Self::DotEnv { path, var } => write!(f, "{} (variable {var})", path.display()),
            Self::File { path, table: None } => write!(f, "{}", path.display()),
            Self::File {
                path,
                table: Some(table),
            } => write!(f, "{} {table}", path.display()),
            Self::Default => f.write_str("the built-in defaults"),
        }
    }
}

/// An error while building the configuration.
// The variants' fields are named for what they hold: a doc comment on each would restate the name.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A configuration file (`packit-db.toml`, `.env`) could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read { path: PathBuf, source: io::Error },

    /// `packit-db.toml` is not valid TOML.
    #[error("invalid TOML in {}:{line}:{column}: {message}", .path.display())]
    Toml {
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser's message (without an excerpt of the file).
        message: String,
    },

    /// A `.env` file has a line that is not `KEY=VALUE`.
    #[error(
        "malformed line {line} in {}: expected KEY=VALUE (quotes must be closed)",
        .path.display()
    )]
    DotEnv {
        /// The `.env` file.
        path: PathBuf,
        /// 1-based line where the malformed entry starts.
        line: usize,
    },

    /// `cargo metadata` failed for the project's manifest.
    #[error("cannot read the cargo project at {}: {message}", .manifest.display())]
    CargoMetadata {
        /// The manifest given with `--manifest-path` or found above the current directory.
        manifest: PathBuf,
        /// Cargo's message, on one line and without excerpts of the manifest.
        message: String,
    },

    /// The `packit-db` metadata entry is not a table.
    #[error("invalid value {found} in {origin}: expected a table of packit-db settings")]
    NotATable {
        /// Where the entry is.
        origin: ValueOrigin,
        /// The value found, rendered as JSON.
        found: String,
    },

    /// A configuration file has a key that packit-db does not know.
    #[error(
        "unknown key `{key}` in {origin}; known keys: {}{}",
        KEYS.join(", "),
        did_you_mean(.suggestion)
    )]
    UnknownKey {
        key: String,
        /// The file and table that contain it.
        origin: ValueOrigin,
        /// The closest known key, when it is close enough to be a likely typo.
        suggestion: Option<String>,
    },

    /// A `PACKIT_DB_*` variable that packit-db does not know.
    #[error(
        "unknown variable `{name}` in {}; known variables: {}{}",
        where_var(.file),
        KNOWN_ENV_VARS.join(", "),
        did_you_mean(.suggestion)
    )]
    UnknownVariable {
        /// The variable's name.
        name: String,
        /// The `.env` file that sets it; `None` for the process environment.
        file: Option<PathBuf>,
        /// The closest known variable, when it is close enough to be a likely typo.
        suggestion: Option<String>,
    },

    /// A value has the wrong type or is out of range.
    #[error(
        "invalid value{} for `{key}` in {origin}: expected {expected}",
        shown_value(.value)
    )]
    InvalidValue {
        /// The configuration key, such as `port`.
        key: &'static str,
        /// Where the value came from.
        origin: ValueOrigin,
        /// The offending value as written (TOML/JSON values rendered as JSON, text quoted);
        /// `None` when it must not be shown (passwords).
        value: Option<String>,
        /// What would have been accepted.
        expected: String,
    },
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    }
}

fn where_var(file: &Option<PathBuf>) -> String {
    match file {
        Some(path) => path.display().to_string(),
        None => "the environment".to_owned(),
    }
}

fn shown_value(value: &Option<String>) -> String {
    match value {
        Some(v) => format!(" {v}"),
        None => String::new(),
    }
}
