//! SQL and tools as the container's superuser.
//!
//! Some steps need more than the application role may do: setting its password after a new
//! container meets an old volume, creating or dropping temporary databases, creating roles,
//! and running pg_restore/pg_dump on any database, on images whose application role is not a
//! superuser (the Software Collections images). There they run inside the container, over its
//! local socket: statements go through psql's stdin, never its argv, and no password is needed
//! (the local socket trusts or peer-authenticates). Where the application role is the
//! superuser (the official images), [`Admin`] sends statements over a direct connection
//! instead, which saves the exec round trip.

use std::sync::{Mutex, PoisonError};

use futures_util::future::BoxFuture;
use sqlx::{Connection, Executor, PgConnection, Row};

use crate::db::connection::ConnectionInfo;
use crate::db::error::AdminError;
use crate::engine::EnvStyle;
use crate::engine::{Engine, EngineError, ExecOutput, ExecRequest};

/// The superuser's role name: official images make the application role the superuser;
/// sclorg images keep `postgres`.
pub(crate) fn superuser(style: EnvStyle, app_user: &str) -> &str {
    match style {
        EnvStyle::Official => app_user,
        EnvStyle::Sclorg => "postgres",
    }
}

/// An exec of `cmd` as the superuser on `database`, over the local socket (as OS user
/// `postgres`, which both image contracts trust or peer-authenticate there).
pub(crate) fn superuser_request(
    style: EnvStyle,
    app_user: &str,
    database: &str,
    cmd: Vec<String>,
) -> ExecRequest {
    ExecRequest {
        cmd,
        env: vec![
            format!("PGUSER={}", superuser(style, app_user)),
            format!("PGDATABASE={database}"),
        ],
        tty: false,
        user: Some("postgres".into()),
    }
}

/// psql reading statements from stdin: quiet, unaligned, tuples only, stopping at the first
/// error.
pub(crate) fn psql_command() -> Vec<String> {
    ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
        .map(String::from)
        .to_vec()
}

/// Runs `sql` with `psql -v ON_ERROR_STOP=1` as the superuser in `container`. `user` and
/// `database` are the application role and database the container was created with.
pub(crate) async fn superuser_psql(
    engine: &Engine,
    container: &str,
    style: EnvStyle,
    user: &str,
    database: &str,
    sql: String,
) -> Result<ExecOutput, EngineError> {
    let login_db = match style {
        EnvStyle::Official => database,
        EnvStyle::Sclorg => "postgres",
    };
    superuser_psql_on(engine, container, style, user, login_db, sql).await
}

/// Runs `sql` as the superuser on `database`, returning psql's unaligned, tuples-only output.
pub(crate) async fn superuser_psql_on(
    engine: &Engine,
    container: &str,
    style: EnvStyle,
    app_user: &str,
    database: &str,
    sql: String,
) -> Result<ExecOutput, EngineError> {
    let request = superuser_request(style, app_user, database, psql_command());
    engine
        .exec_capture(container, request, Some(sql.into_bytes()))
        .await
}

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

/// Superuser connections over the published port, to the maintenance database.
pub(crate) struct DirectSql {
    info: ConnectionInfo,
    /// Connections not in use. Most callers run one statement list at a time and reuse the
    /// first; another is opened while all are busy (scratch databases are created and copied
    /// concurrently).
    idle: Mutex<Vec<PgConnection>>,
}

impl DirectSql {
    /// Connects as the application role to `maintenance_db`; `None` when that fails (the
    /// exec path is used then).
    pub(crate) async fn connect(app: &ConnectionInfo, maintenance_db: &str) -> Option<DirectSql> {
        let info = ConnectionInfo {
            database: maintenance_db.to_string(),
            ..app.clone()
        };
        // No statement logging (the options' default): one of them sets a password.
        match PgConnection::connect_with(&info.options()).await {
            Ok(conn) => Some(DirectSql {
                info,
                idle: Mutex::new(vec![conn]),
            }),
            Err(e) => {
                tracing::debug!(%e, "no direct superuser connection; using psql in the container");
                None
            }
        }
    }

    /// A new connection to `database` (the maintenance database when `None`), for the
    /// caller alone.
    pub(crate) async fn open(&self, database: Option<&str>) -> Result<PgConnection, sqlx::Error> {
        let info = ConnectionInfo {
            database: database.unwrap_or(&self.info.database).to_string(),
            ..self.info.clone()
        };
        PgConnection::connect_with(&info.options()).await
    }

    /// Runs `statements` on `database`: on an idle connection to the maintenance database, or
    /// on a connection of their own to another one.
    async fn run(&self, database: &str, statements: &[String]) -> Result<Vec<String>, String> {
        if database != self.info.database {
            let mut conn = self.open(Some(database)).await.map_err(|e| e.to_string())?;
            let result = run_direct(&mut conn, statements).await;
            let _ = conn.close().await;
            return result;
        }
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => self.open(None).await.map_err(|e| e.to_string())?,
        };
        let result = run_direct(&mut conn, statements).await;
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
        result
    }

    /// Closes the connections.
    pub(crate) async fn close(self) {
        let idle = self
            .idle
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        for conn in idle {
            let _ = conn.close().await;
        }
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
                    return Err(sql_detail(&e));
                }
            }
        }
        Ok(out)
    })
}

/// A statement's error as psql would print it: `ERROR: <message>` for the server's.
pub(crate) fn sql_detail(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => format!("ERROR: {}", db.message()),
        other => other.to_string(),
    }
}

impl Admin<'_> {
    /// Runs `statements` as the superuser on the maintenance database; returns the first
    /// column of their rows.
    pub(crate) async fn sql(
        &self,
        action: &str,
        statements: Vec<String>,
    ) -> Result<Vec<String>, AdminError> {
        self.sql_on(self.maintenance_db, action, statements).await
    }

    /// Runs `statements` as the superuser on `database`.
    pub(crate) async fn sql_on(
        &self,
        database: &str,
        action: &str,
        statements: Vec<String>,
    ) -> Result<Vec<String>, AdminError> {
        let failed = |detail: String| AdminError {
            action: action.to_string(),
            detail,
        };
        if let Some(direct) = self.direct {
            return direct.run(database, &statements).await.map_err(failed);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines_keeps_the_tail() {
        assert_eq!(last_lines("a\n\nb\nc\n", 2), "b; c");
    }
}
