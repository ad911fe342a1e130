//! A Plone stack's Custom JSON as a migrating OpsWorks user would paste it (reference.md section
//! 4), with a layer's and a deployment's documents on top: it checks clean, the effective
//! configuration follows deployment > layer > stack > defaults with secrets redacted, and the
//! `deploy.cfg` of a client instance says what section 5 says it must.
//!
//! Then the same document with two typos and one wrong type: the warnings name the keys, the
//! error names the path.

use drover_core::LayerType;
use drover_core::attributes::{REDACTED, check, deploy_attributes, effective, redact};
use drover_core::deploy::deploy_cfg::render;
use drover_core::deploy::plan::{Discovered, Member, plan};
use serde_json::{Value, json};

/// The stack's Custom JSON.
fn stack_json() -> Value {
    json!({
        "plone_instances": {
            "site_id": "Plone",
            "per_cpu": 1,
            "zodb_cache_size": 50000,
            "zserver_threads": 2,
            "restart_delay": 10,
            "zeo_layer": "db",
            "solr_enabled": true,
            "solr_layer": "solr",
            "enable_celery": true,
            "celerybeat": true,
            "broker_layer": "celery_broker",
            "broker": {"port": 6380},
            "subsites": {"intranet": "intranet.example.org", "shop": "shop.example.org"}
        },
        "plone_zeoserver": {"enable_backup": true},
        "plone_blobs": {"blob_dir": "/srv/blobs"},
        "nginx_plone": {
            "client_max_body_size": "256m",
            "additional_config": "add_header X-Frame-Options SAMEORIGIN;",
            "log_retention_days": 30
        },
        "haproxy": {
            "balance": "roundrobin",
            "check_interval": 5000,
            "server_timeout": "300s",
            "stats_user": "ops",
            "stats_password": "hunter2-stats"
        },
        "deploy": {
            "site": {
                "scm": {
                    "repository": "git@github.com:example/site-buildout.git",
                    "revision": "main",
                    "ssh_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
                },
                "keep_releases": 3,
                "buildout_extends": ["cfg/production.cfg"],
                "buildout_parts_to_include": ["zopepy", "varnish-config"],
                "buildout_additional_config": "always-checkout = force\nauto-checkout = collective.site",
                "environment": {
                    "PLONE_ENV": "production",
                    "SENTRY_DSN": "https://abc@sentry.example.org/7",
                    "MAILHOST_PASSWORD": "smtp-pw"
                }
            }
        }
    })
}

/// The `plone_instances` layer's Custom JSON.
fn layer_json() -> Value {
    json!({"plone_instances": {"per_cpu": 1.5, "zserver_threads": 4, "restart_delay": 20}})
}

/// The deployment's Custom JSON.
fn deployment_json() -> Value {
    json!({
        "plone_instances": {"restart_delay": 30},
        "deploy": {"site": {"scm": {"revision": "v2.3.1"}}}
    })
}

/// The online members `(hostname, address)` of each layer.
fn online(layer: &str) -> Vec<Member<'static>> {
    let member = |hostname, address| Member { hostname, address, online_since_ms: 1_000 };
    match layer {
        "db" => vec![member("zeo2", "127.0.0.6"), member("zeo1", "127.0.0.5")],
        "solr" => vec![member("solr1", "127.0.0.8")],
        "celery_broker" => vec![member("redis1", "127.0.0.9")],
        _ => Vec::new(),
    }
}

fn merged() -> Value {
    let (stack, layer, deployment) = (stack_json(), layer_json(), deployment_json());
    effective(&["site"], [], [&stack, &layer, &deployment])
}

/// `deploy.cfg` of `web1` (127.0.0.2, 2 CPUs), a `plone_instances` instance.
fn web1_deploy_cfg() -> String {
    let attrs = deploy_attributes(&merged(), "site").expect("the realistic document reads cleanly");
    let found = Discovered::find(&attrs, online, "127.0.0.2");
    let build = plan("web1", "127.0.0.2", 2, &[LayerType::PloneInstances], &attrs, &found);
    render(&build.deploy_cfg("/srv/www/site/shared", None, true)).expect("renders")
}

/// The lines of section `name` (without the header), up to the next section.
fn section<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!("[{name}]");
    text.lines()
        .skip_while(|l| *l != header)
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .filter(|l| !l.is_empty())
        .collect()
}

/// The indented values under option `opener` (e.g. `parts +=`) of `lines`.
fn values<'a>(lines: &[&'a str], opener: &str) -> Vec<&'a str> {
    let start = lines.iter().position(|l| *l == opener).unwrap_or_else(|| panic!("no {opener:?} in {lines:?}"));
    lines[start + 1..].iter().map_while(|l| l.strip_prefix("    ")).collect()
}

#[test]
fn the_documents_check_clean() {
    for (level, doc) in [("stack", stack_json()), ("layer", layer_json()), ("deployment", deployment_json())] {
        let found = check(&doc);
        assert!(found.errors.is_empty(), "{level}: {:?}", found.errors);
        assert!(found.warnings.is_empty(), "{level}: {:?}", found.warnings);
    }
    let found = check(&merged());
    assert!(found.errors.is_empty() && found.warnings.is_empty(), "effective: {found:?}");
}

#[test]
fn the_effective_configuration_follows_the_precedence_and_fills_in_defaults() {
    let e = merged();
    let cases = [
        // Set at all three levels: the deployment wins.
        ("/plone_instances/restart_delay", json!(30)),
        ("/deploy/site/scm/revision", json!("v2.3.1")),
        // Stack and layer: the layer wins.
        ("/plone_instances/per_cpu", json!(1.5)),
        ("/plone_instances/zserver_threads", json!(4)),
        // Stack only, and the rest of an object the deployment touched.
        ("/plone_instances/zodb_cache_size", json!(50000)),
        ("/plone_instances/zeo_layer", json!("db")),
        ("/plone_instances/broker", json!({"host": null, "port": 6380})),
        ("/deploy/site/scm/repository", json!("git@github.com:example/site-buildout.git")),
        ("/deploy/site/keep_releases", json!(3)),
        ("/deploy/site/buildout_extends", json!(["cfg/production.cfg"])),
        ("/haproxy/balance", json!("roundrobin")),
        ("/nginx_plone/client_max_body_size", json!("256m")),
        ("/plone_zeoserver/enable_backup", json!(true)),
        ("/plone_blobs/blob_dir", json!("/srv/blobs")),
        // Untouched: the defaults of section 4.
        ("/plone_instances/base_config", json!("cfg/base.cfg")),
        ("/plone_instances/persistent_cache", json!(true)),
        ("/plone_instances/shared_blobs", json!(true)),
        ("/plone_instances/enable_relstorage", json!(false)),
        ("/plone_instances/zeo/address", Value::Null),
        ("/plone_zeoserver/enable_pack", json!(true)),
        ("/haproxy/retries", json!(3)),
        ("/haproxy/health_check_url", json!("/misc_/CMFPlone/plone_icon")),
        ("/haproxy/enable_stats", json!(true)),
        ("/nginx_plone/enable_ssi", json!(false)),
        ("/deploy/site/buildout_inherit_parts", json!(true)),
        ("/deploy/site/buildout_config", json!("deploy.cfg")),
        ("/deploy/site/always_build_on_deploy", json!(false)),
    ];
    for (pointer, want) in cases {
        assert_eq!(e.pointer(pointer), Some(&want), "{pointer}");
    }

    let attrs = deploy_attributes(&e, "site").expect("reads cleanly");
    assert_eq!((attrs.per_cpu, attrs.restart_delay, attrs.keep_releases), (1.5, 30.0, 3));
    assert_eq!((attrs.zodb_cache_size, attrs.zserver_threads), (Some(50000), Some(4)));
    assert_eq!(attrs.revision.as_deref(), Some("v2.3.1"));
    assert!(attrs.solr_enabled && attrs.enable_celery && attrs.celerybeat && attrs.enable_backup);
    assert_eq!(attrs.broker.port, 6380);
}

#[test]
fn secrets_are_redacted_in_the_effective_configuration() {
    let mut shown = merged();
    redact(&mut shown);
    assert_eq!(shown["haproxy"]["stats_password"], REDACTED);
    assert_eq!(shown["deploy"]["site"]["scm"]["ssh_key"], REDACTED);
    assert_eq!(shown["deploy"]["site"]["environment"]["MAILHOST_PASSWORD"], REDACTED);
    // Unset secrets stay null (nothing to hide); the rest is shown as it is.
    assert_eq!(shown["plone_instances"]["relstorage"]["db"]["password"], Value::Null);
    assert_eq!(shown["haproxy"]["stats_user"], "ops");
    assert_eq!(shown["deploy"]["site"]["environment"]["PLONE_ENV"], "production");
    assert_eq!(shown["deploy"]["site"]["scm"]["revision"], "v2.3.1");
    let text = shown.to_string();
    for secret in ["hunter2-stats", "OPENSSH PRIVATE KEY", "smtp-pw"] {
        assert!(!text.contains(secret), "{secret} shown in {text}");
    }
    // Redacting only what is shown: the document itself keeps its values.
    assert_eq!(merged()["haproxy"]["stats_password"], "hunter2-stats");
}

#[test]
fn the_deploy_cfg_of_a_client_instance() {
    let text = web1_deploy_cfg();
    let buildout = section(&text, "buildout");

    assert_eq!(values(&buildout, "extends ="), ["cfg/base.cfg", "cfg/production.cfg"]);
    // 2 CPUs × per_cpu 1.5 (the layer's) = 3 clients, then Celery, then the app's parts.
    assert_eq!(values(&buildout, "parts +="), ["client1", "client2", "client3", "celery", "zopepy", "varnish-config"]);
    assert!(buildout.contains(&"always-checkout = force"), "{text}");
    assert!(buildout.contains(&"auto-checkout = collective.site"), "{text}");
    assert!(buildout.contains(&"eggs-directory = /srv/www/site/shared/eggs"), "{text}");

    // zeo1 sorts before zeo2: the first online instance of the ZEO layer (`db`).
    assert_eq!(section(&text, "zeo-host"), ["address = 127.0.0.5:8001"]);
    assert_eq!(section(&text, "solr-host"), ["host = 127.0.0.8"]);
    assert_eq!(section(&text, "celery-broker"), ["host = 127.0.0.9", "port = 6380"]);

    assert_eq!(
        section(&text, "client1"),
        [
            "http-address = 127.0.0.2:8081",
            "zodb-cache-size = 50000",
            "zserver-threads = 4",
            "threads = 4",
            "zeo-var = /srv/www/site/shared/var",
            "blob-storage = /srv/blobs",
            "zeo-client-client = zeoclient-1",
        ]
    );
    for n in 2..=3 {
        assert_eq!(
            section(&text, &format!("client{n}")),
            [
                "<= client1".to_owned(),
                format!("http-address = 127.0.0.2:808{n}"),
                format!("zeo-client-client = zeoclient-{n}")
            ]
        );
    }
    assert!(section(&text, "client4").is_empty(), "{text}");

    // Not on this instance: the ZEO server and RelStorage; never in deploy.cfg: the app's
    // environment, its deploy key, the frontend's settings.
    for absent in [
        "[zeoserver]",
        "[relstorage]",
        "cfg/relstorage.cfg",
        "PLONE_ENV",
        "SENTRY_DSN",
        "smtp-pw",
        "OPENSSH",
        "hunter2",
        "X-Frame-Options",
    ] {
        assert!(!text.contains(absent), "{absent} in:\n{text}");
    }

    let mut settings = insta::Settings::clone_current();
    settings.set_description(
        "web1 (127.0.0.2), 2 CPUs, plone_instances: the stack, layer and deployment JSON of this file",
    );
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("realistic_web1_deploy_cfg", text));
}

#[test]
fn the_zeo_server_instance_runs_backup_and_pack() {
    let attrs = deploy_attributes(&merged(), "site").expect("reads cleanly");
    let found = Discovered::find(&attrs, online, "127.0.0.5");
    let build = plan("zeo1", "127.0.0.5", 2, &[LayerType::Zeoserver], &attrs, &found);
    let text = render(&build.deploy_cfg("/srv/www/site/shared", None, true)).expect("renders");
    let buildout = section(&text, "buildout");
    assert_eq!(
        values(&buildout, "parts +="),
        ["zeoserver", "backup", "backupcronjob", "packcronjob", "zopepy", "varnish-config"]
    );
    assert_eq!(
        section(&text, "zeoserver"),
        [
            "zeo-address = 127.0.0.5:8001",
            "file-storage = /srv/www/site/shared/var/filestorage/Data.fs",
            "blob-storage = /srv/blobs"
        ]
    );
    for absent in ["[zeo-host]", "[client1]", "[celery-broker]", "[solr-host]"] {
        assert!(!text.contains(absent), "{absent} in:\n{text}");
    }
}

#[test]
fn typos_are_named_in_warnings_and_a_wrong_type_in_an_error() {
    let mut stack = stack_json();
    let pi = stack["plone_instances"].as_object_mut().expect("an object");
    let per_cpu = pi.remove("per_cpu").expect("set");
    pi.insert("per_cpus".into(), per_cpu);
    let zeo_layer = pi.remove("zeo_layer").expect("set");
    pi.insert("zeo_layr".into(), zeo_layer);
    pi.insert("zodb_cache_size".into(), json!("50000"));

    let found = check(&stack);
    let warned: Vec<(&str, &str)> = found.warnings.iter().map(|w| (w.path.as_str(), w.message.as_str())).collect();
    assert_eq!(warned.len(), 2, "{warned:?}");
    assert_eq!(warned[0].0, "plone_instances.per_cpus");
    assert!(warned[0].1.contains("\"per_cpus\"") && warned[0].1.contains("did you mean \"per_cpu\""), "{warned:?}");
    assert_eq!(warned[1].0, "plone_instances.zeo_layr");
    assert!(warned[1].1.contains("\"zeo_layr\"") && warned[1].1.contains("did you mean \"zeo_layer\""), "{warned:?}");

    assert_eq!(found.errors.len(), 1, "{:?}", found.errors);
    let error = &found.errors[0];
    assert_eq!(error.path, "plone_instances.zodb_cache_size");
    assert_eq!(error.found, "\"50000\"");
    assert!(error.to_string().starts_with("plone_instances.zodb_cache_size: expected a whole number"), "{error}");

    // Read for a deploy, the wrong type fails by the same path; the typos are not read at all,
    // so without the layer's document the defaults are in force: per_cpu 2, the ZEO layer
    // `zeoserver` (where this stack has no instance: the clients would use their own address).
    let e = effective(&["site"], [], [&stack]);
    let errors = deploy_attributes(&e, "site").expect_err("a wrong type");
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["plone_instances.zodb_cache_size"]);
    stack["plone_instances"]["zodb_cache_size"] = json!(50000);
    let attrs = deploy_attributes(&effective(&["site"], [], [&stack]), "site").expect("reads cleanly");
    assert_eq!((attrs.per_cpu, attrs.zeo_layer.as_str()), (2.0, "zeoserver"));
}
