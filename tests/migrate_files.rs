//! `migrate new` and migration-folder errors through the binary; none needs an engine, since
//! the folder is read before anything connects.

mod common;

use std::path::Path;

use common::{assert_error, cmd_in, config_dir, stderr};

fn write(dir: &Path, name: &str, content: &[u8]) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn stdout_lines(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn new_creates_the_folder_and_a_reversible_sqlx_pair_from_the_templates() {
    let dir = config_dir("");
    let out = cmd_in(dir.path(), &["migrate", "new", "add", "users", "table"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let paths = stdout_lines(&out);
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(paths[0].ends_with("_add_users_table.up.sql"), "{paths:?}");
    assert!(paths[1].ends_with("_add_users_table.down.sql"), "{paths:?}");
    let version = Path::new(&paths[0])
        .file_name()
        .unwrap()
        .to_string_lossy()
        .split('_')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(version.len(), 14, "timestamp version: {version}");
    let up = std::fs::read_to_string(&paths[0]).unwrap();
    assert!(
        up.starts_with(&format!("-- Migration {version}: add users table\n")),
        "{up}"
    );
    assert!(up.contains("self-sufficient"));
    assert!(up.contains(&format!("{version}_add_users_table.down.sql")));
    let down = std::fs::read_to_string(&paths[1]).unwrap();
    assert!(
        down.contains("Undo exactly what the up file does"),
        "{down}"
    );

    // --simple: one irreversible file; --sequential on a timestamped set is still accepted.
    let out = cmd_in(
        dir.path(),
        &["migrate", "new", "--simple", "seed countries"],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let paths = stdout_lines(&out);
    assert_eq!(paths.len(), 1);
    assert!(paths[0].ends_with("_seed_countries.sql") && !paths[0].ends_with(".up.sql"));
}

#[test]
fn new_numbers_sequential_sets_sequentially() {
    let dir = config_dir("");
    write(
        dir.path(),
        "migrations/0001_a.up.sql",
        b"CREATE TABLE a (id int);\n",
    );
    write(dir.path(), "migrations/0001_a.down.sql", b"DROP TABLE a;\n");
    write(
        dir.path(),
        "migrations/0002_b.up.sql",
        b"CREATE TABLE b (id int);\n",
    );
    write(dir.path(), "migrations/0002_b.down.sql", b"DROP TABLE b;\n");
    let out = cmd_in(dir.path(), &["migrate", "new", "--sequential", "third"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout_lines(&out)[0].ends_with("migrations/0003_third.up.sql"),
        "{:?}",
        stdout_lines(&out)
    );
}

#[test]
fn new_writes_diesel_directories_for_diesel_sets() {
    let dir = config_dir("layout = \"diesel\"\n");
    let out = cmd_in(dir.path(), &["migrate", "new", "create posts"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let paths = stdout_lines(&out);
    assert!(paths[0].ends_with("_create_posts/up.sql"), "{paths:?}");
    assert!(paths[1].ends_with("_create_posts/down.sql"), "{paths:?}");
    let folder = Path::new(&paths[0])
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert_eq!(
        folder.len(),
        "2026-07-15-182934-0000_create_posts".len(),
        "{folder}"
    );
    let out = cmd_in(dir.path(), &["migrate", "new", "--simple", "x"])
        .output()
        .unwrap();
    assert_error(&out, 9, "diesel migrations always have a down.sql");
}

#[test]
fn project_templates_override_and_template_errors_name_the_file() {
    let dir = config_dir("templates = \"db-templates\"\n");
    write(
        dir.path(),
        "db-templates/up.sql",
        b"-- {{message}} ({{version}})\n-- our own up template\n",
    );
    let out = cmd_in(dir.path(), &["migrate", "new", "custom"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let paths = stdout_lines(&out);
    let up = std::fs::read_to_string(&paths[0]).unwrap();
    assert!(
        up.starts_with("-- custom (") && up.contains("our own up template"),
        "{up}"
    );
    let down = std::fs::read_to_string(&paths[1]).unwrap();
    assert!(
        down.contains("Undo exactly"),
        "missing override falls back to the built-in: {down}"
    );

    write(
        dir.path(),
        "db-templates/down.sql",
        b"-- revert\n-- see {{upfile}}\n",
    );
    let out = cmd_in(dir.path(), &["migrate", "new", "again"])
        .output()
        .unwrap();
    assert_error(&out, 9, "unknown placeholder `{{upfile}}` in template");
    assert!(
        stderr(&out).contains("db-templates/down.sql at line 2"),
        "{}",
        stderr(&out)
    );
}

/// A broken folder: what is wrong, its files, and what the error must say.
type Case = (
    &'static str,
    Vec<(&'static str, &'static [u8])>,
    &'static str,
);

#[test]
fn broken_migration_folders_are_named_before_anything_connects() {
    let cases: Vec<Case> = vec![
        (
            "duplicate versions",
            vec![
                ("1_a.sql", b"select 1;"),
                ("1_b.up.sql", b"select 1;"),
                ("1_b.down.sql", b"select 1;"),
            ],
            "version 1 is also used by",
        ),
        (
            "a down without its up",
            vec![("2_x.down.sql", b"select 1;")],
            "a down migration without its up file 2_x.up.sql",
        ),
        (
            "non-UTF-8",
            vec![("3_x.up.sql", b"select '\xff';")],
            "not valid UTF-8 (first invalid byte at offset 8)",
        ),
        (
            "empty up file",
            vec![("4_x.up.sql", b"  \n")],
            "holds no SQL",
        ),
    ];
    for (what, files, needle) in cases {
        let dir = config_dir("");
        for (name, content) in files {
            write(&dir.path().join("migrations"), name, content);
        }
        // DOCKER_HOST points nowhere: the folder error must come first.
        let out = cmd_in(dir.path(), &["migrate"])
            .env("DOCKER_HOST", "unix:///nonexistent.sock")
            .output()
            .unwrap();
        assert_error(&out, 9, needle);
        assert!(
            !stderr(&out).contains("container engine"),
            "{what}: {}",
            stderr(&out)
        );
    }

    let dir = config_dir("");
    let out = cmd_in(dir.path(), &["migrate", "status"]).output().unwrap();
    assert_error(&out, 9, "the migrations folder does not exist");
    assert!(stderr(&out).contains("cargo packit-db migrate new"));
}

#[test]
fn names_fitting_neither_layout_are_warned_about_not_guessed() {
    let dir = config_dir("");
    write(
        &dir.path().join("migrations"),
        "1_a.up.sql",
        b"CREATE TABLE a (id int);\n",
    );
    write(
        &dir.path().join("migrations"),
        "1_a.down.sql",
        b"DROP TABLE a;\n",
    );
    write(
        &dir.path().join("migrations"),
        "notes.txt",
        b"remember the milk\n",
    );
    write(
        &dir.path().join("migrations"),
        "2-add-b.sql",
        b"CREATE TABLE b (id int);\n",
    );
    let out = cmd_in(dir.path(), &["migrate", "new", "next"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning:") && err.contains("notes.txt"),
        "{err}"
    );
    assert!(err.contains("2-add-b.sql"), "{err}");
}
