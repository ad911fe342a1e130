//! The ZODB jobs the server runs on a stack's ZEO server (or, with RelStorage, on one client
//! instance): their settings from the effective attributes, whether a scheduled one is due, and
//! the command the agent runs for each.
//!
//! Schedules are the cookbook's example buildout's crontab lines, as attributes:
//! `plone_zeoserver.pack_schedule` ("0 1 * * 7", its `packcronjob`), `plone_zeoserver.backup_schedule`
//! ("0 21 * * *", its `backupcronjob`) and `plone_instances.relstorage.pack_schedule` ("0 21 * * *",
//! its `zodbpack`).

use serde_json::Value;

use super::cron::Cron;
use crate::DeploymentKind;

/// The default weekly pack: Sunday 01:00 UTC.
pub const DEFAULT_PACK_SCHEDULE: &str = "0 1 * * 7";
/// The default daily backup: 21:00 UTC.
pub const DEFAULT_BACKUP_SCHEDULE: &str = "0 21 * * *";
/// The default daily RelStorage pack: 21:00 UTC.
pub const DEFAULT_RELSTORAGE_PACK_SCHEDULE: &str = "0 21 * * *";

/// A job that runs on a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// `bin/zeopack` (or `bin/zodbpack` with RelStorage).
    Pack,
    /// `bin/backup`.
    Backup,
}

impl Job {
    /// Both, in the order they are checked.
    pub const ALL: [Job; 2] = [Job::Pack, Job::Backup];

    /// Its name in the schedule's records.
    pub fn as_str(self) -> &'static str {
        match self {
            Job::Pack => "pack",
            Job::Backup => "backup",
        }
    }

    /// The deployment kind that runs it.
    pub fn kind(self) -> DeploymentKind {
        match self {
            Job::Pack => DeploymentKind::ZodbPack,
            Job::Backup => DeploymentKind::ZodbBackup,
        }
    }
}

/// Where the ZODB is and which jobs are on, from an instance's effective attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// RelStorage (`plone_instances.enable_relstorage`): packs run `zodbpack` on a client.
    pub relstorage: bool,
    /// The days of history a RelStorage pack keeps (`relstorage.pack_days`).
    pub pack_days: u64,
    /// The pack's schedule, when packing is on.
    pub pack: Option<Cron>,
    /// The backup's schedule, when backups are on (never with RelStorage).
    pub backup: Option<Cron>,
}

fn schedule(attrs: &Value, enabled: &str, schedule: &str, default: &str) -> Result<Option<Cron>, String> {
    if attrs.pointer(enabled).and_then(Value::as_bool) != Some(true) {
        return Ok(None);
    }
    let text = attrs.pointer(schedule).and_then(Value::as_str).unwrap_or(default);
    let field = schedule.trim_start_matches('/').replace('/', ".");
    Cron::parse(text).map(Some).map_err(|e| format!("{field}: {e}"))
}

impl Settings {
    /// Reads the settings; the error names the attribute whose schedule is wrong.
    pub fn of(attrs: &Value) -> Result<Self, String> {
        let relstorage = attrs.pointer("/plone_instances/enable_relstorage").and_then(Value::as_bool) == Some(true);
        if relstorage {
            return Ok(Self {
                relstorage,
                pack_days: attrs.pointer("/plone_instances/relstorage/pack_days").and_then(Value::as_u64).unwrap_or(7),
                pack: schedule(
                    attrs,
                    "/plone_instances/relstorage/enable_pack",
                    "/plone_instances/relstorage/pack_schedule",
                    DEFAULT_RELSTORAGE_PACK_SCHEDULE,
                )?,
                backup: None,
            });
        }
        Ok(Self {
            relstorage,
            pack_days: 0,
            pack: schedule(
                attrs,
                "/plone_zeoserver/enable_pack",
                "/plone_zeoserver/pack_schedule",
                DEFAULT_PACK_SCHEDULE,
            )?,
            backup: schedule(
                attrs,
                "/plone_zeoserver/enable_backup",
                "/plone_zeoserver/backup_schedule",
                DEFAULT_BACKUP_SCHEDULE,
            )?,
        })
    }

    /// The schedule of a job, when it is on.
    pub fn schedule(&self, job: Job) -> Option<&Cron> {
        match job {
            Job::Pack => self.pack.as_ref(),
            Job::Backup => self.backup.as_ref(),
        }
    }
}

/// What the scheduler does about one job of one stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Run it, and remember `slot` (the scheduled minute, Unix seconds) as done.
    Run {
        /// The scheduled minute this run stands for.
        slot: i64,
    },
    /// First sight of the schedule: remember `slot` without running (runs start from now).
    Remember {
        /// The latest scheduled minute so far.
        slot: i64,
    },
    /// Nothing to do.
    Hold,
}

/// Whether a job is due at `now`: a scheduled minute later than the last one run. Missed
/// minutes (the server was down) make one run, not one each. While another ZODB job of the
/// stack runs (`busy`), nothing is decided, so the run comes once it ends.
pub fn due(cron: &Cron, last_slot: Option<i64>, busy: bool, now: i64) -> Due {
    let Some(slot) = cron.previous(now) else { return Due::Hold };
    match last_slot {
        None => Due::Remember { slot },
        Some(last) if slot > last && !busy => Due::Run { slot },
        Some(_) => Due::Hold,
    }
}

/// What a ZODB deployment does on its instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `bin/zeopack`.
    Pack,
    /// `bin/zodbpack -d DAYS` (RelStorage).
    RelstoragePack {
        /// Days of history kept.
        days: u64,
    },
    /// `bin/backup`.
    Backup,
    /// List the backup directories' files.
    List,
    /// `bin/restore --no-prompt [BACKUP]` (the ZEO server is stopped meanwhile).
    Restore {
        /// The backup's time stamp (`2026-12-01-18-59-00`); the newest without one.
        backup: Option<String>,
    },
}

/// The backup directories collective.recipe.backup makes in the buildout's `var` (shared).
pub const BACKUP_DIRS: [&str; 4] = ["backups", "snapshotbackups", "blobstoragebackups", "blobstoragesnapshots"];

/// The program the agent runs (in its root) for `op` on `app`: a shell script that enters the
/// app's current release (or its shared `var`), with the app and the argument as positional
/// parameters, never spliced into the script.
pub fn argv(op: &Op, app: &str) -> Vec<String> {
    let current =
        r#"cd "srv/www/$1/current" || { echo "the app $1 has no current release here: deploy it first" >&2; exit 2; }"#;
    let (script, arg) = match op {
        Op::Pack => (format!("{current}; exec bin/zeopack"), None),
        Op::RelstoragePack { days } => (format!(r#"{current}; exec bin/zodbpack -d "$2""#), Some(days.to_string())),
        Op::Backup => (format!("{current}; exec bin/backup"), None),
        Op::Restore { backup: None } => (format!("{current}; exec bin/restore --no-prompt"), None),
        Op::Restore { backup: Some(b) } => {
            (format!(r#"{current}; exec bin/restore --no-prompt "$2""#), Some(b.clone()))
        }
        Op::List => (
            format!(
                r#"cd "srv/www/$1/shared/var" || exit 0; for d in {}; do [ -d "$d" ] && find "$d" -mindepth 1 -maxdepth 1 -printf '%p\t%s\t%T@\n'; done; exit 0"#,
                BACKUP_DIRS.join(" ")
            ),
            None,
        ),
    };
    let mut argv = vec!["/bin/sh".to_owned(), "-c".to_owned(), script, "sh".to_owned(), app.to_owned()];
    argv.extend(arg);
    argv
}

/// Whether `text` is a backup's name as `drover zodb restore` takes it: repozo's time stamp
/// `YYYY-MM-DD-HH-MM-SS`.
pub fn is_backup_name(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 6
        && parts
            .iter()
            .enumerate()
            .all(|(i, p)| p.len() == if i == 0 { 4 } else { 2 } && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MONDAY: i64 = 1_795_996_800;
    const H: i64 = 3600;
    const D: i64 = 86_400;

    #[test]
    fn a_job_is_due_once_per_scheduled_minute_and_once_after_missed_ones() {
        let weekly = Cron::parse(DEFAULT_PACK_SCHEDULE).unwrap();
        let sunday = MONDAY - D + H; // the Sunday 01:00 before
        let cases: &[(Option<i64>, bool, i64, Due)] = &[
            (None, false, MONDAY, Due::Remember { slot: sunday }),
            (Some(sunday), false, MONDAY, Due::Hold),
            (Some(sunday), false, MONDAY + 6 * D + H - 1, Due::Hold),
            (Some(sunday), false, MONDAY + 6 * D + H, Due::Run { slot: sunday + 7 * D }),
            // Three weeks missed: one run, for the latest.
            (Some(sunday - 21 * D), false, MONDAY, Due::Run { slot: sunday }),
            // Another ZODB job runs: wait for it.
            (Some(sunday - 7 * D), true, MONDAY, Due::Hold),
        ];
        for (last, busy, now, want) in cases {
            assert_eq!(due(&weekly, *last, *busy, *now), *want, "{last:?} {busy} {now}");
        }
    }

    #[test]
    fn settings_follow_the_attributes() {
        let zeo = Settings::of(&json!({"plone_zeoserver": {"enable_pack": true, "enable_backup": false}})).unwrap();
        assert_eq!(zeo.pack.unwrap().to_string(), "0 1 * * 7");
        assert_eq!(zeo.backup, None);
        let both = json!({"plone_zeoserver": {"enable_pack": true, "enable_backup": true,
            "pack_schedule": "*/5 * * * *", "backup_schedule": "30 2 * * *"}});
        let s = Settings::of(&both).unwrap();
        assert_eq!(
            (s.pack.unwrap().to_string(), s.backup.unwrap().to_string()),
            ("*/5 * * * *".into(), "30 2 * * *".into())
        );
        let rel = json!({"plone_zeoserver": {"enable_backup": true}, "plone_instances": {"enable_relstorage": true,
            "relstorage": {"enable_pack": true, "pack_days": 3}}});
        let s = Settings::of(&rel).unwrap();
        assert!(s.relstorage && s.backup.is_none());
        assert_eq!((s.pack.unwrap().to_string(), s.pack_days), ("0 21 * * *".into(), 3));
        let bad = json!({"plone_zeoserver": {"enable_pack": true, "pack_schedule": "weekly"}});
        let err = Settings::of(&bad).unwrap_err();
        assert!(err.starts_with("plone_zeoserver.pack_schedule: ") && err.contains("5"), "{err}");
        // A schedule of a job that is off is not read.
        assert!(Settings::of(&json!({"plone_zeoserver": {"enable_pack": false, "pack_schedule": "x"}})).is_ok());
    }

    #[test]
    fn commands_enter_the_release_and_pass_arguments_apart() {
        let cases: &[(Op, &str, &[&str])] = &[
            (Op::Pack, "exec bin/zeopack", &["site"]),
            (Op::RelstoragePack { days: 7 }, r#"exec bin/zodbpack -d "$2""#, &["site", "7"]),
            (Op::Backup, "exec bin/backup", &["site"]),
            (Op::Restore { backup: None }, "exec bin/restore --no-prompt", &["site"]),
            (
                Op::Restore { backup: Some("2026-12-01-18-59-00".into()) },
                r#"--no-prompt "$2""#,
                &["site", "2026-12-01-18-59-00"],
            ),
            (Op::List, "snapshotbackups", &["site"]),
        ];
        for (op, script, args) in cases {
            let argv = argv(op, "site");
            assert_eq!(&argv[..2], ["/bin/sh", "-c"]);
            assert!(argv[2].contains(script), "{op:?}: {}", argv[2]);
            assert_eq!(&argv[4..], *args, "{op:?}");
        }
    }

    #[test]
    fn backup_names_are_repozo_time_stamps() {
        for (text, ok) in
            [("2026-12-01-18-59-00", true), ("2026-12-01", false), ("../etc", false), ("2026-12-01-18-59-0x", false)]
        {
            assert_eq!(is_backup_name(text), ok, "{text}");
        }
    }
}
