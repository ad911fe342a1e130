//! Configure events, coalesced. Every membership change creates a Configure deployment whose
//! commands are held; a newer one supersedes the older ones still pending. The held commands are
//! released once the stack has been quiet for the debounce period and no instance is still on
//! its way to `online` (or after the hold limit), so a burst of starts ends in one Configure per
//! instance.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use drover_core::lifecycle::is_coming_up;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::state::AppState;

/// How long a stack must be quiet before its held Configure runs.
const DEBOUNCE: Duration = Duration::from_millis(300);
/// The longest a Configure waits for instances still coming up.
const MAX_HOLD: Duration = Duration::from_secs(120);

/// Stacks with held Configure commands: when the first and the last trigger came.
#[derive(Default)]
pub struct ConfigureEvents {
    stacks: Mutex<HashMap<i64, (Instant, Instant)>>,
    notify: Notify,
}

impl ConfigureEvents {
    /// A held Configure was created for the stack.
    pub fn trigger(&self, stack_id: i64) {
        let now = Instant::now();
        let mut stacks = self.stacks.lock().unwrap_or_else(|e| e.into_inner());
        stacks.entry(stack_id).and_modify(|(_, last)| *last = now).or_insert((now, now));
        drop(stacks);
        self.notify.notify_one();
    }

    /// Forgets every trigger and triggers these stacks now (a new leader: what another server
    /// triggered, or what it missed, is looked at with a fresh debounce).
    pub fn start_over(&self, stack_ids: &[i64]) {
        let now = Instant::now();
        let mut stacks = self.stacks.lock().unwrap_or_else(|e| e.into_inner());
        stacks.clear();
        stacks.extend(stack_ids.iter().map(|id| (*id, (now, now))));
        drop(stacks);
        self.notify.notify_one();
    }

    /// The stacks due for release: their id, whether they are overdue, and the trigger seen.
    fn due(&self) -> Vec<(i64, bool, Instant)> {
        let now = Instant::now();
        let stacks = self.stacks.lock().unwrap_or_else(|e| e.into_inner());
        stacks
            .iter()
            .filter(|(_, (_, last))| now.duration_since(*last) >= DEBOUNCE)
            .map(|(id, (first, last))| (*id, now.duration_since(*first) >= MAX_HOLD, *last))
            .collect()
    }

    /// The stack's held commands up to the trigger `seen` were released. A trigger that came
    /// meanwhile (a Configure created while the release ran) keeps the stack waiting, or its
    /// commands would stay held for good.
    fn done(&self, stack_id: i64, seen: Instant) {
        let mut stacks = self.stacks.lock().unwrap_or_else(|e| e.into_inner());
        if stacks.get(&stack_id).is_some_and(|(_, last)| *last == seen) {
            stacks.remove(&stack_id);
        }
    }

    fn idle(&self) -> bool {
        self.stacks.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
    }
}

/// Releases held Configure commands as their stacks settle, forever.
pub async fn release_configures(state: AppState) {
    let events = state.configure_events.clone();
    loop {
        if events.idle() {
            events.notify.notified().await;
        }
        tokio::time::sleep(DEBOUNCE / 3).await;
        for (stack_id, overdue, seen) in events.due() {
            match release_if_settled(&state, stack_id, overdue).await {
                Ok(true) => events.done(stack_id, seen),
                Ok(false) => {}
                Err(e) => tracing::warn!("failed to release Configure commands: {e}"),
            }
        }
    }
}

async fn release_if_settled(state: &AppState, stack_id: i64, overdue: bool) -> Result<bool, sqlx::Error> {
    let instances = state.store.instances(stack_id).await?;
    if !overdue && instances.iter().any(|i| is_coming_up(i.status())) {
        return Ok(false);
    }
    super::release_held_configure(state, stack_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a Configure triggered while the one before it was being released stayed held
    /// for good (its stack was forgotten once the earlier release finished).
    #[test]
    fn a_trigger_during_a_release_keeps_the_stack_waiting() {
        let events = ConfigureEvents::default();
        events.trigger(1);
        let seen = events.stacks.lock().unwrap()[&1].1;
        std::thread::sleep(Duration::from_millis(2));
        events.trigger(1);
        events.done(1, seen);
        assert!(!events.idle(), "the later trigger is still waiting");
        let later = events.stacks.lock().unwrap()[&1].1;
        events.done(1, later);
        assert!(events.idle());
    }
}
