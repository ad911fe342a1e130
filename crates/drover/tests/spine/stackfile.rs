//! Stack files: `drover apply` creates a stack from one, changes nothing when applied again,
//! changes only what the file changed, refuses bad files before any change; `drover export`
//! writes a file that applies back unchanged.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::{TestStack, drover_bin};

const SECRET: &str = "hunter2-from-the-env";

const STACK_FILE: &str = r#"
[stack]
name = "shop"
custom_json = '''
{"plone_instances": {"per_cpu": 1}, "mine": null}
'''

[layers.zeo]
type = "zeoserver"

[layers.clients]
type = "plone_instances"
hooks = { configure = "echo configured" }
custom_json = { plone_instances = { restart_delay = 3 } }

[apps.site]
git = "repos/site.git"
revision = "main"
layers = ["zeo", "clients"]
environment = { PLONE_ENV = "prod" }
secret_environment = { DB_PASSWORD = "env:DB_PASSWORD" }

[[instances]]
hostname = "clients1"
layers = ["clients"]
cpu_count = 2
"#;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the CLI against the stack's server with `env` added (and DB_PASSWORD unset otherwise).
fn drover(stack: &TestStack, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(drover_bin());
    cmd.args(args)
        .env("DROVER_SERVER", stack.url())
        .env("DROVER_TOKEN", stack.admin_token())
        .env("HOME", "/nonexistent")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("DB_PASSWORD")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn write(stack: &TestStack, name: &str, text: &str) -> PathBuf {
    let path = stack.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `drover apply -f FILE` with the secret set; asserts success and returns stdout.
fn apply(stack: &TestStack, file: &Path) -> String {
    let run = drover(stack, &["apply", "-f", file.to_str().unwrap()], &[("DB_PASSWORD", SECRET)]);
    assert_eq!(run.code, Some(0), "apply {}:\n{}\n{}", file.display(), run.stdout, run.stderr);
    assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET), "the secret was printed");
    run.stdout
}

fn json_out(stack: &TestStack, args: &[&str]) -> Value {
    serde_json::from_str(&stack.cli_ok(args)).unwrap()
}

/// Lines that report an object, without the notes and the summary.
fn object_lines(out: &str) -> Vec<&str> {
    out.lines().filter(|l| !l.starts_with("note:") && !l.starts_with("applied ")).collect()
}

/// How many Custom JSON versions the stack and each layer have.
fn history_lengths(stack: &TestStack) -> Vec<usize> {
    let mut out = Vec::new();
    for layer in [None, Some("zeo"), Some("clients")] {
        let mut args = vec!["stack", "config", "history", "--stack", "shop", "--json"];
        if let Some(l) = layer {
            args.extend(["--layer", l]);
        }
        out.push(json_out(stack, &args).as_array().unwrap().len());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_is_idempotent_and_export_applies_back_unchanged() {
    let stack = TestStack::start().await;
    let file = write(&stack, "shop.toml", STACK_FILE);

    // First apply: everything is created.
    let out = apply(&stack, &file);
    assert_eq!(
        object_lines(&out),
        [
            "stack shop: created",
            "layer clients: created",
            "layer zeo: created",
            "app site: created",
            "instance clients1: created"
        ],
        "{out}"
    );
    assert!(out.contains("to stack shop: 5 created, 0 updated, 0 unchanged"), "{out}");

    let shown = json_out(&stack, &["stack", "show", "shop", "--json"]);
    assert_eq!(shown["custom_json"], json!({"plone_instances": {"per_cpu": 1}, "mine": null}));
    let clients = json_out(&stack, &["layer", "show", "--stack", "shop", "clients", "--json"]);
    assert_eq!(clients["type"], "plone_instances");
    assert_eq!(clients["hooks"], json!({"configure": "echo configured"}));
    assert_eq!(clients["custom_json"], json!({"plone_instances": {"restart_delay": 3}}));
    assert_eq!(clients["auto_healing"], true);
    let zeo = json_out(&stack, &["layer", "show", "--stack", "shop", "zeo", "--json"]);
    assert_eq!((zeo["type"].as_str(), zeo["custom_json"].clone()), (Some("zeoserver"), json!({})));
    let app = json_out(&stack, &["app", "show", "--stack", "shop", "site", "--json"]);
    let repository = stack.dir.path().join("repos/site.git");
    assert_eq!(app["repository"], repository.to_str().unwrap(), "a relative git path is resolved against the file");
    assert_eq!(app["revision"], "main");
    assert_eq!(app["environment"]["PLONE_ENV"], "prod");
    assert_eq!(app["secret_environment"], json!(["DB_PASSWORD"]));
    let mut app_layers: Vec<String> = serde_json::from_value(app["layers"].clone()).unwrap();
    app_layers.sort();
    assert_eq!(app_layers, ["clients", "zeo"]);
    let instance = json_out(&stack, &["instance", "show", "--stack", "shop", "clients1", "--json"]);
    assert_eq!((instance["layers"].clone(), instance["cpu_count"].clone()), (json!(["clients"]), json!(2)));
    let history = history_lengths(&stack);

    // Second apply: nothing changes, not even the Custom JSON history.
    let out = apply(&stack, &file);
    assert!(object_lines(&out).iter().all(|l| l.ends_with(": unchanged")), "{out}");
    assert!(out.contains("to stack shop: 0 created, 0 updated, 5 unchanged"), "{out}");
    assert_eq!(history_lengths(&stack), history);
    let again = json_out(&stack, &["app", "show", "--stack", "shop", "site", "--json"]);
    assert_eq!(again["updated_at"], app["updated_at"], "the app was not written");

    // One value changes: only its object is updated (a dry run first changes nothing).
    let changed = write(&stack, "shop2.toml", &STACK_FILE.replace("\"prod\"", "\"staging\""));
    let dry = drover(&stack, &["apply", "-f", changed.to_str().unwrap(), "--dry-run"], &[("DB_PASSWORD", SECRET)]);
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(dry.stdout.contains("app site: would update (environment.PLONE_ENV)"), "{}", dry.stdout);
    let args = ["apply", "-f", changed.to_str().unwrap(), "--dry-run", "--json"];
    let dry = drover(&stack, &args, &[("DB_PASSWORD", SECRET)]);
    let planned: serde_json::Value = serde_json::from_str(&dry.stdout).expect("apply --dry-run --json prints JSON");
    let site = planned["steps"].as_array().unwrap().iter().find(|s| s["kind"] == "app" && s["name"] == "site");
    assert_eq!(site.unwrap()["action"], "update", "{planned}");
    assert_eq!((&planned["dry_run"], &planned["updated"]), (&json!(true), &json!(1)), "{planned}");
    assert_eq!(
        json_out(&stack, &["app", "show", "--stack", "shop", "site", "--json"])["environment"]["PLONE_ENV"],
        "prod"
    );
    let out = apply(&stack, &changed);
    let updated: Vec<&str> = object_lines(&out).into_iter().filter(|l| !l.ends_with(": unchanged")).collect();
    assert_eq!(updated, ["app site: updated (environment.PLONE_ENV)"], "{out}");
    assert_eq!(
        json_out(&stack, &["app", "show", "--stack", "shop", "site", "--json"])["environment"]["PLONE_ENV"],
        "staging"
    );
    assert_eq!(history_lengths(&stack), history);

    // A secret in the stack's Custom JSON, set outside the file, comes back out as <redacted>.
    let doc = json!({"plone_instances": {"per_cpu": 1}, "mine": null, "haproxy": {"stats_password": "s3cret-stats"}});
    let doc_file = write(&stack, "doc.json", &doc.to_string());
    stack.cli_ok(&["stack", "set-json", "--stack", "shop", doc_file.to_str().unwrap()]);
    let history = history_lengths(&stack);

    // Export, then apply the export: everything unchanged.
    let exported = stack.dir.path().join("exported.toml");
    let out = stack.cli_ok(&["export", "--stack", "shop", "-o", exported.to_str().unwrap()]);
    assert!(out.contains("wrote stack shop"), "{out}");
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(!text.contains("s3cret-stats") && !text.contains(SECRET), "a secret was exported:\n{text}");
    assert!(text.contains("\"stats_password\": \"<redacted>\""), "{text}");
    assert!(text.contains("\"mine\": null"), "nulls are kept:\n{text}");
    assert!(text.contains("secret_environment = { DB_PASSWORD = \"env:DB_PASSWORD\" }"), "{text}");
    assert!(text.contains(&format!("git = \"{}\"", repository.display())), "{text}");
    assert_eq!(stack.cli_ok(&["export", "--stack", "shop"]), text, "stdout and -o write the same");
    let out = apply(&stack, &exported);
    assert!(object_lines(&out).iter().all(|l| l.ends_with(": unchanged")), "{out}");
    assert_eq!(history_lengths(&stack), history);
    let effective = json_out(&stack, &["stack", "config", "history", "--stack", "shop", "--json"]);
    assert_eq!(effective[0]["custom_json"]["haproxy"]["stats_password"], "<redacted>", "the stored secret is kept");

    // A layer's type cannot change: refused by key path and line, before any change.
    let retyped = write(&stack, "retyped.toml", &STACK_FILE.replace("type = \"zeoserver\"", "type = \"custom\""));
    let run = drover(&stack, &["apply", "-f", retyped.to_str().unwrap()], &[("DB_PASSWORD", SECRET)]);
    assert_eq!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("layers.zeo.type (line 9, column 8)"), "{}", run.stderr);
    assert!(run.stderr.contains("drover layer delete --stack shop zeo"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(history_lengths(&stack), history);
    assert_eq!(json_out(&stack, &["layer", "show", "--stack", "shop", "zeo", "--json"])["type"], "zeoserver");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_refused_by_key_and_line_before_any_change() {
    let stack = TestStack::start().await;
    let head = "[stack]\nname = \"bad\"\n\n[layers.web]\ntype = \"custom\"\n";
    let app = "\n[apps.site]\ngit = \"/srv/git/site.git\"\nlayers = [\"web\"]\n";
    let cases = [
        (format!("{head}auto_heal = true\n"), "layers.web.auto_heal (line 6, column 1)", "unknown field `auto_heal`"),
        (head.replace("\"custom\"", "\"webserver\""), "layers.web.type (line 5, column 8)", "not a valid layer type"),
        (
            head.replace(
                "name = \"bad\"",
                "name = \"bad\"\ncustom_json = '''\n{\"plone_instances\":\n  {\"per_cpu\": 1,}\n}\n'''",
            ),
            "stack.custom_json (line 3, column 15)",
            "of the JSON (line 5 of the file)",
        ),
        (
            format!("{head}{app}secret_environment = {{ DB_PASSWORD = \"env:DB_PASSWORD\" }}\n"),
            "apps.site.secret_environment.DB_PASSWORD (line 10, column 38)",
            "DB_PASSWORD is not set in the environment",
        ),
    ];
    for (i, (text, at, message)) in cases.iter().enumerate() {
        let file = write(&stack, &format!("bad{i}.toml"), text);
        let run = drover(&stack, &["apply", "-f", file.to_str().unwrap()], &[]);
        assert_eq!(run.code, Some(2), "{text}\n{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(at) && run.stderr.contains(message),
            "{text}\nwant {at}: {message}\n{}",
            run.stderr
        );
        assert!(run.stderr.contains(file.to_str().unwrap()), "the file is named: {}", run.stderr);
        assert_eq!(json_out(&stack, &["stack", "list", "--json"]), json!([]), "{text}");
    }

    // A request the server refuses partway (a Custom JSON over its size limit) is reported by
    // object, after what was already done.
    let big = "x".repeat(130 * 1024);
    let text = format!(
        "[stack]\nname = \"big\"\n\n[layers.a]\ntype = \"custom\"\n\n[layers.b]\ntype = \"custom\"\ncustom_json = {{ big = \"{big}\" }}\n"
    );
    let file = write(&stack, "big.toml", &text);
    let run = drover(&stack, &["apply", "-f", file.to_str().unwrap()], &[]);
    assert_eq!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), ["stack big: created", "layer a: created"]);
    assert!(run.stderr.contains("layer b: the server refused it: custom_json: Custom JSON is"), "{}", run.stderr);
    assert!(run.stderr.contains("2 object(s) were created or updated before it"), "{}", run.stderr);
    let layers = json_out(&stack, &["layer", "list", "--stack", "big", "--json"]);
    assert_eq!(layers.as_array().unwrap().len(), 1);
}
