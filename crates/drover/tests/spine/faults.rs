//! Nothing stranded by a fault, on the agent's side: an output flood is capped (tail kept, cut
//! marked), a server whose log is shorter than the agent thinks does not livelock the output,
//! command ids that come back after a database restore are not answered from the journal, and
//! a hook that leaves a child holding its pipe does not hang its command.

use std::time::Duration;

use drover_client::Client;
use drover_proto::api::Command;

use crate::exec_request;
use crate::support::{Options, TestStack, eventually};

const WAIT: Duration = Duration::from_secs(180);

/// Waits for a command to finish; returns it.
async fn finished(client: &Client, id: i64) -> Command {
    eventually(WAIT, &format!("command {id} to finish"), || async {
        client.command(id).await.ok().filter(|c| matches!(c.status.as_str(), "successful" | "failed"))
    })
    .await
}

/// A command's whole log, read page by page as `deployment show --logs` does.
async fn whole_log(client: &Client, id: i64) -> String {
    let mut text = String::new();
    let mut offset = 0;
    loop {
        let chunk = client.command_log(id, offset, Duration::ZERO).await.unwrap();
        text.push_str(&chunk.data);
        if chunk.complete || chunk.data.is_empty() {
            return text;
        }
        offset = chunk.next_offset;
    }
}

async fn one_instance(options: Options) -> (TestStack, String) {
    let stack = TestStack::start_with(options).await;
    stack.create_stack("demo", &[("web", "custom")]);
    let host = stack.create_online_instance("demo", &["web"]);
    (stack, host)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_flood_is_capped_keeping_the_tail() {
    const CAP: u64 = 1024 * 1024;
    let (stack, host) = one_instance(Options { command_log_max_bytes: Some(CAP), ..Default::default() }).await;
    let client = stack.client();
    // 40 MB of lines, then a last one.
    let flood = "yes 'a line of output that repeats and repeats' | head -c 40000000; echo; echo the-last-line";
    let d = client.create_deployment("demo", &exec_request(&["sh", "-c", flood], &[], &[&host])).await.unwrap();
    let id = d.commands[0].id;
    let done = finished(&client, id).await;
    assert_eq!((done.status.as_str(), done.exit_code), ("successful", Some(0)), "{done:?}");

    let log = whole_log(&client, id).await;
    let marker = log.lines().next().unwrap_or_default().to_owned();
    assert!(marker.starts_with("[drover: ") && marker.ends_with(" bytes of output cut here]"), "{marker:?}");
    let cut: u64 = marker["[drover: ".len()..].split(' ').next().unwrap().parse().unwrap();
    assert!(cut >= 40_000_000 - CAP, "{marker}");
    assert_eq!(log.matches("[drover: ").count(), 1, "one marker");
    assert!(log.len() as u64 <= CAP + marker.len() as u64 + 1, "{} bytes kept", log.len());
    assert!(log.ends_with("\nthe-last-line\n"), "the tail is kept: {:?}", &log[log.len() - 100..]);
    assert!(log[marker.len() + 1..].starts_with("a line of output"), "the kept tail starts with a whole line");

    // `deployment show --logs` streams the same text.
    let out = stack.cli_ok(&["deployment", "show", &d.id.to_string(), "--logs"]);
    assert!(out.contains(&marker) && out.trim_end().ends_with("the-last-line"), "{}", &out[..out.len().min(500)]);
}

/// Waits until the command's log holds `text`.
async fn log_has(client: &Client, id: i64, text: &str) {
    eventually(WAIT, &format!("{text:?} in the log"), || async {
        whole_log(client, id).await.contains(text).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_the_server_lost_in_a_restore_is_marked_and_the_command_ends() {
    let (mut stack, host) = one_instance(Options::default()).await;
    let client = stack.client();
    let gates = stack.dir.path().join("gates");
    std::fs::create_dir_all(&gates).unwrap();
    let gate = |name: &str| gates.join(name).to_string_lossy().into_owned();
    let script = format!(
        "echo first; until [ -e {g1} ]; do sleep 0.1; done; echo second; until [ -e {g2} ]; do sleep 0.1; done; \
         echo third",
        g1 = gate("one"),
        g2 = gate("two")
    );
    let d = client.create_deployment("demo", &exec_request(&["sh", "-c", &script], &[], &[&host])).await.unwrap();
    let id = d.commands[0].id;
    log_has(&client, id, "first\n").await;

    // A copy of the store taken while the command runs...
    stack.stop_server();
    stack.save_store("backup");
    stack.start_server().await;
    std::fs::write(gate("one"), "").unwrap();
    let client = stack.client();
    log_has(&client, id, "second\n").await;

    // ...is restored: the server holds less of the log than it acknowledged to the agent.
    stack.stop_server();
    stack.restore_store("backup");
    stack.start_server().await;
    let client = stack.client();
    std::fs::write(gate("two"), "").unwrap();
    let done = finished(&client, id).await;
    assert_eq!(done.status, "successful", "{done:?}");
    let log = whole_log(&client, id).await;
    assert!(log.starts_with("first\n[drover: 7 bytes of output lost here"), "{log:?}");
    assert!(log.ends_with("third\n"), "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_id_that_comes_back_after_a_restore_runs_anew() {
    let (mut stack, host) = one_instance(Options::default()).await;
    stack.stop_server();
    stack.save_store("backup");
    stack.start_server().await;

    let client = stack.client();
    let first = client.create_deployment("demo", &exec_request(&["echo", "the-first"], &[], &[&host])).await.unwrap();
    let first_id = first.commands[0].id;
    assert_eq!(finished(&client, first_id).await.status, "successful");
    assert!(whole_log(&client, first_id).await.contains("the-first"));

    stack.stop_server();
    stack.restore_store("backup");
    stack.start_server().await;
    let client = stack.client();
    let second = client.create_deployment("demo", &exec_request(&["echo", "the-second"], &[], &[&host])).await.unwrap();
    let second_id = second.commands[0].id;
    assert_eq!(second_id, first_id, "the restored store gives out the same id again");
    let done = finished(&client, second_id).await;
    assert_eq!((done.status.as_str(), done.exit_code), ("successful", Some(0)), "{done:?}");
    let log = whole_log(&client, second_id).await;
    assert!(log.contains("the-second") && !log.contains("the-first"), "it ran, not answered from the journal: {log:?}");
}

/// Pids of processes whose command line is exactly `argv`.
fn pids_running(argv: &[&str]) -> Vec<i32> {
    let want = argv.join("\0") + "\0";
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_str()?.parse::<i32>().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            (cmdline == want.as_bytes()).then_some(pid)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_that_leaves_a_child_on_its_pipe_does_not_hang_configure() {
    let (stack, _host) = one_instance(Options::default()).await;
    // A number no other test sleeps for, to find the child by.
    let sleeper = ["sleep", "1771"];
    stack.cli_ok(&["layer", "update", "--stack", "demo", "web", "--hook", "configure=sleep 1771 & echo hook-ran"]);
    let client = stack.client();
    let before: Vec<i64> = client.deployments("demo").await.unwrap().iter().map(|d| d.id).collect();
    stack.cli_ok(&["stack", "configure", "--stack", "demo"]);
    let configure = eventually(WAIT, "the Configure deployment", || async {
        client.deployments("demo").await.ok()?.into_iter().find(|d| d.kind == "configure" && !before.contains(&d.id))
    })
    .await;
    let done = eventually(WAIT, "the Configure deployment to end", || async {
        client.deployment(configure.id).await.ok().filter(|d| d.finished_at.is_some())
    })
    .await;
    assert_eq!(done.status, "successful", "{done:?}");
    let log = whole_log(&client, done.commands[0].id).await;
    assert!(log.contains("hook-ran") && log.contains("held its output open"), "{log}");
    eventually(WAIT, "the hook's sleeping child to be gone", || async {
        pids_running(&sleeper).is_empty().then_some(())
    })
    .await;
    // The instance takes the next command at once.
    let host = &done.commands[0].instance;
    let d = client.create_deployment("demo", &exec_request(&["true"], &[], &[host])).await.unwrap();
    assert_eq!(finished(&client, d.commands[0].id).await.status, "successful");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_larger_than_the_body_limit_still_ends_its_command() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver"), ("clients", "plone_instances")]);
    let args = ["instance", "create", "--stack", "demo", "--layer", "zeoserver", "--layer", "clients"];
    stack.cli_ok(&[&args[..], &["--cpu-count", "1", "--wait"]].concat());
    stack.create_demo_app("demo", &["clients"]);
    // Ten releases with 115 kB of deploy.cfg each (Custom JSON may hold 120 kB): their report is
    // over the 1 MiB that other requests may carry.
    for round in 0..10 {
        let filler: String =
            (0..1900).map(|n| format!("# filler {round} line {n:04} ...................................\n")).collect();
        let doc = serde_json::json!({"deploy": {"site": {"keep_releases": 10, "buildout_additional_config": filler}}});
        let (code, d, stderr) =
            stack.cli_json(&["deploy", "--stack", "demo", "site", "--wait", "--json", "--timeout", "900"], Some(doc));
        assert_eq!((code, d["status"].as_str()), (Some(0), Some("successful")), "{d:#} {stderr}");
    }
    let releases = stack.client().releases("demo", "site").await.unwrap();
    let kept: usize = releases.iter().map(|r| r.deploy_cfg.len()).sum();
    assert!(releases.len() >= 10 && kept > 1024 * 1024, "{} releases, {kept} bytes of deploy.cfg", releases.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cuts_the_agent_makes_one_after_another_leave_one_marker_before_the_tail() {
    use drover_proto::agent::{OutputAppend, OutputGap};
    let (stack, host) = one_instance(Options::default()).await;
    let client = stack.client();
    // A command that prints nothing itself; the appends below stand for an agent that had to
    // cut its buffer twice while the server was slow to answer.
    let d = client.create_deployment("demo", &exec_request(&["sleep", "3"], &[], &[&host])).await.unwrap();
    let id = d.commands[0].id;
    let agent = stack.agent_client("demo", &host);
    let append = |offset: u64, data: &str, gap: Option<OutputGap>| OutputAppend {
        offset,
        data: data.to_owned(),
        gap,
        nonce: None,
    };
    assert_eq!(agent.output(id, &append(0, "early\n", None)).await.unwrap().length, 6);
    assert_eq!(agent.output(id, &append(100, "middle\n", Some(OutputGap::Cut))).await.unwrap().length, 107);
    assert_eq!(agent.output(id, &append(5000, "tail\n", Some(OutputGap::Cut))).await.unwrap().length, 5005);
    finished(&client, id).await;
    let log = whole_log(&client, id).await;
    assert_eq!(log, "[drover: 5000 bytes of output cut here]\ntail\n");
}
