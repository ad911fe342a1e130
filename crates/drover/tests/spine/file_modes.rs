//! Another Unix user cannot read the secrets: the data dir is 0700, the store and every file
//! holding a secret are 0600 (the store, a release's `deploy.cfg`, `haproxy.cfg`, release
//! records, the journal, the agent's credential), HAProxy's runtime API is a 0600 Unix socket
//! only, and the API shows `deploy.cfg` redacted.
//!
//! Regression: the data dir was 0755 and `drover.db`, `deploy.cfg` and `haproxy.cfg` were 0644;
//! the runtime API listened on TCP port 6082 without authentication.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{TestStack, eventually, on_postgres};

const WAIT: Duration = Duration::from_secs(180);
const OTHER_USER: &str = "drovertest";
const APP_SECRET: &str = "Zz9-file-modes-app-secret";
const STATS_PASSWORD: &str = "Zz9-file-modes-stats-password";

/// Makes the unprivileged user the test reads as; `false` when not root (it cannot).
fn other_user() -> bool {
    if !Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0") {
        return false;
    }
    let exists = || Command::new("id").arg(OTHER_USER).output().is_ok_and(|o| o.status.success());
    if !exists() {
        // Another test run may create it at the same moment: what counts is that it exists.
        let _ = Command::new("useradd").args(["--system", "--no-create-home", OTHER_USER]).status();
    }
    assert!(exists(), "failed to create the user {OTHER_USER}");
    true
}

/// Runs `program args` as the other user: its exit status and stderr.
fn as_other_user(program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("runuser").args(["-u", OTHER_USER, "--", program]).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_cannot_read_the_store_deploy_cfg_or_haproxy_cfg_nor_reach_haproxy() {
    if !other_user() {
        eprintln!("SKIPPED: needs root to create the user {OTHER_USER} and run commands as it");
        return;
    }
    let stack = TestStack::start().await;
    // The test's own temporary directory is 0700: open it, so only drover's modes keep others out.
    let data = stack.data_dir();
    std::fs::set_permissions(data.parent().unwrap(), std::fs::Permissions::from_mode(0o755)).unwrap();

    stack.create_stack("demo", &[("zeoserver", "zeoserver"), ("clients", "plone_instances"), ("web", "frontend")]);
    stack.create_zeo_and_client_instance("demo");
    stack.cli_ok(&["instance", "create", "--stack", "demo", "--layer", "web", "--wait"]);
    stack.create_demo_app("demo", &["zeoserver", "clients"]);
    let doc = json!({
        "haproxy": {"stats_password": STATS_PASSWORD},
        "deploy": {"site": {"buildout_additional_config": format!("[app-secrets]\npassword = {APP_SECRET}")}}
    });
    let path = stack.data_dir().parent().unwrap().join("stack.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    // Configure runs on every online instance with the new document, so the frontend gets the
    // stats password now rather than with whichever Configure comes next.
    stack.cli_ok(&["stack", "set-json", "--stack", "demo", path.to_str().unwrap(), "--configure", "--wait"]);
    let out = stack.cli(&["deploy", "--stack", "demo", "site", "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let client = stack.client();
    let web = eventually(WAIT, "the frontend with the client", || async {
        client.frontends("demo").await.ok()?.into_iter().find(|f| !f.servers.is_empty())
    })
    .await;

    let app_root = stack.instance_root("demo", "zeoserver1");
    let deploy_cfg = app_root.join("srv/www/site/current/deploy.cfg");
    let haproxy_cfg = stack.instance_root("demo", &web.hostname).join("srv/www/.frontend/shared/haproxy.cfg");
    assert!(std::fs::read_to_string(&deploy_cfg).unwrap().contains(APP_SECRET), "the secret is in deploy.cfg");
    // The Configure above rendered it (the eventual wait covers a frontend still finishing it).
    eventually(WAIT, "the stats password in haproxy.cfg", || async {
        std::fs::read_to_string(&haproxy_cfg).ok().filter(|cfg| cfg.contains(STATS_PASSWORD))
    })
    .await;

    // Each layer on its own: the data dir, and each secret-holding file.
    assert_eq!(mode(&data), 0o700, "the data dir");
    let release_record = app_root.join("srv/www/site/current/.drover/release.json");
    let credential = app_root.join("var/lib/drover/agent.json");
    let stack_config = app_root.join("var/lib/drover/stack-config.json");
    // On PostgreSQL the store is the database's: no store file in the data dir.
    let store_files: Vec<_> = if on_postgres() {
        assert!(!data.join("drover.db").exists(), "no SQLite store beside a PostgreSQL one");
        Vec::new()
    } else {
        vec![data.join("drover.db"), data.join("drover.db-wal"), data.join("drover.db-shm")]
    };
    let mut files = store_files.clone();
    files.extend([
        data.join("admin.token"),
        data.join("pki/ca.key"),
        deploy_cfg.clone(),
        haproxy_cfg.clone(),
        release_record,
        credential,
        stack_config,
    ]);
    files.extend(std::fs::read_dir(app_root.join("var/lib/drover/commands")).unwrap().flatten().map(|e| e.path()));
    for file in &files {
        if file.exists() || !file.to_string_lossy().contains("drover.db-") {
            assert_eq!(mode(file) & 0o077, 0, "{} is {:o}", file.display(), mode(file));
        }
    }

    // And as the other user, end to end.
    let (listed, err) = as_other_user("ls", &[data.to_str().unwrap()]);
    assert!(!listed && err.contains("Permission denied"), "the data dir listing is refused: {err}");
    for file in store_files.into_iter().take(1).chain([deploy_cfg, haproxy_cfg]) {
        let (read, err) = as_other_user("cat", &[file.to_str().unwrap()]);
        assert!(!read && err.contains("Permission denied"), "{} is not readable: {err}", file.display());
    }

    // HAProxy's runtime API (admin level: it can repoint the site's traffic) is only a 0600 Unix
    // socket: the other user cannot connect, nothing listens on TCP for it, and its owner can talk.
    let cfg = std::fs::read_to_string(
        stack.instance_root("demo", &web.hostname).join("srv/www/.frontend/shared/haproxy.cfg"),
    )
    .unwrap();
    let socket = cfg
        .lines()
        .find_map(|l| l.trim().strip_prefix("stats socket "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("haproxy.cfg has a stats socket");
    assert!(socket.starts_with('/'), "the runtime API is a Unix socket, not {socket}");
    assert_eq!(cfg.matches("stats socket").count(), 1, "one runtime API socket:\n{cfg}");
    let connect = "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'show info\\n'); print(s.recv(64))";
    let (talked, err) = as_other_user("python3", &["-c", connect, socket]);
    assert!(!talked && err.contains("Permission denied"), "the other user cannot reach the runtime API: {err}");
    let mut own = std::os::unix::net::UnixStream::connect(socket).expect("the agent's user reaches the runtime API");
    std::io::Write::write_all(&mut own, b"show info\n").unwrap();
    let mut info = String::new();
    std::io::Read::read_to_string(&mut own, &mut info).unwrap();
    assert!(info.contains("Name: HAProxy"), "{info}");
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let listening_on_6082 = std::fs::read_to_string(table)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .any(|f| f.len() > 3 && f[1].ends_with(":17C2") && f[3] == "0A");
        assert!(!listening_on_6082, "something listens on port 6082 ({table})");
    }

    // What the API shows of a release carries no secret.
    let out = stack.cli(&["release", "list", "--stack", "demo", "site", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let releases: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = releases.to_string();
    assert!(text.contains("[app-secrets]") && text.contains("password = <redacted>"), "{releases:#}");
    assert!(!text.contains(APP_SECRET), "{releases:#}");
}
