//! SQL text helpers: reading a file as UTF-8, sqlx's checksum, and telling whether a file
//! holds any statement at all.

use std::fs;
use std::path::Path;

use sha2::{Digest, Sha384};

use super::error::SourceError;

/// Reads `path` as UTF-8 text, unchanged (no line-ending or byte-order-mark conversion).
pub(crate) fn read_text(path: &Path) -> Result<String, SourceError> {
    let bytes = fs::read(path).map_err(|source| SourceError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| SourceError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Empty, or only whitespace and byte-order marks: an up file that "holds no SQL".
pub(crate) fn is_blank(sql: &str) -> bool {
    sql.chars().all(|c| c.is_whitespace() || c == '\u{feff}')
}

/// SHA-384 of the text's UTF-8 bytes: `Migration::new` in sqlx-core 0.8.6
/// (`Sha384::digest(sql.as_bytes())`).
pub(crate) fn checksum(sql: &str) -> Vec<u8> {
    Sha384::digest(sql.as_bytes()).to_vec()
}

/// Whether `sql` holds anything but whitespace (a byte-order mark counts as whitespace),
/// `;`, `--` line comments and `/* */` block comments (nested, as PostgreSQL nests them).
/// An unterminated block comment runs to the end of the text.
pub fn has_statement(sql: &str) -> bool {
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &sql[i..];
        let c = rest.chars().next().unwrap_or(' ');
        if c.is_whitespace() || c == ';' || c == '\u{feff}' {
            i += c.len_utf8();
        } else if rest.starts_with("--") {
            i = rest.find('\n').map_or(bytes.len(), |n| i + n + 1);
        } else if rest.starts_with("/*") {
            i = skip_block_comment(bytes, i);
        } else {
            return true;
        }
    }
    false
}

/// The index just past the block comment starting at `start` (`/*`), nesting included.
fn skip_block_comment(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'/', Some(b'*')) => {
                depth += 1;
                i += 2;
            }
            (b'*', Some(b'/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}
