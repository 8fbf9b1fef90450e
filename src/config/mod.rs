//! Configuration: command-line flags, the environment, `.env`, Cargo metadata (or
//! `packit-db.toml`) and defaults, merged into one validated [`Config`].
//!
//! Precedence, highest first: flags ([`Overrides`]) > process environment (`PACKIT_DB_*`,
//! then a local `DATABASE_URL`) > the nearest `.env` file (same order) >
//! `[package.metadata.packit-db]` > `[workspace.metadata.packit-db]` (or `packit-db.toml`
//! outside Cargo projects) > defaults. This is the only module that reads the environment;
//! what the container engine needs from it is passed on in [`EngineEnv`].

mod database_url;
mod error;
mod image;
mod layer;
mod load;
mod sources;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

pub use self::error::{ConfigError, ValueOrigin};
pub use self::image::{is_sclorg_image, normalize_image};
pub use self::load::load;
// Plain data of the engine layer that the configuration chooses; re-exported so that the
// configuration's API names them.
pub use crate::engine::{EngineChoice, EngineEnv, EnvStyle};

use crate::engine::{container_labels, volume_name, ContainerSpec};
use crate::migrations::source::LayoutChoice;

/// The validated configuration of one project.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// The project name (the root package, else the workspace or current directory name).
    pub project: String,
    /// The workspace root (Cargo) or the current directory (`packit-db.toml` or none).
    pub project_dir: PathBuf,
    /// Where the file-level configuration came from.
    pub source: ConfigSource,
    /// Which container engine to use.
    pub engine: EngineChoice,
    /// The PostgreSQL image, fully qualified (see [`normalize_image`]).
    pub image: String,
    /// How the image is configured (variable names, data directory).
    pub env_style: EnvStyle,
    /// The name of the project's container (its volume is named after it).
    pub container: String,
    /// The host port on 127.0.0.1; 0 picks a free port.
    pub port: u16,
    /// The role the application connects as, created with the container.
    pub user: String,
    /// The application's database, owned by `user`.
    pub database: String,
    /// The role's password; `None` generates one when the container is created.
    pub password: Option<String>,
    /// The migrations directory (absolute).
    pub migrations: PathBuf,
    /// The layout of the migrations folder (sqlx or diesel), or `Auto` to detect it.
    pub layout: LayoutChoice,
    /// The desired-schema SQL files for autogenerate (absolute); empty = none.
    pub schema: Vec<PathBuf>,
    /// The migration templates directory (absolute); `None` = the built-in templates.
    pub templates: Option<PathBuf>,
    /// The ER diagram file (absolute).
    pub diagram: PathBuf,
    /// Extra labels for containers and volumes.
    pub labels: BTreeMap<String, String>,
    /// What container-engine discovery needs from the environment.
    pub engine_env: EngineEnv,
}

impl Config {
    /// The project's container as configured; `password` is the configured one, the one kept
    /// by an earlier container, or a freshly generated one.
    pub fn container_spec(&self, password: String) -> ContainerSpec {
        ContainerSpec {
            name: self.container.clone(),
            image: self.image.clone(),
            env_style: self.env_style,
            user: self.user.clone(),
            database: self.database.clone(),
            password,
            port: self.port,
            volume: volume_name(&self.container),
            labels: container_labels(&self.labels, &self.project, self.env_style, self.port),
        }
    }
}

/// Prints `***` in place of a secret.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("project", &self.project)
            .field("project_dir", &self.project_dir)
            .field("source", &self.source)
            .field("engine", &self.engine)
            .field("image", &self.image)
            .field("env_style", &self.env_style)
            .field("container", &self.container)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("database", &self.database)
            .field("password", &self.password.as_ref().map(|_| Redacted))
            .field("migrations", &self.migrations)
            .field("layout", &self.layout)
            .field("schema", &self.schema)
            .field("templates", &self.templates)
            .field("diagram", &self.diagram)
            .field("labels", &self.labels)
            .field("engine_env", &self.engine_env)
            .finish()
    }
}

/// Where the file-level configuration came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigSource {
    /// A Cargo project, read with `cargo metadata`.
    Cargo {
        /// The workspace root manifest.
        manifest: PathBuf,
    },
    /// A `packit-db.toml` file.
    File {
        /// Where `packit-db.toml` is.
        path: PathBuf,
    },
    /// No configuration file: defaults (and the environment).
    Defaults,
}

/// Flags from the command line (highest precedence). All optional.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--manifest-path`: the Cargo.toml to read (relative to the current directory).
    pub manifest_path: Option<PathBuf>,
    /// `--engine`.
    pub engine: Option<EngineChoice>,
    /// `--image` (normalised like the other sources).
    pub image: Option<String>,
    /// `--container`.
    pub container: Option<String>,
    /// `--port`.
    pub port: Option<u16>,
    /// `--env-style`.
    pub env_style: Option<EnvStyle>,
}

/// The process environment as config sees it (injectable for tests).
///
/// Its `Debug` output shows variable names only: values may be secrets.
#[derive(Clone)]
pub struct Environment {
    /// The environment variables (those that are valid Unicode).
    pub vars: BTreeMap<String, String>,
    /// The current directory (absolute).
    pub cwd: PathBuf,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let vars: BTreeMap<&str, Redacted> =
            self.vars.keys().map(|k| (k.as_str(), Redacted)).collect();
        f.debug_struct("Environment")
            .field("vars", &vars)
            .field("cwd", &self.cwd)
            .finish()
    }
}

impl Environment {
    /// Captures the variables and the current directory of this process. Variables whose
    /// name or value is not valid Unicode are skipped.
    pub fn from_process() -> std::io::Result<Self> {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Ok(Self {
            vars,
            cwd: std::env::current_dir()?,
        })
    }
}
