//! A frontend serves whatever the names are: a long data dir, 32-character stack and instance
//! names (HAProxy's sockets once went past its 97-character limit there, so it crash-looped while
//! Configure reported success), the cookbook's `nginx_plone.additional_configuration` in nginx,
//! and a config that nginx refuses is refused with nginx's own words.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Options, TestStack, eventually};

const WAIT: Duration = Duration::from_secs(180);
const STACK: &str = "production-stack-with-a-long-nam";
const ZEO: &str = "zeoserver-with-a-thirty-two-char";
const CLIENTS: &str = "plone-clients-with-a-32-char-nam";
const FRONTEND: &str = "frontend-eu1-with-a-32-char-name";
/// HAProxy 2.6's limit for a socket path.
const MAX_SOCKET_PATH: usize = 97;

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).no_proxy().build().unwrap()
}

/// The site's answer through nginx, with nginx's `X-Drover-Extra` header.
async fn site(url: &str) -> Option<(Value, Option<String>)> {
    let resp = http().get(url).send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let extra = resp.headers().get("x-drover-extra").and_then(|v| v.to_str().ok()).map(str::to_owned);
    Some((resp.json().await.ok()?, extra))
}

/// One command on HAProxy's master CLI (which closes the connection after `;quit`).
async fn master_cli(path: &str, command: &str) -> std::io::Result<String> {
    let mut stream = tokio::net::UnixStream::connect(path).await?;
    stream.write_all(format!("{command}\n").as_bytes()).await?;
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer)).await??;
    Ok(answer)
}

fn set_json(stack: &TestStack, doc: &Value, extra: &[&str]) -> std::process::Output {
    let path = stack.dir.path().join("stack.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let mut args = vec!["stack", "set-json", "--stack", STACK, path.to_str().unwrap()];
    args.extend(extra);
    stack.cli(&args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frontend_with_long_names_serves_and_says_why_nginx_refuses_a_config() {
    for name in [STACK, ZEO, CLIENTS, FRONTEND] {
        assert_eq!(name.len(), 32, "{name}");
    }
    // Declared before the stack, so removed after its processes are stopped.
    let data_parent =
        tempfile::Builder::new().prefix("drover-acceptance-frontend-with-long-names-").tempdir_in("/var/lib").unwrap();
    let data_dir = data_parent.path().join("data");
    assert!(data_dir.to_string_lossy().len() >= 40, "{}", data_dir.display());
    let stack = TestStack::start_with(Options { data_dir: Some(data_dir), ..Options::default() }).await;
    stack.create_stack(STACK, &[("zeoserver", "zeoserver"), ("clients", "plone_instances"), ("web", "frontend")]);
    let extra = "        add_header X-Drover-Extra long-names;";
    let doc = json!({
        "plone_instances": {"per_cpu": 1, "healthy_deadline": 60},
        "haproxy": {"check_interval": 1000},
        // The seed's own example of a frontend setting (reference.md calls it additional_config).
        "nginx_plone": {"additional_configuration": extra}
    });
    let out = set_json(&stack, &doc, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("additional_configuration"), "a known attribute, no warning: {stderr}");
    for (layer, host) in [("zeoserver", ZEO), ("clients", CLIENTS), ("web", FRONTEND)] {
        stack.cli_ok(&[
            "instance",
            "create",
            "--stack",
            STACK,
            "--layer",
            layer,
            "--hostname",
            host,
            "--cpu-count",
            "1",
            "--wait",
        ]);
    }
    let root = stack.instance_root(STACK, FRONTEND);
    assert!(root.to_string_lossy().len() > MAX_SOCKET_PATH, "the instance root alone is too long for a socket");
    stack.create_demo_app(STACK, &["zeoserver", "clients"]);
    let out = stack.cli(&["deploy", "--stack", STACK, "site", "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    // The site answers through nginx and HAProxy, with the additional configuration in force.
    let client = stack.client();
    let frontend = eventually(WAIT, "the frontend with the client", || async {
        client.frontends(STACK).await.ok()?.into_iter().find(|f| f.hostname == FRONTEND && f.servers.len() == 1)
    })
    .await;
    let (answer, header) = eventually(WAIT, "the site through the frontend", || site(&frontend.url)).await;
    assert!(answer["pid"].is_number(), "{answer}");
    assert_eq!(header.as_deref(), Some("long-names"), "nginx_plone.additional_configuration in force");
    let shared = root.join("srv/www/.frontend/shared");
    let nginx_conf = std::fs::read_to_string(shared.join("nginx.conf")).unwrap();
    assert!(nginx_conf.contains(&format!("{extra}\n")), "accepted by nginx -t and in place: {nginx_conf}");

    // HAProxy runs, its sockets short: the master CLI answers on the path it was started with.
    let state: Value = serde_json::from_slice(&std::fs::read(shared.join("run/haproxy.json")).unwrap()).unwrap();
    let pid = state["pid"].as_i64().unwrap();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists(), "haproxy (pid {pid}) runs");
    let args: Vec<&str> = state["spec"]["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    let master = args[args.iter().position(|a| *a == "-S").unwrap() + 1];
    assert!(master.len() <= MAX_SOCKET_PATH, "{master} is {} characters", master.len());
    let procs = master_cli(master, "show proc;quit").await.unwrap();
    assert!(procs.contains("master") && procs.contains("worker"), "{procs}");
    let haproxy_cfg = std::fs::read_to_string(shared.join("haproxy.cfg")).unwrap();
    for line in haproxy_cfg.lines().filter(|l| l.trim_start().starts_with("stats socket /")) {
        let path = line.split_whitespace().nth(2).unwrap();
        assert!(path.len() <= MAX_SOCKET_PATH, "{path} is {} characters", path.len());
    }

    // A config nginx refuses: Configure fails with nginx's own message; the site keeps serving.
    let mut bad = doc.clone();
    bad["nginx_plone"]["additional_configuration"] = json!("no_such_directive on;");
    bad["haproxy"]["check_interval"] = json!(2000);
    let out = set_json(&stack, &bad, &["--configure", "--wait"]);
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_ne!(out.status.code(), Some(0), "{log}");
    assert!(log.contains("the rendered nginx.conf was refused"), "{log}");
    assert!(log.contains("unknown directive \"no_such_directive\""), "nginx's own words: {log}");
    assert_eq!(std::fs::read_to_string(shared.join("nginx.conf")).unwrap(), nginx_conf, "the running one is kept");
    let kept = std::fs::read_to_string(shared.join("haproxy.cfg")).unwrap();
    assert_eq!(kept, haproxy_cfg, "haproxy.cfg is not swapped in either when nginx.conf is refused");
    assert!(site(&frontend.url).await.is_some());
    assert_eq!(state_pid(&shared), Some(pid), "haproxy ran on throughout");
}

fn state_pid(shared: &std::path::Path) -> Option<i64> {
    let state: Value = serde_json::from_slice(&std::fs::read(shared.join("run/haproxy.json")).ok()?).ok()?;
    state["pid"].as_i64()
}
