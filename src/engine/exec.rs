//! Running a command inside a container with streamed stdin/stdout/stderr, piped or on a TTY.

use std::pin::Pin;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecOptions, StartExecResults};
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::engine::client::{api, Engine};
use crate::engine::error::EngineError;

/// A command to run in a container. `env` is where secrets go (never `cmd`).
#[derive(Clone, Default)]
pub struct ExecRequest {
    /// Program and arguments.
    pub cmd: Vec<String>,
    /// `KEY=VALUE` pairs for the process.
    pub env: Vec<String>,
    /// Whether to allocate a TTY.
    pub tty: bool,
    /// The user to run as (the image's default when `None`).
    pub user: Option<String>,
}

/// What an attached exec writes, as the engine streams it.
type ExecOutputStream =
    Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;
/// An attached exec's stdin.
type ExecInput = Pin<Box<dyn AsyncWrite + Send>>;

/// Terminal size in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TermSize {
    /// Columns.
    pub width: u16,
    /// Rows.
    pub height: u16,
}

/// What a captured exec returned.
#[derive(Debug)]
pub struct ExecOutput {
    /// The process's exit code.
    pub code: i64,
    /// The process's standard output, as bytes.
    pub stdout: Vec<u8>,
    /// Its standard error, as text, trimmed.
    pub stderr: String,
}

impl Engine {
    /// Runs `request` in `container` with `stdin` (if any) and returns its output.
    pub async fn exec_capture(
        &self,
        container: &str,
        request: ExecRequest,
        stdin: Option<Vec<u8>>,
    ) -> Result<ExecOutput, EngineError> {
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let code = self
            .exec_streaming(
                container,
                request,
                stdin.map(std::io::Cursor::new),
                &mut stdout,
                &mut stderr,
                None,
            )
            .await?;
        Ok(ExecOutput {
            code,
            stdout,
            stderr: String::from_utf8_lossy(&stderr).trim().to_string(),
        })
    }

    /// Runs `request` in `container`, streaming `stdin` in (EOF when it ends) and the output
    /// out, concurrently. Without a TTY stderr goes to `stderr`; with one, everything comes
    /// through `stdout`. With a TTY, every size sent on `resize` (the first one included) is
    /// applied to it. Returns the process's exit code.
    pub async fn exec_streaming<I, O, E>(
        &self,
        container: &str,
        request: ExecRequest,
        stdin: Option<I>,
        stdout: &mut O,
        stderr: &mut E,
        mut resize: Option<tokio::sync::watch::Receiver<TermSize>>,
    ) -> Result<i64, EngineError>
    where
        I: AsyncRead + Unpin + Send + 'static,
        O: AsyncWrite + Unpin,
        E: AsyncWrite + Unpin,
    {
        let (id, mut output, mut input) = self
            .start_attached(container, request, stdin.is_some())
            .await?;
        if let Some(sizes) = &resize {
            let size = *sizes.borrow();
            self.resize_exec(&id, size).await?;
        }

        let feeder = stdin.map(|stdin| {
            tokio::spawn(async move {
                // Large writes: tokio::io::copy's 8 KiB chunks cost the engine's attach
                // stream (Podman's especially) a round of work each.
                let mut stdin = tokio::io::BufReader::with_capacity(256 * 1024, stdin);
                let copied = tokio::io::copy_buf(&mut stdin, &mut input).await;
                let _ = input.shutdown().await;
                copied
            })
        });
        let io_error = |e: std::io::Error| EngineError::Api {
            action: "write the command's output".into(),
            source: bollard::errors::Error::IOError { err: e },
        };
        loop {
            let chunk = match &mut resize {
                Some(sizes) => tokio::select! {
                    chunk = output.next() => chunk,
                    changed = sizes.changed() => {
                        if changed.is_ok() {
                            let size = *sizes.borrow_and_update();
                            // A failed resize only garbles the layout; keep the session.
                            let _ = self.resize_exec(&id, size).await;
                        } else {
                            resize = None;
                        }
                        continue;
                    }
                },
                None => output.next().await,
            };
            let Some(chunk) = chunk else { break };
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(source) => {
                    // Podman resets the stream when the process exits while its stdin is still
                    // being written (psql stopping at an error): then the exit code is the answer.
                    if let Some(feeder) = &feeder {
                        feeder.abort();
                    }
                    for _ in 0..25 {
                        match self.docker().inspect_exec(&id).await {
                            Ok(i) if i.running == Some(false) => {
                                return Ok(i.exit_code.unwrap_or(1))
                            }
                            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
                            Err(_) => break,
                        }
                    }
                    return Err(api(format!("read exec output from {container}"), source));
                }
            };
            match chunk {
                LogOutput::StdErr { message } => {
                    stderr.write_all(&message).await.map_err(io_error)?;
                    stderr.flush().await.map_err(io_error)?;
                }
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    stdout.write_all(&message).await.map_err(io_error)?;
                    stdout.flush().await.map_err(io_error)?;
                }
                LogOutput::StdIn { .. } => {}
            }
        }
        if let Some(feeder) = feeder {
            // The process is gone; a feeder still blocked on our stdin is not waited for.
            feeder.abort();
        }
        self.exec_exit_code(&id, container).await
    }

    /// Creates and starts `request` in `container`, attached: its id and its streams.
    async fn start_attached(
        &self,
        container: &str,
        request: ExecRequest,
        stdin: bool,
    ) -> Result<(String, ExecOutputStream, ExecInput), EngineError> {
        let tty = request.tty;
        let options = CreateExecOptions {
            attach_stdin: Some(stdin),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(tty),
            env: Some(request.env),
            cmd: Some(request.cmd),
            user: request.user,
            ..Default::default()
        };
        let created = self
            .docker()
            .create_exec(container, options)
            .await
            .map_err(|source| api(format!("create exec in {container}"), source))?;
        let start = StartExecOptions {
            detach: false,
            tty,
            output_capacity: Some(64 * 1024),
        };
        let started = self
            .docker()
            .start_exec(&created.id, Some(start))
            .await
            .map_err(|source| api(format!("start exec in {container}"), source))?;
        let StartExecResults::Attached { output, input } = started else {
            unreachable!("start_exec without detach always attaches")
        };
        Ok((created.id, output, input))
    }

    /// Starts `request` in `container` with its stdin open, for a process that must live as
    /// long as this one and no longer (see [`HeldExec`]).
    pub async fn exec_held(
        &self,
        container: &str,
        request: ExecRequest,
    ) -> Result<HeldExec, EngineError> {
        let (_, output, input) = self.start_attached(container, request, true).await?;
        Ok(HeldExec {
            input,
            output,
            stdout: Vec::new(),
            stderr: Vec::new(),
        })
    }

    /// The exit code of a finished exec.
    async fn exec_exit_code(&self, id: &str, container: &str) -> Result<i64, EngineError> {
        // The engine may take a moment to record the exit after the stream closes.
        for _ in 0..100 {
            let inspect = self
                .docker()
                .inspect_exec(id)
                .await
                .map_err(|source| api(format!("inspect exec in {container}"), source))?;
            if inspect.running != Some(true) {
                return Ok(inspect.exit_code.unwrap_or(0));
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // An exec that never reports its end is treated as failed.
        Ok(1)
    }

    /// Resizes an exec's TTY.
    async fn resize_exec(&self, id: &str, size: TermSize) -> Result<(), EngineError> {
        self.docker()
            .resize_exec(
                id,
                ResizeExecOptions {
                    width: size.width,
                    height: size.height,
                },
            )
            .await
            .map_err(|source| api("resize the terminal".into(), source))
    }
}

/// A process in a container that runs until its stdin closes: when [`HeldExec::close`] closes
/// it, or when this process ends (its connection to the engine closes, and the engine closes
/// the process's stdin). What the process holds, such as a database session and its locks,
/// therefore never outlives this process.
pub struct HeldExec {
    input: ExecInput,
    output: ExecOutputStream,
    /// Output not yet returned as a line.
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl HeldExec {
    /// Writes `bytes` to the process's stdin.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), EngineError> {
        let written = match self.input.write_all(bytes).await {
            Ok(()) => self.input.flush().await,
            Err(e) => Err(e),
        };
        written.map_err(|err| EngineError::Api {
            action: "write to a process in the container".into(),
            source: bollard::errors::Error::IOError { err },
        })
    }

    /// The next line the process writes on stdout, without its end; `None` once it has ended.
    pub async fn read_line(&mut self) -> Result<Option<String>, EngineError> {
        loop {
            if let Some(end) = self.stdout.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.stdout.drain(..=end).collect();
                return Ok(Some(String::from_utf8_lossy(&line[..end]).into_owned()));
            }
            match self.output.next().await {
                None => return Ok(None),
                Some(Err(source)) => {
                    return Err(api("read from a process in the container".into(), source))
                }
                Some(Ok(LogOutput::StdErr { message })) => self.stderr.extend_from_slice(&message),
                Some(Ok(LogOutput::StdOut { message } | LogOutput::Console { message })) => {
                    self.stdout.extend_from_slice(&message)
                }
                Some(Ok(LogOutput::StdIn { .. })) => {}
            }
        }
    }

    /// What the process wrote on stderr so far, trimmed.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_string()
    }

    /// Closes the process's stdin and waits (a few seconds at most) until it has ended.
    pub async fn close(mut self) {
        let _ = self.input.shutdown().await;
        let drained = async { while let Some(Ok(_)) = self.output.next().await {} };
        let _ = tokio::time::timeout(Duration::from_secs(5), drained).await;
    }
}
