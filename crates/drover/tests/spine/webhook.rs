//! CI deploys without an API token: an app's deploy webhook, signed like GitHub's
//! (`X-Hub-Signature-256`), deploys exactly the commit in the payload; a wrong signature, a stale
//! timestamp and a replay are refused and deploy nothing.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::support::{TestStack, eventually};

/// HMAC-SHA256 of `body` under `secret`, in hex, by Python's `hmac` (an implementation other than
/// the server's); the secret goes through stdin, never argv.
fn sign(secret: &str, body: &[u8]) -> String {
    let script = "import hmac, hashlib, sys\n\
                  key = sys.stdin.buffer.readline().rstrip(b'\\n')\n\
                  print(hmac.new(key, sys.stdin.buffer.read(), hashlib.sha256).hexdigest())";
    let mut child =
        Command::new("python3").args(["-c", script]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{secret}\n").as_bytes()).unwrap();
    stdin.write_all(body).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn push(branch: &str, sha: &str, pushed_at: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "ref": format!("refs/heads/{branch}"),
        "after": sha,
        "repository": {"pushed_at": pushed_at, "default_branch": "main"},
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_webhook_deploys_the_commit_in_its_payload_and_bad_ones_deploy_nothing() {
    let stack = TestStack::start().await;
    stack.create_stack("ci", &[("zeoserver", "zeoserver")]);
    stack.create_online_instance("ci", &["zeoserver"]);
    let repo = stack.create_demo_app("ci", &["zeoserver"]);
    let v1 = repo.write_and_commit("release-mark.txt", "v1\n", "v1");
    let v2 = repo.write_and_commit("release-mark.txt", "v2\n", "v2 (the branch head, not pushed to the hook)");

    let enabled = stack.cli_ok(&["app", "webhook", "enable", "--stack", "ci", "site"]);
    let field =
        |name: &str| enabled.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_owned()).expect(name);
    let (url, secret) = (field("url:"), field("secret:"));
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(drover_client::tls::pinned_client_config(&stack.fingerprint()).unwrap())
        .build()
        .unwrap();
    let send = |body: Vec<u8>, signature: Option<String>, query: &'static str| {
        let mut req = http.post(format!("{url}{query}")).body(body);
        if let Some(sig) = signature {
            req = req.header("X-Hub-Signature-256", format!("sha256={sig}"));
        }
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let deploys =
        || async { stack.client().deployments("ci").await.unwrap().iter().filter(|d| d.kind == "deploy").count() };

    // Refused, and nothing deployed: no signature, a wrong one, a stale timestamp.
    let body = push("main", &v1, now_secs());
    let (status, answer) = send(body.clone(), None, "").await;
    assert_eq!(status, 401, "{answer}");
    let (status, answer) = send(body.clone(), Some(sign("not-the-secret", &body)), "").await;
    assert_eq!(status, 401, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("does not match"), "{answer}");
    let stale = push("main", &v1, now_secs() - 3600);
    let (status, answer) = send(stale.clone(), Some(sign(&secret, &stale)), "").await;
    assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("repository.pushed_at")), "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("stale"), "{answer}");
    let other_branch = push("feature", &v2, now_secs());
    let (status, answer) = send(other_branch.clone(), Some(sign(&secret, &other_branch)), "").await;
    assert_eq!(status, 202, "{answer}");
    assert!(answer["ignored"].as_str().unwrap().contains("refs/heads/feature"), "{answer}");
    assert_eq!(deploys().await, 0, "refused and ignored deliveries deploy nothing");

    // A good one deploys exactly the commit in the payload, not the branch head.
    let (status, created) = send(body.clone(), Some(sign(&secret, &body)), "?comment=from-ci").await;
    assert_eq!(status, 201, "{created}");
    assert_eq!((created["commit"].as_str(), created["comment"].as_str()), (Some(v1.as_str()), Some("from-ci")));
    let id = created["id"].as_i64().unwrap();
    let done = eventually(Duration::from_secs(900), "the webhook's deployment", || async {
        let d = stack.client().deployment(id).await.ok()?;
        (d.status != "running").then_some(d)
    })
    .await;
    assert_eq!(done.status, "successful", "{done:?}");
    let releases = stack.client().releases("ci", "site").await.unwrap();
    let current = releases.iter().find(|r| r.current).expect("a current release");
    assert_eq!(current.sha, v1, "the payload's commit, not the branch head {v2}");

    // The same delivery again is a replay.
    let (status, answer) = send(body.clone(), Some(sign(&secret, &body)), "").await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(deploys().await, 1);

    // The audit trail shows the webhook's deliveries, refusals included.
    let trail = stack.cli_ok(&["audit", "list", "--user", "webhook", "--json"]);
    let trail: Vec<Value> = serde_json::from_str(&trail).unwrap();
    let statuses: Vec<u64> = trail.iter().map(|e| e["status"].as_u64().unwrap()).collect();
    for want in [401, 422, 202, 201, 409] {
        assert!(statuses.contains(&want), "{want} in {statuses:?}");
    }

    // Disabled, it deploys nothing.
    stack.cli_ok(&["app", "webhook", "disable", "--stack", "ci", "site"]);
    let again = push("main", &v2, now_secs());
    let (status, _) = send(again.clone(), Some(sign(&secret, &again)), "").await;
    assert_eq!(status, 404);
}
