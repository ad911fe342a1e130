//! Token buckets for the API's per-token request limits, and the accept loop's backoff.
//!
//! Time is passed in (seconds since any fixed start), so every decision is a function of its
//! inputs. The server keeps one bucket per credential and prunes buckets that are full again.

use std::time::Duration;

/// A request limit: a sustained rate and a burst on top of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Requests per second refilled; 0 turns the limit off.
    pub per_second: f64,
    /// The most requests allowed at once (the bucket's size); at least 1 when the limit is on.
    pub burst: f64,
}

impl Limit {
    /// Whether requests are limited at all.
    pub fn is_on(self) -> bool {
        self.per_second > 0.0
    }

    fn size(self) -> f64 {
        self.burst.max(1.0)
    }
}

/// One credential's bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Requests that may be made now (fractional while refilling).
    pub tokens: f64,
    /// When `tokens` was last brought up to date, in seconds.
    pub updated: f64,
}

impl Bucket {
    /// A full bucket at `now`.
    pub fn full(limit: Limit, now: f64) -> Self {
        Self { tokens: limit.size(), updated: now }
    }

    /// The bucket refilled up to `now` (time never runs backwards here).
    fn refilled(self, limit: Limit, now: f64) -> Self {
        let elapsed = (now - self.updated).max(0.0);
        Self { tokens: (self.tokens + elapsed * limit.per_second).min(limit.size()), updated: now.max(self.updated) }
    }

    /// Whether the bucket is full again at `now`, so forgetting it changes nothing.
    pub fn is_idle(self, limit: Limit, now: f64) -> bool {
        self.refilled(limit, now).tokens >= limit.size()
    }
}

/// How long the bucket of a credential the server accepted is kept after its last request, in
/// seconds: a known credential costs its address nothing (see [`can_forget`]).
pub const KEEP_KNOWN_SECS: f64 = 600.0;

/// Whether a bucket can be dropped at `now`: it is full again, and it is not a known credential's
/// used within [`KEEP_KNOWN_SECS`].
pub fn can_forget(bucket: Bucket, limit: Limit, known: bool, now: f64) -> bool {
    bucket.is_idle(limit, now) && (!known || now - bucket.updated >= KEEP_KNOWN_SECS)
}

/// Whether one request may go ahead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Go ahead (one token was taken).
    Allowed,
    /// Refused: a token is back after this long.
    Refused {
        /// When to try again.
        retry_after: Duration,
    },
}

/// Takes one token from `bucket` at `now`, or says when one will be there.
pub fn take(bucket: &mut Bucket, limit: Limit, now: f64) -> Decision {
    if !limit.is_on() {
        return Decision::Allowed;
    }
    *bucket = bucket.refilled(limit, now);
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        return Decision::Allowed;
    }
    let wait = (1.0 - bucket.tokens) / limit.per_second;
    Decision::Refused { retry_after: Duration::from_secs_f64(wait) }
}

/// Whole seconds for a `Retry-After` header: rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// The accept loop's first pause after it failed to accept (descriptors or memory ran out).
pub const ACCEPT_BACKOFF_FIRST: Duration = Duration::from_millis(100);
/// The longest pause between tries to accept.
pub const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// The pause after a failed accept, given the one before it (none: the first failure of a burst):
/// 100 ms, doubling up to 1 s.
pub fn accept_backoff(previous: Option<Duration>) -> Duration {
    previous.map_or(ACCEPT_BACKOFF_FIRST, |d| (d * 2).clamp(ACCEPT_BACKOFF_FIRST, ACCEPT_BACKOFF_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Limit = Limit { per_second: 2.0, burst: 3.0 };

    #[test]
    fn buckets_allow_a_burst_then_the_rate() {
        // (seconds since start, expected decision: None = allowed, Some(wait in ms) = refused)
        let cases: [(f64, Option<u64>); 8] = [
            (0.0, None),
            (0.0, None),
            (0.0, None),
            (0.0, Some(500)), // empty: one token back after 1/2 s
            (0.25, Some(250)),
            (0.5, None), // refilled one
            (0.5, Some(500)),
            (10.0, None), // long idle: full again, capped at the burst
        ];
        let mut bucket = Bucket::full(LIMIT, 0.0);
        for (i, (now, want)) in cases.into_iter().enumerate() {
            let got = take(&mut bucket, LIMIT, now);
            let want =
                want.map_or(Decision::Allowed, |ms| Decision::Refused { retry_after: Duration::from_millis(ms) });
            assert_eq!(got, want, "case {i} at {now}s");
        }
        assert!((bucket.tokens - 2.0).abs() < 1e-9, "capped at the burst, minus the one taken");
    }

    #[test]
    fn a_limit_of_zero_is_off() {
        let off = Limit { per_second: 0.0, burst: 0.0 };
        let mut bucket = Bucket::full(off, 0.0);
        for _ in 0..1000 {
            assert_eq!(take(&mut bucket, off, 0.0), Decision::Allowed);
        }
    }

    #[test]
    fn a_burst_below_one_still_lets_one_through() {
        let limit = Limit { per_second: 1.0, burst: 0.0 };
        let mut bucket = Bucket::full(limit, 0.0);
        assert_eq!(take(&mut bucket, limit, 0.0), Decision::Allowed);
        assert!(matches!(take(&mut bucket, limit, 0.0), Decision::Refused { .. }));
    }

    #[test]
    fn time_running_backwards_refills_nothing() {
        let mut bucket = Bucket { tokens: 0.0, updated: 5.0 };
        assert!(matches!(take(&mut bucket, LIMIT, 1.0), Decision::Refused { .. }));
        assert_eq!(bucket.updated, 5.0);
    }

    #[test]
    fn idle_buckets_are_the_full_ones() {
        let cases = [(3.0, 0.0, 0.0, true), (2.0, 0.0, 0.0, false), (2.0, 0.0, 0.5, true), (0.0, 0.0, 1.0, false)];
        for (tokens, updated, now, want) in cases {
            assert_eq!(Bucket { tokens, updated }.is_idle(LIMIT, now), want, "{tokens} tokens at {updated}, now {now}");
        }
    }

    #[test]
    fn full_buckets_are_forgotten_known_credentials_later() {
        let full = Bucket { tokens: 3.0, updated: 0.0 };
        let spent = Bucket { tokens: 0.0, updated: 0.0 };
        let cases = [
            (full, false, 0.0, true),
            (spent, false, 1.0, false),
            (spent, false, 2.0, true),
            (full, true, 10.0, false),
            (full, true, KEEP_KNOWN_SECS, true),
            (spent, true, KEEP_KNOWN_SECS, true),
        ];
        for (i, (bucket, known, now, want)) in cases.into_iter().enumerate() {
            assert_eq!(can_forget(bucket, LIMIT, known, now), want, "case {i}");
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let cases = [(0, 1), (1, 1), (999, 1), (1000, 1), (1001, 2), (2500, 3)];
        for (ms, want) in cases {
            assert_eq!(retry_after_secs(Duration::from_millis(ms)), want, "{ms} ms");
        }
    }

    #[test]
    fn accept_backoff_doubles_up_to_a_second() {
        let ms = Duration::from_millis;
        let cases = [(None, ms(100)), (Some(ms(100)), ms(200)), (Some(ms(400)), ms(800)), (Some(ms(800)), ms(1000))];
        for (previous, want) in cases {
            assert_eq!(accept_backoff(previous), want, "after {previous:?}");
        }
        assert_eq!(accept_backoff(Some(ms(1000))), ms(1000));
    }
}
