//! Tests of configuration loading, with real temporary directories, real `Cargo.toml` files
//! (`cargo metadata` really runs), `packit-db.toml`, `.env` files and an injected
//! environment.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::database_url::{self, Skip, UrlParts};
use super::layer::{env_var, suggest, KEYS, KNOWN_ENV_VARS};
use super::{
    is_sclorg_image, load, normalize_image, Config, ConfigError, ConfigSource, EngineChoice,
    EngineEnv, EnvStyle, Environment, Overrides, ValueOrigin,
};
use crate::migrations::source::LayoutChoice;

/// A temporary directory holding a project directory with a chosen name.
struct Project {
    _tmp: TempDir,
    dir: PathBuf,
}

impl Project {
    fn new(name: &str) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join(name);
        fs::create_dir_all(&dir).expect("create project dir");
        Self { _tmp: tmp, dir }
    }

    /// Writes `contents` to `rel` (creating parent directories); returns the path.
    fn write(&self, rel: &str, contents: &str) -> PathBuf {
        let path = self.dir.join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, contents).expect("write");
        path
    }

    /// A package `name` in `rel` (`""` = the project dir) with extra manifest text.
    fn package(&self, rel: &str, name: &str, extra: &str) -> PathBuf {
        let prefix = if rel.is_empty() {
            String::new()
        } else {
            format!("{rel}/")
        };
        self.write(&format!("{prefix}src/lib.rs"), "");
        self.write(
            &format!("{prefix}Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n{extra}"
            ),
        )
    }

    fn env(&self, vars: &[(&str, &str)]) -> Environment {
        env_at(&self.dir, vars)
    }
}

fn env_at(cwd: &Path, vars: &[(&str, &str)]) -> Environment {
    Environment {
        vars: vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        cwd: cwd.to_path_buf(),
    }
}

fn load_ok(env: &Environment, overrides: &Overrides) -> Config {
    match load(env, overrides) {
        Ok(config) => config,
        Err(error) => panic!("load failed: {error}"),
    }
}

fn load_err(env: &Environment, overrides: &Overrides) -> ConfigError {
    match load(env, overrides) {
        Ok(config) => panic!("expected an error, got {config:?}"),
        Err(error) => error,
    }
}

// ---------------------------------------------------------------- image

#[test]
fn image_normalisation_table() {
    let cases = [
        ("postgres", "docker.io/library/postgres:latest"),
        ("postgres:16", "docker.io/library/postgres:16"),
        ("postgres:16-alpine", "docker.io/library/postgres:16-alpine"),
        ("bitnami/postgresql", "docker.io/bitnami/postgresql:latest"),
        ("bitnami/postgresql:17", "docker.io/bitnami/postgresql:17"),
        ("docker.io/postgres", "docker.io/library/postgres:latest"),
        (
            "docker.io/library/postgres:17",
            "docker.io/library/postgres:17",
        ),
        ("localhost/x/y:1", "localhost/x/y:1"),
        ("localhost/pg", "localhost/pg:latest"),
        ("localhost:5000/pg", "localhost:5000/pg:latest"),
        ("registry:5000/team/pg:2", "registry:5000/team/pg:2"),
        (
            "quay.io/sclorg/postgresql-15-c9s",
            "quay.io/sclorg/postgresql-15-c9s:latest",
        ),
        (
            "postgres@sha256:0123abcd",
            "docker.io/library/postgres@sha256:0123abcd",
        ),
        (
            "postgres:17@sha256:0123abcd",
            "docker.io/library/postgres:17@sha256:0123abcd",
        ),
        (
            "registry.redhat.io/rhel9/postgresql-16",
            "registry.redhat.io/rhel9/postgresql-16:latest",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(normalize_image(input), expected, "input {input}");
    }
}

#[test]
fn sclorg_detection() {
    for image in [
        "quay.io/sclorg/postgresql-15-c9s:latest",
        "registry.redhat.io/rhel9/postgresql-16:latest",
        "registry.redhat.io/rhel8/postgresql-13@sha256:abc",
        "quay.io/fedora/postgresql-16:latest",
        "docker.io/centos/postgresql-12-centos7:latest",
        "example.com/sclorg-mirror/pg:1",
    ] {
        assert!(is_sclorg_image(image), "{image} should be sclorg");
    }
    for image in [
        "docker.io/library/postgres:17",
        "docker.io/bitnami/postgresql:latest",
        "localhost:5000/postgresql:16",
        "docker.io/library/postgres:postgresql-16",
    ] {
        assert!(!is_sclorg_image(image), "{image} should not be sclorg");
    }
}

#[test]
fn sclorg_env_style_is_detected_unless_set() {
    let p = Project::new("app");
    let env = p.env(&[("PACKIT_DB_IMAGE", "quay.io/sclorg/postgresql-16-c9s")]);
    let config = load_ok(&env, &Overrides::default());
    assert_eq!(config.image, "quay.io/sclorg/postgresql-16-c9s:latest");
    assert_eq!(config.env_style, EnvStyle::Sclorg);
    assert_eq!(config.env_style.data_dir(), "/var/lib/pgsql/data");

    // Explicitly set at a lower level than the image: still wins over detection.
    p.write("packit-db.toml", "env_style = \"official\"\n");
    let config = load_ok(&env, &Overrides::default());
    assert_eq!(config.env_style, EnvStyle::Official);

    // The flag's image is the final one.
    let overrides = Overrides {
        image: Some("postgres:16".into()),
        ..Overrides::default()
    };
    let config = load_ok(&p.env(&[]), &overrides);
    assert_eq!(config.image, "docker.io/library/postgres:16");
    assert_eq!(config.env_style, EnvStyle::Official);
}

#[test]
fn enum_display_and_data_dir() {
    assert_eq!(EngineChoice::Auto.to_string(), "auto");
    assert_eq!(EngineChoice::Docker.to_string(), "docker");
    assert_eq!(EngineChoice::Podman.to_string(), "podman");
    assert_eq!(EnvStyle::Official.to_string(), "official");
    assert_eq!(EnvStyle::Sclorg.to_string(), "sclorg");
    assert_eq!(EnvStyle::Official.data_dir(), "/var/lib/postgresql/data");
    assert_eq!(
        serde_json::to_string(&EngineChoice::Podman).unwrap(),
        "\"podman\""
    );
    assert_eq!(
        serde_json::to_string(&EnvStyle::Sclorg).unwrap(),
        "\"sclorg\""
    );
}

// ---------------------------------------------------------------- defaults

#[test]
fn defaults_without_any_file() {
    let p = Project::new("My App.v2");
    let config = load_ok(&p.env(&[]), &Overrides::default());
    assert_eq!(config.project, "My App.v2");
    assert_eq!(config.project_dir, p.dir);
    assert_eq!(config.source, ConfigSource::Defaults);
    assert_eq!(config.engine, EngineChoice::Auto);
    assert_eq!(config.image, "docker.io/library/postgres:17");
    assert_eq!(config.env_style, EnvStyle::Official);
    assert_eq!(config.container, "my-app.v2-packit-db");
    assert_eq!(config.port, 0);
    assert_eq!(config.user, "my_app_v2");
    assert_eq!(config.database, "my_app_v2");
    assert_eq!(config.password, None);
    assert_eq!(config.migrations, p.dir.join("migrations"));
    assert_eq!(config.layout, LayoutChoice::Auto);
    assert!(config.schema.is_empty());
    assert_eq!(config.templates, None);
    assert_eq!(config.diagram, p.dir.join("docs/database/diagram.mmd"));
    assert!(config.labels.is_empty());
    assert_eq!(config.engine_env, EngineEnv::default());
}

#[test]
fn default_container_slug_is_trimmed_and_valid() {
    let p = Project::new("_Über Projekt!");
    let config = load_ok(&p.env(&[]), &Overrides::default());
    assert_eq!(config.container, "ber-projekt-packit-db");
    assert_eq!(config.user, "__ber_projekt_");
}

#[test]
fn cargo_project_defaults_use_the_package_name() {
    let p = Project::new("checkout");
    let manifest = p.package("", "shop-api", "");
    let config = load_ok(&p.env(&[]), &Overrides::default());
    assert_eq!(config.project, "shop-api");
    assert_eq!(config.project_dir, p.dir);
    assert_eq!(config.source, ConfigSource::Cargo { manifest });
    assert_eq!(config.container, "shop-api-packit-db");
    assert_eq!(config.user, "shop_api");
    assert_eq!(config.migrations, p.dir.join("migrations"));
}

#[test]
fn found_from_a_subdirectory_and_virtual_workspace_uses_dir_name() {
    let p = Project::new("mono");
    p.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/a\"]\nresolver = \"2\"\n\n\
         [workspace.metadata.packit-db]\nmigrations = \"db/migrations\"\n",
    );
    p.package("crates/a", "a", "[package.metadata.packit-db]\nport = 7\n");
    let sub = p.dir.join("crates/a/src");
    let config = load_ok(&env_at(&sub, &[]), &Overrides::default());
    assert_eq!(config.project, "mono");
    assert_eq!(config.project_dir, p.dir);
    assert_eq!(config.migrations, p.dir.join("db/migrations"));
    // Only the root package's metadata is read; a virtual workspace has none.
    assert_eq!(config.port, 0);
}

// ---------------------------------------------------------------- precedence

/// Sets `port` and `user` at the levels selected by `levels` (flag, env, dotenv, package,
/// workspace) and returns the loaded config.
fn load_levels(levels: [bool; 5]) -> Config {
    let p = Project::new("prec");
    let [flag, env, dotenv, package, workspace] = levels;
    let mut manifest = String::from("[workspace]\n\n");
    if workspace {
        manifest.push_str("[workspace.metadata.packit-db]\nport = 5\nuser = \"ws\"\n\n");
    }
    if package {
        manifest.push_str("[package.metadata.packit-db]\nport = 4\nuser = \"pkg\"\n\n");
    }
    p.package("", "prec", &manifest);
    if dotenv {
        p.write(".env", "PACKIT_DB_PORT=3\nPACKIT_DB_USER=dotenv\n");
    }
    let vars: &[(&str, &str)] = if env {
        &[("PACKIT_DB_PORT", "2"), ("PACKIT_DB_USER", "env")]
    } else {
        &[]
    };
    let overrides = Overrides {
        port: flag.then_some(1),
        ..Overrides::default()
    };
    load_ok(&p.env(vars), &overrides)
}

#[test]
fn precedence_at_every_level() {
    let all = load_levels([true, true, true, true, true]);
    assert_eq!(all.port, 1);
    assert_eq!(all.user, "env");
    let no_flag = load_levels([false, true, true, true, true]);
    assert_eq!(no_flag.port, 2);
    let no_env = load_levels([false, false, true, true, true]);
    assert_eq!((no_env.port, no_env.user.as_str()), (3, "dotenv"));
    let no_dotenv = load_levels([false, false, false, true, true]);
    assert_eq!((no_dotenv.port, no_dotenv.user.as_str()), (4, "pkg"));
    let no_package = load_levels([false, false, false, false, true]);
    assert_eq!((no_package.port, no_package.user.as_str()), (5, "ws"));
    let none = load_levels([false, false, false, false, false]);
    assert_eq!((none.port, none.user.as_str()), (0, "prec"));
}

#[test]
fn flags_override_everything() {
    let p = Project::new("flags");
    p.write(
        "packit-db.toml",
        "engine = \"docker\"\nimage = \"postgres:15\"\ncontainer = \"from-file\"\n\
         env_style = \"sclorg\"\nport = 1111\n",
    );
    let env = p.env(&[
        ("PACKIT_DB_ENGINE", "docker"),
        ("PACKIT_DB_CONTAINER", "from-env"),
        ("PACKIT_DB_PORT", "2222"),
    ]);
    let overrides = Overrides {
        manifest_path: None,
        engine: Some(EngineChoice::Podman),
        image: Some("quay.io/sclorg/postgresql-16-c9s".into()),
        container: Some("from-flag".into()),
        port: Some(3333),
        env_style: Some(EnvStyle::Official),
    };
    let config = load_ok(&env, &overrides);
    assert_eq!(config.engine, EngineChoice::Podman);
    assert_eq!(config.image, "quay.io/sclorg/postgresql-16-c9s:latest");
    assert_eq!(config.container, "from-flag");
    assert_eq!(config.port, 3333);
    assert_eq!(config.env_style, EnvStyle::Official);
}

#[test]
fn process_env_shadows_the_same_variable_in_dotenv() {
    let p = Project::new("shadow");
    p.write(
        ".env",
        "DATABASE_URL=postgres://dotenv_user:dotenv_pw@localhost:5555/dotenv_db\n",
    );
    let env = p.env(&[("DATABASE_URL", "postgres://envuser@localhost/envdb")]);
    let config = load_ok(&env, &Overrides::default());
    assert_eq!(config.user, "envuser");
    assert_eq!(config.database, "envdb");
    // The .env URL is shadowed as a whole: its password and port are not mixed in.
    assert_eq!(config.password, None);
    assert_eq!(config.port, 0);
}

#[test]
fn labels_merge_key_by_key() {
    let p = Project::new("labels");
    p.package(
        "",
        "labels",
        "[workspace]\n\n[workspace.metadata.packit-db.labels]\nteam = \"ws\"\ntier = \"dev\"\n\n\
         [package.metadata.packit-db.labels]\nteam = \"pkg\"\n",
    );
    let env = p.env(&[("PACKIT_DB_LABELS", "owner = me, tier=ci")]);
    let config = load_ok(&env, &Overrides::default());
    let expected: BTreeMap<String, String> = [("owner", "me"), ("team", "pkg"), ("tier", "ci")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(config.labels, expected);
}

#[test]
fn engine_env_reads_process_then_dotenv_and_empty_is_unset() {
    let p = Project::new("engine-env");
    p.write(
        ".env",
        "DOCKER_HOST=unix:///from/dotenv.sock\nCONTAINER_HOST=ssh://box\n",
    );
    let env = p.env(&[
        ("DOCKER_HOST", "unix:///run/user/1000/podman/podman.sock"),
        ("CONTAINER_HOST", ""),
        ("XDG_RUNTIME_DIR", "/run/user/1000"),
    ]);
    let config = load_ok(&env, &Overrides::default());
    assert_eq!(
        config.engine_env,
        EngineEnv {
            docker_host: Some("unix:///run/user/1000/podman/podman.sock".into()),
            // Set (empty) in the process environment: shadows .env and counts as unset.
            container_host: None,
            xdg_runtime_dir: Some(PathBuf::from("/run/user/1000")),
        }
    );
}

#[test]
fn empty_packit_db_variables_count_as_unset() {
    let p = Project::new("empty");
    p.write("packit-db.toml", "port = 42\n");
    let config = load_ok(&p.env(&[("PACKIT_DB_PORT", "")]), &Overrides::default());
    assert_eq!(config.port, 42);
}

// ---------------------------------------------------------------- files and paths

#[test]
fn packit_db_toml_without_cargo() {
    let p = Project::new("plain");
    let path = p.write(
        "packit-db.toml",
        "engine = \"podman\"\nport = 5433\nuser = \"app\"\ndatabase = \"appdb\"\n\
         migrations = \"sql/migrations\"\nschema = \"sql/schema.sql\"\n\
         templates = \"./tpl\"\ndiagram = \"/abs/diagram.mmd\"\n[labels]\nk = \"v\"\n",
    );
    let config = load_ok(&p.env(&[]), &Overrides::default());
    assert_eq!(config.project, "plain");
    assert_eq!(config.project_dir, p.dir);
    assert_eq!(config.source, ConfigSource::File { path });
    assert_eq!(config.engine, EngineChoice::Podman);
    assert_eq!(config.port, 5433);
    assert_eq!(
        (config.user.as_str(), config.database.as_str()),
        ("app", "appdb")
    );
    assert_eq!(config.migrations, p.dir.join("sql/migrations"));
    assert_eq!(config.schema, vec![p.dir.join("sql/schema.sql")]);
    assert_eq!(config.templates, Some(p.dir.join("tpl")));
    assert_eq!(config.diagram, PathBuf::from("/abs/diagram.mmd"));
    assert_eq!(config.labels.get("k").map(String::as_str), Some("v"));
}

#[test]
fn packit_db_toml_is_ignored_in_a_cargo_project() {
    let p = Project::new("both");
    p.package("", "both", "");
    p.write("packit-db.toml", "port = 1\n");
    let config = load_ok(&p.env(&[]), &Overrides::default());
    assert_eq!(config.port, 0);
}

#[test]
fn relative_paths_resolve_against_their_source() {
    let p = Project::new("paths");
    p.package(
        "",
        "paths",
        "[workspace]\n\n[workspace.metadata.packit-db]\nmigrations = \"ws/migrations\"\n\
         diagram = \"ws/diagram.mmd\"\n\n\
         [package.metadata.packit-db]\nschema = [\"db/a.sql\", \"db/b.sql\"]\n",
    );
    p.write(".env", "PACKIT_DB_DIAGRAM=from-dotenv.mmd\n");
    let cwd = p.dir.join("sub/dir");
    fs::create_dir_all(&cwd).unwrap();
    let env = env_at(
        &cwd,
        &[
            ("PACKIT_DB_TEMPLATES", "tpl"),
            ("PACKIT_DB_SCHEMA", "x.sql, /abs/y.sql"),
        ],
    );
    let config = load_ok(&env, &Overrides::default());
    assert_eq!(config.project_dir, p.dir);
    assert_eq!(config.migrations, p.dir.join("ws/migrations"));
    // .env paths resolve against the .env file's directory.
    assert_eq!(config.diagram, p.dir.join("from-dotenv.mmd"));
    // Process environment paths resolve against the current directory.
    assert_eq!(config.templates, Some(cwd.join("tpl")));
    assert_eq!(
        config.schema,
        vec![cwd.join("x.sql"), PathBuf::from("/abs/y.sql")]
    );

    let config = load_ok(&env_at(&cwd, &[]), &Overrides::default());
    assert_eq!(
        config.schema,
        vec![p.dir.join("db/a.sql"), p.dir.join("db/b.sql")]
    );
}

#[test]
fn manifest_path_pointing_to_another_directory() {
    let here = Project::new("here");
    here.write("packit-db.toml", "port = 1\n");
    here.write(".env", "PACKIT_DB_USER=from_here\n");
    let there = Project::new("there");
    let manifest = there.package(
        "",
        "elsewhere",
        "[package.metadata.packit-db]\nport = 2\nmigrations = \"m\"\n",
    );
    for manifest_path in [manifest.clone(), there.dir.clone()] {
        let overrides = Overrides {
            manifest_path: Some(manifest_path),
            ..Overrides::default()
        };
        let config = load_ok(&here.env(&[]), &overrides);
        assert_eq!(config.project, "elsewhere");
        assert_eq!(config.project_dir, there.dir);
        assert_eq!(
            config.source,
            ConfigSource::Cargo {
                manifest: manifest.clone()
            }
        );
        assert_eq!(config.port, 2);
        assert_eq!(config.migrations, there.dir.join("m"));
        // .env is still looked up from the current directory.
        assert_eq!(config.user, "from_here");
    }
}

#[test]
fn manifest_path_that_does_not_exist() {
    let p = Project::new("missing");
    let overrides = Overrides {
        manifest_path: Some(PathBuf::from("nope/Cargo.toml")),
        ..Overrides::default()
    };
    let error = load_err(&p.env(&[]), &overrides);
    let message = error.to_string();
    assert!(
        matches!(&error, ConfigError::CargoMetadata { manifest, .. }
            if *manifest == p.dir.join("nope/Cargo.toml")),
        "{error:?}"
    );
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains("nope/Cargo.toml"), "{message}");
}

#[test]
fn broken_manifest_is_one_line_and_hides_excerpts() {
    let p = Project::new("broken");
    p.write("src/lib.rs", "");
    let manifest = p.write(
        "Cargo.toml",
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\n\n\
         [package.metadata.packit-db]\npassword = \"s3cr3t-pw\n",
    );
    let error = load_err(&p.env(&[]), &Overrides::default());
    let message = error.to_string();
    assert!(
        matches!(&error, ConfigError::CargoMetadata { manifest: m, .. } if *m == manifest),
        "{error:?}"
    );
    assert!(
        message.starts_with(&format!(
            "cannot read the cargo project at {}: ",
            manifest.display()
        )),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");
    assert!(!message.contains("s3cr3t-pw"), "{message}");
    assert!(!format!("{error:?}").contains("s3cr3t-pw"));
}

#[test]
fn invalid_packit_db_toml_names_line_and_column() {
    let p = Project::new("badtoml");
    let path = p.write(
        "packit-db.toml",
        "port = 1\npassword = \"hunter2\nuser = 1\n",
    );
    let error = load_err(&p.env(&[]), &Overrides::default());
    let message = error.to_string();
    assert!(
        matches!(&error, ConfigError::Toml { path: f, line: 2, .. } if *f == path),
        "{error:?}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn metadata_entry_must_be_a_table() {
    let p = Project::new("notable");
    let manifest = p.package("", "notable", "[package.metadata]\npackit-db = 3\n");
    let error = load_err(&p.env(&[]), &Overrides::default());
    assert_eq!(
        error.to_string(),
        format!(
            "invalid value 3 in {} [package.metadata.packit-db]: expected a table of packit-db \
             settings",
            manifest.display()
        )
    );
}

// ---------------------------------------------------------------- unknown keys

#[test]
fn unknown_file_key_with_suggestion() {
    let p = Project::new("typo");
    let manifest = p.package("", "typo", "[package.metadata.packit-db]\nprot = 5432\n");
    let error = load_err(&p.env(&[]), &Overrides::default());
    assert!(matches!(&error, ConfigError::UnknownKey { key, .. } if key == "prot"));
    assert_eq!(
        error.to_string(),
        format!(
            "unknown key `prot` in {} [package.metadata.packit-db]; known keys: engine, image, \
             env_style, container, port, user, database, password, migrations, layout, \
             schema, templates, diagram, labels; did you mean `port`?",
            manifest.display()
        )
    );
}

#[test]
fn unknown_workspace_key_without_suggestion() {
    let p = Project::new("typo-ws");
    let manifest = p.package(
        "",
        "typo-ws",
        "[workspace]\n\n[workspace.metadata.packit-db]\nvolume = \"x\"\n",
    );
    let message = load_err(&p.env(&[]), &Overrides::default()).to_string();
    assert!(
        message.starts_with(&format!(
            "unknown key `volume` in {} [workspace.metadata.packit-db]; known keys: engine,",
            manifest.display()
        )),
        "{message}"
    );
    assert!(!message.contains("did you mean"), "{message}");
}

#[test]
fn unknown_key_in_packit_db_toml() {
    let p = Project::new("typo-file");
    let path = p.write("packit-db.toml", "migration = \"m\"\n");
    let message = load_err(&p.env(&[]), &Overrides::default()).to_string();
    assert!(
        message.starts_with(&format!("unknown key `migration` in {};", path.display())),
        "{message}"
    );
    assert!(message.ends_with("did you mean `migrations`?"), "{message}");
}

#[test]
fn unknown_environment_variable_with_suggestion() {
    let p = Project::new("typo-env");
    let error = load_err(&p.env(&[("PACKIT_DB_PROT", "1")]), &Overrides::default());
    assert!(matches!(
        &error,
        ConfigError::UnknownVariable { name, file: None, suggestion: Some(s) }
            if name == "PACKIT_DB_PROT" && s == "PACKIT_DB_PORT"
    ));
    let message = error.to_string();
    assert!(
        message.starts_with(
            "unknown variable `PACKIT_DB_PROT` in the environment; known variables: \
             PACKIT_DB_ENGINE, PACKIT_DB_IMAGE,"
        ),
        "{message}"
    );
    assert!(
        message.ends_with("PACKIT_DB_LABELS; did you mean `PACKIT_DB_PORT`?"),
        "{message}"
    );

    // Case matters for environment variables.
    let error = load_err(&p.env(&[("PACKIT_DB_port", "1")]), &Overrides::default());
    assert!(error
        .to_string()
        .ends_with("did you mean `PACKIT_DB_PORT`?"));
}

#[test]
fn packit_db_log_is_not_a_setting_nor_an_error() {
    let p = Project::new("log");
    p.write(".env", "PACKIT_DB_LOG=debug\n");
    let config = load_ok(&p.env(&[("PACKIT_DB_LOG", "trace")]), &Overrides::default());
    assert_eq!(config.port, 0);
}

#[test]
fn unknown_variable_in_dotenv_names_the_file() {
    let p = Project::new("typo-dotenv");
    let path = p.write(".env", "OTHER_TOOL=1\nPACKIT_DB_DATABSE=x\n");
    let error = load_err(&p.env(&[]), &Overrides::default());
    assert!(
        matches!(&error, ConfigError::UnknownVariable { file: Some(f), .. } if *f == path),
        "{error:?}"
    );
    assert!(error.to_string().starts_with(&format!(
        "unknown variable `PACKIT_DB_DATABSE` in {}; known variables:",
        path.display()
    )));
    assert!(error
        .to_string()
        .ends_with("did you mean `PACKIT_DB_DATABASE`?"));
}

#[test]
fn every_key_has_its_variable() {
    assert_eq!(KNOWN_ENV_VARS.len(), KEYS.len());
    for key in KEYS {
        let var = format!("PACKIT_DB_{}", key.to_ascii_uppercase());
        assert_eq!(env_var(key), Some(var.as_str()), "{key}");
    }
    assert_eq!(env_var("volume"), None);
}

#[test]
fn suggestions_are_at_most_two_edits_away() {
    // A swap of adjacent characters is one edit, so two swaps are still suggested.
    assert_eq!(suggest("prot", KEYS), Some("port"));
    assert_eq!(suggest("idagrma", KEYS), Some("diagram"));
    assert_eq!(suggest("IMAGES", KEYS), Some("image"));
    assert_eq!(suggest("labl", KEYS), Some("labels"));
    assert_eq!(suggest("volume", KEYS), None);
    assert_eq!(suggest("pssword", &["password"]), Some("password"));
    assert_eq!(suggest("passwd", &["password"]), Some("password"));
    assert_eq!(suggest("pwd", &["password"]), None);
    // On a tie the first candidate wins.
    assert_eq!(suggest("aa", &["ab", "ba"]), Some("ab"));
}

// ---------------------------------------------------------------- invalid values

#[test]
fn invalid_port_in_manifest() {
    let p = Project::new("badport");
    let manifest = p.package(
        "",
        "badport",
        "[package.metadata.packit-db]\nport = 70000\n",
    );
    let error = load_err(&p.env(&[]), &Overrides::default());
    assert_eq!(
        error.to_string(),
        format!(
            "invalid value 70000 for `port` in {} [package.metadata.packit-db]: expected 0 to \
             65535 (0 picks a free port)",
            manifest.display()
        )
    );
    assert!(matches!(
        error,
        ConfigError::InvalidValue {
            key: "port",
            origin: ValueOrigin::File { .. },
            ..
        }
    ));
}

#[test]
fn invalid_engine_in_workspace_metadata() {
    let p = Project::new("badengine");
    let manifest = p.package(
        "",
        "badengine",
        "[workspace]\n\n[workspace.metadata.packit-db]\nengine = \"lxc\"\n",
    );
    let error = load_err(&p.env(&[]), &Overrides::default());
    assert_eq!(
        error.to_string(),
        format!(
            "invalid value \"lxc\" for `engine` in {} [workspace.metadata.packit-db]: expected \
             auto, docker or podman",
            manifest.display()
        )
    );
}

#[test]
fn layout_from_files_environment_and_dotenv() {
    let p = Project::new("layout");
    p.package(
        "",
        "layout",
        "[package.metadata.packit-db]\nlayout = \"diesel\"\n",
    );
    let config = load_ok(&p.env(&[]), &Overrides::default());
    assert_eq!(config.layout, LayoutChoice::Diesel);
    assert!(format!("{config:?}").contains("layout: Diesel"));

    // .env overrides the manifest; the process environment overrides .env; case is ignored.
    p.write(".env", "PACKIT_DB_LAYOUT=auto\n");
    let config = load_ok(&p.env(&[]), &Overrides::default());
    assert_eq!(config.layout, LayoutChoice::Auto);
    let config = load_ok(
        &p.env(&[("PACKIT_DB_LAYOUT", "SQLX")]),
        &Overrides::default(),
    );
    assert_eq!(config.layout, LayoutChoice::Sqlx);

    let q = Project::new("layout-file");
    q.write("packit-db.toml", "layout = \"sqlx\"\n");
    let config = load_ok(&q.env(&[]), &Overrides::default());
    assert_eq!(config.layout, LayoutChoice::Sqlx);
}

#[test]
fn invalid_layout_in_manifest_and_environment() {
    let p = Project::new("badlayout");
    let manifest = p.package(
        "",
        "badlayout",
        "[package.metadata.packit-db]\nlayout = \"flyway\"\n",
    );
    let error = load_err(&p.env(&[]), &Overrides::default());
    assert!(matches!(
        error,
        ConfigError::InvalidValue {
            key: "layout",
            origin: ValueOrigin::File { .. },
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        format!(
            "invalid value \"flyway\" for `layout` in {} [package.metadata.packit-db]: \
             expected auto, sqlx or diesel",
            manifest.display()
        )
    );
    let q = Project::new("badlayout-env");
    let error = load_err(
        &q.env(&[("PACKIT_DB_LAYOUT", "both")]),
        &Overrides::default(),
    );
    assert_eq!(
        error.to_string(),
        "invalid value \"both\" for `layout` in environment variable PACKIT_DB_LAYOUT: \
         expected auto, sqlx or diesel"
    );
    // A typo in the variable's name is suggested.
    let error = load_err(
        &q.env(&[("PACKIT_DB_LAYUOT", "sqlx")]),
        &Overrides::default(),
    );
    assert!(error
        .to_string()
        .ends_with("did you mean `PACKIT_DB_LAYOUT`?"));
}

#[test]
fn invalid_values_in_environment_and_dotenv() {
    let p = Project::new("badenv");
    let error = load_err(&p.env(&[("PACKIT_DB_PORT", "abc")]), &Overrides::default());
    assert_eq!(
        error.to_string(),
        "invalid value \"abc\" for `port` in environment variable PACKIT_DB_PORT: expected 0 \
         to 65535 (0 picks a free port)"
    );
    let error = load_err(
        &p.env(&[("PACKIT_DB_ENV_STYLE", "bitnami")]),
        &Overrides::default(),
    );
    assert_eq!(
        error.to_string(),
        "invalid value \"bitnami\" for `env_style` in environment variable PACKIT_DB_ENV_STYLE: \
         expected official or sclorg"
    );

    let path = p.write(".env", "PACKIT_DB_PORT=65536\n");
    let error = load_err(&p.env(&[]), &Overrides::default());
    assert_eq!(
        error.to_string(),
        format!(
            "invalid value \"65536\" for `port` in {} (variable PACKIT_DB_PORT): expected 0 to \
             65535 (0 picks a free port)",
            path.display()
        )
    );
}

#[test]
fn wrong_types_in_files() {
    let p = Project::new("types");
    let cases = [
        ("port = \"5432\"", "`port`"),
        ("port = -1", "`port`"),
        ("engine = 1", "`engine`"),
        ("layout = true", "`layout`"),
        ("schema = 3", "`schema`"),
        ("schema = [\"a.sql\", 1]", "`schema`"),
        ("labels = \"a=b\"", "`labels`"),
        ("labels = { a = 1 }", "`labels`"),
        ("labels = { \"\" = \"x\" }", "`labels`"),
        ("migrations = \"\"", "`migrations`"),
        ("image = \"postgres 17\"", "`image`"),
    ];
    for (line, key) in cases {
        p.write("packit-db.toml", &format!("{line}\n"));
        let message = load_err(&p.env(&[]), &Overrides::default()).to_string();
        assert!(
            message.starts_with("invalid value ") && message.contains(key),
            "{line}: {message}"
        );
    }
}

#[test]
fn validation_of_names() {
    let p = Project::new("names");
    let long = "x".repeat(64);
    let cases = [
        (
            "container = \"-bad\"".to_owned(),
            "container",
            "a container name",
        ),
        (
            "container = \"a b\"".to_owned(),
            "container",
            "a container name",
        ),
        (
            "user = \"\"".to_owned(),
            "user",
            "a non-empty name of at most 63 bytes",
        ),
        (
            format!("database = \"{long}\""),
            "database",
            "at most 63 bytes",
        ),
        ("user = \"a\\u0000b\"".to_owned(), "user", "without NUL"),
    ];
    for (line, key, expected) in cases {
        p.write("packit-db.toml", &format!("{line}\n"));
        let error = load_err(&p.env(&[]), &Overrides::default());
        assert!(
            matches!(&error, ConfigError::InvalidValue { key: k, .. } if *k == key),
            "{line}: {error:?}"
        );
        assert!(error.to_string().contains(expected), "{line}: {error}");
    }
    p.write(
        "packit-db.toml",
        &format!("database = \"{}\"\n", "x".repeat(63)),
    );
    assert_eq!(
        load_ok(&p.env(&[]), &Overrides::default()).database.len(),
        63
    );

    let error = load_err(
        &p.env(&[("PACKIT_DB_LABELS", "a=1,novalue")]),
        &Overrides::default(),
    );
    assert!(error.to_string().contains("key=value pairs"), "{error}");

    let overrides = Overrides {
        container: Some("bad/name".into()),
        ..Overrides::default()
    };
    let error = load_err(&p.env(&[]), &overrides);
    assert!(
        error.to_string().starts_with(
            "invalid value \"bad/name\" for `container` in command-line flag --container:"
        ),
        "{error}"
    );
}

// ---------------------------------------------------------------- passwords

#[test]
fn password_is_redacted_in_debug_and_errors() {
    let p = Project::new("secret");
    p.write("packit-db.toml", "password = \"correct horse\"\n");
    let config = load_ok(&p.env(&[]), &Overrides::default());
    assert_eq!(config.password.as_deref(), Some("correct horse"));
    let debug = format!("{config:?}");
    assert!(!debug.contains("correct horse"), "{debug}");
    assert!(debug.contains("password: Some(***)"), "{debug}");
    assert!(format!(
        "{:?}",
        Config {
            password: None,
            ..config
        }
    )
    .contains("password: None"));

    // An invalid password is reported without its value.
    p.write("packit-db.toml", "password = \"bad\\u0000pw-battery\"\n");
    let error = load_err(&p.env(&[]), &Overrides::default());
    let message = error.to_string();
    assert!(!message.contains("battery"), "{message}");
    assert!(!format!("{error:?}").contains("battery"));
    assert!(
        message.starts_with("invalid value for `password` in "),
        "{message}"
    );
    p.write("packit-db.toml", "password = 12345678\n");
    let message = load_err(&p.env(&[]), &Overrides::default()).to_string();
    assert!(!message.contains("12345678"), "{message}");

    // Environment's Debug shows names only.
    let env = p.env(&[
        ("PACKIT_DB_PASSWORD", "staple-secret"),
        ("DATABASE_URL", "postgres://u:staple-url@localhost/db"),
    ]);
    let debug = format!("{env:?}");
    assert!(debug.contains("PACKIT_DB_PASSWORD"), "{debug}");
    assert!(!debug.contains("staple"), "{debug}");

    // A malformed .env line holding a password is reported by line number only.
    p.write("packit-db.toml", "");
    p.write(".env", "PACKIT_DB_PASSWORD=\"unterminated-secret\n");
    let message = load_err(&p.env(&[]), &Overrides::default()).to_string();
    assert!(!message.contains("unterminated-secret"), "{message}");
}

#[test]
fn password_from_environment_levels() {
    let p = Project::new("pw");
    p.write("packit-db.toml", "password = \"file\"\n");
    p.write(".env", "PACKIT_DB_PASSWORD=dotenv\n");
    let config = load_ok(&p.env(&[]), &Overrides::default());
    assert_eq!(config.password.as_deref(), Some("dotenv"));
    let config = load_ok(
        &p.env(&[("PACKIT_DB_PASSWORD", "env")]),
        &Overrides::default(),
    );
    assert_eq!(config.password.as_deref(), Some("env"));
}

// ---------------------------------------------------------------- DATABASE_URL

#[test]
fn database_url_parsing() {
    assert_eq!(
        database_url::parse("postgres://app:p%40ss%3Aw%2Fd@localhost:5433/my%20db?sslmode=disable"),
        Ok(UrlParts {
            user: Some("app".into()),
            password: Some("p@ss:w/d".into()),
            database: Some("my db".into()),
            port: Some(5433),
        })
    );
    assert_eq!(
        database_url::parse("postgresql://u@[::1]:6000/d"),
        Ok(UrlParts {
            user: Some("u".into()),
            password: None,
            database: Some("d".into()),
            port: Some(6000),
        })
    );
    assert_eq!(
        database_url::parse("POSTGRES://127.0.0.1"),
        Ok(UrlParts::default())
    );
    assert_eq!(
        database_url::parse("postgres://u:p@db.example.com:5432/d"),
        Err(Skip::NotLocal("db.example.com".into()))
    );
    assert_eq!(
        database_url::parse("postgres:///d"),
        Err(Skip::NotLocal(String::new()))
    );
    assert_eq!(
        database_url::parse("mysql://localhost/d"),
        Err(Skip::OtherScheme("mysql".into()))
    );
    for bad in [
        "localhost:5432",
        "postgres://localhost:99999/d",
        "postgres://localhost:x/d",
        "postgres://[::1/d",
        "postgres://u:%FF@localhost/d",
    ] {
        assert!(
            matches!(database_url::parse(bad), Err(Skip::Malformed(_))),
            "{bad}"
        );
    }
}

/// Shorthand for the parts a URL supplies.
fn url_parts(
    user: Option<&str>,
    password: Option<&str>,
    database: Option<&str>,
    port: Option<u16>,
) -> UrlParts {
    UrlParts {
        user: user.map(Into::into),
        password: password.map(Into::into),
        database: database.map(Into::into),
        port,
    }
}

#[test]
fn database_url_edges() {
    let accepted = [
        // IPv6 loopback, with and without a port, in any spelling.
        ("postgres://[::1]/d", url_parts(None, None, Some("d"), None)),
        (
            "postgres://[0:0:0:0:0:0:0:1]:5/d",
            url_parts(None, None, Some("d"), Some(5)),
        ),
        // Percent-encoded user and password, `@` and `:` included; a raw `@` in the user
        // info is part of it (the last `@` ends it), and so is a second raw `:`.
        (
            "postgres://us%40er%3Ax:pa%3Ass%40@[::1]/d",
            url_parts(Some("us@er:x"), Some("pa:ss@"), Some("d"), None),
        ),
        (
            "postgres://a@b:c:d@localhost/e",
            url_parts(Some("a@b"), Some("c:d"), Some("e"), None),
        ),
        // Raw characters a URL should encode are taken as written.
        (
            "postgres://u:p w@localhost/my db",
            url_parts(Some("u"), Some("p w"), Some("my db"), None),
        ),
        // Empty parts count as absent.
        (
            "postgres://:pw@localhost/",
            url_parts(None, Some("pw"), None, None),
        ),
        (
            "postgres://u:@localhost:/d",
            url_parts(Some("u"), None, Some("d"), None),
        ),
        ("postgres://@LocalHost", UrlParts::default()),
        // Leading zeros in the port, a path with a slash, the query and fragment ignored.
        (
            "postgres://localhost:05432/a/b?x=1#y",
            url_parts(None, None, Some("a/b"), Some(5432)),
        ),
        (
            " postgresql://127.0.0.1:1/d\n",
            url_parts(None, None, Some("d"), Some(1)),
        ),
    ];
    for (url, parts) in accepted {
        assert_eq!(database_url::parse(url), Ok(parts), "{url:?}");
    }

    let skipped = [
        ("postgres://[::2]:5432/d", Skip::NotLocal("::2".into())),
        ("postgres://127.0.0.2/d", Skip::NotLocal("127.0.0.2".into())),
        (
            "postgres://localhost.example/d",
            Skip::NotLocal("localhost.example".into()),
        ),
        // Unix sockets: no host, with the directory in the query (not read) or percent-encoded
        // in the host.
        (
            "postgres:///d?host=/var/run/postgresql",
            Skip::NotLocal(String::new()),
        ),
        (
            "postgres://%2Fvar%2Frun%2Fpostgresql/d",
            Skip::NotLocal("%2Fvar%2Frun%2Fpostgresql".into()),
        ),
        (
            "PostgreSQL+ssl://localhost/d",
            Skip::OtherScheme("postgresql+ssl".into()),
        ),
        ("sqlite://data.db", Skip::OtherScheme("sqlite".into())),
        // Another tool's URL is recognised as such even when it is not a valid URL.
        ("mysql://[x/d", Skip::OtherScheme("mysql".into())),
    ];
    for (url, skip) in skipped {
        assert_eq!(database_url::parse(url), Err(skip), "{url:?}");
    }

    for bad in [
        "sqlite::memory:",
        "postgres:/d",
        "postgres://localhost:0/d",
        "postgres://localhost:+5/d",
        "postgres://u@/d",
        "postgres://local host/d",
        "postgres://localhost/my\tdb",
        "postgres://%FF@localhost/d",
        "postgres://localhost/%FF",
        "postgres://u%00@localhost/d",
        "postgres://u:p%00@localhost/d",
    ] {
        assert!(
            matches!(database_url::parse(bad), Err(Skip::Malformed(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn database_url_skips_never_show_the_password() {
    for url in [
        "postgres://u:hunter2@db.example.com/d",
        "postgres://u:hunter2@localhost:x/d",
        "postgres://u:hunter2@[::1/d",
        "postgres://u:hunter2%FF@localhost/d",
        "postgres://u:hunter2%00@localhost/d",
        "postgres://u:hunter2@localhost/%FF",
        "postgres://u:hunter2@/d",
        "postgres://u:hunter2/x@localhost/d",
        "postgres://u:hunter2@localhost/a\tb",
    ] {
        let skip = database_url::parse(url).expect_err(url);
        assert!(!format!("{skip:?}").contains("hunter2"), "{url}: {skip:?}");
    }
}

#[test]
fn database_url_local_supplies_settings() {
    let p = Project::new("url");
    let env = p.env(&[(
        "DATABASE_URL",
        "postgres://app%2Duser:s%23cret@127.0.0.1:5444/app%5Fdb",
    )]);
    let config = load_ok(&env, &Overrides::default());
    assert_eq!(config.user, "app-user");
    assert_eq!(config.password.as_deref(), Some("s#cret"));
    assert_eq!(config.database, "app_db");
    assert_eq!(config.port, 5444);
}

#[test]
fn database_url_is_below_packit_db_variables_of_its_level() {
    let p = Project::new("url-prec");
    p.write(
        ".env",
        "PACKIT_DB_USER=dotenv_user\nPACKIT_DB_DATABASE=dotenv_db\n",
    );
    let env = p.env(&[
        ("DATABASE_URL", "postgres://urluser:pw@localhost:5444/urldb"),
        ("PACKIT_DB_PORT", "6000"),
    ]);
    let config = load_ok(&env, &Overrides::default());
    assert_eq!(config.port, 6000);
    // The process DATABASE_URL beats .env's PACKIT_DB_* (a higher level).
    assert_eq!(config.user, "urluser");
    assert_eq!(config.database, "urldb");

    // In .env, PACKIT_DB_* beats DATABASE_URL of the same file.
    p.write(
        ".env",
        "PACKIT_DB_USER=dotenv_user\nDATABASE_URL=postgres://urluser@localhost:5444/urldb\n",
    );
    let config = load_ok(&p.env(&[]), &Overrides::default());
    assert_eq!(config.user, "dotenv_user");
    assert_eq!(config.database, "urldb");
    assert_eq!(config.port, 5444);
}

#[test]
fn database_url_non_local_or_malformed_is_ignored() {
    let p = Project::new("url-skip");
    p.write("packit-db.toml", "port = 7\n");
    for url in [
        "postgres://u:p@db.internal:5432/prod",
        "postgres://u:p@localhost:notaport/d",
        "not a url",
        "redis://localhost:6379",
    ] {
        let config = load_ok(&p.env(&[("DATABASE_URL", url)]), &Overrides::default());
        assert_eq!(config.port, 7, "{url}");
        assert_eq!(config.user, "url_skip", "{url}");
        assert_eq!(config.password, None, "{url}");
    }
}

// ---------------------------------------------------------------- .env

#[test]
fn malformed_dotenv_names_file_and_line() {
    let p = Project::new("dotenv");
    let path = p.write(
        ".env",
        "# comment\nOTHER=1\n\nMULTI=\"a\nb\"\nthis line is wrong\nPACKIT_DB_PORT=1\n",
    );
    let error = load_err(&p.env(&[]), &Overrides::default());
    assert!(
        matches!(&error, ConfigError::DotEnv { path: f, line: 6 } if *f == path),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "malformed line 6 in {}: expected KEY=VALUE (quotes must be closed)",
            path.display()
        )
    );

    p.write(".env", "A=1\nB='unterminated\nC=3\n");
    let error = load_err(&p.env(&[]), &Overrides::default());
    assert!(
        matches!(error, ConfigError::DotEnv { line: 2, .. }),
        "{error:?}"
    );
}

#[test]
fn dotenv_is_found_in_a_parent_and_first_assignment_wins() {
    let p = Project::new("dotenv-parent");
    p.write(
        ".env",
        "\u{feff}PACKIT_DB_PORT=1\nexport PACKIT_DB_PORT=2\nPACKIT_DB_DATABASE='quoted db'\n",
    );
    let cwd = p.dir.join("a/b");
    fs::create_dir_all(&cwd).unwrap();
    let config = load_ok(&env_at(&cwd, &[]), &Overrides::default());
    assert_eq!(config.port, 1);
    assert_eq!(config.database, "quoted db");
    // Without Cargo or packit-db.toml the project is the current directory.
    assert_eq!(config.project, "b");
    assert_eq!(config.project_dir, cwd);
}
