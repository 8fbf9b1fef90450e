//! One level of configuration (flags, environment, `.env`, a file table), parsed and
//! validated, with the origin of every value; and the merge of levels by precedence.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::error::{ConfigError, ValueOrigin};
use super::{EngineChoice, EnvStyle};
use crate::migrations::source::LayoutChoice;

/// The keys accepted in a configuration file table.
pub(crate) const KEYS: [&str; 14] = [
    "engine",
    "image",
    "env_style",
    "container",
    "port",
    "user",
    "database",
    "password",
    "migrations",
    "layout",
    "schema",
    "templates",
    "diagram",
    "labels",
];

/// The `PACKIT_DB_*` variables that are recognised (one for each key).
pub(crate) const KNOWN_ENV_VARS: [&str; 14] = [
    "PACKIT_DB_ENGINE",
    "PACKIT_DB_IMAGE",
    "PACKIT_DB_ENV_STYLE",
    "PACKIT_DB_CONTAINER",
    "PACKIT_DB_PORT",
    "PACKIT_DB_USER",
    "PACKIT_DB_DATABASE",
    "PACKIT_DB_PASSWORD",
    "PACKIT_DB_MIGRATIONS",
    "PACKIT_DB_LAYOUT",
    "PACKIT_DB_SCHEMA",
    "PACKIT_DB_TEMPLATES",
    "PACKIT_DB_DIAGRAM",
    "PACKIT_DB_LABELS",
];

/// `PACKIT_DB_*` variables read outside the configuration (not errors, not settings):
/// `PACKIT_DB_LOG` is the tracing filter, `PACKIT_DB_VERIFY` test-downgrade's verification mode.
pub(crate) const OTHER_ENV_VARS: [&str; 2] = ["PACKIT_DB_LOG", "PACKIT_DB_VERIFY"];

/// The prefix of packit-db's environment variables.
pub(crate) const ENV_PREFIX: &str = "PACKIT_DB_";

const EXPECTED_ENGINE: &str = "auto, docker or podman";
const EXPECTED_ENV_STYLE: &str = "official or sclorg";
const EXPECTED_LAYOUT: &str = "auto, sqlx or diesel";
const EXPECTED_PORT: &str = "0 to 65535 (0 picks a free port)";
pub(crate) const EXPECTED_CONTAINER: &str =
    "a container name: a letter or digit, then letters, digits, '_', '.' or '-'";
const EXPECTED_IDENT: &str = "a non-empty name of at most 63 bytes without NUL characters";
const EXPECTED_PASSWORD: &str = "a non-empty string without NUL characters";
pub(crate) const EXPECTED_IMAGE: &str = "an image reference such as docker.io/library/postgres:17";
const EXPECTED_PATH: &str = "a non-empty path";
const EXPECTED_SCHEMA_FILE: &str = "a path or an array of paths";
const EXPECTED_SCHEMA_ENV: &str = "paths separated by ','";
const EXPECTED_LABELS_FILE: &str = "a table of non-empty keys to string values";
const EXPECTED_LABELS_ENV: &str = "key=value pairs separated by ',' with non-empty keys";

/// A value and where it came from.
#[derive(Clone, Debug)]
pub(crate) struct Val<T> {
    pub(crate) value: T,
    pub(crate) origin: ValueOrigin,
}

impl<T> Val<T> {
    /// A value from `origin`.
    pub(crate) fn new(value: T, origin: &ValueOrigin) -> Self {
        Self {
            value,
            origin: origin.clone(),
        }
    }
}

/// One level of configuration: every field is optional; paths are already absolute.
#[derive(Clone, Debug, Default)]
pub(crate) struct Layer {
    pub(crate) engine: Option<Val<EngineChoice>>,
    pub(crate) image: Option<Val<String>>,
    pub(crate) env_style: Option<Val<EnvStyle>>,
    pub(crate) container: Option<Val<String>>,
    pub(crate) port: Option<Val<u16>>,
    pub(crate) user: Option<Val<String>>,
    pub(crate) database: Option<Val<String>>,
    pub(crate) password: Option<Val<String>>,
    pub(crate) migrations: Option<Val<PathBuf>>,
    pub(crate) layout: Option<Val<LayoutChoice>>,
    pub(crate) schema: Option<Val<Vec<PathBuf>>>,
    pub(crate) templates: Option<Val<PathBuf>>,
    pub(crate) diagram: Option<Val<PathBuf>>,
    /// Labels merge key by key across levels (a higher level wins for the same key).
    pub(crate) labels: BTreeMap<String, Val<String>>,
}

impl Layer {
    /// Fills every field that is unset here from `lower`.
    pub(crate) fn or(mut self, lower: Layer) -> Layer {
        self.engine = self.engine.or(lower.engine);
        self.image = self.image.or(lower.image);
        self.env_style = self.env_style.or(lower.env_style);
        self.container = self.container.or(lower.container);
        self.port = self.port.or(lower.port);
        self.user = self.user.or(lower.user);
        self.database = self.database.or(lower.database);
        self.password = self.password.or(lower.password);
        self.migrations = self.migrations.or(lower.migrations);
        self.layout = self.layout.or(lower.layout);
        self.schema = self.schema.or(lower.schema);
        self.templates = self.templates.or(lower.templates);
        self.diagram = self.diagram.or(lower.diagram);
        for (key, value) in lower.labels {
            self.labels.entry(key).or_insert(value);
        }
        self
    }

    /// Which level each set key came from (for debug logs; values are not shown).
    pub(crate) fn origins(&self) -> Vec<(String, &ValueOrigin)> {
        fn origin<T>(val: &Option<Val<T>>) -> Option<&ValueOrigin> {
            val.as_ref().map(|v| &v.origin)
        }
        let keys = [
            ("engine", origin(&self.engine)),
            ("image", origin(&self.image)),
            ("env_style", origin(&self.env_style)),
            ("container", origin(&self.container)),
            ("port", origin(&self.port)),
            ("user", origin(&self.user)),
            ("database", origin(&self.database)),
            ("password", origin(&self.password)),
            ("migrations", origin(&self.migrations)),
            ("layout", origin(&self.layout)),
            ("schema", origin(&self.schema)),
            ("templates", origin(&self.templates)),
            ("diagram", origin(&self.diagram)),
        ];
        let keys = keys
            .into_iter()
            .filter_map(|(key, origin)| Some((key.to_owned(), origin?)));
        let labels = (self.labels.iter()).map(|(k, v)| (format!("labels.{k}"), &v.origin));
        keys.chain(labels).collect()
    }

    /// Parses a file table (`[package.metadata.packit-db]`, `packit-db.toml`). Relative
    /// paths resolve against `base`.
    pub(crate) fn from_table(
        table: &serde_json::Map<String, Value>,
        origin: &ValueOrigin,
        base: &Path,
    ) -> Result<Layer, ConfigError> {
        let mut layer = Layer::default();
        for (key, value) in table {
            let Some(key) = KEYS.iter().copied().find(|k| k == key) else {
                return Err(ConfigError::UnknownKey {
                    key: key.clone(),
                    origin: origin.clone(),
                    suggestion: suggest(key, &KEYS).map(str::to_owned),
                });
            };
            let raw = Raw::Json(value);
            layer.set(key, raw, origin, base)?;
        }
        Ok(layer)
    }

    /// Parses `PACKIT_DB_*` variables from the process environment (`file` = `None`) or a
    /// `.env` file. Empty values count as unset; relative paths resolve against `base`.
    pub(crate) fn from_vars(
        vars: &BTreeMap<String, String>,
        file: Option<&Path>,
        base: &Path,
    ) -> Result<Layer, ConfigError> {
        let mut layer = Layer::default();
        for (name, value) in vars {
            let Some(suffix) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if OTHER_ENV_VARS.contains(&name.as_str()) {
                continue;
            }
            let lower = suffix.to_ascii_lowercase();
            let key = KEYS.iter().copied().find(|k| *k == lower);
            let Some(key) = key.filter(|_| suffix == suffix.to_ascii_uppercase()) else {
                return Err(ConfigError::UnknownVariable {
                    name: name.clone(),
                    file: file.map(Path::to_path_buf),
                    suggestion: suggest(&lower, &KEYS)
                        .map(|k| format!("{ENV_PREFIX}{}", k.to_ascii_uppercase())),
                });
            };
            if value.is_empty() {
                continue;
            }
            let origin = match file {
                Some(path) => ValueOrigin::DotEnv {
                    path: path.to_path_buf(),
                    var: name.clone(),
                },
                None => ValueOrigin::EnvVar(name.clone()),
            };
            layer.set(key, Raw::Text(value), &origin, base)?;
        }
        Ok(layer)
    }

    /// Parses and validates one value.
    fn set(
        &mut self,
        key: &'static str,
        raw: Raw<'_>,
        origin: &ValueOrigin,
        base: &Path,
    ) -> Result<(), ConfigError> {
        let ctx = Ctx { key, raw, origin };
        match key {
            "engine" => {
                let engine = ctx.parse_with(EXPECTED_ENGINE, parse_engine)?;
                self.engine = Some(Val::new(engine, origin));
            }
            "image" => {
                let image = ctx.string_with(EXPECTED_IMAGE, is_valid_image)?;
                self.image = Some(Val::new(image, origin));
            }
            "env_style" => {
                let style = ctx.parse_with(EXPECTED_ENV_STYLE, parse_env_style)?;
                self.env_style = Some(Val::new(style, origin));
            }
            "container" => {
                let name = ctx.string_with(EXPECTED_CONTAINER, is_valid_container_name)?;
                self.container = Some(Val::new(name, origin));
            }
            "port" => self.port = Some(Val::new(ctx.port()?, origin)),
            "user" => {
                let user = ctx.string_with(EXPECTED_IDENT, is_valid_ident)?;
                self.user = Some(Val::new(user, origin));
            }
            "database" => {
                let database = ctx.string_with(EXPECTED_IDENT, is_valid_ident)?;
                self.database = Some(Val::new(database, origin));
            }
            "password" => self.password = Some(Val::new(ctx.password()?, origin)),
            "migrations" => self.migrations = Some(Val::new(ctx.path(base)?, origin)),
            "layout" => {
                let layout = ctx.parse_with(EXPECTED_LAYOUT, parse_layout)?;
                self.layout = Some(Val::new(layout, origin));
            }
            "schema" => self.schema = Some(Val::new(ctx.schema(base)?, origin)),
            "templates" => self.templates = Some(Val::new(ctx.path(base)?, origin)),
            "diagram" => self.diagram = Some(Val::new(ctx.path(base)?, origin)),
            "labels" => {
                for (k, v) in ctx.labels()? {
                    self.labels.insert(k, Val::new(v, origin));
                }
            }
            _ => unreachable!("key {key} is in KEYS"),
        }
        Ok(())
    }
}

/// A raw value: from a file (JSON model of TOML) or from a variable (text).
#[derive(Clone, Copy)]
enum Raw<'a> {
    Json(&'a Value),
    Text(&'a str),
}

impl Raw<'_> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Raw::Json(Value::String(s)) => Some(s),
            Raw::Json(_) => None,
            Raw::Text(s) => Some(s),
        }
    }

    fn render(&self) -> String {
        match self {
            Raw::Json(value) => render_json(value),
            Raw::Text(s) => format!("{s:?}"),
        }
    }
}

/// Renders a file value for an error message, shortened when long.
pub(crate) fn render_json(value: &Value) -> String {
    let mut s = value.to_string();
    if s.chars().count() > 80 {
        s = s.chars().take(77).collect::<String>() + "...";
    }
    s
}

/// The context for parsing one value.
struct Ctx<'a> {
    key: &'static str,
    raw: Raw<'a>,
    origin: &'a ValueOrigin,
}

impl Ctx<'_> {
    fn invalid(&self, expected: &str) -> ConfigError {
        ConfigError::InvalidValue {
            key: self.key,
            origin: self.origin.clone(),
            value: Some(self.raw.render()),
            expected: expected.to_owned(),
        }
    }

    fn parse_with<T>(
        &self,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        self.raw
            .as_str()
            .and_then(parse)
            .ok_or_else(|| self.invalid(expected))
    }

    fn string_with(
        &self,
        expected: &str,
        valid: impl FnOnce(&str) -> bool,
    ) -> Result<String, ConfigError> {
        self.parse_with(expected, |s| valid(s).then(|| s.to_owned()))
    }

    fn port(&self) -> Result<u16, ConfigError> {
        let port = match self.raw {
            Raw::Json(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Raw::Json(_) => None,
            Raw::Text(s) => s.trim().parse::<u16>().ok(),
        };
        port.ok_or_else(|| self.invalid(EXPECTED_PORT))
    }

    fn password(&self) -> Result<String, ConfigError> {
        match self.raw.as_str() {
            Some(s) if is_valid_password(s) => Ok(s.to_owned()),
            _ => Err(ConfigError::InvalidValue {
                key: self.key,
                origin: self.origin.clone(),
                value: None,
                expected: EXPECTED_PASSWORD.to_owned(),
            }),
        }
    }

    fn path(&self, base: &Path) -> Result<PathBuf, ConfigError> {
        self.parse_with(EXPECTED_PATH, |s| {
            (!s.trim().is_empty()).then(|| resolve(base, s))
        })
    }

    fn schema(&self, base: &Path) -> Result<Vec<PathBuf>, ConfigError> {
        match self.raw {
            Raw::Json(Value::String(s)) if !s.trim().is_empty() => Ok(vec![resolve(base, s)]),
            Raw::Json(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) if !s.trim().is_empty() => Ok(resolve(base, s)),
                    _ => Err(self.invalid(EXPECTED_SCHEMA_FILE)),
                })
                .collect(),
            Raw::Json(_) => Err(self.invalid(EXPECTED_SCHEMA_FILE)),
            Raw::Text(s) => {
                let paths: Vec<PathBuf> = s
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| resolve(base, p))
                    .collect();
                if paths.is_empty() {
                    Err(self.invalid(EXPECTED_SCHEMA_ENV))
                } else {
                    Ok(paths)
                }
            }
        }
    }

    fn labels(&self) -> Result<BTreeMap<String, String>, ConfigError> {
        let mut labels = BTreeMap::new();
        match self.raw {
            Raw::Json(Value::Object(map)) => {
                for (k, v) in map {
                    match v {
                        Value::String(v) if !k.trim().is_empty() => {
                            labels.insert(k.clone(), v.clone());
                        }
                        _ => return Err(self.invalid(EXPECTED_LABELS_FILE)),
                    }
                }
            }
            Raw::Json(_) => return Err(self.invalid(EXPECTED_LABELS_FILE)),
            Raw::Text(s) => {
                for pair in s.split(',').filter(|p| !p.trim().is_empty()) {
                    match pair.split_once('=') {
                        Some((k, v)) if !k.trim().is_empty() => {
                            labels.insert(k.trim().to_owned(), v.trim().to_owned());
                        }
                        _ => return Err(self.invalid(EXPECTED_LABELS_ENV)),
                    }
                }
            }
        }
        Ok(labels)
    }
}

fn parse_engine(s: &str) -> Option<EngineChoice> {
    match s.trim().to_ascii_lowercase().as_str() {
        "auto" => Some(EngineChoice::Auto),
        "docker" => Some(EngineChoice::Docker),
        "podman" => Some(EngineChoice::Podman),
        _ => None,
    }
}

fn parse_env_style(s: &str) -> Option<EnvStyle> {
    match s.trim().to_ascii_lowercase().as_str() {
        "official" => Some(EnvStyle::Official),
        "sclorg" => Some(EnvStyle::Sclorg),
        _ => None,
    }
}

fn parse_layout(s: &str) -> Option<LayoutChoice> {
    match s.trim().to_ascii_lowercase().as_str() {
        "auto" => Some(LayoutChoice::Auto),
        "sqlx" => Some(LayoutChoice::Sqlx),
        "diesel" => Some(LayoutChoice::Diesel),
        _ => None,
    }
}

/// Docker's rule for container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub(crate) fn is_valid_container_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A PostgreSQL role or database name: non-empty, at most 63 bytes, no NUL.
pub(crate) fn is_valid_ident(s: &str) -> bool {
    !s.is_empty() && s.len() <= 63 && !s.contains('\0')
}

/// A password: non-empty, no NUL.
pub(crate) fn is_valid_password(s: &str) -> bool {
    !s.is_empty() && !s.contains('\0')
}

/// An image reference: non-empty, without whitespace or control characters.
pub(crate) fn is_valid_image(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Resolves `path` against `base` unless it is absolute, dropping `.` components.
pub(crate) fn resolve(base: &Path, path: &str) -> PathBuf {
    let path = Path::new(path.trim());
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    joined
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// The closest candidate to `word` when it is at most 2 edits away. An edit is an insertion,
/// a deletion, a substitution or a swap of two adjacent characters (optimal string
/// alignment), so `layuot` is one edit from `layout`.
pub(crate) fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (strsim::osa_distance(&word, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
