//! The engine probe: one raw `GET /_ping`, read for its headers.
//!
//! Docker and Podman both answer `/_ping` at once with `Api-Version` and `Server` headers
//! (`Docker/20.10.24 (linux)`, `Libpod/4.3.1 (linux)`); that is enough to negotiate the API
//! version and tell the engines apart, as the docker CLI does. `/version` would do too, but
//! Podman takes about 0.4 s to answer it, which would be most of a warm `up`. bollard's `ping`
//! returns only the body, hence this small HTTP/1.1 exchange of our own.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What `/_ping` told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pong {
    /// `Api-Version`, parsed.
    pub(crate) api_version: (usize, usize),
    /// `Server` header, e.g. `Libpod/4.3.1 (linux)`.
    pub(crate) server: Option<String>,
}

/// Why a probe failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ProbeFailure {
    /// Nothing listened, or it refused us.
    NoAnswer(String),
    /// Something answered, but not like an engine.
    NotAnEngine(String),
}

/// Where to send the ping.
pub(crate) enum Target<'a> {
    /// A unix socket path.
    Unix(&'a str),
    /// `host:port` over TCP.
    Tcp(&'a str),
}

/// Sends `GET /_ping` and parses the answer, all under `timeout`.
pub(crate) async fn ping(target: Target<'_>, timeout: Duration) -> Result<Pong, ProbeFailure> {
    let exchange = async {
        match target {
            Target::Unix(path) => {
                let stream = tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(connect_failure)?;
                exchange(stream).await
            }
            Target::Tcp(addr) => {
                let stream = tokio::net::TcpStream::connect(addr)
                    .await
                    .map_err(connect_failure)?;
                exchange(stream).await
            }
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(ProbeFailure::NotAnEngine(format!(
            "no answer to /_ping within {} s",
            timeout.as_secs()
        ))),
    }
}

fn connect_failure(e: std::io::Error) -> ProbeFailure {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => {
            ProbeFailure::NoAnswer("connection refused (is the engine running?)".into())
        }
        std::io::ErrorKind::PermissionDenied => ProbeFailure::NoAnswer(
            "permission denied (add your user to the `docker` group, or use rootless Podman)"
                .into(),
        ),
        std::io::ErrorKind::NotFound => ProbeFailure::NoAnswer("not found".into()),
        _ => ProbeFailure::NoAnswer(e.to_string()),
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> Result<Pong, ProbeFailure> {
    let request = b"GET /_ping HTTP/1.1\r\nHost: engine\r\nUser-Agent: cargo-packit-db\r\nConnection: close\r\n\r\n";
    stream
        .write_all(request)
        .await
        .map_err(|e| ProbeFailure::NotAnEngine(format!("cannot send /_ping: {e}")))?;
    // The headers are all we need; 16 KiB is far more than an engine sends.
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| ProbeFailure::NotAnEngine(format!("no HTTP answer: {e}")))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    parse_response(&String::from_utf8_lossy(&buf))
}

/// Parses the status line and the two headers.
fn parse_response(text: &str) -> Result<Pong, ProbeFailure> {
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    if !parts.next().is_some_and(|p| p.starts_with("HTTP/")) {
        return Err(ProbeFailure::NotAnEngine("it does not speak HTTP".into()));
    }
    let status = parts.next().unwrap_or_default();
    if status != "200" {
        return Err(ProbeFailure::NotAnEngine(format!(
            "HTTP {status} to /_ping"
        )));
    }
    let mut api_version = None;
    let mut server = None;
    for line in lines.take_while(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("api-version") {
            api_version = parse_api_version(value);
        } else if name.eq_ignore_ascii_case("server") {
            server = Some(value.to_string());
        }
    }
    let api_version = api_version.ok_or_else(|| {
        ProbeFailure::NotAnEngine("no Api-Version header in its /_ping answer".into())
    })?;
    Ok(Pong {
        api_version,
        server,
    })
}

/// Parses `1.41`.
fn parse_api_version(s: &str) -> Option<(usize, usize)> {
    let (major, minor) = s.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

impl Pong {
    /// Whether the server is Podman (`Libpod/...`).
    pub(crate) fn is_podman(&self) -> bool {
        self.server
            .as_deref()
            .is_some_and(|s| s.to_ascii_lowercase().contains("libpod"))
    }

    /// The engine version from the `Server` header (`Docker/20.10.24 (linux)` -> `20.10.24`).
    pub(crate) fn engine_version(&self) -> Option<String> {
        let server = self.server.as_deref()?;
        let (_, rest) = server.split_once('/')?;
        rest.split_whitespace().next().map(String::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_and_podman_answers() {
        let docker = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nCache-Control: no-cache\r\nServer: Docker/20.10.24+dfsg1 (linux)\r\nContent-Length: 2\r\n\r\nOK";
        let pong = parse_response(docker).unwrap();
        assert_eq!(pong.api_version, (1, 41));
        assert!(!pong.is_podman());
        assert_eq!(pong.engine_version().as_deref(), Some("20.10.24+dfsg1"));
        let podman = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nLibpod-Api-Version: 4.3.1\r\nServer: Libpod/4.3.1 (linux)\r\n\r\nOK";
        let pong = parse_response(podman).unwrap();
        assert!(pong.is_podman());
        assert_eq!(pong.engine_version().as_deref(), Some("4.3.1"));
    }

    #[test]
    fn other_servers_are_not_engines() {
        assert_eq!(
            parse_response("HTTP/1.1 404 Not Found\r\n\r\n"),
            Err(ProbeFailure::NotAnEngine("HTTP 404 to /_ping".into()))
        );
        assert_eq!(
            parse_response("HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\nhello"),
            Err(ProbeFailure::NotAnEngine(
                "no Api-Version header in its /_ping answer".into()
            ))
        );
        assert_eq!(
            parse_response("SSH-2.0-OpenSSH_9.2\r\n"),
            Err(ProbeFailure::NotAnEngine("it does not speak HTTP".into()))
        );
    }
}
