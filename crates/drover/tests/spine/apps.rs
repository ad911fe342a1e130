//! Apps: created, shown, changed and deleted; secret values never come back out.

use crate::support::TestStack;

const KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END OPENSSH PRIVATE KEY-----\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_keep_their_secrets_secret() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("clients", "plone_instances"), ("zeo", "zeoserver")]);
    let key = stack.dir.path().join("deploy_key");
    std::fs::write(&key, KEY).unwrap();

    let out = stack.cli_ok(&[
        "app",
        "create",
        "--stack",
        "demo",
        "site",
        "--layer",
        "clients",
        "--layer",
        "zeo",
        "--git",
        "https://example.org/site.git",
        "--revision",
        "main",
        "--deploy-key",
        key.to_str().unwrap(),
        "--env",
        "SITE_ID=Plone",
        "--secret-env",
        "DB_PASSWORD=hunter2-secret",
    ]);
    assert!(out.contains("created app site"), "{out}");
    assert!(!out.contains("hunter2-secret") && !out.contains("c2VjcmV0"), "secrets printed: {out}");

    // Every way of reading it back redacts the secrets.
    let shown = stack.cli_ok(&["app", "show", "--stack", "demo", "site"]);
    let listed = stack.cli_ok(&["app", "list", "--stack", "demo", "--json"]);
    let json = stack.cli_ok(&["app", "show", "--stack", "demo", "site", "--json"]);
    for text in [&shown, &listed, &json] {
        assert!(!text.contains("hunter2-secret") && !text.contains("c2VjcmV0"), "secret shown: {text}");
    }
    let app: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(app["environment"]["SITE_ID"], "Plone");
    assert_eq!(app["environment"]["DB_PASSWORD"], "<redacted>");
    assert_eq!(app["secret_environment"], serde_json::json!(["DB_PASSWORD"]));
    assert_eq!(app["deploy_key"], true);
    assert_eq!(app["layers"], serde_json::json!(["clients", "zeo"]));
    assert!(!stack.server_log().contains("hunter2-secret"), "the server logged a secret");

    // A secret taken from the shell's environment, a variable removed, the key removed.
    let out = std::process::Command::new(crate::support::drover_bin())
        .args(["app", "update", "--stack", "demo", "site", "--secret-env", "API_TOKEN", "--unset-env", "SITE_ID"])
        .args(["--remove-deploy-key", "--revision", ""])
        .env("DROVER_SERVER", stack.url())
        .env("DROVER_TOKEN", stack.admin_token())
        .env("API_TOKEN", "from-the-shell")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let app = stack.client().app("demo", "site").await.unwrap();
    assert_eq!(app.secret_environment, ["API_TOKEN", "DB_PASSWORD"]);
    assert!(!app.environment.contains_key("SITE_ID"));
    assert!(!app.deploy_key);
    assert_eq!(app.revision, None);

    // A layer used by an app is not deleted; the app is.
    let out = stack.cli(&["layer", "delete", "--stack", "demo", "zeo"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    stack.cli_ok(&["app", "delete", "--stack", "demo", "site"]);
    assert!(stack.client().apps("demo").await.unwrap().is_empty());
    stack.cli_ok(&["layer", "delete", "--stack", "demo", "zeo"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_app_settings_are_refused_by_name_and_change_nothing() {
    let stack = TestStack::start().await;
    stack.create_stack("demo", &[("clients", "plone_instances")]);
    stack.cli_ok(&["app", "create", "--stack", "demo", "site", "--layer", "clients", "--git", "/srv/git/site.git"]);
    let before = stack.cli_ok(&["app", "list", "--stack", "demo", "--json"]);
    let bad_key = stack.dir.path().join("bad_key");
    std::fs::write(&bad_key, "ssh-ed25519 AAAAC3Nza user@host").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["app", "create", "--stack", "demo", "site2", "--layer", "nope", "--git", "/x.git"],
            "--layer (layers[0])",
        ),
        (vec!["app", "create", "--stack", "demo", "site2", "--layer", "clients", "--git", "not a url"], "--git"),
        (
            vec![
                "app",
                "create",
                "--stack",
                "demo",
                "site2",
                "--layer",
                "clients",
                "--git",
                "/x.git",
                "--revision",
                "a..b",
            ],
            "--revision",
        ),
        (
            vec!["app", "create", "--stack", "demo", "site2", "--layer", "clients", "--git", "/x.git", "--env", "1X=y"],
            "--env (environment.1X)",
        ),
        (
            vec![
                "app",
                "create",
                "--stack",
                "demo",
                "site2",
                "--layer",
                "clients",
                "--git",
                "/x.git",
                "--deploy-key",
                bad_key.to_str().unwrap(),
            ],
            "--deploy-key",
        ),
        (vec!["app", "create", "--stack", "demo", "site", "--layer", "clients", "--git", "/x.git"], "name"),
        (vec!["app", "update", "--stack", "demo", "site", "--git=-oProxyCommand=evil"], "--git"),
        (vec!["app", "update", "--stack", "demo", "site", "--unset-env", "NOPE"], "--unset-env (unset_environment[0])"),
        (vec!["app", "show", "--stack", "demo", "nope"], "app"),
    ];
    for (args, field) in cases {
        let out = stack.cli(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        // Named as the flag typed, with the request's path where it goes deeper.
        assert!(stderr.contains(&format!("error: {field}:")), "{args:?} should name {field}: {stderr}");
    }
    assert_eq!(stack.cli_ok(&["app", "list", "--stack", "demo", "--json"]), before, "refused requests changed an app");
}
