//! The restart plan: which of an app's services restart after `current` changed, in which order,
//! with which delays and gates. The agent's supervisor only carries it out.
//!
//! Restarts are one stack-wide decision: a client that was serving takes one of the
//! deployment's restart slots from the server before it goes down (at most
//! `plone_instances.max_unavailable` at once across every instance of the deployment, with or
//! without a frontend) and gives it back once it answers its health check.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attributes::Reader;

/// How an app's restarts are paced, from the instance's effective attributes. The server sends
/// it with every app command, so the agent never re-reads attributes for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestartPolicy {
    /// `plone_instances.restart_delay`: seconds between restarts of clients that were running.
    pub restart_delay_secs: f64,
    /// `plone_instances.max_unavailable`: clients down at once across the deployment.
    pub max_unavailable: u32,
    /// `plone_instances.drain_timeout`: seconds a frontend drains a client before its restart.
    pub drain_timeout_secs: f64,
    /// `plone_instances.healthy_deadline`: seconds a restarted client has to pass its check.
    pub healthy_deadline_secs: f64,
    /// `haproxy.health_check_method`: the same check HAProxy makes.
    pub health_check_method: String,
    /// `haproxy.health_check_url`.
    pub health_check_url: String,
}

impl RestartPolicy {
    /// The policy an effective document (already checked) asks for; what it does not set comes
    /// from the built-in defaults, through the attribute reader.
    pub fn from_attributes(doc: &Value) -> Self {
        let mut r = Reader::new(doc);
        let pi = "plone_instances";
        Self {
            restart_delay_secs: r.number(&[pi, "restart_delay"], 0.0),
            max_unavailable: r.whole(&[pi, "max_unavailable"], 1).map_or(1, |n| n.clamp(1, 1000) as u32),
            drain_timeout_secs: r.number(&[pi, "drain_timeout"], 0.0),
            healthy_deadline_secs: r.number(&[pi, "healthy_deadline"], 1.0),
            health_check_method: r.string(&["haproxy", "health_check_method"]).unwrap_or_default(),
            health_check_url: r.string(&["haproxy", "health_check_url"]).unwrap_or_default(),
        }
    }
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self::from_attributes(&Value::Null)
    }
}

/// A service as it stands before the restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceNow {
    /// Its name.
    pub name: String,
    /// A ZEO client (served through the frontend, health-checked).
    pub client: bool,
    /// Running now.
    pub running: bool,
    /// Its script and configuration are the same in the new release (known for servers).
    pub unchanged: bool,
}

/// What happens to one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceAction {
    /// Keeps running: a server whose script and configuration did not change.
    Keep,
    /// Starts: it was not running.
    Start,
    /// Stops and starts again.
    Restart,
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct RestartStep {
    /// The service.
    pub service: String,
    /// What happens to it.
    pub action: ServiceAction,
    /// Seconds to wait first (`restart_delay`, between clients that were running).
    pub delay_secs: f64,
    /// Take a restart slot of the deployment first, and give it back once healthy.
    pub slot: bool,
    /// Drain it on the frontends first (when there are any).
    pub drain: bool,
    /// Wait for its health check before the next step.
    pub health_check: bool,
}

/// The plan for an app's services, in the order given (servers before clients, as the build
/// plan lists them). `restart_servers` restarts unchanged servers too (an explicit restart).
pub fn restart_plan(services: &[ServiceNow], policy: &RestartPolicy, restart_servers: bool) -> Vec<RestartStep> {
    let mut restarted_a_client = false;
    services
        .iter()
        .map(|s| {
            let action = match (s.running, s.client, s.unchanged && !restart_servers) {
                (false, _, _) => ServiceAction::Start,
                (true, false, true) => ServiceAction::Keep,
                (true, _, _) => ServiceAction::Restart,
            };
            let serving_client = s.client && action == ServiceAction::Restart;
            let delay_secs = if serving_client && restarted_a_client { policy.restart_delay_secs } else { 0.0 };
            restarted_a_client |= serving_client;
            RestartStep {
                service: s.name.clone(),
                action,
                delay_secs,
                slot: serving_client,
                drain: serving_client,
                health_check: s.client && action != ServiceAction::Keep,
            }
        })
        .collect()
}

/// Whether a deployment may grant another restart slot.
pub fn may_grant(held: usize, max_unavailable: u32) -> bool {
    held < max_unavailable.max(1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use ServiceAction::*;
    use serde_json::json;

    fn svc(name: &str, client: bool, running: bool, unchanged: bool) -> ServiceNow {
        ServiceNow { name: name.into(), client, running, unchanged }
    }

    fn step(service: &str, action: ServiceAction, delay_secs: f64, gated: bool, health_check: bool) -> RestartStep {
        RestartStep { service: service.into(), action, delay_secs, slot: gated, drain: gated, health_check }
    }

    #[test]
    fn plans() {
        let policy = RestartPolicy { restart_delay_secs: 5.0, ..RestartPolicy::default() };
        type Case = (Vec<ServiceNow>, bool, Vec<RestartStep>);
        let cases: Vec<Case> = vec![
            // A first deploy: everything starts at once, clients are health-checked, no slots.
            (
                vec![svc("zeoserver", false, false, false), svc("client1", true, false, false)],
                false,
                vec![step("zeoserver", Start, 0.0, false, false), step("client1", Start, 0.0, false, true)],
            ),
            // A redeploy: the unchanged ZEO server keeps running; serving clients take slots,
            // with restart_delay between them but not before the first.
            (
                vec![
                    svc("zeoserver", false, true, true),
                    svc("client1", true, true, false),
                    svc("client2", true, true, false),
                    svc("client3", true, false, false),
                ],
                false,
                vec![
                    step("zeoserver", Keep, 0.0, false, false),
                    step("client1", Restart, 0.0, true, true),
                    step("client2", Restart, 5.0, true, true),
                    step("client3", Start, 0.0, false, true),
                ],
            ),
            // An explicit restart restarts an unchanged server too.
            (vec![svc("zeoserver", false, true, true)], true, vec![step("zeoserver", Restart, 0.0, false, false)]),
            // A changed server restarts without a slot (clients wait for it on their own).
            (vec![svc("celery", false, true, false)], false, vec![step("celery", Restart, 0.0, false, false)]),
        ];
        for (services, restart_servers, want) in cases {
            assert_eq!(restart_plan(&services, &policy, restart_servers), want, "{services:?}");
        }
    }

    #[test]
    fn policy_from_attributes() {
        // Reading `{}` gives the built-in defaults: one source for each default.
        let d = RestartPolicy::from_attributes(&json!({}));
        assert_eq!(d.max_unavailable, 1);
        assert_eq!(d.restart_delay_secs, 0.0);
        assert_eq!(d.drain_timeout_secs, 30.0);
        assert_eq!(d.healthy_deadline_secs, 120.0);
        assert_eq!(
            (d.health_check_method.as_str(), d.health_check_url.as_str()),
            ("HEAD", "/misc_/CMFPlone/plone_icon")
        );
        let doc = json!({
            "plone_instances": {"restart_delay": 2, "max_unavailable": 3, "healthy_deadline": 10},
            "haproxy": {"health_check_url": "/ok", "health_check_method": "GET"}
        });
        let p = RestartPolicy::from_attributes(&doc);
        assert_eq!((p.restart_delay_secs, p.max_unavailable, p.healthy_deadline_secs), (2.0, 3, 10.0));
        assert_eq!((p.health_check_method.as_str(), p.health_check_url.as_str()), ("GET", "/ok"));
    }

    #[test]
    fn slots() {
        let cases = [(0, 1, true), (1, 1, false), (1, 2, true), (2, 2, false), (0, 0, true), (1, 0, false)];
        for (held, max, want) in cases {
            assert_eq!(may_grant(held, max), want, "{held} {max}");
        }
    }
}
