//! Building the [`Config`]: reading every level, merging by precedence, applying defaults.

use std::collections::BTreeMap;
use std::path::Path;

use super::database_url;
use super::error::{ConfigError, ValueOrigin};
use super::image::{is_sclorg_image, normalize_image};
use super::layer::{
    is_valid_container_name, is_valid_image, Layer, Val, EXPECTED_CONTAINER, EXPECTED_IMAGE,
};
use super::sources::{file_config, read_dotenv};
use super::{Config, EngineChoice, EngineEnv, EnvStyle, Environment, Overrides};
use crate::migrations::source::LayoutChoice;

/// The default image.
pub(crate) const DEFAULT_IMAGE: &str = "docker.io/library/postgres:17";
/// The default migrations directory, relative to the project directory.
pub(crate) const DEFAULT_MIGRATIONS: &str = "migrations";
/// The default diagram file, relative to the project directory.
pub(crate) const DEFAULT_DIAGRAM: &str = "docs/database/diagram.mmd";

/// Builds the configuration from flags, the environment, the nearest `.env`, the file
/// configuration and defaults, in that order of precedence.
///
/// Relative paths resolve against the file that set them (the manifest's directory,
/// `packit-db.toml`'s directory, the `.env` file's directory) or, for process environment
/// variables, against `env.cwd`.
pub fn load(env: &Environment, overrides: &Overrides) -> Result<Config, ConfigError> {
    let cwd = env.cwd.as_path();

    let flags = flags_layer(overrides)?;
    let process = Layer::from_vars(&env.vars, None, cwd)?;
    let process_url = url_layer(&env.vars, None);

    // A variable set in the process environment shadows the same variable in `.env`.
    let dotenv = read_dotenv(cwd)?;
    let mut dotenv_vars = BTreeMap::new();
    let (dotenv_layer, dotenv_url) = match &dotenv {
        Some((path, vars)) => {
            dotenv_vars = vars
                .iter()
                .filter(|(name, _)| !env.vars.contains_key(*name))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            let base = path.parent().unwrap_or(cwd);
            (
                Layer::from_vars(&dotenv_vars, Some(path), base)?,
                url_layer(&dotenv_vars, Some(path)),
            )
        }
        None => (Layer::default(), Layer::default()),
    };

    let file = file_config(cwd, overrides.manifest_path.as_deref())?;
    tracing::debug!("configuration file source: {:?}", file.source);

    let merged = flags
        .or(process)
        .or(process_url)
        .or(dotenv_layer)
        .or(dotenv_url)
        .or(file.layer);
    for (key, origin) in merged.origins() {
        tracing::debug!("{key} set in {origin}");
    }

    let var = |name: &str| {
        env.vars
            .get(name)
            .or_else(|| dotenv_vars.get(name))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let engine_env = EngineEnv {
        docker_host: var("DOCKER_HOST"),
        container_host: var("CONTAINER_HOST"),
        xdg_runtime_dir: var("XDG_RUNTIME_DIR").map(Into::into),
    };

    let image = merged
        .image
        .map_or_else(|| DEFAULT_IMAGE.to_owned(), |v| normalize_image(&v.value));
    let env_style = match merged.env_style {
        Some(v) => v.value,
        None if is_sclorg_image(&image) => EnvStyle::Sclorg,
        None => EnvStyle::Official,
    };
    let project_dir = file.project_dir;
    let ident = default_ident(&file.project);
    let config = Config {
        engine: value_or(merged.engine, EngineChoice::Auto),
        env_style,
        container: merged
            .container
            .map_or_else(|| default_container(&file.project), |v| v.value),
        port: value_or(merged.port, 0),
        user: merged.user.map_or_else(|| ident.clone(), |v| v.value),
        database: merged.database.map_or(ident, |v| v.value),
        password: merged.password.map(|v| v.value),
        migrations: merged
            .migrations
            .map_or_else(|| project_dir.join(DEFAULT_MIGRATIONS), |v| v.value),
        layout: value_or(merged.layout, LayoutChoice::Auto),
        schema: merged.schema.map(|v| v.value).unwrap_or_default(),
        templates: merged.templates.map(|v| v.value),
        diagram: merged
            .diagram
            .map_or_else(|| project_dir.join(DEFAULT_DIAGRAM), |v| v.value),
        labels: merged
            .labels
            .into_iter()
            .map(|(k, v)| (k, v.value))
            .collect(),
        engine_env,
        image,
        project: file.project,
        project_dir,
        source: file.source,
    };
    Ok(config)
}

fn value_or<T>(val: Option<Val<T>>, default: T) -> T {
    val.map_or(default, |v| v.value)
}

/// The layer a non-empty `DATABASE_URL` in `vars` contributes.
fn url_layer(vars: &BTreeMap<String, String>, file: Option<&Path>) -> Layer {
    match vars.get("DATABASE_URL") {
        Some(url) if !url.trim().is_empty() => database_url::layer(url, file),
        _ => Layer::default(),
    }
}

/// The layer of command-line flags, validated like the other levels.
fn flags_layer(overrides: &Overrides) -> Result<Layer, ConfigError> {
    let flag = |name| ValueOrigin::Flag(name);
    if let Some(image) = &overrides.image {
        if !is_valid_image(image) {
            return Err(ConfigError::InvalidValue {
                key: "image",
                origin: ValueOrigin::Flag("--image"),
                value: Some(format!("{image:?}")),
                expected: EXPECTED_IMAGE.to_owned(),
            });
        }
    }
    if let Some(container) = &overrides.container {
        if !is_valid_container_name(container) {
            return Err(ConfigError::InvalidValue {
                key: "container",
                origin: ValueOrigin::Flag("--container"),
                value: Some(format!("{container:?}")),
                expected: EXPECTED_CONTAINER.to_owned(),
            });
        }
    }
    Ok(Layer {
        engine: overrides.engine.map(|v| Val::new(v, &flag("--engine"))),
        image: overrides
            .image
            .clone()
            .map(|v| Val::new(v, &flag("--image"))),
        container: (overrides.container.clone()).map(|v| Val::new(v, &flag("--container"))),
        port: overrides.port.map(|v| Val::new(v, &flag("--port"))),
        env_style: overrides
            .env_style
            .map(|v| Val::new(v, &flag("--env-style"))),
        ..Layer::default()
    })
}

/// The project name as a container-name prefix: lowercase, characters Docker does not
/// accept replaced by `-`, trimmed to start and end with a letter or digit.
pub(crate) fn project_slug(project: &str) -> String {
    let slug: String = project
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    slug.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

/// `<project-slug>-packit-db`.
fn default_container(project: &str) -> String {
    let slug = project_slug(project);
    if slug.is_empty() {
        "packit-db".to_owned()
    } else {
        format!("{slug}-packit-db")
    }
}

/// The project name as a role/database name: characters outside `[A-Za-z0-9_]` replaced by
/// `_`, lowercased, at most 63 bytes; `postgres` when nothing is left.
pub(crate) fn default_ident(project: &str) -> String {
    let ident: String = project
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(63)
        .collect();
    if ident.is_empty() {
        "postgres".to_owned()
    } else {
        ident
    }
}
