//! Reading the configuration sources: Cargo metadata (through `cargo metadata`),
//! `packit-db.toml`, and the nearest `.env` file.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::{ConfigError, ValueOrigin};
use super::layer::{render_json, Layer};
use super::ConfigSource;

/// The name of the stand-alone configuration file used outside Cargo projects.
pub(crate) const CONFIG_FILE: &str = "packit-db.toml";

/// What the file-level configuration yields.
#[derive(Debug)]
pub(crate) struct FileConfig {
    /// The project's name: the Cargo package's, else the directory's.
    pub(crate) project: String,
    /// The workspace root or the current directory.
    pub(crate) project_dir: PathBuf,
    /// Where the configuration came from.
    pub(crate) source: ConfigSource,
    /// Package keys over workspace keys (or the `packit-db.toml` keys).
    pub(crate) layer: Layer,
}

/// Reads the file configuration: Cargo metadata when there is a Cargo project (or
/// `manifest_path` is given), else `packit-db.toml` in `cwd`, else nothing.
pub(crate) fn file_config(
    cwd: &Path,
    manifest_path: Option<&Path>,
) -> Result<FileConfig, ConfigError> {
    let manifest = match manifest_path {
        Some(path) => {
            let path = cwd.join(path);
            Some(if path.is_dir() {
                path.join("Cargo.toml")
            } else {
                path
            })
        }
        None => find_upwards(cwd, "Cargo.toml"),
    };
    if let Some(manifest) = manifest {
        return cargo_config(cwd, &manifest, manifest_path.is_some());
    }
    let project = dir_name(cwd);
    let path = cwd.join(CONFIG_FILE);
    if path.is_file() {
        let layer = read_config_file(&path, cwd)?;
        return Ok(FileConfig {
            project,
            project_dir: cwd.to_path_buf(),
            source: ConfigSource::File { path },
            layer,
        });
    }
    Ok(FileConfig {
        project,
        project_dir: cwd.to_path_buf(),
        source: ConfigSource::Defaults,
        layer: Layer::default(),
    })
}

/// Runs `cargo metadata --no-deps` and reads the workspace and root package tables.
fn cargo_config(cwd: &Path, manifest: &Path, explicit: bool) -> Result<FileConfig, ConfigError> {
    let mut command = cargo_metadata::MetadataCommand::new();
    command.no_deps().current_dir(cwd);
    if explicit {
        command.manifest_path(manifest);
    }
    let metadata = command.exec().map_err(|error| ConfigError::CargoMetadata {
        manifest: manifest.to_path_buf(),
        message: cargo_message(&error),
    })?;
    let workspace_root = metadata.workspace_root.clone().into_std_path_buf();
    let root_manifest = workspace_root.join("Cargo.toml");

    let mut layer = Layer::default();
    if let Some(value) = metadata.workspace_metadata.get("packit-db") {
        let origin = ValueOrigin::File {
            path: root_manifest.clone(),
            table: Some("[workspace.metadata.packit-db]".to_owned()),
        };
        layer = Layer::from_table(as_table(value, &origin)?, &origin, &workspace_root)?;
    }
    let root = metadata.root_package();
    if let Some(package) = root {
        if let Some(value) = package.metadata.get("packit-db") {
            let path = package.manifest_path.clone().into_std_path_buf();
            let base = path.parent().unwrap_or(&workspace_root).to_path_buf();
            let origin = ValueOrigin::File {
                path,
                table: Some("[package.metadata.packit-db]".to_owned()),
            };
            let package_layer = Layer::from_table(as_table(value, &origin)?, &origin, &base)?;
            layer = package_layer.or(layer);
        }
    }
    let project = match root {
        Some(package) => package.name.to_string(),
        None => dir_name(&workspace_root),
    };
    tracing::debug!("cargo project {project} at {}", workspace_root.display());
    Ok(FileConfig {
        project,
        project_dir: workspace_root,
        source: ConfigSource::Cargo {
            manifest: root_manifest,
        },
        layer,
    })
}

fn as_table<'a>(
    value: &'a Value,
    origin: &ValueOrigin,
) -> Result<&'a serde_json::Map<String, Value>, ConfigError> {
    value.as_object().ok_or_else(|| ConfigError::NotATable {
        origin: origin.clone(),
        found: render_json(value),
    })
}

/// Cargo's error on one line, without the excerpts of the manifest it may quote (which
/// could contain a password).
fn cargo_message(error: &cargo_metadata::Error) -> String {
    let text = match error {
        cargo_metadata::Error::CargoMetadata { stderr } => stderr.clone(),
        other => other.to_string(),
    };
    one_line(&text)
}

/// Joins the meaningful lines of a multi-line diagnostic with `": "`.
pub(crate) fn one_line(text: &str) -> String {
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !is_excerpt(line) && *line != "Caused by:")
        .map(|line| line.strip_prefix("error: ").unwrap_or(line))
        .collect();
    if parts.is_empty() {
        "cargo metadata failed without a message".to_owned()
    } else {
        parts.join(": ")
    }
}

/// Lines such as `|`, `8 | password = "...`, `| ^^^` in rustc/cargo-style diagnostics.
fn is_excerpt(line: &str) -> bool {
    let rest = line
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start();
    rest.starts_with('|') || line.starts_with("-->") || line == "..."
}

/// Reads `packit-db.toml` (keys at the top level; paths relative to `base`).
fn read_config_file(path: &Path, base: &Path) -> Result<Layer, ConfigError> {
    let text = fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|error| {
        let offset = error.span().map_or(0, |span| span.start);
        let (line, column) = line_column(&text, offset);
        ConfigError::Toml {
            path: path.to_path_buf(),
            line,
            column,
            message: one_line(error.message()),
        }
    })?;
    let value = serde_json::to_value(&table).map_err(|error| ConfigError::Toml {
        path: path.to_path_buf(),
        line: 1,
        column: 1,
        message: error.to_string(),
    })?;
    let origin = ValueOrigin::File {
        path: path.to_path_buf(),
        table: None,
    };
    let table = as_table(&value, &origin)?;
    Layer::from_table(table, &origin, base)
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// A `.env` file and its variables.
pub(crate) type DotEnv = (PathBuf, BTreeMap<String, String>);

/// The variables of the first `.env` file found walking up from `cwd`, with that file.
/// The first assignment of a variable wins (as with `dotenvy::dotenv`).
pub(crate) fn read_dotenv(cwd: &Path) -> Result<Option<DotEnv>, ConfigError> {
    let Some(path) = find_upwards(cwd, ".env") else {
        return Ok(None);
    };
    let bytes = fs::read(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut vars = BTreeMap::new();
    for item in dotenvy::from_read_iter(bytes) {
        match item {
            Ok((key, value)) => {
                vars.entry(key).or_insert(value);
            }
            Err(dotenvy::Error::LineParse(entry, _)) => {
                let text = String::from_utf8_lossy(bytes);
                return Err(ConfigError::DotEnv {
                    line: entry_line(&text, &entry),
                    path,
                });
            }
            Err(dotenvy::Error::Io(source)) => return Err(ConfigError::Read { path, source }),
            Err(other) => {
                return Err(ConfigError::Read {
                    path,
                    source: std::io::Error::other(other.to_string()),
                })
            }
        }
    }
    tracing::debug!("read {} variables from {}", vars.len(), path.display());
    Ok(Some((path, vars)))
}

/// The 1-based line where the malformed logical entry `entry` starts in `text`.
fn entry_line(text: &str, entry: &str) -> usize {
    let entry = entry.trim_end_matches(['\n', '\r']);
    let mut start = 0;
    for (index, line) in text.split('\n').enumerate() {
        if text[start..].starts_with(entry) && !line.trim().is_empty() {
            return index + 1;
        }
        start += line.len() + 1;
    }
    1
}

/// The first `name` found in `dir` or one of its parents.
fn find_upwards(dir: &Path, name: &str) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(name))
        .find(|candidate| candidate.is_file())
}

/// The last component of `dir`, or `project` for a root directory.
pub(crate) fn dir_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "project".to_owned())
}
