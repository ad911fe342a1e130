//! Events: what the server decided on its own (an instance lost, healed, given up on), with the
//! reason, per stack.

use sqlx::FromRow;

use super::Store;
use crate::time::now_ms;

/// One event.
#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub instance: Option<String>,
    pub layer: Option<String>,
    pub message: String,
}

/// An event to record.
#[derive(Debug, Clone, Copy)]
pub struct NewEvent<'a> {
    pub stack_id: i64,
    pub kind: &'a str,
    pub instance: Option<&'a str>,
    pub layer: Option<&'a str>,
    pub message: &'a str,
}

impl Store {
    /// Records an event now; its id.
    pub async fn record_event(&self, event: &NewEvent<'_>) -> Result<i64, sqlx::Error> {
        let row: (i64,) = sqlx::query_as(
            "INSERT INTO events (stack_id, at, kind, instance, layer, message) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(event.stack_id)
        .bind(now_ms())
        .bind(event.kind)
        .bind(event.instance)
        .bind(event.layer)
        .bind(event.message)
        .fetch_one(self.writer())
        .await?;
        Ok(row.0)
    }

    /// A stack's events after `after_id`, oldest first, at most `limit`; with `after_id` none, the
    /// newest `limit` (still oldest first).
    pub async fn events(&self, stack_id: i64, after_id: Option<i64>, limit: i64) -> Result<Vec<EventRow>, sqlx::Error> {
        match after_id {
            Some(after) => {
                sqlx::query_as("SELECT id, at, kind, instance, layer, message FROM events WHERE stack_id = $1 AND id > $2 ORDER BY id LIMIT $3")
                    .bind(stack_id)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
            }
            None => {
                let mut rows: Vec<EventRow> =
                    sqlx::query_as("SELECT id, at, kind, instance, layer, message FROM events WHERE stack_id = $1 ORDER BY id DESC LIMIT $2")
                        .bind(stack_id)
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?;
                rows.reverse();
                Ok(rows)
            }
        }
    }
    /// When an instance's events of `kind` happened, since `since_ms`, oldest first.
    pub async fn event_times(
        &self,
        stack_id: i64,
        instance: &str,
        kind: &str,
        since_ms: i64,
    ) -> Result<Vec<i64>, sqlx::Error> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT at FROM events WHERE stack_id = $1 AND instance = $2 AND kind = $3 AND at >= $4 ORDER BY id",
        )
        .bind(stack_id)
        .bind(instance)
        .bind(kind)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(at,)| at).collect())
    }
}
