//! Who a pid belongs to: the identity of a process recorded when it was spawned, and the rule
//! that tells it from a stranger that got the same pid later (after a reboot, or after the
//! process died and the pid was reused).
//!
//! A pid alone proves nothing. Within one boot, a pid and its start time (field 22 of
//! `/proc/<pid>/stat`, clock ticks since boot) name one process; the boot id
//! (`/proc/sys/kernel/random/boot_id`) tells boots apart. The cmdline is recorded to say what
//! a stranger runs, but not compared: programs rewrite it while they run (nginx shows
//! "nginx: master process …", Celery sets its title) and re-execute themselves with other
//! arguments (HAProxy's master on reload), keeping their pid and start time.

use serde::{Deserialize, Serialize};

/// What a process was when it was spawned (or what a pid is now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessIdentity {
    /// The kernel's boot id when the process was seen.
    pub boot_id: String,
    /// Its start time, clock ticks after boot.
    pub start_ticks: u64,
    /// Its command line.
    pub cmdline: Vec<String>,
}

/// What a recorded pid is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PidNow {
    /// The very process that was recorded: it may be watched and signalled.
    Ours,
    /// No process has that pid any more (or only a zombie).
    Gone,
    /// Another process has the pid: never signal it. Says what differs.
    Stranger(String),
}

impl ProcessIdentity {
    /// Reads an identity from the text of `/proc/sys/kernel/random/boot_id`, `/proc/<pid>/stat`
    /// and the bytes of `/proc/<pid>/cmdline`. `None` for a zombie (empty cmdline, state `Z`)
    /// or unreadable text.
    pub fn from_proc(boot_id: &str, stat: &str, cmdline: &[u8]) -> Option<Self> {
        let fields = stat_fields(stat)?;
        if fields.first() == Some(&"Z") {
            return None;
        }
        let start_ticks = fields.get(19)?.parse().ok()?;
        let cmdline: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if cmdline.is_empty() {
            return None;
        }
        Some(Self { boot_id: boot_id.trim().to_owned(), start_ticks, cmdline })
    }

    /// What the process with this identity's pid is now (`now`: its identity read now, `None`
    /// when no live process has the pid).
    pub fn judge(&self, now: Option<&ProcessIdentity>) -> PidNow {
        let Some(now) = now else { return PidNow::Gone };
        if now.boot_id != self.boot_id {
            return PidNow::Stranger(format!("the machine rebooted (boot id {} was {})", now.boot_id, self.boot_id));
        }
        if now.start_ticks != self.start_ticks {
            return PidNow::Stranger(format!(
                "it started at tick {} and runs {:?}; the recorded one started at tick {} and ran {:?}",
                now.start_ticks,
                now.cmdline.join(" "),
                self.start_ticks,
                self.cmdline.join(" ")
            ));
        }
        PidNow::Ours
    }
}

/// The fields of `/proc/<pid>/stat` after the command name (which may hold spaces and
/// parentheses), so index 0 is field 3 (the state) and field N is index N − 3.
pub fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    Some(rest.split_whitespace().collect())
}

/// The process group (field 5) and start time (field 22) in `/proc/<pid>/stat`.
pub fn group_and_start(stat: &str) -> Option<(i32, u64)> {
    let fields = stat_fields(stat)?;
    Some((fields.get(2)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

/// User plus system CPU time (fields 14 and 15 of `/proc/<pid>/stat`), in clock ticks.
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    let fields = stat_fields(stat)?;
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// The resident set size in bytes, from `/proc/<pid>/status` (its `VmRSS:` line, in kB).
pub fn rss_bytes(status: &str) -> Option<u64> {
    let kib = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().strip_suffix("kB")?.trim();
    Some(kib.parse::<u64>().ok()? * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_and_memory_are_read_from_proc() {
        assert_eq!(cpu_ticks(STAT), Some(7));
        assert_eq!(cpu_ticks("4242 (x"), None);
        let cases = [
            ("Name:\tdrover\nVmRSS:\t  2048 kB\nThreads: 3\n", Some(2048 * 1024)),
            ("Name:\tdrover\n", None),
            ("VmRSS:\t lots kB\n", None),
        ];
        for (status, want) in cases {
            assert_eq!(rss_bytes(status), want, "{status:?}");
        }
    }

    const STAT: &str = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 300 0 0 0 5 2 0 0 20 0 1 0 987654 1000000 200 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";

    fn id(boot: &str, ticks: u64, cmd: &[&str]) -> ProcessIdentity {
        ProcessIdentity {
            boot_id: boot.into(),
            start_ticks: ticks,
            cmdline: cmd.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn reads_stat_and_cmdline() {
        let got = ProcessIdentity::from_proc("abc\n", STAT, b"/usr/sbin/haproxy\0-W\0-f\0x.cfg\0").unwrap();
        assert_eq!(got, id("abc", 987654, &["/usr/sbin/haproxy", "-W", "-f", "x.cfg"]));
        assert_eq!(group_and_start(STAT), Some((4242, 987654)));
    }

    #[test]
    fn zombies_and_garbage_have_no_identity() {
        let zombie = STAT.replace(") S ", ") Z ");
        let cases: [(&str, &[u8]); 4] =
            [(&zombie, b"x\0"), (STAT, b""), ("garbage", b"x\0"), ("1 (short) S 1 2", b"x\0")];
        for (stat, cmdline) in cases {
            assert_eq!(ProcessIdentity::from_proc("b", stat, cmdline), None, "{stat:?} {cmdline:?}");
        }
    }

    #[test]
    fn judges_a_pid() {
        let recorded = id("boot1", 100, &["/usr/bin/python3", "bin/instance", "fg"]);
        let cases = [
            (None, "gone"),
            (Some(id("boot1", 100, &["/usr/bin/python3", "bin/instance", "fg"])), "ours"),
            // A program that re-executed itself with other arguments is still ours.
            (Some(id("boot1", 100, &["/usr/bin/python3", "-c", "x"])), "ours"),
            // Regression: nginx rewrites its cmdline ("nginx: master process …"); it was taken
            // for a stranger, so the supervisor started a second nginx beside it.
            (Some(id("boot1", 100, &["nginx: master process /usr/sbin/nginx -c x"])), "ours"),
            // After a reboot the same pid and even the same tick belong to another process.
            (Some(id("boot2", 100, &["/usr/bin/python3", "bin/instance", "fg"])), "stranger"),
            (Some(id("boot1", 101, &["/usr/bin/python3", "bin/instance", "fg"])), "stranger"),
            (Some(id("boot1", 101, &["sleep", "300"])), "stranger"),
        ];
        for (now, want) in cases {
            let got = match recorded.judge(now.as_ref()) {
                PidNow::Ours => "ours",
                PidNow::Gone => "gone",
                PidNow::Stranger(why) => {
                    assert!(!why.is_empty());
                    "stranger"
                }
            };
            assert_eq!(got, want, "{now:?}");
        }
    }
}
