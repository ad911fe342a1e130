//! Time-based instances: the server starts and stops them at their weekly UTC schedule's hours,
//! each time with an event that says why. The schedule is read at a clock the test controls
//! (`drover server --schedule-clock-file`, a test-only flag), so an hour passes in a write.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use drover_proto::scaling::InstanceScaling;

use crate::ONLINE_WAIT;
use crate::support::{Options, TestStack, cli_command};

/// Monday 2026-11-30 00:00 UTC.
const MONDAY: i64 = 1_795_996_800;

fn set_clock(file: &Path, hour: i64, minute: i64) {
    std::fs::write(file, (MONDAY + hour * 3600 + minute * 60).to_string()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_based_instance_starts_and_stops_at_its_schedule_s_hours() {
    let clock_dir = tempfile::tempdir().unwrap();
    let clock = clock_dir.path().join("clock");
    set_clock(&clock, 9, 30);
    let options = Options {
        server_args: vec!["--schedule-clock-file".into(), clock.to_string_lossy().into_owned()],
        ..Options::default()
    };
    let stack = TestStack::start_with(options).await;
    stack.create_stack("demo", &[("web", "custom")]);
    let host = stack.create_online_instance("demo", &["web"]);

    // Bad schedules are refused, naming the field, and change nothing.
    let out = stack.cli(&["instance", "schedule", "--stack", "demo", &host, "--on", "someday 08-18"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("on") && stderr.contains("someday"), "{stderr}");
    let out = stack.cli(&["instance", "update", "--stack", "demo", &host, "--scaling", "24x7"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stack.instance("demo", &host).await.scaling, "24/7");

    // Monday 09:30, outside its hours: the schedule stops it.
    let shown = stack.cli_ok(&["instance", "schedule", "--stack", "demo", &host, "--on", "mon 10-11", "--json"]);
    let scaling: InstanceScaling = serde_json::from_str(&shown).unwrap();
    assert_eq!(scaling.scaling, "time");
    assert_eq!(scaling.schedule.as_deref(), Some("mon 10-11"));
    assert_eq!(scaling.wants_online, Some(false));
    assert_eq!(scaling.next_change.as_deref(), Some("2026-11-30T10:00:00.000Z"));
    stack.wait_status("demo", &host, "stopped", ONLINE_WAIT).await;

    // `drover status` tells when the schedule next changes its mind.
    let status = stack.cli_ok(&["status", "demo"]);
    let line = status.lines().find(|l| l.starts_with(host.as_str()) && l.contains("mon 10-11"));
    let line = line.unwrap_or_else(|| panic!("no time-based row for {host} in:\n{status}"));
    assert!(line.contains("stopped") && line.contains("2026-11-30T10:00:00.000Z (start)"), "{status}");
    assert!(status.contains("time-based instances (UTC):"), "{status}");
    // The stack by `--stack` or DROVER_STACK as well as by position; none at all is a usage error.
    assert_eq!(stack.cli_ok(&["status", "--stack", "demo"]), status);
    let by_env = cli_command(&stack.url(), &stack.admin_token(), &["status"]).env("DROVER_STACK", "demo").output();
    assert_eq!(String::from_utf8_lossy(&by_env.unwrap().stdout), status);
    let listed =
        cli_command(&stack.url(), &stack.admin_token(), &["instance", "list"]).env("DROVER_STACK", "demo").output();
    assert!(String::from_utf8_lossy(&listed.unwrap().stdout).contains(host.as_str()));
    // `drover login --stack` saves a default stack with the token (0600); the token comes from a
    // file or stdin, never argv.
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("admin.token");
    std::fs::write(&token_file, stack.admin_token()).unwrap();
    let as_logged_in = |args: &[&str]| {
        let mut command = cli_command(&stack.url(), "", args);
        command.env("HOME", home.path()).env_remove("DROVER_TOKEN");
        command.output().unwrap()
    };
    let login = as_logged_in(&["login", "--token-file", token_file.to_str().unwrap(), "--stack", "demo"]);
    assert!(login.status.success(), "{}", String::from_utf8_lossy(&login.stderr));
    let saved = home.path().join(".config/drover/login.json");
    assert_eq!(std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(String::from_utf8_lossy(&as_logged_in(&["status"]).stdout), status);
    let out = as_logged_in(&["login", "--stack", "no such stack"]);
    assert_eq!(out.status.code(), Some(2), "a bad default stack is refused");

    let out = stack.cli(&["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--stack NAME (or set DROVER_STACK)"));

    // 10:00: it starts, and comes online.
    set_clock(&clock, 10, 0);
    stack.wait_status("demo", &host, "online", ONLINE_WAIT).await;
    let status = stack.client().stack_status("demo").await.unwrap();
    let timed = status.time_scaling.iter().find(|i| i.hostname == host).expect("the time-based instance in status");
    assert_eq!((timed.wants_online, timed.next_change.as_deref()), (Some(true), Some("2026-11-30T11:00:00.000Z")));
    // 11:00: it stops again.
    set_clock(&clock, 11, 0);
    stack.wait_status("demo", &host, "stopped", ONLINE_WAIT).await;

    let events = stack.client().events("demo", None, Duration::ZERO, 100).await.unwrap();
    let kinds: Vec<&str> =
        events.iter().filter(|e| e.instance.as_deref() == Some(host.as_str())).map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["scheduled_stop", "scheduled_start", "scheduled_stop"], "{events:#?}");
    let start = events.iter().find(|e| e.kind == "scheduled_start").unwrap();
    assert!(start.message.contains("mon 10-11") && start.message.contains("wants it online"), "{start:?}");

    // Created time-based, an instance stays stopped until its schedule wants it (11:00 now).
    let out = stack.cli(&["instance", "create", "--stack", "demo", "--layer", "web", "--scaling", "sometimes"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--scaling"), "{}", String::from_utf8_lossy(&out.stderr));
    let created =
        stack.cli_ok(&["instance", "create", "--stack", "demo", "--layer", "web", "--scaling", "time", "--wait"]);
    assert!(created.contains("stays stopped until its schedule"), "{created}");
    let late = stack.client().instances("demo").await.unwrap().into_iter().find(|i| i.hostname != host).unwrap();
    assert_eq!((late.status.as_str(), late.scaling.as_str()), ("stopped", "time"), "{late:?}");
    assert!(stack.agent_pid("demo", &late.hostname).is_none(), "no agent was started for it");
    stack.cli_ok(&["instance", "schedule", "--stack", "demo", &late.hostname, "--on", "mon 11-12"]);
    stack.wait_status("demo", &late.hostname, "online", ONLINE_WAIT).await;
}
