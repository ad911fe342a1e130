//! Layer hooks: the user's shell command for a lifecycle event, run in the current release of
//! the layer's app (or the agent's root when none is deployed), with the stack configuration's
//! path in `DROVER_STACK_CONFIG`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use drover_proto::agent::Hook;

use crate::app::paths::AppPaths;
use crate::app::steps::{Step, run_for};
use crate::lifecycle::stack_config_path;
use crate::output::OutputStream;

/// How long one hook may run when its command sets no timeout.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs hooks in order, each for at most `limit` (its whole process group is killed then);
/// stops at the first that fails.
pub async fn run_hooks(
    root: &Path,
    hooks: &[Hook],
    env: &BTreeMap<String, String>,
    limit: Duration,
    out: &OutputStream,
) -> Result<(), String> {
    for hook in hooks {
        let app_dir = hook.app.as_deref().map(|a| AppPaths::new(root, a).current()).filter(|p| p.is_dir());
        let cwd = app_dir.clone().unwrap_or_else(|| root.to_path_buf());
        let mut vars = env.clone();
        vars.insert("DROVER_STACK_CONFIG".into(), stack_config_path(root).to_string_lossy().into_owned());
        vars.insert("DROVER_EVENT".into(), hook.event.clone());
        vars.insert("DROVER_LAYER".into(), hook.layer.clone());
        vars.insert("DROVER_ROOT".into(), root.to_string_lossy().into_owned());
        if let Some(app) = &hook.app {
            vars.insert("DROVER_APP".into(), app.clone());
        }
        if let Some(dir) = &app_dir {
            vars.insert("DROVER_RELEASE_DIR".into(), dir.to_string_lossy().into_owned());
        }
        let step = Step {
            shown: format!(
                "sh -c {:?}  (layer {} {} hook, in {})",
                hook.command,
                hook.layer,
                hook.event,
                cwd.display()
            ),
            program: "sh",
            args: vec!["-c".into(), hook.command.clone()],
            cwd: &cwd,
            env: &vars,
        };
        run_for(step, limit, out)
            .await
            .map_err(|e| format!("the {} hook of layer {} failed: {e}", hook.event, hook.layer))?;
    }
    Ok(())
}
