//! The status and kind names users know from the system Drover replaces.
//!
//! Each enum is stored as its snake_case name (in SQLite and on the wire), so `as_str` and
//! `FromStr` are the one mapping between text and value.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Text that is not one of an enum's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {what}; expected one of: {expected}")]
pub struct UnknownName {
    /// What kind of name was expected.
    pub what: &'static str,
    /// The text given.
    pub value: String,
    /// The accepted names, comma separated.
    pub expected: String,
}

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and displayed name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownName {
                        what: $what,
                        value: s.to_owned(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }
    };
}

named_enum!(
    /// An instance's status, with the names of reference.md section 1.
    InstanceStatus, "instance status" {
        /// Created, not yet started.
        Requested => "requested",
        /// Start asked for.
        Pending => "pending",
        /// The agent is starting.
        Booting => "booting",
        /// The Setup phase runs.
        RunningSetup => "running_setup",
        /// Serving.
        Online => "online",
        /// The Setup phase failed.
        SetupFailed => "setup_failed",
        /// The agent could not be started.
        StartFailed => "start_failed",
        /// Stop asked for.
        Stopping => "stopping",
        /// The Shutdown phase runs.
        ShuttingDown => "shutting_down",
        /// Stopped.
        Stopped => "stopped",
        /// Stopping failed.
        StopFailed => "stop_failed",
        /// Being deleted.
        Terminating => "terminating",
        /// Deleted.
        Terminated => "terminated",
        /// Rebooting.
        Rebooting => "rebooting",
        /// No heartbeat within the timeout.
        ConnectionLost => "connection_lost",
        /// A registered host waiting for its agent to join.
        Registering => "registering",
        /// A registered host whose agent joined.
        Registered => "registered",
        /// An EC2 machine the server runs, stops, starts and terminates (a layer's EC2 settings).
        Ec2 => "ec2",
    }
);

named_enum!(
    /// A command's status (the per-instance part of a deployment).
    CommandStatus, "command status" {
        /// Waiting for the agent.
        Pending => "pending",
        /// The agent has it.
        Acknowledged => "acknowledged",
        /// The agent runs it.
        Running => "running",
        /// Finished with exit code 0.
        Successful => "successful",
        /// Finished otherwise.
        Failed => "failed",
        /// Not run on this instance (for example, it was not online).
        Skipped => "skipped",
        /// Replaced by a later command before it ran.
        Superseded => "superseded",
    }
);

impl CommandStatus {
    /// True once the command will not change again.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Successful | Self::Failed | Self::Skipped | Self::Superseded)
    }
}

named_enum!(
    /// A deployment's overall status.
    DeploymentStatus, "deployment status" {
        /// Some command is not finished.
        Running => "running",
        /// Every command succeeded or was skipped.
        Successful => "successful",
        /// Some command failed.
        Failed => "failed",
    }
);

named_enum!(
    /// What a deployment does.
    DeploymentKind, "deployment kind" {
        /// Deploy an app.
        Deploy => "deploy",
        /// Roll an app back.
        Rollback => "rollback",
        /// Start an app's services.
        Start => "start",
        /// Stop an app's services.
        Stop => "stop",
        /// Restart an app's services.
        Restart => "restart",
        /// Remove an app.
        Undeploy => "undeploy",
        /// The Setup lifecycle event.
        Setup => "setup",
        /// The Configure lifecycle event.
        Configure => "configure",
        /// The Shutdown lifecycle event.
        Shutdown => "shutdown",
        /// A command given by the user (`drover exec`).
        Execute => "execute",
        /// Agents download the server's binary and exec it (`drover agent upgrade`).
        AgentUpgrade => "agent_upgrade",
        /// Agents stream their service logs (`drover logs`).
        Logs => "logs",
        /// Pack the ZODB (`bin/zeopack`, or `bin/zodbpack` with RelStorage).
        ZodbPack => "zodb_pack",
        /// Back the ZODB up (`bin/backup`).
        ZodbBackup => "zodb_backup",
        /// List the ZODB's backups.
        ZodbBackups => "zodb_backups",
        /// Restore a ZODB backup: stop the clients and the ZEO server, `bin/restore`, start them.
        ZodbRestore => "zodb_restore",
    }
);

named_enum!(
    /// A layer's type: which recipes its instances run.
    LayerType, "layer type" {
        /// Runs only user hooks and the services an app declares.
        Custom => "custom",
        /// The ZEO server.
        Zeoserver => "zeoserver",
        /// ZEO clients.
        PloneInstances => "plone_instances",
        /// nginx and HAProxy in front of the clients.
        Frontend => "frontend",
        /// A Redis server, the clients' Celery broker.
        CeleryBroker => "celery_broker",
        /// The Solr instance the app's buildout defines.
        Solr => "solr",
    }
);

named_enum!(
    /// Who starts and stops an instance's host.
    Provider, "provider" {
        /// The server spawns the agent on this machine, with its own root and loopback address.
        Local => "local",
        /// An existing host whose agent joined with a join token.
        Registered => "registered",
        /// An EC2 machine the server runs, stops, starts and terminates (a layer's EC2 settings).
        Ec2 => "ec2",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in InstanceStatus::ALL {
            assert_eq!(s.as_str().parse::<InstanceStatus>(), Ok(*s));
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        for s in CommandStatus::ALL {
            assert_eq!(s.as_str().parse::<CommandStatus>(), Ok(*s));
        }
        for s in LayerType::ALL {
            assert_eq!(s.as_str().parse::<LayerType>(), Ok(*s));
        }
    }

    #[test]
    fn unknown_name_lists_the_choices() {
        let err = "cloud".parse::<Provider>().unwrap_err().to_string();
        assert_eq!(err, "\"cloud\" is not a valid provider; expected one of: local, registered, ec2");
    }

    #[test]
    fn finished_command_statuses() {
        let finished: Vec<_> = CommandStatus::ALL.iter().filter(|s| s.is_finished()).map(|s| s.as_str()).collect();
        assert_eq!(finished, ["successful", "failed", "skipped", "superseded"]);
    }
}
