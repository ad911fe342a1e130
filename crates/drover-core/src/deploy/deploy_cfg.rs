//! Rendering `deploy.cfg` (reference.md section 5), and any other file an app generates, from
//! minijinja templates: the built-in one, or the app's own from its repository.
//!
//! One `[buildout]` section extends the base config (then the RelStorage config, then the app's
//! files), adds the instance's parts, the shared caches and the app's raw config; generated
//! sections follow for the ZEO address, RelStorage, Solr, the Celery broker, the ZEO server and
//! each client.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attributes::RelStorage;
use crate::config_values::{Checker, Unsafe, ValueKind::*, single_line_formatter};

const TEMPLATE: &str = include_str!("templates/deploy.cfg.j2");

/// The name under which app templates can include the built-in one.
pub const BUILTIN_NAME: &str = "builtin/deploy.cfg";

/// One ZEO client part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientPart {
    /// The part name, `client<n>`.
    pub name: String,
    /// `address:port` it binds.
    pub http_address: String,
}

/// The ZEO server part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZeoServerPart {
    /// `address:port` it binds.
    pub address: String,
    /// Where `Data.fs` lives (`plone_zeoserver.filestorage_dir`); default `shared/var/filestorage`.
    #[serde(default)]
    pub filestorage_dir: Option<String>,
}

/// The Solr instance a `solr` layer member runs (collective.recipe.solrinstance's options).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolrInstancePart {
    /// The address it binds (the instance's).
    pub host: String,
    /// Its port.
    pub port: u16,
}

/// The Celery broker clients use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CeleryPart {
    /// The broker's host.
    pub host: String,
    /// The broker's port.
    pub port: u16,
    /// Whether `celerybeat` runs too.
    pub beat: bool,
    /// Extra arguments of `bin/celery worker` (`plone_instances.celery_args`).
    #[serde(default)]
    pub args: Vec<String>,
    /// Arguments of `bin/celerybeat` (`plone_instances.beat_args`).
    #[serde(default)]
    pub beat_args: Vec<String>,
}

/// Everything `deploy.cfg` is rendered from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployCfg {
    /// The instance it is for (a comment in the file).
    pub hostname: String,
    /// What `[buildout] extends` lists: the base config first, then the app's extra files.
    pub extends: Vec<String>,
    /// `parts +=` (true) or `parts =`.
    pub inherit_parts: bool,
    /// The parts this instance builds.
    pub parts: Vec<String>,
    /// Eggs added to `[buildout] eggs` (database drivers).
    pub eggs: Vec<String>,
    /// The app's `shared/` directory (absolute): its data.
    pub shared: String,
    /// Where buildout's `eggs`, `downloads` and `extends` caches live: the app's `shared/`, or a
    /// cache the host's local instances share.
    pub cache: String,
    /// Raw text added to `[buildout]` (the app's `buildout_additional_config`).
    pub additional_config: String,
    /// `host:port` of the ZEO server clients connect to.
    pub zeo_address: Option<String>,
    /// RelStorage instead of ZEO.
    pub relstorage: Option<RelStorage>,
    /// The Solr host.
    pub solr_host: Option<String>,
    /// The Celery broker.
    pub celery: Option<CeleryPart>,
    /// The Solr instance this instance runs.
    #[serde(default)]
    pub solr_instance: Option<SolrInstancePart>,
    /// The ZEO server this instance runs, if any.
    pub zeoserver: Option<ZeoServerPart>,
    /// The clients this instance runs.
    pub clients: Vec<ClientPart>,
    /// `zodb-cache-size` of the clients.
    pub zodb_cache_size: Option<u64>,
    /// `zserver-threads` of the clients.
    pub zserver_threads: Option<u32>,
    /// Whether clients get `zeo-client-client` (a persistent ZEO cache).
    pub persistent_cache: bool,
    /// Whether clients share the server's blob directory.
    pub shared_blobs: bool,
    /// A shared blob directory for clients and server.
    pub blob_dir: Option<String>,
}

/// A template that failed to render: which template, which line, what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(String);

impl RenderError {
    /// A render refused before it began: `errors` name the inputs that would break `file`.
    pub fn unsafe_values(file: &str, errors: &[crate::config_values::Unsafe]) -> Self {
        Self(crate::config_values::refusal_message(file, errors))
    }

    pub(crate) fn from_jinja(e: &minijinja::Error) -> Self {
        let name = e.name().unwrap_or("template");
        let place = match e.line() {
            Some(line) => format!("{name}, line {line}"),
            None => name.to_owned(),
        };
        let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
        Self(format!("failed to render {place}: {}{detail}", e.kind()))
    }
}

impl DeployCfg {
    /// Every input rendered into `deploy.cfg` checked for its kind, each refusal named by its
    /// field (with the attribute it comes from): no value may hold a line break, and names and
    /// list items are single words. `additional_config` is raw `[buildout]` text.
    pub fn check(&self) -> Result<(), Vec<Unsafe>> {
        let mut c = Checker::default();
        c.check(Line, "hostname", &self.hostname);
        for (i, e) in self.extends.iter().enumerate() {
            c.check(Word, format!("extends[{i}] (base_config, relstorage.config, buildout_extends)"), e);
        }
        for p in &self.parts {
            c.check(Name, format!("parts.{p} (buildout_parts_to_include)"), p);
        }
        for e in &self.eggs {
            c.check(Word, "eggs", e);
        }
        c.check(Line, "shared", &self.shared).check(Line, "cache", &self.cache);
        c.check_opt(
            Host,
            "zeo_address (plone_instances.zeo.address, or the ZEO server's address)",
            self.zeo_address.as_deref(),
        );
        if let Some(rs) = &self.relstorage {
            let db = "plone_instances.relstorage.db";
            c.check(Word, format!("{db}.type"), &rs.db_type)
                .check_opt(Line, format!("{db}.dsn"), rs.dsn.as_deref())
                .check_opt(Line, format!("{db}.name"), rs.name.as_deref())
                .check_opt(Host, format!("{db}.host"), rs.host.as_deref())
                .check_opt(Line, format!("{db}.user"), rs.user.as_deref())
                .check_opt(Line, format!("{db}.password"), rs.password.as_deref())
                .check_opt(Line, "plone_instances.relstorage.cache_servers", rs.cache_servers.as_deref());
        }
        c.check_opt(
            Host,
            "solr_host (plone_instances.solr_host, or the Solr instance's address)",
            self.solr_host.as_deref(),
        );
        if let Some(celery) = &self.celery {
            c.check(Host, "celery.host (plone_instances.broker.host, or the broker instance's address)", &celery.host);
        }
        if let Some(solr) = &self.solr_instance {
            c.check(Host, "solr_instance.host (this instance's address)", &solr.host);
        }
        if let Some(z) = &self.zeoserver {
            c.check(Host, "zeoserver.address (this instance's address)", &z.address).check_opt(
                Line,
                "plone_zeoserver.filestorage_dir",
                z.filestorage_dir.as_deref(),
            );
        }
        for client in &self.clients {
            c.check(Name, format!("clients.{}.name", client.name), &client.name);
            c.check(
                Host,
                format!("clients.{}.http_address (this instance's address)", client.name),
                &client.http_address,
            );
        }
        c.check_opt(Line, "plone_blobs.blob_dir", self.blob_dir.as_deref());
        c.finish()
    }
}

fn environment<'a>() -> minijinja::Environment<'a> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env
}

fn context(cfg: &DeployCfg, config: &Value) -> minijinja::Value {
    let mut ctx = serde_json::to_value(cfg).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut ctx {
        map.insert("config".into(), config.clone());
    }
    minijinja::Value::from(minijinja::value::Serde(ctx))
}

fn finish(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Renders the built-in `deploy.cfg`, after checking its inputs ([`DeployCfg::check`]); any other
/// value with a line break is refused too.
pub fn render(cfg: &DeployCfg) -> Result<String, RenderError> {
    cfg.check().map_err(|errors| RenderError::unsafe_values("deploy.cfg", &errors))?;
    let mut env = environment();
    env.set_formatter(single_line_formatter);
    env.add_template(BUILTIN_NAME, TEMPLATE).map_err(|e| RenderError::from_jinja(&e))?;
    let tmpl = env.get_template(BUILTIN_NAME).map_err(|e| RenderError::from_jinja(&e))?;
    tmpl.render(context(cfg, &Value::Null)).map(finish).map_err(|e| RenderError::from_jinja(&e))
}

/// Renders an app's own template `name` (its source `source`) with the `deploy.cfg` inputs and
/// the instance's effective configuration as `config`. It may include the built-in template as
/// [`BUILTIN_NAME`].
/// Its inputs are checked as for the built-in one; what the app's template prints from `config`
/// is the app's to choose.
pub fn render_app_template(name: &str, source: &str, cfg: &DeployCfg, config: &Value) -> Result<String, RenderError> {
    cfg.check().map_err(|errors| RenderError::unsafe_values(name, &errors))?;
    let mut env = environment();
    env.add_template(BUILTIN_NAME, TEMPLATE).map_err(|e| RenderError::from_jinja(&e))?;
    env.add_template_owned(name.to_owned(), source.to_owned()).map_err(|e| RenderError::from_jinja(&e))?;
    let tmpl = env.get_template(name).map_err(|e| RenderError::from_jinja(&e))?;
    tmpl.render(context(cfg, config)).map(finish).map_err(|e| RenderError::from_jinja(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(super) fn cfg() -> DeployCfg {
        DeployCfg {
            hostname: "web1".into(),
            extends: vec!["cfg/base.cfg".into()],
            inherit_parts: true,
            parts: vec!["client1".into()],
            eggs: vec![],
            shared: "/srv/www/site/shared".into(),
            cache: "/srv/www/site/shared".into(),
            additional_config: String::new(),
            zeo_address: Some("127.0.0.5:8001".into()),
            relstorage: None,
            solr_host: None,
            celery: None,
            solr_instance: None,
            zeoserver: None,
            clients: vec![ClientPart { name: "client1".into(), http_address: "127.0.0.2:8081".into() }],
            zodb_cache_size: None,
            zserver_threads: None,
            persistent_cache: true,
            shared_blobs: true,
            blob_dir: None,
        }
    }

    #[test]
    fn an_app_template_sees_the_inputs_and_the_configuration_and_can_include_the_built_in_one() {
        let source = "{% include \"builtin/deploy.cfg\" %}\n[site]\nid = {{ config.plone_instances.site_id }}\nclients = {{ clients | length }}\n";
        let text = render_app_template(
            "drover/templates/deploy.cfg.j2",
            source,
            &cfg(),
            &json!({"plone_instances": {"site_id": "Site"}}),
        )
        .unwrap();
        assert!(text.starts_with("# Generated by drover for web1."), "{text}");
        assert!(text.ends_with("[site]\nid = Site\nclients = 1\n"), "{text}");
        assert_eq!(text, format!("{}[site]\nid = Site\nclients = 1\n", render(&cfg()).unwrap()));
    }

    #[test]
    fn a_broken_template_is_reported_with_its_name_and_line() {
        let cases = [
            ("[buildout]\nparts =\n{% for p in parts %}\n", "line 3", "syntax error"),
            ("[buildout]\n\nx = {{ config.no_such_key.value }}\n", "line 3", "undefined"),
            ("a\nb\nc {{ hostname | nosuchfilter }}\n", "line 3", "filter"),
        ];
        for (source, line, what) in cases {
            let e = render_app_template("deploy.cfg.j2", source, &cfg(), &json!({})).unwrap_err().to_string();
            assert!(e.contains("deploy.cfg.j2") && e.contains(line) && e.to_lowercase().contains(what), "{e}");
        }
    }
}

#[cfg(test)]
mod unsafe_tests {
    use super::*;

    fn cfg() -> DeployCfg {
        DeployCfg { additional_config: "[versions]\nPlone = 6.1\n".into(), ..super::tests::cfg() }
    }

    #[test]
    fn a_zeo_address_with_a_line_break_is_refused_and_raw_config_stays_raw() {
        let text = render(&cfg()).unwrap();
        assert!(text.contains("\n[versions]\nPlone = 6.1\n"), "{text}");
        /// The field named in the refusal, and how the inputs are spoiled.
        type Case = (&'static str, fn(&mut DeployCfg));
        let cases: [Case; 6] = [
            ("zeo_address", |c| c.zeo_address = Some("10.0.0.5:8001\n[evil]".into())),
            ("solr_host", |c| c.solr_host = Some("s\n".into())),
            ("extends[1]", |c| c.extends.push("x.cfg\ny = 1".into())),
            ("parts.a]", |c| c.parts.push("a]".into())),
            ("clients.client1.http_address", |c| c.clients[0].http_address = "127.0.0.2:8081\r\nx".into()),
            ("plone_blobs.blob_dir", |c| c.blob_dir = Some("/b\n".into())),
        ];
        for (field, spoil) in cases {
            let mut c = cfg();
            spoil(&mut c);
            let e = render(&c).unwrap_err().to_string();
            assert!(e.contains(field) && e.contains("deploy.cfg"), "{field}: {e}");
            let e = render_app_template("t.j2", "{% include \"builtin/deploy.cfg\" %}", &c, &Value::Null).unwrap_err();
            assert!(e.to_string().contains(field), "{field}: {e}");
        }
    }
}
