//! Join tokens are scoped (stack, layers, instance), expire, are used up and revoked; no process
//! an agent starts sees a token, and no token is in an agent's argv.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::ONLINE_WAIT;
use crate::support::{HostAgent, Options, TestStack, eventually};

/// What an operator's shell might export where the server and an agent are started.
const EXPORTED_ADMIN: &str = "drv1:admin:exported-marker";
const EXPORTED_JOIN: &str = "drv1:join:exported-marker";

/// Reads `/proc/<pid>/<file>` as text (NULs as spaces).
fn proc_text(pid: i32, file: &str) -> String {
    String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/{file}")).unwrap_or_default()).replace('\0', " ")
}

fn assert_no_token(what: &str, text: &str) {
    for needle in ["drv1:", "DROVER_TOKEN", "DROVER_JOIN_TOKEN", "exported-marker"] {
        assert!(!text.contains(needle), "{what} holds {needle:?}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_process_an_agent_starts_sees_a_token() {
    let options = Options {
        server_env: vec![
            ("DROVER_TOKEN".into(), EXPORTED_ADMIN.into()),
            ("DROVER_JOIN_TOKEN".into(), EXPORTED_JOIN.into()),
        ],
        ..Options::default()
    };
    let stack = TestStack::start_with(options).await;
    stack.create_stack("demo", &[("web", "custom")]);
    stack.cli_ok(&["layer", "update", "--stack", "demo", "web", "--hook", "setup=env > \"$DROVER_ROOT/hook-env.txt\""]);
    let local = stack.create_online_instance("demo", &["web"]);
    assert!(!stack.data_dir().join("join.token").exists(), "no server-wide join token");

    // A local agent: its token came in a 0600 file, which is gone once it enrolled.
    let root = stack.instance_root("demo", &local);
    assert!(!root.join("join.token").exists(), "the local agent removed its join token file");
    let pid = stack.agent_pid("demo", &local).unwrap();
    assert_no_token("the local agent's command line", &proc_text(pid, "cmdline"));
    assert_no_token("the local agent's environment", &proc_text(pid, "environ"));
    let mode = std::fs::metadata(root.join("var/lib/drover/agent.json")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the agent's credential is private");
    let hook_env = std::fs::read_to_string(root.join("hook-env.txt")).unwrap();
    assert!(hook_env.contains("DROVER_EVENT=setup"), "the hook ran: {hook_env}");
    assert_no_token("a hook's environment", &hook_env);

    // A registered host whose operator exported tokens where the agent started.
    let host_root = stack.dir.path().join("host-edge");
    let join = stack.join_file(&["--stack", "demo", "--layer", "web", "--uses", "1"]);
    let admin = stack.admin_token();
    let exported = [("DROVER_TOKEN", admin.as_str()), ("DROVER_JOIN_TOKEN", EXPORTED_JOIN)];
    let agent = HostAgent::start(&host_root, &join, &["--stack", "demo", "--layer", "web"], &exported);
    let joined = eventually(ONLINE_WAIT, "the registered host to come online", || async {
        let instances = stack.client().instances("demo").await.ok()?;
        instances.into_iter().find(|i| i.provider == "registered" && i.status == "online")
    })
    .await;
    assert!(!proc_text(agent.0.id() as i32, "cmdline").contains("drv1:"), "no token in the agent's argv");
    assert!(!join.exists(), "the agent removed its join token file");

    let out = stack.cli_ok(&["exec", "--stack", "demo", "--", "env"]);
    assert!(out.contains(&format!("DROVER_ROOT={}", root.display())), "{out}");
    assert!(out.contains(&format!("DROVER_ROOT={}", host_root.display())), "{out}");
    assert_no_token(&format!("`drover exec -- env` on {local} and {}", joined.hostname), &out);
}

/// Starts an agent with `join` and `args`, waits for it to give up; its log.
async fn refused(stack: &TestStack, name: &str, join: &std::path::Path, args: &[&str]) -> String {
    let root = stack.dir.path().join(name);
    let (status, log) = HostAgent::start(&root, join, args, &[]).refused(&root).await;
    assert!(!status.success(), "{name}: the agent was refused:\n{log}");
    log
}

async fn hostnames(stack: &TestStack, name: &str) -> Vec<String> {
    stack.client().instances(name).await.unwrap().into_iter().map(|i| i.hostname).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_tokens_open_only_their_stack_layers_and_instance_while_valid() {
    let stack = TestStack::start().await;
    stack.create_stack("alpha", &[("web", "custom"), ("db", "custom")]);
    stack.create_stack("beta", &[("web", "custom")]);
    stack.cli_ok(&[
        "instance",
        "create",
        "--stack",
        "alpha",
        "--layer",
        "db",
        "--provider",
        "registered",
        "--hostname",
        "zeo0",
    ]);

    // Bad requests name what is wrong and make no token.
    for (args, want) in [
        (vec!["--stack", "alpha", "--layer", "nope"], "layer nope does not exist in stack alpha"),
        (vec!["--stack", "alpha", "--expires", "soon"], "--expires: \"soon\" is not a duration"),
        (vec!["--stack", "alpha", "--uses", "0"], "uses"),
        (vec!["--stack", "alpha", "--instance", "Not A Name"], "instance"),
    ] {
        let out = stack.cli(&[&["token", "create", "--join"], args.as_slice()].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // Without --join it is a personal token, and the admin token belongs to no user.
    let out = stack.cli(&["token", "create", "--stack", "alpha"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("belongs to no user"));
    assert_eq!(stack.cli_ok(&["token", "list", "--join", "--json"]).trim(), "[]");

    // Another stack, another layer, a pre-created instance the token is not made for.
    let web = stack.join_file(&["--stack", "alpha", "--layer", "web"]);
    let log = refused(&stack, "other-stack", &web, &["--stack", "beta", "--layer", "web"]).await;
    assert!(log.contains("this join token is for stack alpha, not beta"), "{log}");
    assert!(log.contains("drover token create --join --stack beta"), "{log}");
    let log = refused(&stack, "other-layer", &web, &["--stack", "alpha", "--layer", "db"]).await;
    assert!(log.contains("does not allow layer db"), "{log}");
    let log = refused(&stack, "claim", &web, &["--stack", "alpha", "--instance", "zeo0"]).await;
    assert!(log.contains("only a join token made for it can claim it"), "{log}");
    assert!(log.contains("--instance zeo0"), "{log}");

    // Expired and revoked tokens.
    let brief = stack.join_file(&["--stack", "alpha", "--expires", "2s"]);
    eventually(Duration::from_secs(30), "the token to expire", || async {
        let list = stack.cli_ok(&["token", "list", "--join", "--stack", "alpha", "--json"]);
        let tokens: serde_json::Value = serde_json::from_str(&list).unwrap();
        tokens.as_array().unwrap().iter().any(|t| t["state"] == "expired").then_some(())
    })
    .await;
    let log = refused(&stack, "expired", &brief, &["--stack", "alpha", "--layer", "web"]).await;
    assert!(log.contains("this join token has expired"), "{log}");
    let revoked = stack.join_file(&["--stack", "alpha", "--comment", "to revoke"]);
    let list: serde_json::Value = serde_json::from_str(&stack.cli_ok(&["token", "list", "--join", "--json"])).unwrap();
    let id = list.as_array().unwrap().iter().find(|t| t["comment"] == "to revoke").unwrap()["id"].to_string();
    stack.cli_ok(&["token", "revoke", "--join", &id]);
    let log = refused(&stack, "revoked", &revoked, &["--stack", "alpha", "--layer", "web"]).await;
    assert!(log.contains("this join token was revoked"), "{log}");

    // A token file other users can read is refused before it is used.
    let loose = stack.join_file(&["--stack", "alpha", "--instance", "zeo0"]);
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    let log = refused(&stack, "loose", &loose, &["--stack", "alpha", "--instance", "zeo0"]).await;
    assert!(log.contains("other users can read or change it"), "{log}");

    // None of the refusals left an instance, a credential or a spent use behind.
    assert_eq!(hostnames(&stack, "alpha").await, ["zeo0"]);
    assert!(hostnames(&stack, "beta").await.is_empty());
    assert_eq!(stack.instance("alpha", "zeo0").await.status, "registering");
    let tokens: serde_json::Value =
        serde_json::from_str(&stack.cli_ok(&["token", "list", "--join", "--stack", "alpha", "--json"])).unwrap();
    assert!(tokens.as_array().unwrap().iter().all(|t| t["last_used_at"].is_null()), "{tokens:#}");

    // The token made for the pre-created instance claims it.
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o600)).unwrap();
    let _zeo =
        HostAgent::start(&stack.dir.path().join("zeo0"), &loose, &["--stack", "alpha", "--instance", "zeo0"], &[]);
    stack.wait_status("alpha", "zeo0", "online", ONLINE_WAIT).await;

    // --uses 1: the first host joins; a second with a copy of the same token is refused.
    let once = stack.join_file(&["--stack", "alpha", "--layer", "web", "--uses", "1"]);
    let copy = once.with_extension("copy");
    std::fs::copy(&once, &copy).unwrap();
    let _first = HostAgent::start(&stack.dir.path().join("first"), &once, &["--stack", "alpha", "--layer", "web"], &[]);
    eventually(ONLINE_WAIT, "the first host to join", || async {
        let instances = stack.client().instances("alpha").await.ok()?;
        instances.iter().any(|i| i.layers == ["web"] && i.status == "online").then_some(())
    })
    .await;
    let log = refused(&stack, "second", &copy, &["--stack", "alpha", "--layer", "web"]).await;
    assert!(log.contains("used as many times as it allowed"), "{log}");
    assert_eq!(hostnames(&stack, "alpha").await.len(), 2, "zeo0 and the first host only");
    let tokens: serde_json::Value =
        serde_json::from_str(&stack.cli_ok(&["token", "list", "--join", "--stack", "alpha", "--json"])).unwrap();
    let used = tokens.as_array().unwrap().iter().find(|t| t["uses_left"] == 0).unwrap();
    assert_eq!(used["state"], "used_up");

    // A token in argv is refused outright.
    let out = stack.cli(&["agent", "--join", "drv1:join:x", "--stack", "alpha"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--join-file"));
}
