//! Server hardening: idle and half-sent connections, the connection cap, per-token request
//! limits, and the accept loop when descriptors run out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use drover_client::ClientError;
use drover_proto::api::{CreateInstance, CreateLayer, CreateStack};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::support::{Options, TestStack, cli_with, eventually};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Raises this test process's soft limit on open files to at least `want` (within the hard limit).
fn raise_open_files_limit(want: u64) {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    assert!(hard >= want, "the hard limit on open files ({hard}) is below the {want} this test needs");
    if soft < want {
        setrlimit(Resource::RLIMIT_NOFILE, want, hard).unwrap();
    }
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let out = std::process::Command::new("getconf").arg("CLK_TCK").output().unwrap();
    let per_second: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    ticks as f64 / per_second
}

fn tls_connector(stack: &TestStack) -> TlsConnector {
    let config = drover_client::tls::pinned_client_config(&stack.fingerprint()).unwrap();
    TlsConnector::from(Arc::new(config))
}

async fn tls_connect(stack: &TestStack, connector: &TlsConnector) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(("127.0.0.1", stack.port)).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    connector.connect(name, tcp).await.unwrap()
}

/// Reads until the server closes the connection (or `timeout`); true if it did.
async fn closed_by_server<S: tokio::io::AsyncRead + Unpin>(stream: &mut S, timeout: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_idle_connections_do_not_stop_heartbeats_or_the_api() {
    raise_open_files_limit(4500);
    let options = Options {
        heartbeat_timeout_secs: 10.0,
        agent_heartbeat_secs: 1.0,
        server_args: args(&["--header-read-timeout-secs", "3"]),
        ..Options::default()
    };
    let stack = TestStack::start_with(options).await;
    stack.create_stack("demo", &[("web", "custom")]);
    let host = stack.create_online_instance("demo", &["web"]);
    let server = stack.server_pid().unwrap();
    let connector = tls_connector(&stack);

    // 900 connections that finish TLS and then say nothing (kept: they are within the idle
    // timeout), 100 that finish TLS and send half a request head, 1,000 that never send a byte
    // (the server drops them after the TLS handshake timeout).
    let mut idle = Vec::new();
    for _ in 0..900 {
        idle.push(tls_connect(&stack, &connector).await);
    }
    let mut half = Vec::new();
    for _ in 0..100 {
        let mut tls = tls_connect(&stack, &connector).await;
        tls.write_all(b"GET /api/v1/stacks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.unwrap();
        tls.flush().await.unwrap();
        half.push(tls);
    }
    // The last one is watched at once, so its close is seen when it happens.
    let half_sent = Instant::now();
    let mut last = half.pop().unwrap();
    assert!(closed_by_server(&mut last, Duration::from_secs(60)).await, "the last half-sent head is still open");
    let last_closed_after = half_sent.elapsed();
    let mut silent = Vec::new();
    for _ in 0..1000 {
        silent.push(TcpStream::connect(("127.0.0.1", stack.port)).await.unwrap());
    }
    let opened = Instant::now();
    let held = open_files(server);
    assert!(held >= 1800, "the server holds the connections ({held} open files)");

    // The API answers, a command runs, heartbeats arrive.
    let before = stack.instance("demo", &host).await.last_heartbeat;
    let status = stack.cli_ok(&["status", "demo"]);
    assert!(status.contains(&host), "{status}");
    let out = stack.cli_ok(&["exec", "--stack", "demo", "--", "echo", "through the crowd"]);
    assert!(out.contains("through the crowd"), "{out}");
    eventually(Duration::from_secs(30), "a newer heartbeat", || async {
        let now = stack.client().instance("demo", &host).await.ok()?.last_heartbeat;
        (now != before).then_some(())
    })
    .await;

    // Half-sent heads are closed after the header-read timeout (3 s), not before.
    for (i, tls) in half.iter_mut().enumerate() {
        assert!(closed_by_server(tls, Duration::from_secs(60)).await, "half-sent head {i} still open");
    }
    assert!(last_closed_after >= Duration::from_secs(3), "closed after {last_closed_after:?}");

    // Past the heartbeat timeout the instance is still online, and a connection that sat idle
    // all along (within the idle timeout) still serves a request.
    tokio::time::sleep(Duration::from_secs(12).saturating_sub(opened.elapsed())).await;
    let instance = stack.instance("demo", &host).await;
    assert_eq!(instance.status, "online", "{instance:?}");
    let mut tls = idle.pop().unwrap();
    let request = format!(
        "GET /api/v1/stacks HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        stack.admin_token()
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(30), tls.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // The silent ones were dropped after the TLS handshake timeout (10 s).
    for (i, tcp) in silent.iter_mut().enumerate().step_by(100) {
        assert!(closed_by_server(tcp, Duration::from_secs(60)).await, "silent connection {i} still open");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_holds_new_connections_until_one_closes() {
    let options = Options { server_args: args(&["--max-connections", "20"]), ..Options::default() };
    let stack = TestStack::start_with(options).await;
    // The start-up probe's connection may still be open (idle, kept alive by its client): drop it.
    let connector = tls_connector(&stack);
    let client = stack.client();
    client.stacks().await.unwrap();

    let mut held = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Fill the cap: each connection counts once its TLS handshake is done.
    while held.len() < 20 && Instant::now() < deadline {
        let tcp = TcpStream::connect(("127.0.0.1", stack.port)).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        match tokio::time::timeout(Duration::from_secs(2), connector.connect(name, tcp)).await {
            Ok(Ok(tls)) => held.push(tls),
            _ => break, // not accepted: the cap is reached
        }
    }
    assert!(held.len() <= 20, "no more than the cap is served at once ({})", held.len());

    // At the cap, a new client is not answered...
    let fresh = stack.client();
    let waited = tokio::time::timeout(Duration::from_secs(3), fresh.stacks()).await;
    assert!(waited.is_err(), "a connection past the cap was served: {waited:?}");
    let log = stack.server_log();
    assert!(log.contains("new ones wait until one closes"), "the cap is logged:\n{log}");

    // ...until connections close.
    drop(held);
    drop(client);
    let fresh = stack.client();
    tokio::time::timeout(Duration::from_secs(60), fresh.stacks()).await.unwrap().unwrap();
}

/// Calls `call` until it is not refused with 429, waiting as the server says (bounded).
async fn patiently<T, F, Fut>(mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    for _ in 0..60 {
        match call().await {
            Ok(v) => return v,
            Err(e) if e.status() == Some(429) => {
                tokio::time::sleep(e.retry_after().unwrap_or(Duration::from_secs(1))).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
    panic!("refused with 429 sixty times in a row");
}

/// An agent's request goes through. The agent shares its credential's bucket, and on a starved
/// machine its delayed heartbeats and reports may land together and spend it: then one wait of
/// its Retry-After.
async fn unfinished_past_own_bucket(agent: &drover_client::AgentClient) {
    match agent.unfinished().await {
        Ok(_) => {}
        Err(drover_client::ClientError::Api { status: 429, retry_after, .. }) => {
            eprintln!("the agent's own traffic spent its bucket; retrying after {retry_after:?}");
            tokio::time::sleep(retry_after.unwrap_or(Duration::from_secs(1))).await;
            agent.unfinished().await.unwrap();
        }
        Err(e) => panic!("the agent's request failed: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_over_the_rate_limit_gets_429_and_other_tokens_are_unaffected() {
    let options = Options {
        server_args: args(&["--rate-limit-per-second", "1", "--rate-limit-burst", "10"]),
        ..Options::default()
    };
    let stack = TestStack::start_with(options).await;
    let client = stack.client();
    // From JSON, as a client sends them (the wire types have no defaults of their own).
    let create: CreateStack = serde_json::from_value(serde_json::json!({"name": "demo"})).unwrap();
    patiently(|| client.create_stack(&create)).await;
    let layer: CreateLayer = serde_json::from_value(serde_json::json!({"shortname": "web", "type": "custom"})).unwrap();
    patiently(|| client.create_layer("demo", &layer)).await;
    let request: CreateInstance = serde_json::from_value(serde_json::json!({"layers": ["web"]})).unwrap();
    let host = patiently(|| client.create_instance("demo", &request)).await.hostname;
    eventually(crate::ONLINE_WAIT, "the instance to be online", || async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        client.instance("demo", &host).await.ok().filter(|i| i.status == "online")
    })
    .await;

    // A full bucket (10 s at 1 per second), then 40 requests at once with the admin token.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(drover_client::tls::pinned_client_config(&stack.fingerprint()).unwrap())
        .build()
        .unwrap();
    let admin = stack.admin_token();
    let started = Instant::now();
    let answers = futures_join_all(
        (0..40).map(|_| http.get(format!("{}/api/v1/stacks", stack.url())).bearer_auth(&admin).send()),
    )
    .await;
    let took = started.elapsed().as_secs_f64();
    let mut allowed = 0;
    let mut refused = Vec::new();
    for answer in answers {
        let answer = answer.unwrap();
        match answer.status().as_u16() {
            200 => allowed += 1,
            429 => refused.push(answer),
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(allowed >= 10, "the burst is allowed ({allowed})");
    assert!((allowed as f64) <= 10.0 + took.ceil() + 1.0, "{allowed} allowed in {took:.1} s");
    let answer = refused.pop().expect("some requests were refused");
    let retry_after: u64 = answer.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "Retry-After: {retry_after}");
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("retry in"), "{message}");

    // Another token (the instance's agent credential) is unaffected, while the admin's stays
    // spent.
    let agent = stack.agent_client("demo", &host);
    unfinished_past_own_bucket(&agent).await;

    // The CLI says what happened (a stalled machine may refill the bucket first: burst again).
    let mut shown = None;
    for _ in 0..5 {
        let _ = futures_join_all((0..20).map(|_| {
            let client = client.clone();
            async move { client.stacks().await.is_ok() }
        }))
        .await;
        let out = cli_with(&stack.url(), &admin, &["stack", "list"]);
        if out.status.code() == Some(1) {
            shown = Some(String::from_utf8_lossy(&out.stderr).into_owned());
            break;
        }
    }
    let stderr = shown.expect("the CLI was refused with 429 after a burst");
    assert!(stderr.contains("too many requests") && stderr.contains("hint:"), "{stderr}");

    // Requests without a token are limited by their address; a known token from the same
    // address is not.
    let answers = futures_join_all((0..40).map(|_| http.get(format!("{}/api/v1/stacks", stack.url())).send())).await;
    let statuses: Vec<u16> = answers.into_iter().map(|a| a.unwrap().status().as_u16()).collect();
    assert!(statuses.iter().all(|s| [401, 429].contains(s)), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    unfinished_past_own_bucket(&agent).await;

    // The trail shows the throttling: once per token or address and minute, not once per refusal.
    let trail = patiently(|| client.audit(None, None, None, 1000)).await;
    let throttled: Vec<_> = trail.iter().filter(|e| e.status == 429).collect();
    assert!(
        throttled.iter().any(|e| e.actor == "admin" && e.outcome.contains("over the rate limit")),
        "the admin token's refusals: {throttled:#?}"
    );
    assert!(throttled.iter().any(|e| e.actor == "anonymous"), "the tokenless address's: {throttled:#?}");
    assert!(throttled.len() <= 4, "one entry per token or address and minute: {throttled:#?}");
}

/// Runs futures concurrently and collects their outputs in order.
async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let tasks: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accept_loop_pauses_when_descriptors_run_out() {
    // A cap above the descriptors, as an operator who set one too high would have.
    let options = Options {
        server_wrapper: args(&["prlimit", "--nofile=96:96", "--"]),
        server_args: args(&["--max-connections", "4096"]),
        ..Options::default()
    };
    let stack = TestStack::start_with(options).await;
    let server = stack.server_pid().unwrap();
    let limits = std::fs::read_to_string(format!("/proc/{server}/limits")).unwrap();
    assert!(limits.lines().any(|l| l.starts_with("Max open files") && l.contains(" 96 ")), "{limits}");

    // More connections than descriptors: the server accepts until it has none left; the rest
    // wait in the backlog while accepting fails.
    let mut held = Vec::new();
    for _ in 0..300 {
        held.push(TcpStream::connect(("127.0.0.1", stack.port)).await.unwrap());
    }
    eventually(Duration::from_secs(30), "accepting to fail", || async {
        stack.server_log().contains("failed to accept a connection").then_some(())
    })
    .await;
    let (cpu, wall) = (cpu_seconds(server), Instant::now());
    tokio::time::sleep(Duration::from_secs(4)).await;
    let used = (cpu_seconds(server) - cpu) / wall.elapsed().as_secs_f64();
    // Paused, it uses almost nothing (0.2% measured); spinning, it took 40% of a core on a
    // machine shared with builds, and all of one otherwise.
    assert!(used < 0.15, "the server used {:.0}% of a core while it could not accept", used * 100.0);
    // Logged once when a burst of failures starts and once when it ends, not per failure.
    let log = stack.server_log();
    let (starts, ends) =
        (log.matches("pausing between tries").count(), log.matches("accepting connections again").count());
    assert!(starts >= 1 && starts <= ends + 1, "{starts} bursts began, {ends} ended:\n{log}");

    // Once the connections close, it answers again.
    drop(held);
    let client = stack.client();
    eventually(Duration::from_secs(60), "the server to answer again", || async { client.stacks().await.ok() }).await;
}
