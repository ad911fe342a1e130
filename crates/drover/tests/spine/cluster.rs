//! Two servers on one PostgreSQL store: one CA and one admin token for both, `server status`
//! naming the leader, a command queued through one server reaching an agent that long-polls the
//! other, and, when the leader is killed with SIGKILL in the middle of a deployment, the
//! deployment finishing once, its agents failing over to the other server, and the other taking
//! over the leader's work.

use std::time::{Duration, Instant};

use crate::support::{Options, PostgresStore, TestStack, eventually};

const STACK: &str = "two-servers-production-stack-01";

/// The id a server printed at its start.
fn server_id(stack: &TestStack) -> String {
    let log = stack.server_log();
    let line = log.lines().find_map(|l| l.strip_prefix("server id: ")).expect("the server printed its id");
    line.trim().to_owned()
}

fn members(stack: &TestStack) -> Vec<serde_json::Value> {
    serde_json::from_str(&stack.cli_ok(&["server", "status", "--json"])).unwrap()
}

fn leader(members: &[serde_json::Value]) -> Option<String> {
    let leaders: Vec<&serde_json::Value> = members.iter().filter(|m| m["leader"] == true).collect();
    assert!(leaders.len() <= 1, "more than one leader: {members:?}");
    leaders.first().map(|m| m["id"].as_str().unwrap().to_owned())
}

/// Runs `echo words` on the stack's instances through `via`; the seconds it took.
fn exec_through(via: &TestStack, words: &str) -> f64 {
    let started = Instant::now();
    let out = via.cli_ok(&["exec", "--stack", STACK, "--layer", "clients", "--json", "--", "echo", words]);
    let took = started.elapsed().as_secs_f64();
    let deployment: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(deployment["status"], "successful", "{out}");
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_a_store_and_the_survivor_leads_when_the_leader_is_killed() {
    let mut first = TestStack::start_on_postgres(Options::default(), PostgresStore::start).await;
    let second = first.start_peer().await;
    let (first_id, second_id) = (server_id(&first), server_id(&second));

    // One CA and one admin token: the second server took the first's CA and made no token.
    assert_eq!(
        std::fs::read(first.data_dir().join("pki/ca.crt")).unwrap(),
        std::fs::read(second.data_dir().join("pki/ca.crt")).unwrap()
    );
    assert!(!second.data_dir().join("admin.token").exists(), "the second server made a token nobody accepts");
    let both = eventually(Duration::from_secs(30), "both servers in `server status`", || async {
        let listed = members(&second);
        (listed.len() == 2).then_some(listed)
    })
    .await;
    assert_eq!(leader(&both).as_deref(), Some(first_id.as_str()), "{both:?}");
    let answering: Vec<&str> =
        both.iter().filter(|m| m["answering"] == true).map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(answering, [second_id.as_str()]);
    let table = second.cli_ok(&["server", "status"]);
    assert!(table.contains("leader") && table.contains("standby"), "{table}");

    // An instance made through each server: its local agent long-polls that server, and knows the
    // other to fail over to.
    first.create_stack(STACK, &[("clients", "custom"), ("plone", "plone_instances"), ("web", "frontend")]);
    second.create_online_instance(STACK, &["clients"]);
    first.create_online_instance(STACK, &["clients"]);

    // The frontend relay across servers: HAProxy's state of a client, asked through the first
    // server of a frontend whose agent long-polls the second, comes back (NOTIFY both ways).
    first.cli_ok(&["instance", "create", "--stack", STACK, "--layer", "plone", "--cpu-count", "1", "--wait"]);
    second.cli_ok(&["instance", "create", "--stack", STACK, "--layer", "web", "--wait"]);
    let backends = eventually(Duration::from_secs(60), "the frontend's answer through the other server", || async {
        let backends = first.client().frontend_backends(STACK).await.ok()?;
        let servers = &backends.first()?.servers;
        (!servers.is_empty() && servers.iter().all(|s| s.status.is_some())).then_some(backends)
    })
    .await;
    assert!(backends[0].servers.iter().all(|s| s.error.is_none()), "{backends:?}");
    // A command queued through the first server reaches the agent on the second at once (NOTIFY),
    // not at the end of its 25 s long-poll.
    let took: Vec<f64> = (0..3).map(|n| exec_through(&first, &format!("through the first {n}"))).collect();
    eprintln!("exec through the other server took {took:?} s");
    assert!(took.iter().all(|t| *t < 12.0), "a command waited for the long-poll to end: {took:?} s");

    // A deployment through the second server is running on both instances when the leader (the
    // first server) dies without a word.
    let marks = tempfile::tempdir().unwrap();
    let script = format!("mktemp {}/ran.XXXXXX && sleep 6 && echo finished", marks.path().display());
    let running = {
        let (url, token) = (second.url(), second.admin_token());
        std::thread::spawn(move || {
            let exec = ["exec", "--stack", STACK, "--layer", "clients", "--json", "--", "sh", "-c", &script];
            crate::support::cli_with(&url, &token, &exec)
        })
    };
    let ran = || std::fs::read_dir(marks.path()).unwrap().count();
    eventually(Duration::from_secs(60), "the command to start on both instances", || async {
        (ran() == 2).then_some(())
    })
    .await;
    let killed_at = Instant::now();
    first.kill_server();
    // It finishes, each command once: the first server's agent reports to the second.
    let out = running.join().unwrap();
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let deployment: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(deployment["status"], "successful", "{deployment}");
    assert_eq!(ran(), 2, "a command ran twice");

    eventually(Duration::from_secs(60), "the second server to lead", || async {
        let listed = members(&second);
        (leader(&listed).as_deref() == Some(second_id.as_str())).then_some(())
    })
    .await;
    eprintln!("the second server led {:.1} s after the first was killed", killed_at.elapsed().as_secs_f64());
    assert!(second.server_log().contains("this server leads"), "{}", second.server_log());
    // Every agent long-polls the second server now, and stays online.
    eventually(Duration::from_secs(60), "every agent on the second server", || async {
        let listed = members(&second);
        let mine = listed.iter().find(|m| m["id"] == second_id.as_str())?;
        (mine["agents"] == 4).then_some(())
    })
    .await;
    let instances: Vec<serde_json::Value> =
        serde_json::from_str(&second.cli_ok(&["instance", "list", "--stack", STACK, "--json"])).unwrap();
    assert!(instances.iter().all(|i| i["status"] == "online"), "{instances:?}");
    // A CLI given both servers fails over to the one that is up.
    let both = format!("{},{}", first.url(), second.url());
    let out = crate::support::cli_with(&both, &second.admin_token(), &["instance", "list", "--stack", STACK]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // It serves on: a command, and the leader's work (a Configure held for coalescing is
    // released only by the leader) when another instance comes online.
    exec_through(&second, "after the takeover");
    let newest_before = newest_deployment(&second);
    second.create_online_instance(STACK, &["clients"]);
    eventually(Duration::from_secs(120), "the Configure of the new instance to finish", || async {
        let listed: Vec<serde_json::Value> =
            serde_json::from_str(&second.cli_ok(&["deployment", "list", "--stack", STACK, "--json"])).unwrap();
        listed
            .iter()
            .any(|d| d["kind"] == "configure" && d["id"].as_i64() > Some(newest_before) && d["status"] == "successful")
            .then_some(())
    })
    .await;
}

fn newest_deployment(stack: &TestStack) -> i64 {
    let listed: Vec<serde_json::Value> =
        serde_json::from_str(&stack.cli_ok(&["deployment", "list", "--stack", STACK, "--json"])).unwrap();
    listed.iter().filter_map(|d| d["id"].as_i64()).max().unwrap_or(0)
}
