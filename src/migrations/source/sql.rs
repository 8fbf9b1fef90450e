//! SQL text helpers: reading a file as UTF-8, sqlx's checksum, and telling whether a file
//! holds any statement at all.

use std::fs;
use std::path::Path;

use sha2::{Digest, Sha384};

use super::error::SourceError;
use crate::migrations::lexer::{Kind, Lexer};

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
    Lexer::new(sql).any(|token| match token.kind {
        Kind::Whitespace | Kind::LineComment | Kind::BlockComment | Kind::Semicolon => false,
        // Non-ASCII text lexes as words: Unicode spaces and byte-order marks are blank here.
        _ => !token
            .text(sql)
            .chars()
            .all(|c| c.is_whitespace() || c == '\u{feff}'),
    })
}
