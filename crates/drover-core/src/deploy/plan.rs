//! What one instance builds and runs for an app: its parts, its services, and the `deploy.cfg`
//! inputs. The server makes the plan (it knows the stack); the agent completes it with what only
//! the checkout shows (whether the base config exists) and renders it.

use serde::{Deserialize, Serialize};

use super::buildout_cfg::{ClientPart, DeployCfg, ZeoServerPart};
use super::sizing::{client_count, client_port};
use crate::attributes::DeployAttributes;
use crate::status::LayerType;

/// The ZEO server's port.
pub const ZEO_PORT: u16 = 8001;

/// One instance's build and services for one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildPlan {
    /// The instance.
    pub hostname: String,
    /// ZEO clients it runs.
    pub clients: Vec<ClientPart>,
    /// The ZEO server it runs, if any.
    pub zeoserver: Option<ZeoServerPart>,
    /// Where its clients find the ZEO server.
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
}

/// The ZEO address clients use: a fixed address, else the first online instance of the ZEO
/// layer (by hostname), else this instance.
pub fn zeo_address(fixed: Option<&str>, zeo_layer_online: &[(&str, &str)], this_address: &str) -> String {
    if let Some(a) = fixed {
        return a.to_owned();
    }
    let mut online: Vec<&(&str, &str)> = zeo_layer_online.iter().collect();
    online.sort();
    let host = online.first().map_or(this_address, |(_, address)| address);
    format!("{host}:{ZEO_PORT}")
}

/// Plans an instance's build from its layers' types, its facts and the attributes.
pub fn plan(
    hostname: &str,
    address: &str,
    cpu_count: u32,
    layer_types: &[LayerType],
    attrs: &DeployAttributes,
    zeo_address: &str,
) -> BuildPlan {
    let runs_clients = layer_types.contains(&LayerType::PloneInstances);
    let runs_zeo = layer_types.contains(&LayerType::Zeoserver);
    let clients = if runs_clients {
        (1..=client_count(cpu_count, attrs.per_cpu, attrs.instance_count))
            .map(|n| ClientPart { name: format!("client{n}"), http_address: format!("{address}:{}", client_port(n)) })
            .collect()
    } else {
        Vec::new()
    };
    BuildPlan {
        hostname: hostname.to_owned(),
        clients,
        zeoserver: runs_zeo.then(|| ZeoServerPart { address: format!("{address}:{ZEO_PORT}") }),
        zeo_address: runs_clients.then(|| zeo_address.to_owned()),
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
    }
}

impl BuildPlan {
    /// The services, ZEO server first (clients need it), then the clients in order.
    pub fn services(&self) -> Vec<ServiceSpec> {
        let zeo = self.zeoserver.iter().map(|_| ServiceSpec {
            name: "zeoserver".into(),
            script: "zeoserver".into(),
            args: vec!["fg".into()],
            client: false,
        });
        let clients = self.clients.iter().map(|c| ServiceSpec {
            name: c.name.clone(),
            script: c.name.clone(),
            args: vec!["console".into()],
            client: true,
        });
        zeo.chain(clients).collect()
    }

    /// The `deploy.cfg` inputs, given the app's `shared/` path and whether the checkout has the
    /// base config.
    pub fn deploy_cfg(&self, shared: &str, has_base_config: bool) -> DeployCfg {
        let base = if has_base_config { self.base_config.clone() } else { "buildout.cfg".to_owned() };
        let mut parts: Vec<String> = self.services().into_iter().map(|s| s.name).collect();
        parts.extend(self.parts_to_include.iter().cloned());
        DeployCfg {
            hostname: self.hostname.clone(),
            extends: std::iter::once(base).chain(self.extends.iter().cloned()).collect(),
            inherit_parts: self.inherit_parts,
            parts,
            shared: shared.to_owned(),
            additional_config: self.additional_config.clone(),
            zeo_address: self.zeo_address.clone(),
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

    #[test]
    fn discovery() {
        let online = [("zeo2", "127.0.0.6"), ("zeo1", "127.0.0.5")];
        assert_eq!(zeo_address(None, &online, "127.0.0.2"), "127.0.0.5:8001");
        assert_eq!(zeo_address(None, &[], "127.0.0.2"), "127.0.0.2:8001");
        assert_eq!(zeo_address(Some("db:9000"), &online, "127.0.0.2"), "db:9000");
    }

    #[test]
    fn plans_by_layer_type() {
        let attrs = deploy_attributes(&serde_json::json!({}), "site").unwrap();
        let clients = plan("web1", "127.0.0.2", 2, &[LayerType::PloneInstances], &attrs, "127.0.0.5:8001");
        assert_eq!(clients.clients.len(), 4);
        assert_eq!(clients.clients[3].http_address, "127.0.0.2:8084");
        assert_eq!(clients.zeo_address.as_deref(), Some("127.0.0.5:8001"));
        assert!(clients.zeoserver.is_none());
        let names: Vec<String> = clients.services().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["client1", "client2", "client3", "client4"]);

        let zeo = plan("zeo1", "127.0.0.5", 1, &[LayerType::Zeoserver], &attrs, "127.0.0.5:8001");
        assert!(zeo.clients.is_empty() && zeo.zeo_address.is_none());
        assert_eq!(zeo.services()[0].args, ["fg"]);

        let both = plan("all1", "127.0.0.7", 1, &[LayerType::Zeoserver, LayerType::PloneInstances], &attrs, "x:8001");
        let names: Vec<String> = both.services().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["zeoserver", "client1", "client2"]);
        let cfg = both.deploy_cfg("/s", false);
        assert_eq!(cfg.extends, ["buildout.cfg"]);
        assert_eq!(cfg.parts, ["zeoserver", "client1", "client2"]);
        assert_eq!(both.deploy_cfg("/s", true).extends, ["cfg/base.cfg"]);

        let custom = plan("c1", "127.0.0.8", 4, &[LayerType::Custom], &attrs, "x:8001");
        assert!(custom.services().is_empty());
    }
}
