//! `psql`: psql inside the container, as the application role on the application database.
//!
//! With stdin and stdout on a terminal it runs on a TTY (raw mode, window size followed);
//! otherwise stdin, stdout and stderr are piped, so `echo 'select 1' | cargo packit-db psql`
//! works. The password reaches psql through its environment, never its argv.

use std::io::IsTerminal;

use tokio::sync::watch;

use crate::commands::{connect, running_container};
use crate::config::Config;
use crate::db::ConnectionInfo;
use crate::engine::{Engine, ExecRequest, TermSize};
use crate::error::Error;

/// Arguments of `psql`.
#[derive(Clone, Debug, Default)]
pub struct PsqlArgs {
    /// Extra arguments for psql.
    pub args: Vec<String>,
}

/// Runs `psql`; returns psql's exit code.
pub async fn psql(config: &Config, args: &PsqlArgs) -> Result<i32, Error> {
    let engine = connect(config).await?;
    let result = run(&engine, config, args).await;
    engine.close().await;
    result
}

async fn run(engine: &Engine, config: &Config, args: &PsqlArgs) -> Result<i32, Error> {
    let (_, info) = running_container(engine, config).await?;
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let mut cmd = vec!["psql".to_string()];
    cmd.extend(args.args.iter().cloned());
    let request = ExecRequest {
        cmd,
        env: psql_env(&info, tty),
        tty,
        user: None,
    };
    let mut stdout = tokio::io::stdout();
    let mut stderr = tokio::io::stderr();
    // On a terminal: raw mode for the session, and the window size followed.
    let sizes = tty.then(follow_terminal_size);
    let _raw = tty.then(RawMode::enable);
    let code = engine
        .exec_streaming(
            &config.container,
            request,
            Some(tokio::io::stdin()),
            &mut stdout,
            &mut stderr,
            sizes,
        )
        .await?;
    Ok(i32::try_from(code).unwrap_or(1))
}

/// psql's environment: it connects over TCP inside the container, which every image contract
/// allows with a password (the local socket may be `peer` only, as in sclorg images).
fn psql_env(info: &ConnectionInfo, tty: bool) -> Vec<String> {
    let mut env = vec![
        "PGHOST=127.0.0.1".to_string(),
        "PGPORT=5432".to_string(),
        format!("PGUSER={}", info.user),
        format!("PGDATABASE={}", info.database),
        format!("PGPASSWORD={}", info.password),
    ];
    if tty {
        env.push("TERM=xterm-256color".into());
    }
    env
}

/// Sends the terminal size now and after every SIGWINCH (the task ends when the receiver is
/// gone and the next signal comes, or with the runtime).
fn follow_terminal_size() -> watch::Receiver<TermSize> {
    let (tx, rx) = watch::channel(current_size());
    tokio::spawn(async move {
        let Ok(mut winch) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())
        else {
            return;
        };
        while winch.recv().await.is_some() {
            if tx.send(current_size()).is_err() {
                break;
            }
        }
    });
    rx
}

fn current_size() -> TermSize {
    let (width, height) = crossterm::terminal::size().unwrap_or((80, 24));
    TermSize { width, height }
}

/// Raw terminal mode for the lifetime of the guard (restored on drop, errors included).
struct RawMode(bool);

impl RawMode {
    fn enable() -> RawMode {
        RawMode(crossterm::terminal::enable_raw_mode().is_ok())
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if self.0 {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}
