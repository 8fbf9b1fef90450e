//! `load-dump` and `dump` against real engines and PostgreSQL: every format, dumps made by the
//! real pg_dump inside the container, and every bad input and fault with the previous database
//! intact (checked by row counts and a full pg_dump of it).

mod common;

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{
    assert_error, engines, image_15, image_17, image_sclorg, stderr, wait_for, TestProject,
};

const DUMP_EXIT: i32 = 11;
const NOT_CONFIRMED_EXIT: i32 = 10;

/// Objects of most kinds, names with capitals, spaces and quotes, data with tabs, quotes,
/// backslashes and newlines.
const SEED: &str = r#"
CREATE TYPE "Order State" AS ENUM ('new', 'paid');
CREATE TABLE "Customers" (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "Full Name" text NOT NULL, state "Order State" DEFAULT 'new');
CREATE TABLE orders (id serial PRIMARY KEY, customer bigint REFERENCES "Customers"(id),
  total numeric(10,2) CHECK (total >= 0), note text);
CREATE INDEX orders_customer ON orders (customer);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
CREATE FUNCTION order_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM orders $$;
COMMENT ON TABLE orders IS 'orders; with a semicolon';
INSERT INTO "Customers" ("Full Name") SELECT 'Customer ' || g FROM generate_series(1, 500) g;
INSERT INTO orders (customer, total, note)
  SELECT 1 + g % 500, g * 1.5, E'tab\there "quote" \\ backslash\nnew line' FROM generate_series(1, 5000) g;
"#;

fn project(engine: &common::TestEngine, name: &str, image: &str) -> TestProject {
    let p = TestProject::new(engine, name, image, "");
    p.run_ok(&["up", "--no-migrate"]);
    p
}

/// The application role (the URL's user).
fn app_user(p: &TestProject) -> String {
    url::Url::parse(&p.url()).unwrap().username().to_string()
}

/// The superuser of the container's image contract.
fn superuser(p: &TestProject) -> String {
    if p.dir.path().join(".sclorg").exists() {
        "postgres".into()
    } else {
        app_user(p)
    }
}

/// SQL through the host's psql on database `db` (published port); trimmed stdout.
fn psql_db(p: &TestProject, db: &str, sql: &str) -> String {
    let mut url = url::Url::parse(&p.url()).unwrap();
    url.set_path(
        &percent_encoding::utf8_percent_encode(db, percent_encoding::NON_ALPHANUMERIC).to_string(),
    );
    let out = Command::new("psql")
        .arg(url.as_str())
        .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "psql on {db} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs a command in the container as OS user postgres (the local socket trusts it).
fn exec(p: &TestProject, args: &[&str]) -> Vec<u8> {
    let mut all = vec!["exec", "-u", "postgres", &p.container];
    all.extend_from_slice(args);
    let out = p.engine.cli(&all);
    assert!(
        out.status.success(),
        "{args:?} in the container failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// pg_dump inside the container, as the superuser.
fn container_pg_dump(p: &TestProject, db: &str, args: &[&str]) -> Vec<u8> {
    let user = superuser(p);
    let mut all = vec!["pg_dump", "-U", &user, "-d", db];
    all.extend_from_slice(args);
    exec(p, &all)
}

/// A database's whole content as pg_dump prints it (the random `\restrict` key removed), so
/// two databases compare equal exactly when schema and data are the same.
fn fingerprint(p: &TestProject, db: &str) -> String {
    String::from_utf8(container_pg_dump(p, db, &["--format=plain"]))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn count_orders(p: &TestProject, db: &str) -> i64 {
    psql_db(p, db, "SELECT count(*) FROM orders")
        .parse()
        .unwrap()
}

fn staging_databases(p: &TestProject) -> String {
    psql_db(
        p,
        "postgres",
        "SELECT string_agg(datname, ',') FROM pg_database WHERE datname LIKE 'packit_staging_%'",
    )
}

/// Dumps of the application database in every format, made by pg_dump in the container.
struct Dumps {
    dir: tempfile::TempDir,
}

impl Dumps {
    fn make(p: &TestProject) -> Dumps {
        let dir = tempfile::tempdir().unwrap();
        let db = app_user(p);
        let db = psql_db(p, &db, "SELECT current_database()");
        let plain = container_pg_dump(p, &db, &["--format=plain"]);
        std::fs::write(dir.path().join("dump.sql"), &plain).unwrap();
        for (tool, ext) in [("gzip", "gz"), ("zstd", "zst")] {
            let out = Command::new(tool)
                .args(["-q", "-k", "-f"])
                .arg(dir.path().join("dump.sql"))
                .status()
                .unwrap();
            assert!(out.success(), "{tool} failed");
            assert!(dir.path().join(format!("dump.sql.{ext}")).exists());
        }
        // Archives are written to a file in the container (as people do), then copied out.
        for (format, name) in [("custom", "dump.pgdump"), ("tar", "dump.tar")] {
            let inside = format!("/tmp/test-{name}");
            container_pg_dump(
                p,
                &db,
                &[&format!("--format={format}"), &format!("--file={inside}")],
            );
            std::fs::write(dir.path().join(name), exec(p, &["cat", &inside])).unwrap();
        }
        container_pg_dump(p, &db, &["--format=directory", "--file=/tmp/test-dir"]);
        let tar = exec(p, &["tar", "-C", "/tmp/test-dir", "-cf", "-", "."]);
        let target = dir.path().join("dump.dir");
        std::fs::create_dir(&target).unwrap();
        let mut untar = Command::new("tar")
            .arg("-C")
            .arg(&target)
            .args(["-xf", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(untar.stdin.as_mut().unwrap(), &tar).unwrap();
        drop(untar.stdin.take());
        assert!(untar.wait().unwrap().success());
        Dumps { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

const FORMATS: &[(&str, &str)] = &[
    ("dump.sql", "plain SQL"),
    ("dump.sql.gz", "gzip-compressed plain SQL"),
    ("dump.sql.zst", "zstd-compressed plain SQL"),
    ("dump.pgdump", "custom format"),
    ("dump.tar", "tar format"),
    ("dump.dir", "directory format"),
];

#[test]
fn every_format_loads_into_an_identical_database_and_dump_round_trips() {
    for engine in engines() {
        let (p, app, dumps) = seeded(&engine, "formats");
        let original = fingerprint(&p, &app);
        let copy = "Copy \"Q\" Db";
        for (i, (file, format)) in FORMATS.iter().enumerate() {
            let mut args = vec!["load-dump", "--database", copy, "--yes"];
            if i > 0 {
                args.push("--replace");
            }
            let path = dumps.arg(file);
            args.push(&path);
            let out = p.run_ok(&args);
            assert!(
                out.contains(format),
                "{file}: summary `{out}` names the format"
            );
            assert!(out.contains("2 tables"), "{file}: {out}");
            assert_eq!(fingerprint(&p, copy), original, "{file} on {}", engine.kind);
        }
        assert_eq!(
            psql_db(
                &p,
                "postgres",
                "SELECT count(*) FROM pg_database WHERE datname LIKE 'Copy%'"
            ),
            "1",
            "--replace dropped each previous copy"
        );

        // Standard input, plain and custom.
        for file in ["dump.sql.gz", "dump.pgdump"] {
            let out = p
                .cmd(&["load-dump", "--database", copy, "--replace", "--yes", "-"])
                .stdin(std::fs::File::open(dumps.path(file)).unwrap())
                .output()
                .unwrap();
            assert!(out.status.success(), "stdin {file}: {}", stderr(&out));
            assert_eq!(fingerprint(&p, copy), original, "stdin {file}");
        }

        // `dump` in both formats loads back into an identical database.
        for format in ["custom", "plain"] {
            let out = p.dir.path().join(format!("ours.{format}"));
            let out_arg = out.display().to_string();
            p.run_ok(&["dump", "--format", format, "--out", &out_arg]);
            let leftovers: Vec<_> = std::fs::read_dir(p.dir.path())
                .unwrap()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
                .collect();
            assert!(leftovers.is_empty(), "no temporary file is left");
            p.run_ok(&[
                "load-dump",
                "--database",
                "roundtrip",
                "--replace",
                "--yes",
                &out_arg,
            ]);
            assert_eq!(
                fingerprint(&p, "roundtrip"),
                original,
                "dump --format {format}"
            );
        }

        // Into the application database itself: the previous one is kept under a dated name.
        psql_db(&p, &app, "DELETE FROM orders WHERE id > 10");
        let out = p.run_ok(&["load-dump", "--jobs", "2", &dumps.arg("dump.pgdump")]);
        assert!(out.contains("previous database kept as"), "{out}");
        assert_eq!(count_orders(&p, &app), 5000);
        let kept = psql_db(
            &p,
            "postgres",
            &format!("SELECT datname FROM pg_database WHERE datname LIKE '{app}_before_%'"),
        );
        assert_eq!(
            count_orders(&p, &kept),
            10,
            "the previous database is intact"
        );
        assert_eq!(staging_databases(&p), "");
    }
}

#[test]
fn a_new_owner_role_owns_and_loads_everything() {
    for engine in engines() {
        let (p, _, dumps) = seeded(&engine, "owner");
        let owner = "Shop \"Owner\"";
        for file in ["dump.sql", "dump.pgdump"] {
            p.run_ok(&[
                "load-dump",
                "--owner",
                owner,
                "--missing-roles",
                "ignore-owner",
                "--database",
                "owned",
                "--replace",
                "--yes",
                &dumps.arg(file),
            ]);
            assert_eq!(
                psql_db(
                    &p,
                    "owned",
                    "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
                ),
                owner
            );
            assert_eq!(
                psql_db(
                    &p,
                    "owned",
                    "SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public'"
                ),
                owner,
                "{file}"
            );
            assert_eq!(count_orders(&p, "owned"), 5000);
        }
        // It was created LOGIN with the project's password.
        assert_eq!(
            psql_db(
                &p,
                "postgres",
                &format!(
                    "SELECT rolcanlogin FROM pg_roles WHERE rolname = '{}'",
                    owner.replace('\'', "''")
                )
            ),
            "t"
        );
    }
}

#[test]
fn sclorg_images_load_with_a_non_superuser_application_role() {
    for engine in engines() {
        let p = TestProject::new(&engine, "sclorg", &image_sclorg(), "");
        std::fs::write(p.dir.path().join(".sclorg"), "").unwrap();
        p.run_ok(&["up", "--no-migrate"]);
        let app = app_user(&p);
        psql_db(&p, &app, SEED);
        let original = fingerprint(&p, &app);
        let dumps = Dumps::make(&p);
        for file in ["dump.sql.gz", "dump.pgdump"] {
            p.run_ok(&["load-dump", "--replace", "--yes", &dumps.arg(file)]);
            assert_eq!(fingerprint(&p, &app), original, "{file} on sclorg");
        }
    }
}

/// `dump` into outputs that cannot take it: a pipe whose reader stops early, a directory, a
/// FIFO (written as it is, not replaced), each with a one-line error or the whole dump, and no
/// pg_dump left running in the container.
#[test]
fn dump_outputs_that_stop_or_are_not_files() {
    let Some(engine) = engines().into_iter().next() else {
        return;
    };
    let p = project(&engine, "dump-outputs", &image_17());
    let app = app_user(&p);
    // About 10 MB of plain SQL: far more than a pipe holds.
    psql_db(
        &p,
        &app,
        "CREATE TABLE big (id int, t text);
         INSERT INTO big SELECT g, repeat('x', 500) FROM generate_series(1, 20000) g;",
    );
    for format in ["plain", "custom"] {
        let mut child = p
            .cmd(&["dump", "--format", format, "--out", "-"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 100];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut head).unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_error(
            &out,
            DUMP_EXIT,
            "cannot write standard output: the command reading it stopped before the dump ended",
        );
        assert!(
            wait_for(Duration::from_secs(10), || psql_db(
                &p,
                "postgres",
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump'"
            ) == "0"),
            "pg_dump ({format}) still runs in the container"
        );
    }

    let out = p.run(&["dump", "--out", &p.dir.path().display().to_string()]);
    assert_error(&out, DUMP_EXIT, "it is a directory: name a file in it");

    let fifo = p.dir.path().join("dump.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    p.run_ok(&[
        "dump",
        "--format",
        "plain",
        "--out",
        &fifo.display().to_string(),
    ]);
    assert!(
        std::fs::metadata(&fifo).unwrap().file_type().is_fifo(),
        "the FIFO is still a FIFO"
    );
    // Not joined blindly: a reader nobody writes to would wait for ever.
    assert!(
        wait_for(Duration::from_secs(30), || reader.is_finished()),
        "the dump never reached the FIFO's reader"
    );
    let dumped = String::from_utf8(reader.join().unwrap()).unwrap();
    assert!(
        dumped.contains("CREATE TABLE public.big"),
        "{}",
        &dumped[..200]
    );
    assert!(dumped.contains("PostgreSQL database dump complete"));
}

/// A PostgreSQL 17 project whose application database holds [`SEED`], and dumps of it.
fn seeded(engine: &common::TestEngine, name: &str) -> (TestProject, String, Dumps) {
    let p = project(engine, name, &image_17());
    let app = app_user(&p);
    psql_db(&p, &app, SEED);
    let dumps = Dumps::make(&p);
    (p, app, dumps)
}

/// Roles that exist where the dump was made but not where it is loaded.
fn dumps_naming_missing_roles(p: &TestProject) -> Dumps {
    let app = app_user(p);
    psql_db(
        p,
        &app,
        "CREATE ROLE prod_owner; CREATE ROLE \"Read Only\";",
    );
    psql_db(p, &app, "CREATE DATABASE src OWNER prod_owner");
    psql_db(
        p,
        "src",
        "SET ROLE prod_owner; CREATE TABLE things (id int); INSERT INTO things VALUES (1), (2);
         GRANT SELECT ON things TO \"Read Only\";",
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("roles.sql"),
        container_pg_dump(p, "src", &[]),
    )
    .unwrap();
    container_pg_dump(p, "src", &["--format=custom", "--file=/tmp/roles.pgdump"]);
    std::fs::write(
        dir.path().join("roles.pgdump"),
        exec(p, &["cat", "/tmp/roles.pgdump"]),
    )
    .unwrap();
    psql_db(p, &app, "DROP DATABASE src");
    psql_db(p, &app, "DROP ROLE prod_owner; DROP ROLE \"Read Only\";");
    Dumps { dir }
}

#[test]
fn missing_roles_fail_create_or_are_left_out() {
    for engine in engines() {
        let p = project(&engine, "roles", &image_17());
        let dumps = dumps_naming_missing_roles(&p);
        let databases = "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database";
        for file in ["roles.sql", "roles.pgdump"] {
            let before = psql_db(&p, "postgres", databases);
            let out = p.run(&["load-dump", "--database", "t", "--yes", &dumps.arg(file)]);
            assert_error(
                &out,
                DUMP_EXIT,
                "refers to roles that do not exist in the container: Read Only, prod_owner",
            );
            assert!(stderr(&out).contains("--missing-roles create"));
            assert_eq!(
                psql_db(&p, "postgres", databases),
                before,
                "{file}: nothing changed"
            );

            let out = p.run_ok(&[
                "load-dump",
                "--database",
                "t",
                "--replace",
                "--yes",
                "--missing-roles",
                "ignore-owner",
                &dumps.arg(file),
            ]);
            assert!(out.contains("left out"), "{file}: {out}");
            let app = app_user(&p);
            assert_eq!(
                psql_db(
                    &p,
                    "t",
                    "SELECT tableowner FROM pg_tables WHERE tablename = 'things'"
                ),
                app
            );
            assert_eq!(psql_db(&p, "t", "SELECT count(*) FROM things"), "2");
            assert_eq!(
                psql_db(
                    &p,
                    "postgres",
                    "SELECT count(*) FROM pg_roles WHERE rolname IN ('prod_owner', 'Read Only')"
                ),
                "0"
            );
        }
        for file in ["roles.sql", "roles.pgdump"] {
            let out = p.run_ok(&[
                "load-dump",
                "--database",
                "t",
                "--replace",
                "--yes",
                "--missing-roles",
                "create",
                &dumps.arg(file),
            ]);
            // The first load creates them; the second finds them.
            assert_eq!(
                out.contains("created roles"),
                file == "roles.sql",
                "{file}: {out}"
            );
            assert_eq!(
                psql_db(
                    &p,
                    "t",
                    "SELECT tableowner FROM pg_tables WHERE tablename = 'things'"
                ),
                "prod_owner"
            );
            assert_eq!(
                psql_db(
                    &p,
                    "t",
                    "SELECT has_table_privilege('Read Only', 'things', 'SELECT')"
                ),
                "t"
            );
            assert_eq!(
                psql_db(&p, "postgres", "SELECT string_agg(rolname || ':' || rolcanlogin, ',' ORDER BY rolname) FROM pg_roles WHERE rolname IN ('prod_owner', 'Read Only')"),
                "Read Only:false,prod_owner:false"
            );
        }
    }
}

#[test]
fn bad_dumps_are_refused_and_the_database_is_untouched() {
    for engine in engines() {
        let (p, app, dumps) = seeded(&engine, "bad");
        let before = fingerprint(&p, &app);
        let dir = dumps.dir.path();
        let write = |name: &str, bytes: &[u8]| {
            std::fs::write(dir.join(name), bytes).unwrap();
            dir.join(name).display().to_string()
        };
        let plain = std::fs::read(dumps.path("dump.sql")).unwrap();
        let gz = std::fs::read(dumps.path("dump.sql.gz")).unwrap();
        let custom = std::fs::read(dumps.path("dump.pgdump")).unwrap();
        let mut half_way_error = String::from_utf8(plain.clone()).unwrap();
        let cut = half_way_error.find("COPY public.orders").unwrap();
        half_way_error.insert_str(cut, "SELECT no_such_function();\n");
        let unreadable = write("unreadable.sql", b"SELECT 1;\n");
        std::fs::set_permissions(
            &unreadable,
            std::os::unix::fs::PermissionsExt::from_mode(0o000),
        )
        .unwrap();
        let cases: Vec<(String, &str)> = vec![
            (dir.join("missing.sql").display().to_string(), "cannot read"),
            (write("empty.sql", b""), "is empty"),
            (
                write("picture.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01"),
                "it is a PNG image",
            ),
            (
                write("truncated.sql.gz", &gz[..gz.len() / 2]),
                "is corrupt or truncated (the gzip stream ends early)",
            ),
            (
                write("truncated.pgdump", &custom[..custom.len() * 2 / 3]),
                "is corrupt or truncated",
            ),
            (
                write("truncated.sql", &plain[..plain.len() / 2]),
                "the file is truncated",
            ),
            (
                write("error.sql", half_way_error.as_bytes()),
                "function no_such_function() does not exist",
            ),
            (
                write(
                    "create.sql",
                    b"CREATE DATABASE x;\n\\connect x\nCREATE TABLE t ();\n",
                ),
                "connects to another database itself",
            ),
        ];
        let root = common::is_root();
        for (path, needle) in &cases {
            if path.ends_with("unreadable.sql") && root {
                continue; // root reads any file
            }
            let out = p.run(&["load-dump", "--yes", path]);
            assert_error(&out, DUMP_EXIT, needle);
            assert!(
                stderr(&out)
                    .lines()
                    .filter(|l| l.starts_with("error:"))
                    .count()
                    == 1
            );
            assert_eq!(
                fingerprint(&p, &app),
                before,
                "{path} left the database as it was"
            );
            assert_eq!(
                staging_databases(&p),
                "",
                "{path}: no staging database left"
            );
        }
        // The error names the dump's line.
        let out = p.run(&[
            "load-dump",
            "--yes",
            &dir.join("error.sql").display().to_string(),
        ]);
        let line = half_way_error[..cut].lines().count() + 1;
        assert_error(
            &out,
            DUMP_EXIT,
            &format!("line {line}: ERROR: function no_such_function()"),
        );
        assert!(stderr(&out).contains(&format!("the database `{app}` is unchanged")));
    }
}

#[test]
fn a_dump_from_a_newer_pg_dump_is_refused_before_loading() {
    for engine in engines() {
        let newer = project(&engine, "newer17", &image_17());
        psql_db(&newer, &app_user(&newer), SEED);
        let dumps = Dumps::make(&newer);
        let older = project(&engine, "older15", &image_15());
        let app = app_user(&older);
        psql_db(
            &older,
            &app,
            "CREATE TABLE orders (id int); INSERT INTO orders VALUES (1);",
        );
        for file in [
            "dump.sql",
            "dump.sql.gz",
            "dump.pgdump",
            "dump.tar",
            "dump.dir",
        ] {
            let out = older.run(&["load-dump", "--yes", &dumps.arg(file)]);
            assert_error(&out, DUMP_EXIT, "was made by pg_dump 17.");
            let text = stderr(&out);
            assert!(
                text.contains("newer than the container's PostgreSQL 15."),
                "{text}"
            );
            assert!(
                text.contains("use image `localhost/packit-db-test/postgres:17`"),
                "{text}"
            );
            assert_eq!(count_orders(&older, &app), 1);
            assert_eq!(staging_databases(&older), "");
        }
    }
}

#[test]
fn open_sessions_and_replacing_need_confirmation() {
    for engine in engines() {
        let (p, app, dumps) = seeded(&engine, "sessions");
        psql_db(&p, &app, "DELETE FROM orders WHERE id > 3");
        // --replace without a terminal and without --yes: refused before loading.
        let out = p.run(&["load-dump", "--replace", &dumps.arg("dump.pgdump")]);
        assert_error(&out, NOT_CONFIRMED_EXIT, "needs confirmation");
        assert_eq!(count_orders(&p, &app), 3);

        // A session on the target: refused without --yes; --yes ends it and loads.
        let mut holder = Command::new("psql")
            .arg(p.url())
            .args(["-X", "-c", "SELECT pg_sleep(60)"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        assert!(wait_for(Duration::from_secs(10), || {
            psql_db(
            &p,
            "postgres",
            &format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{app}' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()")
        ) == "1"
        }));
        let out = p.run(&["load-dump", &dumps.arg("dump.pgdump")]);
        assert_error(&out, NOT_CONFIRMED_EXIT, "end 1 open session(s)");
        assert_eq!(count_orders(&p, &app), 3);
        assert_eq!(staging_databases(&p), "");
        p.run_ok(&["load-dump", "--yes", &dumps.arg("dump.pgdump")]);
        assert_eq!(count_orders(&p, &app), 5000);
        let status = holder.wait().unwrap();
        assert!(!status.success(), "the session was ended");
    }
}

/// A plain dump big enough that a load takes a few seconds.
fn big_dump(p: &TestProject, dir: &Path) -> PathBuf {
    let app = app_user(p);
    psql_db(p, &app, "CREATE DATABASE big");
    psql_db(
        p,
        "big",
        "CREATE TABLE orders (id bigint PRIMARY KEY, note text);
         INSERT INTO orders SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 400000) g;",
    );
    let path = dir.join("big.sql");
    std::fs::write(&path, container_pg_dump(p, "big", &[])).unwrap();
    psql_db(p, &app, "DROP DATABASE big");
    path
}

#[test]
fn a_load_killed_or_interrupted_half_way_leaves_the_target_and_is_cleaned_up() {
    for engine in engines() {
        let p = project(&engine, "kill", &image_17());
        let app = app_user(&p);
        let dir = tempfile::tempdir().unwrap();
        let big = big_dump(&p, dir.path());
        psql_db(&p, &app, "CREATE TABLE orders (id bigint, note text); INSERT INTO orders VALUES (1, 'old'), (2, 'old');");
        for signal in ["KILL", "INT", "TERM"] {
            let child = p
                .cmd(&["load-dump", "--yes", &big.display().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // Half-way: the staging database exists and holds rows.
            let started = wait_for(Duration::from_secs(60), || {
                psql_db(
                    &p,
                    "postgres",
                    "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'packit_staging_%' AND query LIKE 'COPY%'",
                ) != "0"
            });
            assert!(started, "the load started");
            // The shell's own kill: no procps needed.
            let status = Command::new("sh")
                .args(["-c", "kill -s \"$1\" \"$2\"", "sh", signal])
                .arg(child.id().to_string())
                .status()
                .unwrap();
            assert!(status.success());
            let output = child.wait_with_output().unwrap();
            match signal {
                "KILL" => assert_eq!(output.status.code(), None),
                _ => {
                    // 128 + the signal's number: SIGINT 2, SIGTERM 15.
                    let code = if signal == "INT" { 130 } else { 143 };
                    assert_eq!(output.status.code(), Some(code), "{}", stderr(&output));
                    assert_eq!(
                        staging_databases(&p),
                        "",
                        "SIG{signal} drops the staging database"
                    );
                }
            }
            assert_eq!(
                count_orders(&p, &app),
                2,
                "after SIG{signal} the target holds its old rows"
            );
        }
        // The next run removes what the killed one left, and loads.
        let small = dir.path().join("small.sql");
        psql_db(&p, &app, "CREATE DATABASE small");
        psql_db(
            &p,
            "small",
            "CREATE TABLE orders (id bigint, note text); INSERT INTO orders VALUES (1, 'new');",
        );
        std::fs::write(&small, container_pg_dump(&p, "small", &[])).unwrap();
        let out = p
            .cmd(&["load-dump", "--yes", &small.display().to_string()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(staging_databases(&p), "");
        assert_eq!(count_orders(&p, &app), 1);
        let leftovers = String::from_utf8(exec(&p, &["ls", "/tmp"])).unwrap();
        assert!(
            !leftovers.contains("packit-load-"),
            "no dump copy is left in the container: {leftovers}"
        );
    }
}
