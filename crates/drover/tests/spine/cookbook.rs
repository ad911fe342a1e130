//! The cookbook's attributes all mean something: the ones drover has no use for are named in a
//! warning at `set-json` and in `stack config`; a part drover adds only by default is left out
//! (with a warning in the deploy log) when the app's buildout does not define it, while a part
//! the user asked for still fails the build.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{DemoRepo, TestStack};

fn write(stack: &TestStack, name: &str, doc: &Value) -> String {
    let path = stack.data_dir().join(name);
    std::fs::write(&path, doc.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

/// Runs the CLI; its exit code, stdout and stderr.
fn run(stack: &TestStack, args: &[&str]) -> (Option<i32>, String, String) {
    let out = stack.cli(args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The warning the CLI prints for an accepted key without effect.
fn no_effect_line(path: &str) -> String {
    format!("warning: {path}: accepted, has no effect in drover: {path} (")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_json_names_each_cookbook_key_without_effect_and_stack_config_shows_them() {
    let stack = TestStack::start().await;
    stack.create_stack("cook", &[("zeoserver", "zeoserver"), ("clients", "plone_instances")]);

    // Each key alone: set-json keeps it (exit 0) and names it.
    let cases = [
        ("plone_instances.app_name", json!({"plone_instances": {"app_name": "plone_instances"}})),
        ("plone_zeoserver.app_name", json!({"plone_zeoserver": {"app_name": "zeoserver"}})),
        ("nginx_plone.log_retention_days", json!({"nginx_plone": {"log_retention_days": 30}})),
        ("deploy.site.buildout_config", json!({"deploy": {"site": {"buildout_config": "production.cfg"}}})),
        ("deploy.site.scm.repository", json!({"deploy": {"site": {"scm": {"repository": "git@example.org:s.git"}}}})),
        ("deploy.site.scm.ssh_key", json!({"deploy": {"site": {"scm": {"ssh_key": "-----BEGIN KEY-----"}}}})),
    ];
    for (i, (path, doc)) in cases.iter().enumerate() {
        let file = write(&stack, &format!("noop-{i}.json"), doc);
        let (code, stdout, stderr) = run(&stack, &["stack", "set-json", "--stack", "cook", &file]);
        assert_eq!(code, Some(0), "{path}: {stderr}");
        assert!(stdout.contains("Custom JSON is now version"), "{path} is kept: {stdout}");
        assert!(stderr.contains(&no_effect_line(path)), "{path} is named: {stderr}");
        assert_eq!(stderr.matches("has no effect").count(), 1, "only {path}: {stderr}");
    }

    // The keys that have an effect are not warned about, nor is buildout_config at drover's own
    // file name.
    let honoured = json!({
        "plone_instances": {
            "celery_args": "--concurrency 2",
            "beat_args": "-l info",
            "relstorage": {"pack_gc": false, "truncate_refs": true, "db": {"port": 5433}}
        },
        "deploy": {"site": {"environment": {"A": "1"}, "buildout_config": "deploy.cfg", "scm": {"revision": "main"}}}
    });
    let (code, _, stderr) =
        run(&stack, &["stack", "set-json", "--stack", "cook", &write(&stack, "ok.json", &honoured)]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("has no effect"), "{stderr}");

    // On a layer, and then in `stack config`: the stack's and the layers' own documents are
    // looked at (the defaults and the apps fill some of these paths in, and are not warned about).
    let (_, _, stderr) = run(&stack, &["stack", "config", "--stack", "cook"]);
    assert!(!stderr.contains("has no effect"), "nothing set yet: {stderr}");
    let layer_doc = json!({"plone_zeoserver": {"app_name": "zeo"}, "nginx_plone": {"log_retention_days": 7}});
    let (code, _, stderr) =
        run(&stack, &["layer", "set-json", "--stack", "cook", "zeoserver", &write(&stack, "layer.json", &layer_doc)]);
    assert_eq!(code, Some(0), "{stderr}");
    for path in ["plone_zeoserver.app_name", "nginx_plone.log_retention_days"] {
        assert!(stderr.contains(&no_effect_line(path)), "{path}: {stderr}");
    }
    let stack_doc = json!({"deploy": {"site": {"scm": {"repository": "/elsewhere.git"}}}});
    run(&stack, &["stack", "set-json", "--stack", "cook", &write(&stack, "stack.json", &stack_doc)]);
    let (code, _, stderr) = run(&stack, &["stack", "config", "--stack", "cook"]);
    assert_eq!(code, Some(0), "{stderr}");
    for path in ["deploy.site.scm.repository", "plone_zeoserver.app_name", "nginx_plone.log_retention_days"] {
        assert!(stderr.contains(&no_effect_line(path)), "{path}: {stderr}");
    }
    let shown: Value = serde_json::from_str(&stack.cli_ok(&["stack", "config", "--stack", "cook", "--json"])).unwrap();
    let paths: Vec<&str> = shown["warnings"].as_array().unwrap().iter().filter_map(|w| w["path"].as_str()).collect();
    assert!(paths.contains(&"deploy.site.scm.repository"), "{shown:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_default_part_the_buildout_lacks_is_left_out_and_an_asked_for_one_fails_the_build() {
    let stack = TestStack::start().await;
    stack.create_stack("cook", &[("zeoserver", "zeoserver")]);
    stack.create_online_instance("cook", &["zeoserver"]);

    // The demo buildout without its pack and backup parts.
    let dir = tempfile::tempdir().unwrap();
    let repo = DemoRepo::create(dir.path());
    let base = std::fs::read_to_string(repo.path.join("cfg/base.cfg")).unwrap();
    let cut = base.find("# drover adds these parts").expect("the demo defines its pack parts last");
    assert!(base[..cut].contains("[zeoserver]") && !base[..cut].contains("[packcronjob]"));
    repo.write_and_commit("cfg/base.cfg", &base[..cut], "no pack or backup parts");
    stack.cli_ok(&["app", "create", "--stack", "cook", "site", "--git", &repo.url(), "--layer", "zeoserver"]);

    // The Custom JSON's environment reaches the app's services too.
    let env = json!({"deploy": {"site": {"environment": {"DROVER_COOKBOOK_TEST": "from-custom-json"}}}});
    stack.cli_ok(&["stack", "set-json", "--stack", "cook", &write(&stack, "env.json", &env)]);

    // enable_pack is on by default: the part is left out, and the log says so.
    let (deployment, log) = deploy(&stack).await;
    assert_eq!(deployment["status"], "successful", "{deployment:#}\n{log}");
    assert!(
        log.contains(
            "warning: the buildout defines no [packcronjob] section: part left out; \
             set plone_zeoserver.enable_pack to false to silence this"
        ),
        "{log}"
    );
    let releases = stack.client().releases("cook", "site").await.unwrap();
    let current = releases.iter().find(|r| r.current).expect("a current release");
    assert!(!current.deploy_cfg.contains("packcronjob"), "{}", current.deploy_cfg);
    let pid = stack.service_pid("cook", "zeoserver1", "zeoserver").expect("the ZEO server runs");
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(
        environ.split(|b| *b == 0).any(|v| v == b"DROVER_COOKBOOK_TEST=from-custom-json"),
        "the ZEO server has the Custom JSON's variable"
    );

    // Asked for explicitly in the stack's Custom JSON: the build fails, naming the section.
    let pack = json!({"plone_zeoserver": {"enable_pack": true}});
    stack.cli_ok(&["stack", "set-json", "--stack", "cook", &write(&stack, "pack.json", &pack)]);
    let (deployment, log) = deploy(&stack).await;
    assert_eq!(deployment["status"], "failed", "{deployment:#}\n{log}");
    assert!(!log.contains("part left out"), "{log}");
    assert!(log.contains("'packcronjob'"), "buildout names the section: {log}");

    // Turned off: nothing to leave out, nothing to warn about.
    let off = json!({"plone_zeoserver": {"enable_pack": false}});
    stack.cli_ok(&["stack", "set-json", "--stack", "cook", &write(&stack, "off.json", &off)]);
    let (deployment, log) = deploy(&stack).await;
    assert_eq!(deployment["status"], "successful", "{deployment:#}\n{log}");
    assert!(!log.contains("packcronjob"), "{log}");
}

/// Deploys app `site` of stack `cook` and waits: the finished deployment and its one command's log.
async fn deploy(stack: &TestStack) -> (Value, String) {
    let (_, deployment, stderr) =
        stack.cli_json(&["deploy", "--stack", "cook", "site", "--wait", "--json", "--timeout", "900"], None);
    assert!(!deployment.is_null(), "drover deploy printed no deployment: {stderr}");
    let id = deployment["commands"][0]["id"].as_i64().expect("one command");
    let log = stack.client().command_log(id, 0, Duration::ZERO).await.unwrap().data;
    (deployment, log)
}
