//! `up`, `down`, `status`, `url` and `psql` against real engines and real PostgreSQL.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{
    assert_error, engines, image_15, image_17, image_sclorg, stderr, wait_for, TestProject,
};

#[test]
fn full_lifecycle_on_each_engine() {
    for engine in engines() {
        let p = TestProject::new(&engine, "life", &image_17(), "");

        // Cold start.
        let out = p.run(&["up"]);
        assert!(out.status.success(), "up failed: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("created and started"), "{err}");
        assert!(err.contains(":***@127.0.0.1:"), "masked URL shown: {err}");
        assert!(out.stdout.is_empty(), "up prints results on stderr only");

        // The URL carries a generated password that appears nowhere else.
        let url = p.url();
        let password = url
            .split(':')
            .nth(2)
            .unwrap()
            .split('@')
            .next()
            .unwrap()
            .to_string();
        assert!(
            password.len() >= 24,
            "password `{}` too short",
            password.len()
        );
        assert!(!err.contains(&password));
        let argv = engine.cli_ok(&[
            "container",
            "inspect",
            "--format",
            "{{json .Config.Cmd}} {{json .Args}} {{json .Path}}",
            &p.container,
        ]);
        assert!(!argv.contains(&password), "password in argv: {argv}");
        assert_eq!(p.host_psql("select 1"), "1");

        // Published on 127.0.0.1 only, labelled, with a named volume.
        let ports = engine.cli_ok(&[
            "container",
            "inspect",
            "--format",
            "{{json .NetworkSettings.Ports}}",
            &p.container,
        ]);
        assert!(
            ports.contains("127.0.0.1") && !ports.contains("0.0.0.0"),
            "{ports}"
        );
        let managed = engine.cli_ok(&[
            "container",
            "inspect",
            "--format",
            "{{index .Config.Labels \"io.github.packit-db.managed\"}}",
            &p.container,
        ]);
        assert_eq!(managed, "true");
        assert!(engine.volume_exists(&p.volume()));

        // Warm start reuses the container without restarting it.
        let started_at = |p: &TestProject| {
            engine.cli_ok(&[
                "container",
                "inspect",
                "--format",
                "{{.State.StartedAt}}",
                &p.container,
            ])
        };
        let before = started_at(&p);
        let out = p.run(&["up"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains("reused running"), "{}", stderr(&out));
        assert_eq!(started_at(&p), before);

        // Status, both formats.
        let json: serde_json::Value =
            serde_json::from_str(&p.run_ok(&["status", "--format", "json"])).unwrap();
        assert_eq!(json["engine"]["kind"], engine.kind);
        assert_eq!(json["container"]["state"], "running");
        assert_eq!(json["database"]["reachable"], true);
        assert!(json["database"]["server_version"]
            .as_str()
            .unwrap()
            .starts_with("17"));
        assert!(!json.to_string().contains(&password));
        let human = p.run_ok(&["status"]);
        assert!(human.contains("ready: PostgreSQL 17"), "{human}");

        // psql: arguments, piped stdin, and psql's own exit status.
        assert_eq!(
            p.run_ok(&["psql", "--", "-At", "-c", "select 41 + 1"])
                .trim(),
            "42"
        );
        let mut child = p
            .cmd(&["psql", "--", "-At"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"create table kept (id int); insert into kept values (7);\nselect 7 * 6;\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("42"));
        let mut child = p
            .cmd(&["psql", "--", "-v", "ON_ERROR_STOP=1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"select no_such_column;\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(3),
            "psql's exit status is passed through"
        );
        assert!(stderr(&out).contains("no_such_column"));

        // A stopped container is started again, data intact.
        engine.cli_ok(&["stop", &p.container]);
        let out = p.run(&["up"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains("started"), "{}", stderr(&out));
        assert_eq!(p.host_psql("select id from kept"), "7");

        // down keeps the data; the next up creates a new container over it, and the role's
        // password follows the new container's.
        let out = p.run(&["down"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(!engine.container_exists(&p.container));
        assert!(engine.volume_exists(&p.volume()));
        p.run_ok(&["up"]);
        assert_eq!(p.host_psql("select id from kept"), "7");

        // down --volumes needs --yes without a terminal, and then changes nothing.
        let out = p.run(&["down", "--volumes"]);
        assert_error(&out, 10, "needs confirmation");
        assert!(engine.container_exists(&p.container));
        assert!(engine.volume_exists(&p.volume()));
        p.run_ok(&["down", "--volumes", "--yes"]);
        assert!(!engine.container_exists(&p.container));
        assert!(!engine.volume_exists(&p.volume()));

        // url without a container says what to do.
        assert_error(
            &p.run(&["url"]),
            5,
            "does not exist; run `cargo packit-db up` first",
        );
    }
}

#[test]
fn changed_settings_need_recreate_and_keep_the_data() {
    for engine in engines() {
        let p = TestProject::new(&engine, "recreate", &image_17(), "");
        p.run_ok(&["up"]);
        p.host_psql("create table survivor (x int); insert into survivor values (1)");

        let port = free_port();
        p.reconfigure(&image_17(), &format!("port = {port}"));
        let out = p.run(&["up"]);
        assert_error(&out, 5, &format!("port: any -> {port}"));
        assert!(stderr(&out).contains("--recreate"));

        let out = p.run(&["up", "--recreate"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(p.url().contains(&format!("@127.0.0.1:{port}/")));
        assert_eq!(p.host_psql("select x from survivor"), "1");

        // The volume was initialised for another user: recreating cannot fix that.
        p.reconfigure(
            &image_17(),
            &format!("port = {port}\nuser = \"someone_else\""),
        );
        let out = p.run(&["up", "--recreate"]);
        assert_error(&out, 5, "was initialised with other settings (user:");
        assert!(stderr(&out).contains("down --volumes"));
    }
}

#[test]
fn a_foreign_container_with_our_name_is_never_touched() {
    for engine in engines() {
        let p = TestProject::new(&engine, "foreign", &image_17(), "");
        engine.cli_ok(&[
            "create",
            "--name",
            &p.container,
            "--label",
            "io.github.packit-db.test=lifecycle",
            &image_17(),
        ]);
        assert_error(&p.run(&["up"]), 5, "was not created by cargo-packit-db");
        assert_error(
            &p.run(&["down", "--volumes", "--yes"]),
            5,
            "was not created by cargo-packit-db",
        );
        assert!(engine.container_exists(&p.container));
        let status = p.run_ok(&["status"]);
        assert!(
            status.contains("not created by cargo-packit-db"),
            "{status}"
        );
    }
}

#[test]
fn another_projects_container_and_volume_are_never_removed() {
    for engine in engines() {
        let owner = TestProject::new(&engine, "owner", &image_17(), "");
        owner.run_ok(&["up"]);
        let intruder = TestProject::new(&engine, "intruder", &image_17(), "");
        // Without a Cargo project, a project is named after its directory.
        let project = |p: &TestProject| {
            p.dir
                .path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        };
        let (owner_project, intruder_project) = (project(&owner), project(&intruder));
        // The intruder's configuration names its own container; a stray variable overrides it.
        let run = |args: &[&str]| {
            intruder
                .cmd(args)
                .env("PACKIT_DB_CONTAINER", &owner.container)
                .output()
                .unwrap()
        };
        let refused = format!(
            "container `{}` belongs to project `{owner_project}`, not `{intruder_project}`",
            owner.container
        );

        let out = run(&["down", "--volumes", "--yes"]);
        assert_error(&out, 5, &refused);
        assert!(
            stderr(&out).contains("unset PACKIT_DB_CONTAINER"),
            "{}",
            stderr(&out)
        );
        // The intruder's user and database (named after its project) differ from the owner's,
        // so `--recreate` would replace the container.
        assert_error(&run(&["up", "--recreate"]), 5, &refused);
        assert_eq!(engine.container_state(&owner.container), "running");
        assert!(engine.volume_exists(&owner.volume()));
        assert_eq!(owner.host_psql("select 1"), "1");

        // The owner keeps its data; the volume alone is refused as well.
        owner.run_ok(&["down"]);
        let out = run(&["down", "--volumes", "--yes"]);
        assert_error(
            &out,
            5,
            &format!(
                "volume `{}` belongs to project `{owner_project}`, not `{intruder_project}`",
                owner.volume()
            ),
        );
        assert!(engine.volume_exists(&owner.volume()));
    }
}

#[test]
fn a_configured_port_in_use_is_named_with_its_holder() {
    for engine in engines() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let p = TestProject::new(&engine, "port", &image_17(), &format!("port = {port}"));
        let out = p.run(&["up"]);
        assert_error(
            &out,
            5,
            &format!("port {port} on 127.0.0.1 is already in use by process"),
        );
        assert!(
            stderr(&out).contains(&format!("(pid {})", std::process::id())),
            "{}",
            stderr(&out)
        );
        assert!(
            !engine.container_exists(&p.container),
            "no container left behind"
        );
        assert!(!engine.volume_exists(&p.volume()), "no volume left behind");
        drop(listener);
    }
}

#[test]
fn missing_images_and_failing_pulls() {
    for engine in engines() {
        let p = TestProject::new(&engine, "pull", "localhost/packit-db-test/absent:1", "");
        let out = p.run(&["up", "--pull", "never"]);
        assert_error(
            &out,
            6,
            "image `localhost/packit-db-test/absent:1` is not present",
        );
        assert!(stderr(&out).contains("--pull never"));
        let out = p.run(&["up"]);
        assert_error(
            &out,
            6,
            "could not pull image `localhost/packit-db-test/absent:1`",
        );
        assert!(!engine.container_exists(&p.container));
        assert!(!engine.volume_exists(&p.volume()));
    }
}

#[test]
fn ctrl_c_or_sigterm_during_up_removes_what_up_created() {
    for engine in engines() {
        let p = TestProject::new(&engine, "sigint", &image_17(), "");
        // Once the container exists (it is being started or waited for), and at once when the
        // volume appears (the container is about to be created).
        let cases: [(&str, i32, &str, bool); 4] = [
            ("INT", 130, "Ctrl-C (SIGINT)", true),
            ("TERM", 143, "SIGTERM", true),
            ("INT", 130, "Ctrl-C (SIGINT)", false),
            ("TERM", 143, "SIGTERM", false),
        ];
        for (signal, code, named, on_container) in cases {
            let child = p.cmd(&["up"]).stderr(Stdio::piped()).spawn().unwrap();
            assert!(
                wait_for(Duration::from_secs(30), || if on_container {
                    engine.container_exists(&p.container)
                } else {
                    engine.volume_exists(&p.volume())
                }),
                "nothing appeared"
            );
            let kill = Command::new("kill")
                .args([&format!("-{signal}"), &child.id().to_string()])
                .status()
                .unwrap();
            assert!(kill.success());
            let out = child.wait_with_output().unwrap();
            assert_error(&out, code, &format!("interrupted by {named}"));
            assert!(
                !engine.container_exists(&p.container),
                "SIG{signal}: container removed"
            );
            assert!(
                !engine.volume_exists(&p.volume()),
                "SIG{signal}: volume removed"
            );
        }
    }
}

#[test]
fn sigterm_while_up_applies_migrations_stops_them() {
    for engine in engines() {
        let p = TestProject::new(&engine, "sigmig", &image_17(), "");
        let migrations = p.dir.path().join("migrations");
        std::fs::create_dir(&migrations).unwrap();
        std::fs::write(
            migrations.join("1_slow.up.sql"),
            "CREATE TABLE slow (id int);\nSELECT pg_sleep(20);\n",
        )
        .unwrap();
        std::fs::write(migrations.join("1_slow.down.sql"), "DROP TABLE slow;\n").unwrap();
        p.run_ok(&["up", "--no-migrate"]);
        let child = p.cmd(&["up"]).stderr(Stdio::piped()).spawn().unwrap();
        assert!(
            wait_for(Duration::from_secs(30), || {
                p.host_psql(
                "select count(*) from pg_stat_activity where query like '%pg_sleep(20)%' and pid <> pg_backend_pid()"
            ) != "0"
            }),
            "the migration never started"
        );
        let kill = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let started = std::time::Instant::now();
        let out = child.wait_with_output().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "stopped at once, not after the migration"
        );
        assert_error(&out, 143, "interrupted by SIGTERM");
        assert_eq!(
            engine.container_state(&p.container),
            "running",
            "the container up reported as started is kept"
        );
        assert_eq!(
            p.host_psql("select count(*) from pg_tables where tablename = 'slow'"),
            "0",
            "the migration is not applied"
        );
    }
}

#[test]
fn not_ready_in_time_shows_the_log_tail_and_cleans_up() {
    for engine in engines() {
        let p = TestProject::new(&engine, "timeout", &image_17(), "");
        let child = p
            .cmd(&["up", "--timeout", "3"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Freeze PostgreSQL as soon as its container logs anything, so it can never answer.
        assert!(wait_for(Duration::from_secs(30), || {
            let logs = engine.cli(&["logs", &p.container]);
            logs.status.success() && !(logs.stdout.is_empty() && logs.stderr.is_empty())
        }));
        engine.cli_ok(&["pause", &p.container]);
        let out = child.wait_with_output().unwrap();
        assert_error(&out, 7, "did not accept connections within 3 s");
        let err = stderr(&out);
        assert!(err.lines().count() > 2, "log tail shown: {err}");
        assert!(
            !engine.container_exists(&p.container),
            "container created by the failed run is removed"
        );
    }
}

#[test]
fn sclorg_images_are_detected_and_work() {
    for engine in engines() {
        let p = TestProject::new(
            &engine,
            "sclorg",
            &image_sclorg(),
            "user = \"appuser\"\ndatabase = \"appdb\"",
        );
        let out = p.run(&["up"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let env = engine.cli_ok(&[
            "container",
            "inspect",
            "--format",
            "{{json .Config.Env}}",
            &p.container,
        ]);
        assert!(
            env.contains("POSTGRESQL_USER=appuser") && env.contains("POSTGRESQL_DATABASE=appdb"),
            "{env}"
        );
        let mounts = engine.cli_ok(&[
            "container",
            "inspect",
            "--format",
            "{{json .Mounts}}",
            &p.container,
        ]);
        assert!(mounts.contains("/var/lib/pgsql/data"), "{mounts}");
        assert_eq!(
            p.host_psql("select current_user || '@' || current_database()"),
            "appuser@appdb"
        );
        assert_eq!(
            p.run_ok(&["psql", "--", "-At", "-c", "select current_user"])
                .trim(),
            "appuser"
        );
        let json: serde_json::Value =
            serde_json::from_str(&p.run_ok(&["status", "--format", "json"])).unwrap();
        assert_eq!(json["container"]["env_style"], "sclorg");

        // Recreated over its volume with a configured password: the role follows it.
        p.reconfigure(
            &image_sclorg(),
            "user = \"appuser\"\ndatabase = \"appdb\"\npassword = \"a new 'secret' password\"",
        );
        let out = p.run(&["up", "--recreate"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(p.url().contains("a%20new%20%27secret%27%20password"));
        assert_eq!(p.host_psql("select 1"), "1");
    }
}

#[test]
fn postgres_15_and_awkward_names() {
    for engine in engines() {
        let p = TestProject::new(
            &engine,
            "pg15",
            &image_15(),
            "user = \"My App\"\ndatabase = \"Data \\\"Base\\\"\"",
        );
        p.run_ok(&["up"]);
        let url = p.url();
        assert!(url.starts_with("postgres://My%20App:"), "{url}");
        assert!(url.ends_with("/Data%20%22Base%22"), "{url}");
        assert_eq!(
            p.host_psql("select current_user || '/' || current_database()"),
            "My App/Data \"Base\""
        );
        let version = p.run_ok(&["psql", "--", "-At", "-c", "show server_version"]);
        assert!(version.trim().starts_with("15."), "{version}");
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn psql_on_a_terminal_is_interactive_with_the_terminal_size() {
    for engine in engines() {
        let p = TestProject::new(&engine, "tty", &image_17(), "");
        p.run_ok(&["up"]);
        // `script` gives the command a real pseudo-terminal of 45 rows and 123 columns.
        let inner = format!(
            "stty rows 45 cols 123; exec {} packit-db psql",
            common::binary().display()
        );
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &inner, "/dev/null"])
            .current_dir(p.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        common::clean_env(&mut cmd);
        cmd.env("DOCKER_HOST", &engine.host);
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            for line in ["select 40 + 2 as answer;\n", "\\! stty size\n", "\\q\n"] {
                std::thread::sleep(Duration::from_millis(700));
                stdin.write_all(line.as_bytes()).unwrap();
            }
        });
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        let screen = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{screen}");
        assert!(
            screen.contains("=# "),
            "psql prompt on the terminal: {screen}"
        );
        assert!(screen.contains("42"), "{screen}");
        assert!(
            screen.contains("45 123"),
            "the container's terminal has our size: {screen}"
        );
    }
}
