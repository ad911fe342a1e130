//! Built-in recipes of the lifecycle events. Setup lays out the instance's directories; every
//! event writes the stack configuration it delivers to `<root>/var/lib/drover/stack-config.json`
//! for hooks and templates. Later layers add their own recipes here.

use std::path::Path;

use serde_json::Value;

use crate::output::OutputStream;

/// Runs an event's recipes. Returns `Err` with the reason when a step fails.
pub fn run_event(root: &Path, event: &str, stack_config: &Value, out: &OutputStream) -> Result<(), String> {
    out.push(&format!("running the {event} event\n"));
    match event {
        "setup" => {
            for dir in ["srv/www", "var/lib/drover", "var/log/drover", "etc/drover"] {
                let path = root.join(dir);
                std::fs::create_dir_all(&path).map_err(|e| format!("failed to create {}: {e}", path.display()))?;
                out.push(&format!("ensured directory {}\n", path.display()));
            }
        }
        "configure" | "shutdown" => {}
        other => return Err(format!("unknown lifecycle event {other:?}; this agent may be older than the server")),
    }
    let path = root.join("var/lib/drover/stack-config.json");
    let text = serde_json::to_string_pretty(stack_config).unwrap_or_default();
    std::fs::write(&path, text).map_err(|e| format!("failed to write {}: {e}", path.display()))?;
    out.push(&format!("wrote the stack configuration to {}\n", path.display()));
    Ok(())
}
