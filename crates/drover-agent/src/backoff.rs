//! Exponential backoff for retries against the server.

use std::time::Duration;

/// The longest pause a server's `Retry-After` can impose.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

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

    /// Sleeps after a failed call: the current delay, or longer when the server asked for a
    /// pause (`Retry-After`, capped at a minute); then doubles the delay. The delay is spread
    /// by ±50 % ([`jitter`]), so thousands of agents that lost a restarting server do not all
    /// come back in the same instant.
    pub async fn wait_after(&mut self, e: &drover_client::ClientError) {
        let asked = e.retry_after().unwrap_or_default().min(MAX_RETRY_AFTER);
        tokio::time::sleep(self.next.mul_f64(jitter()).max(asked)).await;
        self.next = (self.next * 2).min(self.max);
    }

    /// Back to the shortest delay after a success.
    pub fn reset(&mut self) {
        self.next = self.start;
    }
}

/// A factor in [0.5, 1.5), different on every call (from the standard library's randomly
/// seeded hasher: no cryptographic quality needed to spread retries).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher
        .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    0.5 + (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether a failed call is worth trying again: the server was away or answered with a
/// transient status (5xx, 408, 429). Any other answer is final.
pub fn is_transient(e: &drover_client::ClientError) -> bool {
    e.status().is_none_or(|s| !(400..500).contains(&s) || s == 408 || s == 429)
}

/// Calls `call` until the server accepts it or refuses it for good, with backoff between tries;
/// `attempts` bounds the tries (none: until accepted). The one retry loop for calls whose
/// answer is only "accepted".
pub async fn retry_until_accepted<T, F, Fut>(
    what: &str,
    attempts: Option<usize>,
    mut call: F,
) -> Result<T, drover_client::ClientError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, drover_client::ClientError>>,
{
    let mut backoff = Backoff::new();
    let mut tried = 0;
    loop {
        tried += 1;
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) if !is_transient(&e) || attempts.is_some_and(|n| tried >= n) => return Err(e),
            Err(e) => {
                tracing::debug!("failed to {what}, retrying: {e}");
                backoff.wait_after(&e).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use drover_client::ClientError;

    use super::*;

    #[test]
    fn jitter_stays_within_half_either_way_and_varies() {
        let factors: Vec<f64> = (0..200).map(|_| jitter()).collect();
        assert!(factors.iter().all(|f| (0.5..1.5).contains(f)), "{factors:?}");
        let spread =
            factors.iter().cloned().fold(f64::MIN, f64::max) - factors.iter().cloned().fold(f64::MAX, f64::min);
        assert!(spread > 0.5, "retries must spread out, got a spread of {spread}");
    }

    #[test]
    fn transient_failures() {
        let api = |status| ClientError::Protocol { status, detail: String::new() };
        let cases = [(500, true), (503, true), (408, true), (429, true), (400, false), (403, false), (409, false)];
        for (status, want) in cases {
            assert_eq!(is_transient(&api(status)), want, "{status}");
        }
        assert!(is_transient(&ClientError::Unreachable { url: "u".into(), detail: "d".into() }));
    }
}
