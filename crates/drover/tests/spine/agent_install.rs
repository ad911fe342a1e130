//! `drover agent install` on a host without systemd (this machine has none): it writes the join
//! token (0600), the unit and the logrotate file under a staging root, prints the command to run,
//! and that very command joins the stack; `drover agent uninstall` removes the files.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use crate::ONLINE_WAIT;
use crate::support::{HostAgent, TestStack, drover_bin, eventually};

fn drover(args: &[&str]) -> std::process::Output {
    Command::new(drover_bin()).args(args).stdin(Stdio::null()).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installed_agent_s_command_joins_the_stack_and_uninstall_removes_the_files() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom")]);
    let join = stack.join_file(&["--stack", "demo", "--layer", "web"]);
    let dest = stack.dir.path().join("staged");
    let agent_root = stack.dir.path().join("host-installed");
    let (join, dest_s, root_s) = (join.to_str().unwrap(), dest.to_str().unwrap(), agent_root.to_str().unwrap());
    let base =
        ["agent", "install", "--join-file", join, "--stack", "demo", "--agent-root", root_s, "--dest-root", dest_s];

    // What a unit cannot hold, or an ambiguous target, is refused and writes nothing.
    for extra in [&["--layer", "web", "--address", "127.0.0.1 --root /etc"][..], &["--address", "127.0.0.1"][..]] {
        let out = drover(&[&base[..], extra].concat());
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(!dest.exists(), "nothing written");

    let out = drover(&[&base[..], &["--layer", "web", "--address", "127.0.0.1"]].concat());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("systemd is not running here"), "{stdout}");
    let token = dest.join("etc/drover/join.token");
    let unit = dest.join("etc/systemd/system/drover-agent.service");
    let logrotate = dest.join("etc/logrotate.d/drover-agent");
    assert_eq!(std::fs::metadata(&token).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::read_to_string(&token).unwrap().trim(), std::fs::read_to_string(join).unwrap().trim());
    let unit_text = std::fs::read_to_string(&unit).unwrap();
    assert!(std::fs::read_to_string(&logrotate).unwrap().contains(&format!("{root_s}/srv/www/*/shared/var/log/*.log")));

    // The unit's command line, as systemd would run it (with the staged token file).
    let exec_start = unit_text.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap();
    assert!(stdout.contains(exec_start), "the printed command is the unit's: {stdout}");
    let staged_token = token.to_string_lossy().into_owned();
    let words: Vec<String> = exec_start
        .split(' ')
        .map(|w| if w == "/etc/drover/join.token" { staged_token.clone() } else { w.to_owned() })
        .collect();
    assert!(!words.iter().any(|w| w.starts_with("drv1:")), "no token in argv: {exec_start}");
    let log = std::fs::File::create(stack.dir.path().join("installed-agent.log")).unwrap();
    let child = Command::new(&words[0])
        .args(&words[1..])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap();
    let _agent = HostAgent(child);
    let joined = eventually(ONLINE_WAIT, "the installed agent to come online", || async {
        let instances = stack.client().instances("demo").await.ok()?;
        instances.into_iter().find(|i| i.status == "online")
    })
    .await;
    assert_eq!(joined.provider, "registered");
    assert_eq!(joined.layers, ["web"]);

    let out = drover(&["agent", "uninstall", "--dest-root", dest_s]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    for file in [&token, &unit, &logrotate] {
        assert!(!file.exists(), "{} removed", file.display());
    }
}
