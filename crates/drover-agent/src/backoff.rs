//! Exponential backoff for retries against the server.

use std::time::Duration;

/// Doubles from `start` up to `max`.
pub struct Backoff {
    next: Duration,
    start: Duration,
    max: Duration,
}

impl Backoff {
    /// A backoff from 200 ms to 5 s.
    pub fn new() -> Self {
        Self::between(Duration::from_millis(200), Duration::from_secs(5))
    }

    /// A backoff between `start` and `max`.
    pub fn between(start: Duration, max: Duration) -> Self {
        Self { next: start, start, max }
    }

    /// Sleeps for the current delay and doubles it.
    pub async fn wait(&mut self) {
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(self.max);
    }

    /// Back to the shortest delay after a success.
    pub fn reset(&mut self) {
        self.next = self.start;
    }
}
