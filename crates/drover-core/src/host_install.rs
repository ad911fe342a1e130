//! What `drover agent install` writes on a Debian host: the agent's command line, its systemd
//! unit and its logrotate file. Pure text; the CLI writes it and talks to systemd.

use crate::names::Shortname;

/// Where the installed files go (paths on the host, before any staging root).
pub const JOIN_TOKEN_PATH: &str = "/etc/drover/join.token";
/// The systemd unit.
pub const UNIT_PATH: &str = "/etc/systemd/system/drover-agent.service";
/// The logrotate file.
pub const LOGROTATE_PATH: &str = "/etc/logrotate.d/drover-agent";
/// The unit's name.
pub const UNIT_NAME: &str = "drover-agent.service";

/// How the installed agent joins and runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAgent {
    /// The `drover` binary the unit runs.
    pub binary: String,
    /// The stack to join.
    pub stack: Shortname,
    /// Layers of a host that registers itself.
    pub layers: Vec<Shortname>,
    /// The pre-created instance to claim.
    pub instance: Option<Shortname>,
    /// The address its services bind.
    pub address: String,
    /// Where the agent writes (`/` on a host of its own).
    pub root: String,
    /// Another server URL than the token's.
    pub server: Option<String>,
}

/// Why an install was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstallError {
    /// Neither or both of layers and instance.
    #[error(
        "pass --layer L (repeatable) for a host that registers itself, or --instance H to claim a pre-created one, not both"
    )]
    Target,
    /// A path or address with characters a unit file cannot hold as one word.
    #[error(
        "{field} {value:?} cannot go into a systemd unit: use an absolute path or address without spaces, quotes, % or $"
    )]
    Unquotable {
        /// The option.
        field: &'static str,
        /// Its value.
        value: String,
    },
}

/// A word systemd's ExecStart takes as it is: no white space, quotes, `%`, `$` or `\`.
fn plain(field: &'static str, value: &str) -> Result<(), InstallError> {
    let ok = !value.is_empty() && !value.chars().any(|c| c.is_whitespace() || "\"'%$\\;".contains(c) || c.is_control());
    if ok { Ok(()) } else { Err(InstallError::Unquotable { field, value: value.to_owned() }) }
}

impl HostAgent {
    /// Checks what goes into the unit.
    pub fn check(&self) -> Result<(), InstallError> {
        if self.layers.is_empty() == self.instance.is_none() {
            return Err(InstallError::Target);
        }
        plain("--binary", &self.binary)?;
        plain("--address", &self.address)?;
        plain("--root", &self.root)?;
        if let Some(server) = &self.server {
            plain("--server", server)?;
        }
        if !self.binary.starts_with('/') {
            return Err(InstallError::Unquotable { field: "--binary", value: self.binary.clone() });
        }
        if !self.root.starts_with('/') {
            return Err(InstallError::Unquotable { field: "--root", value: self.root.clone() });
        }
        Ok(())
    }

    /// The agent's command line: the join token from its 0600 file, never in argv.
    pub fn command(&self) -> Vec<String> {
        let mut args = vec![self.binary.clone(), "agent".into(), "--root".into(), self.root.clone()];
        args.extend(["--stack".into(), self.stack.to_string(), "--address".into(), self.address.clone()]);
        for layer in &self.layers {
            args.extend(["--layer".into(), layer.to_string()]);
        }
        if let Some(instance) = &self.instance {
            args.extend(["--instance".into(), instance.to_string()]);
        }
        if let Some(server) = &self.server {
            args.extend(["--server".into(), server.clone()]);
        }
        args.extend(["--join-file".into(), JOIN_TOKEN_PATH.into()]);
        args
    }

    /// The systemd unit. `KillMode=process`: a restart of the agent stops the agent alone; the
    /// app's services run in their own process groups and are re-adopted.
    pub fn unit(&self) -> String {
        format!(
            "# Written by `drover agent install`; `drover agent uninstall` removes it.\n\
             [Unit]\n\
             Description=Drover agent (stack {stack})\n\
             Wants=network-online.target\n\
             After=network-online.target\n\
             \n\
             [Service]\n\
             ExecStart={command}\n\
             Restart=always\n\
             RestartSec=5\n\
             KillMode=process\n\
             UMask=0077\n\
             \n\
             [Install]\n\
             WantedBy=multi-user.target\n",
            stack = self.stack,
            command = self.command().join(" "),
        )
    }

    /// The logrotate file for the services' logs (the agent's own go to the journal).
    /// `copytruncate`: the services keep their log files open.
    pub fn logrotate(&self) -> String {
        let root = self.root.trim_end_matches('/');
        format!(
            "# Written by `drover agent install`; `drover agent uninstall` removes it.\n\
             {root}/srv/www/*/shared/var/log/*.log {{\n\
             \x20   weekly\n\
             \x20   rotate 8\n\
             \x20   maxsize 100M\n\
             \x20   compress\n\
             \x20   delaycompress\n\
             \x20   missingok\n\
             \x20   notifempty\n\
             \x20   copytruncate\n\
             }}\n"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Shortname {
        Shortname::parse(s).unwrap()
    }

    fn agent() -> HostAgent {
        HostAgent {
            binary: "/usr/local/bin/drover".into(),
            stack: name("prod"),
            layers: vec![name("clients")],
            instance: None,
            address: "127.0.0.5".into(),
            root: "/".into(),
            server: None,
        }
    }

    #[test]
    fn the_unit_runs_the_agent_with_the_token_in_a_file() {
        let unit = agent().unit();
        assert!(unit.contains(
            "ExecStart=/usr/local/bin/drover agent --root / --stack prod --address 127.0.0.5 --layer clients \
             --join-file /etc/drover/join.token\n"
        ));
        assert!(unit.contains("KillMode=process\n") && unit.contains("WantedBy=multi-user.target\n"), "{unit}");
        let logrotate = agent().logrotate();
        assert!(logrotate.contains("\n/srv/www/*/shared/var/log/*.log {\n"), "{logrotate}");
        assert!(logrotate.contains("copytruncate"), "{logrotate}");
    }

    #[test]
    fn what_cannot_go_into_a_unit_is_refused() {
        // (change, refused)
        type Change = fn(&mut HostAgent);
        let cases: &[(Change, bool)] = &[
            (|_| {}, false),
            (|a| a.instance = Some(name("edge1")), true),
            (|a| a.layers.clear(), true),
            (|a| (a.layers.clear(), a.instance = Some(name("edge1"))).1, false),
            (|a| a.address = "127.0.0.5 --root /etc".into(), true),
            (|a| a.root = "relative/dir".into(), true),
            (|a| a.root = "/srv/my host".into(), true),
            (|a| a.binary = "drover".into(), true),
            (|a| a.server = Some("https://a%b".into()), true),
            (|a| a.server = Some("https://drover.internal:7443".into()), false),
        ];
        for (change, refused) in cases {
            let mut a = agent();
            change(&mut a);
            assert_eq!(a.check().is_err(), *refused, "{a:?}");
        }
    }
}
