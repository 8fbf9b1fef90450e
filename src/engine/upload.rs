//! Copying host files into a container: one tar stream, built on the fly (headers from the
//! `tar` crate, file contents read in chunks), so memory stays flat whatever the size.

use std::path::PathBuf;
use std::sync::Arc;

use bollard::query_parameters::UploadToContainerOptionsBuilder;
use bytes::Bytes;
use futures_util::stream;
use tokio::io::AsyncReadExt;

use crate::engine::client::{api, Engine};
use crate::engine::error::EngineError;

/// A host file to copy.
#[derive(Clone, Debug)]
pub struct UploadFile {
    /// Its name inside the uploaded directory.
    pub name: String,
    /// Where it is on the host.
    pub path: PathBuf,
    /// Its size in bytes (the tar header needs it first).
    pub size: u64,
}

/// Called with the number of bytes sent so far.
pub type UploadProgress = Arc<dyn Fn(u64) + Send + Sync>;

const CHUNK: usize = 256 * 1024;

impl Engine {
    /// Creates directory `dir` (mode 0777, so any user of the image can use it) under `parent`
    /// in `container` and copies `files` into it.
    pub async fn upload_files(
        &self,
        container: &str,
        parent: &str,
        dir: &str,
        files: Vec<UploadFile>,
        progress: UploadProgress,
    ) -> Result<(), EngineError> {
        let options = UploadToContainerOptionsBuilder::default()
            .path(parent)
            .build();
        let body = tar_stream(dir.to_string(), files, progress);
        self.docker()
            .upload_to_container(container, Some(options), bollard::body_try_stream(body))
            .await
            .map_err(|source| {
                api(
                    format!("copy files into {container}:{parent}/{dir}"),
                    source,
                )
            })
    }
}

/// Where the tar stream is.
enum Stage {
    Dir,
    Header(usize),
    Body {
        index: usize,
        file: tokio::fs::File,
        left: u64,
    },
    Padding(usize),
    Done,
}

struct State {
    dir: String,
    files: Vec<UploadFile>,
    stage: Stage,
    sent: u64,
    progress: UploadProgress,
}

fn tar_stream(
    dir: String,
    files: Vec<UploadFile>,
    progress: UploadProgress,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let state = State {
        dir,
        files,
        stage: Stage::Dir,
        sent: 0,
        progress,
    };
    stream::try_unfold(state, |mut s| async move {
        let chunk = match std::mem::replace(&mut s.stage, Stage::Done) {
            Stage::Dir => {
                s.stage = Stage::Header(0);
                header(&format!("{}/", s.dir), 0, tar::EntryType::Directory, 0o777)?
            }
            Stage::Header(index) if index == s.files.len() => {
                s.stage = Stage::Done;
                Bytes::from(vec![0u8; 1024])
            }
            Stage::Header(index) => {
                let f = &s.files[index];
                let file = tokio::fs::File::open(&f.path).await?;
                s.stage = Stage::Body {
                    index,
                    file,
                    left: f.size,
                };
                header(
                    &format!("{}/{}", s.dir, f.name),
                    f.size,
                    tar::EntryType::Regular,
                    0o644,
                )?
            }
            Stage::Body {
                index,
                mut file,
                left,
            } => {
                let want = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
                let mut buf = vec![0u8; want];
                let n = file.read(&mut buf).await?;
                if n == 0 && want > 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!(
                            "{} shrank while it was being copied",
                            s.files[index].path.display()
                        ),
                    ));
                }
                buf.truncate(n);
                let left = left - n as u64;
                s.sent += n as u64;
                (s.progress)(s.sent);
                s.stage = if left == 0 {
                    Stage::Padding(index)
                } else {
                    Stage::Body { index, file, left }
                };
                Bytes::from(buf)
            }
            Stage::Padding(index) => {
                let rem = (s.files[index].size % 512) as usize;
                s.stage = Stage::Header(index + 1);
                Bytes::from(vec![0u8; if rem == 0 { 0 } else { 512 - rem }])
            }
            Stage::Done => return Ok(None),
        };
        Ok(Some((chunk, s)))
    })
}

fn header(path: &str, size: u64, kind: tar::EntryType, mode: u32) -> Result<Bytes, std::io::Error> {
    let mut h = tar::Header::new_gnu();
    h.set_path(path)?;
    h.set_size(size);
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    );
    h.set_cksum();
    Ok(Bytes::copy_from_slice(h.as_bytes()))
}
