//! Rows as the store returns them.

use sqlx::any::AnyValueRef;
use sqlx::error::BoxDynError;
use sqlx::{Any, Decode, FromRow, Type};

/// A flag column: both schemas keep flags as 0/1 integers (SQLite has no boolean type), read into
/// a `bool` field with `#[sqlx(try_from = "IntFlag")]`. Write flags with `i64::from(flag)`.
pub struct IntFlag(i64);

impl Type<Any> for IntFlag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <i64 as Type<Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <i64 as Type<Any>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Any> for IntFlag {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        <i64 as Decode<Any>>::decode(value).map(IntFlag)
    }
}

impl From<IntFlag> for bool {
    fn from(flag: IntFlag) -> bool {
        flag.0 != 0
    }
}

/// A stack.
#[derive(Debug, Clone, FromRow)]
pub struct StackRow {
    pub id: i64,
    pub name: String,
    pub custom_json: String,
    pub created_at: i64,
}

/// A layer.
#[derive(Debug, Clone, FromRow)]
pub struct LayerRow {
    pub id: i64,
    pub shortname: String,
    pub layer_type: String,
    pub custom_json: String,
    #[sqlx(try_from = "IntFlag")]
    pub auto_healing: bool,
    pub hooks: String,
}

/// One version of a stack's or a layer's Custom JSON.
#[derive(Debug, Clone, FromRow)]
pub struct ConfigVersionRow {
    pub scope: String,
    pub version: i64,
    pub custom_json: String,
    pub comment: Option<String>,
    pub created_at: i64,
}

/// An instance, with its layers' shortnames.
#[derive(Debug, Clone, FromRow)]
pub struct InstanceRow {
    pub id: i64,
    pub stack_id: i64,
    pub stack_name: String,
    pub hostname: String,
    pub provider: String,
    pub status: String,
    pub status_changed_at: i64,
    pub address: Option<String>,
    pub cpu_count: Option<i64>,
    pub cpu_count_override: Option<i64>,
    pub memory_bytes: Option<i64>,
    pub agent_version: Option<String>,
    pub last_heartbeat: Option<i64>,
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    pub load_1m: Option<f64>,
    pub credential_hash: Option<String>,
    pub created_at: i64,
    /// Comma-separated layer shortnames, in layer order.
    pub layer_names: Option<String>,
    /// The services the latest heartbeat reported, as JSON.
    #[sqlx(default)]
    pub services: Option<String>,
    /// `24/7`, `time` or `load`.
    pub scaling: String,
    /// For time-based instances: the weekly schedule (OpsWorks' grid, JSON).
    pub schedule: Option<String>,
    /// The machine's id at its provider (an EC2 instance id); none for local and registered
    /// instances, and for an `ec2` one not launched yet.
    #[sqlx(default)]
    pub machine_id: Option<String>,
}

impl InstanceRow {
    /// The layers' shortnames.
    pub fn layers(&self) -> Vec<String> {
        self.layer_names.as_deref().unwrap_or_default().split(',').filter(|s| !s.is_empty()).map(String::from).collect()
    }

    /// The parsed status (an unknown one reads as `stopped`, which sends it nothing).
    pub fn status(&self) -> drover_core::InstanceStatus {
        self.status.parse().unwrap_or(drover_core::InstanceStatus::Stopped)
    }
}

/// A deployment.
#[derive(Debug, Clone, FromRow)]
pub struct DeploymentRow {
    pub id: i64,
    pub stack_name: String,
    pub kind: String,
    pub status: String,
    pub comment: Option<String>,
    pub command: String,
    pub app_name: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub app_id: Option<i64>,
    pub revision: Option<String>,
    pub commit_sha: Option<String>,
}

/// A command, with its instance's hostname.
#[derive(Debug, Clone, FromRow)]
pub struct CommandRow {
    pub id: i64,
    pub deployment_id: i64,
    pub instance_id: i64,
    pub hostname: String,
    pub status: String,
    pub spec: String,
    pub exit_code: Option<i64>,
    pub reason: Option<String>,
    pub log_bytes: i64,
    /// The rolling batch it belongs to (0: the first, or a deployment without batches).
    pub batch: i64,
    pub created_at: i64,
    pub acknowledged_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}
