//! Celery: a `celery_broker` instance runs Redis; with `enable_celery` every client instance runs
//! the buildout's worker, and `celerybeat` runs on one instance of the stack. A task queued on a
//! client through Redis is run by a worker and writes through ZEO; when the beat instance stops,
//! beat moves to the other client instance within one Configure.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{TestStack, client_status, eventually};

const WAIT: Duration = Duration::from_secs(180);

/// Whether Redis at `address` answers PING.
async fn pong(address: &str) -> Option<()> {
    let mut conn = tokio::net::TcpStream::connect(address).await.ok()?;
    conn.write_all(b"PING\r\n").await.ok()?;
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf)).await.ok()?.ok()?;
    buf[..n].starts_with(b"+PONG").then_some(())
}

fn alive(pid: Option<i32>) -> bool {
    pid.is_some_and(|p| nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None).is_ok())
}

/// POST /celery to a demo client: queues `demoapp.increment` through the broker.
async fn queue_task(address: &str) -> Option<()> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).no_proxy().build().ok()?;
    let resp = http.post(format!("http://{address}/celery")).send().await.ok()?;
    (resp.status() == 202).then_some(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_task_runs_through_redis_and_zeo_and_beat_moves_when_its_instance_stops() {
    let stack = TestStack::start().await;
    stack.create_stack(
        "demo",
        &[("celery_broker", "celery_broker"), ("zeoserver", "zeoserver"), ("clients", "plone_instances")],
    );
    let doc = json!({
        "plone_instances": {"per_cpu": 1, "enable_celery": true, "celerybeat": true, "healthy_deadline": 120},
        "deploy": {"site": {"buildout_extends": ["cfg/celery.cfg"]}}
    });
    let path = stack.data_dir().join("stack.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    stack.cli_ok(&["stack", "set-json", "--stack", "demo", path.to_str().unwrap()]);

    // The broker: Redis on the instance's address, its config private, its data in the instance.
    let broker = stack.create_online_instance("demo", &["celery_broker"]);
    let broker_address = stack.instance("demo", &broker).await.address.unwrap();
    let redis = format!("{broker_address}:6379");
    eventually(WAIT, "Redis to answer on the broker's address", || pong(&redis)).await;
    let shared = stack.instance_root("demo", &broker).join("srv/www/.broker/shared");
    let conf = std::fs::read_to_string(shared.join("redis.conf")).unwrap();
    assert!(conf.lines().any(|l| l == format!("bind {broker_address}")), "{conf}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(shared.join("redis.conf")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    stack.create_online_instance("demo", &["zeoserver"]);
    let web1 = stack.create_online_instance_with("demo", &["clients"], &["--cpu-count", "1"]);
    let web2 = stack.create_online_instance_with("demo", &["clients"], &["--cpu-count", "1"]);
    stack.create_demo_app("demo", &["zeoserver", "clients"]);
    let out = stack.cli(&["deploy", "--stack", "demo", "site", "--wait", "--timeout", "900"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let releases = stack.client().releases("demo", "site").await.unwrap();
    let cfg = &releases.iter().find(|r| r.instance == web2 && r.current).unwrap().deploy_cfg;
    assert!(cfg.contains(&format!("[celery-broker]\nhost = {broker_address}\nport = 6379")), "{cfg}");

    // A worker on each client instance; beat on the one online the longest only.
    let pid = |host: &str, service: &str| stack.service_pid("demo", host, service);
    assert!(alive(pid(&web1, "celery")) && alive(pid(&web2, "celery")), "a worker on each client instance");
    assert!(alive(pid(&web1, "celerybeat")), "beat runs on {web1}, online the longest");
    assert!(!alive(pid(&web2, "celerybeat")), "beat runs on one instance only");

    // A task queued on web2's client through Redis runs in a worker and writes through ZEO: web1's
    // client sees it.
    let (c1, c2) = (
        format!("{}:8081", stack.instance("demo", &web1).await.address.unwrap()),
        format!("{}:8081", stack.instance("demo", &web2).await.address.unwrap()),
    );
    eventually(WAIT, "web2's client to queue a task", || queue_task(&c2)).await;
    eventually(WAIT, "the task's write through ZEO", || async {
        client_status(&c1).await.filter(|s| s["celery_hits"].as_i64() >= Some(1))
    })
    .await;
    // Beat's schedule runs too (its task writes through ZEO every second).
    eventually(WAIT, "beat's ticks", || async {
        client_status(&c2).await.filter(|s| s["beat_ticks"].as_i64() >= Some(2))
    })
    .await;

    // The beat instance stops: one Configure later beat runs on web2, and its ticks go on.
    let old_beat = pid(&web1, "celerybeat");
    stack.cli_ok(&["instance", "stop", "--stack", "demo", &web1, "--wait", "--timeout", "300"]);
    assert!(!alive(old_beat), "the stopped instance's beat is gone");
    eventually(WAIT, "beat to move to web2", || async { alive(pid(&web2, "celerybeat")).then_some(()) }).await;
    let before = client_status(&c2).await.unwrap()["beat_ticks"].as_i64().unwrap();
    eventually(WAIT, "beat's ticks from web2", || async {
        client_status(&c2).await.filter(|s| s["beat_ticks"].as_i64() >= Some(before + 2))
    })
    .await;
    // And tasks still run, on web2's worker alone.
    eventually(WAIT, "a second task queued", || queue_task(&c2)).await;
    eventually(WAIT, "the second task's write", || async {
        client_status(&c2).await.filter(|s| s["celery_hits"].as_i64() >= Some(2))
    })
    .await;
}
