//! Which instances a deployment runs on.
//!
//! With no filter: every online instance of the stack. With `--layer` and `--instance` filters:
//! the union of the named layers' online instances and the named instances. A named instance
//! that is not online is listed as skipped (so the user sees why it did not run); an instance
//! that is only reached through a layer and is not online is left out, as in the original.

use crate::lifecycle::accepts_commands;
use crate::status::InstanceStatus;

/// An instance as the targeting decision sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// Its hostname.
    pub hostname: &'a str,
    /// The shortnames of its layers.
    pub layers: &'a [String],
    /// Its status.
    pub status: InstanceStatus,
}

/// What happens on one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// The command is sent to the instance.
    Run,
    /// The command is recorded as skipped, with the reason.
    Skip(String),
}

/// One instance's part of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The instance's hostname.
    pub hostname: String,
    /// Run or skip.
    pub plan: Plan,
}

/// Why no deployment could be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// A layer filter names no layer of the stack.
    #[error("layer {name:?} does not exist in this stack; `drover layer list --stack STACK` shows its layers")]
    UnknownLayer {
        /// Field path of the bad entry, e.g. `layers[1]`.
        field: String,
        /// The name given.
        name: String,
    },
    /// An instance filter names no instance of the stack.
    #[error("instance {name:?} does not exist in this stack; `drover instance list --stack STACK` shows its instances")]
    UnknownInstance {
        /// Field path of the bad entry, e.g. `instances[0]`.
        field: String,
        /// The name given.
        name: String,
    },
    /// Nothing would run.
    #[error("no online instance matches; start an instance or change the --layer/--instance filters")]
    NothingToRun,
}

impl TargetError {
    /// The request field the error is about.
    pub fn field(&self) -> &str {
        match self {
            Self::UnknownLayer { field, .. } | Self::UnknownInstance { field, .. } => field,
            Self::NothingToRun => "instances",
        }
    }
}

/// Plans a deployment over `candidates` (the stack's instances) given the stack's layer names
/// and the user's filters.
pub fn select_targets(
    candidates: &[Candidate<'_>],
    stack_layers: &[String],
    layer_filter: &[String],
    instance_filter: &[String],
) -> Result<Vec<Target>, TargetError> {
    for (i, name) in layer_filter.iter().enumerate() {
        if !stack_layers.contains(name) {
            return Err(TargetError::UnknownLayer { field: format!("layers[{i}]"), name: name.clone() });
        }
    }
    for (i, name) in instance_filter.iter().enumerate() {
        if !candidates.iter().any(|c| c.hostname == name) {
            return Err(TargetError::UnknownInstance { field: format!("instances[{i}]"), name: name.clone() });
        }
    }
    let unfiltered = layer_filter.is_empty() && instance_filter.is_empty();
    let targets: Vec<Target> = candidates
        .iter()
        .filter_map(|c| {
            let named = instance_filter.iter().any(|n| n == c.hostname);
            let by_layer = unfiltered || c.layers.iter().any(|l| layer_filter.contains(l));
            let online = accepts_commands(c.status);
            let plan = match (online, named, by_layer) {
                (true, true, _) | (true, _, true) => Plan::Run,
                (false, true, _) => Plan::Skip(format!("instance is {}, not online", c.status)),
                _ => return None,
            };
            Some(Target { hostname: c.hostname.to_owned(), plan })
        })
        .collect();
    if targets.iter().any(|t| t.plan == Plan::Run) { Ok(targets) } else { Err(TargetError::NothingToRun) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InstanceStatus::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn selects_targets() {
        let web = s(&["web"]);
        let db = s(&["db"]);
        let both = s(&["web", "db"]);
        let candidates = [
            Candidate { hostname: "web1", layers: &web, status: Online },
            Candidate { hostname: "web2", layers: &web, status: Stopped },
            Candidate { hostname: "db1", layers: &db, status: Online },
            Candidate { hostname: "all1", layers: &both, status: Online },
        ];
        let layers = s(&["web", "db", "empty"]);
        let run = |h: &str| Target { hostname: h.into(), plan: Plan::Run };
        let skip = |h: &str, why: &str| Target { hostname: h.into(), plan: Plan::Skip(why.into()) };
        type Case<'a> = (&'a [&'a str], &'a [&'a str], Result<Vec<Target>, TargetError>);
        let cases: Vec<Case> = vec![
            (&[], &[], Ok(vec![run("web1"), run("db1"), run("all1")])),
            (&["web"], &[], Ok(vec![run("web1"), run("all1")])),
            (&["db"], &["web1"], Ok(vec![run("web1"), run("db1"), run("all1")])),
            (&[], &["web2", "db1"], Ok(vec![skip("web2", "instance is stopped, not online"), run("db1")])),
            (&[], &["web2"], Err(TargetError::NothingToRun)),
            (&["empty"], &[], Err(TargetError::NothingToRun)),
            (&["web", "nope"], &[], Err(TargetError::UnknownLayer { field: "layers[1]".into(), name: "nope".into() })),
            (&[], &["web9"], Err(TargetError::UnknownInstance { field: "instances[0]".into(), name: "web9".into() })),
        ];
        for (lf, inf, want) in cases {
            assert_eq!(select_targets(&candidates, &layers, &s(lf), &s(inf)), want, "layers {lf:?} instances {inf:?}");
        }
    }
}
