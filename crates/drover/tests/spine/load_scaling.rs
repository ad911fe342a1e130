//! Load-based scaling, end to end, on a real site: a ZEO server, a 24/7 client instance and a
//! stopped load-based one with the demo app, behind a frontend's nginx and HAProxy. Real CPU load
//! on the online client, made through `drover exec`, starts the load-based instance: it runs
//! Setup, builds the app's pinned commit and joins HAProxy's backend. When the load ends, it is
//! drained and stopped. A light HTTP load through the frontend runs all along and sees no failed
//! request. Each start and stop is an event that says why.
//!
//! Local instances share this machine, so each reports the machine's CPU. The load is one busy
//! loop per CPU (bounded by `timeout` and ended by a file the test writes), which holds the
//! machine near 100 %. The rule starts an instance above 80 % and stops one below 50 %: an
//! otherwise idle machine, even a 2-core one running a server, five agents and the site, stays
//! well under 50 %, and the test waits for a quiet minute before the load so that the start is
//! this load's doing. The load average is left out of the rule: it lags the load by minutes and
//! counts every other process of a CI machine. Other tests load the CPU too, so this one is
//! ignored in the main run and run alone by `scripts/test.sh`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use drover_proto::layer_scaling::LayerScaling;
use serde_json::json;

use crate::ONLINE_WAIT;
use crate::http_load::{LIGHT, load, site};
use crate::support::{TestStack, drover_bin, eventually};

/// Long enough for a whole wait window of load, the start, Setup and a build on a loaded
/// machine, and the ignore time and a window of quiet before the stop, with room to spare.
const SCALE_WAIT: Duration = Duration::from_secs(420);

/// The most the HTTP load may run.
const HTTP_LOAD_MAX: Duration = Duration::from_secs(1500);

/// How long to wait for other processes to leave the CPU alone before loading it.
const QUIET_WAIT: Duration = Duration::from_secs(180);

/// The busy loops' bound, should the test die before it ends them.
const LOAD_MAX_SECS: u64 = 240;

/// The CPU load: the `drover exec` process that runs it, and the file that ends it. Dropping it
/// ends the load and the process (by its pid), whatever happened in the test.
struct Load {
    stop_file: PathBuf,
    cli: Option<Child>,
}

impl Load {
    fn start(stack: &TestStack, host: &str) -> Self {
        let stop_file = stack.dir.path().join("end-load");
        let script = format!(
            "for i in $(seq $(nproc)); do timeout {LOAD_MAX_SECS} sh -c 'while [ ! -e \"$0\" ]; do :; done' \"$1\" & \
             done; wait"
        );
        let cli = Command::new(drover_bin())
            .args(["exec", "--stack", "demo", "--instance", host, "--", "sh", "-c", &script, "load"])
            .arg(&stop_file)
            .env("DROVER_SERVER", stack.url())
            .env("DROVER_TOKEN", stack.admin_token())
            .env("HOME", "/nonexistent")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Self { stop_file, cli: Some(cli) }
    }

    /// Ends the load; the exec's output once it returned.
    fn end(&mut self) -> Option<std::process::Output> {
        let _ = std::fs::write(&self.stop_file, "");
        let mut cli = self.cli.take()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if cli.try_wait().ok()?.is_some() {
                return cli.wait_with_output().ok();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = cli.kill();
        let _ = cli.wait();
        None
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.stop_file, "");
        if let Some(mut cli) = self.cli.take() {
            let _ = cli.kill();
            let _ = cli.wait();
        }
    }
}

fn scaling(stack: &TestStack, args: &[&str]) -> LayerScaling {
    let mut all = vec!["layer", "scaling", "--stack", "demo", "clients", "--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&stack.cli_ok(&all)).unwrap()
}

/// The servers HAProxy on every online frontend has UP, as the frontends' agents report them.
async fn serving(stack: &TestStack) -> Option<Vec<String>> {
    let backends = stack.client().frontend_backends("demo").await.ok()?;
    let first = backends.first()?;
    Some(first.servers.iter().filter(|s| s.status.as_deref() == Some("UP")).map(|s| s.server.clone()).collect())
}

async fn event(stack: &TestStack, kind: &str, host: &str) -> String {
    eventually(Duration::from_secs(10), &format!("a {kind} event for {host}"), || async {
        let events = stack.client().events("demo", None, Duration::ZERO, 100).await.ok()?;
        events.into_iter().find(|e| e.kind == kind && e.instance.as_deref() == Some(host)).map(|e| e.message)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "loads the CPU for minutes: run alone with `cargo test -p drover --test spine load_scaling -- --ignored`"]
async fn cpu_load_starts_a_load_based_client_behind_haproxy_and_its_end_drains_and_stops_it() {
    let began = Instant::now();
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver"), ("clients", "plone_instances"), ("web", "frontend")]);
    let doc = json!({"plone_instances": {"per_cpu": 1, "healthy_deadline": 120}, "haproxy": {"check_interval": 1000}});
    let path = stack.data_dir().join("stack.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    stack.cli_ok(&["stack", "set-json", "--stack", "demo", path.to_str().unwrap()]);
    stack.create_online_instance("demo", &["zeoserver"]);
    let cpus = ["--cpu-count", "1"];
    let base = stack.create_online_instance_with("demo", &["clients"], &cpus);
    let extra = stack.create_online_instance_with("demo", &["clients"], &cpus);
    stack.create_online_instance("demo", &["web"]);
    stack.create_demo_app("demo", &["zeoserver", "clients"]);
    stack.cli_ok(&["deploy", "--stack", "demo", "site", "--wait", "--timeout", "900"]);
    let pinned = stack.client().app("demo", "site").await.unwrap().pinned.expect("the deploy pinned a commit").commit;
    stack.cli_ok(&["instance", "update", "--stack", "demo", &extra, "--scaling", "load"]);
    stack.cli_ok(&["instance", "stop", "--stack", "demo", &extra]);
    stack.wait_status("demo", &extra, "stopped", ONLINE_WAIT).await;
    let url = stack.client().frontends("demo").await.unwrap()[0].url.clone();
    let only_base = eventually(ONLINE_WAIT, "HAProxy serving from the 24/7 client only", || async {
        serving(&stack).await.filter(|up| !up.is_empty() && up.iter().all(|s| s.starts_with(&format!("{base}-"))))
    })
    .await;
    eventually(ONLINE_WAIT, "the site through the frontend", || site(&url)).await;

    // A rule, off; then a wrong change is refused, naming the field, and changes nothing.
    let rule = ["--up", "cpu=80", "--down", "cpu=50", "--thresholds-wait", "1m", "--ignore-metrics", "1m"];
    let off = scaling(&stack, &rule);
    assert!(!off.enabled);
    assert_eq!((off.rule.thresholds_wait_secs, off.rule.ignore_metrics_secs), (60, 60));
    let out = stack.cli(&["layer", "scaling", "--stack", "demo", "clients", "--enable", "--down", "cpu=85"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("down.cpu") && stderr.contains("not below up.cpu"), "{stderr}");
    let unchanged = scaling(&stack, &[]);
    assert_eq!((unchanged.enabled, unchanged.rule), (false, off.rule));
    let on = scaling(&stack, &["--enable"]);
    assert!(on.enabled);
    assert_eq!(on.rule.down.cpu, Some(50.0));

    // Visitors from now to the end: a light load that must never see a failed request.
    let stop_http = Arc::new(AtomicBool::new(false));
    let visitors = tokio::spawn(load(url.clone(), stop_http.clone(), LIGHT, 20_000, HTTP_LOAD_MAX));

    // Only on a quiet machine does the start below prove that this load caused it.
    let calm = eventually(QUIET_WAIT, "the machine to be quiet (the layer's cpu under 50 % for a minute)", || async {
        // Through the API: a CLI process every 100 ms would load the CPU itself.
        let shown = stack.client().layer_scaling("demo", "clients").await.ok()?;
        shown.averages.filter(|a| a.window_secs >= 60 && a.cpu_percent < 50.0)
    })
    .await;
    assert_eq!(stack.instance("demo", &extra).await.status, "stopped", "nothing started it before the load");

    // Load on the online client starts the load-based one: Setup, the pinned commit, the backend.
    let mut load_cpu = Load::start(&stack, &base);
    let loaded = Instant::now();
    stack.wait_status("demo", &extra, "online", SCALE_WAIT).await;
    let up_after = loaded.elapsed();
    let up = event(&stack, "scaled_up", &extra).await;
    assert!(up.contains("cpu") && up.contains("> 80 %") && up.contains(&format!("starting {extra}")), "{up}");
    assert!(up.contains(&base), "the reason names who reported: {up}");
    let shown = scaling(&stack, &[]);
    assert!(shown.last_action_at.is_some(), "{shown:?}");
    let status = stack.client().stack_status("demo").await.unwrap();
    let in_status = status.load_scaling.iter().find(|l| l.layer == "clients").expect("the layer's rule in status");
    assert!(in_status.enabled, "{in_status:?}");
    let joined = eventually(SCALE_WAIT, "the started client serving in HAProxy's backend", || async {
        serving(&stack).await.filter(|up| up.iter().any(|s| s.starts_with(&format!("{extra}-"))))
    })
    .await;
    let serving_after = loaded.elapsed();
    let releases = stack.client().releases("demo", "site").await.unwrap();
    let built = releases.iter().find(|r| r.instance == extra && r.current).expect("a release on the started client");
    assert_eq!(built.sha, pinned, "the started client builds the pinned commit");

    // The load ends: after the ignore time and a quiet window, it is drained and stopped again.
    let exec = load_cpu.end().expect("the exec returns once the load ends");
    assert!(exec.status.success(), "{}", String::from_utf8_lossy(&exec.stdout));
    let quiet = Instant::now();
    stack.wait_status("demo", &extra, "stopped", SCALE_WAIT).await;
    let down_after = quiet.elapsed();
    let down = event(&stack, "scaled_down", &extra).await;
    assert!(down.contains("< 50 %") && down.contains(&format!("stopping {extra}")), "{down}");
    assert_eq!(stack.instance("demo", &base).await.status, "online", "the 24/7 instance stays");
    eventually(ONLINE_WAIT, "the stopped client gone from HAProxy's backend", || async {
        serving(&stack).await.filter(|up| !up.is_empty() && !up.iter().any(|s| s.starts_with(&format!("{extra}-"))))
    })
    .await;
    // A few more seconds of visitors on the site as it is now.
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop_http.store(true, Ordering::Relaxed);
    let visited = visitors.await.unwrap();
    assert!(
        visited.failed.is_empty(),
        "{} failed requests, e.g. {:?}",
        visited.failed.len(),
        &visited.failed[..visited.failed.len().min(5)]
    );
    assert!(visited.ok > 100, "the visitors' load ran: {} requests", visited.ok);
    let kinds: Vec<String> = stack
        .client()
        .events("demo", None, Duration::ZERO, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind.starts_with("scaled_"))
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["scaled_up", "scaled_down"]);
    eprintln!(
        "load_scaling: cpu {:.0} % before the load; started {up_after:.0?} after the load began, serving in \
         HAProxy {serving_after:.0?} after it began ({joined:?}, before: {only_base:?}); stopped {down_after:.0?} \
         after it ended; {} requests, none failed; whole test {:.0?}\n  up: {up}\n  down: {down}",
        calm.cpu_percent,
        visited.ok,
        began.elapsed()
    );
}
