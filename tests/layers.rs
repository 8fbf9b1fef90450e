//! Data flows one way through the crate, and the imports say so: no module imports a module
//! above it.
//!
//! The data flow is cli -> config -> commands -> domain (migrations, dump, db, engine). In
//! imports that reads: the entry point and `cli` call config and the commands; a command is
//! *given* a `Config`, so it imports config, which therefore sits below the commands and above
//! the domain modules, which never see it. `ui` renders for the commands and `cli`; `error`
//! wraps every area's error for the commands and the entry point.
//!
//! This test reads every `src/**/*.rs` file, takes each `crate::<module>` path in it (in `use`
//! lines, grouped ones included, and in code; comment lines are skipped) and fails, naming the
//! file, the line and the import, when the module it names is not below the file's own in
//! [`LAYERS`]. Every top-level module must appear in the table, so a new one is placed on
//! purpose.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The top-level modules of `src/`, highest first. A module may import the modules of the
/// groups after its own group, never one of its own group or of a group before it.
const LAYERS: &[&[&str]] = &[
    // The entry point: parse, load the configuration, dispatch, report (lib.rs, main.rs).
    &["lib", "main"],
    // clap types only; they name the commands' argument types.
    &["cli"],
    // One function per command: orchestrates the layers below and renders the result.
    &["commands"],
    // Rendering for the commands: styled lines, progress bars, prompts, check results.
    &["ui"],
    // The top-level error, which only wraps the areas' errors, and the exit codes.
    &["error"],
    // The validated configuration the commands run with.
    &["config"],
    // The domain modules, in the order they may use each other: the migrations (applying,
    // the round-trip check) and dumps use the database layer, which uses the engine.
    &["migrations", "dump"],
    &["db"],
    &["engine"],
    // Stopping on SIGINT or SIGTERM, for every workflow that creates something.
    &["interrupt"],
];

/// The group index of a top-level module (0 is the highest).
fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|group| group.contains(&module))
}

/// The top-level module a file under `src/` belongs to: `src/db/snapshot/diff.rs` -> `db`.
fn module_of(relative: &Path) -> String {
    let first = relative
        .components()
        .next()
        .expect("a file under src")
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.strip_suffix(".rs").unwrap_or(&first).to_string()
}

/// The top-level modules named by `crate::` paths in `code`, with the byte offset of each:
/// `crate::db::X`, and each member of a group, `use crate::{config::Config, db};`, over
/// several lines too.
fn imports(code: &str) -> Vec<(usize, String)> {
    names_after(code, "crate::")
}

/// The first name of every path that continues `prefix` in `code` (each member's, for a
/// group), with the byte offset of the prefix.
fn names_after(code: &str, prefix: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        let after = &code[at + prefix.len()..];
        match after.strip_prefix('{') {
            Some(group) => found.extend(
                top_level_members(group)
                    .into_iter()
                    .filter_map(leading_ident)
                    .map(|name| (at, name)),
            ),
            None => found.extend(leading_ident(after).map(|name| (at, name))),
        }
    }
    found
}

/// The members of a `{...}` group (the text after its `{`), split at its own commas only.
fn top_level_members(group: &str) -> Vec<&str> {
    let mut members = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                members.push(group[start..i].trim());
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                members.push(group[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    members
}

/// The name `text` starts with, unless it is `self` (or `*`, or none).
fn leading_ident(text: &str) -> Option<String> {
    let name: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty() && name != "self").then_some(name)
}

/// The 1-based number and the text of the line holding byte `at`.
fn line_at(code: &str, at: usize) -> (usize, &str) {
    let start = code[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = code[start..].lines().next().unwrap_or("").trim();
    (code[..at].matches('\n').count() + 1, line)
}

/// A file's text with its comment lines (doc comments included) blanked, line breaks kept.
fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).expect("readable source file");
    text.split_inclusive('\n')
        .map(|line| {
            if line.trim_start().starts_with("//") {
                "\n"
            } else {
                line
            }
        })
        .collect()
}

/// Every `.rs` file below `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable src directory") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn no_module_imports_a_module_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    let mut modules = BTreeSet::new();
    for file in rust_files(&src) {
        let relative = file.strip_prefix(&src).expect("below src");
        let module = module_of(relative);
        let Some(own) = rank(&module) else {
            problems.push(format!(
                "src/{}: module `{module}` is not in LAYERS; place it there",
                relative.display()
            ));
            continue;
        };
        modules.insert(module.clone());
        let code = code_of(&file);
        for (at, imported) in imports(&code) {
            if imported == module {
                continue;
            }
            let (number, line) = line_at(&code, at);
            match rank(&imported) {
                Some(theirs) if theirs > own => {}
                Some(_) => problems.push(format!(
                    "src/{}:{number}: `{module}` imports `crate::{imported}`, which is not below it: {line}",
                    relative.display(),
                )),
                None => problems.push(format!(
                    "src/{}:{number}: `crate::{imported}` is not a module in LAYERS: {line}",
                    relative.display(),
                )),
            }
        }
    }
    for name in LAYERS.iter().flat_map(|group| group.iter()) {
        if !modules.contains(*name) {
            problems.push(format!(
                "LAYERS names `{name}`, which has no file under src/"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "imports against the layer order:\n{}",
        problems.join("\n")
    );
}

/// The commands, each with what `commands/mod.rs` re-exports from it:
/// `pub use up::{up, UpArgs};` is the command `up`, whose items are `up` and `UpArgs`.
fn commands(mod_rs: &str) -> Vec<(String, Vec<String>)> {
    mod_rs
        .match_indices("pub use ")
        .filter_map(|(at, prefix)| mod_rs[at + prefix.len()..].split_once("::"))
        .map(|(module, items)| {
            let items = match items.strip_prefix('{') {
                Some(group) => top_level_members(group)
                    .into_iter()
                    .filter_map(leading_ident)
                    .collect(),
                None => leading_ident(items).into_iter().collect(),
            };
            (module.to_string(), items)
        })
        .collect()
}

/// A command orchestrates the layers below and renders its own result: it never calls another
/// command, nor uses what another command's module holds (shared workflows belong below).
#[test]
fn no_command_uses_another_command() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
    let commands = commands(&code_of(&dir.join("mod.rs")));
    assert!(
        commands
            .iter()
            .any(|(name, items)| name == "up" && items.contains(&"UpArgs".to_string())),
        "commands read: {commands:?}"
    );
    let mut problems = Vec::new();
    for file in rust_files(&dir) {
        let relative = file.strip_prefix(&dir).expect("below src/commands");
        let own = module_of(relative);
        let code = code_of(&file);
        let used = [
            names_after(&code, "crate::commands::"),
            names_after(&code, "super::"),
        ];
        for (at, used) in used.into_iter().flatten() {
            let other = commands
                .iter()
                .find(|(name, items)| *name != own && (*name == used || items.contains(&used)));
            if let Some((name, _)) = other {
                let (number, line) = line_at(&code, at);
                problems.push(format!(
                    "src/commands/{}:{number}: uses `{used}` of the `{name}` command: {line}",
                    relative.display()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "commands using another command:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_reader_finds_paths_in_use_lines_groups_and_code() {
    let names =
        |code: &str| -> Vec<String> { imports(code).into_iter().map(|(_, name)| name).collect() };
    assert_eq!(names("use crate::db::ConnectionInfo;"), ["db"]);
    assert_eq!(
        names("use crate::{\n    config::{Config, EnvStyle},\n    db,\n    self,\n};"),
        ["config", "db"]
    );
    assert_eq!(
        names("    let x = crate::engine::volume_name(&crate::ui::x());"),
        ["engine", "ui"]
    );
    assert!(names("use super::model::Snapshot;").is_empty());
    assert_eq!(imports("a\nb crate::db::x")[0].0, 4);
    assert_eq!(module_of(Path::new("db/snapshot/diff.rs")), "db");
    assert_eq!(module_of(Path::new("lib.rs")), "lib");
    assert_eq!(
        commands(
            "mod admin;\nmod up;\npub use up::{\n    up,\n    UpArgs,\n};\npub use url::url;\n"
        ),
        [
            (
                "up".to_string(),
                vec!["up".to_string(), "UpArgs".to_string()]
            ),
            ("url".to_string(), vec!["url".to_string()]),
        ]
    );
}
