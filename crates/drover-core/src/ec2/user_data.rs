//! The user data of an instance's machine: a shell script that writes the instance's single-use
//! join token to a 0600 file and installs and starts the agent with `drover agent install`
//! (a systemd unit, so the agent comes back after a stop and start). The image must have the
//! `drover` binary on its PATH.

/// Where the script puts the join token (the agent removes it once enrolled).
pub const JOIN_TOKEN_FILE: &str = "/etc/drover/join.token";
/// The line that ends the join token's here-document.
pub const JOIN_TOKEN_END: &str = "DROVER_JOIN_TOKEN";

/// Quotes `raw` for a POSIX shell.
fn quote(raw: &str) -> String {
    format!("'{}'", raw.replace('\'', r"'\''"))
}

/// The script for instance `hostname` of `stack`, joining with `join_token` (the token's text:
/// server URL, CA fingerprint and secret). Its address is the machine's private IPv4 address.
pub fn render_user_data(stack: &str, hostname: &str, join_token: &str) -> String {
    format!(
        "#!/bin/sh\n\
         # Drover: joins this machine to stack {stack} as instance {hostname}.\n\
         set -eu\n\
         umask 077\n\
         mkdir -p /etc/drover\n\
         cat > {JOIN_TOKEN_FILE} <<'{JOIN_TOKEN_END}'\n\
         {token}\n\
         {JOIN_TOKEN_END}\n\
         address=$(hostname -I | cut -d' ' -f1)\n\
         exec drover agent install --join-file {JOIN_TOKEN_FILE} --stack {stack_q} --instance {host_q} --address \"$address\"\n",
        token = join_token.trim(),
        stack_q = quote(stack),
        host_q = quote(hostname),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_carries_the_token_in_a_quoted_here_document() {
        let script = render_user_data("prod", "clients1", "drover-join:abc$HOME`x`\n");
        assert!(script.starts_with("#!/bin/sh\n"));
        let body: Vec<&str> = script.lines().collect();
        let start = body.iter().position(|l| l.ends_with("<<'DROVER_JOIN_TOKEN'")).unwrap();
        assert_eq!(body[start + 1], "drover-join:abc$HOME`x`", "the token is verbatim: the marker is quoted");
        assert_eq!(body[start + 2], JOIN_TOKEN_END);
        assert!(script.contains("--stack 'prod' --instance 'clients1'"));
        assert!(script.contains("umask 077"), "the token's file is private");
    }

    #[test]
    fn names_are_quoted_for_the_shell() {
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
