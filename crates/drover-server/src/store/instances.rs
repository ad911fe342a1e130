//! Instances: creation, status, enrollment, heartbeats.

use drover_core::InstanceStatus;
use drover_core::{Shortname, next_hostname};
use drover_proto::agent::{Heartbeat, HostFacts};

use super::{InstanceRow, Store, StoreError};
use crate::time::now_ms;

const SELECT_INSTANCE: &str = "SELECT i.*, s.name AS stack_name, \
     (SELECT string_agg(l.shortname, ',' ORDER BY l.id) FROM instance_layers il JOIN layers l ON l.id = il.layer_id \
      WHERE il.instance_id = i.id) AS layer_names \
     FROM instances i JOIN stacks s ON s.id = i.stack_id";

/// A new instance's hostname.
#[derive(Debug, Clone, Copy)]
pub enum NewHostname<'a> {
    /// This one; taken already is a [`StoreError::Duplicate`].
    Given(&'a str),
    /// The next free one of this prefix (`web` → `web3`), chosen under the write lock so
    /// instances created at the same moment, through several servers too, get different ones.
    NextOf(&'a Shortname),
}

/// What a new instance starts with.
pub struct NewInstance<'a> {
    pub stack_id: i64,
    pub hostname: NewHostname<'a>,
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
            .execute(self.writer())
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
        let hostname = match new.hostname {
            NewHostname::Given(h) => h.to_owned(),
            NewHostname::NextOf(prefix) => {
                let taken: Vec<String> = sqlx::query_scalar("SELECT hostname FROM instances WHERE stack_id = $1")
                    .bind(new.stack_id)
                    .fetch_all(&mut *tx)
                    .await?;
                let taken: Vec<&str> = taken.iter().map(String::as_str).collect();
                next_hostname(prefix, &taken).as_str().to_owned()
            }
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO instances (stack_id, hostname, provider, status, status_changed_at, address, \
             cpu_count_override, scaling, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(new.stack_id)
        .bind(&hostname)
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
                .execute(self.writer())
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
        .execute(self.writer())
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
        .execute(self.writer())
        .await
        .map(|_| ())
    }

    /// Forgets the services an instance's agent reported (it stopped: they no longer run).
    pub async fn clear_services(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE instances SET services = NULL, services_at = NULL WHERE id = $1")
            .bind(id)
            .execute(self.writer())
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::store::test_backends::stores;

    /// Instances whose hostnames are generated at the same moment (agents of one stack enrolling
    /// through several servers) all get one, each a different one: two once got the same name
    /// and the second was refused.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn generated_hostnames_made_at_once_differ() {
        for under_test in stores().await {
            let store = under_test.store;
            let stack = store.create_stack("race", "{}").await.unwrap();
            let prefix = Shortname::parse("web").unwrap();
            let made = futures_util::future::join_all((0..24).map(|_| {
                let (store, prefix) = (store.clone(), prefix.clone());
                tokio::spawn(async move {
                    let new = NewInstance {
                        stack_id: stack.id,
                        hostname: NewHostname::NextOf(&prefix),
                        provider: "registered",
                        status: InstanceStatus::Registering,
                        address: None,
                        cpu_count_override: None,
                        scaling: "24/7",
                        layer_ids: &[],
                        join: None,
                    };
                    store.create_instance(&new).await
                })
            }))
            .await;
            let mut names = HashSet::new();
            for result in made {
                let id = result
                    .unwrap()
                    .unwrap_or_else(|e| panic!("{}: an instance was refused: {e:?}", under_test.backend));
                names.insert(store.instance_by_id(id).await.unwrap().unwrap().hostname);
            }
            assert_eq!(names.len(), 24, "{}: every instance has a name of its own: {names:?}", under_test.backend);
            assert!(names.contains("web1") && names.contains("web24"), "{}: {names:?}", under_test.backend);
        }
    }
}
