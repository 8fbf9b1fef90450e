//! The staging database a dump is loaded into, and the swap that puts it in place.
//!
//! A staging database is named `packit_staging_<pid>_<random>` and carries a comment marking
//! it as this tool's. Only after a load succeeded is it renamed to the target's name, in one
//! transaction with the rename of the previous database out of the way, so there is never a
//! moment without a complete target database. A run first drops the marked staging databases
//! (and the dump copies in the container's /tmp) of runs whose process is gone: a load killed
//! half-way is cleaned up by the next one. Everything runs as the container's superuser.

use futures_util::future::BoxFuture;
use rand::distr::{Alphanumeric, SampleString};
use sqlx::{ConnectOptions, Connection, Executor, PgConnection, Row};

use crate::commands::admin::superuser_psql_on;
use crate::config::EnvStyle;
use crate::db::{quote_ident, quote_literal, ConnectionInfo};
use crate::dump::DumpError;
use crate::engine::{Engine, ExecRequest};

/// The comment that marks a staging database as this tool's.
pub(crate) const STAGING_MARK: &str = "cargo-packit-db staging database: safe to drop";
/// The prefix of staging database names.
pub(crate) const STAGING_PREFIX: &str = "packit_staging_";
/// The prefix of dump copies in the container's /tmp.
pub(crate) const UPLOAD_PREFIX: &str = "packit-load-";

/// Superuser access to one container.
#[derive(Clone, Copy)]
pub(crate) struct Admin<'e> {
    /// The engine.
    pub engine: &'e Engine,
    /// The container.
    pub container: &'e str,
    /// Its image contract.
    pub style: EnvStyle,
    /// The application role it was created with.
    pub app_user: &'e str,
    /// A database to connect to that is never renamed or dropped here.
    pub maintenance_db: &'e str,
    /// A direct connection, when the application role is the superuser (official images):
    /// statements then skip the exec round trip (about 50 ms each).
    pub direct: Option<&'e DirectSql>,
}

/// A superuser connection over the published port.
pub(crate) struct DirectSql {
    conn: tokio::sync::Mutex<PgConnection>,
    info: ConnectionInfo,
}

impl DirectSql {
    /// Connects as the application role to `maintenance_db`; `None` when that fails (the
    /// exec path is used then).
    pub(crate) async fn connect(app: &ConnectionInfo, maintenance_db: &str) -> Option<DirectSql> {
        let info = ConnectionInfo {
            database: maintenance_db.to_string(),
            ..app.clone()
        };
        // No statement logging: one of them sets a password.
        match PgConnection::connect_with(&info.options().disable_statement_logging()).await {
            Ok(conn) => Some(DirectSql {
                conn: tokio::sync::Mutex::new(conn),
                info,
            }),
            Err(e) => {
                tracing::debug!(%e, "no direct superuser connection; using psql in the container");
                None
            }
        }
    }

    /// Closes the connection.
    pub(crate) async fn close(self) {
        let _ = self.conn.into_inner().close().await;
    }
}

/// Runs each statement on `conn`; the first column of every row, as text. A failure rolls
/// back an open transaction. (Boxed: sqlx's executor bounds are otherwise not provably `Send`
/// inside the role policy's boxed future.)
fn run_direct<'c>(
    conn: &'c mut PgConnection,
    statements: &'c [String],
) -> BoxFuture<'c, Result<Vec<String>, String>> {
    Box::pin(async move {
        let mut out = Vec::new();
        for statement in statements {
            match Executor::fetch_all(&mut *conn, sqlx::raw_sql(statement)).await {
                Ok(rows) => {
                    for row in rows {
                        // The simple protocol sends text: any column type reads as a string.
                        let value: Option<String> = row.try_get_unchecked(0).unwrap_or(None);
                        out.push(value.unwrap_or_default());
                    }
                }
                Err(e) => {
                    let _ = Executor::execute(&mut *conn, sqlx::raw_sql("ROLLBACK")).await;
                    return Err(match &e {
                        sqlx::Error::Database(db) => format!("ERROR: {}", db.message()),
                        other => other.to_string(),
                    });
                }
            }
        }
        Ok(out)
    })
}

impl Admin<'_> {
    /// Runs `statements` as the superuser on the maintenance database; returns the first
    /// column of their rows.
    pub(crate) async fn sql(
        &self,
        action: &str,
        statements: Vec<String>,
    ) -> Result<Vec<String>, DumpError> {
        self.sql_on(self.maintenance_db, action, statements).await
    }

    /// Runs `statements` as the superuser on `database`.
    pub(crate) async fn sql_on(
        &self,
        database: &str,
        action: &str,
        statements: Vec<String>,
    ) -> Result<Vec<String>, DumpError> {
        let failed = |detail: String| DumpError::Admin {
            action: action.to_string(),
            detail,
        };
        if let Some(direct) = self.direct {
            if database == direct.info.database {
                let mut conn = direct.conn.lock().await;
                return run_direct(&mut conn, &statements).await.map_err(failed);
            }
            let info = ConnectionInfo {
                database: database.to_string(),
                ..direct.info.clone()
            };
            let mut conn = PgConnection::connect_with(&info.options().disable_statement_logging())
                .await
                .map_err(|e| failed(e.to_string()))?;
            let result = run_direct(&mut conn, &statements).await.map_err(failed);
            let _ = conn.close().await;
            return result;
        }
        let mut script = statements.join(";\n");
        script.push_str(";\n");
        let out = superuser_psql_on(
            self.engine,
            self.container,
            self.style,
            self.app_user,
            database,
            script,
        )
        .await
        .map_err(|e| failed(e.to_string()))?;
        if out.code != 0 {
            return Err(failed(last_lines(&out.stderr, 3).replace(":  ", ": ")));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect())
    }

    /// Runs a command as root in the container (file clean-up); failures are ignored.
    pub(crate) async fn root(&self, cmd: &[&str]) -> Vec<String> {
        let request = ExecRequest {
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            tty: false,
            user: Some("0".into()),
        };
        match self
            .engine
            .exec_capture(self.container, request, None)
            .await
        {
            Ok(out) => String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string)
                .collect(),
            Err(e) => {
                tracing::debug!(%e, ?cmd, "exec as root failed");
                Vec::new()
            }
        }
    }
}

/// The last `n` non-empty lines of a tool's stderr, joined with "; ".
pub(crate) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join("; ")
}

/// A unique token for this run's names: `<pid>_<random>`.
pub(crate) fn run_token() -> String {
    let suffix = Alphanumeric
        .sample_string(&mut rand::rng(), 8)
        .to_lowercase();
    format!("{}_{suffix}", std::process::id())
}

/// Whether the process that made a name (`<prefix><pid>_<random>`) is still running here.
fn owner_alive(name: &str, prefix: &str) -> bool {
    let Some(pid) = name
        .strip_prefix(prefix)
        .and_then(|rest| rest.split('_').next())
        .and_then(|pid| pid.parse::<u32>().ok())
    else {
        return false;
    };
    pid != std::process::id() && std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Drops marked staging databases left by runs that are gone, and then the dump copies such
/// runs left in the container (a run creates its staging database before copying anything).
pub(crate) async fn remove_leftovers(admin: &Admin<'_>) -> Result<(), DumpError> {
    let rows = admin
        .sql(
            "look for leftover staging databases",
            vec![format!(
                "SELECT d.datname::text FROM pg_database d
                 JOIN pg_shdescription s ON s.objoid = d.oid AND s.classoid = 'pg_database'::regclass
                 WHERE starts_with(d.datname, {}) AND s.description = {}",
                quote_literal(STAGING_PREFIX),
                quote_literal(STAGING_MARK)
            )],
        )
        .await?;
    let leftovers: Vec<&String> = rows
        .iter()
        .filter(|n| !owner_alive(n, STAGING_PREFIX))
        .collect();
    for name in &leftovers {
        tracing::info!(%name, "dropping a staging database left by a killed load");
        crate::ui::note(&format!(
            "dropping staging database `{name}` left by an interrupted load"
        ));
        admin
            .sql(
                &format!("drop leftover staging database `{name}`"),
                vec![drop_database(name)],
            )
            .await?;
    }
    if !leftovers.is_empty() {
        for entry in admin.root(&["ls", "-1", "/tmp"]).await {
            if entry.starts_with(UPLOAD_PREFIX) && !owner_alive(&entry, UPLOAD_PREFIX) {
                admin.root(&["rm", "-rf", &format!("/tmp/{entry}")]).await;
            }
        }
    }
    Ok(())
}

/// `DROP DATABASE IF EXISTS <name> WITH (FORCE)`: sessions on it are ended.
pub(crate) fn drop_database(name: &str) -> String {
    format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name))
}

/// A staging database being loaded.
pub(crate) struct Staging {
    /// Its name.
    pub name: String,
}

impl Staging {
    /// Creates an empty staging database owned by `owner`.
    pub(crate) async fn create(
        admin: &Admin<'_>,
        token: &str,
        owner: &str,
    ) -> Result<Staging, DumpError> {
        let name = format!("{STAGING_PREFIX}{token}");
        let ident = quote_ident(&name);
        admin
            .sql(
                &format!("create staging database `{name}`"),
                vec![
                    format!(
                        "CREATE DATABASE {ident} OWNER {} TEMPLATE template0",
                        quote_ident(owner)
                    ),
                    format!(
                        "COMMENT ON DATABASE {ident} IS {}",
                        quote_literal(STAGING_MARK)
                    ),
                ],
            )
            .await?;
        Ok(Staging { name })
    }

    /// Drops it (terminating whatever still runs on it).
    pub(crate) async fn remove(&self, admin: &Admin<'_>) -> Result<(), DumpError> {
        admin
            .sql(
                &format!("drop staging database `{}`", self.name),
                vec![drop_database(&self.name)],
            )
            .await
            .map(|_| ())
    }
}

/// Renames `staging` to `target`. An existing `target` is first closed to new connections,
/// its sessions are ended, and it is renamed to `previous` in the same transaction; it gets a
/// comment saying what it is. On failure `target` accepts connections again.
/// `server_num` is the server's `server_version_num`: from 14 on, ending a session waits until
/// it is gone.
pub(crate) async fn swap(
    admin: &Admin<'_>,
    staging: &Staging,
    target: &str,
    previous: Option<(&str, &str)>,
    server_num: u32,
) -> Result<(), DumpError> {
    let target_ident = quote_ident(target);
    let staging_ident = quote_ident(&staging.name);
    let action = format!("swap the loaded database in as `{target}`");
    let rename = format!("ALTER DATABASE {staging_ident} RENAME TO {target_ident}");
    let unmark = format!("COMMENT ON DATABASE {target_ident} IS NULL");
    let Some((previous, comment)) = previous else {
        let statements = vec!["BEGIN".into(), rename, unmark, "COMMIT".into()];
        return admin.sql(&action, statements).await.map(|_| ());
    };
    let previous_ident = quote_ident(previous);
    let statements = vec![
        format!("ALTER DATABASE {target_ident} WITH ALLOW_CONNECTIONS false"),
        format!(
            "SELECT count(pg_terminate_backend(pid{})) FROM pg_stat_activity
             WHERE datname = {} AND pid <> pg_backend_pid()",
            if server_num >= 140000 { ", 10000" } else { "" },
            quote_literal(target)
        ),
        "BEGIN".into(),
        format!("ALTER DATABASE {target_ident} RENAME TO {previous_ident}"),
        rename,
        unmark,
        format!(
            "COMMENT ON DATABASE {previous_ident} IS {}",
            quote_literal(comment)
        ),
        "COMMIT".into(),
        format!("ALTER DATABASE {previous_ident} WITH ALLOW_CONNECTIONS true"),
    ];
    let result = admin.sql(&action, statements).await;
    if result.is_err() {
        // Whatever failed, the target keeps its name; let clients in again.
        let _ = admin
            .sql(
                "re-open the target database",
                vec![format!(
                    "ALTER DATABASE {target_ident} WITH ALLOW_CONNECTIONS true"
                )],
            )
            .await;
    }
    result.map(|_| ())
}

/// The dated name the previous database is kept under: `<target>_before_<YYYYMMDD_HHMMSS>`,
/// the target part shortened so the whole fits PostgreSQL's 63 bytes.
pub(crate) fn previous_name(target: &str, now: chrono::DateTime<chrono::Local>) -> String {
    let suffix = now.format("_before_%Y%m%d_%H%M%S").to_string();
    let mut base = target.to_string();
    // Three bytes stay free for the `_2` that a second load within the same second adds.
    while base.len() + suffix.len() > 60 {
        base.pop();
    }
    format!("{base}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_names_fit_63_bytes_and_keep_characters_whole() {
        let now =
            chrono::TimeZone::with_ymd_and_hms(&chrono::Local, 2026, 12, 1, 15, 4, 5).unwrap();
        assert_eq!(previous_name("shop", now), "shop_before_20261201_150405");
        let long = "ä".repeat(40);
        let name = previous_name(&long, now);
        assert!(name.len() <= 63, "{name}");
        assert!(name.ends_with("_before_20261201_150405"));
    }

    #[test]
    fn leftover_owner_is_read_from_the_name() {
        assert!(!owner_alive("packit_staging_999999999_abc", STAGING_PREFIX));
        assert!(!owner_alive("packit_staging_x_abc", STAGING_PREFIX));
        let me = format!("packit_staging_{}_abc", std::process::id());
        assert!(
            !owner_alive(&me, STAGING_PREFIX),
            "this run's own names are not 'alive'"
        );
        assert!(
            owner_alive("packit_staging_1_abc", STAGING_PREFIX),
            "pid 1 runs"
        );
    }

    #[test]
    fn last_lines_keeps_the_tail() {
        assert_eq!(last_lines("a\n\nb\nc\n", 2), "b; c");
    }
}
