//! The audit trail: one row per change, deployment or refusal.

use sqlx::FromRow;

use super::Store;

/// One audited request.
#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub peer: Option<String>,
    pub stack: Option<String>,
    pub action: String,
    pub status: i64,
    pub outcome: String,
}

/// What to list.
#[derive(Debug, Default)]
pub struct AuditFilter<'a> {
    pub stack: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub since_ms: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Records one entry (its `id` is ignored).
    pub async fn record_audit(&self, entry: &AuditRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO audit (at, actor, peer, stack, action, status, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(&entry.peer)
        .bind(&entry.stack)
        .bind(&entry.action)
        .bind(entry.status)
        .bind(&entry.outcome)
        .execute(self.writer())
        .await
        .map(|_| ())
    }

    /// Entries, newest first.
    pub async fn audit(&self, filter: &AuditFilter<'_>) -> Result<Vec<AuditRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT * FROM audit WHERE ($1 IS NULL OR stack = $2) AND ($3 IS NULL OR actor = $4) AND at >= $5 \
             ORDER BY id DESC LIMIT $6",
        )
        .bind(filter.stack)
        .bind(filter.stack)
        .bind(filter.actor)
        .bind(filter.actor)
        .bind(filter.since_ms.unwrap_or(0))
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await
    }
}
