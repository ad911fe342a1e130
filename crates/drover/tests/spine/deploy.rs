//! Deploying the example buildout for real: git, zc.buildout, ZEO, supervised clients.

use std::time::Duration;

use drover_proto::api::ReleaseView;
use serde_json::{Value, json};

use crate::support::{TestStack, client_commit, client_status, eventually};

/// How long a client may take to answer after a deploy or restart.
const ANSWER_WAIT: Duration = Duration::from_secs(90);

/// Runs `drover deploy|rollback ... --wait --json` and returns the finished deployment.
fn run(stack: &TestStack, verb: &str, extra: &[&str], custom_json: Option<Value>) -> Value {
    let mut args = vec![verb, "--stack", "demo", "site", "--wait", "--json", "--timeout", "900"];
    args.extend(extra);
    let (_, json, stderr) = stack.cli_json(&args, custom_json);
    assert!(!json.is_null(), "drover {args:?} printed no deployment: {stderr}");
    json
}

fn command_of<'a>(deployment: &'a Value, host: &str) -> &'a Value {
    deployment["commands"].as_array().unwrap().iter().find(|c| c["instance"] == host).unwrap()
}

async fn releases(stack: &TestStack, host: &str) -> Vec<ReleaseView> {
    stack.client().releases("demo", "site").await.unwrap().into_iter().filter(|r| r.instance == host).collect()
}

async fn current(stack: &TestStack, host: &str) -> ReleaseView {
    releases(stack, host).await.into_iter().find(|r| r.current).expect("a current release")
}

/// Waits until the client at `address` answers from `release`.
async fn answers_from(address: &str, release: &str) -> Value {
    eventually(ANSWER_WAIT, &format!("{address} to answer from {release}"), || async {
        client_status(address).await.filter(|s| s["release"] == release)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploys_hit_every_case_keep_serving_through_a_failed_build_and_roll_back() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver"), ("clients", "plone_instances")]);
    stack.create_online_instance("demo", &["zeoserver"]);
    stack.cli_ok(&["instance", "create", "--stack", "demo", "--layer", "clients", "--cpu-count", "1", "--wait"]);
    let web = stack.instance("demo", "clients1").await.address.unwrap();
    let (c1, c2, c3) = (format!("{web}:8081"), format!("{web}:8082"), format!("{web}:8083"));
    let repo = stack.create_demo_app("demo", &["zeoserver", "clients"]);

    // Case 2: the first deploy builds a release from the default branch everywhere.
    let d = run(&stack, "deploy", &[], None);
    assert_eq!(d["status"], "successful", "{d:#}");
    let first = current(&stack, "clients1").await;
    assert_eq!(first.case, "new_revision");
    assert_eq!(current(&stack, "zeoserver1").await.case, "new_revision");
    assert!(
        first.deploy_cfg.contains("[zeo-host]") && first.deploy_cfg.contains(&format!("http-address = {c2}")),
        "{}",
        first.deploy_cfg
    );
    let s1 = answers_from(&c1, &first.name).await;
    answers_from(&c2, &first.name).await;
    // Both clients commit through the one ZEO server.
    let hits = eventually(ANSWER_WAIT, "a commit through client1", || client_commit(&c1)).await;
    let seen = client_status(&c2).await.unwrap();
    assert_eq!(seen["hits"], hits, "client2 sees client1's commit through ZEO");

    // Case 5: nothing changed; nothing is rebuilt or restarted.
    let d = run(&stack, "deploy", &[], None);
    assert_eq!(d["status"], "successful");
    assert_eq!(releases(&stack, "clients1").await.len(), 1);
    assert_eq!(client_status(&c1).await.unwrap()["pid"], s1["pid"], "an unchanged deploy restarts nothing");

    // Case 3: same commit, deploy.cfg changes (three clients): a new release, on clients1 only.
    let three = json!({"plone_instances": {"instance_count": 3}});
    let d = run(&stack, "deploy", &[], Some(three.clone()));
    assert_eq!(d["status"], "successful", "{d:#}");
    let config_changed = current(&stack, "clients1").await;
    assert_eq!((config_changed.case.as_str(), config_changed.sha.as_str()), ("config_changed", first.sha.as_str()));
    assert_eq!(releases(&stack, "zeoserver1").await.len(), 1, "the ZEO server's config did not change");
    answers_from(&c3, &config_changed.name).await;

    // Case 4: same commit and config, always_build_on_deploy: rebuilt everywhere.
    let forced =
        json!({"plone_instances": {"instance_count": 3}, "deploy": {"site": {"always_build_on_deploy": true}}});
    let d = run(&stack, "deploy", &[], Some(forced));
    assert_eq!(d["status"], "successful", "{d:#}");
    let rebuilt = current(&stack, "clients1").await;
    assert_eq!(rebuilt.case, "forced_rebuild");
    assert_eq!(current(&stack, "zeoserver1").await.case, "forced_rebuild");
    answers_from(&c1, &rebuilt.name).await;

    // A broken commit: the build fails, current and the running clients stay as they were.
    let base = std::fs::read_to_string(repo.path.join("cfg/base.cfg")).unwrap();
    let broken = repo.write_and_commit(
        "cfg/base.cfg",
        &base.replace("extends = versions.cfg", "extends = versions.cfg missing.cfg"),
        "broken",
    );
    let d = run(&stack, "deploy", &[], Some(three.clone()));
    assert_eq!(d["status"], "failed", "{d:#}");
    let failed = command_of(&d, "clients1");
    assert_eq!(failed["status"], "failed");
    assert!(failed["reason"].as_str().unwrap().contains("buildout failed"), "{failed}");
    let log = stack.client().command_log(failed["id"].as_i64().unwrap(), 0, Duration::ZERO).await.unwrap();
    assert!(log.data.contains("missing.cfg"), "the log shows buildout's error: {}", log.data);
    assert_eq!(current(&stack, "clients1").await.name, rebuilt.name, "current is untouched");
    let kept = releases(&stack, "clients1").await;
    assert!(kept.iter().any(|r| r.sha == broken && r.outcome == "failed"), "the failed release is kept: {kept:?}");
    for address in [&c1, &c2, &c3] {
        answers_from(address, &rebuilt.name).await;
    }

    // A fixed commit deploys again (two clients: client3 stops). The ZEO server runs the same
    // script and configuration in the new release, so it keeps running.
    let zeo_pid = || stack.service_pid("demo", "zeoserver1", "zeoserver").expect("the ZEO server runs");
    let zeo_before = zeo_pid();
    repo.write_and_commit("cfg/base.cfg", &base, "fixed");
    let d = run(&stack, "deploy", &[], None);
    assert_eq!(d["status"], "successful", "{d:#}");
    let fixed = current(&stack, "clients1").await;
    assert_eq!(fixed.case, "new_revision");
    assert_eq!(current(&stack, "zeoserver1").await.case, "new_revision");
    assert_eq!(zeo_pid(), zeo_before, "the ZEO server was not restarted");
    answers_from(&c1, &fixed.name).await;
    eventually(ANSWER_WAIT, "client3 to stop", || async { client_status(&c3).await.is_none().then_some(()) }).await;

    // Rollback: to the previous good release; the one rolled back from is marked bad.
    let d = run(&stack, "rollback", &["--instance", "clients1"], None);
    assert_eq!(d["status"], "successful", "{d:#}");
    assert_eq!(current(&stack, "clients1").await.name, rebuilt.name);
    answers_from(&c1, &rebuilt.name).await;
    let after = releases(&stack, "clients1").await;
    assert_eq!(after.iter().find(|r| r.name == fixed.name).unwrap().outcome, "bad");
    // Rolling back again skips the failed build and the bad release.
    let d = run(&stack, "rollback", &["--instance", "clients1"], None);
    assert_eq!(d["status"], "successful", "{d:#}");
    assert_eq!(current(&stack, "clients1").await.name, config_changed.name);

    // keep_releases bounds history; pruning keeps current.
    let d = run(&stack, "deploy", &["--instance", "clients1"], Some(json!({"deploy": {"site": {"keep_releases": 2}}})));
    assert_eq!(d["status"], "successful", "{d:#}");
    let pruned = releases(&stack, "clients1").await;
    assert_eq!(pruned.len(), 2, "{pruned:?}");
    assert!(pruned.iter().any(|r| r.current));
}
