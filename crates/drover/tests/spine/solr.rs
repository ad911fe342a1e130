//! Solr: a `solr` layer instance runs the app's `bin/solr-instance fg` (the demo's is a stand-in
//! for Solr, see examples/demo-buildout/src/demoapp/demoapp/solr.py), its data in `shared/`.
//! A document indexed through a client (at its `[solr-host]`) is found by a select query, also
//! after Solr restarts; the restart waits for Solr's ping, and the clients answer throughout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{TestStack, client_status, eventually};

const WAIT: Duration = Duration::from_secs(180);

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).no_proxy().build().unwrap()
}

/// Solr's select answer for `q`, asked through the client at `client`.
async fn search(client: &str, q: &str) -> Option<Value> {
    let resp = http().get(format!("http://{client}/solr/search?q={q}")).send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_indexed_through_a_client_is_found_also_after_solr_restarts() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver"), ("clients", "plone_instances"), ("solr", "solr")]);
    // Solr takes longer to start than a service must stay up (5 s): only the ping gate makes
    // the restart wait for it.
    let doc = json!({
        "plone_instances": {"per_cpu": 1, "solr_enabled": true},
        "deploy": {"site": {"environment": {"DEMO_SOLR_START_DELAY": "8"}}}
    });
    let path = stack.data_dir().join("stack.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    stack.cli_ok(&["stack", "set-json", "--stack", "demo", path.to_str().unwrap()]);
    let solr = stack.create_online_instance("demo", &["solr"]);
    stack.create_online_instance("demo", &["zeoserver"]);
    let web = stack.create_online_instance_with("demo", &["clients"], &["--cpu-count", "1"]);
    stack.create_demo_app("demo", &["zeoserver", "clients", "solr"]);
    let out = stack.cli(&["deploy", "--stack", "demo", "site", "--wait", "--timeout", "900"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    let solr_address = stack.instance("demo", &solr).await.address.unwrap();
    let releases = stack.client().releases("demo", "site").await.unwrap();
    let cfg = &releases.iter().find(|r| r.instance == web && r.current).unwrap().deploy_cfg;
    assert!(cfg.contains(&format!("[solr-host]\nhost = {solr_address}")), "{cfg}");
    let solr_cfg = &releases.iter().find(|r| r.instance == solr && r.current).unwrap().deploy_cfg;
    let shared = stack.instance_root("demo", &solr).join("srv/www/site/shared");
    assert!(solr_cfg.contains(&format!("vardir = {}/var/solr", shared.display())), "{solr_cfg}");

    // Indexed through the client, found by a select query.
    let client = format!("{}:8081", stack.instance("demo", &web).await.address.unwrap());
    eventually(WAIT, "the client to answer", || client_status(&client)).await;
    let indexed = http().post(format!("http://{client}/solr/index?id=doc1&title=drover")).send().await.unwrap();
    assert!(indexed.status().is_success(), "{:?}", indexed.text().await);
    let found = search(&client, "title:drover").await.expect("a select answer");
    assert_eq!(found["response"]["numFound"], 1, "{found}");
    assert_eq!(found["response"]["docs"][0]["id"], "doc1");
    assert_eq!(search(&client, "title:other").await.unwrap()["response"]["numFound"], 0);
    assert!(shared.join("var/solr/plone/docs.json").is_file(), "Solr's data is in shared/");

    // Solr restarts while the client is asked all along.
    let client_pid = client_status(&client).await.unwrap()["pid"].clone();
    let solr_pid = stack.service_pid("demo", &solr, "solr");
    let done = Arc::new(AtomicBool::new(false));
    let (answered, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let poller = tokio::spawn({
        let (done, answered, failed, client) = (done.clone(), answered.clone(), failed.clone(), client.clone());
        async move {
            while !done.load(Ordering::SeqCst) {
                let ok = client_status(&client).await.is_some();
                (if ok { &answered } else { &failed }).fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    let (_, restart, stderr) = stack.cli_json(
        &["restart", "--stack", "demo", "site", "--instance", &solr, "--wait", "--json", "--timeout", "300"],
        None,
    );
    // At once, no waiting: the restart ended only once Solr answered its ping.
    let after = search(&client, "title:drover").await;
    done.store(true, Ordering::SeqCst);
    poller.await.unwrap();
    assert_eq!(restart["status"], "successful", "{restart:#} {stderr}");
    let id = restart["commands"][0]["id"].as_i64().unwrap();
    let log = stack.client().command_log(id, 0, Duration::ZERO).await.unwrap().data;
    assert!(log.contains("solr answers /solr/plone/admin/ping after"), "{log}");
    assert_ne!(stack.service_pid("demo", &solr, "solr"), solr_pid, "Solr was restarted");
    let after = after.expect("Solr answers as soon as its restart is done");
    assert_eq!(after["response"]["numFound"], 1, "the document survived the restart: {after}");
    assert_eq!(failed.load(Ordering::SeqCst), 0, "the client answered throughout");
    assert!(answered.load(Ordering::SeqCst) > 20, "the client was asked during the restart");
    assert_eq!(client_status(&client).await.unwrap()["pid"], client_pid, "the client was not restarted");
}
