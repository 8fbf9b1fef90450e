//! `test-downgrade` against real engines and PostgreSQL: passing chains, a chain broken in
//! every way, selection, CI outputs, scratch-database hygiene, and Ctrl-C.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{assert_error, engines, image_17, image_sclorg, stderr, wait_for, TestProject};
use serde_json::Value;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/downgrade")
        .join(name)
}

fn sample_chain() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")
}

/// A project whose `migrations` key points at `folder`, with its container up.
fn project(engine: &common::TestEngine, name: &str, image: &str, folder: &Path) -> TestProject {
    let p = TestProject::new(
        engine,
        name,
        image,
        &format!("migrations = \"{}\"", folder.display()),
    );
    p.run_ok(&["up", "--no-migrate"]);
    p
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn scratch_databases(p: &TestProject) -> String {
    p.host_psql("select coalesce(string_agg(datname, ','), '') from pg_database where datname like 'packit\\_scratch\\_%'")
}

/// Runs the tool with `args`, sends it `signal` (`INT`, `TERM`) once `ready` holds and `delay`
/// more has passed, and returns what it printed.
fn signal_when(
    p: &TestProject,
    args: &[&str],
    signal: &str,
    delay: Duration,
    mut ready: impl FnMut() -> bool,
) -> std::process::Output {
    let child = p
        .cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for(Duration::from_secs(30), &mut ready));
    std::thread::sleep(delay);
    let kill = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    child.wait_with_output().unwrap()
}

/// [`signal_when`] with SIGINT, half a second after `ready`.
fn interrupt_when(
    p: &TestProject,
    args: &[&str],
    ready: impl FnMut() -> bool,
) -> std::process::Output {
    signal_when(p, args, "INT", Duration::from_millis(500), ready)
}

fn by_name<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {report}"))
}

/// Asserts a migration's failing steps and that one of its changes mentions `change`.
fn expect_broken(report: &Value, name: &str, expected: &[&str], change: &str) {
    let m = by_name(report, name);
    assert_eq!(steps(m), expected, "{m}");
    assert!(changes(m).contains(change), "{name}: {}", changes(m));
}

fn steps(m: &Value) -> Vec<String> {
    m["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["step"].as_str().unwrap().to_string())
        .collect()
}

fn changes(m: &Value) -> String {
    m["problems"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["changes"].as_array().unwrap().clone())
        .map(|c| c.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn passing_chains_pass_with_every_output() {
    for engine in engines() {
        let p = project(&engine, "td-good", &image_17(), &fixture("good"));
        let out = p.run(&["test-downgrade"]);
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("✓ 1_create_accounts") && text.contains("✓ 4_index_concurrently"),
            "{text}"
        );
        assert!(text.contains("4 passed, 0 failed"), "{text}");

        let junit = p.dir.path().join("report.xml");
        let out = p.run(&[
            "test-downgrade",
            "--format",
            "json",
            "--junit",
            junit.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let report = json(&out);
        assert_eq!(report["passed"], 4);
        assert_eq!(report["failed"], 0);
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(
            xml.contains("<testsuite name=\"test-downgrade\" tests=\"4\" failures=\"0\""),
            "{xml}"
        );
        assert_eq!(xml.matches("<testcase ").count(), 4);
        assert_eq!(scratch_databases(&p), "", "scratch database dropped");

        // The sample chain of this repository passes too, and the database it ran beside is untouched.
        p.reconfigure(
            &image_17(),
            &format!("migrations = \"{}\"", sample_chain().display()),
        );
        let out = p.run(&["test-downgrade", "--require-down"]);
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
        assert_eq!(
            p.host_psql("select count(*) from pg_tables where schemaname = 'public'"),
            "0"
        );
    }
}

#[test]
fn a_chain_broken_every_way_reports_each_migration_with_its_diagnosis() {
    for engine in engines() {
        let p = project(&engine, "td-broken", &image_17(), &fixture("broken"));
        let out = p.run(&["test-downgrade", "--format", "json"]);
        assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
        let r = json(&out);

        let m = by_name(&r, "01_create_items");
        assert_eq!(m["outcome"], "passed");

        expect_broken(
            &r,
            "02_leaves_table",
            &["down-left-residue", "up-not-reapplicable"],
            "table public.item_tags: added",
        );

        expect_broken(
            &r,
            "03_leaves_index",
            &["down-left-residue", "up-not-reapplicable"],
            "index public.items_name",
        );

        let m = by_name(&r, "04_enum_survives");
        assert_eq!(
            steps(m),
            vec!["down-left-residue", "up-not-reapplicable"],
            "{m}"
        );
        assert!(changes(m).contains("public.item_state"), "{}", changes(m));
        assert!(
            m["problems"][1]["message"]
                .as_str()
                .unwrap()
                .contains("04_enum_survives.up.sql"),
            "{m}"
        );
        assert!(
            m["problems"][1]["message"]
                .as_str()
                .unwrap()
                .contains("already exists"),
            "{m}"
        );

        let m = by_name(&r, "05_leaves_default");
        assert_eq!(m["outcome"], "failed");
        assert!(
            changes(m).contains("column public.items.price: default"),
            "{}",
            changes(m)
        );

        expect_broken(
            &r,
            "06_drops_too_much",
            &["down-removed-too-much", "up-not-identical"],
            "column public.items.note: removed",
        );

        let m = by_name(&r, "07_down_error");
        assert_eq!(steps(m), vec!["down-failed"]);
        assert!(
            m["problems"][0]["message"]
                .as_str()
                .unwrap()
                .contains("07_down_error.down.sql: table \"cart\" does not exist"),
            "{m}"
        );

        assert_eq!(by_name(&r, "08_no_transaction")["outcome"], "passed");

        let m = by_name(&r, "09_column_order");
        assert_eq!(steps(m), vec!["column-order-only"], "{m}");

        assert_eq!(by_name(&r, "10_seed")["outcome"], "irreversible");
        assert_eq!(
            by_name(&r, "11_comment_only_down")["outcome"],
            "irreversible"
        );
        assert_eq!(
            by_name(&r, "12_last_good")["outcome"],
            "passed",
            "checking went on after every failure"
        );
        assert_eq!(r["failed"], 7);
        assert_eq!(r["irreversible"], 2);

        // Human output: a mark per migration, the step and the objects.
        let out = p.run(&["test-downgrade"]);
        assert_eq!(out.status.code(), Some(8));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("✗ 04_enum_survives"), "{text}");
        assert!(
            text.contains("up could not be re-applied after down"),
            "{text}"
        );
        assert!(text.contains("~ 10_seed"), "{text}");
        assert!(
            text.contains("3 passed, 7 failed, 2 irreversible (skipped)"),
            "{text}"
        );

        // Options: column order accepted; irreversible migrations required.
        let r = json(&p.run(&[
            "test-downgrade",
            "--format",
            "json",
            "--ignore-column-order",
        ]));
        assert_eq!(
            by_name(&r, "09_column_order")["outcome"],
            "passed-ignoring-column-order"
        );
        let r = json(&p.run(&["test-downgrade", "--format", "json", "--require-down"]));
        assert_eq!(steps(by_name(&r, "10_seed")), vec!["down-missing"]);

        // Selection: only the last two, or from a version on.
        let out = p.run(&["test-downgrade", "--last", "2", "--format", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(json(&out)["migrations"].as_array().unwrap().len(), 2);
        let r = json(&p.run(&["test-downgrade", "--from", "07", "--format", "json"]));
        assert_eq!(r["migrations"][0]["name"], "07_down_error");
        assert_eq!(scratch_databases(&p), "");
    }
}

#[test]
fn scratch_databases_are_unique_marked_and_cleaned_up() {
    for engine in engines() {
        let p = project(&engine, "td-scratch", &image_17(), &fixture("good"));
        // A leftover of a killed run (marked) and a user's database that merely looks like one.
        p.host_psql("CREATE DATABASE packit_scratch_1_leftover");
        p.host_psql("COMMENT ON DATABASE packit_scratch_1_leftover IS 'cargo-packit-db scratch database: safe to drop'");
        p.host_psql("CREATE DATABASE packit_scratch_users_own");
        p.run_ok(&["test-downgrade"]);
        assert_eq!(scratch_databases(&p), "packit_scratch_users_own");

        // Ctrl-C in the middle drops the scratch database.
        let slow = tempfile::tempdir().unwrap();
        std::fs::write(
            slow.path().join("1_slow.up.sql"),
            "CREATE TABLE s (id int);\nSELECT pg_sleep(20);\n",
        )
        .unwrap();
        std::fs::write(slow.path().join("1_slow.down.sql"), "DROP TABLE s;\n").unwrap();
        p.reconfigure(
            &image_17(),
            &format!("migrations = \"{}\"", slow.path().display()),
        );
        let out = interrupt_when(&p, &["test-downgrade"], || {
            let names = scratch_databases(&p);
            names.contains("packit_scratch_") && names != "packit_scratch_users_own"
        });
        assert_error(&out, 130, "interrupted by Ctrl-C (SIGINT)");
        assert_eq!(scratch_databases(&p), "packit_scratch_users_own");

        // SIGTERM, as a CI runner sends on cancel, does the same, with 128 + 15.
        let out = signal_when(
            &p,
            &["test-downgrade"],
            "TERM",
            Duration::from_millis(500),
            || {
                let names = scratch_databases(&p);
                names.contains("packit_scratch_") && names != "packit_scratch_users_own"
            },
        );
        assert_error(&out, 143, "interrupted by SIGTERM");
        assert_eq!(scratch_databases(&p), "packit_scratch_users_own");

        // An empty set, and a folder of the other layout with the wrong configuration.
        let empty = tempfile::tempdir().unwrap();
        p.reconfigure(
            &image_17(),
            &format!("migrations = \"{}\"", empty.path().display()),
        );
        assert_error(&p.run(&["test-downgrade"]), 9, "no migrations to check");
        p.reconfigure(
            &image_17(),
            &format!(
                "migrations = \"{}\"\nlayout = \"diesel\"",
                fixture("good").display()
            ),
        );
        assert_error(
            &p.run(&["test-downgrade"]),
            9,
            "the `layout` config key says diesel",
        );
    }
}

#[test]
fn isolated_checks_use_a_throwaway_container_and_remove_it() {
    for engine in engines() {
        let p = TestProject::new(
            &engine,
            "td-iso",
            &image_17(),
            &format!("migrations = \"{}\"", fixture("good").display()),
        );
        // No project container at all: --isolated needs none.
        let out = p.run(&["test-downgrade", "--isolated"]);
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(&format!("throwaway container `{}-check-", p.container)),
            "{}",
            stderr(&out)
        );
        let left = engine.cli_ok(&[
            "ps",
            "-a",
            "--format",
            "{{.Names}}",
            "--filter",
            &format!("name={}-check-", p.container),
        ]);
        assert_eq!(left, "", "throwaway container removed");
        let volumes = engine.cli_ok(&[
            "volume",
            "ls",
            "-q",
            "--filter",
            &format!("name={}-check-", p.container),
        ]);
        assert_eq!(volumes, "", "throwaway volume removed");
    }
}

#[test]
fn signals_during_isolated_start_up_remove_the_throwaway_container() {
    for engine in engines() {
        let p = TestProject::new(
            &engine,
            "td-iso-sig",
            &image_17(),
            &format!("migrations = \"{}\"", fixture("good").display()),
        );
        // The run's throwaway container and volume: its name and the labels from the
        // configuration.
        // (Filtered here, not by the engine: Podman joins a name and a label filter with OR
        // for volumes, which finds the volumes of other tests running at the same time.)
        let label = format!("label={}", common::TEST_LABEL);
        let prefix = format!("{}-check-", p.container);
        let ours = |listed: String| -> String {
            listed
                .lines()
                .filter(|name| name.starts_with(&prefix))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let containers =
            || ours(engine.cli_ok(&["ps", "-a", "--format", "{{.Names}}", "--filter", &label]));
        let volumes = || ours(engine.cli_ok(&["volume", "ls", "-q", "--filter", &label]));
        // From the first thing the run creates (the volume), through the container's creation
        // and start, to the wait for PostgreSQL (made to last by freezing the container as soon
        // as it logs anything, as a slow first start would).
        let cases = [
            ("INT", 130, "volume"),
            ("TERM", 143, "volume"),
            ("TERM", 143, "container"),
            ("INT", 130, "waited-for container"),
            ("TERM", 143, "waited-for container"),
        ];
        for (signal, code, appears) in cases {
            let out = signal_when(
                &p,
                &["test-downgrade", "--isolated"],
                signal,
                Duration::ZERO,
                || match appears {
                    "volume" => !volumes().is_empty(),
                    "container" => !containers().is_empty(),
                    _ => {
                        let name = containers();
                        if name.is_empty() {
                            return false;
                        }
                        let logs = engine.cli(&["logs", &name]);
                        if logs.stdout.is_empty() && logs.stderr.is_empty() {
                            return false;
                        }
                        // Gone already (a start-up that failed): keep waiting for another.
                        if !engine.cli(&["pause", &name]).status.success() {
                            return false;
                        }
                        std::thread::sleep(Duration::from_millis(300));
                        true
                    }
                },
            );
            let context = format!("SIG{signal} once the {appears} appeared");
            assert_error(&out, code, "interrupted by");
            assert!(
                !stderr(&out).contains("checking in throwaway container"),
                "{context}: stopped during start-up, not after: {}",
                stderr(&out)
            );
            assert_eq!(containers(), "", "{context}: throwaway container removed");
            assert_eq!(volumes(), "", "{context}: throwaway volume removed");
        }
    }
}

#[test]
fn sclorg_images_check_through_the_superuser() {
    for engine in engines() {
        // The application role of an sclorg image may not create databases.
        let p = TestProject::new(
            &engine,
            "td-sclorg",
            &image_sclorg(),
            &format!(
                "migrations = \"{}\"\nuser = \"appuser\"\ndatabase = \"appdb\"",
                fixture("good").display()
            ),
        );
        p.run_ok(&["up", "--no-migrate"]);
        let out = p.run(&["test-downgrade"]);
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
        // Two scratch databases, both created and dropped by the superuser at once.
        let out = p.run(&["test-downgrade", "--jobs", "2", "--format", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(json(&out)["lanes"], 2);
        assert_eq!(scratch_databases(&p), "");
    }
}

#[test]
fn redo_verifies_the_schema_is_identical() {
    for engine in engines() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["01_create_items", "06_drops_too_much"] {
            for ext in ["up.sql", "down.sql"] {
                std::fs::copy(
                    fixture("broken").join(format!("{name}.{ext}")),
                    dir.path().join(format!("{name}.{ext}")),
                )
                .unwrap();
            }
        }
        let p = project(&engine, "td-redo", &image_17(), dir.path());
        p.run_ok(&["migrate"]);
        let out = p.run(&["migrate", "redo", "--steps", "2"]);
        assert!(
            out.status.success(),
            "both undone and redone from scratch: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("redo left the schema identical"));
        let out = p.run(&["migrate", "redo"]);
        assert_error(
            &out,
            8,
            "redo of 6 left the schema different: column public.items.note: removed",
        );
    }
}

/// A down that recreates a long view with one column different is reported as that line's
/// diff with a little context, not as the two whole definitions, in every output.
#[test]
fn a_changed_view_definition_is_reported_as_a_short_line_diff() {
    // One engine is enough: this is about the report.
    let Some(engine) = engines().into_iter().next() else {
        return;
    };
    let p = project(&engine, "td-long-view", &image_17(), &fixture("long_view"));
    let out = p.run(&["test-downgrade", "--format", "json"]);
    assert_eq!(out.status.code(), Some(8), "check failed: {}", stderr(&out));
    let r = json(&out);
    assert_eq!(by_name(&r, "01_create_parcels")["outcome"], "passed", "{r}");
    let m = by_name(&r, "02_weight_in_kilograms");
    assert_eq!(steps(m), vec!["down-changed-objects"], "{m}");
    let change = changes(m);
    let lines: Vec<&str> = change.lines().collect();
    assert_eq!(
        lines[0], "view public.parcel_overview: definition changed",
        "{change}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("  - ")
            && l.contains("surcharge_cents")
            && l.contains("AS total_cents")),
        "{change}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("  + ") && l.contains("postage_cents AS total_cents")),
        "{change}"
    );
    // One hunk of the definition's 40-odd lines: the changed line, three lines of context on
    // each side and the separators.
    assert!(lines.len() <= 12, "{change}");
    assert!(
        !change.contains("tracking_code") && !change.contains("sender_city"),
        "far from the change: {change}"
    );

    // The text report and the JUnit body indent the diff under its change.
    let junit = p.dir.path().join("report.xml");
    let out = p.run(&["test-downgrade", "--junit", junit.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(8), "check failed: {}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\n        view public.parcel_overview: definition changed\n"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("          + ") && l.contains("postage_cents AS total_cents")),
        "{text}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.lines()
            .any(|l| l.starts_with("    + ") && l.contains("postage_cents AS total_cents")),
        "{xml}"
    );
}

/// A project on the first engine whose migrations are `files` (name, SQL) in folder `m`, with
/// PostgreSQL started; `None` when no engine is configured.
fn project_with_files<S: AsRef<str>>(name: &str, files: &[(&str, S)]) -> Option<TestProject> {
    let engine = engines().into_iter().next()?;
    let p = TestProject::new(&engine, name, &image_17(), "migrations = \"m\"");
    let dir = p.dir.path().join("m");
    std::fs::create_dir(&dir).unwrap();
    for (file, sql) in files {
        std::fs::write(dir.join(file), sql.as_ref()).unwrap();
    }
    p.run_ok(&["up", "--no-migrate"]);
    Some(p)
}

/// A failing file is named with the line and column of the error, counted in the file (the
/// check sends each file inside a transaction of its own making).
#[test]
fn failing_files_are_named_with_the_line_and_column_in_the_file() {
    let files = [
        ("01_first_line.up.sql", "CREATE TABLE a (n int);\n"),
        ("01_first_line.down.sql", "DROPX TABLE a;\n"),
        ("02_later_line.up.sql", "CREATE TABLE b (n int);\n"),
        (
            "02_later_line.down.sql",
            "-- undo\nDROP TABLE b;\nDROP TABLEX b;\n",
        ),
    ];
    // One engine is enough: this is about the messages.
    let Some(p) = project_with_files("td-position", &files) else {
        return;
    };
    let out = p.run(&["test-downgrade", "--format", "json"]);
    assert_eq!(out.status.code(), Some(8), "check failed: {}", stderr(&out));
    let r = json(&out);
    let message = |name: &str| by_name(&r, name)["problems"][0]["message"].to_string();
    let first = message("01_first_line");
    assert!(
        first.contains("01_first_line.down.sql:1:1: syntax error at or near"),
        "{first}"
    );
    let later = message("02_later_line");
    assert!(
        later.contains("02_later_line.down.sql:3:6: syntax error at or near"),
        "{later}"
    );
    // The failed transactions were rolled back: the second migration was still checked.
    assert_eq!(by_name(&r, "02_later_line")["outcome"], "failed", "{r}");
}

/// A migration's own statements run with the session settings of any other connection: the
/// settings the scratch connection holds for its snapshot queries (no sequential scans,
/// generic plans, no JIT) are back at their defaults for them, in a transaction and statement
/// by statement, and the snapshots after them still see the schema right.
#[test]
fn migrations_run_with_the_usual_session_settings() {
    // Raises unless every setting is at its default (reset_val: what the session started with).
    let check = "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_settings \
                 WHERE name IN ('enable_seqscan', 'plan_cache_mode', 'jit') \
                 AND setting IS DISTINCT FROM reset_val) \
                 THEN RAISE EXCEPTION 'not the usual settings'; END IF; END $$;\n";
    let files = [
        (
            "01_in_a_transaction.up.sql",
            format!("{check}CREATE TABLE a (n int);\n"),
        ),
        (
            "01_in_a_transaction.down.sql",
            format!("{check}DROP TABLE a;\n"),
        ),
        (
            "02_statement_by_statement.up.sql",
            format!("-- no-transaction\n{check}CREATE INDEX CONCURRENTLY a_n ON a (n);\n"),
        ),
        (
            "02_statement_by_statement.down.sql",
            format!("-- no-transaction\n{check}DROP INDEX CONCURRENTLY a_n;\n"),
        ),
        (
            "03_after_them.up.sql",
            format!("{check}ALTER TABLE a ADD b int;\n"),
        ),
        (
            "03_after_them.down.sql",
            format!("{check}ALTER TABLE a DROP b;\n"),
        ),
    ];
    let Some(p) = project_with_files("td-settings", &files) else {
        return;
    };
    let out = p.run(&["test-downgrade", "--format", "json", "--jobs", "1"]);
    let r = json(&out);
    assert_eq!(out.status.code(), Some(0), "{r} {}", stderr(&out));
    assert_eq!(r["passed"], 3, "{r}");
}

/// The outcome, steps and changes of every migration: what must not depend on the lanes.
fn verdicts(report: &Value) -> Vec<String> {
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{} {} {:?} {} {}",
                m["name"],
                m["outcome"],
                steps(m),
                changes(m),
                m["note"]
            )
        })
        .collect()
}

/// Several scratch databases at once (`--jobs`): each checks its share of the chain after
/// applying the ups before it, and the report is the one of a single database, in order.
#[test]
fn lanes_check_shares_of_the_chain_and_report_as_one() {
    for engine in engines() {
        let p = project(&engine, "td-lanes", &image_17(), &fixture("broken"));
        let one = p.run(&["test-downgrade", "--jobs", "1", "--format", "json"]);
        assert_eq!(one.status.code(), Some(8), "{}", stderr(&one));
        let one = json(&one);
        assert_eq!(one["lanes"], 1);
        for jobs in ["2", "3", "5"] {
            let out = p.run(&["test-downgrade", "--jobs", jobs, "--format", "json"]);
            assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
            let many = json(&out);
            assert_eq!(many["lanes"].to_string(), jobs, "{many}");
            assert_eq!(verdicts(&many), verdicts(&one), "--jobs {jobs}");
            assert_eq!(many["failed"], one["failed"]);
        }
        // Human output: every migration once, in order, and every scratch database dropped.
        let out = p.run(&["test-downgrade", "--jobs", "3"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("3 scratch databases at once"), "{text}");
        let marks: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim_start().split_once(' '))
            .filter(|(mark, _)| ["✓", "✗", "~", "-"].contains(mark))
            .filter_map(|(_, rest)| rest.split_whitespace().next())
            .collect();
        let names: Vec<String> = one["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(marks, names, "{text}");
        assert_eq!(scratch_databases(&p), "");

        // An up that fails breaks the chain: the later lanes' migrations are not checked,
        // as with one database.
        let dir = p.dir.path().join("chain");
        std::fs::create_dir(&dir).unwrap();
        for (name, up, down) in [
            ("1_a", "CREATE TABLE a (n int);", "DROP TABLE a;"),
            ("2_b", "CREATE TABLE b (n int);", "DROP TABLE b;"),
            ("3_bad", "CREATE TABLE a (n int);", "SELECT 1;"),
            ("4_c", "CREATE TABLE c (n int);", "DROP TABLE c;"),
            ("5_d", "CREATE TABLE d (n int);", "DROP TABLE d;"),
            ("6_e", "CREATE TABLE e (n int);", "DROP TABLE e;"),
        ] {
            std::fs::write(dir.join(format!("{name}.up.sql")), up).unwrap();
            std::fs::write(dir.join(format!("{name}.down.sql")), down).unwrap();
        }
        p.reconfigure(&image_17(), "migrations = \"chain\"");
        let one = json(&p.run(&["test-downgrade", "--jobs", "1", "--format", "json"]));
        let many = json(&p.run(&["test-downgrade", "--jobs", "3", "--format", "json"]));
        assert_eq!(verdicts(&many), verdicts(&one));
        assert_eq!(steps(by_name(&many, "3_bad")), vec!["up-failed"]);
        assert_eq!(many["not_checked"], 3, "{many}");
        assert!(by_name(&many, "6_e")["note"]
            .as_str()
            .unwrap()
            .contains("3_bad before it could not be applied"));
        assert_eq!(scratch_databases(&p), "");

        // A chain that changes roles is checked on one database: the role is the server's.
        std::fs::write(
            dir.join("3_bad.up.sql"),
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'td_lanes_ro') \
             THEN CREATE ROLE td_lanes_ro NOLOGIN; END IF; END $$;",
        )
        .unwrap();
        let out = p.run(&["test-downgrade", "--jobs", "3", "--format", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(json(&out)["lanes"], 1);
        assert!(
            stderr(&out).contains("checking on one scratch database")
                && stderr(&out).contains("3_bad.up.sql runs CREATE ROLE"),
            "{}",
            stderr(&out)
        );
        p.host_psql("DROP ROLE IF EXISTS td_lanes_ro");

        // Ctrl-C while every lane is busy drops every scratch database.
        let slow = p.dir.path().join("slow");
        std::fs::create_dir(&slow).unwrap();
        for name in ["1_slow", "2_slow"] {
            std::fs::write(
                slow.join(format!("{name}.up.sql")),
                format!("CREATE TABLE t{name} (id int);\nSELECT pg_sleep(20);\n"),
            )
            .unwrap();
            std::fs::write(
                slow.join(format!("{name}.down.sql")),
                format!("DROP TABLE t{name};\n"),
            )
            .unwrap();
        }
        p.reconfigure(&image_17(), "migrations = \"slow\"");
        let out = interrupt_when(&p, &["test-downgrade", "--jobs", "2"], || {
            scratch_databases(&p)
                .split(',')
                .filter(|n| !n.is_empty())
                .count()
                == 2
        });
        assert_error(&out, 130, "interrupted");
        assert_eq!(scratch_databases(&p), "");
    }
}

/// Verdicts without their timings, for comparing two runs.
fn timeless(report: &Value) -> Vec<Value> {
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let mut m = m.clone();
            m.as_object_mut().unwrap().remove("millis");
            m
        })
        .collect()
}

/// The verification mode on every fixture chain, with both change markers (the official image's
/// event log, sclorg's catalogs): every partial snapshot equals a whole one, every verdict
/// agrees with pg_dump, and the verdicts are those of an ordinary run, whose round trips run in
/// one transaction rolled back on failure.
#[test]
fn the_verification_mode_finds_no_divergence_and_the_same_verdicts() {
    let chains = [
        ("good", 0),
        ("broken", 8),
        ("regressions/enum_after_rewrite", 8),
        ("regressions/narrowing_rewrite_recreates_view", 0),
        ("regressions/rewrite_drops_table", 0),
        ("regressions/rewrite_drops_type", 0),
        ("regressions/rewrite_recreates_enum", 0),
        ("regressions/rewrite_recreates_view", 0),
        ("regressions/trigger_on_tracking_table", 0),
        // Its round trip cannot commit as one transaction (a deferred trigger fails at COMMIT):
        // the check runs it again with each file committed, and it passes.
        ("regressions/deferred_check_at_commit", 0),
        ("tracking-table", 8),
        ("no-transaction", 8),
        ("long_view", 8),
    ];
    for engine in engines() {
        for (image, tag) in [(image_17(), "v17"), (image_sclorg(), "vscl")] {
            let p = project(&engine, &format!("td-{tag}"), &image, &fixture("good"));
            for (chain, code) in chains {
                p.reconfigure(
                    &image,
                    &format!("migrations = \"{}\"", fixture(chain).display()),
                );
                let plain = p.run(&["test-downgrade", "--format", "json", "--jobs", "1"]);
                assert_eq!(
                    plain.status.code(),
                    Some(code),
                    "{chain}: {}",
                    stderr(&plain)
                );
                let verified = p
                    .cmd(&["test-downgrade", "--format", "json", "--jobs", "1"])
                    .env("PACKIT_DB_VERIFY", "1")
                    .output()
                    .unwrap();
                assert_eq!(
                    verified.status.code(),
                    Some(code),
                    "{chain} on {tag}: {}",
                    stderr(&verified)
                );
                assert_eq!(
                    timeless(&json(&plain)),
                    timeless(&json(&verified)),
                    "{chain} on {tag}"
                );
            }
        }
    }
}

/// Issue 12's first case: a down that changes a column's type back (a table rewrite) and drops
/// the enum type it used passes; a trigger a migration puts on the tracking table is compared.
#[test]
fn rewrites_and_the_tracking_table_get_exact_verdicts() {
    for engine in engines() {
        let p = project(
            &engine,
            "td-regress",
            &image_17(),
            &fixture("regressions/enum_after_rewrite"),
        );
        for args in [&["--last", "1"][..], &[]] {
            let out = p.run(&[&["test-downgrade", "--format", "json"][..], args].concat());
            let r = json(&out);
            assert_eq!(by_name(&r, "4_job_state")["outcome"], "passed", "{r}");
        }
        let r = json(&p.run(&["test-downgrade", "--format", "json"]));
        assert_eq!(
            steps(by_name(&r, "2_drop_succeeded")),
            ["column-order-only"]
        );

        p.reconfigure(
            &image_17(),
            &format!("migrations = \"{}\"", fixture("tracking-table").display()),
        );
        let out = p.run(&["test-downgrade", "--format", "json"]);
        assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
        let r = json(&out);
        assert_eq!(
            by_name(&r, "2_forbid_other_tools")["outcome"],
            "passed",
            "{r}"
        );
        expect_broken(
            &r,
            "3_audit_tracking",
            &["down-left-residue", "up-not-reapplicable"],
            "trigger public._sqlx_migrations.audit_tracking_left: added",
        );
    }
}

/// Migrations that cannot run in the check's outer transaction (no-transaction files, a file
/// that commits) are checked after a copy of the scratch database is made, and a failure puts
/// the copy back: the migrations after them are checked from the right state.
#[test]
fn failures_outside_a_transaction_come_back_from_a_checkpoint() {
    for engine in engines() {
        let p = project(&engine, "td-ckpt", &image_17(), &fixture("no-transaction"));
        let out = p.run(&["test-downgrade", "--format", "json", "--jobs", "1"]);
        assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
        let r = json(&out);
        expect_broken(
            &r,
            "2_index_concurrently",
            &["down-left-residue", "up-not-reapplicable"],
            "index public.events_kind: added",
        );
        assert_eq!(by_name(&r, "3_good_after")["outcome"], "passed", "{r}");
        expect_broken(
            &r,
            "4_commits",
            &["down-left-residue", "up-not-identical"],
            "column public.events.leftover: added",
        );
        assert_eq!(by_name(&r, "5_last")["outcome"], "passed", "{r}");
        assert_eq!(
            scratch_databases(&p),
            "",
            "the scratch database and its copy are gone"
        );
    }
}
