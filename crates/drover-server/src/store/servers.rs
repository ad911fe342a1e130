//! The control plane's members (a row per server, refreshed every few seconds) and the keys every
//! server on one database shares.

use sqlx::FromRow;

use super::Store;
use super::rows::IntFlag;

/// A server as it last reported itself.
#[derive(Debug, Clone, FromRow)]
pub struct ServerRow {
    pub id: String,
    pub url: String,
    pub pid: i64,
    pub started_at: i64,
    pub seen_at: i64,
    #[sqlx(try_from = "IntFlag")]
    pub leader: bool,
    pub agents: i64,
    pub cpu_percent: f64,
    pub rss_bytes: i64,
}

impl Store {
    /// Records (or refreshes) this server's row.
    pub async fn record_server(&self, row: &ServerRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO servers (id, url, pid, started_at, seen_at, leader, agents, cpu_percent, rss_bytes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET url = excluded.url, seen_at = excluded.seen_at, \
             leader = excluded.leader, agents = excluded.agents, cpu_percent = excluded.cpu_percent, \
             rss_bytes = excluded.rss_bytes",
        )
        .bind(&row.id)
        .bind(&row.url)
        .bind(row.pid)
        .bind(row.started_at)
        .bind(row.seen_at)
        .bind(i64::from(row.leader))
        .bind(row.agents)
        .bind(row.cpu_percent)
        .bind(row.rss_bytes)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Marks `id` the leader and no other server (a dead leader's row says so until it goes).
    pub async fn claim_leadership(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE servers SET leader = CASE WHEN id = $1 THEN 1 ELSE 0 END")
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Every server row, the most recently started first.
    pub async fn servers(&self) -> Result<Vec<ServerRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM servers ORDER BY started_at DESC, id").fetch_all(&self.pool).await
    }

    /// Drops a server's row (it stopped), and the rows of servers not seen since `stale_before`.
    pub async fn forget_servers(&self, id: &str, stale_before: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM servers WHERE id = $1 OR seen_at < $2")
            .bind(id)
            .bind(stale_before)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Sends `payload` to every server listening on `channel` (PostgreSQL only).
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(payload).execute(&self.pool).await?;
        Ok(())
    }

    /// A shared key, if some server stored it.
    pub async fn control_plane_key(&self, name: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT value FROM control_plane_keys WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
    }

    /// Stores `value` under `name` unless a value is there already; the stored value either way
    /// (two servers starting together agree on the first one's).
    pub async fn share_control_plane_key(&self, name: &str, value: &str) -> Result<String, sqlx::Error> {
        sqlx::query("INSERT INTO control_plane_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(value)
            .execute(self.writer())
            .await?;
        Ok(self.control_plane_key(name).await?.unwrap_or_else(|| value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_backends::stores;

    fn row(id: &str, seen_at: i64) -> ServerRow {
        ServerRow {
            id: id.into(),
            url: format!("https://{id}"),
            pid: 1,
            started_at: 1,
            seen_at,
            leader: false,
            agents: 0,
            cpu_percent: 0.0,
            rss_bytes: 0,
        }
    }

    #[tokio::test]
    async fn rows_refresh_and_stale_ones_go() {
        for t in stores().await {
            let store = &t.store;
            store.record_server(&row("a", 10)).await.unwrap();
            store.record_server(&row("b", 10)).await.unwrap();
            store.record_server(&ServerRow { leader: true, agents: 7, ..row("a", 20) }).await.unwrap();
            let a = store.servers().await.unwrap().into_iter().find(|s| s.id == "a").unwrap();
            assert!(a.leader);
            assert_eq!((a.agents, a.seen_at), (7, 20));
            store.claim_leadership("b").await.unwrap();
            let leaders: Vec<String> =
                store.servers().await.unwrap().into_iter().filter(|s| s.leader).map(|s| s.id).collect();
            assert_eq!(leaders, ["b"]);
            store.forget_servers("none", 15).await.unwrap();
            let ids: Vec<String> = store.servers().await.unwrap().into_iter().map(|s| s.id).collect();
            assert_eq!(ids, ["a"]);
        }
    }

    #[tokio::test]
    async fn the_first_shared_key_stays() {
        for t in stores().await {
            let store = &t.store;
            assert_eq!(store.share_control_plane_key("ca", "first").await.unwrap(), "first");
            assert_eq!(store.share_control_plane_key("ca", "second").await.unwrap(), "first");
            assert_eq!(store.control_plane_key("ca").await.unwrap().as_deref(), Some("first"));
        }
    }
}
