//! Templates for new migration files (`migrate new`).
//!
//! The built-in templates live in `templates/` at the repository root and are embedded in the
//! binary. A project can override any of them with its own folder (the `templates` key): a
//! directory holding `up.sql`, `down.sql` and/or `simple.sql`; a missing file falls back to the
//! built-in one.
//!
//! A template is plain text with placeholders written `{{name}}` on one line (spaces inside
//! the braces are allowed). The known names are `message`, `version`, `created`, `up_file` and
//! `down_file` (`simple.sql` has no `down_file`). `{{` always opens a placeholder: an unknown
//! name or an unclosed `{{` is an error that names the template file, the line and the column.
//! Values are inserted once (a value containing `{{` is not expanded again), and their line
//! breaks are replaced by spaces so that a value placed in a `--` comment stays in it.
//!
//! No template may produce a file whose first line starts with `-- no-transaction`: sqlx reads
//! that line as a flag that runs the migration outside a transaction, which is added by hand to
//! the one migration that needs it, never to every new migration.

use std::borrow::Cow;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::migrations::source::no_transaction;

/// The built-in template of the up file of a reversible migration.
const BUILTIN_UP: &str = include_str!("../../templates/up.sql");
/// The built-in template of the down file of a reversible migration.
const BUILTIN_DOWN: &str = include_str!("../../templates/down.sql");
/// The built-in template of a simple (irreversible) migration.
const BUILTIN_SIMPLE: &str = include_str!("../../templates/simple.sql");

/// Placeholders of the up and down templates.
const REVERSIBLE_PLACEHOLDERS: &[&str] = &["message", "version", "created", "up_file", "down_file"];
/// Placeholders of the simple template (it has no down file).
const SIMPLE_PLACEHOLDERS: &[&str] = &["message", "version", "created", "up_file"];

/// The values a template is rendered with.
#[derive(Clone, Copy, Debug)]
pub struct TemplateVars<'a> {
    /// The message given to `migrate new`.
    pub message: &'a str,
    /// The version of the new migration, such as `20260101090000`.
    pub version: &'a str,
    /// The creation time, RFC 3339 in UTC.
    pub created: &'a str,
    /// The up file (or the single file of a simple migration), relative to the migrations
    /// folder.
    pub up_file: &'a str,
    /// The down file, relative to the migrations folder; `None` for a simple migration.
    pub down_file: Option<&'a str>,
}

impl TemplateVars<'_> {
    /// The value of the placeholder `name`, `None` when it has none (`down_file` of a simple
    /// migration) or is unknown.
    fn get(&self, name: &str) -> Option<&str> {
        match name {
            "message" => Some(self.message),
            "version" => Some(self.version),
            "created" => Some(self.created),
            "up_file" => Some(self.up_file),
            "down_file" => self.down_file,
            _ => None,
        }
    }
}

/// Which file a template produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateKind {
    /// The up file of a reversible migration (`up.sql`).
    Up,
    /// The down file of a reversible migration (`down.sql`).
    Down,
    /// The single file of a simple, irreversible migration (`simple.sql`).
    Simple,
}

impl TemplateKind {
    /// Every kind, in the order up, down, simple.
    pub const ALL: [TemplateKind; 3] = [TemplateKind::Up, TemplateKind::Down, TemplateKind::Simple];

    /// The template's file name, in `templates/` and in an override folder.
    pub fn file_name(self) -> &'static str {
        match self {
            TemplateKind::Up => "up.sql",
            TemplateKind::Down => "down.sql",
            TemplateKind::Simple => "simple.sql",
        }
    }

    /// The placeholders this kind of template may use.
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            TemplateKind::Up | TemplateKind::Down => REVERSIBLE_PLACEHOLDERS,
            TemplateKind::Simple => SIMPLE_PLACEHOLDERS,
        }
    }

    /// The built-in template text.
    fn builtin_text(self) -> &'static str {
        match self {
            TemplateKind::Up => BUILTIN_UP,
            TemplateKind::Down => BUILTIN_DOWN,
            TemplateKind::Simple => BUILTIN_SIMPLE,
        }
    }
}

/// Where a template came from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    /// Embedded in the binary.
    BuiltIn,
    /// A file of the project's override folder.
    File(PathBuf),
}

/// One template: its text and where it came from.
#[derive(Clone, Debug)]
struct Template {
    kind: TemplateKind,
    text: Cow<'static, str>,
    origin: Origin,
}

impl Template {
    /// The built-in template of `kind`.
    fn builtin(kind: TemplateKind) -> Template {
        Template {
            kind,
            text: Cow::Borrowed(kind.builtin_text()),
            origin: Origin::BuiltIn,
        }
    }

    /// How error messages name this template.
    fn describe(&self) -> String {
        match &self.origin {
            Origin::BuiltIn => format!("built-in template {}", self.kind.file_name()),
            Origin::File(path) => format!("template {}", path.display()),
        }
    }

    /// Splits the text into literal text and placeholders, checking every placeholder name.
    fn parse(&self) -> Result<Vec<Segment<'_>>, TemplateError> {
        let known = self.kind.placeholders();
        let mut segments = Vec::new();
        for (index, line) in self.text.split_inclusive('\n').enumerate() {
            let mut rest = line;
            let mut consumed = 0;
            while let Some(open) = rest.find("{{") {
                let column = line[..consumed + open].chars().count() + 1;
                let after = &rest[open + 2..];
                let Some(close) = after.find("}}") else {
                    return Err(TemplateError::Unclosed {
                        template: self.describe(),
                        line: index + 1,
                        column,
                        known: list_known(known),
                    });
                };
                let name = after[..close].trim();
                if !known.contains(&name) {
                    return Err(TemplateError::UnknownPlaceholder {
                        template: self.describe(),
                        line: index + 1,
                        column,
                        name: name.to_owned(),
                        known: list_known(known),
                    });
                }
                segments.push(Segment::Literal(&rest[..open]));
                segments.push(Segment::Placeholder {
                    name,
                    line: index + 1,
                });
                let used = open + 2 + close + 2;
                rest = &rest[used..];
                consumed += used;
            }
            segments.push(Segment::Literal(rest));
        }
        Ok(segments)
    }

    /// Checks the template as loaded: placeholders, not empty, no `-- no-transaction` line.
    fn validate(&self) -> Result<(), TemplateError> {
        self.parse()?;
        if self.text.trim().is_empty() {
            return Err(TemplateError::Empty {
                template: self.describe(),
            });
        }
        if no_transaction(&self.text) {
            return Err(TemplateError::NoTransaction {
                template: self.describe(),
            });
        }
        Ok(())
    }

    /// Renders the template with `vars`.
    fn render(&self, vars: &TemplateVars<'_>) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(self.text.len() + 256);
        for segment in self.parse()? {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Placeholder { name, line } => {
                    let value = vars.get(name).ok_or_else(|| TemplateError::MissingValue {
                        template: self.describe(),
                        line,
                        name: name.to_owned(),
                    })?;
                    push_single_line(&mut out, value);
                }
            }
        }
        if no_transaction(&out) {
            return Err(TemplateError::NoTransaction {
                template: self.describe(),
            });
        }
        Ok(out)
    }
}

/// A piece of a parsed template.
#[derive(Debug)]
enum Segment<'t> {
    /// Text copied as is.
    Literal(&'t str),
    /// A known placeholder and its 1-based line.
    Placeholder { name: &'t str, line: usize },
}

/// Appends `value` with each line break (`\r\n`, `\n`, `\r`) replaced by one space.
fn push_single_line(out: &mut String, value: &str) {
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push(' ');
            }
            '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
}

/// `{{message}}, {{version}}, ...` for error messages.
fn list_known(known: &[&str]) -> String {
    known
        .iter()
        .map(|name| format!("{{{{{name}}}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The three templates `migrate new` writes from, each built-in or from the project's folder.
#[derive(Clone, Debug)]
pub struct Templates {
    up: Template,
    down: Template,
    simple: Template,
}

impl Templates {
    /// The templates embedded in the binary.
    pub fn builtin() -> Templates {
        Templates {
            up: Template::builtin(TemplateKind::Up),
            down: Template::builtin(TemplateKind::Down),
            simple: Template::builtin(TemplateKind::Simple),
        }
    }

    /// Loads the templates: the built-in ones when `dir` is `None`; otherwise each of
    /// `up.sql`, `down.sql` and `simple.sql` found in `dir` replaces the built-in one. Every
    /// override file is checked now, so that a bad placeholder is reported before any
    /// migration is written.
    pub fn load(dir: Option<&Path>) -> Result<Templates, TemplateError> {
        let mut templates = Templates::builtin();
        let Some(dir) = dir else {
            return Ok(templates);
        };
        match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(TemplateError::NotADirectory {
                    dir: dir.to_owned(),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(TemplateError::MissingDirectory {
                    dir: dir.to_owned(),
                })
            }
            Err(source) => {
                return Err(TemplateError::ReadDirectory {
                    dir: dir.to_owned(),
                    source,
                })
            }
        }
        for kind in TemplateKind::ALL {
            let path = dir.join(kind.file_name());
            let bytes = match fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => return Err(TemplateError::Read { path, source }),
            };
            let text = String::from_utf8(bytes).map_err(|e| TemplateError::NotUtf8 {
                offset: e.utf8_error().valid_up_to(),
                path: path.clone(),
            })?;
            let template = Template {
                kind,
                text: Cow::Owned(text),
                origin: Origin::File(path),
            };
            template.validate()?;
            *templates.get_mut(kind) = template;
        }
        Ok(templates)
    }

    /// Renders the template of `kind` with `vars`.
    pub fn render(&self, kind: TemplateKind, vars: &TemplateVars) -> Result<String, TemplateError> {
        self.get(kind).render(vars)
    }

    /// Where the template of `kind` comes from: `built-in`, or the path of the override file.
    pub fn origin(&self, kind: TemplateKind) -> String {
        match &self.get(kind).origin {
            Origin::BuiltIn => "built-in".to_owned(),
            Origin::File(path) => path.display().to_string(),
        }
    }

    /// The unrendered text of the template of `kind`.
    pub fn source(&self, kind: TemplateKind) -> &str {
        &self.get(kind).text
    }

    fn get(&self, kind: TemplateKind) -> &Template {
        match kind {
            TemplateKind::Up => &self.up,
            TemplateKind::Down => &self.down,
            TemplateKind::Simple => &self.simple,
        }
    }

    fn get_mut(&mut self, kind: TemplateKind) -> &mut Template {
        match kind {
            TemplateKind::Up => &mut self.up,
            TemplateKind::Down => &mut self.down,
            TemplateKind::Simple => &mut self.simple,
        }
    }
}

impl fmt::Display for TemplateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

/// A template folder or file that cannot be used.
// The variants' fields are named for what they hold: a doc comment on each would restate the name.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The configured folder does not exist.
    #[error("templates folder {} does not exist (set by the `templates` key); create it with up.sql, down.sql or simple.sql, or remove the key to use the built-in templates", .dir.display())]
    MissingDirectory { dir: PathBuf },
    /// The configured path is not a directory.
    #[error("templates folder {} is not a directory (set by the `templates` key); point the key at a directory holding up.sql, down.sql or simple.sql", .dir.display())]
    NotADirectory { dir: PathBuf },
    /// The configured folder could not be inspected.
    #[error("cannot read templates folder {} (set by the `templates` key): {source}", .dir.display())]
    ReadDirectory { dir: PathBuf, source: io::Error },
    /// A template file could not be read.
    #[error("cannot read template {}: {source}", .path.display())]
    Read { path: PathBuf, source: io::Error },
    /// A template file is not UTF-8.
    #[error("template {} is not valid UTF-8 (first invalid byte at offset {offset}); save it as UTF-8", .path.display())]
    NotUtf8 {
        path: PathBuf,
        /// The byte offset of the first invalid sequence.
        offset: usize,
    },
    /// A template file is empty or holds only whitespace.
    #[error("{template} is empty; a new migration written from it would be an empty file, which is rejected when migrations are read; put at least a header comment in it")]
    Empty {
        /// The template, such as `template templates/up.sql`.
        template: String,
    },
    /// A placeholder name is not one of the known ones.
    #[error("unknown placeholder `{{{{{name}}}}}` in {template} at line {line}, column {column}; known placeholders: {known}")]
    UnknownPlaceholder {
        /// The template, such as `template templates/up.sql`.
        template: String,
        /// 1-based line.
        line: usize,
        /// 1-based column of the opening `{{`.
        column: usize,
        name: String,
        /// The known placeholders, comma-separated.
        known: String,
    },
    /// A `{{` without a closing `}}` on the same line.
    #[error("unclosed `{{{{` in {template} at line {line}, column {column}: a placeholder is written `{{{{name}}}}` on one line; known placeholders: {known}")]
    Unclosed {
        /// The template, such as `template templates/up.sql`.
        template: String,
        /// 1-based line.
        line: usize,
        /// 1-based column of the opening `{{`.
        column: usize,
        /// The known placeholders, comma-separated.
        known: String,
    },
    /// A placeholder has no value for this migration (`{{down_file}}` without a down file).
    #[error(
        "{template} uses `{{{{{name}}}}}` at line {line}, but this migration has no value for it"
    )]
    MissingValue {
        /// The template, such as `template templates/up.sql`.
        template: String,
        /// 1-based line.
        line: usize,
        name: String,
    },
    /// The template, or its rendering, starts with sqlx's `-- no-transaction` flag.
    #[error("{template} would start a new migration with `-- no-transaction`, which runs it outside a transaction; start the template with another line (do not begin it with a placeholder such as `-- {{{{message}}}}`), and add `-- no-transaction` by hand to the one migration that needs it")]
    NoTransaction {
        /// The template, such as `template templates/up.sql`.
        template: String,
    },
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use tempfile::TempDir;

    use super::{TemplateError, TemplateKind, TemplateVars, Templates};

    const VARS: TemplateVars<'static> = TemplateVars {
        message: "add builds table",
        version: "20260101090000",
        created: "2026-01-01T09:00:00Z",
        up_file: "20260101090000_add_builds_table.up.sql",
        down_file: Some("20260101090000_add_builds_table.down.sql"),
    };

    fn override_dir(files: &[(&str, &[u8])]) -> TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            fs::write(dir.path().join(name), content).unwrap();
        }
        dir
    }

    fn load_err(dir: &Path) -> String {
        Templates::load(Some(dir)).unwrap_err().to_string()
    }

    #[test]
    fn builtin_renders_every_placeholder() {
        let templates = Templates::builtin();
        let up = templates.render(TemplateKind::Up, &VARS).unwrap();
        let down = templates.render(TemplateKind::Down, &VARS).unwrap();
        let simple_vars = TemplateVars {
            up_file: "20260101090000_add_builds_table.sql",
            down_file: None,
            ..VARS
        };
        let simple = templates
            .render(TemplateKind::Simple, &simple_vars)
            .unwrap();
        for text in [&up, &down, &simple] {
            assert!(!text.contains("{{"), "{text}");
            assert!(text.contains("add builds table"), "{text}");
            assert!(text.contains("20260101090000"), "{text}");
            assert!(text.contains("2026-01-01T09:00:00Z"), "{text}");
            assert!(!text.starts_with("-- no-transaction"), "{text}");
            assert!(text.ends_with('\n'), "{text}");
            // A new migration starts empty: comments only, no live statement.
            for line in text.lines() {
                assert!(
                    line.is_empty() || line.starts_with("--"),
                    "live line: {line}"
                );
            }
            assert!(text.contains("-- CREATE TABLE") || text.contains("-- DROP TABLE"));
        }
        assert!(
            up.contains("20260101090000_add_builds_table.down.sql"),
            "{up}"
        );
        assert!(
            down.contains("20260101090000_add_builds_table.up.sql"),
            "{down}"
        );
        assert!(simple.contains("Irreversible"), "{simple}");
        for kind in TemplateKind::ALL {
            assert_eq!(templates.origin(kind), "built-in");
        }
    }

    #[test]
    fn builtin_equals_load_without_dir() {
        let loaded = Templates::load(None).unwrap();
        for kind in TemplateKind::ALL {
            assert_eq!(loaded.source(kind), Templates::builtin().source(kind));
        }
    }

    #[test]
    fn values_stay_on_their_line_and_are_not_expanded_again() {
        let vars = TemplateVars {
            message: "first\nsecond\r\nthird {{version}}",
            ..VARS
        };
        let up = Templates::builtin()
            .render(TemplateKind::Up, &vars)
            .unwrap();
        assert!(up.contains("first second third {{version}}"), "{up}");
    }

    #[test]
    fn override_dir_falls_back_per_file() {
        let dir = override_dir(&[(
            "up.sql",
            b"-- Custom {{ version }} {{message}}\n-- down: {{down_file}}\n",
        )]);
        let templates = Templates::load(Some(dir.path())).unwrap();
        assert_eq!(
            templates.origin(TemplateKind::Up),
            dir.path().join("up.sql").display().to_string()
        );
        assert_eq!(templates.origin(TemplateKind::Down), "built-in");
        assert_eq!(templates.origin(TemplateKind::Simple), "built-in");
        assert_eq!(
            templates.render(TemplateKind::Up, &VARS).unwrap(),
            "-- Custom 20260101090000 add builds table\n\
             -- down: 20260101090000_add_builds_table.down.sql\n"
        );
        assert_eq!(
            templates.render(TemplateKind::Down, &VARS).unwrap(),
            Templates::builtin()
                .render(TemplateKind::Down, &VARS)
                .unwrap()
        );
    }

    #[test]
    fn unknown_placeholder_names_file_line_and_known_ones() {
        let dir = override_dir(&[("down.sql", b"-- header\n-- undo {{ upfile }}\n")]);
        let err = load_err(dir.path());
        let path = dir.path().join("down.sql");
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("line 2, column 9"), "{err}");
        assert!(err.contains("`{{upfile}}`"), "{err}");
        assert!(
            err.contains("{{message}}, {{version}}, {{created}}, {{up_file}}, {{down_file}}"),
            "{err}"
        );
    }

    #[test]
    fn simple_template_has_no_down_file() {
        let dir = override_dir(&[("simple.sql", b"-- {{version}}\n-- {{down_file}}\n")]);
        let err = load_err(dir.path());
        assert!(err.contains("simple.sql"), "{err}");
        assert!(err.contains("unknown placeholder `{{down_file}}`"), "{err}");
        assert!(err.contains("line 2"), "{err}");
        assert!(
            !err.contains("{{down_file}},") && err.ends_with("{{up_file}}"),
            "{err}"
        );
    }

    #[test]
    fn unclosed_braces_name_file_and_line() {
        let dir = override_dir(&[("up.sql", b"-- a\n-- b\n-- {{message}} {{version\n")]);
        let err = Templates::load(Some(dir.path())).unwrap_err();
        assert!(
            matches!(
                err,
                TemplateError::Unclosed {
                    line: 3,
                    column: 16,
                    ..
                }
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains(&dir.path().join("up.sql").display().to_string()),
            "{text}"
        );
        assert!(text.starts_with("unclosed `{{`"), "{text}");
        assert!(text.contains("line 3"), "{text}");
    }

    #[test]
    fn placeholder_cannot_span_lines() {
        let dir = override_dir(&[("up.sql", b"-- {{message\n}}\n")]);
        let err = Templates::load(Some(dir.path())).unwrap_err();
        assert!(
            matches!(err, TemplateError::Unclosed { line: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn missing_dir_names_it_and_the_key() {
        let parent = tempfile::tempdir().unwrap();
        let missing = parent.path().join("db-templates");
        let err = load_err(&missing);
        assert!(err.contains(&missing.display().to_string()), "{err}");
        assert!(err.contains("does not exist"), "{err}");
        assert!(err.contains("`templates` key"), "{err}");
    }

    #[test]
    fn file_instead_of_dir_is_an_error() {
        let dir = override_dir(&[("up.sql", b"-- x\n")]);
        let file = dir.path().join("up.sql");
        let err = load_err(&file);
        assert!(err.contains("is not a directory"), "{err}");
        assert!(err.contains("`templates` key"), "{err}");
    }

    #[test]
    fn non_utf8_file_is_named() {
        let dir = override_dir(&[("simple.sql", b"-- caf\xe9\n")]);
        let err = load_err(dir.path());
        assert!(err.contains(&dir.path().join("simple.sql").display().to_string()));
        assert!(err.contains("not valid UTF-8"), "{err}");
        assert!(err.contains("offset 6"), "{err}");
    }

    #[test]
    fn unreadable_entry_is_named() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("down.sql")).unwrap();
        let err = Templates::load(Some(dir.path())).unwrap_err();
        assert!(matches!(err, TemplateError::Read { .. }), "{err:?}");
        assert!(err.to_string().contains("down.sql"), "{err}");
    }

    #[test]
    fn empty_override_is_rejected() {
        let dir = override_dir(&[("up.sql", b"\n  \n")]);
        let err = load_err(dir.path());
        assert!(err.contains("is empty"), "{err}");
    }

    #[test]
    fn no_transaction_first_line_is_rejected() {
        let dir = override_dir(&[("up.sql", b"-- no-transaction\n-- {{message}}\n")]);
        let err = load_err(dir.path());
        assert!(err.contains("`-- no-transaction`"), "{err}");

        // A placeholder can produce the flag too: caught at render time.
        let dir = override_dir(&[("up.sql", b"-- {{message}}\n")]);
        let templates = Templates::load(Some(dir.path())).unwrap();
        let vars = TemplateVars {
            message: "no-transaction index",
            ..VARS
        };
        let err = templates.render(TemplateKind::Up, &vars).unwrap_err();
        assert!(
            matches!(err, TemplateError::NoTransaction { .. }),
            "{err:?}"
        );
        // The built-in header starts with fixed text, so any message is safe there.
        let up = Templates::builtin()
            .render(TemplateKind::Up, &vars)
            .unwrap();
        assert!(up.starts_with("-- Migration 20260101090000: no-transaction index\n"));
    }

    #[test]
    fn down_file_without_value_is_an_error() {
        let vars = TemplateVars {
            down_file: None,
            ..VARS
        };
        let err = Templates::builtin()
            .render(TemplateKind::Up, &vars)
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("built-in template up.sql"), "{text}");
        assert!(text.contains("`{{down_file}}` at line 3"), "{text}");
    }
}
