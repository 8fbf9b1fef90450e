//! Opening a dump: a file, a directory or standard input; its format told from its content;
//! the versions in its header read before anything is loaded; a plain dump's bytes
//! decompressed as they stream.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use async_compression::tokio::bufread::{GzipDecoder, ZstdDecoder};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader, ReadBuf};

use crate::dump::error::DumpError;
use crate::dump::format::{sniff, sniff_decompressed, Compression, DumpFormat, Sniffed, SNIFF_LEN};
use crate::dump::header::{is_pg_dump_script, parse_archive, parse_plain, DumpOrigin};
use crate::engine::UploadFile;

/// Where the dump comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DumpInput {
    /// A file or a directory-format dump.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl DumpInput {
    /// How messages name it.
    pub fn display(&self) -> String {
        match self {
            DumpInput::Path(p) => p.display().to_string(),
            DumpInput::Stdin => "standard input".into(),
        }
    }
}

/// A byte stream of a plain dump, decompressed.
pub type PlainReader = Box<dyn AsyncRead + Unpin + Send>;

/// The content of an opened dump.
pub enum DumpBody {
    /// A plain script, read as it is loaded.
    Plain(PlainReader),
    /// Archive files to copy into the container for pg_restore.
    Archive {
        /// The files (one, or a directory dump's).
        files: Vec<UploadFile>,
        /// Their total size.
        total: u64,
        /// The copy of standard input, removed on drop.
        spool: Option<tempfile::TempPath>,
    },
}

/// An opened dump.
pub struct OpenedDump {
    /// How messages name it.
    pub display: String,
    /// Plain SQL (maybe compressed), custom, tar or directory.
    pub format: DumpFormat,
    /// Which PostgreSQL made it.
    pub origin: DumpOrigin,
    /// A plain script that says it was written by pg_dump (so it must end with its footer).
    pub pg_dump_script: bool,
    /// Where the dump's bytes are read from.
    pub body: DumpBody,
    /// The size of the input as stored (compressed), when known.
    pub raw_size: Option<u64>,
    /// Raw bytes read so far (plain dumps), for progress.
    pub raw_read: Arc<AtomicU64>,
}

/// Opens `input`, tells its format and reads its header.
pub async fn open(input: &DumpInput) -> Result<OpenedDump, DumpError> {
    let display = input.display();
    let unreadable = |e: std::io::Error| DumpError::Unreadable {
        path: display.clone(),
        reason: io_reason(&e),
    };
    let counter = Arc::new(AtomicU64::new(0));
    let (raw, raw_size): (PlainReader, Option<u64>) = match input {
        DumpInput::Path(path) => {
            let meta = tokio::fs::metadata(path).await.map_err(unreadable)?;
            if meta.is_dir() {
                return open_directory(path, display).await;
            }
            let file = tokio::fs::File::open(path).await.map_err(unreadable)?;
            (Box::new(file), Some(meta.len()))
        }
        DumpInput::Stdin => (Box::new(tokio::io::stdin()), None),
    };
    let mut raw: PlainReader = Box::new(Counting {
        inner: raw,
        count: counter.clone(),
    });
    let head = read_head(&mut raw).await.map_err(unreadable)?;
    let format = match sniff(&head) {
        Sniffed::Empty => return Err(DumpError::Empty { path: display }),
        Sniffed::NotADump(what) => {
            return Err(DumpError::NotADump {
                path: display,
                what,
            })
        }
        Sniffed::Dump(format) => format,
    };
    let rest: PlainReader = Box::new(std::io::Cursor::new(head.clone()).chain(raw));
    match format {
        DumpFormat::Plain(compression) => {
            open_plain(display, compression, head, rest, raw_size, counter).await
        }
        DumpFormat::Custom | DumpFormat::Tar => {
            let header = if format == DumpFormat::Tar {
                head.get(512..).unwrap_or_default()
            } else {
                &head[..]
            };
            let origin = parse_archive(header).map_err(|e| DumpError::Corrupt {
                path: display.clone(),
                reason: e.to_string(),
            })?;
            let (files, total, spool) = match input {
                DumpInput::Path(path) => {
                    let size = raw_size.unwrap_or(0);
                    (
                        vec![upload_file(archive_name(format), path, size)],
                        size,
                        None,
                    )
                }
                DumpInput::Stdin => {
                    let (path, size) = spool_stdin(rest).await.map_err(unreadable)?;
                    let file = upload_file(archive_name(format), &path, size);
                    (vec![file], size, Some(path))
                }
            };
            Ok(OpenedDump {
                display,
                format,
                origin,
                pg_dump_script: false,
                body: DumpBody::Archive {
                    files,
                    total,
                    spool,
                },
                raw_size: Some(total),
                raw_read: counter,
            })
        }
        DumpFormat::Directory => unreachable!("sniff never says directory"),
    }
}

/// The name an archive file of `format` gets in the container.
pub fn archive_name(format: DumpFormat) -> &'static str {
    match format {
        DumpFormat::Tar => "dump.tar",
        _ => "dump.pgdump",
    }
}

fn upload_file(name: &str, path: &Path, size: u64) -> UploadFile {
    UploadFile {
        name: name.to_string(),
        path: path.to_path_buf(),
        size,
    }
}

async fn open_plain(
    display: String,
    compression: Compression,
    head: Vec<u8>,
    rest: PlainReader,
    raw_size: Option<u64>,
    counter: Arc<AtomicU64>,
) -> Result<OpenedDump, DumpError> {
    let (text_head, reader): (Vec<u8>, PlainReader) = match compression {
        Compression::None => (head, rest),
        Compression::Gzip | Compression::Zstd => {
            let mut decoded: PlainReader = match compression {
                Compression::Gzip => {
                    let mut d = GzipDecoder::new(BufReader::with_capacity(256 * 1024, rest));
                    d.multiple_members(true);
                    Box::new(d)
                }
                _ => Box::new(ZstdDecoder::new(BufReader::with_capacity(256 * 1024, rest))),
            };
            let text_head = read_head(&mut decoded)
                .await
                .map_err(|e| DumpError::Corrupt {
                    path: display.clone(),
                    reason: decode_reason(compression, &e),
                })?;
            match sniff_decompressed(&text_head) {
                Sniffed::Empty => return Err(DumpError::Empty { path: display }),
                Sniffed::NotADump(what) => {
                    return Err(DumpError::NotADump {
                        path: display,
                        what,
                    })
                }
                Sniffed::Dump(_) => {}
            }
            let reader = Box::new(std::io::Cursor::new(text_head.clone()).chain(decoded));
            (text_head, reader)
        }
    };
    let text = String::from_utf8_lossy(&text_head);
    Ok(OpenedDump {
        display,
        format: DumpFormat::Plain(compression),
        origin: parse_plain(&text),
        pg_dump_script: is_pg_dump_script(&text),
        body: DumpBody::Plain(reader),
        raw_size,
        raw_read: counter,
    })
}

async fn open_directory(path: &Path, display: String) -> Result<OpenedDump, DumpError> {
    let toc = path.join("toc.dat");
    let head = match tokio::fs::File::open(&toc).await {
        Ok(mut f) => read_head(&mut f).await,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DumpError::NotADump {
                path: display,
                what: "a directory without toc.dat".into(),
            })
        }
        Err(e) => Err(e),
    }
    .map_err(|e| DumpError::Unreadable {
        path: toc.display().to_string(),
        reason: io_reason(&e),
    })?;
    let origin = parse_archive(&head).map_err(|e| DumpError::Corrupt {
        path: toc.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut files = Vec::new();
    let mut total = 0;
    let unreadable = |e: std::io::Error| DumpError::Unreadable {
        path: display.clone(),
        reason: io_reason(&e),
    };
    let mut entries = tokio::fs::read_dir(path).await.map_err(unreadable)?;
    while let Some(entry) = entries.next_entry().await.map_err(unreadable)? {
        let meta = entry.metadata().await.map_err(unreadable)?;
        if !meta.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        total += meta.len();
        files.push(upload_file(&name, &entry.path(), meta.len()));
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(OpenedDump {
        display,
        format: DumpFormat::Directory,
        origin,
        pg_dump_script: false,
        body: DumpBody::Archive {
            files,
            total,
            spool: None,
        },
        raw_size: Some(total),
        raw_read: Arc::new(AtomicU64::new(0)),
    })
}

/// Reads up to [`SNIFF_LEN`] bytes (fewer only at the end of the input).
async fn read_head<R: AsyncRead + Unpin + ?Sized>(r: &mut R) -> std::io::Result<Vec<u8>> {
    let mut head = vec![0u8; SNIFF_LEN];
    let mut filled = 0;
    while filled < head.len() {
        let n = r.read(&mut head[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    head.truncate(filled);
    Ok(head)
}

/// Copies standard input to a temporary file (pg_restore needs a file it can seek in).
async fn spool_stdin(mut input: PlainReader) -> std::io::Result<(tempfile::TempPath, u64)> {
    let path = tempfile::Builder::new()
        .prefix("packit-db-stdin-")
        .tempfile()?
        .into_temp_path();
    let mut file = tokio::fs::File::create(&path).await?;
    let size = tokio::io::copy(&mut input, &mut file).await?;
    file.flush().await?;
    Ok((path, size))
}

/// An I/O error as a message ("No such file or directory").
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// A decompression error as a message.
pub fn decode_reason(compression: Compression, e: &std::io::Error) -> String {
    let what = match compression {
        Compression::Zstd => "zstd",
        _ => "gzip",
    };
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        format!("the {what} stream ends early")
    } else {
        format!("{what}: {}", io_reason(e))
    }
}

/// Counts the bytes read through it.
struct Counting {
    inner: PlainReader,
    count: Arc<AtomicU64>,
}

impl AsyncRead for Counting {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        self.count.fetch_add(read as u64, Ordering::Relaxed);
        poll
    }
}
