//! What kind of dump a file holds, told from its first bytes, never from its name.

use std::fmt;

/// Compression around a plain SQL dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (`pg_dump | gzip`, or `pg_dump -Z`).
    Gzip,
    /// zstd (`pg_dump | zstd`).
    Zstd,
}

/// The formats `load-dump` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpFormat {
    /// `pg_dump -Fp`: an SQL script for psql, possibly compressed.
    Plain(Compression),
    /// `pg_dump -Fc`: the custom archive (`PGDMP` header).
    Custom,
    /// `pg_dump -Ft`: a tar archive holding `toc.dat`.
    Tar,
    /// `pg_dump -Fd`: a directory holding `toc.dat` and one file per table.
    Directory,
}

impl DumpFormat {
    /// Whether pg_restore (rather than psql) loads it.
    pub fn is_archive(self) -> bool {
        !matches!(self, DumpFormat::Plain(_))
    }

    /// Whether `pg_restore --jobs` can work on it in parallel.
    pub fn parallel(self) -> bool {
        matches!(self, DumpFormat::Custom | DumpFormat::Directory)
    }
}

impl fmt::Display for DumpFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DumpFormat::Plain(Compression::None) => "plain SQL",
            DumpFormat::Plain(Compression::Gzip) => "gzip-compressed plain SQL",
            DumpFormat::Plain(Compression::Zstd) => "zstd-compressed plain SQL",
            DumpFormat::Custom => "custom format",
            DumpFormat::Tar => "tar format",
            DumpFormat::Directory => "directory format",
        })
    }
}

/// What the first bytes of a file say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sniffed {
    /// A dump of this format.
    Dump(DumpFormat),
    /// No bytes at all.
    Empty,
    /// Something else, described for the error message ("a PNG image").
    NotADump(String),
}

/// How many leading bytes [`sniff`] wants (a tar header is 512 bytes).
pub const SNIFF_LEN: usize = 8192;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Tells the format from up to [`SNIFF_LEN`] leading bytes.
pub fn sniff(head: &[u8]) -> Sniffed {
    if head.is_empty() {
        return Sniffed::Empty;
    }
    if head.starts_with(b"PGDMP") {
        return Sniffed::Dump(DumpFormat::Custom);
    }
    if head.starts_with(GZIP_MAGIC) {
        return Sniffed::Dump(DumpFormat::Plain(Compression::Gzip));
    }
    if head.starts_with(ZSTD_MAGIC) {
        return Sniffed::Dump(DumpFormat::Plain(Compression::Zstd));
    }
    if is_tar(head) {
        return if head.starts_with(b"toc.dat\0") {
            Sniffed::Dump(DumpFormat::Tar)
        } else {
            Sniffed::NotADump(
                "a tar archive that is not a pg_dump tar dump (no toc.dat first)".into(),
            )
        };
    }
    if looks_like_sql(head) {
        return Sniffed::Dump(DumpFormat::Plain(Compression::None));
    }
    Sniffed::NotADump(describe(head))
}

/// Whether decompressed content is an SQL script (a compressed custom dump is not loadable).
pub fn sniff_decompressed(head: &[u8]) -> Sniffed {
    match sniff(head) {
        Sniffed::Dump(DumpFormat::Plain(Compression::None)) => {
            Sniffed::Dump(DumpFormat::Plain(Compression::None))
        }
        Sniffed::Empty => Sniffed::Empty,
        Sniffed::Dump(other) => Sniffed::NotADump(format!(
            "a compressed {other} dump (decompress it first; pg_dump compresses its archives itself)"
        )),
        Sniffed::NotADump(what) => Sniffed::NotADump(format!("compressed {what}")),
    }
}

fn is_tar(head: &[u8]) -> bool {
    head.len() >= 262 && &head[257..262] == b"ustar"
}

/// Statements a pg_dump script (or a hand-written SQL file) starts with.
const SQL_STARTS: &[&str] = &[
    "SET", "SELECT", "CREATE", "ALTER", "BEGIN", "START", "INSERT", "COPY", "DROP", "COMMENT",
    "GRANT", "REVOKE", "DO", "WITH", "UPDATE", "DELETE", "TRUNCATE", "\\",
];

/// Text (no NUL, UTF-8 up to a character cut at the end) that starts with a comment or an SQL
/// statement.
fn looks_like_sql(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // A multi-byte character cut by the sniff window is fine; anything else is binary.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).expect("valid prefix")
        }
        Err(_) => return false,
    };
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with("--") || text.starts_with("/*") {
        return true;
    }
    let upper: String = text
        .chars()
        .take(10)
        .collect::<String>()
        .to_ascii_uppercase();
    SQL_STARTS.iter().any(|s| {
        upper.starts_with(s)
            && upper[s.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric() || *s == "\\")
    })
}

/// A short description of what a non-dump file looks like.
fn describe(head: &[u8]) -> String {
    const KNOWN: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a zip archive (unzip it first)"),
        (
            b"BZh",
            "bzip2-compressed data (decompress it first: bunzip2)",
        ),
        (
            b"\xfd7zXZ\x00",
            "xz-compressed data (decompress it first: unxz)",
        ),
        (b"\x7fELF", "an executable (ELF)"),
        (b"SQLite format 3\0", "an SQLite database"),
    ];
    if let Some((_, what)) = KNOWN.iter().find(|(magic, _)| head.starts_with(magic)) {
        return (*what).to_string();
    }
    if !head.contains(&0) && std::str::from_utf8(head).is_ok() {
        return "text that is not SQL".into();
    }
    let first: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("binary data starting with {}", first.join(" "))
}
