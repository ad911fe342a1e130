//! A stack as the orchestrator reasons about it. Loaded once per decision, it gives each
//! instance its effective configuration (defaults < apps < stack < layers < deployment), the
//! stack configuration its events deliver, its client count, its hooks and its apps' plans.

use std::collections::BTreeMap;

use drover_core::attributes::{Warning, check, deep_merge, deploy_attributes, effective, explicitly_set};
use drover_core::broker::BrokerPlan;
use drover_core::deploy::plan::{BuildPlan, Discovered, Member, plan, runs_beat};
use drover_core::deploy::restart_plan::RestartPolicy;
use drover_core::deploy::sizing::{client_count, client_port};
use drover_core::facts::is_address;
use drover_core::frontend::{self, BackendServer, FrontendPlan};
use drover_core::stack_config::{InstanceView, LayerView, stack_config};
use drover_core::{DeploymentKind, InstanceStatus, LayerType};
use drover_proto::agent::{AppSpec, AppWork, CommandSpec, Hook, LifecycleEvent};
use serde_json::{Value, json};

use crate::state::AppState;
use crate::store::{AppRow, InstanceRow, LayerRow, StackRow};

/// A stack with its layers, instances and apps.
pub struct StackModel {
    pub stack: StackRow,
    pub layers: Vec<LayerRow>,
    pub instances: Vec<InstanceRow>,
    pub apps: Vec<AppRow>,
    /// The HAProxy stats password drover generated (used when `haproxy.stats_password` is unset).
    pub stats_password: String,
}

/// The name of the generated HAProxy stats password among the stack's secrets.
pub const STATS_PASSWORD: &str = "haproxy_stats_password";

fn parse(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| json!({}))
}

impl StackModel {
    /// Loads a stack by name.
    pub async fn load(state: &AppState, name: &str) -> Result<Option<Self>, sqlx::Error> {
        let Some(stack) = state.store.stack(name).await? else { return Ok(None) };
        let layers = state.store.layers(stack.id).await?;
        let stats_password = if layers.iter().any(|l| l.layer_type == LayerType::Frontend.as_str()) {
            state.store.stack_secret(stack.id, STATS_PASSWORD, || crate::secrets::generate()[..24].to_owned()).await?
        } else {
            String::new()
        };
        Ok(Some(Self {
            layers,
            instances: state.store.instances(stack.id).await?,
            apps: state.store.apps(stack.id).await?,
            stack,
            stats_password,
        }))
    }

    /// The instance by hostname.
    pub fn instance(&self, hostname: &str) -> Option<&InstanceRow> {
        self.instances.iter().find(|i| i.hostname == hostname)
    }

    /// An instance's layers, in layer order.
    pub fn layers_of(&self, instance: &InstanceRow) -> Vec<&LayerRow> {
        let names = instance.layers();
        self.layers.iter().filter(|l| names.contains(&l.shortname)).collect()
    }

    /// What the apps set themselves: `deploy.<app>.scm` and the plain environment.
    fn app_docs(&self) -> Vec<Value> {
        self.apps
            .iter()
            .map(|a| {
                json!({"deploy": {a.name.clone(): {
                    "scm": {"repository": a.repository, "revision": a.revision},
                    "environment": a.environment(),
                }}})
            })
            .collect()
    }

    /// The effective attributes of an instance (or of the stack level, without one).
    pub fn effective(&self, instance: Option<&InstanceRow>, deployment: &Value) -> Value {
        let names: Vec<&str> = self.apps.iter().map(|a| a.name.as_str()).collect();
        let app_docs = self.app_docs();
        let mut custom = vec![parse(&self.stack.custom_json)];
        if let Some(i) = instance {
            custom.extend(self.layers_of(i).iter().map(|l| parse(&l.custom_json)));
        }
        custom.push(deployment.clone());
        effective(&names, app_docs.iter(), custom.iter())
    }

    /// Likely typos in what an instance (or the stack level) merges.
    pub fn warnings(&self, instance: Option<&InstanceRow>) -> Vec<Warning> {
        check(&self.effective(instance, &json!({}))).warnings
    }

    fn cpu_count(instance: &InstanceRow) -> u32 {
        instance.cpu_count.or(instance.cpu_count_override).unwrap_or(1).clamp(1, 1024) as u32
    }

    /// The types of an instance's layers.
    pub fn types_of(&self, instance: &InstanceRow) -> Vec<LayerType> {
        self.layers_of(instance).iter().filter_map(|l| l.layer_type.parse().ok()).collect()
    }

    /// The ZEO clients an instance runs (plone_instances members only).
    pub fn client_count(&self, instance: &InstanceRow) -> Option<u32> {
        if !self.types_of(instance).contains(&LayerType::PloneInstances) {
            return None;
        }
        let attrs = deploy_attributes(&self.effective(Some(instance), &json!({})), "").ok()?;
        Some(client_count(Self::cpu_count(instance), attrs.per_cpu, attrs.instance_count))
    }

    /// The online members of a layer, with when each entered `online` (an online instance's
    /// status last changed then). An address that is not one (stored before agents' facts were
    /// checked) makes no member: it must never reach another host's config.
    pub fn online(&self, layer: &str) -> Vec<Member<'_>> {
        self.instances
            .iter()
            .filter(|i| i.status() == InstanceStatus::Online && i.layers().iter().any(|l| l == layer))
            .filter_map(|i| {
                let address = i.address.as_deref().filter(|a| is_address(a))?;
                Some(Member { hostname: &i.hostname, address, online_since_ms: i.status_changed_at })
            })
            .collect()
    }

    /// The online members of the stack's client (`plone_instances`) layers, each once.
    pub fn online_clients(&self) -> Vec<Member<'_>> {
        let mut members: Vec<Member<'_>> = self
            .layers
            .iter()
            .filter(|l| l.layer_type == LayerType::PloneInstances.as_str())
            .flat_map(|l| self.online(&l.shortname))
            .collect();
        members.sort_by_key(|m| m.hostname);
        members.dedup_by_key(|m| m.hostname);
        members
    }

    /// What a `celery_broker` instance runs: Redis on its address and `plone_instances.broker.port`.
    pub fn broker_plan(&self, instance: &InstanceRow) -> Option<BrokerPlan> {
        if !self.types_of(instance).contains(&LayerType::CeleryBroker) {
            return None;
        }
        let port = deploy_attributes(&self.effective(Some(instance), &json!({})), "").map_or(6379, |a| a.broker.port);
        let address = instance.address.clone().filter(|a| is_address(a)).unwrap_or_else(|| "127.0.0.1".into());
        Some(BrokerPlan { address, port })
    }

    /// The stack configuration an event hands `instance`: its effective attributes plus the
    /// `opsworks` description of the stack (reference.md section 2).
    pub fn stack_config(&self, instance: &InstanceRow, deployment: &Value) -> Value {
        let names: Vec<Vec<String>> = self.instances.iter().map(InstanceRow::layers).collect();
        let counts: Vec<Option<u32>> = self.instances.iter().map(|i| self.client_count(i)).collect();
        let views: Vec<InstanceView> = self
            .instances
            .iter()
            .zip(&names)
            .zip(&counts)
            .map(|((i, layers), count)| InstanceView {
                hostname: &i.hostname,
                layers,
                address: i.address.as_deref(),
                status: &i.status,
                cpu_count: i.cpu_count.or(i.cpu_count_override),
                client_count: *count,
            })
            .collect();
        let this = views.iter().find(|v| v.hostname == instance.hostname).cloned().unwrap_or(InstanceView {
            hostname: &instance.hostname,
            layers: &[],
            address: None,
            status: &instance.status,
            cpu_count: None,
            client_count: None,
        });
        let layer_views: Vec<LayerView> =
            self.layers.iter().map(|l| LayerView { shortname: &l.shortname, layer_type: &l.layer_type }).collect();
        let mut out = self.effective(Some(instance), deployment);
        deep_merge(&mut out, &stack_config(&self.stack.name, &layer_views, &views, &this));
        out
    }

    /// The apps deployed to an instance (those sharing a layer with it), by name.
    pub fn apps_of(&self, instance: &InstanceRow) -> Vec<&AppRow> {
        let layers = instance.layers();
        self.apps.iter().filter(|a| a.layers().iter().any(|l| layers.contains(l))).collect()
    }

    /// An app's spec and an instance's plan for it, under `deployment`'s Custom JSON; the error
    /// names every invalid attribute path.
    pub fn app_work(&self, instance: &InstanceRow, app: &AppRow, deployment: &Value) -> Result<AppWork, String> {
        let merged = self.effective(Some(instance), deployment);
        let mut attrs = deploy_attributes(&merged, &app.name).map_err(|errors| {
            let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
            format!("the Custom JSON in force for {} is invalid: {}", instance.hostname, list.join("; "))
        })?;
        // Parts a default adds are left out when the buildout lacks them; asked-for ones are not.
        let mut user_docs = vec![parse(&self.stack.custom_json)];
        user_docs.extend(self.layers_of(instance).iter().map(|l| parse(&l.custom_json)));
        user_docs.push(deployment.clone());
        attrs.explicit = explicitly_set(user_docs.iter());
        // The app's own variables, then `deploy.<app>.environment` of the Custom JSON over them.
        let mut environment = app.environment();
        environment.extend(attrs.environment.clone());
        let address = instance.address.clone().unwrap_or_else(|| "127.0.0.1".into());
        let mut found = Discovered::find(&attrs, |layer| self.online(layer), &address);
        found.beat_here = runs_beat(&self.online_clients(), &instance.hostname);
        let build: BuildPlan =
            plan(&instance.hostname, &address, Self::cpu_count(instance), &self.types_of(instance), &attrs, &found);
        let spec = AppSpec {
            name: app.name.clone(),
            repository: app.repository.clone(),
            revision: attrs.revision.clone().or_else(|| app.revision.clone()),
            commit: None,
            full_checkout: attrs.full_checkout,
            environment,
            keep_releases: attrs.keep_releases,
            always_build: attrs.always_build,
            buildout_flags: attrs.buildout_flags.clone(),
            buildout_version: attrs.buildout_version.clone(),
            restart: RestartPolicy::from_attributes(&merged),
            has_deploy_key: app.has_deploy_key != 0,
            auto_revert: attrs.auto_revert,
        };
        Ok(AppWork { app: spec, plan: build })
    }

    /// The hooks of an instance's layers for one event; each runs in the current release of the
    /// first app (by name) of its layer.
    pub fn hooks(&self, instance: &InstanceRow, event: &str) -> Vec<Hook> {
        self.layers_of(instance)
            .into_iter()
            .filter_map(|layer| {
                let hooks: BTreeMap<String, String> = serde_json::from_str(&layer.hooks).unwrap_or_default();
                let command = hooks.get(event)?.clone();
                let app = self.apps.iter().find(|a| a.layers().contains(&layer.shortname)).map(|a| a.name.clone());
                Some(Hook { layer: layer.shortname.clone(), event: event.to_owned(), command, app })
            })
            .collect()
    }

    /// The command of a lifecycle event on `instance`. Configure carries the instance's apps.
    pub fn lifecycle_spec(
        &self,
        instance: &InstanceRow,
        event: LifecycleEvent,
        timeout_secs: Option<u64>,
    ) -> CommandSpec {
        let kind = event.kind();
        let none = json!({});
        let apps = if kind == DeploymentKind::Configure {
            self.apps_of(instance)
                .into_iter()
                .filter_map(|app| match self.app_work(instance, app, &none) {
                    Ok(work) => Some(work),
                    Err(e) => {
                        tracing::warn!(instance = %instance.hostname, app = %app.name, "not configuring the app: {e}");
                        None
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let frontend = matches!(kind, DeploymentKind::Setup | DeploymentKind::Configure)
            .then(|| self.frontend_plan(instance))
            .flatten()
            .map(Box::new);
        let broker = matches!(kind, DeploymentKind::Setup | DeploymentKind::Configure)
            .then(|| self.broker_plan(instance))
            .flatten();
        CommandSpec::Lifecycle {
            event,
            stack_config: self.stack_config(instance, &none),
            timeout_secs,
            apps,
            hooks: self.hooks(instance, kind.as_str()),
            frontend,
            broker,
        }
    }

    /// What a frontend instance runs: one HAProxy server per ZEO client of every online
    /// plone_instances instance (sized by the one client-count function), with the settings of
    /// the frontend's own effective attributes.
    pub fn frontend_plan(&self, instance: &InstanceRow) -> Option<FrontendPlan> {
        if !self.types_of(instance).contains(&LayerType::Frontend) {
            return None;
        }
        let doc = self.effective(Some(instance), &json!({}));
        let (haproxy, nginx, proxy_port) = match frontend::settings(&doc, &self.stats_password) {
            Ok(s) => s,
            Err(errors) => {
                let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
                tracing::warn!(instance = %instance.hostname, "frontend settings invalid: {}", list.join("; "));
                return None;
            }
        };
        let mut servers = Vec::new();
        let mut members: Vec<&InstanceRow> = self
            .instances
            .iter()
            .filter(|i| i.status() == InstanceStatus::Online && self.types_of(i).contains(&LayerType::PloneInstances))
            .collect();
        members.sort_by(|a, b| a.hostname.cmp(&b.hostname));
        for member in members {
            let address = member.address.as_deref().filter(|a| is_address(a));
            let (Some(address), Some(count)) = (address, self.client_count(member)) else { continue };
            let threads = deploy_attributes(&self.effective(Some(member), &json!({})), "")
                .ok()
                .and_then(|a| a.zserver_threads)
                .unwrap_or(2);
            servers.extend((1..=count).map(|n| BackendServer {
                name: frontend::server_name(&member.hostname, &format!("client{n}")),
                address: format!("{address}:{}", client_port(n)),
                maxconn: threads,
            }));
        }
        Some(FrontendPlan {
            hostname: instance.hostname.clone(),
            address: instance.address.clone().unwrap_or_else(|| "127.0.0.1".into()),
            http_port: frontend::HTTP_PORT,
            proxy_port,
            servers,
            haproxy,
            nginx,
        })
    }
}
