//! Instances: creation, status, enrollment, heartbeats.

use drover_core::InstanceStatus;
use drover_proto::agent::{Heartbeat, HostFacts};

use super::{InstanceRow, Store, StoreError};
use crate::time::now_ms;

const SELECT_INSTANCE: &str = "SELECT i.*, s.name AS stack_name, \
     (SELECT string_agg(l.shortname, ',' ORDER BY l.id) FROM instance_layers il JOIN layers l ON l.id = il.layer_id \
      WHERE il.instance_id = i.id) AS layer_names \
     FROM instances i JOIN stacks s ON s.id = i.stack_id";

/// What a new instance starts with.
pub struct NewInstance<'a> {
    pub stack_id: i64,
    pub hostname: &'a str,
    pub provider: &'a str,
    pub status: InstanceStatus,
    pub address: Option<&'a str>,
    pub cpu_count_override: Option<u32>,
    /// `24/7`, `time` or `load`.
    pub scaling: &'a str,
    pub layer_ids: &'a [i64],
    /// For a host that registers itself: the join token it uses and the credential it gets.
    pub join: Option<super::JoinUse<'a>>,
}

impl Store {
    /// Every instance of a scaling type, in every stack.
    pub async fn instances_with_scaling(&self, scaling: &str) -> Result<Vec<InstanceRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_INSTANCE} WHERE i.scaling = $1 ORDER BY i.id")))
            .bind(scaling)
            .fetch_all(&self.pool)
            .await
    }

    /// Sets an instance's scaling type and schedule.
    pub async fn set_scaling(&self, id: i64, scaling: &str, schedule: Option<&str>) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE instances SET scaling = $1, schedule = $2 WHERE id = $3")
            .bind(scaling)
            .bind(schedule)
            .bind(id)
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// Creates an instance and its layer memberships in one transaction (with a registering
    /// host's join token use and credential: all of it or none).
    pub async fn create_instance(&self, new: &NewInstance<'_>) -> Result<i64, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        if let Some(join) = new.join {
            super::join_tokens::consume(&mut tx, join.token_id).await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO instances (stack_id, hostname, provider, status, status_changed_at, address, \
             cpu_count_override, scaling, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(new.stack_id)
        .bind(new.hostname)
        .bind(new.provider)
        .bind(new.status.as_str())
        .bind(now)
        .bind(new.address)
        .bind(new.cpu_count_override.map(i64::from))
        .bind(new.scaling)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from_insert)?;
        for layer_id in new.layer_ids {
            sqlx::query("INSERT INTO instance_layers (instance_id, layer_id) VALUES ($1, $2)")
                .bind(id)
                .bind(layer_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(join) = new.join {
            sqlx::query("UPDATE instances SET credential_hash = $1 WHERE id = $2")
                .bind(join.credential_hash(id))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// A stack's instances by hostname.
    pub async fn instances(&self, stack_id: i64) -> Result<Vec<InstanceRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_INSTANCE} WHERE i.stack_id = $1 ORDER BY i.hostname")))
            .bind(stack_id)
            .fetch_all(&self.pool)
            .await
    }

    /// Every instance of a provider.
    pub async fn instances_by_provider(&self, provider: &str) -> Result<Vec<InstanceRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_INSTANCE} WHERE i.provider = $1 ORDER BY i.id")))
            .bind(provider)
            .fetch_all(&self.pool)
            .await
    }

    /// An instance by stack and hostname.
    pub async fn instance(&self, stack_id: i64, hostname: &str) -> Result<Option<InstanceRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_INSTANCE} WHERE i.stack_id = $1 AND i.hostname = $2")))
            .bind(stack_id)
            .bind(hostname)
            .fetch_optional(&self.pool)
            .await
    }

    /// An instance by id.
    pub async fn instance_by_id(&self, id: i64) -> Result<Option<InstanceRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_INSTANCE} WHERE i.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Instances in these statuses.
    pub async fn instances_in(&self, statuses: &[InstanceStatus]) -> Result<Vec<InstanceRow>, sqlx::Error> {
        let all = sqlx::query_as::<_, InstanceRow>(sqlx::AssertSqlSafe(SELECT_INSTANCE.to_owned()))
            .fetch_all(&self.pool)
            .await?;
        Ok(all.into_iter().filter(|i| statuses.contains(&i.status())).collect())
    }

    /// Addresses of local instances (for allocating the next one).
    pub async fn local_addresses(&self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT address FROM instances WHERE provider = 'local' AND address IS NOT NULL")
            .fetch_all(&self.pool)
            .await
    }

    /// Sets a status if it is still `from` (so concurrent transitions do not overwrite each other).
    pub async fn set_status(&self, id: i64, from: InstanceStatus, to: InstanceStatus) -> Result<bool, sqlx::Error> {
        let done =
            sqlx::query("UPDATE instances SET status = $1, status_changed_at = $2 WHERE id = $3 AND status = $4")
                .bind(to.as_str())
                .bind(now_ms())
                .bind(id)
                .bind(from.as_str())
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records what an agent reports about its host; counts as a heartbeat.
    pub async fn record_facts(&self, id: i64, facts: &HostFacts) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE instances SET address = $1, cpu_count = COALESCE(cpu_count_override, $2), memory_bytes = $3, \
             agent_version = $4, agent_pid = $5, last_heartbeat = $6 WHERE id = $7",
        )
        .bind(&facts.address)
        .bind(i64::from(facts.cpu_count))
        .bind(facts.memory_bytes as i64)
        .bind(&facts.agent_version)
        .bind(i64::from(facts.pid))
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await
        .map(|_| ())
    }

    /// Records a heartbeat, with the services it reports.
    pub async fn record_heartbeat(&self, id: i64, hb: &Heartbeat) -> Result<(), sqlx::Error> {
        let now = now_ms();
        let services = serde_json::to_string(&hb.services).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        sqlx::query(
            "UPDATE instances SET last_heartbeat = $1, cpu_percent = $2, memory_percent = $3, load_1m = $4, \
             cpu_count = COALESCE(cpu_count_override, $5), memory_bytes = $6, services = $7, services_at = $8 WHERE id = $9",
        )
        .bind(now)
        .bind(hb.cpu_percent)
        .bind(hb.memory_percent)
        .bind(hb.load_1m)
        .bind(i64::from(hb.cpu_count))
        .bind(hb.memory_bytes as i64)
        .bind(services)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map(|_| ())
    }

    /// Forgets the services an instance's agent reported (it stopped: they no longer run).
    pub async fn clear_services(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE instances SET services = NULL, services_at = NULL WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// Deletes an instance and its history.
    pub async fn delete_instance(&self, id: i64) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM command_log WHERE command_id IN (SELECT id FROM commands WHERE instance_id = $1)")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM commands WHERE instance_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM instance_layers WHERE instance_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM instances WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await
    }
}
