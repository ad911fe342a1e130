//! `drover logs`: service logs streamed from the agents (`--follow` shows a client's new line
//! quickly and Ctrl-C stops the agents' streams), `--since` and `--service` filter, and the
//! supervisor's log files are rotated by size keeping `logs.keep` copies.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{TestStack, cli_command, cli_with, client_status, eventually};

const WAIT: Duration = Duration::from_secs(120);

/// POST /log to a demo client: it prints the text to its output (its service log).
async fn client_log(address: &str, text: &str) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).no_proxy().build().unwrap();
    let answer = http.post(format!("http://{address}/log")).body(text.to_owned()).send().await.unwrap();
    assert!(answer.status().is_success(), "POST /log: {}", answer.status());
}

/// `drover logs` lines as JSON objects.
fn json_lines(stack: &TestStack, args: &[&str]) -> Vec<Value> {
    let out = stack.cli_ok(args);
    out.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// Waits for a line containing `text` from a followed `drover logs`; returns it and when it came.
fn wait_line(lines: &mpsc::Receiver<String>, text: &str, timeout: Duration) -> (String, Instant) {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(text) => return (line, Instant::now()),
            Ok(_) => {}
            Err(e) => panic!("no line with {text:?} from drover logs --follow within {timeout:?}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_filter_by_time_and_service_and_rotate_by_size() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver"), ("clients", "plone_instances")]);
    // A tiny rotation size, in force from the instance's Setup on.
    let file = stack.dir.path().join("logs.json");
    std::fs::write(&file, json!({"logs": {"max_size": "4k", "keep": 2}}).to_string()).unwrap();
    stack.cli_ok(&["stack", "set-json", "--stack", "demo", file.to_str().unwrap()]);
    stack.create_zeo_and_client_instance("demo");
    let address = stack.instance("demo", "zeoserver1").await.address.unwrap();
    let (c1, c2) = (format!("{address}:8081"), format!("{address}:8082"));
    stack.create_demo_app("demo", &["clients"]);
    stack.cli_ok(&["deploy", "--stack", "demo", "site", "--wait"]);
    eventually(WAIT, "client1", || client_status(&c1)).await;
    eventually(WAIT, "client2", || client_status(&c2)).await;

    // --follow: a client's new line shows, prefixed with its instance and service.
    let mut follow = cli_command(
        &stack.url(),
        &stack.admin_token(),
        &["logs", "--stack", "demo", "--service", "client1", "--follow", "--follow-for", "10m"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let (tx, lines) = mpsc::channel();
    let stdout = follow.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The history comes first (the client's start line), then the stream is live.
    let (first, _) = wait_line(&lines, "client1 serving on", WAIT);
    assert!(first.starts_with("zeoserver1/client1 | "), "{first}");
    // The agent follows once it has sent the history: give the deployment a moment to be live.
    let logs_deployment = eventually(WAIT, "the logs deployment to run", || async {
        let deployments = stack.client().deployments("demo").await.ok()?;
        let d = deployments.into_iter().find(|d| d.kind == "logs")?;
        let full = stack.client().deployment(d.id).await.ok()?;
        full.commands.iter().all(|c| c.status == "running").then_some(full)
    })
    .await;
    let mut lags = Vec::new();
    for n in 0..5 {
        let marker = format!("followed-line-{n}");
        client_log(&c2, &format!("client2 {marker}")).await;
        let sent = Instant::now();
        client_log(&c1, &marker).await;
        let (line, came) = wait_line(&lines, &marker, Duration::from_secs(60));
        assert_eq!(line, format!("zeoserver1/client1 | {marker}"));
        lags.push(came.duration_since(sent));
    }
    lags.sort();
    println!("drover logs --follow: a client's new line shown after {:?} (median of 5; all: {lags:?})", lags[2]);
    assert!(lags[2] < Duration::from_secs(1), "the median lag {:?} is over a second: {lags:?}", lags[2]);

    // Ctrl-C ends the CLI and cancels the deployment: the agent stops streaming.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(follow.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = follow.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "drover logs --follow did not end on SIGINT");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    reader.join().unwrap();
    let client = stack.client();
    let finished = eventually(WAIT, "the cancelled logs command to end", || async {
        let d = client.deployment(logs_deployment.id).await.ok()?;
        d.commands.iter().all(|c| c.status != "running").then_some(d)
    })
    .await;
    assert_eq!(finished.status, "successful", "{finished:?}");

    // --since: a line stamped long ago is left out; without it, it is there (by its own time).
    client_log(&c1, "2001-01-01T00:00:00Z an-old-line").await;
    client_log(&c1, "a-new-line").await;
    let all = || json_lines(&stack, &["logs", "--stack", "demo", "--service", "client1", "--lines", "50", "--json"]);
    let recent =
        || json_lines(&stack, &["logs", "--stack", "demo", "--service", "client1", "--since", "10m", "--json"]);
    let has = |lines: &[Value], text: &str| lines.iter().any(|l| l["line"].as_str().is_some_and(|t| t.contains(text)));
    let lines = eventually(WAIT, "the new lines in the logs", || async {
        let lines = all();
        has(&lines, "a-new-line").then_some(lines)
    })
    .await;
    assert!(has(&lines, "an-old-line"), "{lines:#?}");
    let old = lines.iter().find(|l| l["line"].as_str().unwrap().contains("an-old-line")).unwrap();
    assert_eq!(old["time"], "2001-01-01T00:00:00Z", "{old}");
    let since = recent();
    assert!(has(&since, "a-new-line") && !has(&since, "an-old-line"), "{since:#?}");

    // --service: only that service's lines, from every source named.
    let only2 = json_lines(&stack, &["logs", "--stack", "demo", "--service", "client2", "--lines", "50", "--json"]);
    assert!(has(&only2, "client2 followed-line-0"), "{only2:#?}");
    assert!(only2.iter().all(|l| l["source"] == "site/client2" && l["instance"] == "zeoserver1"), "{only2:#?}");
    let agent = json_lines(&stack, &["logs", "--stack", "demo", "--service", "agent", "--json"]);
    assert!(!agent.is_empty() && agent.iter().all(|l| l["source"] == "agent"), "{agent:#?}");

    // Reading logs takes the deploy level (services may print secrets): show is refused.
    stack.cli_ok(&["user", "create", "sam"]);
    stack.cli_ok(&["user", "grant", "--stack", "demo", "--level", "show", "sam"]);
    let sam = stack.cli_ok(&["token", "create", "--user", "sam"]).trim().to_owned();
    let out = cli_with(&stack.url(), &sam, &["logs", "--stack", "demo"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("needs the deploy level"), "{said}");
    // Only logs deployments can be cancelled (others end on their own).
    let deploys = client.deployments("demo").await.unwrap();
    let deploy = deploys.iter().find(|d| d.kind == "deploy").unwrap();
    let refused = client.cancel_deployment(deploy.id).await.unwrap_err();
    assert_eq!(refused.status(), Some(409), "{refused}");

    // Rotation: past 4k the file is copied to .1 (older copies shift) and emptied; 2 are kept.
    let log_dir = stack.instance_root("demo", "zeoserver1").join("srv/www/site/shared/var/log");
    let numbered = |n: u32| log_dir.join(format!("client1.log.{n}"));
    let filler = "x".repeat(1000);
    for round in 1..=3 {
        let mark = format!("rotation-round-{round}");
        for _ in 0..5 {
            client_log(&c1, &format!("{mark} {filler}")).await;
        }
        eventually(WAIT, "the log to rotate", || async {
            std::fs::read_to_string(numbered(1)).ok().filter(|t| t.contains(&mark)).map(|_| ())
        })
        .await;
    }
    assert!(numbered(2).exists(), "the second copy is kept");
    assert!(!numbered(3).exists(), "only logs.keep = 2 copies are kept");
    assert!(std::fs::metadata(log_dir.join("client1.log")).unwrap().len() < 8 * 1024);
    assert!(std::fs::read_to_string(numbered(2)).unwrap().contains("rotation-round-2"));
}
