//! `migrate` against real engines and PostgreSQL: both layouts, compatibility with sqlx's own
//! Migrator and diesel's table, and every bad input with the database left where it was.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{assert_error, engines, image_17, stderr, TestProject};

fn write(dir: &Path, name: &str, content: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// A project whose migrations folder is `migrations/` inside it, with the container up.
fn project(engine: &common::TestEngine, name: &str, extra: &str) -> TestProject {
    let p = TestProject::new(engine, name, &image_17(), extra);
    std::fs::create_dir_all(p.dir.path().join("migrations")).unwrap();
    p.run_ok(&["up", "--no-migrate"]);
    p
}

fn migrations(p: &TestProject) -> std::path::PathBuf {
    p.dir.path().join("migrations")
}

fn copy_sample_chain(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".sql") {
            std::fs::copy(entry.path(), to.join(name)).unwrap();
        }
    }
}

fn status_json(p: &TestProject) -> serde_json::Value {
    serde_json::from_str(&p.run_ok(&["migrate", "status", "--format", "json"])).unwrap()
}

fn states(p: &TestProject) -> Vec<String> {
    status_json(p)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap().to_string())
        .collect()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// sqlx's own Migrator on the same folder and database.
fn sqlx_migrator_run(url: &str, dir: &Path) -> Result<(), String> {
    block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .map_err(|e| e.to_string())?;
        let migrator = sqlx::migrate::Migrator::new(dir)
            .await
            .map_err(|e| e.to_string())?;
        let result = migrator.run(&pool).await.map_err(|e| e.to_string());
        pool.close().await;
        result
    })
}

#[test]
fn the_sample_chain_round_trips_and_sqlx_agrees_both_ways() {
    for engine in engines() {
        let p = project(&engine, "mig-sqlx", "");
        copy_sample_chain(&migrations(&p));
        let count = std::fs::read_dir(migrations(&p))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".up.sql")
            })
            .count();
        assert!(count >= 8);

        let out = p.run_ok(&["migrate"]);
        assert_eq!(
            out.lines().filter(|l| l.starts_with("applied")).count(),
            count,
            "{out}"
        );
        assert!(states(&p).iter().all(|s| s == "applied"));
        let status = p.run_ok(&["status"]);
        assert!(
            status.contains(&format!("{count} applied, 0 pending")),
            "{status}"
        );

        // sqlx's Migrator sees our work as its own: nothing to do, no checksum mismatch.
        let before = p.host_psql("select string_agg(version || ':' || installed_on, ',' order by version) from _sqlx_migrations");
        sqlx_migrator_run(&p.url(), &migrations(&p)).expect("sqlx accepts our tracking rows");
        let after = p.host_psql("select string_agg(version || ':' || installed_on, ',' order by version) from _sqlx_migrations");
        assert_eq!(before, after);

        // Revert everything; the schema is empty again.
        let out = p.run_ok(&["migrate", "down", "--to", "0"]);
        assert_eq!(
            out.lines().filter(|l| l.starts_with("reverted")).count(),
            count
        );
        assert_eq!(p.host_psql("select count(*) from pg_tables where schemaname = 'public' and tablename <> '_sqlx_migrations'"), "0");
        assert!(states(&p).iter().all(|s| s == "pending"));

        // The other way round: sqlx applies, we agree.
        sqlx_migrator_run(&p.url(), &migrations(&p)).unwrap();
        assert!(
            states(&p).iter().all(|s| s == "applied"),
            "{:?}",
            states(&p)
        );

        // down (one step, like downgrade -1), redo, and `up` applying pending ones at start.
        let out = p.run_ok(&["migrate", "down"]);
        assert_eq!(out.lines().filter(|l| l.starts_with("reverted")).count(), 1);
        assert_eq!(states(&p).last().unwrap(), "pending");
        let out = p.run(&["up"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("applied"));
        assert!(states(&p).iter().all(|s| s == "applied"));
        let out = p.run_ok(&["migrate", "redo", "--steps", "2"]);
        assert_eq!(
            out.lines().filter(|l| l.starts_with("reverted")).count(),
            2,
            "{out}"
        );
        assert_eq!(
            out.lines().filter(|l| l.starts_with("applied")).count(),
            2,
            "{out}"
        );
        assert!(p.run_ok(&["migrate", "status"]).contains("up to date"));
    }
}

#[test]
fn diesel_sets_use_diesels_table_and_versions() {
    for engine in engines() {
        let p = project(&engine, "mig-diesel", "");
        let dir = migrations(&p);
        write(
            &dir,
            "2019-02-26-002946_create_users/up.sql",
            "CREATE TABLE users (id serial PRIMARY KEY);\n",
        );
        write(
            &dir,
            "2019-02-26-002946_create_users/down.sql",
            "DROP TABLE users;\n",
        );
        write(
            &dir,
            "20190301000000_add_email/up.sql",
            "ALTER TABLE users ADD COLUMN email text;\n",
        );
        write(
            &dir,
            "20190301000000_add_email/down.sql",
            "ALTER TABLE users DROP COLUMN email;\n",
        );
        write(
            &dir,
            "2026-07-15-182934-0000_index_email/up.sql",
            "CREATE INDEX CONCURRENTLY users_email ON users (email);\n",
        );
        write(
            &dir,
            "2026-07-15-182934-0000_index_email/down.sql",
            "DROP INDEX CONCURRENTLY users_email;\n",
        );
        write(
            &dir,
            "2026-07-15-182934-0000_index_email/metadata.toml",
            "run_in_transaction = false\n",
        );

        // The first one applied by hand, the way diesel would have.
        p.host_psql("CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)");
        p.host_psql("CREATE TABLE users (id serial PRIMARY KEY)");
        p.host_psql("INSERT INTO __diesel_schema_migrations (version) VALUES ('20190226002946')");

        assert_eq!(states(&p), vec!["applied", "pending", "pending"]);
        assert_eq!(status_json(&p)["table"], "__diesel_schema_migrations");
        p.run_ok(&["migrate"]);
        assert_eq!(
            p.host_psql(
                "select string_agg(version, ',' order by version) from __diesel_schema_migrations"
            ),
            "20190226002946,20190301000000,202607151829340000"
        );
        assert_eq!(
            p.host_psql("select count(*) from pg_indexes where indexname = 'users_email'"),
            "1"
        );
        p.run_ok(&["migrate", "down", "--steps", "2"]);
        assert_eq!(
            p.host_psql("select string_agg(version, ',') from __diesel_schema_migrations"),
            "20190226002946"
        );
        assert_eq!(
            p.host_psql(
                "select count(*) from information_schema.columns where table_name = 'users'"
            ),
            "1"
        );
        p.run_ok(&["migrate", "up", "--to", "2019-03-01-000000"]);
        assert_eq!(states(&p), vec!["applied", "applied", "pending"]);
    }
}

#[test]
fn a_migration_failing_half_way_is_rolled_back_and_named_with_its_position() {
    for engine in engines() {
        let p = project(&engine, "mig-fail", "");
        let dir = migrations(&p);
        write(&dir, "1_first.up.sql", "CREATE TABLE first (id int);\n");
        write(&dir, "1_first.down.sql", "DROP TABLE first;\n");
        write(&dir, "2_broken.up.sql", "CREATE TABLE second (id int);\n\nINSERT INTO second\n  SELECT no_such_column FROM first;\n");
        write(&dir, "2_broken.down.sql", "DROP TABLE second;\n");
        let out = p.run(&["migrate"]);
        assert_error(&out, 9, "2_broken.up.sql:4:10: column \"no_such_column\" does not exist; nothing of it was applied");
        assert!(String::from_utf8_lossy(&out.stdout).contains("applied  1_first"));
        assert_eq!(states(&p), vec!["applied", "pending"]);
        assert_eq!(
            p.host_psql("select count(*) from pg_tables where tablename = 'second'"),
            "0"
        );
        assert_eq!(p.host_psql("select count(*) from _sqlx_migrations"), "1");
    }
}

#[test]
fn a_failing_no_transaction_migration_says_what_may_be_left() {
    for engine in engines() {
        let p = project(&engine, "mig-notx", "");
        let dir = migrations(&p);
        write(&dir, "1_notx.up.sql", "-- no-transaction\nCREATE TABLE partial (id int);\nCREATE INDEX CONCURRENTLY partial_id ON partial (id);\nSELECT nope FROM partial;\n");
        write(
            &dir,
            "1_notx.down.sql",
            "-- no-transaction\nDROP TABLE partial;\n",
        );
        let out = p.run(&["migrate"]);
        assert_error(&out, 9, "1_notx.up.sql:4:8: column \"nope\" does not exist");
        let err = stderr(&out);
        assert!(err.contains("the database may be partly changed: the 2 statement(s) before the failing one were applied"), "{err}");
        assert!(
            err.contains("DELETE FROM _sqlx_migrations WHERE version = 1"),
            "{err}"
        );
        assert_eq!(states(&p), vec!["failed"]);
        assert!(p.run_ok(&["migrate", "status"]).contains("failed part-way"));
        // What ran before the failure is still there, as the message says.
        assert_eq!(
            p.host_psql("select count(*) from pg_indexes where indexname = 'partial_id'"),
            "1"
        );
        assert_error(
            &p.run(&["migrate"]),
            9,
            "nothing was applied: migration 1 (notx) failed part-way",
        );
    }
}

#[test]
fn edited_and_missing_migrations_block_with_the_fix() {
    for engine in engines() {
        let p = project(&engine, "mig-drift", "");
        let dir = migrations(&p);
        write(&dir, "1_a.up.sql", "CREATE TABLE a (id int);\n");
        write(&dir, "1_a.down.sql", "DROP TABLE a;\n");
        write(&dir, "2_b.up.sql", "CREATE TABLE b (id int);\n");
        write(&dir, "2_b.down.sql", "DROP TABLE b;\n");
        p.run_ok(&["migrate"]);

        write(&dir, "1_a.up.sql", "CREATE TABLE a (id bigint);\n");
        write(&dir, "3_c.up.sql", "CREATE TABLE c (id int);\n");
        write(&dir, "3_c.down.sql", "DROP TABLE c;\n");
        let status = p.run_ok(&["migrate", "status"]);
        assert!(
            status.contains("MODIFIED") && status.contains("checksum applied"),
            "{status}"
        );
        assert!(
            status.contains("was edited after it was applied"),
            "{status}"
        );
        let out = p.run(&["migrate"]);
        assert_error(
            &out,
            9,
            "nothing was applied: migration 1 (a) was edited after it was applied",
        );
        assert!(stderr(&out).contains("git checkout -- "));
        assert_eq!(
            p.host_psql("select count(*) from pg_tables where tablename = 'c'"),
            "0"
        );

        write(&dir, "1_a.up.sql", "CREATE TABLE a (id int);\n");
        std::fs::remove_file(dir.join("2_b.up.sql")).unwrap();
        std::fs::remove_file(dir.join("2_b.down.sql")).unwrap();
        assert_eq!(states(&p), vec!["applied", "missing-locally", "pending"]);
        let out = p.run(&["migrate"]);
        assert_error(
            &out,
            9,
            "migration 2 (b) is applied to the database but not in",
        );
        assert!(stderr(&out).contains("another branch"));
    }
}

#[test]
fn reverting_refuses_irreversible_and_unknown_targets() {
    for engine in engines() {
        let p = project(&engine, "mig-irrev", "");
        let dir = migrations(&p);
        write(&dir, "1_a.up.sql", "CREATE TABLE a (id int);\n");
        write(&dir, "1_a.down.sql", "DROP TABLE a;\n");
        write(&dir, "2_seed.sql", "INSERT INTO a VALUES (1);\n");
        write(&dir, "3_c.up.sql", "CREATE TABLE c (id int);\n");
        write(&dir, "3_c.down.sql", "-- not reversible\n");
        write(&dir, "4_d.up.sql", "CREATE TABLE d (id int);\n");
        write(&dir, "4_d.down.sql", "DROP TABLE d;\n");
        p.run_ok(&["migrate"]);

        let out = p.run(&["migrate", "down", "--steps", "2"]);
        assert_error(&out, 9, "migration 3_c cannot be reverted: its down file");
        assert!(stderr(&out).contains("holds no statement"));
        assert_eq!(
            states(&p),
            vec!["applied"; 4],
            "nothing reverted, not even 4"
        );
        p.host_psql("select 1 from d");

        let out = p.run(&["migrate", "down", "--to", "1"]);
        assert_error(&out, 9, "cannot be reverted");
        let out = p.run(&["migrate", "down", "--to", "99"]);
        assert_error(&out, 9, "--to 99: no migration with that version");
        let out = p.run(&["migrate", "up", "--to", "77"]);
        assert_error(&out, 9, "--to 77: no migration with that version");
        assert_eq!(states(&p), vec!["applied"; 4]);
    }
}

#[test]
fn the_other_layouts_tracking_table_is_refused() {
    for engine in engines() {
        let p = project(&engine, "mig-layout", "");
        write(&migrations(&p), "1_a.up.sql", "CREATE TABLE a (id int);\n");
        write(&migrations(&p), "1_a.down.sql", "DROP TABLE a;\n");
        p.host_psql("CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)");
        let out = p.run(&["migrate"]);
        assert_error(
            &out,
            9,
            "the database is tracked by diesel (__diesel_schema_migrations) but the folder",
        );
        assert_eq!(
            p.host_psql("select to_regclass('_sqlx_migrations') is null"),
            "t"
        );
    }
}

#[test]
fn concurrent_runs_wait_for_the_lock_and_never_apply_twice() {
    for engine in engines() {
        let p = project(&engine, "mig-lock", "");
        write(
            &migrations(&p),
            "1_slow.up.sql",
            "CREATE TABLE slow (id int);\nSELECT pg_sleep(2);\n",
        );
        write(&migrations(&p), "1_slow.down.sql", "DROP TABLE slow;\n");
        let first = p
            .cmd(&["migrate"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(700));
        let second = p.run(&["migrate"]);
        let first = first.wait_with_output().unwrap();
        assert!(first.status.success(), "{}", stderr(&first));
        assert!(second.status.success(), "{}", stderr(&second));
        let applied = [&first, &second]
            .iter()
            .filter(|o| String::from_utf8_lossy(&o.stdout).contains("applied  1_slow"))
            .count();
        assert_eq!(applied, 1, "applied exactly once");
        assert!(
            stderr(&second).contains("another migration run holds the lock"),
            "{}",
            stderr(&second)
        );

        // A lock that is never released ends in a clear error.
        let lock = cargo_packit_db::migrations::lock_id(&status_db(&p));
        let mut holder = std::process::Command::new("psql")
            .arg(p.url())
            .args([
                "-X",
                "-c",
                &format!("select pg_advisory_lock({lock}); select pg_sleep(30)"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(700));
        let out = p.run(&["migrate", "--lock-timeout", "2s"]);
        let _ = holder.kill();
        let _ = holder.wait();
        assert_error(&out, 9, "another migration run held the lock on database");
    }
}

fn status_db(p: &TestProject) -> String {
    p.host_psql("select current_database()")
}
