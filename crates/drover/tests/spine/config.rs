//! Stack configuration: versioned and validated Custom JSON, the effective configuration, the
//! Plone layers sized per instance, discovery of the ZEO server, and Configure runs that rebuild
//! and restart only where `deploy.cfg` changed.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{TestStack, client_commit, client_status, eventually};

const WAIT: Duration = Duration::from_secs(180);

fn write(stack: &TestStack, name: &str, doc: &Value) -> String {
    let path = stack.data_dir().join(name);
    std::fs::write(&path, doc.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

fn json_out(stack: &TestStack, args: &[&str]) -> Value {
    serde_json::from_str(&stack.cli_ok(args)).unwrap()
}

/// The pid of a supervised service, from its state file.
fn service_pid(root: &Path, service: &str) -> Option<i64> {
    let raw = std::fs::read(root.join(format!("srv/www/site/shared/run/{service}.json"))).ok()?;
    serde_json::from_slice::<Value>(&raw).ok()?["pid"].as_i64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_json_is_validated_versioned_revertable_and_redacted() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("clients", "plone_instances")]);

    // Invalid: every wrong path is named at once, and nothing is stored.
    let bad = json!({"plone_instances": {"per_cpu": -1, "zeo": {"address": "db.internal"}, "restart_delay": "soon"}});
    let file = write(&stack, "bad.json", &bad);
    let out = stack.cli(&["stack", "set-json", "--stack", "demo", &file]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for path in ["plone_instances.per_cpu", "plone_instances.zeo.address", "plone_instances.restart_delay"] {
        assert!(err.contains(path), "{path} is named: {err}");
    }
    assert!(err.contains("nothing was changed"), "{err}");
    let history = json_out(&stack, &["stack", "config", "history", "--stack", "demo", "--json"]);
    assert_eq!(history.as_array().unwrap().len(), 1, "only the version made at creation: {history:#}");

    // Not JSON at all: the CLI names the line.
    let broken = stack.data_dir().join("broken.json");
    std::fs::write(&broken, "{\n  \"plone_instances\": {\n    \"per_cpu\": ,\n  }\n}\n").unwrap();
    let out = stack.cli(&["stack", "set-json", "--stack", "demo", broken.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("line 3"), "{err}");

    // Valid, with a typo: kept, and the typo is named.
    let v2 = json!({"plone_instances": {"per_cpu": 1, "per_cpus": 3}, "haproxy": {"stats_password": "s3cret"}});
    let out = stack.cli(&[
        "stack",
        "set-json",
        "--stack",
        "demo",
        &write(&stack, "v2.json", &v2),
        "--comment",
        "one per cpu",
    ]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("version 2"), "{stdout}");
    assert!(stderr.contains("plone_instances.per_cpus") && stderr.contains("per_cpu"), "{stderr}");

    // The effective configuration: defaults filled in, the secret redacted.
    let effective = json_out(&stack, &["stack", "config", "--stack", "demo", "--json"]);
    assert_eq!(effective["config"]["plone_instances"]["per_cpu"], 1);
    assert_eq!(effective["config"]["plone_instances"]["zeo_layer"], "zeoserver");
    assert_eq!(effective["config"]["haproxy"]["health_check_url"], "/misc_/CMFPlone/plone_icon");
    assert_eq!(effective["config"]["haproxy"]["stats_password"], "<redacted>");
    assert!(!stack.cli_ok(&["stack", "show", "demo", "--json"]).contains("s3cret"));

    // A layer's Custom JSON is versioned on its own and takes precedence over the stack's.
    let layer_doc = json!({"plone_instances": {"per_cpu": 0.5}});
    stack.cli_ok(&["layer", "set-json", "--stack", "demo", "clients", &write(&stack, "layer.json", &layer_doc)]);
    let layer_history =
        json_out(&stack, &["stack", "config", "history", "--stack", "demo", "--layer", "clients", "--json"]);
    assert_eq!(layer_history[0]["version"], 2);

    // A redacted value sent back keeps the stored secret; a real change makes version 3.
    let mut v3 = effective["config"].clone();
    v3 = json!({"plone_instances": {"per_cpu": 2}, "haproxy": {"stats_password": v3["haproxy"]["stats_password"]}});
    stack.cli_ok(&["stack", "set-json", "--stack", "demo", &write(&stack, "v3.json", &v3)]);
    let diff = stack.cli_ok(&["stack", "config", "diff", "--stack", "demo", "2", "3"]);
    assert!(diff.contains("-    \"per_cpu\": 1,") && diff.contains("+    \"per_cpu\": 2"), "{diff}");
    assert!(diff.contains("-    \"per_cpus\": 3"), "{diff}");
    assert!(!diff.contains("s3cret"), "{diff}");
    let diff_json = json_out(&stack, &["stack", "config", "diff", "--stack", "demo", "2", "3", "--json"]);
    assert_eq!((diff_json["from"].as_i64(), diff_json["to"].as_i64()), (Some(2), Some(3)), "{diff_json}");
    assert!(diff_json["diff"].as_str().unwrap().contains("+    \"per_cpu\": 2"), "{diff_json}");

    // Setting the same document again changes nothing.
    let same = stack.cli_ok(&["stack", "set-json", "--stack", "demo", &write(&stack, "v3b.json", &v3)]);
    assert!(same.contains("unchanged (version 3)"), "{same}");
    let same = json_out(&stack, &["stack", "set-json", "--stack", "demo", &write(&stack, "v3c.json", &v3), "--json"]);
    assert_eq!((&same["change"]["changed"], &same["change"]["version"]), (&json!(false), &json!(3)), "{same}");
    assert_eq!(same["configure"], json!(null), "{same}");

    // Revert brings version 2 back as version 4, secret included.
    let reverted = stack.cli_ok(&["stack", "config", "revert", "--stack", "demo", "2"]);
    assert!(reverted.contains("version 4"), "{reverted}");
    let history = json_out(&stack, &["stack", "config", "history", "--stack", "demo", "--json"]);
    assert_eq!(history[0]["version"], 4);
    assert_eq!(history[0]["custom_json"], history[2]["custom_json"]);
    assert_eq!(history[0]["comment"], "revert to version 2");
    let again = json_out(&stack, &["stack", "config", "revert", "--stack", "demo", "3", "--json"]);
    assert_eq!((&again["change"]["changed"], &again["change"]["version"]), (&json!(true), &json!(5)), "{again}");
    let out = stack.cli(&["stack", "config", "revert", "--stack", "demo", "99"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Custom JSON version 99"));

    // Bad hooks are refused naming the event.
    let out = stack.cli(&["layer", "update", "--stack", "demo", "clients", "--hook", "boot=echo hi"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hooks.boot"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_follow_the_zeo_server_and_configure_rebuilds_only_what_changed() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("zeoserver", "zeoserver"), ("clients", "plone_instances")]);
    let stack_json = json!({"plone_instances": {"per_cpu": 1}});
    stack.cli_ok(&["stack", "set-json", "--stack", "demo", &write(&stack, "stack.json", &stack_json)]);
    stack.cli_ok(&[
        "layer",
        "update",
        "--stack",
        "demo",
        "clients",
        "--hook",
        "configure=cp \"$DROVER_STACK_CONFIG\" \"$DROVER_ROOT/hook-config.json\" && test -f bin/client1",
    ]);
    stack.cli_ok(&["instance", "create", "--stack", "demo", "--layer", "zeoserver", "--wait"]);
    stack.cli_ok(&["instance", "create", "--stack", "demo", "--layer", "clients", "--cpu-count", "1", "--wait"]);
    stack.cli_ok(&["instance", "create", "--stack", "demo", "--layer", "clients", "--cpu-count", "2", "--wait"]);
    let stack = &stack;
    let address = |host: &'static str| async move { stack.instance("demo", host).await.address.unwrap() };
    let (zeo1, c1, c2) = (address("zeoserver1").await, address("clients1").await, address("clients2").await);
    let repo = stack.create_demo_app("demo", &["zeoserver", "clients"]);
    let out = stack.cli(&["deploy", "--stack", "demo", "site", "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    // Different CPU counts, different client counts, one formula (also in the stack config).
    let config = json_out(stack, &["stack", "config", "--stack", "demo", "--instance", "clients2", "--json"]);
    assert_eq!(config["config"]["opsworks"]["instance"]["hostname"], "clients2");
    let members = &config["config"]["opsworks"]["layers"]["clients"]["instances"];
    assert_eq!(
        (members["clients1"]["client_count"].clone(), members["clients2"]["client_count"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(
        config["config"]["opsworks"]["layers"]["zeoserver"]["instances"]["zeoserver1"]["private_ip"],
        zeo1.as_str()
    );
    assert_eq!(config["config"]["deploy"]["site"]["keep_releases"], 5);

    // Every client commits through the one ZEO server.
    let clients = [format!("{c1}:8081"), format!("{c2}:8081"), format!("{c2}:8082")];
    assert!(client_status(&format!("{c1}:8082")).await.is_none(), "clients1 has one CPU, so one client");
    let mut last = 0;
    for client in &clients {
        let status = eventually(WAIT, "the client to answer", || client_status(client)).await;
        assert_eq!(status["zeo"], format!("{zeo1}:8001"));
        let hits = eventually(WAIT, "a commit", || client_commit(client)).await;
        assert!(hits > last, "{client} saw the others' commits: {hits} after {last}");
        last = hits;
    }

    // A second ZEO server comes online: a Configure runs everywhere, but the clients keep the
    // first ZEO server (the one online the longest), so nothing is rebuilt.
    let releases_before = json_out(stack, &["release", "list", "--stack", "demo", "site", "--json"]);
    stack.cli_ok(&["instance", "create", "--stack", "demo", "--layer", "zeoserver", "--wait"]);
    let zeo2 = address("zeoserver2").await;
    let zeo2_root = stack.instance_root("demo", "zeoserver2");
    let zeo2_pid = eventually(WAIT, "zeoserver2's ZEO server", || async { service_pid(&zeo2_root, "zeoserver") }).await;
    let count = |v: &Value, host: &str| v.as_array().unwrap().iter().filter(|r| r["instance"] == host).count();

    // The first stops: leaving `online` runs Configure, which re-points the clients (a
    // config-only release on each client instance) and leaves zeoserver2 alone.
    stack.cli_ok(&["instance", "stop", "--stack", "demo", "zeoserver1", "--wait"]);
    for client in &clients {
        eventually(WAIT, "the re-pointed client", || async {
            client_status(client).await.filter(|s| s["zeo"] == format!("{zeo2}:8001"))
        })
        .await;
        eventually(WAIT, "a commit through the new ZEO server", || client_commit(client)).await;
    }
    let deployments = json_out(stack, &["deployment", "list", "--stack", "demo", "--json"]);
    let configures: Vec<&Value> = deployments.as_array().unwrap().iter().filter(|d| d["kind"] == "configure").collect();
    assert!(configures.len() >= 2, "Configure ran when instances came and went: {deployments:#}");
    assert_eq!(
        service_pid(&zeo2_root, "zeoserver"),
        Some(zeo2_pid),
        "zeoserver2's config did not change: not restarted"
    );
    // The clients answer before their Configure has reported (its services must stay up first).
    let want = count(&releases_before, "clients1") + 1;
    let releases_after = eventually(WAIT, "clients1's config-only release to be reported", || async {
        let releases = json_out(stack, &["release", "list", "--stack", "demo", "site", "--json"]);
        (count(&releases, "clients1") >= want).then_some(releases)
    })
    .await;
    assert_eq!(count(&releases_after, "zeoserver2"), 1, "{releases_after:#}");
    assert_eq!(count(&releases_after, "clients1"), count(&releases_before, "clients1") + 1, "{releases_after:#}");
    let new_release = releases_after
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["instance"] == "clients1" && r["current"] == true)
        .unwrap();
    assert_eq!(new_release["case"], "config_changed");

    // The configure hook ran in the app's release with the new stack configuration.
    let hook_config: Value = serde_json::from_slice(
        &std::fs::read(stack.instance_root("demo", "clients1").join("hook-config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(hook_config["opsworks"]["instance"]["hostname"], "clients1");
    assert!(hook_config["opsworks"]["layers"]["zeoserver"]["instances"].get("zeoserver1").is_none());

    // Nothing changed since: a Configure asked for by hand restarts nothing and builds nothing.
    let pids: Vec<Value> = {
        let mut pids = Vec::new();
        for client in &clients {
            pids.push(client_status(client).await.unwrap()["pid"].clone());
        }
        pids
    };
    let out = stack.cli(&["stack", "configure", "--stack", "demo", "--wait"]);
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(!log.contains("config_changed") && log.contains("deploy case: unchanged"), "{log}");
    for (client, pid) in clients.iter().zip(&pids) {
        assert_eq!(&client_status(client).await.unwrap()["pid"], pid, "{client} was not restarted");
    }
    // As JSON: the finished deployment on stdout, its logs on stderr.
    let configured = json_out(stack, &["stack", "configure", "--stack", "demo", "--wait", "--json"]);
    assert_eq!(
        (&configured["kind"], &configured["status"]),
        (&json!("configure"), &json!("successful")),
        "{configured}"
    );

    // A broken app template fails the deploy naming the template and line; nothing changes.
    let broken = "{% include \"builtin/deploy.cfg\" %}\n[site]\nid = {{ config.plone_instances.no_such_key.x }}\n";
    repo.write_and_commit("drover/templates/deploy.cfg.j2", broken, "a broken template");
    let releases_before = json_out(stack, &["release", "list", "--stack", "demo", "site", "--json"]);
    let out = stack.cli(&["deploy", "--stack", "demo", "site", "--wait"]);
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("drover/templates/deploy.cfg.j2, line 3"), "{log}");
    assert_eq!(json_out(stack, &["release", "list", "--stack", "demo", "site", "--json"]), releases_before);
    for (client, pid) in clients.iter().zip(&pids) {
        assert_eq!(&client_status(client).await.unwrap()["pid"], pid, "{client} kept serving");
    }

    // A working one: the app's own deploy.cfg (extending the built-in one) and another file.
    let template = "{% include \"builtin/deploy.cfg\" %}\n# site {{ config.plone_instances.site_id }}\n";
    repo.write_and_commit("drover/templates/deploy.cfg.j2", template, "an app template");
    let extra = "clients={{ clients | length }} zeo={{ zeo_address }}\n";
    repo.write_and_commit("drover/templates/etc/site.txt.j2", extra, "a generated file");
    let out = stack.cli(&["deploy", "--stack", "demo", "site", "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let current = stack.instance_root("demo", "clients2").join("srv/www/site/current");
    let generated = std::fs::read_to_string(current.join("etc/site.txt")).unwrap();
    assert_eq!(generated, format!("clients=2 zeo={zeo2}:8001\n"));
    let deploy_cfg = std::fs::read_to_string(current.join("deploy.cfg")).unwrap();
    assert!(deploy_cfg.ends_with("# site Plone\n") && deploy_cfg.contains("[client2]"), "{deploy_cfg}");
}
