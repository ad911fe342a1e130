//! The attributes a deploy reads, with reference.md section 4's names and defaults.

use std::collections::BTreeMap;

use serde_json::Value;

use super::reader::{AttributeError, Reader};

/// The `plone_instances`, `plone_zeoserver` and `deploy.<app>` attributes a deploy uses.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployAttributes {
    /// `plone_instances.per_cpu` (2).
    pub per_cpu: f64,
    /// `plone_instances.instance_count`: a fixed client count.
    pub instance_count: Option<u32>,
    /// `plone_instances.restart_delay` seconds (0).
    pub restart_delay: f64,
    /// `plone_instances.base_config` ("cfg/base.cfg").
    pub base_config: String,
    /// `plone_instances.zeo_layer` ("zeoserver").
    pub zeo_layer: String,
    /// `plone_instances.zeo.address`: a fixed `host:port`.
    pub zeo_address: Option<String>,
    /// `plone_instances.zodb_cache_size`.
    pub zodb_cache_size: Option<u64>,
    /// `plone_instances.zserver_threads`.
    pub zserver_threads: Option<u32>,
    /// `plone_instances.persistent_cache` (true).
    pub persistent_cache: bool,
    /// `plone_instances.shared_blobs` (true).
    pub shared_blobs: bool,
    /// `plone_blobs.blob_dir`.
    pub blob_dir: Option<String>,
    /// `deploy.<app>.scm.revision`.
    pub revision: Option<String>,
    /// `deploy.<app>.scm.checkout` is "full": releases are git checkouts (with submodules and
    /// history) instead of the default export of the commit's files.
    pub full_checkout: bool,
    /// `deploy.<app>.keep_releases` (5).
    pub keep_releases: u32,
    /// `deploy.<app>.always_build_on_deploy` (or `always_buildout_on_deploy`).
    pub always_build: bool,
    /// `deploy.<app>.buildout_extends`.
    pub buildout_extends: Vec<String>,
    /// `deploy.<app>.buildout_parts_to_include`.
    pub parts_to_include: Vec<String>,
    /// `deploy.<app>.buildout_inherit_parts` (true).
    pub inherit_parts: bool,
    /// `deploy.<app>.buildout_additional_config`.
    pub additional_config: String,
    /// `deploy.<app>.buildout_flags`.
    pub buildout_flags: String,
    /// `deploy.<app>.buildout_version` ("": the version the pins or pip choose).
    pub buildout_version: String,
    /// `plone_instances.relstorage.*`, when `enable_relstorage` is set.
    pub relstorage: Option<RelStorage>,
    /// `plone_instances.solr_enabled` (false).
    pub solr_enabled: bool,
    /// `plone_instances.solr_layer` ("solr").
    pub solr_layer: String,
    /// `plone_instances.solr_host`: a fixed host.
    pub solr_host: Option<String>,
    /// `plone_instances.enable_celery` (false).
    pub enable_celery: bool,
    /// `plone_instances.celerybeat` (false).
    pub celerybeat: bool,
    /// `plone_instances.broker_layer` ("celery_broker").
    pub broker_layer: String,
    /// `plone_instances.broker`.
    pub broker: Broker,
    /// `plone_zeoserver.enable_backup` (false).
    pub enable_backup: bool,
    /// `plone_zeoserver.enable_pack` (true).
    pub enable_pack: bool,
    /// `plone_zeoserver.filestorage_dir`: where `Data.fs` lives instead of `shared/var/filestorage`.
    pub filestorage_dir: Option<String>,
    /// `deploy.<app>.auto_revert` (false): roll an instance back when its clients stay unhealthy.
    pub auto_revert: bool,
    /// `deploy.<app>.environment`: the app's own variables with the Custom JSON's over them.
    pub environment: BTreeMap<String, String>,
    /// `plone_instances.celery_args`: extra arguments of `bin/celery worker`.
    pub celery_args: Vec<String>,
    /// `plone_instances.beat_args`: arguments of `bin/celerybeat`.
    pub beat_args: Vec<String>,
    /// Which of [`DEFAULT_ON`]'s attributes a user's document sets (see [`explicitly_set`]); the
    /// parts the others add are the defaults', left out when the app's buildout lacks them.
    pub explicit: Vec<String>,
}

/// Attributes whose default adds buildout parts, with the parts they add.
pub const DEFAULT_ON: &[(&str, &[&str])] = &[("plone_zeoserver.enable_pack", &["packcronjob"])];

/// Which attributes of [`DEFAULT_ON`] the users' documents (stack, layers, deployment: not the
/// defaults) set to something other than null.
pub fn explicitly_set<'a>(user_docs: impl IntoIterator<Item = &'a Value> + Clone) -> Vec<String> {
    DEFAULT_ON
        .iter()
        .map(|(path, _)| *path)
        .filter(|path| {
            let pointer = format!("/{}", path.replace('.', "/"));
            user_docs.clone().into_iter().any(|d| d.pointer(&pointer).is_some_and(|v| !v.is_null()))
        })
        .map(String::from)
        .collect()
}

/// `plone_instances.relstorage.*`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RelStorage {
    /// `config` ("cfg/relstorage.cfg"): extended after the base config.
    pub config: String,
    /// `db.type` ("postgres").
    pub db_type: String,
    /// `db.dsn`: used with `db_type` when set.
    pub dsn: Option<String>,
    /// `db.name`.
    pub name: Option<String>,
    /// `db.host`.
    pub host: Option<String>,
    /// `db.user`.
    pub user: Option<String>,
    /// `db.password`.
    pub password: Option<String>,
    /// `enable_cache` (true): memcached through pylibmc.
    pub enable_cache: bool,
    /// `cache_servers`: `host:port` list for memcached.
    pub cache_servers: Option<String>,
    /// `enable_pack` (false): the pack parts, on one instance.
    pub enable_pack: bool,
    /// `pack_days` (7).
    pub pack_days: u64,
    /// `two_stage_pack` (false).
    pub two_stage_pack: bool,
    /// `db.port`: the database's port, when not the driver's default.
    #[serde(default)]
    pub port: Option<u16>,
    /// `pack_gc`: garbage collection while packing (RelStorage's `pack-gc`, on when unset).
    #[serde(default)]
    pub pack_gc: Option<bool>,
    /// `truncate_refs`: given to the app's RelStorage config as `truncate-refs`.
    #[serde(default)]
    pub truncate_refs: Option<bool>,
}

/// `plone_instances.broker`: the Celery broker.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Broker {
    /// A fixed host.
    pub host: Option<String>,
    /// Its port (6379).
    pub port: u16,
}

/// Reads the deploy attributes of `app` from a merged document.
pub fn deploy_attributes(doc: &Value, app: &str) -> Result<DeployAttributes, Vec<AttributeError>> {
    let mut r = Reader::new(doc);
    let pi = "plone_instances";
    let d = |key: &'static str| -> [&str; 3] { ["deploy", app, key] };
    let always = r.bool(&d("always_build_on_deploy")) || r.bool(&d("always_buildout_on_deploy"));
    let attrs = DeployAttributes {
        per_cpu: r.number(&[pi, "per_cpu"], 0.0),
        instance_count: r.whole(&[pi, "instance_count"], 1).map(|n| n.min(64) as u32),
        restart_delay: r.number(&[pi, "restart_delay"], 0.0),
        base_config: r.string(&[pi, "base_config"]).unwrap_or_default(),
        zeo_layer: r.string(&[pi, "zeo_layer"]).unwrap_or_default(),
        zeo_address: r.string(&[pi, "zeo", "address"]),
        zodb_cache_size: r.whole(&[pi, "zodb_cache_size"], 1),
        zserver_threads: r.whole(&[pi, "zserver_threads"], 1).map(|n| n.min(1024) as u32),
        persistent_cache: r.bool(&[pi, "persistent_cache"]),
        shared_blobs: r.bool(&[pi, "shared_blobs"]),
        blob_dir: r.string(&["plone_blobs", "blob_dir"]),
        revision: r.string(&["deploy", app, "scm", "revision"]),
        full_checkout: r.string(&["deploy", app, "scm", "checkout"]).as_deref() == Some("full"),
        keep_releases: r.whole(&d("keep_releases"), 1).map_or(1, |n| n.min(1000) as u32),
        always_build: always,
        buildout_extends: r.strings(&d("buildout_extends")),
        parts_to_include: r.strings(&d("buildout_parts_to_include")),
        inherit_parts: r.bool(&d("buildout_inherit_parts")),
        additional_config: r.string(&d("buildout_additional_config")).unwrap_or_default(),
        buildout_flags: r.string(&d("buildout_flags")).unwrap_or_default(),
        buildout_version: r.string(&d("buildout_version")).unwrap_or_default(),
        relstorage: if r.bool(&[pi, "enable_relstorage"]) { Some(relstorage(&mut r)) } else { None },
        solr_enabled: r.bool(&[pi, "solr_enabled"]),
        solr_layer: r.string(&[pi, "solr_layer"]).unwrap_or_default(),
        solr_host: r.string(&[pi, "solr_host"]),
        enable_celery: r.bool(&[pi, "enable_celery"]),
        celerybeat: r.bool(&[pi, "celerybeat"]),
        broker_layer: r.string(&[pi, "broker_layer"]).unwrap_or_default(),
        broker: Broker {
            host: r.string(&[pi, "broker", "host"]),
            port: r.whole(&[pi, "broker", "port"], 1).map_or(0, |p| p.min(65535) as u16),
        },
        enable_backup: r.bool(&["plone_zeoserver", "enable_backup"]),
        enable_pack: r.bool(&["plone_zeoserver", "enable_pack"]),
        filestorage_dir: r.string(&["plone_zeoserver", "filestorage_dir"]),
        auto_revert: r.bool(&d("auto_revert")),
        environment: r.string_map(&d("environment")),
        celery_args: r.words(&[pi, "celery_args"]),
        beat_args: r.words(&[pi, "beat_args"]),
        explicit: Vec::new(),
    };
    if r.errors.is_empty() { Ok(attrs) } else { Err(r.errors) }
}

fn relstorage(r: &mut Reader<'_>) -> RelStorage {
    let rs = |key: &'static str| -> [&'static str; 3] { ["plone_instances", "relstorage", key] };
    let db = |key: &'static str| -> [&'static str; 4] { ["plone_instances", "relstorage", "db", key] };
    let out = RelStorage {
        config: r.string(&rs("config")).unwrap_or_default(),
        db_type: r.string(&db("type")).unwrap_or_default(),
        dsn: r.string(&db("dsn")),
        name: r.string(&db("name")),
        host: r.string(&db("host")),
        user: r.string(&db("user")),
        password: r.string(&db("password")),
        enable_cache: r.bool(&rs("enable_cache")),
        cache_servers: r.string(&rs("cache_servers")),
        enable_pack: r.bool(&rs("enable_pack")),
        pack_days: r.whole(&rs("pack_days"), 0).unwrap_or_default(),
        two_stage_pack: r.bool(&rs("two_stage_pack")),
        port: r.whole(&db("port"), 1).map(|p| p.min(65535) as u16),
        pack_gc: r.optional_bool(&rs("pack_gc")),
        truncate_refs: r.optional_bool(&rs("truncate_refs")),
    };
    r.errors.extend(missing_database_fields(&out).into_iter().map(|key| {
        AttributeError {
            path: format!("plone_instances.relstorage.db.{key}"),
            expected: "a non-empty string: with plone_instances.enable_relstorage on, set db.dsn, or db.name, \
                   db.host and db.user (db.port and db.password as the database needs)"
                .to_owned(),
        }
    }));
    out
}

/// The `relstorage.db` keys that must be set and are not: none with a `dsn`, else `name`,
/// `host` and `user` (the clients of several instances share one database over the network;
/// the port has the driver's default, and a password is up to the database's authentication).
pub fn missing_database_fields(rs: &RelStorage) -> Vec<&'static str> {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    if set(&rs.dsn) {
        return Vec::new();
    }
    [("name", &rs.name), ("host", &rs.host), ("user", &rs.user)]
        .into_iter()
        .filter(|(_, v)| !set(v))
        .map(|(key, _)| key)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: defaults used to be repeated as fallbacks here, in the frontend settings and
    /// in the agent's gate. Reading `{}` must give exactly what reading the defaults gives.
    #[test]
    fn reading_nothing_gives_the_defaults() {
        let empty = deploy_attributes(&serde_json::json!({}), "site").unwrap();
        assert_eq!(empty, deploy_attributes(&crate::attributes::defaults(["site"]), "site").unwrap());
        assert_eq!((empty.per_cpu, empty.keep_releases, empty.broker.port), (2.0, 5, 6379));
        assert_eq!((empty.base_config.as_str(), empty.zeo_layer.as_str()), ("cfg/base.cfg", "zeoserver"));
        assert!(empty.persistent_cache && empty.shared_blobs && empty.inherit_parts && empty.enable_pack);
        assert!(!empty.enable_backup && !empty.always_build && !empty.auto_revert);
    }
    use serde_json::json;

    #[test]
    fn defaults_and_overrides() {
        let a = deploy_attributes(&json!({}), "site").unwrap();
        assert_eq!(
            (a.per_cpu, a.keep_releases, a.base_config.as_str(), a.inherit_parts),
            (2.0, 5, "cfg/base.cfg", true)
        );
        let doc = json!({
            "plone_instances": {"per_cpu": 0.5, "restart_delay": 3, "zeo": {"address": "10.0.0.5:8001"}},
            "deploy": {"site": {"always_buildout_on_deploy": true, "keep_releases": 3, "scm": {"revision": "main"}}}
        });
        let a = deploy_attributes(&doc, "site").unwrap();
        assert_eq!((a.per_cpu, a.restart_delay, a.keep_releases, a.always_build), (0.5, 3.0, 3, true));
        assert_eq!(a.zeo_address.as_deref(), Some("10.0.0.5:8001"));
        assert_eq!(a.revision.as_deref(), Some("main"));
    }

    #[test]
    fn every_wrong_type_is_reported_by_path() {
        let doc = json!({
            "plone_instances": {"per_cpu": -1, "persistent_cache": "yes"},
            "deploy": {"site": {"keep_releases": "five", "buildout_extends": "a.cfg"}}
        });
        let errors = deploy_attributes(&doc, "site").unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "plone_instances.per_cpu",
                "plone_instances.persistent_cache",
                "deploy.site.keep_releases",
                "deploy.site.buildout_extends"
            ]
        );
    }

    #[test]
    fn environment_celery_and_relstorage_options() {
        let doc = json!({
            "plone_instances": {
                "celery_args": " --concurrency 2 ", "beat_args": "",
                "enable_relstorage": true,
                "relstorage": {"db": {"port": 5433, "name": "zodb", "host": "db", "user": "z"}, "pack_gc": false,
                               "truncate_refs": null}
            },
            "deploy": {"site": {"environment": {"A": "1", "B": "two"}}}
        });
        let a = deploy_attributes(&doc, "site").unwrap();
        assert_eq!(a.environment, BTreeMap::from([("A".into(), "1".into()), ("B".into(), "two".into())]));
        assert_eq!((a.celery_args, a.beat_args), (vec!["--concurrency".to_owned(), "2".to_owned()], vec![]));
        let rs = a.relstorage.unwrap();
        assert_eq!((rs.port, rs.pack_gc, rs.truncate_refs), (Some(5433), Some(false), None));
        let wrong = json!({"deploy": {"site": {"environment": {"N": 1}}}, "plone_instances": {
            "enable_relstorage": true, "relstorage": {"pack_gc": "no", "db": {"dsn": "dbname=zodb"}}}});
        let paths: Vec<String> = deploy_attributes(&wrong, "site").unwrap_err().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["plone_instances.relstorage.pack_gc", "deploy.site.environment"]);
    }

    #[test]
    fn relstorage_needs_a_dsn_or_the_database_name_host_and_user() {
        let cases: &[(Value, &[&str])] = &[
            (json!({}), &["name", "host", "user"]),
            (json!({"dsn": "dbname=zodb host=db"}), &[]),
            (json!({"dsn": "  ", "name": "zodb", "host": "db"}), &["user"]),
            (json!({"name": "zodb", "host": "db", "user": "z"}), &[]),
            (json!({"name": "zodb", "host": "db", "user": "z", "port": 5433, "password": "pw"}), &[]),
            (json!({"name": "", "host": "db", "user": "z"}), &["name"]),
            (json!({"name": null, "host": "db", "user": "z"}), &["name"]),
        ];
        for (db, want) in cases {
            let doc = json!({"plone_instances": {"enable_relstorage": true, "relstorage": {"db": db}}});
            let paths: Vec<String> = match deploy_attributes(&doc, "site") {
                Ok(_) => Vec::new(),
                Err(errors) => errors.into_iter().map(|e| e.path).collect(),
            };
            let want: Vec<String> = want.iter().map(|k| format!("plone_instances.relstorage.db.{k}")).collect();
            assert_eq!(paths, want, "{db}");
        }
        // Off: nothing is required.
        let off = json!({"plone_instances": {"enable_relstorage": false, "relstorage": {"db": {}}}});
        assert!(deploy_attributes(&off, "site").is_ok());
        let err = deploy_attributes(&json!({"plone_instances": {"enable_relstorage": true}}), "site").unwrap_err();
        assert!(err[0].to_string().contains("set db.dsn, or db.name, db.host and db.user"), "{}", err[0]);
    }

    #[test]
    fn explicitly_set_looks_only_at_the_users_documents() {
        let on = json!({"plone_zeoserver": {"enable_pack": true}});
        let off = json!({"plone_zeoserver": {"enable_pack": false}});
        let null = json!({"plone_zeoserver": {"enable_pack": null}});
        let cases: &[(&[&Value], bool)] =
            &[(&[], false), (&[&on], true), (&[&null, &off], true), (&[&null], false), (&[&json!({})], false)];
        for (docs, want) in cases {
            assert_eq!(explicitly_set(docs.iter().copied()) == ["plone_zeoserver.enable_pack"], *want, "{docs:?}");
        }
        for (path, _) in DEFAULT_ON {
            let pointer = format!("/{}", path.replace('.', "/"));
            assert_eq!(
                crate::attributes::defaults(["s"]).pointer(&pointer),
                Some(&json!(true)),
                "{path} is on by default"
            );
        }
    }
}
