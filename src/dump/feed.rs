//! Streaming a plain dump into psql: bytes are read, scanned ([`PlainScanner`]) and written on,
//! with each role-naming line put to a [`RolePolicy`] first (create the role, drop the line, or
//! stop). Memory stays flat: one read buffer and the current line.

use futures_util::future::BoxFuture;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::dump::plain::{PlainScanner, Segment};
use crate::dump::roles::RoleStatement;

/// What to do with a role-naming line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Pass it on.
    Keep,
    /// Leave it out (ownership or a grant to a role that does not exist).
    Drop,
}

/// Decides role-naming lines; may create roles before answering.
pub trait RolePolicy: Send {
    /// The verdict on `statement`, or an error that stops the load.
    fn decide<'a>(
        &'a mut self,
        statement: &'a RoleStatement,
    ) -> BoxFuture<'a, Result<Verdict, String>>;
}

/// Why feeding stopped early.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The input could not be read or decompressed.
    #[error("{0}")]
    Read(std::io::Error),
    /// psql stopped reading (it failed, or was stopped).
    #[error("{0}")]
    Write(std::io::Error),
    /// The script has a `\connect`.
    #[error("it connects to another database itself (`\\connect`, written by pg_dump --create)")]
    Connect,
    /// The role policy stopped the load.
    #[error("{0}")]
    Policy(String),
}

/// What a completed feed saw.
#[derive(Clone, Copy, Debug, Default)]
pub struct FeedReport {
    /// pg_dump's closing comment was seen.
    pub footer_seen: bool,
    /// Bytes passed on (after decompression).
    pub bytes: u64,
}

const READ_SIZE: usize = 256 * 1024;

/// Copies `input` to `out` through the scanner, asking `policy` about role lines. Shuts `out`
/// down at the end (EOF for psql).
pub async fn feed_plain<R, W>(
    mut input: R,
    mut out: W,
    policy: &mut dyn RolePolicy,
) -> Result<FeedReport, FeedError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut scanner = PlainScanner::default();
    let mut pending: Vec<u8> = Vec::with_capacity(2 * READ_SIZE);
    let mut report = FeedReport::default();
    let mut eof = false;
    while !eof {
        let before = pending.len();
        pending.resize(before + READ_SIZE, 0);
        let n = input
            .read(&mut pending[before..])
            .await
            .map_err(FeedError::Read)?;
        pending.truncate(before + n);
        eof = n == 0;
        // Consecutive passed bytes are written in one go.
        let (mut start, mut run_start) = (0, 0);
        while let Some(segment) = scanner.next(&pending[start..], eof) {
            match segment {
                Segment::Pass(len) => start += len,
                Segment::Roles { len, statement } => {
                    let verdict = policy.decide(&statement).await.map_err(FeedError::Policy)?;
                    if verdict == Verdict::Drop {
                        write(&mut out, &pending[run_start..start], &mut report).await?;
                        run_start = start + len;
                    }
                    start += len;
                }
                Segment::Connect => return Err(FeedError::Connect),
            }
        }
        write(&mut out, &pending[run_start..start], &mut report).await?;
        pending.drain(..start);
    }
    out.shutdown().await.map_err(FeedError::Write)?;
    report.footer_seen = scanner.footer_seen();
    Ok(report)
}

async fn write<W: AsyncWrite + Unpin>(
    out: &mut W,
    bytes: &[u8],
    report: &mut FeedReport,
) -> Result<(), FeedError> {
    if bytes.is_empty() {
        return Ok(());
    }
    report.bytes += bytes.len() as u64;
    out.write_all(bytes).await.map_err(FeedError::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drops grants to `gone`, records everything.
    struct DropGone(Vec<String>);

    impl RolePolicy for DropGone {
        fn decide<'a>(
            &'a mut self,
            statement: &'a RoleStatement,
        ) -> BoxFuture<'a, Result<Verdict, String>> {
            Box::pin(async move {
                let roles = statement.roles();
                self.0.extend(roles.iter().map(|r| r.to_string()));
                Ok(if roles.contains(&"gone") {
                    Verdict::Drop
                } else {
                    Verdict::Keep
                })
            })
        }
    }

    #[tokio::test]
    async fn dropped_lines_are_left_out_and_the_rest_is_unchanged() {
        let input = "CREATE TABLE t ();\nALTER TABLE t OWNER TO gone;\nGRANT ALL ON TABLE t TO kept;\nCOPY t FROM stdin;\n\\.\n-- PostgreSQL database dump complete\n";
        let mut out = Vec::new();
        let mut policy = DropGone(Vec::new());
        let report = feed_plain(input.as_bytes(), &mut out, &mut policy)
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            input.replace("ALTER TABLE t OWNER TO gone;\n", "")
        );
        assert_eq!(policy.0, ["gone", "kept"]);
        assert!(report.footer_seen);
    }
}
