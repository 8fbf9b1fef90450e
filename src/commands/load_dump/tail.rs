//! The tail of a tool's stderr, kept in bounded memory.

/// Keeps the last 16 KiB written to it (a tool's stderr).
#[derive(Default)]
pub(super) struct TailBuffer(Vec<u8>);

impl TailBuffer {
    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

impl tokio::io::AsyncWrite for TailBuffer {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        const KEEP: usize = 16 * 1024;
        self.0.extend_from_slice(buf);
        if self.0.len() > KEEP {
            let cut = self.0.len() - KEEP;
            self.0.drain(..cut);
        }
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
