//! Rendering `deploy.cfg` (reference.md section 5) from what an instance should build.
//!
//! The configuration issue builds the full attribute model (RelStorage, Solr, Celery, templates
//! from the app repository) on top of this; the shape here is already the original's: one
//! `[buildout]` section that extends the app's base config, adds the instance's parts and the
//! shared caches, then generated sections for the ZEO address, the ZEO server and each client.

use serde::{Deserialize, Serialize};

const TEMPLATE: &str = include_str!("templates/deploy.cfg.j2");

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
    /// The app's `shared/` directory (absolute): caches and data.
    pub shared: String,
    /// Raw text added to `[buildout]` (the app's `buildout_additional_config`).
    pub additional_config: String,
    /// `host:port` of the ZEO server clients connect to.
    pub zeo_address: Option<String>,
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

/// A template that failed to render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to render deploy.cfg: {0}")]
pub struct RenderError(String);

/// Renders `deploy.cfg`.
pub fn render(cfg: &DeployCfg) -> Result<String, RenderError> {
    let mut env = minijinja::Environment::new();
    env.add_template("deploy.cfg", TEMPLATE).map_err(|e| RenderError(e.to_string()))?;
    let tmpl = env.get_template("deploy.cfg").map_err(|e| RenderError(e.to_string()))?;
    let mut text =
        tmpl.render(minijinja::Value::from(minijinja::value::Serde(cfg))).map_err(|e| RenderError(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::sizing::{client_count, client_port};

    fn clients(address: &str, cpus: u32, per_cpu: f64) -> Vec<ClientPart> {
        (1..=client_count(cpus, per_cpu, None))
            .map(|n| ClientPart { name: format!("client{n}"), http_address: format!("{address}:{}", client_port(n)) })
            .collect()
    }

    fn base() -> DeployCfg {
        let clients = clients("127.0.0.2", 1, 2.0);
        DeployCfg {
            hostname: "web1".into(),
            extends: vec!["cfg/base.cfg".into()],
            inherit_parts: true,
            parts: clients.iter().map(|c| c.name.clone()).collect(),
            shared: "/srv/www/site/shared".into(),
            additional_config: String::new(),
            zeo_address: Some("127.0.0.5:8001".into()),
            zeoserver: None,
            clients,
            zodb_cache_size: None,
            zserver_threads: None,
            persistent_cache: true,
            shared_blobs: true,
            blob_dir: None,
        }
    }

    #[test]
    fn clients_instance() {
        insta::assert_snapshot!(render(&base()).unwrap());
    }

    #[test]
    fn zeoserver_instance_with_tuning() {
        let cfg = DeployCfg {
            hostname: "zeo1".into(),
            extends: vec!["buildout.cfg".into(), "cfg/extra.cfg".into()],
            inherit_parts: false,
            parts: vec!["zeoserver".into(), "backup".into()],
            additional_config: "newest = false".into(),
            zeo_address: None,
            zeoserver: Some(ZeoServerPart { address: "127.0.0.5:8001".into() }),
            clients: vec![],
            ..base()
        };
        insta::assert_snapshot!(render(&cfg).unwrap());
    }

    #[test]
    fn three_clients_unshared_blobs_no_persistent_cache() {
        let cfg = DeployCfg {
            clients: clients("127.0.0.3", 3, 1.0),
            zodb_cache_size: Some(30000),
            zserver_threads: Some(4),
            persistent_cache: false,
            shared_blobs: false,
            ..base()
        };
        insta::assert_snapshot!(render(&cfg).unwrap());
    }
}
