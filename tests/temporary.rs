//! Temporary databases (test-downgrade's scratch databases, load-dump's staging databases)
//! against real engines: the database of a live run is never swept as a leftover, whether no
//! session uses it yet or its run is on another machine; once its run is gone, it is. A run is
//! simulated by what makes one live: a session holding the advisory lock keyed by the
//! database's name, taken before the database is created.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{engines, image_17, image_sclorg, stderr, wait_for, TestProject};

const SCRATCH_MARK: &str = "cargo-packit-db scratch database: safe to drop";
const STAGING_MARK: &str = "cargo-packit-db staging database: safe to drop";

/// The lease key of temporary database `name`, as the tool documents it.
fn key_sql(name: &str) -> String {
    format!(
        "('x' || left(encode(sha256(convert_to('{name}', 'UTF8')), 'hex'), 16))::bit(64)::bigint"
    )
}

/// The image variants: official (direct connections) and sclorg (psql in the container).
fn images() -> [(&'static str, String); 2] {
    [("official", image_17()), ("sclorg", image_sclorg())]
}

/// A project on `image` with the round-trip fixture as its migrations, its container up.
fn project(engine: &common::TestEngine, name: &str, image: &str) -> TestProject {
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/downgrade/good");
    let p = TestProject::new(
        engine,
        name,
        image,
        &format!("migrations = \"{}\"", migrations.display()),
    );
    p.run_ok(&["up", "--no-migrate"]);
    p
}

/// The project's URL with database `db`.
fn url_on(p: &TestProject, db: &str) -> String {
    let mut url = url::Url::parse(&p.url()).unwrap();
    url.set_path(db);
    url.to_string()
}

/// Runs each statement as the superuser on `postgres`, inside the container.
fn superuser_sql(p: &TestProject, image: &str, statements: &[&str]) -> String {
    let app = url::Url::parse(&p.url()).unwrap().username().to_string();
    let user = if image == image_sclorg() {
        "postgres".to_string()
    } else {
        app
    };
    let mut args = vec![
        "exec",
        "-u",
        "postgres",
        &p.container,
        "psql",
        "-X",
        "-At",
        "-v",
        "ON_ERROR_STOP=1",
        "-U",
        &user,
        "-d",
        "postgres",
    ];
    for statement in statements {
        args.extend(["-c", statement]);
    }
    p.engine.cli_ok(&args)
}

/// Creates database `name` marked with `mark`, as a run does (and nothing connects to it).
fn create_marked(p: &TestProject, image: &str, name: &str, mark: &str) {
    superuser_sql(
        p,
        image,
        &[
            &format!("CREATE DATABASE {name} TEMPLATE template0"),
            &format!("COMMENT ON DATABASE {name} IS '{mark}'"),
        ],
    );
}

fn databases_like(p: &TestProject, prefix: &str) -> String {
    p.host_psql(&format!(
        "SELECT coalesce(string_agg(datname, ',' ORDER BY datname), '') FROM pg_database WHERE starts_with(datname, '{prefix}')"
    ))
}

/// Runs the tool, asserting success; returns its stderr.
fn succeed(p: &TestProject, args: &[&str]) -> String {
    let out = p.run(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stderr(&out)
}

/// Whether any session, on any database, holds the lease of `name`.
fn lease_held(p: &TestProject, name: &str) -> bool {
    let key = key_sql(name);
    p.host_psql(&format!(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1
         AND classid::bigint = ({key} >> 32) & 4294967295 AND objid::bigint = {key} & 4294967295"
    )) != "0"
}

/// A live run's lease of temporary database `name`, held by a psql session on `database`
/// from the host (as the application role: the lock needs no privilege).
struct Holder {
    psql: Child,
}

impl Holder {
    fn take(p: &TestProject, database: &str, name: &str) -> Holder {
        let mut psql = Command::new("psql")
            .arg(url_on(p, database))
            .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = psql.stdin.as_mut().unwrap();
        writeln!(stdin, "SELECT pg_try_advisory_lock({});", key_sql(name)).unwrap();
        let mut answer = String::new();
        BufReader::new(psql.stdout.as_mut().unwrap())
            .read_line(&mut answer)
            .unwrap();
        assert_eq!(answer.trim(), "t", "the lease of {name} was free");
        Holder { psql }
    }

    /// Ends the session, as the death of its run does, and waits until the lock is gone.
    fn release(mut self, p: &TestProject, name: &str) {
        drop(self.psql.stdin.take());
        self.psql.wait().unwrap();
        assert!(
            wait_for(Duration::from_secs(10), || !lease_held(p, name)),
            "the lease of {name} ended with its session"
        );
    }
}

/// Race 1: a scratch database that its live run created and marked but has not connected to
/// yet (or is copying a checkpoint of) has no session, which is not a leftover's sign.
#[test]
fn a_scratch_database_is_swept_only_once_its_run_is_gone() {
    for engine in engines() {
        for (variant, image) in images() {
            let p = project(&engine, &format!("tmp-scratch-{variant}"), &image);
            let live = "packit_scratch_999999999_live0001";
            let checkpoint = format!("{live}_c");
            let gone = "packit_scratch_1_gone0001";
            // As a run does: the lease first, then the database; no session on it.
            let holder = Holder::take(&p, "postgres", live);
            for name in [live, &checkpoint, gone] {
                create_marked(&p, &image, name, SCRATCH_MARK);
            }

            succeed(&p, &["test-downgrade"]);
            assert_eq!(
                databases_like(&p, "packit_scratch_"),
                format!("{live},{checkpoint}"),
                "{variant}: the live run's database and its checkpoint are kept, the other swept"
            );

            holder.release(&p, live);
            succeed(&p, &["test-downgrade"]);
            assert_eq!(
                databases_like(&p, "packit_scratch_"),
                "",
                "{variant}: swept once its run is gone"
            );
        }
    }
}

/// Race 2: a staging database of a load on another machine (a process id unknown here) is
/// kept while that load lives, whichever database its lease is on; a load that is gone leaves
/// its database and its dump copy to the next load, even when its process id is in use here.
#[test]
fn a_staging_database_is_swept_only_once_its_load_is_gone() {
    for engine in engines() {
        for (variant, image) in images() {
            let p = project(&engine, &format!("tmp-staging-{variant}"), &image);
            p.host_psql("CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2);");
            let dump = p.dir.path().join("t.dump");
            p.run_ok(&["dump", "--out", &dump.display().to_string()]);

            let remote = "packit_staging_999999999_remote01";
            let gone = "packit_staging_1_gone0001";
            // A load into `postgres` works from template1, and holds its lease there.
            let holder = Holder::take(&p, "template1", remote);
            create_marked(&p, &image, remote, STAGING_MARK);
            create_marked(&p, &image, gone, STAGING_MARK);
            for token in ["999999999_remote01", "1_gone0001"] {
                p.engine.cli_ok(&[
                    "exec",
                    "-u",
                    "0",
                    &p.container,
                    "mkdir",
                    &format!("/tmp/packit-load-{token}"),
                ]);
            }
            let uploads = || {
                p.engine
                    .cli_ok(&["exec", &p.container, "ls", "-1", "/tmp"])
                    .lines()
                    .filter(|l| l.starts_with("packit-load-"))
                    .collect::<Vec<_>>()
                    .join(",")
            };

            let load = ["load-dump", "--yes", &dump.display().to_string()];
            let text = succeed(&p, &load);
            assert!(
                text.contains(&format!(
                    "dropping staging database `{gone}` left by an interrupted load"
                )),
                "{variant}: {text}"
            );
            assert_eq!(databases_like(&p, "packit_staging_"), remote, "{variant}");
            assert_eq!(
                uploads(),
                "packit-load-999999999_remote01",
                "{variant}: only the gone load's dump copy is removed"
            );
            assert_eq!(p.host_psql("SELECT count(*) FROM t"), "2", "{variant}");

            holder.release(&p, remote);
            let text = succeed(&p, &load);
            assert!(
                text.contains(&format!("dropping staging database `{remote}`")),
                "{variant}: {text}"
            );
            assert_eq!(databases_like(&p, "packit_staging_"), "", "{variant}");
            assert_eq!(uploads(), "", "{variant}");
        }
    }
}

/// Where no direct connection is used (sclorg images), the lease is a psql session in the
/// container: it lives as long as the load, and ends with its process when that is killed.
#[test]
fn a_lease_held_through_psql_ends_with_its_process() {
    for engine in engines() {
        let image = image_sclorg();
        let p = project(&engine, "tmp-killed", &image);
        let big = p.dir.path().join("big.sql");
        p.host_psql(
            "CREATE TABLE orders (id bigint PRIMARY KEY, note text);
             INSERT INTO orders SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 400000) g;",
        );
        p.run_ok(&[
            "dump",
            "--format",
            "plain",
            "--out",
            &big.display().to_string(),
        ]);
        let child = p
            .cmd(&["load-dump", "--yes", &big.display().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let loading = wait_for(Duration::from_secs(60), || {
            !databases_like(&p, "packit_staging_").is_empty()
        });
        assert!(loading, "the load started");
        let staging = databases_like(&p, "packit_staging_");
        assert!(
            lease_held(&p, &staging),
            "the load holds the lease of {staging}"
        );
        // The shell's own kill: no procps needed.
        let status = Command::new("sh")
            .args(["-c", "kill -s KILL \"$1\"", "sh"])
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), None, "killed");
        assert!(
            wait_for(Duration::from_secs(10), || !lease_held(&p, &staging)),
            "the lease of {staging} ended with the killed load"
        );
        assert_eq!(
            databases_like(&p, "packit_staging_"),
            staging,
            "left behind"
        );

        let text = succeed(&p, &["load-dump", "--yes", &big.display().to_string()]);
        assert!(
            text.contains(&format!("dropping staging database `{staging}`")),
            "{text}"
        );
        assert_eq!(databases_like(&p, "packit_staging_"), "");
        assert_eq!(p.host_psql("SELECT count(*) FROM orders"), "400000");
    }
}
