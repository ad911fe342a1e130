//! Agent upgrades (`drover agent upgrade`): the agent downloads the server's binary, checks it,
//! replaces itself and execs it; its services keep their pids and its version changes. A
//! download that does not match the checksum taken at the server's start, or a binary that does
//! not start, leaves the agent on its old binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{Options, TestStack, cli_with, client_status, drover_bin, eventually};

const WAIT: Duration = Duration::from_secs(180);

/// The version an agent running `path` reports: `0.1.0+<first 12 hex of its SHA-256>`.
fn version_of(path: &Path) -> String {
    let sha = hex::encode(Sha256::digest(std::fs::read(path).unwrap()));
    format!("{}+{}", env!("CARGO_PKG_VERSION"), &sha[..12])
}

/// A copy of the test's `drover` with bytes appended: it still runs (ELF ignores trailing
/// bytes) but its SHA-256, and so its version, differ.
fn modified_copy(dir: &Path) -> PathBuf {
    let path = dir.join("drover-next");
    std::fs::copy(drover_bin(), &path).unwrap();
    let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(b"\n-- drover upgrade test build --\n").unwrap();
    path
}

/// A server that gives upgrading agents `binary`.
fn server_with_binary(binary: &Path) -> Options {
    Options { server_args: vec!["--agent-binary".into(), binary.to_string_lossy().into_owned()], ..Options::default() }
}

/// The agent versions `drover instance list --json` shows, by hostname.
fn listed_versions(stack: &TestStack, name: &str) -> Vec<(String, Option<String>)> {
    let out = stack.cli_ok(&["instance", "list", "--stack", name, "--json"]);
    let list: Value = serde_json::from_str(&out).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| (i["hostname"].as_str().unwrap().to_owned(), i["agent_version"].as_str().map(str::to_owned)))
        .collect()
}

fn upgrade(stack: &TestStack, args: &[&str]) -> (Option<i32>, Value, String) {
    let mut all = vec!["agent", "upgrade", "--stack", "demo", "--wait", "--json"];
    all.extend_from_slice(args);
    let out = stack.cli(&all);
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), json, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The pids of the instance's services, by name, from the supervisor's state files.
fn service_pids(stack: &TestStack, host: &str) -> Vec<(String, i32)> {
    let run = stack.instance_root("demo", host).join("srv/www/site/shared/run");
    let mut pids: Vec<(String, i32)> = std::fs::read_dir(run)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| {
            let state: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
            (e.file_name().to_string_lossy().into_owned(), state["pid"].as_i64().unwrap() as i32)
        })
        .collect();
    pids.sort();
    pids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_upgrade_in_place_and_refuse_a_corrupted_download() {
    let scratch = tempfile::tempdir().unwrap();
    let next = modified_copy(scratch.path());
    let (old_version, new_version) = (version_of(&drover_bin()), version_of(&next));
    assert_ne!(old_version, new_version);
    let stack = TestStack::start_with(server_with_binary(&next)).await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver"), ("clients", "plone_instances")]);
    stack.create_zeo_and_client_instance("demo");
    let address = stack.instance("demo", "zeoserver1").await.address.unwrap();
    let client1 = format!("{address}:8081");
    stack.create_demo_app("demo", &["clients"]);
    stack.cli_ok(&["deploy", "--stack", "demo", "site", "--wait"]);
    let before = eventually(WAIT, "client1 to answer", || client_status(&client1)).await;
    let pids = service_pids(&stack, "zeoserver1");
    assert!(pids.len() >= 2, "zeoserver and client1 run: {pids:?}");
    let agent_pid = stack.agent_pid("demo", "zeoserver1").unwrap();
    assert_eq!(listed_versions(&stack, "demo"), vec![("zeoserver1".to_owned(), Some(old_version.clone()))]);

    // The upgrade: the command succeeds once the agent is back on the new binary.
    let started = Instant::now();
    let (code, d, stderr) = upgrade(&stack, &[]);
    let took = started.elapsed();
    assert_eq!(code, Some(0), "{d:#}\n{stderr}");
    assert_eq!(d["kind"], "agent_upgrade");
    assert_eq!(d["status"], "successful", "{d:#}");
    let command = d["commands"][0]["id"].as_i64().unwrap();
    let log = stack.client().command_log(command, 0, Duration::ZERO).await.unwrap().data;
    assert!(log.contains("checksum verified"), "{log}");
    eventually(WAIT, "instance list to show the new version", || async {
        (listed_versions(&stack, "demo") == vec![("zeoserver1".to_owned(), Some(new_version.clone()))]).then_some(())
    })
    .await;
    eprintln!("agent upgrade: {took:?} from `drover agent upgrade --wait` to its successful end");

    // The same process (exec keeps the pid) running the agent's own copy; the server's
    // executable is untouched.
    assert_eq!(stack.agent_pid("demo", "zeoserver1"), Some(agent_pid));
    let exe = std::fs::read_link(format!("/proc/{agent_pid}/exe")).unwrap();
    let own_copy =
        std::fs::canonicalize(stack.instance_root("demo", "zeoserver1")).unwrap().join("var/lib/drover/bin/drover");
    assert_eq!(exe, own_copy);
    assert_eq!(version_of(&own_copy), new_version);
    assert_eq!(version_of(&drover_bin()), old_version);

    // The services kept their pids, and were re-adopted by the new image.
    assert_eq!(service_pids(&stack, "zeoserver1"), pids);
    let after = client_status(&client1).await.expect("client1 still answers");
    assert_eq!(after["pid"], before["pid"], "client1 was not restarted");
    let agent_log = std::fs::read_to_string(stack.instance_root("demo", "zeoserver1").join("agent.log")).unwrap();
    assert!(agent_log.contains("re-adopted service"), "{agent_log}");
    stack.wait_status("demo", "zeoserver1", "online", WAIT).await;

    // A corrupted download: the served file changes after the server measured it.
    std::fs::OpenOptions::new().append(true).open(&next).unwrap().write_all(b"corrupted").unwrap();
    let (code, d, stderr) = upgrade(&stack, &["--rolling"]);
    assert_eq!(code, Some(1), "{d:#}\n{stderr}");
    assert_eq!(d["status"], "failed", "{d:#}");
    let reason = d["commands"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("checksum mismatch"), "{d:#}");
    assert!(
        !stack.instance_root("demo", "zeoserver1").join("var/lib/drover/bin").read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp"))
    );
    // Still the same agent on the same binary, heartbeating.
    let seen = stack.instance("demo", "zeoserver1").await.last_heartbeat.unwrap();
    eventually(WAIT, "another heartbeat", || async {
        stack.instance("demo", "zeoserver1").await.last_heartbeat.filter(|h| *h != seen)
    })
    .await;
    assert_eq!(stack.agent_pid("demo", "zeoserver1"), Some(agent_pid));
    assert_eq!(std::fs::read_link(format!("/proc/{agent_pid}/exe")).unwrap(), own_copy);
    assert_eq!(listed_versions(&stack, "demo"), vec![("zeoserver1".to_owned(), Some(new_version))]);
    assert_eq!(service_pids(&stack, "zeoserver1"), pids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_whose_new_binary_does_not_start_keeps_the_old_one() {
    let scratch = tempfile::tempdir().unwrap();
    let broken = scratch.path().join("drover-broken");
    std::fs::write(&broken, "#!/bin/sh\necho 'no such build' >&2\nexit 1\n").unwrap();
    let stack = TestStack::start_with(server_with_binary(&broken)).await;
    stack.create_stack("demo", &[("web", "custom")]);
    let host = stack.create_online_instance("demo", &["web"]);
    let agent_pid = stack.agent_pid("demo", &host).unwrap();
    let old_version = version_of(&drover_bin());

    let (code, d, stderr) = upgrade(&stack, &[]);
    assert_eq!(code, Some(1), "{d:#}\n{stderr}");
    let reason = d["commands"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("does not start") && reason.contains("no such build"), "{d:#}");
    stack.wait_status("demo", &host, "online", WAIT).await;
    assert_eq!(stack.agent_pid("demo", &host), Some(agent_pid));
    assert_eq!(listed_versions(&stack, "demo"), vec![(host.clone(), Some(old_version))]);
    assert!(!stack.instance_root("demo", &host).join("var/lib/drover/bin/drover").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_upgrade_moves_one_agent_at_a_time() {
    let scratch = tempfile::tempdir().unwrap();
    let next = modified_copy(scratch.path());
    let new_version = version_of(&next);
    let stack = TestStack::start_with(server_with_binary(&next)).await;
    stack.create_stack("demo", &[("web", "custom")]);
    let hosts = [stack.create_online_instance("demo", &["web"]), stack.create_online_instance("demo", &["web"])];

    // The manage level is needed; a refusal queues nothing.
    stack.cli_ok(&["user", "create", "dana"]);
    stack.cli_ok(&["user", "grant", "--stack", "demo", "--level", "deploy", "dana"]);
    let dana = stack.cli_ok(&["token", "create", "--user", "dana"]).trim().to_owned();
    let out = cli_with(&stack.url(), &dana, &["agent", "upgrade", "--stack", "demo"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("needs the manage level"), "{stderr}");
    assert!(stack.client().deployments("demo").await.unwrap().iter().all(|d| d.kind != "agent_upgrade"));

    let (code, d, stderr) = upgrade(&stack, &["--rolling"]);
    assert_eq!(code, Some(0), "{d:#}\n{stderr}");
    let mut commands: Vec<&Value> = d["commands"].as_array().unwrap().iter().collect();
    commands.sort_by_key(|c| c["id"].as_i64());
    assert_eq!(commands.len(), 2, "{d:#}");
    assert!(commands.iter().all(|c| c["status"] == "successful"), "{d:#}");
    // The second agent began only after the first was back on the new binary.
    let (first_done, second_began) =
        (commands[0]["finished_at"].as_str().unwrap(), commands[1]["started_at"].as_str().unwrap());
    assert!(first_done <= second_began, "{d:#}");
    let want: Vec<(String, Option<String>)> = hosts.iter().map(|h| (h.clone(), Some(new_version.clone()))).collect();
    let mut listed = listed_versions(&stack, "demo");
    listed.sort();
    assert_eq!(listed, want);
    for host in &hosts {
        stack.wait_status("demo", host, "online", WAIT).await;
    }
    // Audited like every change.
    let audit = stack.client().audit(Some("demo"), None, None, 50).await.unwrap();
    assert!(audit.iter().any(|a| a.action.contains("/stacks/demo/agent-upgrades") && a.status == 201), "{audit:#?}");
}
