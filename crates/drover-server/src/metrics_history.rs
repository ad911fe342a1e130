//! Recent heartbeat metrics per instance, in memory, for load-based scaling.
//!
//! The store keeps only an instance's latest heartbeat; a layer's load rule averages over up to
//! 100 minutes (OpsWorks' longest `thresholds_wait`). Each instance gets a bounded ring:
//! samples older than [`KEEP_MS`] are pruned, and heartbeats closer than [`MIN_SPACING_MS`] to
//! the newest kept sample are averaged into it, so an agent that reports every second costs no
//! more than one that reports every 5 s, and the ring never holds more than [`MAX_SAMPLES`].
//!
//! The history is lost with a server restart: a load rule then holds until it has a whole wait
//! window of new metrics (core `scaling::load::window` treats the missing minutes as a gap).
//! A ring is tied to the instance's id and creation time, so an id SQLite hands out again after a
//! delete never inherits an old instance's metrics.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use drover_proto::agent::Heartbeat;

/// The longest wait window (100 minutes) and one bucket more, so a window ending now is whole.
pub const KEEP_MS: i64 = 101 * 60_000;

/// Heartbeats closer together than this are averaged into one sample.
pub const MIN_SPACING_MS: i64 = 5_000;

/// The most samples kept per instance: [`KEEP_MS`] at [`MIN_SPACING_MS`], and some slack.
pub const MAX_SAMPLES: usize = (KEEP_MS / MIN_SPACING_MS) as usize + 8;

/// One kept sample: a heartbeat's figures, or the mean of heartbeats close together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// When its first heartbeat arrived (Unix ms).
    pub at_ms: i64,
    /// CPU use, percent.
    pub cpu_percent: f64,
    /// Memory use, percent.
    pub memory_percent: f64,
    /// 1-minute load average.
    pub load_1m: f64,
    /// How many heartbeats it averages.
    merged: u32,
}

impl Point {
    /// A point of one heartbeat.
    pub fn new(at_ms: i64, cpu_percent: f64, memory_percent: f64, load_1m: f64) -> Self {
        Self { at_ms, cpu_percent, memory_percent, load_1m, merged: 1 }
    }

    fn merge(&mut self, other: &Point) {
        let n = f64::from(self.merged);
        let mean = |a: f64, b: f64| (a * n + b) / (n + 1.0);
        self.cpu_percent = mean(self.cpu_percent, other.cpu_percent);
        self.memory_percent = mean(self.memory_percent, other.memory_percent);
        self.load_1m = mean(self.load_1m, other.load_1m);
        self.merged += 1;
    }
}

#[derive(Debug, Default)]
struct Ring {
    created_at: i64,
    points: VecDeque<Point>,
}

impl Ring {
    fn prune(&mut self, now_ms: i64) {
        while self.points.front().is_some_and(|p| p.at_ms <= now_ms - KEEP_MS) {
            self.points.pop_front();
        }
    }
}

/// Every instance's recent metrics. The lock is never held across an `.await`.
#[derive(Debug, Default)]
pub struct MetricsHistory {
    rings: Mutex<HashMap<i64, Ring>>,
}

impl MetricsHistory {
    fn rings(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Ring>> {
        self.rings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a heartbeat of instance `id` (created at `created_at`) that arrived at `point.at_ms`.
    /// Figures that are not numbers are left out.
    pub fn record(&self, id: i64, created_at: i64, point: Point) {
        if ![point.cpu_percent, point.memory_percent, point.load_1m].iter().all(|v| v.is_finite()) {
            return;
        }
        let mut rings = self.rings();
        let ring = rings.entry(id).or_default();
        if ring.created_at != created_at {
            *ring = Ring { created_at, points: VecDeque::new() };
        }
        ring.prune(point.at_ms);
        match ring.points.back_mut() {
            // A heartbeat that arrived out of order is merged too, so the ring stays in time order.
            Some(last) if point.at_ms - last.at_ms < MIN_SPACING_MS => last.merge(&point),
            _ => ring.points.push_back(point),
        }
        while ring.points.len() > MAX_SAMPLES {
            ring.points.pop_front();
        }
    }

    /// Records a heartbeat (checked already) that arrived at `at_ms`.
    pub fn record_heartbeat(&self, id: i64, created_at: i64, hb: &Heartbeat, at_ms: i64) {
        self.record_sample(id, created_at, at_ms, hb.cpu_percent, hb.memory_percent, hb.load_1m);
    }

    /// Records one heartbeat's metrics (received here or by another server).
    pub fn record_sample(&self, id: i64, created_at: i64, at_ms: i64, cpu: f64, memory: f64, load_1m: f64) {
        self.record(id, created_at, Point::new(at_ms, cpu, memory, load_1m));
    }

    /// Instance `id`'s samples after `since_ms`, oldest first (none for another instance that
    /// had the same id).
    pub fn since(&self, id: i64, created_at: i64, since_ms: i64) -> Vec<Point> {
        let rings = self.rings();
        match rings.get(&id) {
            Some(ring) if ring.created_at == created_at => {
                ring.points.iter().filter(|p| p.at_ms > since_ms).copied().collect()
            }
            _ => Vec::new(),
        }
    }

    /// Forgets the instances not in `existing` (id, created at), and samples older than
    /// [`KEEP_MS`] everywhere.
    pub fn retain(&self, existing: &[(i64, i64)], now_ms: i64) {
        let mut rings = self.rings();
        rings.retain(|id, ring| existing.contains(&(*id, ring.created_at)));
        for ring in rings.values_mut() {
            ring.prune(now_ms);
        }
        rings.retain(|_, ring| !ring.points.is_empty());
    }

    /// How many instances have samples.
    #[cfg(test)]
    pub fn instances(&self) -> usize {
        self.rings().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_000_000_000;

    fn cpu(points: &[Point]) -> Vec<f64> {
        points.iter().map(|p| p.cpu_percent).collect()
    }

    #[test]
    fn heartbeats_close_together_are_averaged() {
        let history = MetricsHistory::default();
        // (ms after T0, cpu): the first three within 5 s of the first, then one 6 s later
        for (at, c) in [(0, 10.0), (1_000, 20.0), (4_999, 60.0), (6_000, 50.0)] {
            history.record(1, 7, Point::new(T0 + at, c, 40.0, 1.0));
        }
        let points = history.since(1, 7, 0);
        assert_eq!(cpu(&points), [30.0, 50.0]);
        assert_eq!(points[0].at_ms, T0);
        assert_eq!(cpu(&history.since(1, 7, T0)), [50.0], "since is exclusive");
    }

    #[test]
    fn old_samples_are_pruned_and_the_ring_is_bounded() {
        let history = MetricsHistory::default();
        history.record(1, 7, Point::new(T0, 1.0, 0.0, 0.0));
        history.record(1, 7, Point::new(T0 + KEEP_MS, 2.0, 0.0, 0.0));
        assert_eq!(cpu(&history.since(1, 7, 0)), [2.0], "the sample of KEEP_MS ago is gone");

        // A heartbeat every 5 s for longer than KEEP_MS keeps at most MAX_SAMPLES, the newest.
        let many = (2 * KEEP_MS / MIN_SPACING_MS) as usize;
        for i in 0..many {
            history.record(2, 7, Point::new(T0 + i as i64 * MIN_SPACING_MS, i as f64, 0.0, 0.0));
        }
        let points = history.since(2, 7, 0);
        assert!(points.len() <= MAX_SAMPLES, "{}", points.len());
        assert_eq!(points.last().unwrap().cpu_percent, (many - 1) as f64);
        assert!(points[0].at_ms > points.last().unwrap().at_ms - KEEP_MS);
    }

    #[test]
    fn deleted_instances_and_reused_ids_are_forgotten() {
        let history = MetricsHistory::default();
        history.record(1, 7, Point::new(T0, 10.0, 0.0, 0.0));
        history.record(2, 7, Point::new(T0, 20.0, 0.0, 0.0));
        // Id 1 was deleted and handed out again to an instance created at 9.
        assert!(history.since(1, 9, 0).is_empty());
        history.record(1, 9, Point::new(T0 + 10_000, 30.0, 0.0, 0.0));
        assert_eq!(cpu(&history.since(1, 9, 0)), [30.0]);
        assert!(history.since(1, 7, 0).is_empty());

        // Instance 2 is deleted.
        history.retain(&[(1, 9)], T0 + 20_000);
        assert_eq!(history.instances(), 1);
        assert!(history.since(2, 7, 0).is_empty());
        // Everything ages out.
        history.retain(&[(1, 9)], T0 + 10_000 + KEEP_MS);
        assert_eq!(history.instances(), 0);
    }

    #[test]
    fn figures_that_are_not_numbers_are_not_kept() {
        let history = MetricsHistory::default();
        history.record(1, 7, Point::new(T0, f64::NAN, 0.0, 0.0));
        history.record(1, 7, Point::new(T0, 1.0, 0.0, f64::INFINITY));
        assert!(history.since(1, 7, 0).is_empty());
    }
}
