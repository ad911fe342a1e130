//! ZODB upkeep on the demo buildout for real: collective.recipe.backup's `bin/backup` and
//! `bin/restore`, plone.recipe.zeoserver's `bin/zeopack`, run by the server as deployments on
//! the ZEO server's instance, on demand and on their schedule (read at a clock the test
//! controls, `--schedule-clock-file`).

use std::path::Path;
use std::time::Duration;

use drover_proto::api::Deployment;
use drover_proto::zodb::BackupList;
use serde_json::json;

use crate::support::{Options, TestStack, client_commit, client_status, eventually};

const WAIT: Duration = Duration::from_secs(300);

/// Monday 2026-11-30 00:00 UTC.
const MONDAY: i64 = 1_795_996_800;

fn set_clock(file: &Path, hour: i64, minute: i64) {
    std::fs::write(file, (MONDAY + hour * 3600 + minute * 60).to_string()).unwrap();
}

fn run_json(stack: &TestStack, args: &[&str]) -> (Option<i32>, Deployment, String) {
    let out = stack.cli(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let d: Deployment = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("drover {args:?} printed no deployment ({e}): {stderr}"));
    (out.status.code(), d, stderr)
}

async fn pack_deployments(stack: &TestStack) -> Vec<Deployment> {
    let all = stack.client().deployments("demo").await.unwrap();
    all.into_iter().filter(|d| d.kind == "zodb_pack").collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_restore_brings_the_first_write_back_and_packs_run_on_schedule_and_on_demand() {
    let clock_dir = tempfile::tempdir().unwrap();
    let clock = clock_dir.path().join("clock");
    set_clock(&clock, 0, 0);
    let options = Options {
        server_args: vec!["--schedule-clock-file".into(), clock.to_string_lossy().into_owned()],
        ..Options::default()
    };
    let stack = TestStack::start_with(options).await;
    let custom = stack.data_dir().join("zodb.json");
    let doc = json!({"plone_zeoserver": {"enable_backup": true, "pack_schedule": "30 2 * * *"}});
    std::fs::write(&custom, doc.to_string()).unwrap();
    stack.cli_ok(&["stack", "create", "demo", "--custom-json", custom.to_str().unwrap()]);
    stack.cli_ok(&["layer", "create", "--stack", "demo", "zeoserver", "--type", "zeoserver"]);
    stack.cli_ok(&["layer", "create", "--stack", "demo", "clients", "--type", "plone_instances"]);
    stack.create_zeo_and_client_instance("demo");
    stack.create_demo_app("demo", &["zeoserver", "clients"]);
    let (code, d, stderr) =
        run_json(&stack, &["deploy", "--stack", "demo", "site", "--wait", "--json", "--timeout", "900"]);
    assert_eq!(code, Some(0), "{d:#?}\n{stderr}");
    let address = stack.instance("demo", "zeoserver1").await.address.unwrap();
    let c1 = format!("{address}:8081");

    // Write, back up, write again.
    let first = eventually(WAIT, "a first commit", || client_commit(&c1)).await;
    let (code, d, stderr) = run_json(&stack, &["zodb", "backup", "--stack", "demo", "--wait", "--json"]);
    assert_eq!((code, d.kind.as_str(), d.status.as_str()), (Some(0), "zodb_backup", "successful"), "{d:#?}\n{stderr}");
    let listed = stack.cli_ok(&["zodb", "backups", "--stack", "demo", "--json"]);
    let list: BackupList = serde_json::from_str(&listed).unwrap();
    assert_eq!(list.instance, "zeoserver1");
    let backup = list.backups.last().unwrap_or_else(|| panic!("no backup listed: {listed}")).clone();
    assert!(backup.size > 0 && backup.dir == "backups", "{backup:?}");
    assert!(list.files.iter().any(|f| f.dir == "blobstoragebackups"), "{listed}");
    let table = stack.cli_ok(&["zodb", "backups", "--stack", "demo"]);
    assert!(table.contains(&backup.name), "{table}");
    let second = client_commit(&c1).await.unwrap();
    assert_eq!(second, first + 1);

    // Restore: the second write is gone, the first is there, and the downtime is told.
    let (code, d, stderr) = run_json(&stack, &["zodb", "restore", "--stack", "demo", &backup.name, "--wait", "--json"]);
    assert_eq!((code, d.status.as_str()), (Some(0), "successful"), "{d:#?}\n{stderr}");
    assert_eq!(d.commands.iter().map(|c| c.batch).collect::<Vec<_>>().len(), 3, "stop, restore, start: {d:#?}");
    assert!(stderr.contains("the site was down for "), "{stderr}");
    let events = stack.cli_ok(&["events", "--stack", "demo"]);
    assert!(events.contains(&format!("restore (deployment {}, successful): the site was down for ", d.id)), "{events}");
    let after = eventually(WAIT, "client1 back after the restore", || client_status(&c1)).await;
    assert_eq!(after["hits"], first, "the restore brought back the first write only: {after}");
    // Bad names are refused before anything stops.
    let out = stack.cli(&["zodb", "restore", "--stack", "demo", "../../etc/passwd"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a backup's name"));

    // The pack schedule (daily 02:30): first seen at 00:00, due once the clock passes 02:30.
    assert!(pack_deployments(&stack).await.is_empty());
    set_clock(&clock, 2, 31);
    let scheduled = eventually(WAIT, "the scheduled pack", || async {
        pack_deployments(&stack).await.into_iter().find(|d| d.status != "running")
    })
    .await;
    assert_eq!(scheduled.status, "successful", "{scheduled:#?}");
    assert!(scheduled.comment.as_deref().unwrap_or_default().contains("scheduled pack"), "{scheduled:#?}");

    // On demand.
    let (code, d, stderr) = run_json(&stack, &["zodb", "pack", "--stack", "demo", "--wait", "--json"]);
    assert_eq!((code, d.status.as_str()), (Some(0), "successful"), "{d:#?}\n{stderr}");
    assert_eq!(pack_deployments(&stack).await.len(), 2, "the schedule ran once for 02:30");

    // A broken pack script fails, and `status` shows it.
    let root = stack.instance_root("demo", "zeoserver1");
    std::fs::remove_file(root.join("srv/www/site/current/bin/zeopack")).unwrap();
    let (code, d, _) = run_json(&stack, &["zodb", "pack", "--stack", "demo", "--wait", "--json"]);
    assert_eq!((code, d.status.as_str()), (Some(1), "failed"), "{d:#?}");
    let status = stack.cli_ok(&["status", "demo"]);
    let id = d.id.to_string();
    assert!(
        status
            .lines()
            .any(|l| l.split_whitespace().take(3).collect::<Vec<_>>() == [id.as_str(), "zodb_pack", "failed"]),
        "{status}"
    );
}
