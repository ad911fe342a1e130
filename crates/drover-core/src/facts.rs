//! What an agent reports about its host, checked before the server believes it. Agents are
//! untrusted input: their address ends up in other hosts' `haproxy.cfg` and `deploy.cfg`, their
//! pid is signalled, their figures are shown. A report that is not what it claims to be is
//! refused whole, naming the field and saying what to do.

use std::net::IpAddr;

/// The most CPUs a host may report.
pub const MAX_CPUS: u32 = 4096;
/// The most memory a host may report (4 PiB).
pub const MAX_MEMORY_BYTES: u64 = 1 << 52;
/// The longest agent version.
pub const MAX_VERSION_LEN: usize = 64;
/// The highest one-minute load average taken for real.
pub const MAX_LOAD: f64 = 1_000_000.0;

/// A refused fact: which field and why, with what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Refused {
    /// The field, e.g. `facts.address` or `cpu_percent`.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

fn refused(field: &str, message: String) -> Refused {
    Refused { field: field.to_owned(), message }
}

/// The facts an agent sends with enrollment and hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts<'a> {
    /// The address the instance's services bind.
    pub address: &'a str,
    /// CPUs.
    pub cpu_count: u32,
    /// Memory in bytes.
    pub memory_bytes: u64,
    /// The agent's version.
    pub agent_version: &'a str,
    /// The agent's process id.
    pub pid: u32,
}

/// The figures of a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// CPU use, percent of all CPUs.
    pub cpu_percent: f64,
    /// Memory use, percent.
    pub memory_percent: f64,
    /// One-minute load average.
    pub load_1m: f64,
    /// CPUs.
    pub cpu_count: u32,
    /// Memory in bytes.
    pub memory_bytes: u64,
}

/// `s` for a message: quoted with escapes (a newline shows as `\n`), at most 60 characters.
pub fn shown(s: &str) -> String {
    let quoted = format!("{s:?}");
    if quoted.chars().count() > 60 { format!("{}…", quoted.chars().take(60).collect::<String>()) } else { quoted }
}

/// Whether `s` is an address other hosts can be given: an IP address, or a DNS host name per
/// RFC 1123 (dot-separated labels of letters, digits and `-`, at most 63 characters each and
/// 253 in all, no label starting or ending with `-`, not all digits at the end).
pub fn is_address(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok() || is_dns_name(s)
}

/// A DNS host name per RFC 1123 (see [`is_address`]).
pub fn is_dns_name(s: &str) -> bool {
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = s.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    // An all-digit last label reads as a (wrong) IPv4 address, not a name.
    labels.iter().all(label_ok) && !labels.last().is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks an address an agent reports (`field` names it in the refusal).
pub fn check_address(field: &str, s: &str) -> Result<(), Refused> {
    if is_address(s) {
        return Ok(());
    }
    Err(refused(
        field,
        format!(
            "{} is neither an IP address nor a DNS host name (dot-separated labels of letters, digits and '-', at most \
             63 characters each and 253 in all); start the agent with --address set to this host's private IP address",
            shown(s)
        ),
    ))
}

fn check_cpus(field: &str, n: u32) -> Result<(), Refused> {
    if (1..=MAX_CPUS).contains(&n) {
        return Ok(());
    }
    Err(refused(field, format!("{n} CPUs is not a CPU count from 1 to {MAX_CPUS}; pass --cpu-count N to the agent")))
}

fn check_memory(field: &str, n: u64) -> Result<(), Refused> {
    if n <= MAX_MEMORY_BYTES {
        return Ok(());
    }
    Err(refused(field, format!("{n} bytes of memory is more than {MAX_MEMORY_BYTES}; the agent misreads this host")))
}

/// Checks enrollment and hello facts; every refusal is returned, the first field first.
pub fn check_facts(facts: &Facts<'_>) -> Result<(), Vec<Refused>> {
    let mut out = Vec::new();
    out.extend(check_address("facts.address", facts.address).err());
    out.extend(check_cpus("facts.cpu_count", facts.cpu_count).err());
    out.extend(check_memory("facts.memory_bytes", facts.memory_bytes).err());
    let v = facts.agent_version;
    if v.is_empty()
        || v.len() > MAX_VERSION_LEN
        || !v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'))
    {
        out.push(refused(
            "facts.agent_version",
            format!(
                "{} is not a version (1 to {MAX_VERSION_LEN} letters, digits, '.', '-', '+', '_'); run a released \
                 drover agent",
                shown(v)
            ),
        ));
    }
    if facts.pid == 0 || facts.pid > i32::MAX as u32 {
        out.push(refused("facts.pid", format!("{} is not a process id (1 to {})", facts.pid, i32::MAX)));
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

/// Checks a heartbeat's figures; every refusal is returned.
pub fn check_metrics(m: &Metrics) -> Result<(), Vec<Refused>> {
    let mut out = Vec::new();
    out.extend(check_cpus("cpu_count", m.cpu_count).err());
    out.extend(check_memory("memory_bytes", m.memory_bytes).err());
    let max_cpu = 100.0 * f64::from(m.cpu_count.clamp(1, MAX_CPUS));
    let percents = [("cpu_percent", m.cpu_percent, max_cpu), ("memory_percent", m.memory_percent, 100.0)];
    for (field, value, max) in percents {
        if !(value.is_finite() && (0.0..=max).contains(&value)) {
            out.push(refused(field, format!("{value} is not a percentage from 0 to {max}")));
        }
    }
    if !(m.load_1m.is_finite() && (0.0..=MAX_LOAD).contains(&m.load_1m)) {
        out.push(refused("load_1m", format!("{} is not a load average from 0 to {MAX_LOAD}", m.load_1m)));
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let cases = [
            ("127.0.0.2", true),
            ("10.0.0.7", true),
            ("::1", true),
            ("fe80::1", true),
            ("db.internal", true),
            ("web-1.eu.example.com", true),
            ("DB1.Example.org", true),
            ("localhost", true),
            ("a", true),
            ("1a.example", true),
            ("", false),
            ("127.0.0.2\n", false),
            ("127.0.0.2\nprogram evil\n", false),
            ("10.0.0.7; rm -rf /", false),
            ("db internal", false),
            ("db.internal.", false),
            (".db", false),
            ("db..internal", false),
            ("-db.internal", false),
            ("db-.internal", false),
            ("db_1.internal", false),
            ("127.0.0.256", false),
            ("1.2.3", false),
            ("[::1]", false),
            ("127.0.0.2:8080", false),
            ("host#x", false),
            ("h{x}", false),
            ("\"quoted\"", false),
            ("db\0", false),
            ("bücher.example", false),
        ];
        for (s, want) in cases {
            assert_eq!(is_address(s), want, "{s:?}");
        }
        let long_label = "a".repeat(64);
        assert!(!is_address(&long_label));
        assert!(is_address(&"a".repeat(63)));
        let long_name = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".");
        assert_eq!(long_name.len(), 253);
        assert!(is_address(&long_name));
        assert!(!is_address(&format!("{long_name}e")));
    }

    fn facts(address: &str) -> Facts<'_> {
        Facts { address, cpu_count: 2, memory_bytes: 1 << 30, agent_version: "0.1.0", pid: 4242 }
    }

    fn fields(r: Result<(), Vec<Refused>>) -> Vec<String> {
        r.err().unwrap_or_default().into_iter().map(|r| r.field).collect()
    }

    #[test]
    fn facts_are_refused_by_field() {
        assert_eq!(check_facts(&facts("127.0.0.2")), Ok(()));
        let cases: [(Facts, &[&str]); 8] = [
            (facts("127.0.0.2\nprogram x"), &["facts.address"]),
            (Facts { cpu_count: 0, ..facts("h") }, &["facts.cpu_count"]),
            (Facts { cpu_count: 4097, ..facts("h") }, &["facts.cpu_count"]),
            (Facts { memory_bytes: u64::MAX, ..facts("h") }, &["facts.memory_bytes"]),
            (Facts { agent_version: "", ..facts("h") }, &["facts.agent_version"]),
            (Facts { agent_version: "1.0\n", ..facts("h") }, &["facts.agent_version"]),
            (Facts { pid: u32::MAX, ..facts("h") }, &["facts.pid"]),
            (Facts { pid: 0, cpu_count: 0, ..facts("a b") }, &["facts.address", "facts.cpu_count", "facts.pid"]),
        ];
        for (f, want) in cases {
            assert_eq!(fields(check_facts(&f)), want, "{f:?}");
        }
        let e = &check_facts(&facts("10.0.0.1\n")).unwrap_err()[0];
        assert!(e.message.contains(r#""10.0.0.1\n""#) && e.message.contains("--address"), "{e}");
        assert_eq!(check_facts(&Facts { agent_version: "0.1.0-dev+g1a2b", ..facts("h") }), Ok(()));
    }

    #[test]
    fn metrics_are_refused_by_field() {
        let ok = Metrics { cpu_percent: 12.5, memory_percent: 40.0, load_1m: 0.7, cpu_count: 2, memory_bytes: 1 << 30 };
        assert_eq!(check_metrics(&ok), Ok(()));
        assert_eq!(check_metrics(&Metrics { cpu_percent: 200.0, ..ok }), Ok(()));
        let cases: [(Metrics, &[&str]); 7] = [
            (Metrics { cpu_percent: f64::NAN, ..ok }, &["cpu_percent"]),
            (Metrics { cpu_percent: 200.1, ..ok }, &["cpu_percent"]),
            (Metrics { cpu_percent: -1.0, ..ok }, &["cpu_percent"]),
            (Metrics { memory_percent: 100.5, ..ok }, &["memory_percent"]),
            (Metrics { load_1m: f64::INFINITY, ..ok }, &["load_1m"]),
            (Metrics { load_1m: -0.5, ..ok }, &["load_1m"]),
            (Metrics { cpu_count: 0, memory_bytes: u64::MAX, ..ok }, &["cpu_count", "memory_bytes"]),
        ];
        for (m, want) in cases {
            assert_eq!(fields(check_metrics(&m)), want, "{m:?}");
        }
    }
}
