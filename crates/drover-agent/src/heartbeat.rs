//! Host facts and heartbeat metrics (sysinfo), and the supervised services each heartbeat reports.

use drover_core::facts::{Facts, check_facts};
use drover_proto::agent::{Heartbeat, HostFacts, MAX_SERVICES, ServiceName, ServiceReport, ServiceRunState};
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

use crate::config::AgentConfig;
use crate::run::AgentError;
use crate::supervisor::{ServiceSummary, Supervisor};

/// Reads CPU and memory figures; keeps the previous CPU sample so usage covers the interval.
pub struct Meter {
    system: System,
    cpu_override: Option<u32>,
    supervisor: Option<Supervisor>,
}

impl Meter {
    /// A meter with a first CPU sample taken.
    pub fn new(config: &AgentConfig) -> Result<Self, sysinfo::Error> {
        let kind = RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing().with_usage())
            .with_memory(MemoryRefreshKind::nothing().with_ram());
        Ok(Self { system: System::new_with_specifics(kind)?, cpu_override: config.cpu_count, supervisor: None })
    }

    /// Reports `supervisor`'s services in every sample from now on.
    pub fn watch_services(&mut self, supervisor: Supervisor) {
        self.supervisor = Some(supervisor);
    }

    fn cpu_count(&self) -> u32 {
        self.cpu_override.unwrap_or_else(|| self.system.cpus().len().max(1) as u32)
    }

    /// What the server records about this host.
    pub fn facts(&self, config: &AgentConfig) -> HostFacts {
        HostFacts {
            address: config.address.clone(),
            cpu_count: self.cpu_count(),
            memory_bytes: self.system.total_memory(),
            agent_version: crate::upgrade::own_version().to_owned(),
            pid: std::process::id(),
        }
    }

    /// What the server records about this host, checked as the server checks it: a wrong
    /// `--address` or `--cpu-count` stops the agent at start-up, saying what to pass instead.
    pub fn checked_facts(&self, config: &AgentConfig) -> Result<HostFacts, AgentError> {
        let facts = self.facts(config);
        let view = Facts {
            address: &facts.address,
            cpu_count: facts.cpu_count,
            memory_bytes: facts.memory_bytes,
            agent_version: &facts.agent_version,
            pid: facts.pid,
        };
        check_facts(&view).map_err(|refused| {
            let lines: Vec<String> = refused.iter().map(|r| format!("  {r}")).collect();
            AgentError::Config(format!("the server would refuse this agent's facts:\n{}", lines.join("\n")))
        })?;
        Ok(facts)
    }

    /// A fresh sample.
    pub fn sample(&mut self) -> Heartbeat {
        self.system.refresh_cpu_usage();
        self.system.refresh_memory();
        let total = self.system.total_memory().max(1);
        let load = System::load_average().map(|l| l.one).unwrap_or(0.0);
        Heartbeat {
            cpu_percent: within(f64::from(self.system.global_cpu_usage()), 100.0),
            memory_percent: within(self.system.used_memory() as f64 * 100.0 / total as f64, 100.0),
            load_1m: within(load, drover_core::facts::MAX_LOAD),
            cpu_count: self.cpu_count(),
            memory_bytes: self.system.total_memory(),
            services: self.supervisor.as_ref().map(|s| reports(&s.services())).unwrap_or_default(),
        }
    }
}

/// A figure as the server accepts it: from 0 to `max`, and 0 for a reading that is not a number.
fn within(v: f64, max: f64) -> f64 {
    if v.is_finite() { v.clamp(0.0, max) } else { 0.0 }
}

/// The services as the server accepts them: names it would refuse are left out (with a warning),
/// and at most [`MAX_SERVICES`] are sent, so one odd service never costs the heartbeat.
fn reports(services: &[ServiceSummary]) -> Vec<ServiceReport> {
    let mut out = Vec::new();
    for s in services {
        let (app, name) = match (ServiceName::try_from(s.app.clone()), ServiceName::try_from(s.name.clone())) {
            (Ok(app), Ok(name)) => (app, name),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!("service {}/{} is not reported: {e}", s.app, s.name);
                continue;
            }
        };
        let state = match (s.snapshot.stopping, s.snapshot.pid) {
            (true, _) => ServiceRunState::Stopped,
            (false, Some(_)) => ServiceRunState::Running,
            (false, None) => ServiceRunState::Restarting,
        };
        out.push(ServiceReport {
            app,
            name,
            state,
            pid: s.snapshot.pid.and_then(|p| u32::try_from(p).ok()),
            started_at_ms: s.snapshot.started_at_ms.filter(|_| state == ServiceRunState::Running),
            restarts: s.snapshot.restarts,
        });
    }
    out.truncate(MAX_SERVICES);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervisor::Snapshot;

    fn summary(app: &str, name: &str, pid: Option<i32>, stopping: bool) -> ServiceSummary {
        ServiceSummary {
            app: app.into(),
            name: name.into(),
            snapshot: Snapshot { pid, stopping, started_at_ms: Some(1_000), restarts: 2 },
        }
    }

    #[test]
    fn services_are_reported_with_their_state_and_odd_names_left_out() {
        let got = reports(&[
            summary("site", "client1", Some(42), false),
            summary("site", "zeoserver", None, false),
            summary(".frontend", "nginx", Some(7), true),
            summary("site", "Bad Name", Some(8), false),
        ]);
        let states: Vec<(&str, ServiceRunState, Option<u32>, Option<i64>)> =
            got.iter().map(|r| (r.name.as_str(), r.state, r.pid, r.started_at_ms)).collect();
        assert_eq!(
            states,
            [
                ("client1", ServiceRunState::Running, Some(42), Some(1_000)),
                ("zeoserver", ServiceRunState::Restarting, None, None),
                ("nginx", ServiceRunState::Stopped, Some(7), None),
            ]
        );
        assert!(got.iter().all(|r| r.restarts == 2));
        let many: Vec<ServiceSummary> = (0..100).map(|i| summary("site", &format!("c{i}"), None, false)).collect();
        assert_eq!(reports(&many).len(), MAX_SERVICES);
    }
}
