//! Golden `deploy.cfg` files over the attribute matrix of reference.md sections 4 and 5, built the
//! way the server builds them: a Custom JSON document, the effective attributes, the deploy
//! attributes, discovery over fixed loopback members, the instance's plan, and the render.
//!
//! Every rendered file also passes [`assert_reference_shape`], the structural rules of section 5
//! that hold whatever the attributes are, so a snapshot update cannot silently accept a file that
//! breaks them.

use drover_core::LayerType;
use drover_core::attributes::{deploy_attributes, effective};
use drover_core::deploy::deploy_cfg::render;
use drover_core::deploy::plan::{Discovered, Member, plan};
use drover_core::deploy::sizing::{client_count, client_port};
use insta::assert_snapshot;
use serde_json::{Value, json};

/// The app's `shared/` directory on the instance.
const SHARED: &str = "/srv/www/site/shared";

/// An online member since the same moment as the others.
fn member(hostname: &'static str, address: &'static str) -> Member<'static> {
    Member { hostname, address, online_since_ms: 1_000 }
}

/// The online members of each layer the attributes may name.
fn online(layer: &str) -> Vec<Member<'static>> {
    match layer {
        "zeoserver" => vec![member("zeo2", "127.0.0.15"), member("zeo1", "127.0.0.5")],
        "solr" => vec![member("solr1", "127.0.0.6")],
        "celery_broker" => vec![member("broker1", "127.0.0.7")],
        _ => Vec::new(),
    }
}

/// Members by layer, as the server's view of the stack gives them.
type Online = dyn Fn(&str) -> Vec<Member<'static>>;

/// One instance and the Custom JSON in force for it.
struct Case {
    hostname: &'static str,
    address: &'static str,
    cpus: u32,
    layers: Vec<LayerType>,
    doc: Value,
}

impl Case {
    /// `web1` (127.0.0.2), a `plone_instances` instance with `cpus` CPUs.
    fn web(doc: Value, cpus: u32) -> Self {
        Self { hostname: "web1", address: "127.0.0.2", cpus, layers: vec![LayerType::PloneInstances], doc }
    }

    /// `zeo1` (127.0.0.5), a `zeoserver` instance.
    fn zeo(doc: Value) -> Self {
        Self { hostname: "zeo1", address: "127.0.0.5", cpus: 1, layers: vec![LayerType::Zeoserver], doc }
    }

    /// Renders `deploy.cfg` of the app `site` with the default online members.
    fn render(&self) -> String {
        self.render_with(&online)
    }

    /// Renders `deploy.cfg` of the app `site`, discovering services among `online`.
    fn render_with(&self, online: &Online) -> String {
        let merged = effective(&["site"], [], [&self.doc]);
        let attrs = deploy_attributes(&merged, "site").expect("the matrix documents are valid");
        let found = Discovered::find(&attrs, online, self.address);
        let build = plan(self.hostname, self.address, self.cpus, &self.layers, &attrs, &found);
        let text = render(&build.deploy_cfg(SHARED, None, true)).expect("the built-in template renders");
        assert_reference_shape(&text, self.address);
        text
    }

    /// Snapshots `text` (rendered for this case) under `name`, the case described in the header.
    fn snapshot(&self, name: &str, text: &str) {
        let layers: Vec<&str> = self.layers.iter().map(|l| l.as_str()).collect();
        let mut settings = insta::Settings::clone_current();
        settings.set_description(format!(
            "{} ({}), {} CPU(s), layers {}; Custom JSON: {}",
            self.hostname,
            self.address,
            self.cpus,
            layers.join(", "),
            self.doc
        ));
        settings.set_omit_expression(true);
        settings.bind(|| assert_snapshot!(name, text));
    }

    /// Renders and snapshots under `name`; returns the file.
    fn golden(&self, name: &str) -> String {
        let text = self.render();
        self.snapshot(name, &text);
        text
    }
}

/// `deploy.cfg` of `web1` with `cpus` CPUs under `doc`, not snapshotted.
fn web(doc: Value, cpus: u32) -> String {
    Case::web(doc, cpus).render()
}

/// The sections of an INI-style file in order: `(name, lines)`; lines before the first header
/// (the comment) go under the name "".
fn sections(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = vec![(String::new(), Vec::new())];
    for line in text.lines() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((name.to_owned(), Vec::new()));
        } else if let Some((_, lines)) = out.last_mut()
            && !line.is_empty()
        {
            lines.push(line.to_owned());
        }
    }
    out
}

/// The indented values of a multi-line option (`extends =`, `parts +=`) of a section.
fn list(lines: &[String], option: &str) -> Vec<String> {
    let opens = |l: &String| l.strip_prefix(option).is_some_and(|rest| rest == " =" || rest == " +=");
    let Some(start) = lines.iter().position(opens) else {
        return Vec::new();
    };
    lines[start + 1..].iter().map_while(|l| l.strip_prefix("    ")).map(str::to_owned).collect()
}

/// The rules of reference.md section 5 every rendered file follows.
fn assert_reference_shape(text: &str, address: &str) {
    let all = sections(text);
    let section = |name: &str| all.iter().find(|(n, _)| n == name).map(|(_, lines)| lines);
    let buildout = section("buildout").expect("a [buildout] section");
    assert_eq!(all[1].0, "buildout", "[buildout] comes first:\n{text}");

    let extends = list(buildout, "extends");
    assert_eq!(extends.first().map(String::as_str), Some("cfg/base.cfg"), "the base config is extended first:\n{text}");
    if section("relstorage").is_some() {
        assert_eq!(extends.get(1).map(String::as_str), Some("cfg/relstorage.cfg"), "then RelStorage's:\n{text}");
    }

    let clients: Vec<&(String, Vec<String>)> = all.iter().filter(|(n, _)| is_client(n)).collect();
    for (i, (name, lines)) in clients.iter().enumerate() {
        let n = u32::try_from(i + 1).expect("few clients");
        assert_eq!(name, &format!("client{n}"), "clients are numbered from 1:\n{text}");
        let first_option = lines.first().map(String::as_str);
        if n == 1 {
            assert_ne!(first_option, Some("<= client1"), "{text}");
        } else {
            assert_eq!(first_option, Some("<= client1"), "[{name}] extends client1:\n{text}");
        }
        let listen = format!("http-address = {address}:{}", client_port(n));
        assert!(lines.contains(&listen), "[{name}] listens on 8080+{n}:\n{text}");
    }

    let parts = list(buildout, "parts");
    let client_parts: Vec<&String> = parts.iter().filter(|p| is_client(p)).collect();
    let client_names: Vec<&String> = clients.iter().map(|(n, _)| n).collect();
    assert_eq!(client_parts, client_names, "every client section is a part:\n{text}");
    if let Some(first) = parts.iter().position(|p| is_client(p)) {
        let zeo_parts = ["zeoserver", "backup", "backupcronjob", "packcronjob"];
        assert!(
            parts[..first].iter().all(|p| zeo_parts.contains(&p.as_str())),
            "only ZEO parts before clients:\n{text}"
        );
        assert!(
            parts[first..first + clients.len()].iter().all(|p| is_client(p)),
            "clients are listed together:\n{text}"
        );
    }

    let wants_zeo_host = !clients.is_empty() && section("relstorage").is_none();
    assert_eq!(section("zeo-host").is_some(), wants_zeo_host, "[zeo-host] exactly when clients use ZEO:\n{text}");
}

fn is_client(name: &str) -> bool {
    name.strip_prefix("client").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

// --- ZEO and RelStorage ----------------------------------------------------------------------

#[test]
fn zeo_with_the_defaults() {
    Case::web(json!({}), 2).golden("zeo_defaults_two_cpus");
}

#[test]
fn zeo_with_a_fixed_server_address() {
    let doc = json!({"plone_instances": {"zeo": {"address": "10.0.0.9:8100"}}});
    Case::web(doc, 1).golden("zeo_fixed_address");
}

#[test]
fn relstorage_with_a_dsn() {
    let doc = json!({"plone_instances": {
        "enable_relstorage": true,
        "relstorage": {"db": {"dsn": "dbname='plone' host='127.0.0.9' user='plone' password='pw'"}}
    }});
    Case::web(doc, 1).golden("relstorage_dsn");
}

#[test]
fn relstorage_with_database_fields_and_cache_servers() {
    let doc = json!({"plone_instances": {
        "enable_relstorage": true,
        "relstorage": {
            "db": {"name": "plone", "host": "127.0.0.9", "user": "plone", "password": "pw"},
            "cache_servers": "127.0.0.10:11211 127.0.0.11:11211"
        }
    }});
    Case::web(doc, 1).golden("relstorage_db_fields_cache_servers");
}

#[test]
fn relstorage_with_the_cache_disabled() {
    let doc = json!({"plone_instances": {
        "enable_relstorage": true,
        "relstorage": {"enable_cache": false, "cache_servers": "127.0.0.10:11211", "db": {"dsn": "dbname=plone"}}
    }});
    Case::web(doc, 1).golden("relstorage_cache_disabled");
}

#[test]
fn relstorage_with_a_mysql_database() {
    let doc = json!({"plone_instances": {
        "enable_relstorage": true,
        "relstorage": {"db": {"type": "mysql", "name": "plone", "host": "127.0.0.9", "user": "plone", "password": "pw"}}
    }});
    Case::web(doc, 1).golden("relstorage_mysql_db_fields");
}

#[test]
fn relstorage_packing_in_one_stage() {
    let doc = json!({"plone_instances": {
        "enable_relstorage": true,
        "relstorage": {"db": {"dsn": "dbname=plone"}, "enable_pack": true, "pack_days": 3, "two_stage_pack": false}
    }});
    Case::web(doc, 1).golden("relstorage_pack_one_stage");
}

#[test]
fn relstorage_packing_in_two_stages() {
    let doc = json!({"plone_instances": {
        "enable_relstorage": true,
        "relstorage": {"db": {"dsn": "dbname=plone"}, "enable_pack": true, "two_stage_pack": true}
    }});
    Case::web(doc, 1).golden("relstorage_pack_two_stage");
}

#[test]
fn relstorage_with_a_port_and_pack_options() {
    let doc = json!({"plone_instances": {
        "enable_relstorage": true,
        "relstorage": {
            "db": {"name": "plone", "host": "127.0.0.9", "port": 5433, "user": "plone", "password": "pw"},
            "pack_gc": false,
            "truncate_refs": true
        }
    }});
    let text = Case::web(doc, 1).golden("relstorage_port_pack_gc_truncate_refs");
    let all = sections(&text);
    let relstorage = &all.iter().find(|(n, _)| n == "relstorage").expect("[relstorage]").1;
    for line in ["port = 5433", "pack-gc = false", "truncate-refs = true"] {
        assert!(relstorage.iter().any(|l| l == line), "[relstorage] has {line:?}:\n{text}");
    }
}

#[test]
fn relstorage_options_left_unset_leave_no_trace() {
    let base = json!({"enable_relstorage": true, "relstorage": {"db": {"dsn": "dbname=plone"}}});
    let mut with_nulls = base.clone();
    with_nulls["relstorage"]["pack_gc"] = Value::Null;
    with_nulls["relstorage"]["truncate_refs"] = Value::Null;
    let text = web(json!({"plone_instances": with_nulls}), 1);
    assert!(!text.contains("pack-gc") && !text.contains("truncate-refs") && !text.contains("port ="), "{text}");
    assert_eq!(text, web(json!({"plone_instances": base}), 1));
}

// --- Blobs --------------------------------------------------------------------------------------

#[test]
fn blobs_not_shared() {
    let doc = json!({"plone_instances": {"shared_blobs": false}});
    Case::web(doc, 1).golden("blobs_not_shared");
}

#[test]
fn blobs_shared_in_a_blob_dir() {
    let doc = json!({"plone_instances": {"shared_blobs": true}, "plone_blobs": {"blob_dir": "/srv/blobs"}});
    Case::web(doc, 1).golden("blobs_shared_blob_dir");
}

#[test]
fn blobs_not_shared_with_a_blob_dir() {
    let doc = json!({"plone_instances": {"shared_blobs": false}, "plone_blobs": {"blob_dir": "/srv/blobs"}});
    Case::web(doc, 1).golden("blobs_not_shared_blob_dir");
}

// --- Celery, Solr, client tuning ----------------------------------------------------------------

#[test]
fn celery_with_celerybeat() {
    let doc = json!({"plone_instances": {"enable_celery": true, "celerybeat": true, "broker": {"port": 6380}}});
    Case::web(doc, 1).golden("celery_with_beat");
}

#[test]
fn celery_without_celerybeat() {
    let doc = json!({"plone_instances": {"enable_celery": true, "celerybeat": false}});
    Case::web(doc, 1).golden("celery_without_beat");
}

#[test]
fn celery_off_leaves_no_trace_even_with_a_broker_set() {
    let doc = json!({"plone_instances": {"enable_celery": false, "celerybeat": true, "broker": {"host": "10.0.0.7"}}});
    let text = web(doc, 1);
    assert!(!text.contains("celery"), "{text}");
    assert_eq!(text, web(json!({}), 1));
}

#[test]
fn solr_enabled_by_discovery() {
    let doc = json!({"plone_instances": {"solr_enabled": true}});
    Case::web(doc, 1).golden("solr_discovered");
}

#[test]
fn solr_off_leaves_no_trace_even_with_a_host_set() {
    let doc = json!({"plone_instances": {"solr_enabled": false, "solr_host": "10.0.0.6:8983"}});
    let text = web(doc, 1);
    assert!(!text.contains("solr"), "{text}");
    assert_eq!(text, web(json!({}), 1));
}

#[test]
fn client_tuning_without_a_persistent_cache() {
    let doc = json!({"plone_instances": {"zodb_cache_size": 80000, "zserver_threads": 4, "persistent_cache": false}});
    Case::web(doc, 1).golden("client_tuning_no_persistent_cache");
}

// --- Sizing -------------------------------------------------------------------------------------

#[test]
fn client_count_over_cpus_and_per_cpu() {
    // max(1, ceil(cpus × per_cpu)), reference.md section 4, written out rather than recomputed.
    let cases = [
        (1, 0.5, 1),
        (1, 1.0, 1),
        (1, 2.0, 2),
        (2, 0.5, 1),
        (2, 1.0, 2),
        (2, 2.0, 4),
        (3, 0.5, 2),
        (3, 1.0, 3),
        (3, 2.0, 6),
    ];
    let mut table = String::new();
    for (cpus, per_cpu, want) in cases {
        let text = web(json!({"plone_instances": {"per_cpu": per_cpu}}), cpus);
        let clients: Vec<String> = sections(&text)
            .into_iter()
            .filter(|(name, _)| is_client(name))
            .map(|(name, lines)| {
                let address = lines.iter().find_map(|l| l.strip_prefix("http-address = ")).unwrap_or("?");
                format!("{name}@{address}")
            })
            .collect();
        assert_eq!(clients.len(), want as usize, "{cpus} cpus × {per_cpu}:\n{text}");
        assert_eq!(client_count(cpus, per_cpu, None), want, "{cpus} cpus × {per_cpu}");
        table.push_str(&format!("cpus={cpus} per_cpu={per_cpu} clients={want}: {}\n", clients.join(" ")));
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_description("web1 (127.0.0.2): the clients of deploy.cfg by CPU count and plone_instances.per_cpu");
    settings.set_omit_expression(true);
    settings.bind(|| assert_snapshot!("client_counts_cpus_by_per_cpu", table));
}

#[test]
fn one_cpu_at_half_a_client_each_still_runs_one_client() {
    Case::web(json!({"plone_instances": {"per_cpu": 0.5}}), 1).golden("cpus_1_per_cpu_0_5");
}

#[test]
fn three_cpus_at_two_clients_each() {
    Case::web(json!({"plone_instances": {"per_cpu": 2}}), 3).golden("cpus_3_per_cpu_2");
}

// --- The app's own buildout additions ---------------------------------------------------------

#[test]
fn extra_parts_added_to_the_inherited_ones() {
    let doc = json!({"deploy": {"site": {"buildout_parts_to_include": ["zopepy", "varnish-config"]}}});
    Case::web(doc, 1).golden("parts_to_include_inherited");
}

#[test]
fn extra_parts_replacing_the_inherited_ones() {
    let doc = json!({"deploy": {"site": {
        "buildout_parts_to_include": ["zopepy"],
        "buildout_inherit_parts": false
    }}});
    Case::web(doc, 1).golden("parts_to_include_not_inherited");
}

#[test]
fn additional_config_and_extends() {
    let doc = json!({"deploy": {"site": {
        "buildout_extends": ["cfg/production.cfg", "https://dist.plone.org/release/6.1-latest/versions.cfg"],
        "buildout_additional_config": "always-checkout = force\nauto-checkout =\n    collective.site\n\n[versions]\nplone.api = 2.5.0"
    }}});
    Case::web(doc, 1).golden("additional_config_and_extends");
}

#[test]
fn everything_at_once_keeps_the_reference_order() {
    let doc = json!({
        "plone_instances": {
            "enable_relstorage": true,
            "relstorage": {"db": {"dsn": "dbname=plone"}, "cache_servers": "127.0.0.10:11211", "enable_pack": true},
            "enable_celery": true,
            "celerybeat": true,
            "solr_enabled": true,
            "zodb_cache_size": 50000
        },
        "plone_blobs": {"blob_dir": "/srv/blobs"},
        "deploy": {"site": {
            "buildout_extends": ["cfg/production.cfg"],
            "buildout_parts_to_include": ["zopepy"],
            "buildout_additional_config": "newest = false"
        }}
    });
    let case = Case::web(doc, 1);
    let text = case.golden("relstorage_celery_solr_extends_parts");
    let all = sections(&text);
    let buildout = &all[1].1;
    assert_eq!(list(buildout, "extends"), ["cfg/base.cfg", "cfg/relstorage.cfg", "cfg/production.cfg"]);
    assert_eq!(list(buildout, "parts"), ["client1", "client2", "celery", "pack-config", "zodbpack", "zopepy"]);
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "",
            "buildout",
            "relstorage",
            "memcached",
            "zodbpack",
            "solr-host",
            "celery-broker",
            "celery",
            "client1",
            "client2"
        ]
    );
}

// --- The ZEO server -----------------------------------------------------------------------------

#[test]
fn zeoserver_with_backup_and_without_pack() {
    let doc = json!({"plone_zeoserver": {"enable_backup": true, "enable_pack": false}});
    Case::zeo(doc).golden("zeoserver_backup_no_pack");
}

#[test]
fn zeoserver_with_the_defaults_and_a_blob_dir() {
    let doc = json!({"plone_blobs": {"blob_dir": "/srv/blobs"}});
    Case::zeo(doc).golden("zeoserver_defaults_blob_dir");
}

#[test]
fn zeoserver_with_a_filestorage_dir() {
    let doc = json!({"plone_zeoserver": {"filestorage_dir": "/srv/zodb/filestorage"}});
    let text = Case::zeo(doc.clone()).render_with(&|_: &str| Vec::new());
    assert!(text.contains("file-storage = /srv/zodb/filestorage/Data.fs\n"), "{text}");
    Case::zeo(doc).golden("zeoserver_filestorage_dir");
}

#[test]
fn zeoserver_and_clients_on_one_instance() {
    let doc = json!({"plone_zeoserver": {"enable_backup": true}});
    let layers = vec![LayerType::Zeoserver, LayerType::PloneInstances];
    let case = Case { hostname: "all1", address: "127.0.0.3", cpus: 1, layers, doc };
    let alone = |layer: &str| if layer == "zeoserver" { vec![member("all1", "127.0.0.3")] } else { Vec::new() };
    let text = case.render_with(&alone);
    assert!(text.contains("[zeo-host]\naddress = 127.0.0.3:8001\n"), "its clients use its own server:\n{text}");
    case.snapshot("zeoserver_and_clients", &text);
}
