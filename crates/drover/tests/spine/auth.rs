//! Credentials: admin token, join tokens, agent credentials, the pinned CA.

use std::time::Duration;

use drover_proto::agent::{OutputAppend, ResultReport};

use crate::exec_request;
use crate::support::{TestStack, cli_with, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_the_right_credentials_are_refused() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom")]);
    stack.create_online_instance("demo", &["web"]);
    stack.create_online_instance("demo", &["web"]);

    // The CLI: no token, a wrong token, the join token in place of the admin token.
    let admin: drover_proto::token::Token = stack.admin_token().parse().unwrap();
    let wrong = drover_proto::token::Token { secret: "X".repeat(40), ..admin }.to_string();
    let join = stack.join_token(&["--stack", "demo"]);
    for (token, why) in [("", "no token"), (wrong.as_str(), "wrong secret"), (join.as_str(), "join token")] {
        let out = cli_with(&stack.url(), token, &["stack", "list"]);
        assert_eq!(out.status.code(), Some(3), "{why}: {}", String::from_utf8_lossy(&out.stderr));
    }

    // The raw API: no Authorization header, a bad one.
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(drover_client::tls::pinned_client_config(&stack.fingerprint()).unwrap())
        .build()
        .unwrap();
    for path in ["/api/v1/stacks", "/api/v1/agent/commands/next", "/api/v1/stacks/demo/instances"] {
        let resp = http.get(format!("{}{path}", stack.url())).send().await.unwrap();
        assert_eq!(resp.status(), 401, "{path}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{path}: {body}");
        let resp = http.get(format!("{}{path}", stack.url())).bearer_auth("drv1:agent:1:nope").send().await.unwrap();
        assert_eq!(resp.status(), 401, "{path}");
    }

    // A client that pins another CA does not talk to this server.
    let other = drover_client::Client::new(&stack.url(), &"0".repeat(64), &stack.admin_token()).unwrap();
    let err = other.stacks().await.unwrap_err();
    assert!(err.is_unreachable_or_unauthorised(), "{err}");

    // One agent cannot see or report on another instance's commands.
    let client = stack.client();
    let deployment = client.create_deployment("demo", &exec_request(&["sleep", "2"], &[], &["web2"])).await.unwrap();
    let theirs = deployment.commands[0].id;
    let web1 = stack.agent_client("demo", "web1");
    let report =
        ResultReport { success: false, exit_code: Some(9), reason: None, finished_at_ms: 0, data: None, nonce: None };
    assert_eq!(web1.result(theirs, &report).await.unwrap_err().status(), Some(403));
    assert_eq!(web1.ack(theirs).await.unwrap_err().status(), Some(403));
    let append = OutputAppend { offset: 0, data: "forged".into(), gap: None, nonce: None };
    assert_eq!(web1.output(theirs, &append).await.unwrap_err().status(), Some(403));
    assert!(web1.unfinished().await.unwrap().iter().all(|c| c.id != theirs));
    let done = eventually(Duration::from_secs(30), "web2's command", || async {
        client.command(theirs).await.ok().filter(|c| c.status == "successful")
    })
    .await;
    assert_eq!(done.exit_code, Some(0), "web1's forged result was not taken");
    let log = client.command_log(theirs, 0, Duration::ZERO).await.unwrap();
    assert!(!log.data.contains("forged"));
    // An agent credential is not an admin token.
    let saved: serde_json::Value = serde_json::from_slice(
        &std::fs::read(stack.instance_root("demo", "web1").join("var/lib/drover/agent.json")).unwrap(),
    )
    .unwrap();
    let resp = http
        .get(format!("{}/api/v1/stacks", stack.url()))
        .bearer_auth(saved["credential"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}
