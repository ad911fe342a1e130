//! What the user sees when `haproxy -c` or `nginx -t` refuses a rendered config: the program's
//! own words, not just that it refused.

/// At most this many lines of the program's output are shown (the cause is at the end).
pub const REFUSAL_LINES: usize = 20;

/// The last [`REFUSAL_LINES`] non-blank lines of what a config check printed (stderr, then
/// stdout), trimmed; `status` (e.g. "exit status: 1") when it printed nothing.
pub fn explain(stdout: &str, stderr: &str, status: &str) -> String {
    let lines: Vec<&str> =
        stderr.lines().chain(stdout.lines()).map(str::trim_end).filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return format!("it printed nothing ({status})");
    }
    let skipped = lines.len().saturating_sub(REFUSAL_LINES);
    let mut text = String::new();
    if skipped > 0 {
        text.push_str(&format!("({skipped} earlier line(s) left out)\n"));
    }
    text.push_str(&lines[skipped..].join("\n"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_programs_own_message() {
        let many: String = (1..=25).map(|n| format!("line {n}\n")).collect();
        let last_twenty: String = (6..=25).map(|n| format!("line {n}")).collect::<Vec<_>>().join("\n");
        // (stdout, stderr, what the user sees)
        let cases: &[(&str, &str, String)] = &[
            ("", "", "it printed nothing (exit status: 1)".into()),
            ("  \n\n", "\n", "it printed nothing (exit status: 1)".into()),
            (
                "",
                "[ALERT] : socket path too long (max 97)\n\n\n[ALERT] : Fatal errors found in configuration.\n",
                "[ALERT] : socket path too long (max 97)\n[ALERT] : Fatal errors found in configuration.".into(),
            ),
            ("out\n", "err  \n", "err\nout".into()),
            ("", &many, format!("(5 earlier line(s) left out)\n{last_twenty}")),
        ];
        for (stdout, stderr, want) in cases {
            assert_eq!(&explain(stdout, stderr, "exit status: 1"), want, "{stdout:?} {stderr:?}");
        }
    }
}
