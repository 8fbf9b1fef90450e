//! `dump`: pg_dump of a local database, run inside the container and streamed out to a file
//! that appears under its name only when complete (written to a temporary name first).
//!
//! The custom format is written by pg_dump to a file inside the container first, so it has
//! the data offsets that a parallel `pg_restore --jobs` needs (an archive written to a pipe
//! has none), then streamed out; the plain format streams straight from pg_dump's stdout.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::commands::{connect, running_container};
use crate::config::Config;
use crate::db::admin::{last_lines, superuser_request, Admin};
use crate::db::temporary::run_token;
use crate::dump::source::io_reason;
use crate::dump::staging::UPLOAD_PREFIX;
use crate::dump::DumpError;
use crate::engine::{Engine, ExecRequest};
use crate::error::Error;
use crate::interrupt::Interrupt;
use crate::ui;

/// The format `dump` writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DumpOutFormat {
    /// pg_dump's custom archive (compressed; restores in parallel).
    #[default]
    Custom,
    /// An SQL script.
    Plain,
}

/// Arguments of `dump`.
#[derive(Clone, Debug, Default)]
pub struct DumpArgs {
    /// Output file; `-` for stdout; default `<database>-<time>.dump` (or `.sql`).
    pub out: Option<PathBuf>,
    /// Format.
    pub format: DumpOutFormat,
    /// Database (default: the application database).
    pub database: Option<String>,
}

/// Runs `dump`.
pub async fn dump(config: &Config, args: &DumpArgs) -> Result<(), Error> {
    let interrupt = Interrupt::listen()?;
    let engine = interrupt.guard(connect(config)).await?;
    let result = run(&engine, config, args, &interrupt).await;
    engine.close().await;
    result
}

async fn run(
    engine: &Engine,
    config: &Config,
    args: &DumpArgs,
    interrupt: &Interrupt,
) -> Result<(), Error> {
    let started = Instant::now();
    let (container, info) = interrupt.guard(running_container(engine, config)).await?;
    let database = args
        .database
        .clone()
        .unwrap_or_else(|| info.database.clone());
    let admin = Admin {
        engine,
        container: &config.container,
        style: container.observed.env_style(),
        app_user: &info.user,
        maintenance_db: "postgres",
        direct: None,
    };
    let to_stdout = args.out.as_deref() == Some(Path::new("-"));
    if to_stdout && args.format == DumpOutFormat::Custom && std::io::stdout().is_terminal() {
        return Err(DumpError::Write {
            path: "standard output".into(),
            reason: "it is a terminal, and a custom-format dump is binary: redirect it (`> file`), use --out FILE or --format plain".into(),
        }
        .into());
    }
    let out_path = match &args.out {
        Some(p) if !to_stdout => p.clone(),
        _ => default_name(&database, args.format),
    };
    let token = run_token();
    let inside = format!("/tmp/{UPLOAD_PREFIX}{token}");
    let work = async {
        if to_stdout {
            let mut stdout = tokio::io::stdout();
            // stream_dump flushes what it writes into.
            return stream_dump(
                &admin,
                &database,
                args.format,
                &inside,
                (&mut stdout, "standard output"),
            )
            .await;
        }
        let display = out_path.display().to_string();
        match std::fs::metadata(&out_path) {
            Ok(m) if m.is_dir() => {
                return Err(DumpError::Write {
                    path: display,
                    reason: "it is a directory: name a file in it".into(),
                }
                .into());
            }
            // A device or a pipe (`/dev/stdout`, a FIFO) is written as it is: a file written
            // beside it and renamed over it would replace it.
            Ok(m) if !m.is_file() => {
                let mut out = tokio::fs::OpenOptions::new()
                    .write(true)
                    .open(&out_path)
                    .await
                    .map_err(|e| write_error(&display, &e))?;
                return stream_dump(
                    &admin,
                    &database,
                    args.format,
                    &inside,
                    (&mut out, &display),
                )
                .await;
            }
            _ => {}
        }
        let dir = match out_path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = out_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "dump".into());
        let partial = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(&dir)
            .map_err(|e| write_error(&display, &e))?;
        let file = partial
            .as_file()
            .try_clone()
            .map_err(|e| write_error(&display, &e))?;
        let mut file = tokio::fs::File::from_std(file);
        let bytes = stream_dump(
            &admin,
            &database,
            args.format,
            &inside,
            (&mut file, &display),
        )
        .await?;
        file.sync_all()
            .await
            .map_err(|e| write_error(&display, &e))?;
        partial
            .persist(&out_path)
            .map_err(|e| write_error(&display, &e.error))?;
        Ok(bytes)
    };
    // Stopped, the partial file is removed when `work` is dropped.
    let result = interrupt.guard(work).await;
    if args.format == DumpOutFormat::Custom {
        admin.root(&["rm", "-f", &inside]).await;
    }
    let bytes = result?;
    ui::success(&format!(
        "dumped `{database}` ({}) to {} in {:.1} s: {}",
        match args.format {
            DumpOutFormat::Custom => "custom format",
            DumpOutFormat::Plain => "plain SQL",
        },
        if to_stdout {
            "standard output".to_string()
        } else {
            out_path.display().to_string()
        },
        started.elapsed().as_secs_f64(),
        indicatif::HumanBytes(bytes)
    ));
    Ok(())
}

/// `<database>-<YYYYMMDD-HHMMSS>.dump` (or `.sql`) in the current directory, with characters
/// that do not belong in file names replaced.
fn default_name(database: &str, format: DumpOutFormat) -> PathBuf {
    let safe: String = database
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let ext = match format {
        DumpOutFormat::Custom => "dump",
        DumpOutFormat::Plain => "sql",
    };
    PathBuf::from(format!(
        "{safe}-{}.{ext}",
        chrono::Local::now().format("%Y%m%d-%H%M%S")
    ))
}

fn write_error(path: &str, e: &std::io::Error) -> Error {
    let reason = if e.kind() == std::io::ErrorKind::BrokenPipe {
        "the command reading it stopped before the dump ended, so it got only part of the dump"
            .to_string()
    } else {
        io_reason(e)
    };
    DumpError::Write {
        path: path.to_string(),
        reason,
    }
    .into()
}

/// Runs pg_dump and streams the dump into `out`; returns the bytes written.
async fn stream_dump<W: AsyncWrite + Unpin>(
    admin: &Admin<'_>,
    database: &str,
    format: DumpOutFormat,
    inside: &str,
    (out, target): (&mut W, &str),
) -> Result<u64, Error> {
    let progress = ui::ByteProgress::new(&format!("dumping `{database}`"), None);
    let mut counted = Counting {
        inner: out,
        progress: progress.clone(),
        failed: None,
    };
    let code = run_pg_dump(admin, database, format, inside, &mut counted).await;
    progress.finish();
    // A failed write ends the exec with an engine error; the output's own error says more.
    if let Some(e) = counted.failed.take() {
        return Err(write_error(target, &e));
    }
    let (code, stderr) = code?;

    if code != 0 {
        let text = String::from_utf8_lossy(&stderr);
        let detail = text
            .lines()
            .find(|l| l.contains("error:"))
            .map(|l| l.replace("pg_dump: error: ", ""))
            .unwrap_or_else(|| last_lines(&text, 2));
        return Err(DumpError::DumpFailed {
            database: database.to_string(),
            detail,
        }
        .into());
    }
    counted.flush().await.map_err(|e| write_error(target, &e))?;
    Ok(progress.position())
}

/// Runs pg_dump in the container (and, for the custom format, `cat` of its file), streaming
/// its output into `out`: the exit code and pg_dump's stderr.
async fn run_pg_dump<W: AsyncWrite + Unpin>(
    admin: &Admin<'_>,
    database: &str,
    format: DumpOutFormat,
    inside: &str,
    counted: &mut W,
) -> Result<(i64, Vec<u8>), Error> {
    let mut stderr = Vec::new();
    let pg_dump = |args: &[&str]| {
        let mut cmd = vec!["pg_dump".to_string()];
        cmd.extend(args.iter().map(|s| s.to_string()));
        superuser_request(admin.style, admin.app_user, database, cmd)
    };
    let code = match format {
        DumpOutFormat::Plain => {
            admin
                .engine
                .exec_streaming(
                    admin.container,
                    pg_dump(&["--format=plain"]),
                    None::<tokio::io::Empty>,
                    counted,
                    &mut stderr,
                    None,
                )
                .await?
        }
        DumpOutFormat::Custom => {
            let file = format!("--file={inside}");
            let out = admin
                .engine
                .exec_capture(admin.container, pg_dump(&["--format=custom", &file]), None)
                .await?;
            if out.code == 0 {
                let cat = ExecRequest {
                    cmd: vec!["cat".into(), inside.to_string()],
                    env: Vec::new(),
                    tty: false,
                    user: Some("0".into()),
                };
                admin
                    .engine
                    .exec_streaming(
                        admin.container,
                        cat,
                        None::<tokio::io::Empty>,
                        counted,
                        &mut stderr,
                        None,
                    )
                    .await?
            } else {
                stderr = out.stderr.into_bytes();
                out.code
            }
        }
    };
    Ok((code, stderr))
}

/// Counts bytes written into the progress bar.
struct Counting<'w, W> {
    inner: &'w mut W,
    progress: ui::ByteProgress,
    /// The first write error, kept for the message: the exec that was writing reports only
    /// that its output failed.
    failed: Option<std::io::Error>,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Counting<'_, W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut *self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &poll {
            self.progress.inc(*n as u64);
        }
        self.keep_error(poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let poll = Pin::new(&mut *self.inner).poll_flush(cx);
        self.keep_error(poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let poll = Pin::new(&mut *self.inner).poll_shutdown(cx);
        self.keep_error(poll)
    }
}

impl<W> Counting<'_, W> {
    /// Keeps the first error (a buffered writer such as stdout reports a failed write at a
    /// later write or flush).
    fn keep_error<T>(&mut self, poll: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        if let Poll::Ready(Err(e)) = &poll {
            if self.failed.is_none() {
                self.failed = Some(std::io::Error::new(e.kind(), e.to_string()));
            }
        }
        poll
    }
}
