//! RelStorage on a real PostgreSQL (a cluster of the test's own, `support::postgres`): a stack
//! with `plone_instances.enable_relstorage` and two client instances, no ZEO server. The demo
//! buildout's `cfg/relstorage.cfg` makes the clients open RelStorage from deploy.cfg's
//! `[relstorage]`; a write through one client is read through the other. The database password
//! is given in the stack's Custom JSON only: it reaches deploy.cfg (0600) and the database, and
//! nothing that shows the stack, its releases or its logs. The clients share RelStorage's cache in
//! a memcached of the test's own (`cache_servers`). `bin/zodbpack` packs to `pack_days`, in one
//! stage or two (`two_stage_pack`).

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::{Value, json};

use crate::console::Browser;
use crate::support::memcached::Memcached;
use crate::support::postgres::{Postgres, alive};
use crate::support::{TestStack, client_commit, client_status, eventually};

/// A first RelStorage build fetches RelStorage, psycopg2-binary and ZODB from PyPI.
const BUILD_TIMEOUT: &str = "900";
const WAIT: Duration = Duration::from_secs(120);
/// A quote and a backslash on purpose: the client must pass it to libpq intact.
const PASSWORD: &str = "Zz9-relstorage-db-pw'\\x";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_client_instances_share_one_postgresql_and_the_password_is_never_shown() {
    let pg = Postgres::start();
    pg.create_database("zodb", "zodb", PASSWORD);
    let memcached = Memcached::start();

    let stack = TestStack::start().await;
    stack.create_stack("rs", &[("clients", "plone_instances")]);
    let doc = json!({"plone_instances": {"enable_relstorage": true, "relstorage": {
        "db": {"host": pg.host(), "port": pg.port, "name": "zodb", "user": "zodb", "password": PASSWORD},
        "cache_servers": memcached.address(),
        "enable_pack": true,
        "pack_days": 0
    }}});
    let file = stack.dir.path().join("relstorage.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    stack.cli_ok(&["stack", "set-json", "--stack", "rs", file.to_str().unwrap()]);
    let hosts: Vec<String> =
        (0..2).map(|_| stack.create_online_instance_with("rs", &["clients"], &["--cpu-count", "1"])).collect();
    stack.create_demo_app("rs", &["clients"]);

    let (code, deployment, stderr) =
        stack.cli_json(&["deploy", "--stack", "rs", "site", "--wait", "--json", "--timeout", BUILD_TIMEOUT], None);
    let id = deployment["id"].as_i64().unwrap_or_else(|| panic!("no deployment: {stderr}"));
    let logs = stack.cli(&["deployment", "show", &id.to_string(), "--logs"]);
    let logs = String::from_utf8_lossy(&logs.stdout).into_owned();
    assert_eq!(code, Some(0), "{deployment:#}\n{logs}\n{}", pg.log());
    assert_eq!(deployment["status"], "successful", "{deployment:#}\n{logs}");

    // Two clients, one on each instance, both on RelStorage; no ZEO server anywhere.
    let mut addresses = Vec::new();
    for host in &hosts {
        let address = format!("{}:8081", stack.instance("rs", host).await.address.unwrap());
        let status = eventually(WAIT, "the client answers", || client_status(&address)).await;
        assert_eq!(status["storage"], "relstorage", "{status:#}");
        assert!(stack.service_pid("rs", host, "zeoserver").is_none(), "no ZEO server on {host}");
        let cfg_path = stack.instance_root("rs", host).join("srv/www/site/current/deploy.cfg");
        let cfg = std::fs::read_to_string(&cfg_path).unwrap();
        assert!(cfg.contains("[relstorage]") && !cfg.contains("[zeo-host]"), "{cfg}");
        assert!(cfg.contains(&format!("servers = {}", memcached.address())), "[memcached] in deploy.cfg");
        assert!(cfg.contains(&format!("password = {PASSWORD}")), "deploy.cfg has the password");
        let mode = std::fs::metadata(&cfg_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is {mode:o}", cfg_path.display());
        addresses.push(address);
    }

    // Not in any process's argv or environment (the clients, the agents, postgres): the clients
    // read it from deploy.cfg.
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if entry.file_name().to_str().is_none_or(|n| n.parse::<u32>().is_err()) {
            continue;
        }
        for file in ["cmdline", "environ"] {
            let raw = std::fs::read(entry.path().join(file)).unwrap_or_default();
            let text = String::from_utf8_lossy(&raw);
            assert!(!text.contains(PASSWORD), "{}/{file} holds the password: {text}", entry.path().display());
        }
    }

    // A write on one client is read on the other: they share the database.
    let before = client_status(&addresses[1]).await.unwrap()["hits"].as_i64().unwrap();
    let written = eventually(WAIT, "a commit through the first client", || client_commit(&addresses[0])).await;
    assert_eq!(written, before + 1);
    let read = eventually(WAIT, "the second client to see the write", || async {
        client_status(&addresses[1]).await.filter(|s| s["hits"] == written)
    })
    .await;
    assert_eq!(read["client"], "client1");
    // RelStorage shares its object cache in the memcached that cache_servers names (enable_cache
    // is on by default).
    assert!(memcached.stat("cmd_set") > 0, "the clients stored objects in memcached");
    // And the database holds it: RelStorage's tables in the database the stack names.
    let tables = pg.sql("zodb", "SELECT count(*) FROM pg_tables WHERE tablename = 'object_state';");
    assert_eq!(tables.trim(), "1", "RelStorage's schema is in the test's database");
    // The other way round too.
    let again = eventually(WAIT, "a commit through the second client", || client_commit(&addresses[1])).await;
    eventually(WAIT, "the first client to see it", || async {
        client_status(&addresses[0]).await.filter(|s| s["hits"] == again)
    })
    .await;

    // bin/zodbpack packs to pack_days (0: now): the old revisions of the root object go, the
    // newest stays and the clients still read it. Run through `drover exec`, whose output is kept.
    let revisions =
        || pg.sql("zodb", "SELECT count(*) FROM object_state WHERE zoid = 0;").trim().parse::<i64>().unwrap();
    assert!(revisions() >= 3, "history-preserving RelStorage keeps each revision of the root");
    let pack_out = zodbpack(&stack, &hosts[0], "zodbpack");
    assert!(pack_out.contains("packing RelStorage") && pack_out.contains("to 0 day(s) ago"), "{pack_out}");
    assert_eq!(revisions(), 1, "packed to now: only the newest revision of the root is left");
    for address in &addresses {
        assert_eq!(client_status(address).await.unwrap()["hits"], again, "{address} after the pack");
    }

    // In two stages (two_stage_pack): a new release with bin/zodbpack-prepack, which removes
    // nothing, and bin/zodbpack-pack, which removes what the first found.
    let mut two_stage = doc.clone();
    two_stage["plone_instances"]["relstorage"]["two_stage_pack"] = json!(true);
    std::fs::write(&file, two_stage.to_string()).unwrap();
    stack.cli_ok(&["stack", "set-json", "--stack", "rs", file.to_str().unwrap()]);
    let (code, second, stderr) =
        stack.cli_json(&["deploy", "--stack", "rs", "site", "--wait", "--json", "--timeout", BUILD_TIMEOUT], None);
    let second_id = second["id"].as_i64().unwrap_or_else(|| panic!("no deployment: {stderr}"));
    assert_eq!((code, &second["status"]), (Some(0), &json!("successful")), "{second:#}");
    for _ in 0..2 {
        eventually(WAIT, "a commit after the redeploy", || client_commit(&addresses[0])).await;
    }
    let before_pack = revisions();
    assert!(before_pack >= 2, "new revisions of the root: {before_pack}");
    let prepack_out = zodbpack(&stack, &hosts[1], "zodbpack-prepack");
    assert!(prepack_out.contains("pre-packing RelStorage") && prepack_out.contains("to 0 day(s) ago"), "{prepack_out}");
    assert_eq!(revisions(), before_pack, "the pre-pack removes nothing");
    let second_pack_out = zodbpack(&stack, &hosts[1], "zodbpack-pack");
    assert!(second_pack_out.contains("packing (pre-packed) RelStorage"), "{second_pack_out}");
    assert_eq!(revisions(), 1, "the second stage removes the old revisions");

    // The password is shown nowhere: not in the configuration at any level, the releases (their
    // deploy.cfg is shown redacted), the deployment's logs, the stack file export, the server log
    // or the web console's pages.
    let mut shown: Vec<(String, String)> = Vec::new();
    let mut show = |what: &str, args: &[&str]| {
        let out = stack.cli(args);
        assert_eq!(out.status.code(), Some(0), "{what}: {}", String::from_utf8_lossy(&out.stderr));
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        shown.push((what.to_owned(), text));
    };
    show("stack config", &["stack", "config", "--stack", "rs"]);
    show("stack config --json", &["stack", "config", "--stack", "rs", "--json"]);
    for host in &hosts {
        show("stack config --instance", &["stack", "config", "--stack", "rs", "--instance", host, "--json"]);
    }
    show("release list", &["release", "list", "--stack", "rs", "site", "--json"]);
    show("deployment show --logs", &["deployment", "show", &id.to_string(), "--logs"]);
    show("deployment show --json", &["deployment", "show", &id.to_string(), "--logs", "--json"]);
    show("second deployment", &["deployment", "show", &second_id.to_string(), "--logs", "--json"]);
    show("status", &["status", "--stack", "rs", "--json"]);
    show("export", &["export", "--stack", "rs"]);
    shown.push(("server log".to_owned(), stack.server_log()));
    let mut browser = Browser::new(&stack);
    browser.sign_in(&stack.admin_token()).await;
    let mut pages = vec![
        "/stacks/rs".to_owned(),
        "/stacks/rs/custom-json".to_owned(),
        "/stacks/rs/apps/site/releases".to_owned(),
        format!("/deployments/{id}"),
    ];
    pages.extend(hosts.iter().map(|h| format!("/stacks/rs/instances/{h}/config")));
    for page in pages {
        let got = browser.get(&page).await;
        assert_eq!(got.status, 200, "console {page}: {}", got.body);
        if page.ends_with("/custom-json") || page.ends_with("/config") {
            assert!(got.body.contains("relstorage"), "console {page} shows the RelStorage settings: {}", got.body);
        }
        shown.push((format!("console {page}"), got.body));
    }
    for (what, out) in [("zodbpack", pack_out), ("zodbpack-prepack", prepack_out), ("zodbpack-pack", second_pack_out)] {
        shown.push((format!("{what} through drover exec"), out));
    }
    let releases: Value =
        serde_json::from_str(&shown.iter().find(|(w, _)| w == "release list").unwrap().1).unwrap_or(Value::Null);
    assert!(releases.to_string().contains("[relstorage]"), "the releases show deploy.cfg: {releases:#}");
    for (what, text) in &shown {
        // Also a part of it long enough to be unmistakable (a redaction that kept a prefix).
        for needle in [PASSWORD, "Zz9-relstorage-db-pw"] {
            assert!(!text.contains(needle), "{what} shows the database password:\n{text}");
        }
    }

    // The cluster stops with its guard, by its pid.
    let postmaster = pg.postmaster_pid().expect("the postmaster's pid");
    drop(stack);
    drop(pg);
    assert!(!alive(postmaster), "postgres {postmaster} still runs after its guard was dropped");
}

/// Runs the current release's `bin/<script>` on `host` through `drover exec`: its output.
fn zodbpack(stack: &TestStack, host: &str, script: &str) -> String {
    let path = format!("srv/www/site/current/bin/{script}");
    let out = stack.cli(&["exec", "--stack", "rs", "--instance", host, "--kill-after", "300", "--", &path]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{script}: {text}");
    assert!(text.contains("packed in"), "{script}: {text}");
    text
}
