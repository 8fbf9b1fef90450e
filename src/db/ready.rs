//! Waiting until PostgreSQL in a fresh container really serves queries.
//!
//! The log line "ready to accept connections" is not enough (the image's temporary init server
//! prints it too), nor is a TCP connect (docker-proxy accepts before Postgres listens). Only a
//! real handshake on the published port followed by `SELECT 1` tells that the final server is
//! up, so that is what is retried, under one deadline, with a short backoff.

use std::future::Future;
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

use crate::db::connection::ConnectionInfo;

/// Longest a single connection attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// First and longest pause between attempts.
const FIRST_PAUSE: Duration = Duration::from_millis(25);
const MAX_PAUSE: Duration = Duration::from_millis(100);

/// Why one probe failed.
#[derive(Debug)]
pub enum ProbeFailure {
    /// Worth retrying: refused, reset, server starting up, database not created yet.
    Transient(String),
    /// Password rejected: retrying cannot help.
    AuthFailed,
}

/// Connects once and runs `SELECT 1`; returns the server version.
pub async fn probe(info: &ConnectionInfo) -> Result<String, ProbeFailure> {
    let attempt = async {
        let mut conn = PgConnection::connect_with(&info.options()).await?;
        let version: String = sqlx::query_scalar("SELECT current_setting('server_version')")
            .fetch_one(&mut conn)
            .await?;
        let _ = conn.close().await;
        Ok::<_, sqlx::Error>(version)
    };
    match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt).await {
        Err(_) => Err(ProbeFailure::Transient(
            "connection attempt timed out".into(),
        )),
        Ok(Ok(version)) => Ok(version),
        Ok(Err(sqlx::Error::Database(db)))
            if matches!(db.code().as_deref(), Some("28P01" | "28000")) =>
        {
            Err(ProbeFailure::AuthFailed)
        }
        Ok(Err(e)) => Err(ProbeFailure::Transient(one_line(&e.to_string()))),
    }
}

/// The outcome of [`wait_until_ready`].
#[derive(Debug)]
pub enum Readiness {
    /// Ready; the server version.
    Ready(String),
    /// The deadline passed; the last error.
    TimedOut(String),
    /// The password was rejected.
    AuthFailed,
    /// `still_alive` said the container is gone; its reason.
    Gone(String),
}

/// Probes until ready, the deadline passes, or `still_alive` (checked about every 500 ms)
/// reports a reason the container will not come up.
pub async fn wait_until_ready<F, Fut>(
    info: &ConnectionInfo,
    timeout: Duration,
    mut still_alive: F,
) -> Readiness
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<String>>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = FIRST_PAUSE;
    let mut last_check = Instant::now();
    loop {
        match probe(info).await {
            Ok(version) => return Readiness::Ready(version),
            Err(ProbeFailure::AuthFailed) => return Readiness::AuthFailed,
            Err(ProbeFailure::Transient(e)) => {
                tracing::debug!(error = %e, "postgres not ready yet");
                if Instant::now() >= deadline {
                    return Readiness::TimedOut(e);
                }
            }
        }
        if last_check.elapsed() >= Duration::from_millis(500) {
            last_check = Instant::now();
            if let Some(reason) = still_alive().await {
                return Readiness::Gone(reason);
            }
        }
        tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
