//! Layer hooks: a shell command per lifecycle event, checked before it is stored.

use std::collections::BTreeMap;

/// The events a hook can be attached to.
pub const HOOK_EVENTS: [&str; 5] = ["setup", "configure", "deploy", "undeploy", "shutdown"];

/// The longest hook command.
pub const MAX_HOOK_LEN: usize = 4096;

/// A hook that cannot be stored: the field (`hooks.<event>`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct HookError {
    /// `hooks.<event>`.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// Checks hooks: known events, non-empty commands of sane length without NUL bytes.
pub fn check_hooks(hooks: &BTreeMap<String, String>) -> Result<(), HookError> {
    for (event, command) in hooks {
        let field = format!("hooks.{event}");
        let fail = |message: String| Err(HookError { field: field.clone(), message });
        if !HOOK_EVENTS.contains(&event.as_str()) {
            return fail(format!("{event:?} is not a lifecycle event; use one of {}", HOOK_EVENTS.join(", ")));
        }
        if command.trim().is_empty() {
            return fail("the command is empty; give a shell command, e.g. \"scripts/configure.sh\"".into());
        }
        if command.len() > MAX_HOOK_LEN {
            return fail(format!("the command is {} bytes; the limit is {MAX_HOOK_LEN}", command.len()));
        }
        if command.contains('\0') {
            return fail("the command contains a NUL byte".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>);
        let cases: [Case; 5] = [
            (&[("configure", "scripts/configure.sh"), ("setup", "echo hi")], None),
            (&[], None),
            (&[("boot", "x")], Some("hooks.boot")),
            (&[("deploy", "  ")], Some("hooks.deploy")),
            (&[("shutdown", "a\0b")], Some("hooks.shutdown")),
        ];
        for (hooks, want) in cases {
            let map: BTreeMap<String, String> = hooks.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            assert_eq!(check_hooks(&map).err().map(|e| e.field), want.map(String::from), "{hooks:?}");
        }
    }
}
