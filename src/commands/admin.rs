//! SQL as the container's superuser, over its local socket, through `psql` in the container.
//!
//! Some steps need more than the application role may do: setting its password after a new
//! container meets an old volume, and creating or dropping scratch databases on images whose
//! application role is not a superuser (the Software Collections images). The statements go
//! through psql's stdin, never its argv.

use crate::config::EnvStyle;
use crate::engine::{Engine, EngineError, ExecRequest};

/// What a superuser psql run returned.
#[derive(Debug)]
pub(crate) struct PsqlOutcome {
    /// psql's exit code.
    pub code: i64,
    /// What it wrote on stderr.
    pub stderr: String,
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
    // Official images make the application role the superuser and trust local connections;
    // sclorg images keep `postgres` as the superuser, reachable by peer authentication.
    let (login_user, login_db) = match style {
        EnvStyle::Official => (user, database),
        EnvStyle::Sclorg => ("postgres", "postgres"),
    };
    let request = ExecRequest {
        cmd: ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
            .map(String::from)
            .to_vec(),
        env: vec![
            format!("PGUSER={login_user}"),
            format!("PGDATABASE={login_db}"),
        ],
        tty: false,
        user: Some("postgres".into()),
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = engine
        .exec_streaming(
            container,
            request,
            Some(std::io::Cursor::new(sql.into_bytes())),
            &mut out,
            &mut err,
            None,
        )
        .await?;
    Ok(PsqlOutcome {
        code,
        stderr: String::from_utf8_lossy(&err).trim().to_string(),
    })
}
