//! Loading a plain script: streamed through the role policy into psql in the container.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::commands::load_dump::roles::RolePlan;
use crate::commands::load_dump::tail::TailBuffer;
use crate::db::admin::{last_lines, superuser_request, Admin};
use crate::db::quote_ident;
use crate::dump::feed::{feed_plain, FeedError, FeedReport};
use crate::dump::source::{decode_reason, OpenedDump, PlainReader};
use crate::dump::staging::Staging;
use crate::dump::{Compression, DumpError, DumpFormat};
use crate::error::Error;
use crate::ui;

/// Streams a plain script into psql in the container, connected to the staging database as
/// the superuser and switched to the owner role, so every object is created by the owner.
pub(super) async fn load_plain(
    admin: &Admin<'_>,
    dump: &OpenedDump,
    staging: &Staging,
    reader: PlainReader,
    roles: &mut RolePlan<'_>,
) -> Result<FeedReport, Error> {
    let progress = ui::ByteProgress::new(&format!("loading {}", dump.display), dump.raw_size);
    let ticker = track(progress.clone(), dump.raw_read.clone());
    let (to_psql, psql_stdin) = tokio::io::duplex(256 * 1024);
    // `-f -` (not plain stdin) makes psql prefix errors with their line: `psql:<stdin>:42:`.
    let cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"]
        .map(String::from)
        .to_vec();
    let request = superuser_request(admin.style, admin.app_user, &staging.name, cmd);
    let mut stderr = TailBuffer::default();
    let mut stdout = tokio::io::sink();
    let owner = roles.owner.clone();
    let bar = progress.clone();
    let feed = async {
        let mut to_psql = to_psql;
        // Line 1 of what psql reads; error line numbers are shifted back by one below.
        let set_role = format!("SET ROLE {};\n", quote_ident(&owner));
        to_psql
            .write_all(set_role.as_bytes())
            .await
            .map_err(FeedError::Write)?;
        let fed = feed_plain(reader, to_psql, roles).await;
        // Indexes and constraints come after the data; psql may take a while yet.
        bar.set_message(&format!(
            "finishing {} (indexes, constraints)",
            dump.display
        ));
        fed
    };
    let exec = admin.engine.exec_streaming(
        admin.container,
        request,
        Some(psql_stdin),
        &mut stdout,
        &mut stderr,
        None,
    );
    let (fed, code) = tokio::join!(feed, exec);
    ticker.abort();
    progress.finish();
    let code = code?;
    let path = dump.display.clone();
    match fed {
        Err(FeedError::Read(e)) => Err(DumpError::Corrupt {
            path,
            reason: decode_reason(compression(dump.format), &e),
        }
        .into()),
        Err(FeedError::Connect) => Err(DumpError::Connects { path }.into()),
        Err(FeedError::Policy(text)) => Err(roles
            .failure
            .take()
            .unwrap_or(DumpError::Admin {
                action: "decide on the dump's roles".into(),
                detail: text,
            })
            .into()),
        // A pg_dump script that ended early fails in psql (often inside COPY data); the cut
        // is the cause to report.
        Ok(report) if code != 0 && dump.pg_dump_script && !report.footer_seen => {
            Err(DumpError::Truncated {
                path,
                database: String::new(),
            }
            .into())
        }
        // psql stopped reading: its own error says why.
        Err(FeedError::Write(_)) | Ok(_) if code != 0 => {
            Err(load_failed(dump, psql_error(&stderr.text())))
        }
        Err(FeedError::Write(e)) => Err(load_failed(dump, e.to_string())),
        Ok(report) => Ok(report),
    }
}

pub(super) fn load_failed(dump: &OpenedDump, detail: String) -> Error {
    DumpError::LoadFailed {
        path: dump.display.clone(),
        database: String::new(),
        detail,
    }
    .into()
}

/// psql's first error, with the line number of the dump (`psql:<stdin>:42: ERROR: ...` ->
/// `line 41: ERROR: ...`, since psql read one line of ours first).
fn psql_error(stderr: &str) -> String {
    let Some(line) = stderr
        .lines()
        .find(|l| l.contains("ERROR:") || l.contains("FATAL:"))
    else {
        return last_lines(stderr, 2);
    };
    let line = line.replace(":  ", ": ");
    if let Some(rest) = line.strip_prefix("psql:<stdin>:") {
        if let Some((number, message)) = rest.split_once(": ") {
            if let Ok(n) = number.parse::<u64>() {
                return format!("line {}: {message}", n.saturating_sub(1));
            }
        }
    }
    line
}

pub(super) fn compression(format: DumpFormat) -> Compression {
    match format {
        DumpFormat::Plain(c) => c,
        _ => Compression::None,
    }
}

/// Copies a byte counter into a progress bar ten times a second.
fn track(progress: ui::ByteProgress, counter: Arc<AtomicU64>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            progress.set_position(counter.load(Ordering::Relaxed));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}
