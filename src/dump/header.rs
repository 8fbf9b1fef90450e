//! Which PostgreSQL made a dump: the header of an archive (`PGDMP`, also the start of a tar
//! dump's and a directory dump's `toc.dat`) and the comment lines of a plain script.
//!
//! The archive header is written by pg_dump's `WriteHead` (src/bin/pg_dump/pg_backup_archiver.c):
//! `PGDMP`, version major/minor/revision bytes, int size, offset size, format byte, compression,
//! the creation time as seven ints, then the database name, the server version and the pg_dump
//! version as length-prefixed strings. An int is a sign byte and `int size` bytes, low first.

use std::fmt;

/// A PostgreSQL version as `server_version_num` counts it (17.2 = 170002, 9.6.24 = 90624).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgVersion {
    /// The numeric version.
    pub num: u32,
    /// As written in the dump or reported by the server ("17.2 (Debian 17.2-1)").
    pub text: String,
}

impl PgVersion {
    /// Parses "17.2", "17.2 (Debian 17.2-1.pgdg120+1)", "18beta1", "9.6.24".
    pub fn parse(text: &str) -> Option<PgVersion> {
        let text = text.trim();
        let numeric: String = text
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let mut parts = numeric.split('.').filter(|p| !p.is_empty());
        let first: u32 = parts.next()?.parse().ok()?;
        let second: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let num = if first >= 10 {
            first * 10000 + second
        } else {
            let third: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            first * 10000 + second * 100 + third
        };
        Some(PgVersion {
            num,
            text: text.to_string(),
        })
    }

    /// From `server_version_num`.
    pub fn from_num(num: u32, text: &str) -> PgVersion {
        PgVersion {
            num,
            text: text.to_string(),
        }
    }

    /// The major version as a number that orders (17 -> 170000, 9.6 -> 90600).
    pub fn major_num(&self) -> u32 {
        if self.num >= 100000 {
            self.num / 10000 * 10000
        } else {
            self.num / 100 * 100
        }
    }

    /// The major version as people write it ("17", "9.6").
    pub fn major(&self) -> String {
        if self.num >= 100000 {
            (self.num / 10000).to_string()
        } else {
            format!("{}.{}", self.num / 10000, self.num / 100 % 100)
        }
    }
}

impl fmt::Display for PgVersion {
    /// The version number only ("17.2", not "17.2 (Debian 17.2-1)").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text.split_whitespace().next().unwrap_or(&self.text))
    }
}

/// What a dump says about where it came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DumpOrigin {
    /// The pg_dump that wrote it.
    pub pg_dump: Option<PgVersion>,
    /// The server it was taken from.
    pub server: Option<PgVersion>,
    /// The archive format version (archives only), e.g. (1, 16, 0).
    pub archive_version: Option<(u8, u8, u8)>,
    /// The database it was taken from (archives only).
    pub database: Option<String>,
}

impl DumpOrigin {
    /// The newest major version the dump needs: a server (and its psql/pg_restore) older than
    /// the pg_dump that wrote it cannot be relied on to load it.
    pub fn newest(&self) -> Option<&PgVersion> {
        [self.pg_dump.as_ref(), self.server.as_ref()]
            .into_iter()
            .flatten()
            .max_by_key(|v| v.major_num())
    }
}

/// Reads "-- Dumped from database version X" and "-- Dumped by pg_dump version Y".
pub fn parse_plain(head: &str) -> DumpOrigin {
    let mut origin = DumpOrigin::default();
    for line in head.lines().take(40) {
        if let Some(v) = line.strip_prefix("-- Dumped from database version ") {
            origin.server = PgVersion::parse(v);
        } else if let Some(v) = line.strip_prefix("-- Dumped by pg_dump version ") {
            origin.pg_dump = PgVersion::parse(v);
        }
    }
    origin
}

/// Whether a plain script announces itself as written by pg_dump (then it must also end with
/// pg_dump's closing comment, or it was cut short).
pub fn is_pg_dump_script(head: &str) -> bool {
    head.lines()
        .take(10)
        .any(|l| l.trim_end() == "-- PostgreSQL database dump")
}

/// The closing comment pg_dump writes after the last statement.
pub const PLAIN_FOOTER: &str = "-- PostgreSQL database dump complete";

/// Why an archive header could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The bytes end inside the header.
    #[error("the archive header is cut short")]
    Truncated,
    /// Not `PGDMP`.
    #[error("no PGDMP archive header")]
    NoMagic,
    /// Sizes pg_dump never writes.
    #[error("the archive header is corrupt ({0})")]
    Corrupt(&'static str),
}

/// Archive format codes in the header (`archiveFormat` in pg_backup.h).
const FORMAT_CUSTOM: u8 = 1;
const FORMAT_TAR: u8 = 3;
const FORMAT_DIRECTORY: u8 = 5;

/// Parses the header of a custom archive, or of the `toc.dat` of a tar or directory dump.
pub fn parse_archive(bytes: &[u8]) -> Result<DumpOrigin, HeaderError> {
    let mut r = Reader {
        bytes,
        pos: 0,
        int_size: 4,
    };
    if !bytes.starts_with(b"PGDMP") {
        return Err(if bytes.len() < 5 {
            HeaderError::Truncated
        } else {
            HeaderError::NoMagic
        });
    }
    r.pos = 5;
    let vmaj = r.byte()?;
    let vmin = r.byte()?;
    let vrev = if vmaj > 1 || (vmaj == 1 && vmin > 0) {
        r.byte()?
    } else {
        0
    };
    let version = (vmaj, vmin, vrev);
    let int_size = r.byte()?;
    if int_size == 0 || int_size > 8 {
        return Err(HeaderError::Corrupt("integer size"));
    }
    r.int_size = int_size;
    if version >= (1, 7, 0) {
        let _offset_size = r.byte()?;
    }
    let format = r.byte()?;
    if ![FORMAT_CUSTOM, FORMAT_TAR, FORMAT_DIRECTORY].contains(&format) {
        return Err(HeaderError::Corrupt("format code"));
    }
    if version >= (1, 15, 0) {
        let _algorithm = r.byte()?;
    } else if version >= (1, 4, 0) {
        let _level = r.int()?;
    } else if version >= (1, 2, 0) {
        let _level = r.byte()?;
    }
    let mut origin = DumpOrigin {
        archive_version: Some(version),
        ..DumpOrigin::default()
    };
    if version >= (1, 4, 0) {
        for _ in 0..7 {
            r.int()?; // sec, min, hour, mday, mon, year, isdst
        }
        origin.database = r.string()?;
    }
    if version >= (1, 10, 0) {
        origin.server = r.string()?.as_deref().and_then(PgVersion::parse);
        origin.pg_dump = r.string()?.as_deref().and_then(PgVersion::parse);
    }
    Ok(origin)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    int_size: u8,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, HeaderError> {
        let b = *self.bytes.get(self.pos).ok_or(HeaderError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn int(&mut self) -> Result<i64, HeaderError> {
        let sign = self.byte()?;
        let mut value: i64 = 0;
        for i in 0..self.int_size {
            value |= i64::from(self.byte()?) << (8 * u32::from(i));
        }
        Ok(if sign == 0 { value } else { -value })
    }

    fn string(&mut self) -> Result<Option<String>, HeaderError> {
        let len = self.int()?;
        if len < 0 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| HeaderError::Corrupt("string length"))?;
        if len > 4096 {
            return Err(HeaderError::Corrupt("string length"));
        }
        let end = self.pos.checked_add(len).ok_or(HeaderError::Truncated)?;
        let s = self
            .bytes
            .get(self.pos..end)
            .ok_or(HeaderError::Truncated)?;
        self.pos = end;
        Ok(Some(String::from_utf8_lossy(s).into_owned()))
    }
}

/// The image to use for a dump of PostgreSQL `major`, derived from the configured image when
/// its tag or name carries the major version (`postgres:17` -> `postgres:18`,
/// `.../postgresql-15-c9s` -> `.../postgresql-18-c9s`).
pub fn suggest_image(image: &str, major: &str) -> String {
    let (repo, tag) = match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
        _ => (image, None),
    };
    if let Some(tag) = tag {
        let digits = tag
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .count();
        if digits > 0 {
            return format!("{repo}:{major}{}", &tag[digits..]);
        }
    }
    let (path, name) = repo.rsplit_once('/').unwrap_or(("", repo));
    let parts: Vec<&str> = name.split('-').collect();
    if let Some(i) = parts
        .iter()
        .position(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        let mut parts: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        parts[i] = major.to_string();
        let name = parts.join("-");
        let repo = if path.is_empty() {
            name
        } else {
            format!("{path}/{name}")
        };
        return match tag {
            Some(tag) => format!("{repo}:{tag}"),
            None => repo,
        };
    }
    format!("docker.io/library/postgres:{major}")
}
