//! An existing host joins with the join token: `drover agent --join TOKEN` registers it.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::ONLINE_WAIT;
use crate::support::{TestStack, drover_bin, eventually, kill_group};

/// An agent the test runs itself, as an operator would on another host; killed on drop.
struct HostAgent(std::process::Child);

impl HostAgent {
    fn start(stack: &TestStack, root: &std::path::Path, extra: &[&str]) -> Self {
        let log = std::fs::File::create(root.with_extension("log")).unwrap();
        let child = Command::new(drover_bin())
            .arg("agent")
            .arg("--root")
            .arg(root)
            .arg("--address")
            .arg("127.0.0.1")
            .arg("--heartbeat-interval-secs")
            .arg("1")
            .args(extra)
            .env("DROVER_JOIN_TOKEN", stack.join_token())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap();
        Self(child)
    }
}

impl Drop for HostAgent {
    fn drop(&mut self) {
        kill_group(self.0.id() as i32);
        let _ = self.0.wait();
    }
}

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
    assert!(out.contains("drover agent --join"), "the CLI says how to join: {out}");
    assert_eq!(stack.instance("demo", "edge1").await.status, "registering");
    let root1 = stack.dir.path().join("host-edge1");
    std::fs::create_dir_all(&root1).unwrap();
    let _edge1 = HostAgent::start(&stack, &root1, &["--stack", "demo", "--instance", "edge1"]);
    stack.wait_status("demo", "edge1", "online", ONLINE_WAIT).await;

    // Registering itself, with its layers.
    let root2 = stack.dir.path().join("host-new");
    std::fs::create_dir_all(&root2).unwrap();
    let _new = HostAgent::start(&stack, &root2, &["--stack", "demo", "--layer", "web"]);
    let joined = eventually(Duration::from_secs(60), "the new host to register", || async {
        let instances = stack.client().instances("demo").await.ok()?;
        instances.into_iter().find(|i| i.hostname != "edge1" && i.status == "online")
    })
    .await;
    assert_eq!(joined.provider, "registered");
    assert_eq!(joined.layers, ["web"]);

    // The credential was saved privately, and the join token is not needed again.
    let saved = root1.join("var/lib/drover/agent.json");
    let mode = std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "agent.json is private");
    let out = stack.cli_ok(&["exec", "--stack", "demo", "--", "sh", "-c", "echo at $DROVER_ROOT"]);
    assert!(out.contains(&format!("at {}", root1.display())), "{out}");
    assert!(out.contains(&format!("at {}", root2.display())), "{out}");

    // A second agent cannot enroll as an instance that already has one.
    let root3 = stack.dir.path().join("host-dup");
    std::fs::create_dir_all(&root3).unwrap();
    let mut dup = HostAgent::start(&stack, &root3, &["--stack", "demo", "--instance", "edge1"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = dup.0.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the duplicate agent did not give up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!status.success());
    let log = std::fs::read_to_string(root3.with_extension("log")).unwrap();
    assert!(log.contains("already has an enrolled agent"), "{log}");
}
