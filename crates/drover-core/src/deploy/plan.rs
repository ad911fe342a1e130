//! What one instance builds and runs for an app: its parts, its services, and the `deploy.cfg`
//! inputs. The server makes the plan (it knows the stack); the agent completes it with what only
//! the checkout shows (whether the base config exists) and renders it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::deploy_cfg::{CeleryPart, ClientPart, DeployCfg, SolrInstancePart, ZeoServerPart};
use super::sizing::{client_count, client_port};
use crate::attributes::{DEFAULT_ON, DeployAttributes, RelStorage};
use crate::status::LayerType;

/// The ZEO server's port.
pub const ZEO_PORT: u16 = 8001;

/// The Solr instance's port.
pub const SOLR_PORT: u16 = 8983;

/// Solr's ping handler, which a restarted Solr must answer before a deploy or Configure goes on.
pub const SOLR_PING: &str = "/solr/plone/admin/ping";

/// One instance's build and services for one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildPlan {
    /// The instance.
    pub hostname: String,
    /// ZEO clients it runs.
    pub clients: Vec<ClientPart>,
    /// The ZEO server it runs, if any.
    pub zeoserver: Option<ZeoServerPart>,
    /// Where its clients find the ZEO server (none with RelStorage).
    pub zeo_address: Option<String>,
    /// The app's base config, used when the checkout has it (else `buildout.cfg`).
    pub base_config: String,
    /// Extra files `deploy.cfg` extends.
    pub extends: Vec<String>,
    /// Parts beyond the services' own.
    pub parts_to_include: Vec<String>,
    /// `parts +=` or `parts =`.
    pub inherit_parts: bool,
    /// Raw `[buildout]` text.
    pub additional_config: String,
    /// Client tuning.
    pub zodb_cache_size: Option<u64>,
    /// Client tuning.
    pub zserver_threads: Option<u32>,
    /// `zeo-client-client` per client.
    pub persistent_cache: bool,
    /// Shared blobs.
    pub shared_blobs: bool,
    /// A shared blob directory.
    pub blob_dir: Option<String>,
    /// RelStorage for the clients instead of ZEO.
    #[serde(default)]
    pub relstorage: Option<RelStorage>,
    /// The Solr host the clients use.
    #[serde(default)]
    pub solr_host: Option<String>,
    /// The Celery broker (and workers) the clients use.
    #[serde(default)]
    pub celery: Option<CeleryPart>,
    /// The Solr instance it runs (`solr` layer).
    #[serde(default)]
    pub solr: Option<SolrInstancePart>,
    /// The ZEO server's `backup` and `backupcronjob` parts.
    #[serde(default)]
    pub zeo_backup: bool,
    /// The ZEO server's `packcronjob` part.
    #[serde(default)]
    pub zeo_pack: bool,
    /// Parts in the plan only by an attribute's default (not asked for by the user).
    #[serde(default)]
    pub defaulted_parts: Vec<DefaultedPart>,
    /// Parts left out because the app's buildout does not define them (see [`BuildPlan::fit`]).
    #[serde(default)]
    pub left_out: Vec<String>,
}

/// A part the plan has only because an attribute's default adds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultedPart {
    /// The part, e.g. `packcronjob`.
    pub part: String,
    /// The attribute whose default adds it, e.g. `plone_zeoserver.enable_pack`.
    pub attribute: String,
}

/// The sections an app's buildout defines, as far as its repository shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Defined {
    /// Section names of the repository's `*.cfg` files.
    pub sections: BTreeSet<String>,
    /// URLs it extends (their sections are not known).
    pub extends_urls: Vec<String>,
}

impl Defined {
    /// From the section header lines (`[name]`, `[name:condition]`) of the repository's files
    /// and the lines that may name a URL it extends.
    pub fn from_lines<'a>(
        headers: impl IntoIterator<Item = &'a str>,
        url_lines: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let sections = headers
            .into_iter()
            .filter_map(|l| l.trim().strip_prefix('[')?.split_once(']').map(|(name, _)| name))
            .map(|name| name.split_once(':').map_or(name, |(n, _)| n).trim().to_owned())
            .filter(|name| !name.is_empty())
            .collect();
        let mut extends_urls: Vec<String> = Vec::new();
        let found = url_lines
            .into_iter()
            .filter_map(|l| {
                let value = l.trim();
                let value = value.strip_prefix("extends").map_or(value, |rest| {
                    rest.trim_start().trim_start_matches(['+', '-']).trim_start_matches('=').trim()
                });
                value.split_whitespace().find(|w| w.starts_with("http://") || w.starts_with("https://"))
            })
            .map(String::from);
        for url in found {
            if !extends_urls.contains(&url) {
                extends_urls.push(url);
            }
        }
        Self { sections, extends_urls }
    }
}

/// A long-running process of the app, started from `current/bin`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    /// Its name: `zeoserver`, `client1`, …
    pub name: String,
    /// The script in `current/bin`.
    pub script: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// A client (restarted with `restart_delay` between clients) rather than a server.
    pub client: bool,
    /// What it must answer once (re)started before the deploy or Configure goes on (Solr's ping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<ReadyCheck>,
}

/// An HTTP GET a started service must answer with a success status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyCheck {
    /// `address:port`.
    pub address: String,
    /// The path, e.g. [`SOLR_PING`].
    pub path: String,
}

/// An online member of a layer, as discovery sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member<'a> {
    /// Its hostname.
    pub hostname: &'a str,
    /// Its address.
    pub address: &'a str,
    /// When it entered `online` (Unix milliseconds).
    pub online_since_ms: i64,
}

/// The member that holds a layer's role (ZEO server, Solr, broker): the one online the longest,
/// ties by hostname. A newcomer never takes the role over, whatever it is named: the role moves
/// only when its holder leaves `online`, to the member online the longest after it.
pub fn holder<'m, 'a>(members: &'m [Member<'a>]) -> Option<&'m Member<'a>> {
    members.iter().min_by_key(|m| (m.online_since_ms, m.hostname))
}

/// Whether `this` instance runs `celerybeat`: beat runs on exactly one instance of the stack, the
/// [`holder`] among the online members of its client layers. An instance not yet online runs it
/// only when no member is online (the first one up); when the holder leaves `online`, the next
/// Configure moves beat to the member online the longest after it.
pub fn runs_beat(client_members: &[Member<'_>], this: &str) -> bool {
    holder(client_members).is_none_or(|m| m.hostname == this)
}

/// The host of a service found by discovery: a fixed host, else the [`holder`] of its layer,
/// else this instance.
pub fn discover(fixed: Option<&str>, members: &[Member<'_>], this_address: &str) -> String {
    if let Some(a) = fixed {
        return a.to_owned();
    }
    holder(members).map_or(this_address, |m| m.address).to_owned()
}

/// The ZEO address clients use (see [`discover`]); a fixed address is `host:port` already.
pub fn zeo_address(fixed: Option<&str>, zeo_layer_online: &[Member<'_>], this_address: &str) -> String {
    match fixed {
        Some(a) => a.to_owned(),
        None => format!("{}:{ZEO_PORT}", discover(None, zeo_layer_online, this_address)),
    }
}

/// Where this instance's services find the others.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Discovered {
    /// The ZEO server, `host:port`.
    pub zeo_address: String,
    /// The Solr host, when Solr is enabled.
    pub solr_host: Option<String>,
    /// The Celery broker host, when Celery is enabled.
    pub broker_host: Option<String>,
    /// Whether this instance runs `celerybeat` (see [`runs_beat`]), when `celerybeat` is on.
    pub beat_here: bool,
}

impl Discovered {
    /// Discovers what the attributes enable, given the online members of a layer by name.
    pub fn find<'a>(attrs: &DeployAttributes, online: impl Fn(&str) -> Vec<Member<'a>>, this: &str) -> Self {
        Self {
            zeo_address: zeo_address(attrs.zeo_address.as_deref(), &online(&attrs.zeo_layer), this),
            solr_host: attrs
                .solr_enabled
                .then(|| discover(attrs.solr_host.as_deref(), &online(&attrs.solr_layer), this)),
            broker_host: attrs
                .enable_celery
                .then(|| discover(attrs.broker.host.as_deref(), &online(&attrs.broker_layer), this)),
            beat_here: false,
        }
    }
}

/// Plans an instance's build from its layers' types, its facts and the attributes.
pub fn plan(
    hostname: &str,
    address: &str,
    cpu_count: u32,
    layer_types: &[LayerType],
    attrs: &DeployAttributes,
    found: &Discovered,
) -> BuildPlan {
    let runs_clients = layer_types.contains(&LayerType::PloneInstances);
    let runs_zeo = layer_types.contains(&LayerType::Zeoserver);
    let runs_solr = layer_types.contains(&LayerType::Solr);
    let clients = if runs_clients {
        (1..=client_count(cpu_count, attrs.per_cpu, attrs.instance_count))
            .map(|n| ClientPart { name: format!("client{n}"), http_address: format!("{address}:{}", client_port(n)) })
            .collect()
    } else {
        Vec::new()
    };
    let celery = found.broker_host.as_ref().filter(|_| runs_clients).map(|host| CeleryPart {
        host: host.clone(),
        port: attrs.broker.port,
        beat: attrs.celerybeat && found.beat_here,
        args: attrs.celery_args.clone(),
        beat_args: attrs.beat_args.clone(),
    });
    let mut out = BuildPlan {
        hostname: hostname.to_owned(),
        clients,
        zeoserver: runs_zeo.then(|| ZeoServerPart {
            address: format!("{address}:{ZEO_PORT}"),
            filestorage_dir: attrs.filestorage_dir.clone(),
        }),
        zeo_address: (runs_clients && attrs.relstorage.is_none()).then(|| found.zeo_address.clone()),
        base_config: attrs.base_config.clone(),
        extends: attrs.buildout_extends.clone(),
        parts_to_include: attrs.parts_to_include.clone(),
        inherit_parts: attrs.inherit_parts,
        additional_config: attrs.additional_config.clone(),
        zodb_cache_size: attrs.zodb_cache_size,
        zserver_threads: attrs.zserver_threads,
        persistent_cache: attrs.persistent_cache,
        shared_blobs: attrs.shared_blobs,
        blob_dir: attrs.blob_dir.clone(),
        relstorage: attrs.relstorage.clone().filter(|_| runs_clients),
        // The Solr instance's own buildout names itself as the host, as the clients' does.
        solr_host: found.solr_host.clone().filter(|_| runs_clients).or_else(|| runs_solr.then(|| address.to_owned())),
        celery,
        solr: runs_solr.then(|| SolrInstancePart { host: address.to_owned(), port: SOLR_PORT }),
        zeo_backup: runs_zeo && attrs.enable_backup,
        zeo_pack: runs_zeo && attrs.enable_pack,
        defaulted_parts: Vec::new(),
        left_out: Vec::new(),
    };
    let parts = out.parts();
    out.defaulted_parts = DEFAULT_ON
        .iter()
        .filter(|(attribute, _)| !attrs.explicit.iter().any(|e| e == attribute))
        .flat_map(|(attribute, added)| added.iter().map(move |part| (*attribute, *part)))
        .filter(|(_, part)| parts.iter().any(|p| p == part) && !attrs.parts_to_include.iter().any(|p| p == part))
        .map(|(attribute, part)| DefaultedPart { part: part.to_owned(), attribute: attribute.to_owned() })
        .collect();
    out
}

/// The egg of a RelStorage database driver.
fn driver(db_type: &str) -> Option<&'static str> {
    match db_type.to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" => Some("psycopg2"),
        "mysql" => Some("mysqlclient"),
        "oracle" => Some("cx_Oracle"),
        _ => None,
    }
}

impl BuildPlan {
    /// The services, ZEO server and Solr first (clients need them), then the clients in order,
    /// then the Celery workers.
    pub fn services(&self) -> Vec<ServiceSpec> {
        let service = |name: &str, script: &str, args: &[&str], client: bool| ServiceSpec {
            name: name.into(),
            script: script.into(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            client,
            ready: None,
        };
        let mut out = Vec::new();
        if self.zeoserver.is_some() {
            out.push(service("zeoserver", "zeoserver", &["fg"], false));
        }
        if let Some(solr) = &self.solr {
            // The cookbook's `bin/solr-instance fg`; the clients keep working while it restarts,
            // and the deploy waits for its ping.
            let ready = ReadyCheck { address: format!("{}:{}", solr.host, solr.port), path: SOLR_PING.to_owned() };
            out.push(ServiceSpec { ready: Some(ready), ..service("solr", "solr-instance", &["fg"], false) });
        }
        out.extend(self.clients.iter().map(|c| service(&c.name, &c.name, &["console"], true)));
        if let Some(celery) = &self.celery {
            let worker: Vec<&str> = std::iter::once("worker").chain(celery.args.iter().map(String::as_str)).collect();
            out.push(service("celery", "celery", &worker, false));
            if celery.beat {
                let beat: Vec<&str> = celery.beat_args.iter().map(String::as_str).collect();
                out.push(service("celerybeat", "celerybeat", &beat, false));
            }
        }
        out
    }

    /// The buildout parts: the ZEO server's, Solr's, the clients, Celery and packing, then the
    /// app's.
    pub fn parts(&self) -> Vec<String> {
        let mut parts = Vec::new();
        if self.zeoserver.is_some() {
            parts.push("zeoserver".to_owned());
            if self.zeo_backup {
                parts.extend(["backup".to_owned(), "backupcronjob".to_owned()]);
            }
            if self.zeo_pack {
                parts.push("packcronjob".to_owned());
            }
        }
        if self.solr.is_some() {
            parts.extend(["solr-download".to_owned(), "solr-instance".to_owned()]);
        }
        parts.extend(self.clients.iter().map(|c| c.name.clone()));
        if self.celery.is_some() {
            parts.push("celery".to_owned());
        }
        if let Some(rs) = self.relstorage.as_ref().filter(|rs| rs.enable_pack) {
            parts.push("pack-config".to_owned());
            if rs.two_stage_pack {
                parts.extend(["zodbpack-prepack".to_owned(), "zodbpack-pack".to_owned()]);
            } else {
                parts.push("zodbpack".to_owned());
            }
        }
        parts.extend(self.parts_to_include.iter().cloned());
        parts.retain(|p| !self.left_out.contains(p));
        // A part named twice (enabled by an attribute and listed in buildout_parts_to_include)
        // is built once.
        let mut seen = BTreeSet::new();
        parts.retain(|p| seen.insert(p.clone()));
        parts
    }

    /// This plan for a buildout that defines `defined`: parts that are here only by a default
    /// and that the buildout lacks are left out, each with a warning for the deploy log naming
    /// it and the attribute to set. A part the user asked for stays (buildout then fails,
    /// naming the section).
    pub fn fit(&self, defined: &Defined) -> (BuildPlan, Vec<String>) {
        let mut fitted = self.clone();
        let mut warnings = Vec::new();
        for d in &self.defaulted_parts {
            if defined.sections.contains(&d.part) || fitted.left_out.contains(&d.part) {
                continue;
            }
            let mut text = format!(
                "the buildout defines no [{part}] section: part left out; set {attr} to false to silence this",
                part = d.part,
                attr = d.attribute
            );
            let urls: Vec<&str> = defined.extends_urls.iter().map(String::as_str).chain(self.url_extends()).collect();
            if let Some(url) = urls.first() {
                text.push_str(&format!(
                    " (drover looked only at the repository's *.cfg files, not at {url} which it extends: if [{part}] \
                     is defined there, set {attr} to true to build it)",
                    part = d.part,
                    attr = d.attribute
                ));
            }
            fitted.left_out.push(d.part.clone());
            warnings.push(text);
        }
        (fitted, warnings)
    }

    /// The URLs among the app's `buildout_extends`.
    fn url_extends(&self) -> impl Iterator<Item = &str> {
        self.extends.iter().map(String::as_str).filter(|e| e.starts_with("http://") || e.starts_with("https://"))
    }

    /// The `deploy.cfg` inputs, given the app's `shared/` path, where buildout's caches live
    /// (`shared` unless the host shares one) and whether the checkout has the base config.
    pub fn deploy_cfg(&self, shared: &str, cache: Option<&str>, has_base_config: bool) -> DeployCfg {
        let base = if has_base_config { self.base_config.clone() } else { "buildout.cfg".to_owned() };
        let relstorage_config = self.relstorage.as_ref().map(|rs| rs.config.clone());
        let mut eggs = Vec::new();
        if let Some(rs) = &self.relstorage {
            eggs.extend(driver(&rs.db_type).map(String::from));
            // The memcached client only where there is a memcached to talk to (the
            // `cache-servers` line is rendered on the same condition).
            if rs.enable_cache && rs.cache_servers.as_deref().is_some_and(|s| !s.is_empty()) {
                eggs.push("pylibmc".to_owned());
            }
        }
        DeployCfg {
            hostname: self.hostname.clone(),
            extends: std::iter::once(base).chain(relstorage_config).chain(self.extends.iter().cloned()).collect(),
            inherit_parts: self.inherit_parts,
            parts: self.parts(),
            eggs,
            shared: shared.to_owned(),
            cache: cache.unwrap_or(shared).to_owned(),
            additional_config: self.additional_config.clone(),
            zeo_address: self.zeo_address.clone(),
            relstorage: self.relstorage.clone(),
            solr_host: self.solr_host.clone(),
            celery: self.celery.clone(),
            solr_instance: self.solr.clone(),
            zeoserver: self.zeoserver.clone(),
            clients: self.clients.clone(),
            zodb_cache_size: self.zodb_cache_size,
            zserver_threads: self.zserver_threads,
            persistent_cache: self.persistent_cache,
            shared_blobs: self.shared_blobs,
            blob_dir: self.blob_dir.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::deploy_attributes;

    fn member(hostname: &'static str, address: &'static str, online_since_ms: i64) -> Member<'static> {
        Member { hostname, address, online_since_ms }
    }

    #[test]
    fn relstorage_adds_the_database_driver_and_the_memcached_client_only_with_cache_servers() {
        let cases: &[(serde_json::Value, &[&str])] = &[
            (serde_json::json!({}), &["psycopg2"]),
            (serde_json::json!({"cache_servers": "127.0.0.9:11211"}), &["psycopg2", "pylibmc"]),
            (serde_json::json!({"cache_servers": ""}), &["psycopg2"]),
            (serde_json::json!({"cache_servers": "127.0.0.9:11211", "enable_cache": false}), &["psycopg2"]),
            (serde_json::json!({"db": {"type": "mysql"}, "cache_servers": "m:11211"}), &["mysqlclient", "pylibmc"]),
        ];
        for (relstorage, want) in cases {
            let mut doc = serde_json::json!({"plone_instances": {"enable_relstorage": true, "relstorage": relstorage}});
            let db = &mut doc["plone_instances"]["relstorage"]["db"];
            if db.is_null() {
                *db = serde_json::json!({});
            }
            db["dsn"] = serde_json::json!("dbname=zodb");
            let attrs = deploy_attributes(&doc, "site").unwrap();
            let p = plan("c1", "127.0.0.2", 1, &[LayerType::PloneInstances], &attrs, &Discovered::default());
            assert_eq!(p.deploy_cfg("/s", None, true).eggs, *want, "{relstorage}");
        }
    }

    #[test]
    fn discovery() {
        let online = [member("zeo2", "127.0.0.6", 100), member("zeo1", "127.0.0.5", 100)];
        assert_eq!(zeo_address(None, &online, "127.0.0.2"), "127.0.0.5:8001");
        assert_eq!(zeo_address(None, &[], "127.0.0.2"), "127.0.0.2:8001");
        assert_eq!(zeo_address(Some("db:9000"), &online, "127.0.0.2"), "db:9000");
    }

    #[test]
    fn the_role_stays_with_its_holder_until_it_leaves_online() {
        let zeo1 = member("zeo1", "10.0.0.5", 1_000);
        let zeo2 = member("zeo2", "10.0.0.6", 2_000);
        // A newcomer named to sort first (and one with an evil-looking name) does not take over.
        let newcomer = member("aaa", "10.0.0.66", 9_000);
        let cases: &[(&[Member], Option<&str>)] = &[
            (&[], None),
            (&[zeo1], Some("zeo1")),
            (&[zeo2, zeo1], Some("zeo1")),
            (&[newcomer, zeo1, zeo2], Some("zeo1")),
            // The holder left online: the member online the longest after it takes over.
            (&[newcomer, zeo2], Some("zeo2")),
            (&[newcomer], Some("aaa")),
            // It came back (online anew, so newest): the role stays where it went.
            (&[member("zeo1", "10.0.0.5", 10_000), newcomer, zeo2], Some("zeo2")),
            // Online since the same moment: by hostname.
            (&[member("b", "10.0.0.2", 5), member("a", "10.0.0.1", 5)], Some("a")),
        ];
        for (members, want) in cases {
            assert_eq!(holder(members).map(|m| m.hostname), *want, "{members:?}");
        }
        assert_eq!(zeo_address(None, &[newcomer, zeo1], "127.0.0.2"), "10.0.0.5:8001");
        assert_eq!(discover(None, &[newcomer, zeo2], "127.0.0.2"), "10.0.0.6");
    }

    #[test]
    fn plans_by_layer_type() {
        let attrs = deploy_attributes(&serde_json::json!({}), "site").unwrap();
        let at = |zeo: &str| Discovered { zeo_address: zeo.into(), ..Default::default() };
        let clients = plan("web1", "127.0.0.2", 2, &[LayerType::PloneInstances], &attrs, &at("127.0.0.5:8001"));
        assert_eq!(clients.clients.len(), 4);
        assert_eq!(clients.clients[3].http_address, "127.0.0.2:8084");
        assert_eq!(clients.zeo_address.as_deref(), Some("127.0.0.5:8001"));
        assert!(clients.zeoserver.is_none());
        let names: Vec<String> = clients.services().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["client1", "client2", "client3", "client4"]);

        let zeo = plan("zeo1", "127.0.0.5", 1, &[LayerType::Zeoserver], &attrs, &at("127.0.0.5:8001"));
        assert!(zeo.clients.is_empty() && zeo.zeo_address.is_none());
        assert_eq!(zeo.services()[0].args, ["fg"]);

        let both =
            plan("all1", "127.0.0.7", 1, &[LayerType::Zeoserver, LayerType::PloneInstances], &attrs, &at("x:8001"));
        let names: Vec<String> = both.services().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["zeoserver", "client1", "client2"]);
        let cfg = both.deploy_cfg("/s", None, false);
        assert_eq!(cfg.extends, ["buildout.cfg"]);
        assert_eq!(cfg.parts, ["zeoserver", "packcronjob", "client1", "client2"]);
        assert_eq!(both.deploy_cfg("/s", None, true).extends, ["cfg/base.cfg"]);

        let custom = plan("c1", "127.0.0.8", 4, &[LayerType::Custom], &attrs, &at("x:8001"));
        assert!(custom.services().is_empty());

        // A Solr instance: the cookbook's parts and `bin/solr-instance fg`, gated on its ping.
        let solr = plan("solr1", "127.0.0.9", 1, &[LayerType::Solr], &attrs, &at("x:8001"));
        let services = solr.services();
        assert_eq!((services[0].name.as_str(), services[0].script.as_str()), ("solr", "solr-instance"));
        assert_eq!(services[0].args, ["fg"]);
        let ready = services[0].ready.as_ref().unwrap();
        assert_eq!((ready.address.as_str(), ready.path.as_str()), ("127.0.0.9:8983", SOLR_PING));
        let cfg = solr.deploy_cfg("/s", None, true);
        assert_eq!(cfg.parts, ["solr-download", "solr-instance"]);
        assert_eq!(cfg.solr_host.as_deref(), Some("127.0.0.9"));
        assert!(both.services().iter().all(|s| s.ready.is_none()));
    }

    fn zeo_plan(doc: serde_json::Value, explicit: &[&str]) -> BuildPlan {
        let mut attrs = deploy_attributes(&doc, "site").unwrap();
        attrs.explicit = explicit.iter().map(|s| (*s).to_owned()).collect();
        let found = Discovered { zeo_address: "127.0.0.5:8001".into(), ..Default::default() };
        plan("zeo1", "127.0.0.5", 1, &[LayerType::Zeoserver], &attrs, &found)
    }

    fn defined(sections: &[&str], urls: &[&str]) -> Defined {
        Defined {
            sections: sections.iter().map(|s| (*s).to_owned()).collect(),
            extends_urls: urls.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn default_parts_the_buildout_lacks_are_left_out_with_a_warning_and_asked_for_ones_stay() {
        use serde_json::json;
        let pack_on = json!({"plone_zeoserver": {"enable_pack": true}});
        let pack_listed = json!({"deploy": {"site": {"buildout_parts_to_include": ["packcronjob"]}}});
        /// Custom JSON, attributes set explicitly, sections defined, parts kept, warned.
        type FitCase<'a> = (serde_json::Value, &'a [&'a str], &'a [&'a str], &'a [&'a str], bool);
        let cases: &[FitCase] = &[
            (json!({}), &[], &["zeoserver", "packcronjob"], &["zeoserver", "packcronjob"], false),
            (json!({}), &[], &["zeoserver"], &["zeoserver"], true),
            (pack_on.clone(), &["plone_zeoserver.enable_pack"], &["zeoserver"], &["zeoserver", "packcronjob"], false),
            (pack_listed, &[], &["zeoserver"], &["zeoserver", "packcronjob"], false),
            (json!({"plone_zeoserver": {"enable_pack": false}}), &[], &["zeoserver"], &["zeoserver"], false),
            (
                json!({"plone_zeoserver": {"enable_backup": true}}),
                &[],
                &["zeoserver"],
                &["zeoserver", "backup", "backupcronjob"],
                true,
            ),
        ];
        for (doc, explicit, sections, want, warned) in cases {
            let (fitted, warnings) = zeo_plan(doc.clone(), explicit).fit(&defined(sections, &[]));
            assert_eq!(fitted.parts(), *want, "{doc} {sections:?}");
            assert_eq!(!warnings.is_empty(), *warned, "{doc} {sections:?}: {warnings:?}");
            assert_eq!(fitted.deploy_cfg("/s", None, true).parts, *want);
        }
        let (_, warnings) = zeo_plan(json!({}), &[]).fit(&defined(&[], &[]));
        assert_eq!(
            warnings,
            ["the buildout defines no [packcronjob] section: part left out; set plone_zeoserver.enable_pack to false \
              to silence this"]
        );
        let (_, warnings) = zeo_plan(json!({}), &[]).fit(&defined(&[], &["https://example.org/base.cfg"]));
        assert!(
            warnings[0].contains("not at https://example.org/base.cfg which it extends")
                && warnings[0].contains("set plone_zeoserver.enable_pack to true"),
            "{warnings:?}"
        );
        let from_extends = json!({"deploy": {"site": {"buildout_extends": ["http://dist.example/v.cfg"]}}});
        let (_, warnings) = zeo_plan(from_extends, &[]).fit(&defined(&[], &[]));
        assert!(warnings[0].contains("not at http://dist.example/v.cfg"), "{warnings:?}");
        // Clients' plans have no default parts.
        let attrs = deploy_attributes(&json!({}), "site").unwrap();
        let web = plan("web1", "127.0.0.2", 1, &[LayerType::PloneInstances], &attrs, &Discovered::default());
        assert!(web.defaulted_parts.is_empty());
    }

    #[test]
    fn what_a_repository_defines_from_its_header_and_url_lines() {
        let headers = ["[buildout]", "[packcronjob]", "[client1:python3]", "[ zeo-host ]  # comment", "[]", "[x"];
        let urls = [
            "extends = https://dist.plone.org/release/6.1/versions.cfg",
            "    http://example.org/a.cfg",
            "extends += https://example.org/b.cfg other.cfg",
            "    http://example.org/a.cfg",
        ];
        let d = Defined::from_lines(headers, urls);
        assert_eq!(
            d.sections.iter().map(String::as_str).collect::<Vec<_>>(),
            ["buildout", "client1", "packcronjob", "zeo-host"]
        );
        assert_eq!(
            d.extends_urls,
            [
                "https://dist.plone.org/release/6.1/versions.cfg",
                "http://example.org/a.cfg",
                "https://example.org/b.cfg"
            ]
        );
        assert_eq!(Defined::from_lines([], []), Defined::default());
    }

    #[test]
    fn celery_arguments_reach_the_services() {
        let doc = serde_json::json!({"plone_instances": {
            "enable_celery": true, "celerybeat": true,
            "celery_args": "--concurrency 2  -l info", "beat_args": "-l debug"
        }});
        let attrs = deploy_attributes(&doc, "site").unwrap();
        let found = Discovered { broker_host: Some("127.0.0.7".into()), beat_here: true, ..Default::default() };
        let p = plan("web1", "127.0.0.2", 1, &[LayerType::PloneInstances], &attrs, &found);
        let services = p.services();
        let args = |name: &str| services.iter().find(|s| s.name == name).unwrap().args.clone();
        assert_eq!(args("celery"), ["worker", "--concurrency", "2", "-l", "info"]);
        assert_eq!(args("celerybeat"), ["-l", "debug"]);
        let plain = deploy_attributes(
            &serde_json::json!({"plone_instances": {"enable_celery": true, "celerybeat": true}}),
            "s",
        );
        let p = plan("web1", "127.0.0.2", 1, &[LayerType::PloneInstances], &plain.unwrap(), &found);
        let services = p.services();
        assert_eq!(services.iter().find(|s| s.name == "celery").unwrap().args, ["worker"]);
        assert!(services.iter().find(|s| s.name == "celerybeat").unwrap().args.is_empty());
        // Beat elsewhere: the worker only.
        let elsewhere = Discovered { beat_here: false, ..found };
        let p = plan("web2", "127.0.0.3", 1, &[LayerType::PloneInstances], &attrs, &elsewhere);
        let names: Vec<String> = p.services().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["client1", "client2", "celery"]);
    }

    #[test]
    fn beat_runs_on_the_client_member_online_the_longest_and_moves_when_it_leaves() {
        let web1 = member("web1", "127.0.0.2", 1_000);
        let web2 = member("web2", "127.0.0.3", 2_000);
        let web3 = member("web3", "127.0.0.4", 3_000);
        // (online client members, instance, runs beat)
        let cases: &[(&[Member], &str, bool)] = &[
            (&[], "web1", true),
            (&[web1, web2], "web1", true),
            (&[web2, web1], "web2", false),
            (&[web1, web2], "web3", false),
            (&[web3, web2], "web2", true),
            (&[web3, web2], "web3", false),
            (&[web2], "web1", false),
        ];
        for (members, this, want) in cases {
            assert_eq!(runs_beat(members, this), *want, "{members:?} {this}");
        }
    }
}
