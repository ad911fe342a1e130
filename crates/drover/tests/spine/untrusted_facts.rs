//! Agents are untrusted input. A registered agent once joined with an address holding newlines,
//! which went verbatim into the frontend's `haproxy.cfg` (as a `program` section, which HAProxy's
//! master-worker runs) and into the clients' `deploy.cfg` (`[zeo-host]`). Now its facts are
//! refused at the door, naming the field, and no config on any host changes.

use std::time::Duration;

use drover_client::{AgentClient, ClientError};
use drover_proto::agent::{EnrollRequest, Heartbeat, Hello, HostFacts};
use serde_json::json;

use crate::support::{HostAgent, TestStack, eventually};

const WAIT: Duration = Duration::from_secs(180);

/// What HAProxy's master-worker would run if the address reached `haproxy.cfg`.
const EVIL: &str = "127.0.0.9:8081\nprogram pwn\n    command /bin/sh -c 'touch /tmp/drover-pwned'";

fn facts(address: &str) -> HostFacts {
    HostFacts {
        address: address.to_owned(),
        cpu_count: 1,
        memory_bytes: 1 << 30,
        agent_version: "0.1.0".into(),
        pid: std::process::id(),
    }
}

/// The field an API refusal names, with its message.
fn refusal(e: ClientError) -> (u16, String, String) {
    match e {
        ClientError::Api { status, error, .. } => (status, error.field.unwrap_or_default(), error.message),
        other => panic!("expected a refusal from the API, got {other}"),
    }
}

/// The files other hosts' agents rendered from the stack: the frontend's configs and the
/// client's `deploy.cfg`.
fn rendered(stack: &TestStack) -> Vec<(String, String)> {
    let shared = stack.instance_root("demo", "web1").join("srv/www/.frontend/shared");
    let deploy_cfg = stack.instance_root("demo", "clients1").join("srv/www/site/current/deploy.cfg");
    [shared.join("haproxy.cfg"), shared.join("nginx.conf"), deploy_cfg]
        .iter()
        .map(|p| (p.display().to_string(), std::fs::read_to_string(p).unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_with_a_newline_in_its_address_is_refused_and_no_config_changes() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver"), ("clients", "plone_instances"), ("web", "frontend")]);
    let path = stack.data_dir().join("stack.json");
    std::fs::write(&path, json!({"plone_instances": {"per_cpu": 1}}).to_string()).unwrap();
    stack.cli_ok(&["stack", "set-json", "--stack", "demo", path.to_str().unwrap()]);
    for layer in ["zeoserver", "clients", "web"] {
        stack.cli_ok(&["instance", "create", "--stack", "demo", "--layer", layer, "--cpu-count", "1", "--wait"]);
    }
    stack.create_demo_app("demo", &["zeoserver", "clients"]);
    let out = stack.cli(&["deploy", "--stack", "demo", "site", "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let client = stack.client();
    eventually(WAIT, "the frontend with the client", || async {
        client.frontends("demo").await.ok()?.into_iter().find(|f| f.servers.len() == 1)
    })
    .await;
    let before = rendered(&stack);
    assert!(before[2].1.contains("[zeo-host]"), "{}", before[2].1);
    let addresses = || async {
        let mut list: Vec<(String, Option<String>)> =
            client.instances("demo").await.unwrap().into_iter().map(|i| (i.hostname, i.address)).collect();
        list.sort();
        list
    };
    let known = addresses().await;
    assert_eq!(known.len(), 3, "{known:?}");

    // The agent itself refuses a bad --address at start-up, saying what to pass, and exits.
    let root = stack.dir.path().join("host-evil");
    let join_file = stack.join_file(&["--stack", "demo"]);
    let agent = HostAgent::start_at(&root, EVIL, &join_file, &["--stack", "demo", "--layer", "zeoserver"]);
    let (status, log) = agent.refused(&root).await;
    assert!(!status.success(), "{log}");
    assert!(log.contains("facts.address") && log.contains("--address"), "{log}");

    // A lying agent that skips its own check is refused by the server, naming the field, for
    // every kind of directive-breaking text; it registers nothing.
    let join = AgentClient::new(&stack.url(), &stack.fingerprint(), &stack.join_token(&["--stack", "demo"])).unwrap();
    let bad = [EVIL, "127.0.0.9\n", "127.0.0.9\r", "10.0.0.1;", "db{x}", "db#1", "db internal", "\"db\"", "", "db\0"];
    for (layer, address) in ["zeoserver", "clients"].iter().flat_map(|l| bad.iter().map(move |a| (*l, *a))) {
        let req =
            EnrollRequest { instance: None, stack: "demo".into(), layers: vec![layer.into()], facts: facts(address) };
        let (status, field, message) = refusal(join.enroll(&req).await.unwrap_err());
        assert_eq!((status, field.as_str()), (422, "facts.address"), "{address:?}: {message}");
        assert!(message.contains("--address") && message.contains("nothing was recorded"), "{message}");
    }
    assert_eq!(addresses().await, known, "no instance was registered or changed");

    // An enrolled agent whose hello or heartbeat lies is refused, and its address stays.
    let enrolled = stack.agent_client("demo", "clients1");
    let (status, field, _) = refusal(enrolled.hello(&Hello { facts: facts(EVIL) }).await.unwrap_err());
    assert_eq!((status, field.as_str()), (422, "facts.address"));
    let hb = Heartbeat {
        cpu_percent: 1.0,
        memory_percent: 1.0,
        load_1m: -1.0,
        cpu_count: 1,
        memory_bytes: 1 << 30,
        services: Vec::new(),
    };
    let (status, field, _) = refusal(enrolled.heartbeat(&hb).await.unwrap_err());
    assert_eq!((status, field.as_str()), (422, "load_1m"));
    let (status, field, _) =
        refusal(enrolled.heartbeat(&Heartbeat { load_1m: 0.5, cpu_count: 0, ..hb }).await.unwrap_err());
    assert_eq!((status, field.as_str()), (422, "cpu_count"));
    assert_eq!(addresses().await, known, "the stored addresses are unchanged");
    assert_eq!(stack.instance("demo", "clients1").await.status, "online");

    // Configure renders every host's files again: none changed.
    let out = stack.cli(&["stack", "configure", "--stack", "demo", "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let after = rendered(&stack);
    for ((path, was), (_, is)) in before.iter().zip(&after) {
        assert_eq!(was, is, "{path} changed");
        assert!(!is.contains("program") && !is.contains("127.0.0.9"), "{path}: {is}");
    }
    assert!(!std::path::Path::new("/tmp/drover-pwned").exists());

    // An honest newcomer to the ZEO layer, named to sort first, does not take the ZEO server
    // over: the role stays with zeoserver1, online the longest, so the clients' deploy.cfg (and
    // the frontend) stay as they were after the Configure its arrival runs.
    let zeo1 = known.iter().find(|(h, _)| h == "zeoserver1").and_then(|(_, a)| a.clone()).unwrap();
    let newcomer_address = format!("{}.200", zeo1.rsplit_once('.').unwrap().0);
    // Under the stack's instances, so the harness stops the services it starts.
    let root = stack.instance_root("demo", "aaa");
    let join_file = stack.join_file(&["--stack", "demo", "--layer", "zeoserver"]);
    let extra = ["--stack", "demo", "--instance", "aaa", "--layer", "zeoserver"];
    let _newcomer = HostAgent::start_at(&root, &newcomer_address, &join_file, &extra);
    stack.wait_status("demo", "aaa", "online", WAIT).await;
    let out = stack.cli(&["stack", "configure", "--stack", "demo", "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let after = rendered(&stack);
    assert!(after[2].1.contains(&format!("[zeo-host]\naddress = {zeo1}:8001\n")), "{}", after[2].1);
    for ((path, was), (_, is)) in before.iter().zip(&after) {
        assert_eq!(was, is, "{path} changed when aaa joined the ZEO layer");
    }
}
