//! One commit per deployment: the server resolves the revision once, every instance builds that
//! commit whatever the branch does meanwhile, and the app stays pinned to what it runs, so a new
//! instance after a rollback builds the rolled-back commit, not the branch head.

use std::time::Duration;

use serde_json::Value;

use crate::support::{TestStack, client_status, eventually};

const DEPLOY_WAIT: Duration = Duration::from_secs(900);

fn wait_for(stack: &TestStack, id: i64) -> Value {
    let (_, json, stderr) = stack.cli_json(&["deployment", "show", &id.to_string(), "--follow", "--json"], None);
    assert!(!json.is_null(), "deployment {id} printed nothing: {stderr}");
    json
}

async fn current_sha(stack: &TestStack, host: &str) -> String {
    let releases = stack.client().releases("pin", "site").await.unwrap();
    releases.into_iter().find(|r| r.instance == host && r.current).map(|r| r.sha).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_instance_builds_the_resolved_commit_and_rollbacks_stick_for_new_instances() {
    let stack = TestStack::start().await;
    stack.create_stack("pin", &[("zeoserver", "zeoserver"), ("clients", "plone_instances")]);
    stack.create_online_instance("pin", &["zeoserver"]);
    for _ in 0..2 {
        stack.cli_ok(&["instance", "create", "--stack", "pin", "--layer", "clients", "--cpu-count", "1", "--wait"]);
    }
    let repo = stack.create_demo_app("pin", &["zeoserver", "clients"]);
    let v1 = repo.write_and_commit("release-mark.txt", "v1\n", "v1");

    // A rolling deploy, one instance at a time; the branch moves to v2 right after it was
    // created, while its later batches still wait.
    let (_, created, stderr) =
        stack.cli_json(&["deploy", "--stack", "pin", "site", "--rolling", "--json", "--kill-after", "900"], None);
    assert_eq!(created["commit"], v1.as_str(), "the deployment shows the commit it resolved: {created:#} {stderr}");
    let v2 = repo.write_and_commit("release-mark.txt", "v2\n", "v2 (not deployed)");
    let first = wait_for(&stack, created["id"].as_i64().unwrap());
    assert_eq!(first["status"], "successful", "{first:#}");
    for host in ["zeoserver1", "clients1", "clients2"] {
        assert_eq!(current_sha(&stack, host).await, v1, "{host} builds the deployment's commit, not the moved branch");
    }
    let shown = stack.cli_ok(&["app", "show", "--stack", "pin", "site"]);
    assert!(shown.contains(&format!("pinned to commit {v1} (deployed by deployment {},", first["id"])), "{shown}");

    // A deploy without a revision moves the pin to the branch head; a rollback pins what it
    // went back to.
    let (_, second, _) =
        stack.cli_json(&["deploy", "--stack", "pin", "site", "--wait", "--json", "--timeout", "900"], None);
    assert_eq!(
        (second["status"].as_str(), second["commit"].as_str()),
        (Some("successful"), Some(v2.as_str())),
        "{second:#}"
    );
    assert_eq!(current_sha(&stack, "clients1").await, v2);
    let (_, back, _) =
        stack.cli_json(&["rollback", "--stack", "pin", "site", "--wait", "--json", "--timeout", "900"], None);
    assert_eq!(back["status"], "successful", "{back:#}");
    let app = stack.client().app("pin", "site").await.unwrap();
    let pin = app.pinned.expect("a pin");
    assert_eq!(
        (pin.commit.as_str(), pin.reason.as_str(), pin.deployment),
        (v1.as_str(), "rolled_back", back["id"].as_i64().unwrap())
    );

    // The branch moves again without a deploy; a new instance builds the pinned commit.
    let v3 = repo.write_and_commit("release-mark.txt", "v3\n", "v3 (not deployed)");
    stack.cli_ok(&["instance", "create", "--stack", "pin", "--layer", "clients", "--cpu-count", "1", "--wait"]);
    let sha = eventually(DEPLOY_WAIT, "clients3's deploy after Setup", || async {
        Some(current_sha(&stack, "clients3").await).filter(|s| !s.is_empty())
    })
    .await;
    assert_eq!(sha, v1, "a new instance builds the rolled-back commit, not the branch head {v3}");
    let address = format!("{}:8081", stack.instance("pin", "clients3").await.address.unwrap());
    let status = eventually(DEPLOY_WAIT, "clients3 to answer", || client_status(&address)).await;
    assert_eq!(status["mark"], "v1");

    // A revision that names nothing is refused at once, naming it, and changes nothing.
    let before = stack.client().deployments("pin").await.unwrap().len();
    let nope = serde_json::json!({"deploy": {"site": {"scm": {"revision": "no-such-branch"}}}});
    let (code, _, stderr) = stack.cli_json(&["deploy", "--stack", "pin", "site", "--json"], Some(nope));
    assert_ne!(code, Some(0));
    assert!(stderr.contains("no-such-branch"), "{stderr}");
    assert_eq!(stack.client().deployments("pin").await.unwrap().len(), before, "a refused deploy creates nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_checkout_release_has_its_history_for_git_describe() {
    let stack = TestStack::start().await;
    stack.create_stack("scm", &[("clients", "plone_instances")]);
    let doc = stack.dir.path().join("scm.json");
    std::fs::write(&doc, serde_json::json!({"deploy": {"site": {"scm": {"checkout": "full"}}}}).to_string()).unwrap();
    stack.cli_ok(&["stack", "set-json", "--stack", "scm", doc.to_str().unwrap()]);
    stack.cli_ok(&["instance", "create", "--stack", "scm", "--layer", "clients", "--cpu-count", "1", "--wait"]);
    let repo = stack.create_demo_app("scm", &["clients"]);
    repo.tag("v1.0");
    let sha = repo.write_and_commit("release-mark.txt", "after the tag\n", "one commit after v1.0");
    let (_, d, stderr) =
        stack.cli_json(&["deploy", "--stack", "scm", "site", "--wait", "--json", "--timeout", "900"], None);
    assert_eq!(d["status"], "successful", "{d:#} {stderr}");
    let release = stack.instance_root("scm", "clients1").join("srv/www/site/current");
    let described =
        std::process::Command::new("git").args(["describe", "--tags"]).current_dir(&release).output().unwrap();
    let described = String::from_utf8_lossy(&described.stdout).trim().to_owned();
    assert!(described.starts_with("v1.0-1-g"), "git describe in the release says {described:?}");
    let head = std::process::Command::new("git").args(["rev-parse", "HEAD"]).current_dir(&release).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&head.stdout).trim(),
        sha,
        "the release is a checkout of the deployment's commit"
    );
}
