//! Streams a command's output to the server while it runs.
//!
//! Output is appended to a buffer; a sender posts what the server does not have yet, from the
//! offset the server last acknowledged, retrying with backoff while the server is away. Nothing
//! is lost across a server restart, and nothing is stored twice (appends are offset-checked).
//!
//! The buffer is capped (the server's cap on a command's log): past it the oldest text is let
//! go, and the server is told that the bytes before the next append were cut. When the server
//! answers with a length short of what it had acknowledged (its database was restored), that
//! text is gone from here too: the server is told it was lost, and sending moves on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use drover_client::AgentClient;
use drover_core::log_cap::{cut_point, over_cap};
use drover_core::text::prefix_at_boundary;
use drover_proto::agent::{OutputAppend, OutputGap};
use tokio::sync::Notify;

use crate::backoff::Backoff;

/// The largest chunk sent in one request.
const MAX_CHUNK: usize = 256 * 1024;

/// The cap when the server sends none: the server's default.
pub const DEFAULT_CAP: usize = 16 * 1024 * 1024;

struct Buffer {
    /// Text the server has not acknowledged yet.
    pending: String,
    /// The log offset where `pending` starts.
    base: u64,
    /// Why the server lacks the bytes before `base`, when it does.
    gap: Option<OutputGap>,
    /// The most text kept.
    cap: usize,
    closed: bool,
}

/// A command's output on its way to the server.
#[derive(Clone)]
pub struct OutputStream {
    buf: Arc<Mutex<Buffer>>,
    wake: Arc<Notify>,
    /// Set when the server answers an append with `stop` (the command was cancelled).
    stop: Arc<std::sync::atomic::AtomicBool>,
}

/// Whether an error from the server is worth retrying: it is away, or busy.
fn transient(e: &drover_client::ClientError) -> bool {
    !e.status().is_some_and(|s| (400..500).contains(&s) && s != 408 && s != 429)
}

impl OutputStream {
    /// An empty stream that keeps at most `cap` bytes of unsent text.
    pub fn new(cap: usize) -> Self {
        let buf = Buffer { pending: String::new(), base: 0, gap: None, cap: cap.max(1), closed: false };
        Self { buf: Arc::new(Mutex::new(buf)), wake: Arc::new(Notify::new()), stop: Arc::default() }
    }

    /// Whether the server asked the command to stop (a cancelled `drover logs --follow`).
    pub fn stop_requested(&self) -> bool {
        self.stop.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buffer> {
        self.buf.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds text to the log.
    pub fn push(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        {
            let mut b = self.lock();
            b.pending.push_str(text);
            if over_cap(b.pending.len(), b.cap) {
                let at = cut_point(&b.pending, b.pending.len() - b.cap);
                b.pending.drain(..at);
                b.base += at as u64;
                b.gap = Some(OutputGap::Cut);
            }
        }
        self.wake.notify_one();
    }

    /// No more text will come.
    pub fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_one();
    }

    /// Sends until the stream is closed and the server has everything (or refuses it for good:
    /// the command is gone or is another one; its result is still reported).
    pub async fn send_all(&self, client: &AgentClient, command_id: i64, nonce: Option<String>) {
        let mut backoff = Backoff::new();
        loop {
            let (offset, data, gap, closed) = {
                let b = self.lock();
                (b.base, prefix_at_boundary(&b.pending, MAX_CHUNK.min(b.cap)).to_owned(), b.gap, b.closed)
            };
            if data.is_empty() && gap.is_none() {
                if closed {
                    return;
                }
                // Batch output for a moment so a chatty command does not send a request per line.
                let _ = tokio::time::timeout(Duration::from_secs(1), self.wake.notified()).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            let append = OutputAppend { offset, data, gap, nonce: nonce.clone() };
            match client.output(command_id, &append).await {
                Ok(ack) => {
                    backoff.reset();
                    if ack.stop {
                        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    self.acknowledged(ack.length);
                }
                Err(e) if !transient(&e) => {
                    tracing::warn!(command_id, "the server refused the command's output; sending no more: {e}");
                    return;
                }
                Err(e) => {
                    tracing::debug!(command_id, "failed to send output, retrying: {e}");
                    backoff.wait_after(&e).await;
                }
            }
        }
    }

    /// The server holds `length` bytes of the log.
    fn acknowledged(&self, length: u64) {
        let mut b = self.lock();
        if length < b.base {
            // The server lacks text this buffer no longer has: say so with the next append
            // rather than offer it the same offset forever.
            b.gap.get_or_insert(OutputGap::Lost);
            return;
        }
        b.gap = None;
        let acked = usize::try_from(length - b.base).unwrap_or(usize::MAX);
        let mut drop = acked.min(b.pending.len());
        while !b.pending.is_char_boundary(drop) {
            drop -= 1;
        }
        b.pending.drain(..drop);
        b.base += drop as u64;
    }

    /// What is left to send, and why the server lacks what is before it (for tests).
    #[cfg(test)]
    fn state(&self) -> (u64, String, Option<OutputGap>) {
        let b = self.lock();
        (b.base, b.pending.clone(), b.gap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_tail_under_the_cap() {
        let out = OutputStream::new(100);
        for i in 0..100 {
            out.push(&format!("line {i:03}\n"));
        }
        let (base, pending, gap) = out.state();
        assert!(pending.len() <= 100 + 100 / 8, "{}", pending.len());
        assert!(pending.ends_with("line 099\n") && pending.starts_with("line "), "{pending:?}");
        assert_eq!(base + pending.len() as u64, 900);
        assert_eq!(gap, Some(OutputGap::Cut));
    }

    #[test]
    fn a_short_server_log_is_a_gap_not_a_retry() {
        let out = OutputStream::new(1000);
        out.push("hello\n");
        out.acknowledged(6);
        out.push("world\n");
        // The server's database was restored: it holds 2 bytes.
        out.acknowledged(2);
        assert_eq!(out.state(), (6, "world\n".into(), Some(OutputGap::Lost)));
        out.acknowledged(12);
        assert_eq!(out.state(), (12, String::new(), None));
    }

    #[test]
    fn acknowledgements_move_the_base() {
        let out = OutputStream::new(1000);
        out.push("abcdef");
        out.acknowledged(4);
        assert_eq!(out.state(), (4, "ef".into(), None));
        out.acknowledged(4);
        assert_eq!(out.state(), (4, "ef".into(), None));
    }
}
