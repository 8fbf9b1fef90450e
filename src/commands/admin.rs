//! SQL and tools as the container's superuser, over its local socket, inside the container.
//!
//! Some steps need more than the application role may do: setting its password after a new
//! container meets an old volume, creating or dropping scratch and staging databases, creating
//! roles, and running pg_restore/pg_dump on any database, on images whose application role is
//! not a superuser (the Software Collections images). Statements go through psql's stdin,
//! never its argv; no password is needed (the local socket trusts or peer-authenticates).

use crate::config::EnvStyle;
use crate::engine::{Engine, EngineError, ExecOutput, ExecRequest};

/// What a superuser psql run returned.
#[derive(Debug)]
pub(crate) struct PsqlOutcome {
    /// psql's exit code.
    pub code: i64,
    /// What it wrote on stderr.
    pub stderr: String,
}

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

/// Runs `sql` with `psql -v ON_ERROR_STOP=1` as the superuser in `container`. `user` and
/// `database` are the application role and database the container was created with.
pub(crate) async fn superuser_psql(
    engine: &Engine,
    container: &str,
    style: EnvStyle,
    user: &str,
    database: &str,
    sql: String,
) -> Result<PsqlOutcome, EngineError> {
    let login_db = match style {
        EnvStyle::Official => database,
        EnvStyle::Sclorg => "postgres",
    };
    superuser_psql_on(engine, container, style, user, login_db, sql)
        .await
        .map(|out| PsqlOutcome {
            code: out.code,
            stderr: out.stderr,
        })
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
    let cmd = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
        .map(String::from)
        .to_vec();
    let request = superuser_request(style, app_user, database, cmd);
    engine
        .exec_capture(container, request, Some(sql.into_bytes()))
        .await
}
