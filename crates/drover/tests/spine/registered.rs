//! An existing host joins with a join token: `drover agent --join-file FILE` (or `-`, stdin)
//! claims the instance made for it, or registers a new one.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::ONLINE_WAIT;
use crate::support::{HostAgent, TestStack, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_joins_with_the_join_token_and_runs_commands() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom")]);

    // Pre-created with --provider registered, then claimed by the agent.
    let out = stack.cli_ok(&[
        "instance",
        "create",
        "--stack",
        "demo",
        "--layer",
        "web",
        "--provider",
        "registered",
        "--hostname",
        "edge1",
    ]);
    assert!(out.contains("drover agent --join-file"), "the CLI says how to join: {out}");
    assert_eq!(stack.instance("demo", "edge1").await.status, "registering");
    let root1 = stack.dir.path().join("host-edge1");
    let edge1_join = stack.join_file(&["--stack", "demo", "--instance", "edge1"]);
    let _edge1 = HostAgent::start(&root1, &edge1_join, &["--stack", "demo", "--instance", "edge1"], &[]);
    stack.wait_status("demo", "edge1", "online", ONLINE_WAIT).await;

    // Registering itself, with its layers, the token on stdin.
    let root2 = stack.dir.path().join("host-new");
    let web_token = stack.join_token(&["--stack", "demo", "--layer", "web"]);
    let _new = HostAgent::start_with_token_on_stdin(&root2, &web_token, &["--stack", "demo", "--layer", "web"]);
    let joined = eventually(Duration::from_secs(60), "the new host to register", || async {
        let instances = stack.client().instances("demo").await.ok()?;
        instances.into_iter().find(|i| i.hostname != "edge1" && i.status == "online")
    })
    .await;
    assert_eq!(joined.provider, "registered");
    assert_eq!(joined.layers, ["web"]);

    // The credential was saved privately, the join token file is gone, and the token is not
    // needed again.
    let saved = root1.join("var/lib/drover/agent.json");
    let mode = std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "agent.json is private");
    assert!(!edge1_join.exists(), "the agent removed its join token file");
    let out = stack.cli_ok(&["exec", "--stack", "demo", "--", "sh", "-c", "echo at $DROVER_ROOT"]);
    assert!(out.contains(&format!("at {}", root1.display())), "{out}");
    assert!(out.contains(&format!("at {}", root2.display())), "{out}");

    // A second agent cannot enroll as an instance that already has one.
    let root3 = stack.dir.path().join("host-dup");
    let dup_join = stack.join_file(&["--stack", "demo", "--instance", "edge1"]);
    let dup = HostAgent::start(&root3, &dup_join, &["--stack", "demo", "--instance", "edge1"], &[]);
    let (status, log) = dup.refused(&root3).await;
    assert!(!status.success());
    assert!(log.contains("already has an enrolled agent"), "{log}");
}
