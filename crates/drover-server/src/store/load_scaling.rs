//! Layers' load-based scaling: the rule as JSON (`enabled` and core's `LoadRule`) and when the
//! layer last acted by it.

use drover_core::scaling::LoadRule;
use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use super::Store;

/// A layer's stored load-based scaling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadScaling {
    /// Whether the rule starts and stops the layer's load-based instances.
    pub enabled: bool,
    /// The rule.
    pub rule: LoadRule,
}

/// A layer with its load-based scaling columns.
#[derive(Debug, Clone, FromRow)]
pub struct LoadScalingRow {
    pub layer_id: i64,
    pub stack_id: i64,
    pub shortname: String,
    /// [`LoadScaling`] as JSON; none until it is first set.
    pub load_scaling: Option<String>,
    /// When the rule last started or stopped instances (Unix ms).
    pub acted_at: Option<i64>,
}

impl LoadScalingRow {
    /// The stored scaling (none when never set, or unreadable, which the server treats as off).
    pub fn scaling(&self) -> Option<LoadScaling> {
        self.load_scaling.as_deref().and_then(|raw| serde_json::from_str(raw).ok())
    }
}

const SELECT: &str = "SELECT l.id AS layer_id, l.stack_id, l.shortname, l.load_scaling, \
     l.load_scaling_acted_at AS acted_at FROM layers l";

impl Store {
    /// A layer's load-based scaling.
    pub async fn layer_load_scaling(&self, layer_id: i64) -> Result<Option<LoadScalingRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE l.id = $1")))
            .bind(layer_id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Every layer that has a load-based rule (enabled or not), in every stack.
    pub async fn layers_with_load_scaling(&self) -> Result<Vec<LoadScalingRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE l.load_scaling IS NOT NULL ORDER BY l.id")))
            .fetch_all(&self.pool)
            .await
    }

    /// Sets a layer's load-based scaling.
    pub async fn set_layer_load_scaling(&self, layer_id: i64, scaling: &LoadScaling) -> Result<(), sqlx::Error> {
        let json = serde_json::to_string(scaling).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        sqlx::query("UPDATE layers SET load_scaling = $1 WHERE id = $2")
            .bind(json)
            .bind(layer_id)
            .execute(self.writer())
            .await
            .map(|_| ())
    }

    /// Records that a layer's rule started or stopped instances at `at_ms`.
    pub async fn set_load_scaling_acted_at(&self, layer_id: i64, at_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE layers SET load_scaling_acted_at = $1 WHERE id = $2")
            .bind(at_ms)
            .bind(layer_id)
            .execute(self.writer())
            .await
            .map(|_| ())
    }

    /// Every instance's id and creation time (to forget the metrics of deleted ones).
    pub async fn instance_ids(&self) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        sqlx::query_as("SELECT id, created_at FROM instances").fetch_all(&self.pool).await
    }
}
