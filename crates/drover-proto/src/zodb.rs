//! ZODB jobs: `POST /stacks/{stack}/zodb/{job}` (`pack`, `backup`, `backups`, `restore`) runs one
//! now as a deployment; `drover zodb backups` reads the listing's log into [`BackupList`].

use serde::{Deserialize, Serialize};

/// What to run; everything may be left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunZodbJob {
    /// For `restore`: the backup's name (`YYYY-MM-DD-HH-MM-SS`, as `drover zodb backups` lists
    /// it); the newest without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
    /// A note for the history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Kill the script after this many seconds (default 6 hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

/// The backups `drover zodb backups --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupList {
    /// The instance that holds them (the ZEO server's).
    pub instance: String,
    /// The deployment that listed them.
    pub deployment_id: i64,
    /// The restorable backups, oldest first.
    pub backups: Vec<drover_core::zodb::backups::Backup>,
    /// Every file in the backup directories.
    pub files: Vec<drover_core::zodb::backups::BackupFile>,
}
