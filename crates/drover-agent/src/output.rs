//! Streams a command's output to the server while it runs.
//!
//! Output is appended to a buffer; a sender posts what the server does not have yet, from the
//! offset the server last acknowledged, retrying with backoff while the server is away. Nothing
//! is lost across a server restart, and nothing is stored twice (appends are offset-checked).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use drover_client::AgentClient;
use drover_core::text::prefix_at_boundary;
use drover_proto::agent::OutputAppend;
use tokio::sync::Notify;

use crate::backoff::Backoff;

/// The largest chunk sent in one request.
const MAX_CHUNK: usize = 256 * 1024;

#[derive(Default)]
struct Buffer {
    /// Text the server has not acknowledged yet.
    pending: String,
    /// The log offset where `pending` starts.
    base: u64,
    closed: bool,
}

/// A command's output on its way to the server.
#[derive(Clone)]
pub struct OutputStream {
    buf: Arc<Mutex<Buffer>>,
    wake: Arc<Notify>,
}

impl OutputStream {
    /// An empty stream.
    pub fn new() -> Self {
        Self { buf: Arc::default(), wake: Arc::new(Notify::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buffer> {
        self.buf.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds text to the log.
    pub fn push(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.lock().pending.push_str(text);
        self.wake.notify_one();
    }

    /// No more text will come.
    pub fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_one();
    }

    /// Sends until the stream is closed and the server has everything.
    pub async fn send_all(&self, client: &AgentClient, command_id: i64) {
        let mut backoff = Backoff::new();
        loop {
            let (offset, data, closed) = {
                let b = self.lock();
                (b.base, prefix_at_boundary(&b.pending, MAX_CHUNK).to_owned(), b.closed)
            };
            if data.is_empty() {
                if closed {
                    return;
                }
                // Batch output for a moment so a chatty command does not send a request per line.
                let _ = tokio::time::timeout(Duration::from_secs(1), self.wake.notified()).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            match client.output(command_id, &OutputAppend { offset, data }).await {
                Ok(ack) => {
                    backoff.reset();
                    let mut b = self.lock();
                    let acked = ack.length.saturating_sub(b.base) as usize;
                    let drop = acked.min(b.pending.len());
                    if b.pending.is_char_boundary(drop) {
                        b.pending.drain(..drop);
                        b.base += drop as u64;
                    }
                }
                Err(e) => {
                    tracing::debug!(command_id, "failed to send output, retrying: {e}");
                    backoff.wait().await;
                }
            }
        }
    }
}
