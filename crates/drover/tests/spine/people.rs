//! People and permissions: users with per-stack levels, personal tokens cut down to at most their
//! user's levels, `whoami`, and the audit trail with its refusals.

use std::process::Output;
use std::time::Duration;

use crate::support::{TestStack, cli_with, eventually};

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn ok(out: Output, what: &str) -> String {
    assert!(out.status.success(), "{what} failed: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: Output, what: &str, says: &str) -> String {
    assert!(!out.status.success(), "{what} should be refused: {}", text(&out));
    let all = text(&out);
    assert!(all.contains(says), "{what}: expected {says:?} in: {all}");
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_level_reaches_only_its_endpoints_tokens_stay_within_it_and_refusals_are_audited() {
    let stack = TestStack::start().await;
    stack.create_stack("shop", &[("web", "custom")]);
    stack.create_stack("vault", &[("web", "custom")]);
    stack.create_online_instance("shop", &["web"]);
    for (name, level) in [("sam", "show"), ("dana", "deploy"), ("max", "manage")] {
        stack.cli_ok(&["user", "create", name]);
        stack.cli_ok(&["user", "grant", "--stack", "shop", "--level", level, name]);
    }
    stack.cli_ok(&["user", "grant", "--stack", "vault", "--level", "deny", "max"]);
    let token = |user: &str| stack.cli_ok(&["token", "create", "--user", user]).trim().to_owned();
    let (sam, dana, max) = (token("sam"), token("dana"), token("max"));
    let url = stack.url();
    let run = |token: &str, args: &[&str]| cli_with(&url, token, args);
    let json_file = stack.dir.path().join("shop.json");
    std::fs::write(&json_file, r#"{"drover_test": {"who": "max"}}"#).unwrap();
    let json_arg = json_file.to_str().unwrap();

    // show: reads; no deploy, exec or change.
    let listed = ok(run(&sam, &["stack", "list"]), "sam: stack list");
    assert!(listed.contains("shop") && !listed.contains("vault"), "{listed}");
    ok(run(&sam, &["instance", "list", "--stack", "shop"]), "sam: instance list");
    refused(run(&sam, &["exec", "--stack", "shop", "--", "true"]), "sam: exec", "needs the deploy level");
    refused(run(&sam, &["stack", "set-json", "--stack", "shop", json_arg]), "sam: set-json", "needs the manage level");

    // deploy: exec works; changes do not.
    ok(run(&dana, &["exec", "--stack", "shop", "--", "true"]), "dana: exec");
    refused(
        run(&dana, &["stack", "set-json", "--stack", "shop", json_arg]),
        "dana: set-json",
        "needs the manage level",
    );
    refused(run(&dana, &["stack", "delete", "shop"]), "dana: stack delete", "needs the manage level");
    refused(run(&dana, &["user", "list"]), "dana: user list", "server-wide admin");

    // manage: changes work; a denied stack leaves no trace.
    ok(run(&max, &["stack", "set-json", "--stack", "shop", json_arg]), "max: set-json");
    let listed = ok(run(&max, &["stack", "list"]), "max: stack list");
    assert!(!listed.contains("vault"), "{listed}");
    let hidden = refused(run(&max, &["stack", "show", "vault"]), "max: stack show vault", "does not exist");
    let missing = refused(run(&max, &["stack", "show", "nowhere"]), "max: stack show nowhere", "does not exist");
    assert_eq!(
        hidden.replace("vault", "X"),
        missing.replace("nowhere", "X"),
        "a denied stack answers like one that does not exist"
    );
    refused(run(&max, &["layer", "list", "--stack", "vault"]), "max: layer list vault", "does not exist");

    // whoami.
    let me = ok(run(&dana, &["whoami"]), "dana: whoami");
    assert!(me.starts_with("dana\n") && me.contains("shop") && me.contains("deploy") && !me.contains("vault"), "{me}");

    // Tokens reach at most their user's level.
    refused(
        run(&dana, &["token", "create", "--stack", "shop", "--level", "manage"]),
        "dana: a manage token",
        "above its user's own level",
    );
    let dana_show = ok(run(&dana, &["token", "create", "--stack", "shop", "--level", "show"]), "dana: show token");
    let dana_show = dana_show.trim();
    ok(run(dana_show, &["instance", "list", "--stack", "shop"]), "dana's show token: instance list");
    refused(
        run(dana_show, &["exec", "--stack", "shop", "--", "true"]),
        "dana's show token: exec",
        "needs the deploy level",
    );
    refused(run(dana_show, &["token", "create"]), "a cut-down token making tokens", "cannot make tokens");

    // Revoked and expired tokens are refused.
    let listed = ok(run(&sam, &["token", "list", "--json"]), "sam: token list");
    let tokens: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let sam_id = tokens[0]["id"].as_i64().unwrap();
    assert_eq!(tokens.as_array().unwrap().len(), 1, "sam sees only his own tokens: {tokens}");
    ok(run(&sam, &["token", "revoke", &sam_id.to_string()]), "sam: revoke");
    let out = run(&sam, &["stack", "list"]);
    assert_eq!(out.status.code(), Some(3), "a revoked token: {}", text(&out));
    let short = stack.cli_ok(&["token", "create", "--user", "dana", "--expires", "1s"]);
    let short = short.trim().to_owned();
    eventually(Duration::from_secs(30), "the 1 s token to expire", || {
        let out = run(&short, &["stack", "list"]);
        async move { (out.status.code() == Some(3)).then_some(()) }
    })
    .await;

    // The audit trail: who, from where, what and the outcome, refusals included.
    let trail = stack.cli_ok(&["audit", "list", "--json"]);
    let trail: Vec<serde_json::Value> = serde_json::from_str(&trail).unwrap();
    let find = |actor: &str, action: &str, status: u64| {
        trail
            .iter()
            .find(|e| e["actor"] == actor && e["action"].as_str().unwrap().contains(action) && e["status"] == status)
    };
    let sam_exec = find("sam", "POST /stacks/shop/deployments", 403).expect("sam's refused exec is audited");
    assert_eq!(sam_exec["stack"], "shop");
    assert_eq!(sam_exec["peer"], "127.0.0.1");
    assert!(sam_exec["outcome"].as_str().unwrap().contains("needs the deploy level"), "{sam_exec}");
    find("dana", "PUT /stacks/shop/custom_json", 403).expect("dana's refused set-json is audited");
    find("dana", "POST /stacks/shop/deployments", 201).expect("dana's exec is audited");
    find("max", "PUT /stacks/shop/custom_json", 200).expect("max's set-json is audited");
    find("anonymous", "GET /stacks", 401).expect("the revoked token's attempt is audited");
    find("admin", "POST /users", 201).expect("making users is audited");

    // A manager reads their stack's trail; a deployer does not; nobody but an admin reads all.
    let shop_trail = ok(run(&max, &["audit", "list", "--stack", "shop", "--json"]), "max: audit list --stack shop");
    let shop_trail: Vec<serde_json::Value> = serde_json::from_str(&shop_trail).unwrap();
    assert!(!shop_trail.is_empty() && shop_trail.iter().all(|e| e["stack"] == "shop"));
    refused(run(&dana, &["audit", "list", "--stack", "shop"]), "dana: audit", "needs the manage level");
    refused(run(&max, &["audit", "list"]), "max: the whole audit", "server-wide admin");
    let by_user = stack.cli_ok(&["audit", "list", "--user", "sam", "--since", "1h", "--json"]);
    let by_user: Vec<serde_json::Value> = serde_json::from_str(&by_user).unwrap();
    assert!(!by_user.is_empty() && by_user.iter().all(|e| e["actor"] == "sam"), "{by_user:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_people_input_is_refused_by_field_and_changes_nothing() {
    let stack = TestStack::start().await;
    stack.create_stack("shop", &[("web", "custom")]);
    let cases: [(&[&str], &str); 6] = [
        (&["user", "create", "Bad Name"], "name"),
        (&["user", "create", "admin"], "names the admin token"),
        (&["user", "grant", "--stack", "shop", "--level", "root", "nobody"], "not a permission level"),
        (&["user", "grant", "--stack", "nowhere", "--level", "show", "nobody"], "does not exist"),
        (&["token", "create"], "belongs to no user"),
        (&["token", "create", "--user", "nobody", "--expires", "10y"], "is not a duration"),
    ];
    for (args, says) in cases {
        let out = stack.cli(args);
        assert!(!out.status.success(), "{args:?} should be refused: {}", text(&out));
        assert!(text(&out).contains(says), "{args:?}: expected {says:?} in {}", text(&out));
    }
    let users = stack.cli_ok(&["user", "list", "--json"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&users).unwrap(), serde_json::json!([]));
    let tokens = stack.cli_ok(&["token", "list", "--json"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&tokens).unwrap(), serde_json::json!([]));
}
