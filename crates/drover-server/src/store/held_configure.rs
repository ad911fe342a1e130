//! A held Configure: the one deployment a burst of membership changes in a stack stands for.
//! Its commands are made when it is released, from the stack as it is then; each trigger while
//! it is held is counted, so a release made from an older view of the stack is refused.

use super::Store;
use crate::time::now_ms;

impl Store {
    /// Marks the pending commands of a stack's Configure deployments older than `newer` as
    /// superseded; returns those deployments.
    pub async fn supersede_configures(&self, stack_id: i64, newer: i64) -> Result<Vec<i64>, sqlx::Error> {
        let mut ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE commands SET status = 'superseded', finished_at = $1, reason = 'superseded by a newer Configure' \
             WHERE status = 'pending' AND deployment_id IN \
             (SELECT id FROM deployments WHERE stack_id = $2 AND kind = 'configure' AND id < $3) \
             RETURNING deployment_id",
        )
        .bind(now_ms())
        .bind(stack_id)
        .bind(newer)
        .fetch_all(self.writer())
        .await?;
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Adds a trigger to the stack's held Configure, if it has one whose commands are still
    /// held; returns its id. Nothing held: `None`, and the caller creates one.
    pub async fn add_held_trigger(&self, stack_id: i64) -> Result<Option<i64>, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "UPDATE deployments SET held_triggers = held_triggers + 1 WHERE id = ({HELD_CONFIGURE}) RETURNING id"
        )))
        .bind(stack_id)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The stack's held Configure, with the triggers it stands for so far.
    pub async fn held_configure(&self, stack_id: i64) -> Result<Option<HeldConfigure>, sqlx::Error> {
        let row: Option<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, held_triggers FROM deployments WHERE id = ({HELD_CONFIGURE})"
        )))
        .bind(stack_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, triggers)| HeldConfigure { id, triggers }))
    }

    /// Releases a held Configure with the commands made for it now (`targets`: every online
    /// instance and its spec): held commands of instances still online get their new spec, the
    /// others are skipped, online instances without one get one, and older held Configures are
    /// superseded. Refused (`None`, nothing changed) when a trigger came after `held` was read:
    /// the targets may miss what it changed.
    pub async fn release_held_configure(
        &self,
        stack_id: i64,
        held: HeldConfigure,
        targets: &[(i64, String)],
    ) -> Result<Option<Released>, sqlx::Error> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let triggers: Option<i64> = sqlx::query_scalar("SELECT held_triggers FROM deployments WHERE id = $1")
            .bind(held.id)
            .fetch_optional(&mut *tx)
            .await?;
        if triggers != Some(held.triggers) {
            return Ok(None);
        }
        let mut superseded: Vec<i64> = sqlx::query_scalar(
            "UPDATE commands SET status = 'superseded', finished_at = $1, reason = 'superseded by a newer Configure' \
             WHERE status = 'pending' AND released = 0 AND deployment_id IN \
             (SELECT id FROM deployments WHERE stack_id = $2 AND kind = 'configure' AND status = 'running' AND id < $3) \
             RETURNING deployment_id",
        )
        .bind(now)
        .bind(stack_id)
        .bind(held.id)
        .fetch_all(&mut *tx)
        .await?;
        superseded.sort_unstable();
        superseded.dedup();
        if held.triggers > 0 {
            let more =
                if held.triggers == 1 { "1 more change".to_owned() } else { format!("{} more changes", held.triggers) };
            sqlx::query("UPDATE deployments SET comment = COALESCE(comment, 'Configure') || $1 WHERE id = $2")
                .bind(format!(" (and {more} while it was held)"))
                .bind(held.id)
                .execute(&mut *tx)
                .await?;
        }
        let waiting: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, instance_id FROM commands WHERE deployment_id = $1 AND status = 'pending' AND released = 0",
        )
        .bind(held.id)
        .fetch_all(&mut *tx)
        .await?;
        let mut woken = Vec::new();
        for (command, instance) in &waiting {
            match targets.iter().find(|(i, _)| i == instance) {
                Some((_, spec)) => {
                    sqlx::query("UPDATE commands SET spec = $1, released = 1, created_at = $2 WHERE id = $3")
                        .bind(spec)
                        .bind(now)
                        .bind(command)
                        .execute(&mut *tx)
                        .await?;
                    woken.push(*instance);
                }
                None => {
                    sqlx::query(
                        "UPDATE commands SET status = 'skipped', released = 1, finished_at = $1, \
                         reason = 'not online when the Configure was released' WHERE id = $2",
                    )
                    .bind(now)
                    .bind(command)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        for (instance, spec) in targets.iter().filter(|(i, _)| !waiting.iter().any(|(_, w)| w == i)) {
            sqlx::query(
                "INSERT INTO commands (deployment_id, instance_id, status, spec, batch, released, created_at) \
                 VALUES ($1, $2, 'pending', $3, 0, 1, $4)",
            )
            .bind(held.id)
            .bind(instance)
            .bind(spec)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            woken.push(*instance);
        }
        tx.commit().await?;
        Ok(Some(Released { woken, superseded }))
    }
}

/// The newest Configure deployment of stack `$1` with commands still held.
const HELD_CONFIGURE: &str = "SELECT d.id FROM deployments d WHERE d.stack_id = $1 AND d.kind = 'configure' \
     AND d.status = 'running' AND EXISTS (SELECT 1 FROM commands c WHERE c.deployment_id = d.id \
     AND c.status = 'pending' AND c.released = 0) ORDER BY d.id DESC LIMIT 1";

/// What a release did.
#[derive(Debug, PartialEq, Eq)]
pub struct Released {
    /// The instances to wake.
    pub woken: Vec<i64>,
    /// Older held Configures whose commands it superseded (their status is to be refreshed).
    pub superseded: Vec<i64>,
}

/// A Configure deployment whose commands are held, and how many triggers it had when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldConfigure {
    pub id: i64,
    pub triggers: i64,
}

#[cfg(test)]
mod tests {
    use drover_core::DeploymentKind;

    use super::*;
    use crate::store::test_backends::{deployment, online_instance, stores};

    async fn held_configure(store: &Store, stack_id: i64, instances: &[i64]) -> i64 {
        deployment(store, stack_id, DeploymentKind::Configure, instances, "old", true).await
    }

    /// (instance, status, released, spec) of a deployment's commands, by instance.
    async fn commands(store: &Store, deployment: i64) -> Vec<(i64, String, i64, String)> {
        sqlx::query_as(
            "SELECT instance_id, status, released, spec FROM commands WHERE deployment_id = $1 ORDER BY instance_id",
        )
        .bind(deployment)
        .fetch_all(&store.pool)
        .await
        .unwrap()
    }

    /// A burst: one held Configure counts the later triggers; a release made from a view read
    /// before the last trigger is refused and changes nothing; the release then gives every
    /// online instance one command with the new spec, skips the one no longer online, and
    /// leaves nothing held.
    #[tokio::test]
    async fn a_burst_is_one_configure_made_when_released() {
        for under_test in stores().await {
            let (store, backend) = (&under_test.store, under_test.backend);
            let stack = store.create_stack("burst", "{}").await.unwrap();
            let web1 = online_instance(store, stack.id, "web1").await;
            let web2 = online_instance(store, stack.id, "web2").await;
            assert_eq!(store.add_held_trigger(stack.id).await.unwrap(), None, "{backend}: nothing held yet");
            let id = held_configure(store, stack.id, &[web1, web2]).await;
            assert_eq!(store.add_held_trigger(stack.id).await.unwrap(), Some(id), "{backend}");
            let seen = store.held_configure(stack.id).await.unwrap().unwrap();
            assert_eq!(seen, HeldConfigure { id, triggers: 1 }, "{backend}");

            // web3 arrives and web2 leaves while the release makes its commands.
            let web3 = online_instance(store, stack.id, "web3").await;
            assert_eq!(store.add_held_trigger(stack.id).await.unwrap(), Some(id), "{backend}");
            let stale = [(web1, "new".to_owned()), (web2, "new".to_owned())];
            assert_eq!(store.release_held_configure(stack.id, seen, &stale).await.unwrap(), None, "{backend}");
            let before = commands(store, id).await;
            assert!(before.iter().all(|c| c.1 == "pending" && c.2 == 0 && c.3 == "old"), "{backend}: {before:?}");

            let seen = store.held_configure(stack.id).await.unwrap().unwrap();
            let fresh = [(web1, "new".to_owned()), (web3, "new".to_owned())];
            let released = store.release_held_configure(stack.id, seen, &fresh).await.unwrap().unwrap();
            assert_eq!(released.superseded, Vec::<i64>::new(), "{backend}");
            let mut woken = released.woken;
            woken.sort_unstable();
            assert_eq!(woken, vec![web1, web3], "{backend}");
            let after = commands(store, id).await;
            let expected = vec![
                (web1, "pending".to_owned(), 1, "new".to_owned()),
                (web2, "skipped".to_owned(), 1, "old".to_owned()),
                (web3, "pending".to_owned(), 1, "new".to_owned()),
            ];
            assert_eq!(after, expected, "{backend}");
            assert_eq!(store.held_configure(stack.id).await.unwrap(), None, "{backend}: nothing is held any more");
            let comment = store.deployment(id).await.unwrap().unwrap().comment;
            assert_eq!(comment.as_deref(), Some("Configure (and 2 more changes while it was held)"), "{backend}");
            assert_eq!(
                store.add_held_trigger(stack.id).await.unwrap(),
                None,
                "{backend}: the next trigger makes a new one"
            );
        }
    }

    /// Two held Configures (two servers created one each at the same moment): the release of
    /// the newer supersedes the older's held commands.
    #[tokio::test]
    async fn the_release_supersedes_an_older_held_configure() {
        for under_test in stores().await {
            let (store, backend) = (&under_test.store, under_test.backend);
            let stack = store.create_stack("twice", "{}").await.unwrap();
            let web1 = online_instance(store, stack.id, "web1").await;
            let older = held_configure(store, stack.id, &[web1]).await;
            let newer = held_configure(store, stack.id, &[web1]).await;
            let seen = store.held_configure(stack.id).await.unwrap().unwrap();
            assert_eq!(seen.id, newer, "{backend}: the newest is the one held");
            let released = store.release_held_configure(stack.id, seen, &[(web1, "new".into())]).await.unwrap();
            assert_eq!(released, Some(Released { woken: vec![web1], superseded: vec![older] }), "{backend}");
            let old = commands(store, older).await;
            assert_eq!(old[0].1, "superseded", "{backend}: {old:?}");
            let status = store.refresh_deployment(older).await.unwrap();
            assert_ne!(status, drover_core::DeploymentStatus::Running, "{backend}: the older one ended");
        }
    }
}
