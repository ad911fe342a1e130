//! Bad input: every refusal names its field, and a refused request changes nothing.

use serde_json::{Value, json};

use std::time::Duration;

use crate::support::{TestStack, eventually};

struct Raw {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Raw {
    fn new(stack: &TestStack) -> Self {
        let tls = drover_client::tls::pinned_client_config(&stack.fingerprint()).unwrap();
        let http = reqwest::Client::builder().tls_backend_preconfigured(tls).build().unwrap();
        Self { http, base: format!("{}/api/v1", stack.url()), token: stack.admin_token() }
    }

    async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Everything a user can read about the store.
    async fn snapshot(&self) -> Value {
        let mut all = json!({});
        all["stacks"] = self.get("/stacks").await.1;
        all["layers"] = self.get("/stacks/demo/layers").await.1;
        let mut instances = self.get("/stacks/demo/instances").await.1;
        for i in instances.as_array_mut().into_iter().flatten() {
            // Heartbeat fields move by themselves.
            for volatile in ["last_heartbeat", "metrics"] {
                i.as_object_mut().unwrap().remove(volatile);
            }
        }
        all["instances"] = instances;
        all["deployments"] = self.get("/stacks/demo/deployments").await.1;
        all
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_refused_with_the_field_named_and_change_nothing() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom")]);
    stack.create_online_instance("demo", &["web"]);
    let raw = Raw::new(&stack);
    // The Setup and Configure of the new instance end first, so that only refused requests
    // could change what follows.
    let before = eventually(Duration::from_secs(120), "the new instance's lifecycle events to end", || async {
        let snapshot = raw.snapshot().await;
        let settled = snapshot["deployments"].as_array()?.iter().all(|d| d["status"] != "running");
        settled.then_some(snapshot)
    })
    .await;

    let big = format!("{{\"name\": \"x\", \"custom_json\": {{\"pad\": \"{}\"}}}}", "a".repeat(2 * 1024 * 1024));
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("/stacks", r#"{"name": "Bad/Name"}"#.into(), 422, "name"),
        ("/stacks", r#"{"name": "../etc"}"#.into(), 422, "name"),
        ("/stacks", r#"{"name": 5}"#.into(), 422, "name"),
        ("/stacks", r#"{"name": "ok", "custom_json": [1]}"#.into(), 422, "custom_json"),
        ("/stacks", r#"{"name": "ok", "colour": "blue"}"#.into(), 422, "colour"),
        ("/stacks", "{not json".into(), 422, "body"),
        ("/stacks", r#"{"name": "demo"}"#.into(), 409, "name"),
        ("/stacks", big, 413, ""),
        ("/stacks/demo/layers", r#"{"shortname": "db", "type": "mysql"}"#.into(), 422, "type"),
        ("/stacks/demo/layers", r#"{"shortname": "A", "type": "custom"}"#.into(), 422, "shortname"),
        ("/stacks/demo/layers", r#"{"shortname": "web", "type": "custom"}"#.into(), 409, "shortname"),
        ("/stacks/nope/layers", r#"{"shortname": "db", "type": "custom"}"#.into(), 404, "stack"),
        ("/stacks/demo/instances", r#"{"layers": ["nope"]}"#.into(), 404, "layers[0]"),
        ("/stacks/demo/instances", r#"{"layers": ["web", "Bad"]}"#.into(), 422, "layers[1]"),
        ("/stacks/demo/instances", r#"{"layers": []}"#.into(), 422, "layers"),
        ("/stacks/demo/instances", r#"{"layers": ["web"], "provider": "ec2"}"#.into(), 422, "provider"),
        ("/stacks/demo/instances", r#"{"layers": ["web"], "hostname": "web1"}"#.into(), 409, "hostname"),
        ("/stacks/demo/instances", r#"{"layers": ["web"], "cpu_count": "two"}"#.into(), 422, "cpu_count"),
        ("/stacks/demo/deployments", r#"{"kind": "execute", "command": []}"#.into(), 422, "command"),
        (
            "/stacks/demo/deployments",
            r#"{"kind": "execute", "command": ["true"], "layers": ["nope"]}"#.into(),
            422,
            "layers[0]",
        ),
        (
            "/stacks/demo/deployments",
            r#"{"kind": "execute", "command": ["true"], "instances": ["web9"]}"#.into(),
            422,
            "instances[0]",
        ),
        ("/stacks/demo/deployments", r#"{"kind": "launch", "command": ["true"]}"#.into(), 422, "kind"),
    ];
    for (path, body, status, field) in cases {
        let shown: String = body.chars().take(60).collect();
        let (got, answer) = raw.post(path, body).await;
        assert_eq!(got, status, "POST {path} {shown}: {answer}");
        let error = &answer["error"];
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "POST {path} {shown}: {answer}");
        if !field.is_empty() {
            assert_eq!(error["field"], field, "POST {path} {shown}: {answer}");
        }
    }

    // Unknown things in the path and unknown endpoints answer in the same shape.
    for (path, status) in
        [("/stacks/nope", 404), ("/stacks/demo/instances/web9", 404), ("/deployments/999", 404), ("/nothing", 404)]
    {
        let (got, answer) = raw.get(path).await;
        assert_eq!(got, status, "GET {path}: {answer}");
        assert!(answer["error"]["code"].is_string(), "GET {path}: {answer}");
    }

    assert_eq!(raw.snapshot().await, before, "refused requests changed the store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_exits_with_the_documented_codes() {
    let mut stack = TestStack::start().await;
    stack.create_stack("demo", &[("web", "custom")]);
    // 2: usage and validation.
    for args in [
        vec!["stack", "create", "Bad Name"],
        vec!["instance", "list", "--stack", "nope"],
        vec!["exec", "--stack", "demo", "--", "true"], // no online instance
        vec!["stack", "frobnicate"],
    ] {
        let out = stack.cli(&args);
        assert_eq!(out.status.code(), Some(2), "drover {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stderr.is_empty());
    }
    let out = stack.cli(&["instance", "list", "--stack", "nope"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("drover stack list"), "the error says what to do next: {stderr}");
    // 3: the server is down.
    stack.stop_server();
    let out = stack.cli(&["stack", "list"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
}
