//! One level of configuration (flags, environment, `.env`, a file table), parsed and
//! validated, with the origin of every value; and the merge of levels by precedence.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::error::{ConfigError, ValueOrigin};
use super::{EngineChoice, EnvStyle};
use crate::migrations::source::LayoutChoice;

/// Declares the configuration keys. Each row gives the key (its name in files and its field
/// in [`Layer`]), the type of its value, its environment variable, and the [`Ctx`] method
/// that parses and validates a raw value. `single` keys hold one value, taken from the
/// highest level that sets it; `by_entry` keys hold a table merged entry by entry (a higher
/// level wins for the same entry). From the rows come [`Layer`], [`Layer::or`],
/// [`Layer::origins`], `Layer::set`, [`KEYS`] and [`KNOWN_ENV_VARS`].
macro_rules! config_keys {
    (
        single {
            $($key:ident: $ty:ty, $var:literal, $parse:ident($($arg:expr),*);)+
        }
        by_entry {
            $($map_key:ident: $map_ty:ty, $map_var:literal, $map_parse:ident($($map_arg:expr),*);)+
        }
    ) => {
        /// The keys accepted in a configuration file table, in the order messages list them.
        pub(crate) const KEYS: &[&str] = &[$(stringify!($key),)+ $(stringify!($map_key),)+];

        /// The `PACKIT_DB_*` variables that are recognised: one for each of [`KEYS`], in the
        /// same order.
        pub(crate) const KNOWN_ENV_VARS: &[&str] = &[$($var,)+ $($map_var,)+];

        /// One level of configuration: every field is optional; paths are already absolute.
        #[derive(Clone, Debug, Default)]
        pub(crate) struct Layer {
            $(pub(crate) $key: Option<Val<$ty>>,)+
            $(pub(crate) $map_key: BTreeMap<String, Val<$map_ty>>,)+
        }

        impl Layer {
            /// Fills every field that is unset here from `lower`.
            pub(crate) fn or(mut self, lower: Layer) -> Layer {
                $(self.$key = self.$key.or(lower.$key);)+
                $(for (entry, value) in lower.$map_key {
                    self.$map_key.entry(entry).or_insert(value);
                })+
                self
            }

            /// Which level each set key came from (for debug logs; values are not shown).
            pub(crate) fn origins(&self) -> Vec<(String, &ValueOrigin)> {
                let mut origins = Vec::new();
                $(if let Some(val) = &self.$key {
                    origins.push((stringify!($key).to_owned(), &val.origin));
                })+
                $(for (entry, val) in &self.$map_key {
                    origins.push((format!("{}.{entry}", stringify!($map_key)), &val.origin));
                })+
                origins
            }

            /// Parses and validates one value of `key` (one of [`KEYS`]). Relative paths
            /// resolve against `base`.
            fn set(
                &mut self,
                key: &'static str,
                raw: Raw<'_>,
                origin: &ValueOrigin,
                base: &Path,
            ) -> Result<(), ConfigError> {
                let ctx = Ctx { key, raw, origin, base };
                match key {
                    $(stringify!($key) => {
                        let value = ctx.$parse($($arg),*)?;
                        self.$key = Some(Val::new(value, origin));
                    })+
                    $(stringify!($map_key) => {
                        for (entry, value) in ctx.$map_parse($($map_arg),*)? {
                            self.$map_key.insert(entry, Val::new(value, origin));
                        }
                    })+
                    _ => unreachable!("key {key} is in KEYS"),
                }
                Ok(())
            }
        }
    };
}

config_keys! {
    // key:     value type,   variable,               `Ctx` method that parses a raw value
    single {
        engine:     EngineChoice, "PACKIT_DB_ENGINE",     parse_with(EXPECTED_ENGINE, parse_engine);
        image:      String,       "PACKIT_DB_IMAGE",      string_with(EXPECTED_IMAGE, is_valid_image);
        env_style:  EnvStyle,     "PACKIT_DB_ENV_STYLE",  parse_with(EXPECTED_ENV_STYLE, parse_env_style);
        container:  String,       "PACKIT_DB_CONTAINER",  string_with(EXPECTED_CONTAINER, is_valid_container_name);
        port:       u16,          "PACKIT_DB_PORT",       port();
        user:       String,       "PACKIT_DB_USER",       string_with(EXPECTED_IDENT, is_valid_ident);
        database:   String,       "PACKIT_DB_DATABASE",   string_with(EXPECTED_IDENT, is_valid_ident);
        password:   String,       "PACKIT_DB_PASSWORD",   password();
        migrations: PathBuf,      "PACKIT_DB_MIGRATIONS", path();
        layout:     LayoutChoice, "PACKIT_DB_LAYOUT",     parse_with(EXPECTED_LAYOUT, parse_layout);
        schema:     Vec<PathBuf>, "PACKIT_DB_SCHEMA",     schema();
        templates:  PathBuf,      "PACKIT_DB_TEMPLATES",  path();
        diagram:    PathBuf,      "PACKIT_DB_DIAGRAM",    path();
    }
    // The value type is the type of each entry.
    by_entry {
        labels:     String,       "PACKIT_DB_LABELS",     labels();
    }
}

/// The environment variable of `key`, when it is one of [`KEYS`].
pub(crate) fn env_var(key: &str) -> Option<&'static str> {
    KEYS.iter()
        .position(|k| *k == key)
        .map(|i| KNOWN_ENV_VARS[i])
}

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

impl Layer {
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
                    suggestion: suggest(key, KEYS).map(str::to_owned),
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
            let known = KNOWN_ENV_VARS.iter().position(|var| var == name);
            let Some(key) = known.map(|i| KEYS[i]) else {
                // Suggest the variable of the key closest to the part after the prefix.
                let closest = suggest(&suffix.to_ascii_lowercase(), KEYS);
                return Err(ConfigError::UnknownVariable {
                    name: name.clone(),
                    file: file.map(Path::to_path_buf),
                    suggestion: closest.and_then(env_var).map(str::to_owned),
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
    /// The directory relative paths resolve against.
    base: &'a Path,
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

    fn path(&self) -> Result<PathBuf, ConfigError> {
        self.parse_with(EXPECTED_PATH, |s| {
            (!s.trim().is_empty()).then(|| resolve(self.base, s))
        })
    }

    fn schema(&self) -> Result<Vec<PathBuf>, ConfigError> {
        let base = self.base;
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
