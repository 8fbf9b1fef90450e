//! Reading a plain SQL dump as it streams past: where `COPY ... FROM stdin` data runs (passed
//! through without looking at it), which lines name roles, and whether pg_dump's closing
//! comment came. The scanner cuts a buffer into segments; it never copies data.

use memchr::{memchr, memmem, memrchr};

use crate::dump::header::PLAIN_FOOTER;
use crate::dump::roles::{parse_line, RoleStatement};

/// Longest statement line kept whole; longer ones (huge INSERTs) pass through in pieces, so
/// memory stays flat whatever the dump holds.
const MAX_LINE: usize = 8 << 20;

/// A piece of the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Segment {
    /// Bytes to pass on unchanged.
    Pass(usize),
    /// One line naming roles (`len` bytes, newline included).
    Roles {
        /// The line's length in bytes.
        len: usize,
        /// What it names.
        statement: RoleStatement,
    },
    /// `\connect`: the script would leave the database it is loaded into.
    Connect,
}

/// The scanner's state between buffers.
#[derive(Debug)]
pub struct PlainScanner {
    in_copy: bool,
    at_line_start: bool,
    footer_seen: bool,
}

impl Default for PlainScanner {
    fn default() -> Self {
        PlainScanner {
            in_copy: false,
            at_line_start: true,
            footer_seen: false,
        }
    }
}

impl PlainScanner {
    /// Whether pg_dump's closing comment has been seen.
    pub fn footer_seen(&self) -> bool {
        self.footer_seen
    }

    /// The next segment at the start of `buf`; `None` when more bytes are needed (or `buf` is
    /// empty). `eof` says no more bytes will come.
    pub fn next(&mut self, buf: &[u8], eof: bool) -> Option<Segment> {
        if buf.is_empty() {
            return None;
        }
        if self.in_copy {
            return self.copy_data(buf, eof);
        }
        if !self.at_line_start {
            // The rest of an over-long line.
            return Some(match memchr(b'\n', buf) {
                Some(i) => {
                    self.at_line_start = true;
                    Segment::Pass(i + 1)
                }
                None => Segment::Pass(buf.len()),
            });
        }
        let len = match memchr(b'\n', buf) {
            Some(i) => i + 1,
            None if eof => buf.len(),
            None if buf.len() > MAX_LINE => {
                self.at_line_start = false;
                return Some(Segment::Pass(buf.len()));
            }
            None => return None,
        };
        Some(self.line(&buf[..len]))
    }

    fn line(&mut self, line: &[u8]) -> Segment {
        let len = line.len();
        let Ok(text) = std::str::from_utf8(line) else {
            return Segment::Pass(len);
        };
        let trimmed = text.trim_end();
        if trimmed.starts_with("COPY ") && trimmed.ends_with("FROM stdin;") {
            self.in_copy = true;
            self.at_line_start = true;
            return Segment::Pass(len);
        }
        if trimmed == "\\connect"
            || trimmed.starts_with("\\connect ")
            || trimmed.starts_with("\\c ")
        {
            return Segment::Connect;
        }
        if trimmed == PLAIN_FOOTER {
            self.footer_seen = true;
            return Segment::Pass(len);
        }
        let may_name_roles = ["ALTER ", "GRANT ", "REVOKE ", "SET SESSION AUTHORIZATION "]
            .iter()
            .any(|p| trimmed.starts_with(p));
        if may_name_roles {
            if let Some(statement) = parse_line(trimmed) {
                return Segment::Roles { len, statement };
            }
        }
        Segment::Pass(len)
    }

    /// COPY data, up to and including the `\.` line that ends it.
    fn copy_data(&mut self, buf: &[u8], eof: bool) -> Option<Segment> {
        if self.at_line_start {
            for end in [&b"\\.\n"[..], b"\\.\r\n"] {
                if buf.starts_with(end) {
                    self.in_copy = false;
                    return Some(Segment::Pass(end.len()));
                }
                if !eof && buf.len() < end.len() && end.starts_with(buf) {
                    return None;
                }
            }
            if eof && buf == b"\\." {
                self.in_copy = false;
                return Some(Segment::Pass(buf.len()));
            }
        }
        // In COPY's text format a data line never starts with `\.`: the first one ends it.
        if let Some(i) = memmem::find(buf, b"\n\\.") {
            self.at_line_start = true;
            return Some(Segment::Pass(i + 1));
        }
        // Keep back a last line that may be the start of `\.`.
        let keep = match memrchr(b'\n', buf) {
            Some(j) if !eof && buf.len() - (j + 1) < 2 && b"\\".starts_with(&buf[j + 1..]) => {
                buf.len() - (j + 1)
            }
            _ => 0,
        };
        let pass = buf.len() - keep;
        if pass == 0 {
            return None;
        }
        self.at_line_start = buf[pass - 1] == b'\n';
        Some(Segment::Pass(pass))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the scanner over `input` cut into `chunk`-byte reads, as a stream would deliver it;
    /// returns the role lines found and whether the bytes passed on equal the input.
    fn scan(input: &[u8], chunk: usize) -> (Vec<RoleStatement>, bool, bool) {
        let mut scanner = PlainScanner::default();
        let mut pending: Vec<u8> = Vec::new();
        let mut out = Vec::new();
        let mut found = Vec::new();
        let mut connect = false;
        let mut chunks = input.chunks(chunk).peekable();
        loop {
            let next = chunks.next();
            if let Some(c) = next {
                pending.extend_from_slice(c);
            }
            let eof = chunks.peek().is_none();
            let mut start = 0;
            while let Some(seg) = scanner.next(&pending[start..], eof) {
                let len = match seg {
                    Segment::Pass(len) => len,
                    Segment::Roles { len, statement } => {
                        found.push(statement);
                        len
                    }
                    Segment::Connect => {
                        connect = true;
                        break;
                    }
                };
                out.extend_from_slice(&pending[start..start + len]);
                start += len;
            }
            pending.drain(..start);
            if eof || connect {
                break;
            }
        }
        (found, out == input, connect)
    }

    const DUMP: &str = "--\n-- PostgreSQL database dump\n--\n\nCREATE TABLE public.t (id integer);\n\
ALTER TABLE public.t OWNER TO prod;\n\nCOPY public.t (id) FROM stdin;\n1\n2\nALTER TABLE x OWNER TO fake;\n\\.\n\n\
GRANT SELECT ON TABLE public.t TO reader;\n\n--\n-- PostgreSQL database dump complete\n--\n\n";

    #[test]
    fn finds_roles_outside_copy_data_whatever_the_chunking() {
        for chunk in [1, 2, 3, 5, 7, 64, 4096] {
            let (found, same, connect) = scan(DUMP.as_bytes(), chunk);
            assert!(same, "chunk {chunk}: output differs from input");
            assert!(!connect);
            assert_eq!(
                found,
                vec![
                    RoleStatement::Owner("prod".into()),
                    RoleStatement::Privilege(vec!["reader".into()])
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn sees_the_footer_only_when_it_is_there() {
        let mut s = PlainScanner::default();
        let mut rest = DUMP.as_bytes();
        while let Some(Segment::Pass(n) | Segment::Roles { len: n, .. }) = s.next(rest, true) {
            rest = &rest[n..];
        }
        assert!(s.footer_seen());
        let cut = &DUMP.as_bytes()[..DUMP.len() / 2];
        let mut s = PlainScanner::default();
        let mut rest = cut;
        while let Some(Segment::Pass(n) | Segment::Roles { len: n, .. }) = s.next(rest, true) {
            rest = &rest[n..];
        }
        assert!(!s.footer_seen());
    }

    #[test]
    fn connect_is_reported() {
        let (_, _, connect) = scan(b"CREATE DATABASE x;\n\\connect x\nCREATE TABLE t();\n", 4);
        assert!(connect);
    }

    #[test]
    fn over_long_lines_pass_in_pieces() {
        let mut line = b"INSERT INTO t VALUES ('".to_vec();
        line.resize(MAX_LINE + 10, b'a');
        let mut s = PlainScanner::default();
        assert_eq!(s.next(&line, false), Some(Segment::Pass(line.len())));
        assert_eq!(
            s.next(b"');\nGRANT ALL ON TABLE t TO r;\n", false),
            Some(Segment::Pass(4))
        );
        assert!(matches!(
            s.next(b"GRANT ALL ON TABLE t TO r;\n", false),
            Some(Segment::Roles { .. })
        ));
    }
}
