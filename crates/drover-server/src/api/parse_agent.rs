//! Edge checks of what agents report: their facts and heartbeats are untrusted input, checked
//! (core `facts`) before anything is written, so a refused report changes no state.

use drover_core::facts::{Facts, Metrics, Refused, check_facts, check_metrics};
use drover_proto::FieldError;
use drover_proto::agent::{Heartbeat, HostFacts};

use super::failure::Failure;

/// 422 naming the first refused field, listing every refusal.
fn refusal(what: &str, refused: &[Refused]) -> Failure {
    let lines: Vec<String> = refused.iter().map(|r| format!("  {r}")).collect();
    let first = refused.first().map_or("facts", |r| r.field.as_str());
    let mut failure =
        Failure::invalid(first, format!("the agent's {what} was refused; nothing was recorded:\n{}", lines.join("\n")));
    failure.0.details =
        refused.iter().map(|r| FieldError { field: r.field.clone(), message: r.message.clone() }).collect();
    failure
}

/// Enrollment and hello facts, checked.
pub fn checked_facts(facts: &HostFacts) -> Result<(), Failure> {
    let view = Facts {
        address: &facts.address,
        cpu_count: facts.cpu_count,
        memory_bytes: facts.memory_bytes,
        agent_version: &facts.agent_version,
        pid: facts.pid,
    };
    check_facts(&view).map_err(|r| refusal("report", &r))
}

/// A heartbeat's figures, checked (its services are checked when it is parsed).
pub fn checked_heartbeat(hb: &Heartbeat) -> Result<(), Failure> {
    let metrics = Metrics {
        cpu_percent: hb.cpu_percent,
        memory_percent: hb.memory_percent,
        load_1m: hb.load_1m,
        cpu_count: hb.cpu_count,
        memory_bytes: hb.memory_bytes,
    };
    check_metrics(&metrics).map_err(|r| refusal("heartbeat", &r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(address: &str) -> HostFacts {
        HostFacts {
            address: address.into(),
            cpu_count: 2,
            memory_bytes: 1 << 30,
            agent_version: "0.1.0".into(),
            pid: 10,
        }
    }

    #[test]
    fn a_bad_address_is_refused_naming_the_field_and_every_refusal() {
        assert!(checked_facts(&facts("10.0.0.4")).is_ok());
        let e = checked_facts(&HostFacts { pid: 0, ..facts("10.0.0.4\nprogram x") }).unwrap_err().0;
        assert_eq!(e.field.as_deref(), Some("facts.address"));
        assert!(e.message.contains(r#""10.0.0.4\nprogram x""#) && e.message.contains("facts.pid"), "{}", e.message);
        let fields: Vec<&str> = e.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["facts.address", "facts.pid"]);
    }

    #[test]
    fn a_heartbeat_with_impossible_figures_is_refused() {
        let hb = Heartbeat {
            cpu_percent: 5.0,
            memory_percent: 10.0,
            load_1m: 0.1,
            cpu_count: 1,
            memory_bytes: 1 << 30,
            services: Vec::new(),
        };
        assert!(checked_heartbeat(&hb).is_ok());
        let e = checked_heartbeat(&Heartbeat { load_1m: f64::NAN, ..hb }).unwrap_err().0;
        assert_eq!(e.field.as_deref(), Some("load_1m"));
    }
}
