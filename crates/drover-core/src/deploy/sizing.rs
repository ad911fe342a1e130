//! Client sizing: the one formula every consumer uses (the original computed it three ways).

/// ZEO clients on an instance: `max(1, ceil(cpu_count × per_cpu))`, unless a fixed count is set.
pub fn client_count(cpu_count: u32, per_cpu: f64, fixed: Option<u32>) -> u32 {
    if let Some(n) = fixed {
        return n.max(1);
    }
    let n = (f64::from(cpu_count) * per_cpu).ceil();
    if n.is_finite() && n >= 1.0 { n.min(f64::from(u16::MAX)) as u32 } else { 1 }
}

/// The HTTP port of client `n` (1-based): 8080 + n.
pub fn client_port(n: u32) -> u32 {
    8080 + n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let cases = [
            (1, 2.0, None, 2),
            (2, 2.0, None, 4),
            (3, 0.5, None, 2),
            (1, 0.5, None, 1),
            (2, 0.5, None, 1),
            (3, 1.0, None, 3),
            (4, 0.0, None, 1),
            (4, -1.0, None, 1),
            (4, f64::NAN, None, 1),
            (4, 2.0, Some(3), 3),
            (4, 2.0, Some(0), 1),
        ];
        for (cpus, per_cpu, fixed, want) in cases {
            assert_eq!(client_count(cpus, per_cpu, fixed), want, "{cpus} × {per_cpu} fixed {fixed:?}");
        }
        assert_eq!(client_port(1), 8081);
    }
}
