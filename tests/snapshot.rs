//! Schema snapshots against a real PostgreSQL: every kind of object is covered (a change in
//! exactly one object is reported as a change naming that object, and undoing it gives an
//! empty diff again), a column re-added at the end is only a column-order difference, and
//! "snapshots equal" agrees with "normalised `pg_dump --schema-only` equal" on the coverage
//! cases and on every state of the sample migration chain.
//!
//! One container per engine for the whole file; every case gets its own database.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cargo_packit_db::db::snapshot::{self, diff, SchemaDiff, Snapshot, READER_SETTINGS};
use cargo_packit_db::migrations::verify::normalise_dump;
use common::{engines, image_17, TestEngine, TestProject};
use sqlx::{Connection, PgConnection};

/// The project's server and what is needed to reach its databases (shared by the threads).
struct Server {
    project: TestProject,
    url: url::Url,
}

/// One thread's runtime and admin connection to the project's database.
struct Session {
    runtime: tokio::runtime::Runtime,
    admin: PgConnection,
    url: url::Url,
}

impl Server {
    fn start(engine: &TestEngine, name: &str) -> Server {
        let project = TestProject::new(engine, name, &image_17(), "");
        project.run_ok(&["up", "--no-migrate"]);
        let url = url::Url::parse(&project.url()).unwrap();
        Server { project, url }
    }

    fn session(&self) -> Session {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let admin = runtime
            .block_on(PgConnection::connect(self.url.as_str()))
            .unwrap();
        Session {
            runtime,
            admin,
            url: self.url.clone(),
        }
    }

    /// `pg_dump --schema-only --no-owner` of a database, run inside the container (the
    /// server's own version), normalised into its statements.
    fn dump(&self, db: &Db) -> Vec<String> {
        let password = format!("PGPASSWORD={}", self.url.password().unwrap_or(""));
        let user = self.url.username().to_string();
        let out = self.project.engine.cli(&[
            "exec",
            "-e",
            &password,
            &self.project.container,
            "pg_dump",
            "--schema-only",
            "--no-owner",
            "-h",
            "127.0.0.1",
            "-U",
            &user,
            &db.name,
        ]);
        assert!(
            out.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        normalise_dump(&String::from_utf8_lossy(&out.stdout))
    }
}

impl Session {
    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Runs SQL (several statements allowed) on the admin connection.
    fn admin_sql(&mut self, sql: &str) {
        let runtime = &self.runtime;
        runtime
            .block_on(sqlx::raw_sql(sql).execute(&mut self.admin))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Creates an empty database (from template0) and connects to it.
    fn database(&mut self, name: &str) -> Db {
        self.admin_sql(&format!("DROP DATABASE IF EXISTS \"{name}\""));
        self.admin_sql(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"));
        let mut url = self.url.clone();
        url.set_path(&format!("/{name}"));
        let url = url.to_string();
        let conn = self.block_on(PgConnection::connect(&url)).unwrap();
        Db {
            name: name.to_string(),
            url,
            conn,
        }
    }

    fn drop_database(&mut self, db: Db) {
        let Db { name, conn, .. } = db;
        self.block_on(conn.close()).unwrap();
        self.admin_sql(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"));
    }
}

/// A database of the server with its own connection.
struct Db {
    name: String,
    url: String,
    conn: PgConnection,
}

impl Db {
    fn sql(&mut self, session: &Session, sql: &str) {
        session
            .block_on(sqlx::raw_sql(sql).execute(&mut self.conn))
            .unwrap_or_else(|e| panic!("in {}: {sql}: {e}", self.name));
    }

    fn snapshot(&mut self, session: &Session) -> Snapshot {
        session
            .block_on(snapshot::take(&mut self.conn))
            .unwrap_or_else(|e| panic!("snapshot of {}: {e}", self.name))
    }

    /// Applies a migration file with the host's psql, as a user would.
    fn psql_file(&self, file: &Path) {
        let out = Command::new("psql")
            .arg(&self.url)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f"])
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql -f {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn render(d: &SchemaDiff) -> String {
    d.changes
        .iter()
        .map(|c| format!("  {c}\n"))
        .collect::<String>()
}

/// Statements in one dump and not the other, for failure messages.
fn dump_difference(a: &[String], b: &[String]) -> String {
    let mut out = String::new();
    for s in a.iter().filter(|s| !b.contains(s)) {
        out.push_str(&format!("  - {}", s));
    }
    for s in b.iter().filter(|s| !a.contains(s)) {
        out.push_str(&format!("  + {}", s));
    }
    if out.is_empty() && a != b {
        out.push_str("  (same statements, in another order)\n");
    }
    out
}

/// Asserts that the snapshot comparison and the pg_dump comparison of two states agree.
fn assert_agree(what: &str, (sa, da): (&Snapshot, &[String]), (sb, db): (&Snapshot, &[String])) {
    let d = diff(sa, sb);
    let snapshots_equal = d.is_empty();
    let dumps_equal = da == db;
    assert_eq!(
        snapshots_equal,
        dumps_equal,
        "{what}: snapshots {} but pg_dump outputs {}\nsnapshot diff:\n{}pg_dump difference:\n{}",
        if snapshots_equal { "equal" } else { "differ" },
        if dumps_equal { "equal" } else { "differ" },
        render(&d),
        dump_difference(da, db)
    );
}

/// One coverage case: a base schema, a change of one object, and the SQL that undoes it.
/// `names`: every change must name one of these (the first is the object the case is about
/// and must be named by some change); empty: the change must not show at all. `{role}` in the
/// SQL is replaced by the test's role.
struct Case {
    name: &'static str,
    base: &'static str,
    change: &'static str,
    reverse: &'static str,
    names: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "schema added",
            base: "",
            change: "CREATE SCHEMA app",
            reverse: "DROP SCHEMA app",
            names: &["schema app"],
        },
        Case {
            name: "schema with a quoted name",
            base: "",
            change: r#"CREATE SCHEMA "My App""#,
            reverse: r#"DROP SCHEMA "My App""#,
            names: &[r#"schema "My App""#],
        },
        Case {
            name: "extension added (its members are not listed)",
            base: "",
            change: "CREATE EXTENSION citext",
            reverse: "DROP EXTENSION citext",
            names: &["extension citext"],
        },
        Case {
            name: "enum type added",
            base: "",
            change: "CREATE TYPE mood AS ENUM ('sad', 'ok')",
            reverse: "DROP TYPE mood",
            names: &["enum type public.mood"],
        },
        Case {
            name: "enum label added",
            base: "CREATE TYPE mood AS ENUM ('sad', 'ok')",
            change: "ALTER TYPE mood ADD VALUE 'happy'",
            reverse: "DROP TYPE mood; CREATE TYPE mood AS ENUM ('sad', 'ok')",
            names: &["enum type public.mood"],
        },
        Case {
            name: "domain check changed",
            base: "CREATE DOMAIN posint AS integer CONSTRAINT posint_check CHECK (VALUE > 0)",
            change: "ALTER DOMAIN posint DROP CONSTRAINT posint_check; \
                     ALTER DOMAIN posint ADD CONSTRAINT posint_check CHECK (VALUE >= 0)",
            reverse: "ALTER DOMAIN posint DROP CONSTRAINT posint_check; \
                      ALTER DOMAIN posint ADD CONSTRAINT posint_check CHECK (VALUE > 0)",
            names: &["domain type public.posint"],
        },
        Case {
            name: "domain default and not null",
            base: "CREATE DOMAIN code AS text",
            change: "ALTER DOMAIN code SET DEFAULT 'x'; ALTER DOMAIN code SET NOT NULL",
            reverse: "ALTER DOMAIN code DROP DEFAULT; ALTER DOMAIN code DROP NOT NULL",
            names: &["domain type public.code"],
        },
        Case {
            name: "composite type attribute added",
            base: "CREATE TYPE pair AS (a integer, b text)",
            change: "ALTER TYPE pair ADD ATTRIBUTE c date",
            reverse: "ALTER TYPE pair DROP ATTRIBUTE c",
            names: &["composite type public.pair"],
        },
        Case {
            name: "range type added",
            base: "",
            change: "CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi)",
            reverse: "DROP TYPE floatrange",
            names: &["range type public.floatrange"],
        },
        Case {
            name: "sequence added",
            base: "",
            change: "CREATE SEQUENCE s",
            reverse: "DROP SEQUENCE s",
            names: &["sequence public.s"],
        },
        Case {
            name: "sequence increment changed",
            base: "CREATE SEQUENCE s",
            change: "ALTER SEQUENCE s INCREMENT BY 2",
            reverse: "ALTER SEQUENCE s INCREMENT BY 1",
            names: &["sequence public.s"],
        },
        Case {
            name: "sequence owned-by changed",
            base: "CREATE TABLE t (a integer, b integer); CREATE SEQUENCE s OWNED BY t.a",
            change: "ALTER SEQUENCE s OWNED BY t.b",
            reverse: "ALTER SEQUENCE s OWNED BY t.a",
            names: &["sequence public.s"],
        },
        Case {
            name: "table added",
            base: "",
            change: "CREATE TABLE audit (id integer, at timestamptz)",
            reverse: "DROP TABLE audit",
            names: &["table public.audit", "column public.audit."],
        },
        Case {
            name: "table made unlogged",
            base: "CREATE TABLE t (a integer)",
            change: "ALTER TABLE t SET UNLOGGED",
            reverse: "ALTER TABLE t SET LOGGED",
            names: &["table public.t"],
        },
        Case {
            name: "partitioned table and a partition added",
            base: "",
            change: "CREATE TABLE m (k integer, v text) PARTITION BY RANGE (k); \
                     CREATE TABLE m_1 PARTITION OF m FOR VALUES FROM (0) TO (10)",
            reverse: "DROP TABLE m",
            names: &[
                "table public.m",
                "column public.m.",
                "table public.m_1",
                "column public.m_1.",
            ],
        },
        Case {
            name: "partition detached",
            base: "CREATE TABLE m (k integer) PARTITION BY RANGE (k); \
                   CREATE TABLE m_1 PARTITION OF m FOR VALUES FROM (0) TO (10)",
            change: "ALTER TABLE m DETACH PARTITION m_1",
            reverse: "ALTER TABLE m ATTACH PARTITION m_1 FOR VALUES FROM (0) TO (10)",
            names: &["table public.m_1", "column public.m_1.k"],
        },
        Case {
            name: "inheritance parent added",
            base: "CREATE TABLE p (a integer); CREATE TABLE c (a integer)",
            change: "ALTER TABLE c INHERIT p",
            reverse: "ALTER TABLE c NO INHERIT p",
            names: &["table public.c"],
        },
        Case {
            name: "row security enabled",
            base: "CREATE TABLE t (a integer)",
            change: "ALTER TABLE t ENABLE ROW LEVEL SECURITY",
            reverse: "ALTER TABLE t DISABLE ROW LEVEL SECURITY",
            names: &["table public.t"],
        },
        Case {
            name: "table storage option",
            base: "CREATE TABLE t (a integer)",
            change: "ALTER TABLE t SET (fillfactor = 70)",
            reverse: "ALTER TABLE t RESET (fillfactor)",
            names: &["table public.t"],
        },
        Case {
            name: "replica identity",
            base: "CREATE TABLE t (a integer)",
            change: "ALTER TABLE t REPLICA IDENTITY FULL",
            reverse: "ALTER TABLE t REPLICA IDENTITY DEFAULT",
            names: &["table public.t"],
        },
        Case {
            name: "column added",
            base: "CREATE TABLE t (a integer)",
            change: "ALTER TABLE t ADD COLUMN b text",
            reverse: "ALTER TABLE t DROP COLUMN b",
            names: &["column public.t.b"],
        },
        Case {
            name: "column with a quoted name added",
            base: "CREATE TABLE t (a integer)",
            change: r#"ALTER TABLE t ADD COLUMN "Mixed Case" text"#,
            reverse: r#"ALTER TABLE t DROP COLUMN "Mixed Case""#,
            names: &[r#"column public.t."Mixed Case""#],
        },
        Case {
            name: "column default changed",
            base: "CREATE TABLE t (a integer DEFAULT 0)",
            change: "ALTER TABLE t ALTER a SET DEFAULT 1",
            reverse: "ALTER TABLE t ALTER a SET DEFAULT 0",
            names: &["column public.t.a"],
        },
        Case {
            name: "column type changed",
            base: "CREATE TABLE t (a integer, b varchar(10))",
            change: "ALTER TABLE t ALTER b TYPE varchar(20)",
            reverse: "ALTER TABLE t ALTER b TYPE varchar(10)",
            names: &["column public.t.b"],
        },
        Case {
            name: "column nullability",
            base: "CREATE TABLE t (a integer)",
            change: "ALTER TABLE t ALTER a SET NOT NULL",
            reverse: "ALTER TABLE t ALTER a DROP NOT NULL",
            names: &["column public.t.a"],
        },
        Case {
            name: "column identity",
            base: "CREATE TABLE t (a integer NOT NULL)",
            change: "ALTER TABLE t ALTER a ADD GENERATED ALWAYS AS IDENTITY",
            reverse: "ALTER TABLE t ALTER a DROP IDENTITY",
            names: &["column public.t.a", "sequence public.t_a_seq"],
        },
        Case {
            name: "column identity kind",
            base: "CREATE TABLE t (a integer GENERATED ALWAYS AS IDENTITY)",
            change: "ALTER TABLE t ALTER a SET GENERATED BY DEFAULT",
            reverse: "ALTER TABLE t ALTER a SET GENERATED ALWAYS",
            names: &["column public.t.a"],
        },
        Case {
            name: "generated column expression",
            base: "CREATE TABLE t (a integer, b integer GENERATED ALWAYS AS (a * 2) STORED)",
            change: "ALTER TABLE t ALTER b SET EXPRESSION AS (a * 3)",
            reverse: "ALTER TABLE t ALTER b SET EXPRESSION AS (a * 2)",
            names: &["column public.t.b"],
        },
        Case {
            name: "column collation",
            base: "CREATE TABLE t (a text)",
            change: r#"ALTER TABLE t ALTER a TYPE text COLLATE "C""#,
            reverse: r#"ALTER TABLE t ALTER a TYPE text COLLATE "default""#,
            names: &["column public.t.a"],
        },
        Case {
            name: "column storage and statistics",
            base: "CREATE TABLE t (a text)",
            change: "ALTER TABLE t ALTER a SET STORAGE EXTERNAL, ALTER a SET STATISTICS 500",
            reverse: "ALTER TABLE t ALTER a SET STORAGE EXTENDED, ALTER a SET STATISTICS -1",
            names: &["column public.t.a"],
        },
        Case {
            name: "primary key added",
            base: "CREATE TABLE t (a integer NOT NULL)",
            change: "ALTER TABLE t ADD PRIMARY KEY (a)",
            reverse: "ALTER TABLE t DROP CONSTRAINT t_pkey",
            names: &["constraint public.t.t_pkey"],
        },
        Case {
            name: "unique constraint added",
            base: "CREATE TABLE t (a integer)",
            change: "ALTER TABLE t ADD CONSTRAINT t_a_key UNIQUE (a)",
            reverse: "ALTER TABLE t DROP CONSTRAINT t_a_key",
            names: &["constraint public.t.t_a_key"],
        },
        Case {
            name: "check constraint changed",
            base: "CREATE TABLE t (a integer CONSTRAINT t_a_check CHECK (a > 0))",
            change: "ALTER TABLE t DROP CONSTRAINT t_a_check, \
                     ADD CONSTRAINT t_a_check CHECK (a >= 0)",
            reverse: "ALTER TABLE t DROP CONSTRAINT t_a_check, \
                      ADD CONSTRAINT t_a_check CHECK (a > 0)",
            names: &["constraint public.t.t_a_check"],
        },
        Case {
            name: "constraint renamed",
            base: "CREATE TABLE t (a integer CONSTRAINT t_a_check CHECK (a > 0))",
            change: "ALTER TABLE t RENAME CONSTRAINT t_a_check TO t_a_positive",
            reverse: "ALTER TABLE t RENAME CONSTRAINT t_a_positive TO t_a_check",
            names: &[
                "constraint public.t.t_a_check",
                "constraint public.t.t_a_positive",
            ],
        },
        Case {
            name: "foreign key on-delete changed",
            base: "CREATE TABLE p (id integer PRIMARY KEY); \
                   CREATE TABLE c (p_id integer CONSTRAINT c_p_fk REFERENCES p)",
            change: "ALTER TABLE c DROP CONSTRAINT c_p_fk, ADD CONSTRAINT c_p_fk \
                     FOREIGN KEY (p_id) REFERENCES p ON DELETE CASCADE",
            reverse: "ALTER TABLE c DROP CONSTRAINT c_p_fk, ADD CONSTRAINT c_p_fk \
                      FOREIGN KEY (p_id) REFERENCES p",
            names: &["constraint public.c.c_p_fk"],
        },
        Case {
            name: "exclusion constraint added",
            base: "CREATE TABLE t (r int4range)",
            change: "ALTER TABLE t ADD CONSTRAINT t_no_overlap EXCLUDE USING gist (r WITH &&)",
            reverse: "ALTER TABLE t DROP CONSTRAINT t_no_overlap",
            names: &["constraint public.t.t_no_overlap"],
        },
        Case {
            name: "index added",
            base: "CREATE TABLE t (a integer)",
            change: "CREATE INDEX t_a_idx ON t (a)",
            reverse: "DROP INDEX t_a_idx",
            names: &["index public.t_a_idx"],
        },
        Case {
            name: "index predicate changed",
            base: "CREATE TABLE t (a integer); CREATE INDEX t_a_idx ON t (a) WHERE a > 0",
            change: "DROP INDEX t_a_idx; CREATE INDEX t_a_idx ON t (a) WHERE a > 1",
            reverse: "DROP INDEX t_a_idx; CREATE INDEX t_a_idx ON t (a) WHERE a > 0",
            names: &["index public.t_a_idx"],
        },
        Case {
            name: "view added",
            base: "CREATE TABLE t (a integer)",
            change: "CREATE VIEW v AS SELECT a FROM t",
            reverse: "DROP VIEW v",
            names: &["view public.v"],
        },
        Case {
            name: "view body changed",
            base: "CREATE TABLE t (a integer); CREATE VIEW v AS SELECT a FROM t WHERE a > 0",
            change: "CREATE OR REPLACE VIEW v AS SELECT a FROM t WHERE a > 1",
            reverse: "CREATE OR REPLACE VIEW v AS SELECT a FROM t WHERE a > 0",
            names: &["view public.v"],
        },
        Case {
            name: "materialized view added",
            base: "CREATE TABLE t (a integer)",
            change: "CREATE MATERIALIZED VIEW mv AS SELECT a FROM t",
            reverse: "DROP MATERIALIZED VIEW mv",
            names: &["materialized view public.mv"],
        },
        Case {
            name: "materialized view index added",
            base: "CREATE TABLE t (a integer); CREATE MATERIALIZED VIEW mv AS SELECT a FROM t",
            change: "CREATE INDEX mv_a_idx ON mv (a)",
            reverse: "DROP INDEX mv_a_idx",
            names: &["index public.mv_a_idx"],
        },
        Case {
            name: "function body changed",
            base: "CREATE FUNCTION f(x integer, y text) RETURNS integer LANGUAGE sql \
                   AS 'SELECT x'",
            change: "CREATE OR REPLACE FUNCTION f(x integer, y text) RETURNS integer \
                     LANGUAGE sql AS 'SELECT x + 1'",
            reverse: "CREATE OR REPLACE FUNCTION f(x integer, y text) RETURNS integer \
                      LANGUAGE sql AS 'SELECT x'",
            names: &["function public.f(integer, text)"],
        },
        Case {
            name: "overload added",
            base: "CREATE FUNCTION f(x integer, y text) RETURNS integer LANGUAGE sql \
                   AS 'SELECT x'",
            change: "CREATE FUNCTION f(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x'",
            reverse: "DROP FUNCTION f(integer)",
            names: &["function public.f(integer)"],
        },
        Case {
            name: "function volatility and settings",
            base: "CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
            change: "ALTER FUNCTION f() STABLE SECURITY DEFINER SET search_path = public",
            reverse: "ALTER FUNCTION f() VOLATILE SECURITY INVOKER RESET search_path",
            names: &["function public.f()"],
        },
        Case {
            name: "SQL-standard function body changed",
            base: "CREATE FUNCTION g(x integer) RETURNS integer LANGUAGE sql \
                   BEGIN ATOMIC SELECT x; END",
            change: "CREATE OR REPLACE FUNCTION g(x integer) RETURNS integer LANGUAGE sql \
                     BEGIN ATOMIC SELECT x * 2; END",
            reverse: "CREATE OR REPLACE FUNCTION g(x integer) RETURNS integer LANGUAGE sql \
                      BEGIN ATOMIC SELECT x; END",
            names: &["function public.g(integer)"],
        },
        Case {
            name: "procedure added",
            base: "",
            change: "CREATE PROCEDURE p(n integer) LANGUAGE sql AS 'SELECT n'",
            reverse: "DROP PROCEDURE p(integer)",
            names: &["procedure public.p(integer)"],
        },
        Case {
            name: "aggregate added",
            base: "",
            change: "CREATE AGGREGATE total(integer) (sfunc = int4pl, stype = integer)",
            reverse: "DROP AGGREGATE total(integer)",
            names: &["aggregate public.total(integer)"],
        },
        Case {
            name: "trigger timing changed",
            base: "CREATE TABLE t (a integer); \
                   CREATE FUNCTION trf() RETURNS trigger LANGUAGE plpgsql \
                   AS $$BEGIN RETURN NEW; END$$; \
                   CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION trf()",
            change: "DROP TRIGGER tr ON t; \
                     CREATE TRIGGER tr AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION trf()",
            reverse: "DROP TRIGGER tr ON t; \
                      CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION trf()",
            names: &["trigger public.t.tr"],
        },
        Case {
            name: "trigger disabled",
            base: "CREATE TABLE t (a integer); \
                   CREATE FUNCTION trf() RETURNS trigger LANGUAGE plpgsql \
                   AS $$BEGIN RETURN NEW; END$$; \
                   CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION trf()",
            change: "ALTER TABLE t DISABLE TRIGGER tr",
            reverse: "ALTER TABLE t ENABLE TRIGGER tr",
            names: &["trigger public.t.tr"],
        },
        Case {
            name: "event trigger added",
            base: "CREATE FUNCTION etf() RETURNS event_trigger LANGUAGE plpgsql \
                   AS $$BEGIN END$$",
            change: "CREATE EVENT TRIGGER et ON ddl_command_end EXECUTE FUNCTION etf()",
            reverse: "DROP EVENT TRIGGER et",
            names: &["event trigger et"],
        },
        Case {
            name: "rule added",
            base: "CREATE TABLE t (a integer)",
            change: "CREATE RULE r AS ON INSERT TO t DO ALSO NOTIFY t",
            reverse: "DROP RULE r ON t",
            names: &["rule public.t.r"],
        },
        Case {
            name: "policy USING changed",
            base: "CREATE TABLE t (a integer); CREATE POLICY pol ON t USING (a > 0)",
            change: "ALTER POLICY pol ON t USING (a > 1)",
            reverse: "ALTER POLICY pol ON t USING (a > 0)",
            names: &["policy public.t.pol"],
        },
        Case {
            name: "policy roles changed",
            base: "CREATE TABLE t (a integer); CREATE POLICY pol ON t USING (a > 0)",
            change: "ALTER POLICY pol ON t TO {role}",
            reverse: "ALTER POLICY pol ON t TO PUBLIC",
            names: &["policy public.t.pol"],
        },
        Case {
            name: "statistics object added",
            base: "CREATE TABLE t (a integer, b integer)",
            change: "CREATE STATISTICS st (dependencies) ON a, b FROM t",
            reverse: "DROP STATISTICS st",
            names: &["statistics public.st"],
        },
        Case {
            name: "table comment changed",
            base: "CREATE TABLE t (a integer); COMMENT ON TABLE t IS 'one'",
            change: "COMMENT ON TABLE t IS 'two'",
            reverse: "COMMENT ON TABLE t IS 'one'",
            names: &["comment on table public.t"],
        },
        Case {
            name: "column comment added",
            base: "CREATE TABLE t (a integer)",
            change: "COMMENT ON COLUMN t.a IS 'the a'",
            reverse: "COMMENT ON COLUMN t.a IS NULL",
            names: &["comment on column public.t.a"],
        },
        Case {
            name: "view column comment added",
            base: "CREATE TABLE t (a integer); CREATE VIEW v AS SELECT a FROM t",
            change: "COMMENT ON COLUMN v.a IS 'the a'",
            reverse: "COMMENT ON COLUMN v.a IS NULL",
            names: &["comment on column public.v.a"],
        },
        Case {
            name: "comment on the index of a primary key",
            base: "CREATE TABLE t (a integer PRIMARY KEY)",
            change: "COMMENT ON INDEX t_pkey IS 'the key'",
            reverse: "COMMENT ON INDEX t_pkey IS NULL",
            names: &["comment on index public.t_pkey"],
        },
        Case {
            name: "comment on the public schema",
            base: "",
            change: "COMMENT ON SCHEMA public IS 'ours'",
            reverse: "COMMENT ON SCHEMA public IS 'standard public schema'",
            names: &["comment on schema public"],
        },
        Case {
            name: "function comment added",
            base: "CREATE FUNCTION f(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x'",
            change: "COMMENT ON FUNCTION f(integer) IS 'identity'",
            reverse: "COMMENT ON FUNCTION f(integer) IS NULL",
            names: &["comment on function public.f(integer)"],
        },
        Case {
            name: "grant on a table to another role",
            base: "CREATE TABLE t (a integer)",
            change: "GRANT SELECT, INSERT ON t TO {role}",
            reverse: "REVOKE ALL ON t FROM {role}",
            names: &["grant on table public.t to {role}"],
        },
        Case {
            name: "grant with grant option",
            base: "CREATE TABLE t (a integer); GRANT SELECT ON t TO {role}",
            change: "GRANT SELECT ON t TO {role} WITH GRANT OPTION",
            reverse: "REVOKE GRANT OPTION FOR SELECT ON t FROM {role}",
            names: &["grant on table public.t to {role}"],
        },
        Case {
            name: "grant on a column",
            base: "CREATE TABLE t (a integer)",
            change: "GRANT UPDATE (a) ON t TO {role}",
            reverse: "REVOKE UPDATE (a) ON t FROM {role}",
            names: &["grant on column public.t.a to {role}"],
        },
        Case {
            name: "grant on a schema",
            base: "CREATE SCHEMA app",
            change: "GRANT USAGE ON SCHEMA app TO {role}",
            reverse: "REVOKE USAGE ON SCHEMA app FROM {role}",
            names: &["grant on schema app to {role}"],
        },
        Case {
            name: "grant on a sequence",
            base: "CREATE SEQUENCE s",
            change: "GRANT USAGE ON SEQUENCE s TO {role}",
            reverse: "REVOKE USAGE ON SEQUENCE s FROM {role}",
            names: &["grant on sequence public.s to {role}"],
        },
        Case {
            name: "execute revoked from PUBLIC",
            base: "CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
            change: "REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC",
            reverse: "GRANT EXECUTE ON FUNCTION f() TO PUBLIC",
            names: &["grant on function public.f() to PUBLIC"],
        },
        Case {
            name: "usage on a type granted",
            base: "CREATE TYPE mood AS ENUM ('ok')",
            change: "GRANT USAGE ON TYPE mood TO {role}",
            reverse: "REVOKE USAGE ON TYPE mood FROM {role}",
            names: &["grant on enum type public.mood to {role}"],
        },
        Case {
            name: "another owner compares equal",
            base: "CREATE TABLE t (a integer PRIMARY KEY); GRANT SELECT ON t TO PUBLIC; \
                   CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1'; \
                   CREATE SCHEMA app; CREATE TYPE mood AS ENUM ('ok')",
            change: "ALTER TABLE t OWNER TO {role}; ALTER FUNCTION f() OWNER TO {role}; \
                     ALTER SCHEMA app OWNER TO {role}; ALTER TYPE mood OWNER TO {role}",
            reverse: "ALTER TABLE t OWNER TO CURRENT_USER; \
                      ALTER FUNCTION f() OWNER TO CURRENT_USER; \
                      ALTER SCHEMA app OWNER TO CURRENT_USER; \
                      ALTER TYPE mood OWNER TO CURRENT_USER",
            names: &[],
        },
        Case {
            name: "sqlx tracking table is ignored",
            base: "CREATE TABLE t (a integer)",
            change: "CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY, \
                     description text NOT NULL, installed_on timestamptz NOT NULL DEFAULT now(), \
                     success boolean NOT NULL, checksum bytea NOT NULL, \
                     execution_time bigint NOT NULL); \
                     COMMENT ON TABLE _sqlx_migrations IS 'tracking'; \
                     GRANT SELECT ON _sqlx_migrations TO PUBLIC",
            reverse: "DROP TABLE _sqlx_migrations",
            names: &[],
        },
        Case {
            name: "a trigger on a tracking table is compared",
            base: "CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY); \
                   CREATE FUNCTION forbid() RETURNS trigger LANGUAGE plpgsql \
                   AS 'BEGIN RAISE ''no''; END'",
            change: "CREATE TRIGGER forbid BEFORE INSERT ON _sqlx_migrations \
                     FOR EACH ROW EXECUTE FUNCTION forbid()",
            reverse: "DROP TRIGGER forbid ON _sqlx_migrations",
            names: &["trigger public._sqlx_migrations.forbid"],
        },
        Case {
            name: "diesel tracking table is ignored",
            base: "",
            change: "CREATE TABLE __diesel_schema_migrations (\
                     version varchar(50) PRIMARY KEY NOT NULL, \
                     run_on timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP, \
                     id integer GENERATED ALWAYS AS IDENTITY)",
            reverse: "DROP TABLE __diesel_schema_migrations",
            names: &[],
        },
    ]
}

/// How many threads run the coverage cases (each with its own connections and databases).
const WORKERS: usize = 2;

/// Runs every coverage case in its own database, spread over a few threads; returns how many
/// ran. A failing case fails the test with its own message.
fn coverage(server: &Server, role: &str) -> usize {
    let cases = cases();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|worker| {
                let cases = &cases;
                scope.spawn(move || {
                    let mut session = server.session();
                    for (i, case) in cases.iter().enumerate().skip(worker).step_by(WORKERS) {
                        coverage_case(server, &mut session, role, i, case);
                    }
                })
            })
            .collect();
        for worker in workers {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    cases.len()
}

/// One case: the change is seen and names the expected object, undoing it gives an empty
/// diff, and pg_dump agrees on both comparisons.
fn coverage_case(server: &Server, session: &mut Session, role: &str, i: usize, case: &Case) {
    let sub = |sql: &str| sql.replace("{role}", role);
    let mut db = session.database(&format!("snap_case_{i}"));
    if !case.base.is_empty() {
        db.sql(session, &sub(case.base));
    }
    let before = db.snapshot(session);
    let dump_before = server.dump(&db);
    db.sql(session, &sub(case.change));
    let changed = db.snapshot(session);
    let dump_changed = server.dump(&db);

    let d = diff(&before, &changed);
    let names: Vec<String> = case.names.iter().map(|n| sub(n)).collect();
    if names.is_empty() {
        assert!(
            d.is_empty(),
            "{}: expected no difference, got:\n{}",
            case.name,
            render(&d)
        );
    } else {
        assert!(!d.is_empty(), "{}: the change was not seen", case.name);
        for change in &d.changes {
            let text = change.to_string();
            assert!(
                names.iter().any(|n| text.contains(n.as_str())),
                "{}: change `{text}` names none of {names:?}; all changes:\n{}",
                case.name,
                render(&d)
            );
        }
        assert!(
            d.changes
                .iter()
                .any(|c| c.to_string().contains(names[0].as_str())),
            "{}: no change names {}:\n{}",
            case.name,
            names[0],
            render(&d)
        );
    }
    assert_agree(
        &format!("{}: base vs changed", case.name),
        (&before, &dump_before),
        (&changed, &dump_changed),
    );

    db.sql(session, &sub(case.reverse));
    let reverted = db.snapshot(session);
    let dump_reverted = server.dump(&db);
    let back = diff(&before, &reverted);
    assert!(
        back.is_empty(),
        "{}: undoing the change left a difference:\n{}",
        case.name,
        render(&back)
    );
    assert_agree(
        &format!("{}: base vs reverted", case.name),
        (&before, &dump_before),
        (&reverted, &dump_reverted),
    );
    session.drop_database(db);
}

/// A column dropped from the middle and re-added at the end differs only in positions.
fn column_order(session: &mut Session) {
    let mut db = session.database("snap_column_order");
    db.sql(
        session,
        "CREATE TABLE t (a integer, b text NOT NULL DEFAULT 'x', c integer); \
         COMMENT ON COLUMN t.b IS 'the b'",
    );
    let before = db.snapshot(session);
    db.sql(session, "ALTER TABLE t ADD COLUMN d date");
    let added = diff(&before, &db.snapshot(session));
    assert_eq!(
        added
            .changes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["column public.t.d: added"]
    );
    assert!(!added.is_only_column_order());
    db.sql(
        session,
        "ALTER TABLE t DROP COLUMN d; ALTER TABLE t DROP COLUMN b; \
         ALTER TABLE t ADD COLUMN b text NOT NULL DEFAULT 'x'; \
         COMMENT ON COLUMN t.b IS 'the b'",
    );
    let moved = diff(&before, &db.snapshot(session));
    assert!(
        moved.is_only_column_order(),
        "expected only column order:\n{}",
        render(&moved)
    );
    assert!(moved.without_column_order().is_empty());
    let lines: Vec<String> = moved.changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "column public.t.b: position 2 -> 3",
            "column public.t.c: position 3 -> 2",
        ]
    );
    session.drop_database(db);
}

fn sample_chain() -> Vec<(PathBuf, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut ups: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    ups.sort();
    ups.into_iter()
        .map(|up| {
            let down = PathBuf::from(up.to_string_lossy().replace(".up.sql", ".down.sql"));
            (up, down)
        })
        .collect()
}

/// Every state of the sample chain: each pair of states compares the same way with snapshots
/// and with pg_dump; each down restores the state before its up, and the up applies again.
fn migration_chain(server: &Server, session: &mut Session) -> usize {
    let chain = sample_chain();
    assert!(chain.len() >= 8, "the sample chain is there");
    let mut forward = session.database("snap_chain_forward");
    let mut states = vec![(forward.snapshot(session), server.dump(&forward))];
    for (up, _) in &chain {
        forward.psql_file(up);
        states.push((forward.snapshot(session), server.dump(&forward)));
    }
    let names: Vec<String> = std::iter::once("empty".to_string())
        .chain(
            chain
                .iter()
                .map(|(up, _)| up.file_name().unwrap().to_string_lossy().into_owned()),
        )
        .collect();
    for (i, a) in states.iter().enumerate() {
        for (j, b) in states.iter().enumerate().skip(i + 1) {
            assert_agree(
                &format!("after {} vs after {}", names[i], names[j]),
                (&a.0, &a.1),
                (&b.0, &b.1),
            );
            assert!(
                !diff(&a.0, &b.0).is_empty(),
                "{} and {} look the same",
                names[i],
                names[j]
            );
        }
    }

    // Round trips in another database: up, down (must give the state before), up again.
    let mut trip = session.database("snap_chain_round_trip");
    for (i, (up, down)) in chain.iter().enumerate() {
        trip.psql_file(up);
        trip.psql_file(down);
        let after_down = (trip.snapshot(session), server.dump(&trip));
        assert_agree(
            &format!("{} down vs the state before", names[i + 1]),
            (&states[i].0, &states[i].1),
            (&after_down.0, &after_down.1),
        );
        let d = diff(&states[i].0, &after_down.0);
        assert!(
            d.is_empty(),
            "{} down does not restore the schema:\n{}",
            names[i + 1],
            render(&d)
        );
        trip.psql_file(up);
        let again = (trip.snapshot(session), server.dump(&trip));
        assert_agree(
            &format!("{} re-applied vs applied once", names[i + 1]),
            (&states[i + 1].0, &states[i + 1].1),
            (&again.0, &again.1),
        );
        assert!(diff(&states[i + 1].0, &again.0).is_empty());
    }

    // The same schema built in another order, in a third database, compares equal.
    let mut shuffled = session.database("snap_chain_one_file");
    let all: String = chain
        .iter()
        .map(|(up, _)| std::fs::read_to_string(up).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    shuffled.sql(session, &all);
    let last = states.last().unwrap();
    let one = (shuffled.snapshot(session), server.dump(&shuffled));
    assert_agree(
        "the chain applied as one script vs file by file",
        (&last.0, &last.1),
        (&one.0, &one.1),
    );
    assert!(diff(&last.0, &one.0).is_empty());

    session.drop_database(forward);
    session.drop_database(trip);
    session.drop_database(shuffled);
    chain.len()
}

#[test]
fn snapshots_cover_every_object_kind_and_agree_with_pg_dump() {
    for engine in engines() {
        let started = Instant::now();
        let server = Server::start(&engine, "snapshot");
        let mut session = server.session();
        let role = format!("snap_reader_{}", std::process::id());
        session.admin_sql(&format!("CREATE ROLE {role} NOLOGIN"));

        // The chain and the column-order case run beside the coverage cases.
        let (cases, steps) = std::thread::scope(|scope| {
            let chain = scope.spawn(|| {
                let mut session = server.session();
                column_order(&mut session);
                migration_chain(&server, &mut session)
            });
            let cases = coverage(&server, &role);
            match chain.join() {
                Ok(steps) => (cases, steps),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });

        session.admin_sql(&format!("DROP ROLE {role}"));
        eprintln!(
            "{}: {cases} coverage cases, column order, {steps} migrations cross-checked in {:.1?}",
            engine.kind,
            started.elapsed()
        );
    }
}

/// `count` tables numbered from `from`, with columns, a primary key, a foreign key to the
/// previous table and an index each, and a view every 20 tables.
fn bench_schema(from: usize, count: usize) -> String {
    let mut sql = String::new();
    if from == 0 {
        sql.push_str("CREATE TYPE status AS ENUM ('queued', 'running', 'done');\n");
    }
    for i in from..from + count {
        let parent = if i == 0 {
            "parent_id bigint".to_string()
        } else {
            format!("parent_id bigint REFERENCES t{} (id)", i - 1)
        };
        sql.push_str(&format!(
            "CREATE TABLE t{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {parent}, \
             name text NOT NULL, status status NOT NULL DEFAULT 'queued', \
             created_at timestamptz NOT NULL DEFAULT now(), note text);\n\
             CREATE INDEX t{i}_parent_idx ON t{i} (parent_id);\n"
        ));
        if i % 20 == 0 {
            sql.push_str(&format!(
                "CREATE VIEW v{i} AS SELECT id, name FROM t{i} WHERE status = 'queued';\n"
            ));
        }
    }
    sql
}

/// Times snapshots of the same connection's database: (objects, min, median) of 15 runs.
fn time_snapshots(session: &Session, db: &mut Db) -> (usize, Duration, Duration) {
    let first = db.snapshot(session);
    let mut times = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        let again = db.snapshot(session);
        times.push(started.elapsed());
        assert_eq!(again, first);
    }
    times.sort();
    (first.len(), times[0], times[times.len() / 2])
}

/// Not a timed test: prints how long a snapshot of ~200 and ~400 tables takes, on one
/// connection whose schema grows (as in a round-trip check: the statement is prepared while
/// the database is still empty).
/// `cargo test --release --test snapshot -- --ignored --nocapture snapshot_timing`
#[test]
#[ignore = "benchmark: run with --ignored --nocapture"]
fn snapshot_timing() {
    for engine in engines() {
        let server = Server::start(&engine, "snapshot-bench");
        let mut session = server.session();
        let mut db = session.database("snap_bench");
        let (_, empty, _) = time_snapshots(&session, &mut db);
        println!("{}: empty database: {empty:.1?}", engine.kind);
        for (from, count) in [(0, 200), (200, 200)] {
            let started = Instant::now();
            db.sql(&session, &bench_schema(from, count));
            let created = started.elapsed();
            let (objects, min, median) = time_snapshots(&session, &mut db);
            println!(
                "{}: {} tables ({objects} objects; creating {count} took {created:.1?}): \
                 snapshot min {min:.1?}, median {median:.1?}",
                engine.kind,
                from + count
            );
        }
        session.drop_database(db);
    }
}

/// Steps that change what other objects' definitions say without touching their own catalog
/// rows (renames of referenced columns, tables, types and functions), drop and re-create
/// objects under the same name, and make untrackable changes (schemas, settings, a temporary
/// table hiding a table, an extension). `{role}` is the test's role.
const TRICKY_STEPS: &[&str] = &[
    "CREATE TABLE a (id integer PRIMARY KEY, x integer, y text DEFAULT 'q')",
    "CREATE VIEW va AS SELECT id, x FROM a WHERE x > 0",
    "CREATE VIEW vb AS SELECT * FROM va",
    "ALTER TABLE a RENAME COLUMN x TO x2",
    "ALTER TABLE a RENAME TO a2",
    "ALTER TABLE a2 RENAME TO a",
    "ALTER VIEW va RENAME COLUMN x TO x_renamed",
    "CREATE TYPE mood AS ENUM ('sad')",
    "ALTER TABLE a ADD COLUMN m mood, ADD COLUMN ms mood[]",
    "ALTER TYPE mood ADD VALUE 'happy'",
    "ALTER TYPE mood RENAME TO feeling",
    "COMMENT ON COLUMN a.y IS 'why'",
    "COMMENT ON COLUMN a.y IS NULL",
    "COMMENT ON TABLE a IS 'the a'; COMMENT ON CONSTRAINT a_pkey ON a IS 'key'",
    "COMMENT ON SCHEMA public IS 'ours'",
    "COMMENT ON SCHEMA public IS 'standard public schema'",
    "COMMENT ON EXTENSION plpgsql IS 'ours'",
    "COMMENT ON EXTENSION plpgsql IS 'PL/pgSQL procedural language'",
    "GRANT SELECT ON a TO {role}; GRANT UPDATE (y) ON a TO {role}",
    "REVOKE SELECT ON a FROM {role}",
    "ALTER ROLE {role} RENAME TO {role}_renamed",
    "ALTER ROLE {role}_renamed RENAME TO {role}",
    "CREATE FUNCTION f(i integer) RETURNS integer LANGUAGE sql AS 'SELECT i'",
    "ALTER TABLE a ALTER COLUMN x2 SET DEFAULT f(1)",
    "CREATE OR REPLACE FUNCTION f(i integer) RETURNS integer LANGUAGE sql AS 'SELECT i + 1'",
    "ALTER FUNCTION f(integer) RENAME TO g",
    "CREATE FUNCTION g(i numeric) RETURNS integer LANGUAGE sql AS 'SELECT 2'",
    "DROP FUNCTION g(numeric)",
    "CREATE FUNCTION trf() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$",
    "CREATE TRIGGER tr BEFORE INSERT ON a FOR EACH ROW EXECUTE FUNCTION trf()",
    "ALTER FUNCTION trf() RENAME TO trf2",
    "ALTER TABLE a DISABLE TRIGGER tr",
    "DROP TRIGGER tr ON a",
    "CREATE POLICY pol ON a USING (x2 > 0)",
    "ALTER TABLE a RENAME COLUMN x2 TO x3",
    "ALTER POLICY pol ON a TO {role}",
    "DROP POLICY pol ON a",
    "CREATE INDEX a_y_idx ON a (y)",
    "ALTER INDEX a_y_idx RENAME TO a_y_idx2",
    "DROP INDEX a_y_idx2",
    "CREATE TABLE b (id integer PRIMARY KEY, a_id integer REFERENCES a)",
    "ALTER TABLE a RENAME COLUMN id TO aid",
    "ALTER TABLE b DROP CONSTRAINT b_a_id_fkey",
    "DROP VIEW vb; DROP VIEW va",
    "CREATE VIEW va AS SELECT aid FROM a",
    "CREATE SEQUENCE s OWNED BY a.y",
    "ALTER TABLE a RENAME COLUMN y TO y2",
    "ALTER SEQUENCE s OWNED BY NONE",
    "ALTER TABLE a ADD COLUMN n integer GENERATED ALWAYS AS IDENTITY",
    "ALTER TABLE a ALTER COLUMN n DROP IDENTITY",
    "CREATE DOMAIN pos AS integer CONSTRAINT pos_check CHECK (VALUE > 0)",
    "ALTER DOMAIN pos DROP CONSTRAINT pos_check",
    "ALTER TABLE a ADD COLUMN z integer; CREATE STATISTICS st (dependencies) ON aid, z FROM a",
    "ALTER TABLE a RENAME COLUMN z TO z2",
    "DROP STATISTICS st",
    "CREATE RULE r AS ON INSERT TO b DO ALSO NOTIFY b",
    "DROP RULE r ON b",
    "CREATE MATERIALIZED VIEW mv AS SELECT aid FROM a; CREATE INDEX mv_idx ON mv (aid)",
    "CREATE TABLE p (k integer) PARTITION BY RANGE (k); \
     CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10)",
    "ALTER TABLE p DETACH PARTITION p1",
    "CREATE TABLE c (v integer); CREATE TABLE c2 () INHERITS (c)",
    "ALTER TABLE c2 NO INHERIT c",
    "CREATE TYPE pair AS (l integer, r text)",
    "ALTER TYPE pair RENAME ATTRIBUTE r TO rr",
    "CREATE TEMPORARY TABLE a (hides integer)",
    "DROP TABLE pg_temp.a",
    "CREATE SCHEMA app; CREATE TABLE app.t (id integer)",
    "ALTER SCHEMA app RENAME TO app2",
    "SET search_path = app2, public",
    "RESET search_path",
    "SET TimeZone = 'America/New_York'",
    "RESET TimeZone",
    "CREATE EXTENSION citext",
    "ALTER TABLE a ADD COLUMN ci citext",
    "ALTER TABLE a DROP COLUMN ci; DROP EXTENSION citext",
    "DROP TABLE b; DROP TABLE a CASCADE; CREATE TABLE a (id integer)",
    "DROP TABLE a; CREATE TABLE a (id bigint)",
    // The event log's triggers fire in replica mode and write the log after a SET ROLE.
    "SET session_replication_role = replica; COMMENT ON TABLE a IS 'while a replica'",
    "RESET session_replication_role; COMMENT ON TABLE a IS NULL",
    "GRANT CREATE ON SCHEMA public TO {role}; SET ROLE {role}; \
     CREATE TYPE made_by_role AS ENUM ('x'); ALTER TYPE made_by_role ADD VALUE 'y'; RESET ROLE",
    "DROP TYPE made_by_role; REVOKE CREATE ON SCHEMA public FROM {role}",
];

/// Drops every schema but the system ones and re-creates `public` (event triggers and
/// extensions are dropped by the cases' own undo).
const EMPTY_THE_DATABASE: &str = "DO $$DECLARE s text; BEGIN \
     FOR s IN SELECT nspname FROM pg_namespace \
              WHERE nspname !~ '^pg_' \
                AND nspname NOT IN ('information_schema', '_packit_db_events') LOOP \
         EXECUTE format('DROP SCHEMA %I CASCADE', s); \
     END LOOP; END$$; \
     CREATE SCHEMA public; COMMENT ON SCHEMA public IS 'standard public schema'";

/// Runs a step as a migration would (one transaction; a failing step is rolled back: broken
/// fixtures have such steps); returns its error, if any.
fn run_step(session: &Session, db: &mut Db, sql: &str) -> Result<(), String> {
    session
        .block_on(sqlx::raw_sql(sql).execute(&mut db.conn))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A tracker under test, with the whole snapshot and the mark of its previous comparison.
struct Tracked {
    tracker: snapshot::Tracker,
    previous: Option<(Snapshot, snapshot::Mark)>,
}

impl Tracked {
    fn new(tracker: snapshot::Tracker) -> Tracked {
        Tracked {
            tracker,
            previous: None,
        }
    }

    fn stats(&self) -> snapshot::TrackerStats {
        self.tracker.stats()
    }

    fn uses_event_log(&self) -> bool {
        self.tracker.uses_event_log()
    }
}

/// Takes the tracker's snapshot and a whole one, and asserts they are equal; and that the
/// changes since the previous comparison's mark diff as the whole snapshots do.
fn compare(session: &Session, db: &mut Db, tracked: &mut Tracked, what: &str) {
    let tracker = &mut tracked.tracker;
    let partial = session
        .block_on(tracker.refresh(&mut db.conn))
        .cloned()
        .unwrap_or_else(|e| panic!("{what}: partial snapshot: {e}"));
    let whole = db.snapshot(session);
    let d = diff(&whole, &partial);
    assert!(
        d.is_empty(),
        "{what}: the partial snapshot differs from a whole one (whole -> partial):\n{}",
        render(&d)
    );
    if let Some((previous, mark)) = tracked.previous.take() {
        let (then, now) = tracker.changes_since(mark).expect("an open mark");
        assert_eq!(
            render(&diff(&then, &now)),
            render(&diff(&previous, &whole)),
            "{what}: the changes since the mark differ from the whole snapshots' diff"
        );
        tracker.forget(mark);
    }
    tracked.previous = Some((whole, tracker.mark()));
}

/// The migrations of a folder (`*.up.sql` with their `.down.sql`, if any), in order.
fn chain(dir: &Path) -> Vec<(PathBuf, Option<PathBuf>)> {
    let mut ups: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    ups.sort();
    ups.into_iter()
        .map(|up| {
            let down = PathBuf::from(up.to_string_lossy().replace(".up.sql", ".down.sql"));
            (up, down.exists().then_some(down))
        })
        .collect()
}

/// After every step of the tricky steps, of every coverage case (base, change, undo) and of the
/// round trips (up, down, up) of the fixture chains and the sample chain, a tracker's snapshot
/// (partial after the first) equals a whole one; and most of them were partial. With either
/// source of change markers: the catalogs, and the event log (the test servers' roles are
/// superusers).
#[test]
fn incremental_snapshots_equal_whole_ones() {
    type NewTracker = fn() -> snapshot::Tracker;
    let sources: [(&str, NewTracker); 2] = [
        ("catalogs", snapshot::Tracker::new),
        ("event log", snapshot::Tracker::with_event_log),
    ];
    for (engine, (source, new_tracker)) in engines()
        .into_iter()
        .flat_map(|e| sources.map(|s| (e.clone(), s)))
    {
        let started = Instant::now();
        let server = Server::start(&engine, "snapshot-incremental");
        let mut session = server.session();
        let role = format!("snap_incr_{}", std::process::id());
        session.admin_sql(&format!("CREATE ROLE {role} NOLOGIN"));
        let sub = |sql: &str| sql.replace("{role}", &role);
        let mut steps = 0;
        let mut stats = Vec::new();

        let mut db = session.database("snap_incremental_tricky");
        db.sql(&session, &reader_settings());
        let mut tracker = Tracked::new(new_tracker());
        compare(&session, &mut db, &mut tracker, "empty");
        for step in TRICKY_STEPS {
            run_step(&session, &mut db, &sub(step)).unwrap_or_else(|e| panic!("{step}: {e}"));
            compare(&session, &mut db, &mut tracker, step);
            steps += 1;
        }
        assert_eq!(
            tracker.uses_event_log(),
            source == "event log",
            "the tracker's change markers should come from the {source}"
        );
        stats.push(("tricky steps", tracker.stats()));
        session.drop_database(db);

        // The coverage cases one after another in one database, the schema emptied between.
        let mut db = session.database("snap_incremental_cases");
        db.sql(&session, &reader_settings());
        let mut tracker = Tracked::new(new_tracker());
        for case in cases() {
            for (label, sql) in [
                ("base", case.base),
                ("change", case.change),
                ("undo", case.reverse),
            ] {
                if !sql.is_empty() {
                    run_step(&session, &mut db, &sub(sql))
                        .unwrap_or_else(|e| panic!("{}: {label}: {e}", case.name));
                }
                compare(
                    &session,
                    &mut db,
                    &mut tracker,
                    &format!("{}: {label}", case.name),
                );
                steps += 1;
            }
            db.sql(&session, EMPTY_THE_DATABASE);
        }
        if tracker.uses_event_log() {
            // A migration dropping the event log: the tracker goes on with the catalogs.
            run_step(&session, &mut db, "DROP SCHEMA _packit_db_events CASCADE").unwrap();
            compare(&session, &mut db, &mut tracker, "event log dropped");
            assert!(!tracker.uses_event_log());
            run_step(&session, &mut db, "CREATE TABLE after_the_log (n int)").unwrap();
            compare(
                &session,
                &mut db,
                &mut tracker,
                "a table after the event log",
            );
        }
        stats.push(("coverage cases", tracker.stats()));
        session.drop_database(db);

        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for folder in [
            "tests/fixtures/downgrade/good",
            "tests/fixtures/downgrade/broken",
            "migrations",
        ] {
            let mut db = session.database("snap_incremental_chain");
            db.sql(&session, &reader_settings());
            let mut tracker = Tracked::new(new_tracker());
            compare(&session, &mut db, &mut tracker, folder);
            for (up, down) in chain(&root.join(folder)) {
                let files = std::iter::once(&up)
                    .chain(down.as_ref())
                    .chain(down.as_ref().map(|_| &up));
                for file in files.collect::<Vec<_>>() {
                    let sql = std::fs::read_to_string(file).unwrap();
                    let _ = run_step(&session, &mut db, &sql);
                    compare(&session, &mut db, &mut tracker, &file.display().to_string());
                    steps += 1;
                }
            }
            stats.push((folder, tracker.stats()));
            session.drop_database(db);
        }

        if source == "event log" {
            // Without plpgsql the event log cannot be set up: the catalogs serve instead.
            let mut db = session.database("snap_incremental_no_plpgsql");
            db.sql(&session, "DROP EXTENSION plpgsql");
            let mut tracker = Tracked::new(new_tracker());
            compare(&session, &mut db, &mut tracker, "no plpgsql");
            assert!(!tracker.uses_event_log());
            run_step(&session, &mut db, "CREATE TABLE t (n int)").unwrap();
            compare(&session, &mut db, &mut tracker, "no plpgsql: a table");
            session.drop_database(db);
        }

        session.admin_sql(&format!("DROP ROLE {role}"));
        let partial: usize = stats.iter().map(|(_, s)| s.partial + s.unchanged).sum();
        assert!(
            partial * 2 > steps,
            "most snapshots should be partial: {stats:?}"
        );
        eprintln!(
            "{} ({source}): {steps} steps compared in {:.1?}: {stats:?}",
            engine.kind,
            started.elapsed()
        );
    }
}

/// The session settings a tracker's connection runs with (the scratch databases' own), as SET
/// statements: the trackers under test plan their queries as in a real check.
fn reader_settings() -> String {
    READER_SETTINGS
        .iter()
        .map(|(name, value)| format!("SET {name} = '{value}';"))
        .collect()
}
