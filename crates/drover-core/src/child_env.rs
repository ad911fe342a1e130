//! What a process started by the agent (a command, a build step, a hook, a service) must not
//! inherit from the agent's own environment: tokens and credentials. A join token or an admin
//! token an operator exported where the agent was started stays with the agent.

/// Whether an inherited environment variable is withheld from child processes: any `DROVER_*`
/// name that speaks of a token, a secret, a credential or a password.
pub fn is_withheld(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("DROVER_")
        && ["TOKEN", "SECRET", "CREDENTIAL", "PASSWORD"].iter().any(|word| upper.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withholds_tokens_and_credentials_only() {
        let cases = [
            ("DROVER_JOIN_TOKEN", true),
            ("DROVER_TOKEN", true),
            ("drover_token", true),
            ("DROVER_AGENT_CREDENTIAL", true),
            ("DROVER_STATS_PASSWORD", true),
            ("DROVER_ROOT", false),
            ("DROVER_BUILDOUT_CACHE", false),
            ("DROVER_SERVER", false),
            ("GITHUB_TOKEN", false),
            ("PATH", false),
        ];
        for (name, want) in cases {
            assert_eq!(is_withheld(name), want, "{name}");
        }
    }
}
