//! Built-in recipes of the lifecycle events. Setup lays out the instance's directories; every
//! event writes the stack configuration it delivers to `<root>/var/lib/drover/stack-config.json`
//! for hooks and templates. Later layers add their own recipes here.

use std::path::Path;

use drover_proto::agent::LifecycleEvent;
use serde_json::Value;

use crate::output::OutputStream;

/// Runs an event's recipes. Returns `Err` with the reason when a step fails.
pub fn run_event(root: &Path, event: LifecycleEvent, stack_config: &Value, out: &OutputStream) -> Result<(), String> {
    out.push(&format!("running the {event} event\n"));
    match event {
        LifecycleEvent::Setup => {
            for dir in ["srv/www", "var/lib/drover", "var/log/drover", "etc/drover"] {
                let path = root.join(dir);
                std::fs::create_dir_all(&path).map_err(|e| format!("failed to create {}: {e}", path.display()))?;
                out.push(&format!("ensured directory {}\n", path.display()));
            }
        }
        LifecycleEvent::Configure | LifecycleEvent::Shutdown => {}
    }
    write_stack_config(root, stack_config, out)
}

/// Where the latest stack configuration is kept for hooks and templates.
pub fn stack_config_path(root: &Path) -> std::path::PathBuf {
    root.join("var/lib/drover/stack-config.json")
}

/// Writes the stack configuration (readable by the agent's user only: it may hold secrets).
pub fn write_stack_config(root: &Path, stack_config: &Value, out: &OutputStream) -> Result<(), String> {
    let path = stack_config_path(root);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("failed to create {}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(stack_config)
        .map_err(|e| format!("failed to serialise the stack configuration: {e}"))?;
    crate::private_file::write_private(&path, text.as_bytes())
        .map_err(|e| format!("failed to write {}: {e}", path.display()))?;
    out.push(&format!("wrote the stack configuration to {}\n", path.display()));
    Ok(())
}
