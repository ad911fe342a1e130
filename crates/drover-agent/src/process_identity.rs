//! Reads a process's identity from `/proc` (core `process` decides what it means).

use std::sync::OnceLock;

use drover_core::process::{PidNow, ProcessIdentity};

/// This boot's id (it cannot change while the agent runs).
pub fn boot_id() -> &'static str {
    static BOOT_ID: OnceLock<String> = OnceLock::new();
    BOOT_ID.get_or_init(|| std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default())
}

/// What process `pid` is now; `None` when there is none (or only a zombie).
pub fn read(pid: i32) -> Option<ProcessIdentity> {
    if pid <= 0 {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    ProcessIdentity::from_proc(boot_id(), &stat, &cmdline)
}

/// The identity of a process just spawned. The parent learns that `exec` succeeded a moment
/// before the kernel has set the new program's arguments, so an empty cmdline is read again
/// (for up to about 200 ms) rather than taken for a zombie.
pub fn read_after_spawn(pid: i32) -> Option<ProcessIdentity> {
    for _ in 0..40 {
        if let Some(identity) = read(pid) {
            return Some(identity);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    None
}

/// What the process recorded as `recorded` is now.
pub fn judge(pid: i32, recorded: &ProcessIdentity) -> PidNow {
    recorded.judge(read(pid).as_ref())
}

#[cfg(test)]
mod tests {
    #[test]
    fn knows_itself() {
        let me = super::read(std::process::id() as i32).unwrap();
        assert!(!me.boot_id.is_empty() && me.start_ticks > 0 && !me.cmdline.is_empty());
        assert_eq!(super::judge(std::process::id() as i32, &me), drover_core::process::PidNow::Ours);
    }
}
