//! The layer's metrics over the wait window, minute by minute.
//!
//! The window `(now - wait, now]` is split into buckets of [`BUCKET_MS`], counted back from
//! `now` (the oldest may be shorter). A bucket's value for a metric is the mean over the
//! instances that reported in it of each instance's mean in it, so an instance that sends more
//! heartbeats does not weigh more. Agents report about every 30 s, so every online instance
//! normally reports in every bucket. A bucket in which no online instance reported is a gap:
//! nothing is known about that minute, so the layer holds (it neither starts nor stops) until a
//! whole window without a gap is there.

use std::collections::BTreeMap;

use super::Sample;
use super::rule::Metric;

/// The length of one bucket of the window: one minute, two heartbeat intervals.
pub const BUCKET_MS: i64 = 60_000;

/// The layer's averages in one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Averages {
    /// CPU use, percent.
    pub cpu: f64,
    /// Memory use, percent.
    pub memory: f64,
    /// 1-minute load average.
    pub load: f64,
}

impl Averages {
    /// The value of `metric`.
    pub fn get(&self, metric: Metric) -> f64 {
        match metric {
            Metric::Cpu => self.cpu,
            Metric::Memory => self.memory,
            Metric::Load => self.load,
        }
    }
}

/// A window's buckets, oldest first, and the instances that reported in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Each bucket's averages, oldest first.
    pub buckets: Vec<Averages>,
    /// The instances that reported in the window, in hostname order.
    pub hosts: Vec<String>,
}

impl Window {
    /// The mean of `metric` over the buckets.
    pub fn mean(&self, metric: Metric) -> f64 {
        self.buckets.iter().map(|b| b.get(metric)).sum::<f64>() / self.buckets.len().max(1) as f64
    }
}

/// A bucket in which no online instance reported: `(from_ms, to_ms]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The start of the bucket (excluded).
    pub from_ms: i64,
    /// The end of the bucket (included).
    pub to_ms: i64,
}

/// The window of `wait_ms` ending at `now_ms`, from the samples of the `online` hosts (others'
/// samples are left out), or the newest gap in it.
pub fn window(samples: &[Sample], online: &[&str], now_ms: i64, wait_ms: i64) -> Result<Window, Gap> {
    let count = ((wait_ms + BUCKET_MS - 1) / BUCKET_MS).max(1);
    let start = now_ms - wait_ms;
    let mut buckets = Vec::new();
    let mut hosts: Vec<String> = Vec::new();
    // Newest first, so the gap reported is the newest one.
    for back in 0..count {
        let to_ms = now_ms - back * BUCKET_MS;
        let from_ms = (to_ms - BUCKET_MS).max(start);
        let mut per_host: BTreeMap<&str, (Averages, u32)> = BTreeMap::new();
        for s in samples.iter().filter(|s| s.at_ms > from_ms && s.at_ms <= to_ms) {
            if !online.contains(&s.hostname.as_str()) || !s.is_finite() {
                continue;
            }
            let (sum, n) = per_host.entry(&s.hostname).or_insert((Averages { cpu: 0.0, memory: 0.0, load: 0.0 }, 0));
            sum.cpu += s.cpu_percent;
            sum.memory += s.memory_percent;
            sum.load += s.load_1m;
            *n += 1;
        }
        if per_host.is_empty() {
            return Err(Gap { from_ms, to_ms });
        }
        let hosts_here = per_host.len() as f64;
        let mut bucket = Averages { cpu: 0.0, memory: 0.0, load: 0.0 };
        for (host, (sum, n)) in per_host {
            let n = f64::from(n);
            bucket.cpu += sum.cpu / n / hosts_here;
            bucket.memory += sum.memory / n / hosts_here;
            bucket.load += sum.load / n / hosts_here;
            if !hosts.iter().any(|h| h == host) {
                hosts.push(host.to_owned());
            }
        }
        buckets.push(bucket);
    }
    buckets.reverse();
    hosts.sort();
    Ok(Window { buckets, hosts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: i64, host: &str, cpu: f64) -> Sample {
        Sample { at_ms, hostname: host.to_owned(), cpu_percent: cpu, memory_percent: 50.0, load_1m: 1.0 }
    }

    const NOW: i64 = 10_000_000;

    #[test]
    fn buckets_average_instances_equally() {
        let samples = [
            // the older minute: c1 twice (mean 60), c2 once (90) -> 75
            sample(NOW - 110_000, "c1", 50.0),
            sample(NOW - 80_000, "c1", 70.0),
            sample(NOW - 70_000, "c2", 90.0),
            // the newer minute: only c1 -> 40
            sample(NOW - 30_000, "c1", 40.0),
            // a stopped instance's and an old sample are left out
            sample(NOW - 30_000, "c3", 100.0),
            sample(NOW - 120_000, "c1", 100.0),
        ];
        let got = window(&samples, &["c1", "c2"], NOW, 120_000).unwrap();
        let cpu: Vec<f64> = got.buckets.iter().map(|b| b.cpu).collect();
        assert_eq!(cpu, [75.0, 40.0]);
        assert_eq!(got.hosts, ["c1", "c2"]);
        assert_eq!(got.mean(Metric::Cpu), 57.5);
    }

    #[test]
    fn an_empty_bucket_is_a_gap() {
        // (input: sample times before now, wait ms, expected: Ok(bucket count) or the gap's end before now)
        let cases: [(&[i64], i64, Result<usize, i64>); 6] = [
            (&[10_000, 70_000, 130_000], 180_000, Ok(3)),
            (&[10_000, 130_000], 180_000, Err(60_000)), // the middle minute is missing
            (&[70_000, 130_000], 180_000, Err(0)),      // the newest minute is missing
            (&[10_000, 70_000], 180_000, Err(120_000)), // metrics began less than a window ago
            (&[0, 60_000], 120_000, Ok(2)),             // a sample at a bucket's end counts in it
            (&[10_000, 70_000], 90_000, Ok(2)),         // a window of 90 s: 60 s and an older 30 s
        ];
        for (i, (ago, wait, want)) in cases.into_iter().enumerate() {
            let samples: Vec<Sample> = ago.iter().map(|a| sample(NOW - a, "c1", 10.0)).collect();
            let got = window(&samples, &["c1"], NOW, wait).map(|w| w.buckets.len()).map_err(|g| NOW - g.to_ms);
            assert_eq!(got, want, "case {i}");
        }
    }

    #[test]
    fn figures_that_are_not_numbers_are_left_out() {
        let mut bad = sample(NOW - 10_000, "c1", f64::NAN);
        bad.load_1m = f64::INFINITY;
        assert!(window(&[bad], &["c1"], NOW, 60_000).is_err());
    }
}
