//! Host facts and heartbeat metrics (sysinfo).

use drover_proto::agent::{Heartbeat, HostFacts};
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

use crate::config::AgentConfig;

/// Reads CPU and memory figures; keeps the previous CPU sample so usage covers the interval.
pub struct Meter {
    system: System,
    cpu_override: Option<u32>,
}

impl Meter {
    /// A meter with a first CPU sample taken.
    pub fn new(config: &AgentConfig) -> Result<Self, sysinfo::Error> {
        let kind = RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing().with_usage())
            .with_memory(MemoryRefreshKind::nothing().with_ram());
        Ok(Self { system: System::new_with_specifics(kind)?, cpu_override: config.cpu_count })
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
            agent_version: env!("CARGO_PKG_VERSION").to_owned(),
            pid: std::process::id(),
        }
    }

    /// A fresh sample.
    pub fn sample(&mut self) -> Heartbeat {
        self.system.refresh_cpu_usage();
        self.system.refresh_memory();
        let total = self.system.total_memory().max(1);
        let load = System::load_average().map(|l| l.one).unwrap_or(0.0);
        Heartbeat {
            cpu_percent: f64::from(self.system.global_cpu_usage()),
            memory_percent: self.system.used_memory() as f64 * 100.0 / total as f64,
            load_1m: load,
            cpu_count: self.cpu_count(),
            memory_bytes: self.system.total_memory(),
        }
    }
}
