//! `drover server migrate`: an SQLite installation with stacks, apps, secrets, users, tokens and
//! deployment history moves into PostgreSQL; every CLI read answers the same before and after, and
//! the server goes on from there (new ids after the moved ones).

use std::process::Command;

use crate::support::{PostgresStore, TestStack, drover_bin, on_postgres};

const STACK: &str = "migrated-production-site-stack01";

/// The reads compared before and after the move.
fn reads(stack: &TestStack, deployment: &str) -> Vec<(String, String)> {
    let reads: Vec<Vec<&str>> = vec![
        vec!["stack", "list", "--json"],
        vec!["export", "--stack", STACK],
        vec!["app", "show", "--stack", STACK, "site", "--json"],
        vec!["deployment", "list", "--stack", STACK, "--json"],
        vec!["deployment", "show", deployment, "--logs", "--json"],
        vec!["user", "list", "--json"],
        vec!["token", "list", "--json"],
        vec!["token", "list", "--join", "--stack", STACK, "--json"],
        vec!["events", "--stack", STACK, "--json"],
    ];
    reads.into_iter().map(|args| (args.join(" "), stack.cli_ok(&args))).collect()
}

fn migrate(stack: &TestStack, store: &PostgresStore, to: &str) -> std::process::Output {
    Command::new(drover_bin())
        .args(["server", "migrate", "--from"])
        .arg(format!("sqlite:{}", stack.data_dir().join("drover.db").display()))
        .args(["--to", to])
        .env("PGPASSFILE", &store.passfile)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqlite_installation_moves_to_postgres_and_reads_the_same() {
    if on_postgres() {
        eprintln!("skipped: this test starts on SQLite by design");
        return;
    }
    let mut stack = TestStack::start().await;
    stack.create_stack(STACK, &[("clients", "plone_instances"), ("zeo", "zeoserver")]);
    stack.cli_ok(&[
        "app",
        "create",
        "--stack",
        STACK,
        "site",
        "--layer",
        "clients",
        "--git",
        "https://example.org/site.git",
        "--env",
        "SITE_ID=Plone",
        "--secret-env",
        "DB_PASSWORD=moved-secret-value",
    ]);
    stack.cli_ok(&["user", "create", "sam"]);
    stack.cli_ok(&["token", "create", "--user", "sam"]);
    stack.join_token(&["--stack", STACK]);
    stack.create_online_instance(STACK, &["clients"]);
    let out = stack.cli_ok(&["exec", "--stack", STACK, "--json", "--", "echo", "before the move"]);
    let before_exec: serde_json::Value = serde_json::from_str(&out).unwrap();
    let deployment = before_exec["id"].as_i64().unwrap_or_else(|| {
        panic!("no deployment id in {out}");
    });
    let before = reads(&stack, &deployment.to_string());
    let shown = &before.iter().find(|(what, _)| what.starts_with("deployment show")).unwrap().1;
    assert!(shown.contains("before the move"), "the command log is not in the read: {shown}");
    assert!(before.iter().all(|(_, read)| !read.contains("moved-secret-value")), "a read shows a secret");
    stack.stop_server();

    let store = PostgresStore::start(stack.dir.path());
    // A password in the URL is refused before anything connects.
    let with_password = store.url.replace("drover@", "drover:guess@");
    let refused = migrate(&stack, &store, &with_password);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("passfile"), "{refused:?}");

    let moved = migrate(&stack, &store, &store.url);
    let report = String::from_utf8_lossy(&moved.stdout).into_owned();
    assert!(moved.status.success(), "migrate failed: {report}\n{}", String::from_utf8_lossy(&moved.stderr));
    assert!(report.contains("both sides verified"), "{report}");
    assert!(!report.contains("moved-secret-value"), "the report shows a secret: {report}");
    for table in ["stacks", "apps", "app_secrets", "deployments", "commands", "command_log", "users", "join_tokens"] {
        let line = report.lines().find(|l| l.split_whitespace().next() == Some(table)).unwrap_or_else(|| {
            panic!("{table} missing from the report:\n{report}");
        });
        let rows: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(rows > 0, "{table} moved no rows:\n{report}");
    }
    // A second move into the now full database is refused and changes nothing.
    let again = migrate(&stack, &store, &store.url);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"), "{again:?}");

    stack.switch_store(store);
    stack.start_server().await;
    let after = reads(&stack, &deployment.to_string());
    for ((what, was), (_, is)) in before.iter().zip(&after) {
        assert_eq!(was, is, "`drover {what}` differs after the move");
    }
    // The server goes on: a new deployment gets an id past the moved ones.
    let out = stack.cli_ok(&["exec", "--stack", STACK, "--json", "--", "echo", "after the move"]);
    let after_exec: serde_json::Value = serde_json::from_str(&out).unwrap();
    let next = after_exec["id"].as_i64().unwrap();
    assert!(next > deployment, "deployment {next} after the move is not past {deployment}");
    assert!(out.contains("after the move"), "{out}");
}
