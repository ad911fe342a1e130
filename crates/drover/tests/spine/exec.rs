//! `drover exec`: per-instance results and live output.

use std::time::Duration;

use crate::exec_request;
use crate::support::{TestStack, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_across_two_layers_reports_each_instance_and_streams_output() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("app", "custom"), ("db", "custom"), ("other", "custom")]);
    stack.create_online_instance("demo", &["app"]);
    stack.create_online_instance("demo", &["db"]);
    stack.create_online_instance("demo", &["other"]);

    // The CLI: db1 fails with exit code 7, app1 succeeds; other1 is not targeted.
    let script = r#"echo "hello from $DROVER_ROOT"; case "$DROVER_ROOT" in */db1) exit 7;; esac"#;
    let out = stack.cli(&["exec", "--stack", "demo", "--layer", "app", "--layer", "db", "--", "sh", "-c", script]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "a failed remote command exits 1:\n{stdout}");
    assert!(stdout.contains("[app1] hello from"), "{stdout}");
    assert!(stdout.contains("[db1 ] hello from"), "{stdout}");
    assert!(!stdout.contains("other1"), "{stdout}");
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("app1 ") || l.starts_with("db1 ")).collect();
    assert!(rows.iter().any(|r| r.contains("successful") && r.split_whitespace().nth(2) == Some("0")), "{stdout}");
    assert!(rows.iter().any(|r| r.contains("failed") && r.split_whitespace().nth(2) == Some("7")), "{stdout}");

    // Streaming: output written before the command ends is readable while it still runs.
    let gate = stack.dir.path().join("release-gate");
    let script = format!("echo early; while [ ! -e {} ]; do sleep 0.1; done; echo late", gate.display());
    let client = stack.client();
    let deployment =
        client.create_deployment("demo", &exec_request(&["sh", "-c", &script], &[], &["app1"])).await.unwrap();
    let command = deployment.commands[0].clone();
    let early = eventually(Duration::from_secs(30), "early output", || async {
        let chunk = client.command_log(command.id, 0, Duration::from_secs(1)).await.ok()?;
        chunk.data.contains("early").then_some(chunk)
    })
    .await;
    assert_eq!(early.status, "running", "the output arrived while the command ran");
    assert!(!early.data.contains("late"));
    std::fs::write(&gate, "go").unwrap();
    let done = eventually(Duration::from_secs(30), "the command to finish", || async {
        let c = client.command(command.id).await.ok()?;
        (c.status == "successful").then_some(c)
    })
    .await;
    assert_eq!(done.exit_code, Some(0));
    let log = client.command_log(command.id, 0, Duration::ZERO).await.unwrap();
    assert_eq!(log.data, "early\nlate\n");
    assert!(log.complete);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_newest_command_logs_per_instance_are_kept() {
    let options = crate::support::Options { command_logs_kept: 2, ..Default::default() };
    let stack = TestStack::start_with(options).await;
    stack.create_stack("demo", &[("web", "custom")]);
    stack.create_online_instance("demo", &["web"]);
    let mut ids = Vec::new();
    for n in 0..4 {
        let out = stack.cli_ok(&["exec", "--stack", "demo", "--json", "--", "echo", &format!("run {n}")]);
        let deployment: serde_json::Value = serde_json::from_str(&out).unwrap();
        ids.push(deployment["commands"][0]["id"].as_i64().unwrap());
    }
    let client = stack.client();
    let mut kept = Vec::new();
    for id in &ids {
        let log = client.command_log(*id, 0, Duration::ZERO).await.unwrap();
        kept.push(log.data);
    }
    assert_eq!(kept, ["", "", "run 2\n", "run 3\n"], "the two newest logs are kept");
    // The commands themselves (status, exit code) stay in the history.
    for id in ids {
        assert_eq!(client.command(id).await.unwrap().status, "successful");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_command_is_killed_and_reported() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom")]);
    stack.create_online_instance("demo", &["web"]);
    let out = stack.cli(&[
        "exec",
        "--stack",
        "demo",
        "--kill-after",
        "1",
        "--json",
        "--",
        "sh",
        "-c",
        "echo begin; sleep 30",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let deployment: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let command = &deployment["commands"][0];
    assert_eq!(command["status"], "failed");
    assert!(command["reason"].as_str().unwrap().contains("timed out"), "{command}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_deadline_gives_up_waiting_but_not_the_command() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom")]);
    stack.create_online_instance("demo", &["web"]);
    // --timeout is how long the CLI waits; --kill-after is the command's own limit.
    let script = "echo begin; sleep 8; echo end";
    let out =
        stack.cli(&["exec", "--stack", "demo", "--timeout", "2", "--kill-after", "120", "--", "sh", "-c", script]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("still running after 2 s (--timeout); it goes on"), "{stderr}");
    let id: i64 = stderr.split("deployment ").nth(1).and_then(|t| t.split(' ').next()).unwrap().parse().unwrap();
    let client = stack.client();
    let finished = eventually(Duration::from_secs(120), "the command to go on and succeed", || async {
        let d = client.deployment(id).await.ok()?;
        (d.commands[0].status == "successful").then_some(d)
    })
    .await;
    let log = client.command_log(finished.commands[0].id, 0, Duration::ZERO).await.unwrap();
    assert!(log.data.contains("end"), "{}", log.data);

    // --timeout is a wait deadline, so it needs --wait on deploy.
    let out = stack.cli(&["deploy", "--stack", "demo", "site", "--timeout", "60"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--wait"));
}
