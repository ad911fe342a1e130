//! HTTP through a frontend, as a site's visitors make it: a bounded, paced load that counts
//! every failed request, and HAProxy's view of its backend from the stats page.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).no_proxy().build().unwrap()
}

/// HAProxy's view of the backend, through the stats page: server name → status.
pub async fn backend(stats_url: &str, user: &str, password: &str) -> Option<Vec<(String, String)>> {
    let csv =
        http().get(format!("{stats_url};csv")).basic_auth(user, Some(password)).send().await.ok()?.text().await.ok()?;
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next()?.trim_start_matches("# ").split(',').collect();
    let (sv, st) = (header.iter().position(|h| *h == "svname")?, header.iter().position(|h| *h == "status")?);
    Some(
        lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f.first() == Some(&"plone") && !matches!(f.get(sv), Some(&"BACKEND" | &"FRONTEND")))
            .map(|f| (f[sv].to_owned(), f[st].to_owned()))
            .collect(),
    )
}

pub async fn site(url: &str) -> Option<Value> {
    let resp = http().get(url).send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json().await.ok()
}

pub struct Load {
    pub ok: usize,
    pub failed: Vec<String>,
    pub latencies: Vec<Duration>,
}

/// How hard [`load`] pushes: workers at once, and each one's pause between requests.
#[derive(Clone, Copy)]
pub struct Pace {
    pub workers: usize,
    pub pause: Duration,
}

/// Four workers, 10 ms apart: a few hundred requests a second through a frontend.
pub const PACED: Pace = Pace { workers: 4, pause: Duration::from_millis(10) };

/// Two workers, 200 ms apart: about ten requests a second, which leave the CPU nearly idle.
pub const LIGHT: Pace = Pace { workers: 2, pause: Duration::from_millis(200) };

/// Requests through nginx at fixed concurrency, paced, until `stop` is set (bounded by `max`
/// requests and `limit` in time).
pub async fn load(url: String, stop: Arc<AtomicBool>, pace: Pace, max: usize, limit: Duration) -> Load {
    let began = Instant::now();
    let client = http();
    let per_worker = max / pace.workers.max(1);
    let workers: Vec<_> = (0..pace.workers)
        .map(|_| {
            let (client, url, stop) = (client.clone(), url.clone(), stop.clone());
            tokio::spawn(async move {
                let mut out = Load { ok: 0, failed: Vec::new(), latencies: Vec::new() };
                while !stop.load(Ordering::Relaxed) && out.ok + out.failed.len() < per_worker && began.elapsed() < limit
                {
                    let t = Instant::now();
                    match client.get(&url).send().await {
                        Ok(r) if r.status().is_success() => out.ok += 1,
                        Ok(r) => out.failed.push(format!("HTTP {}", r.status())),
                        Err(e) => out.failed.push(e.to_string()),
                    }
                    out.latencies.push(t.elapsed());
                    tokio::time::sleep(pace.pause).await;
                }
                out
            })
        })
        .collect();
    let mut all = Load { ok: 0, failed: Vec::new(), latencies: Vec::new() };
    for w in workers {
        let part = w.await.unwrap();
        all.ok += part.ok;
        all.failed.extend(part.failed);
        all.latencies.extend(part.latencies);
    }
    all
}
