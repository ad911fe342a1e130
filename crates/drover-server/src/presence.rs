//! Which agents hold a command long-poll open. An agent polls without pause while it runs, so one
//! whose poll connection dropped before the answer and that has not polled again for a while is
//! gone (killed, its host down, its network cut), long before its heartbeats are missed. A poll
//! that was answered and not followed by another is silence, left to the heartbeat timeout (a
//! frozen agent's socket stays open). In memory: after a server restart nothing is known until
//! each agent polls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Each instance's long-polls.
#[derive(Default)]
pub struct AgentPresence {
    polls: Mutex<HashMap<i64, Polls>>,
}

#[derive(Debug, Clone, Copy)]
struct Polls {
    /// Long-polls open now.
    open: u32,
    /// When the last one was dropped unanswered, while none is open.
    idle_since: Option<Instant>,
}

/// An open long-poll: [`Poll::answered`] when the handler answers; dropped unanswered (the
/// connection went away), it starts the instance's grace.
pub struct Poll {
    presence: Arc<AgentPresence>,
    instance: i64,
    answered: bool,
}

impl Poll {
    /// The poll was answered (a command, nothing within its wait, or an error).
    pub fn answered(mut self) {
        self.answered = true;
    }
}

impl Drop for Poll {
    fn drop(&mut self) {
        self.presence.ended(self.instance, (!self.answered).then(Instant::now));
    }
}

impl AgentPresence {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Polls>> {
        self.polls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An instance's agent opened a long-poll.
    #[cfg(test)]
    pub fn polling(self: &Arc<Self>, instance: i64) -> Poll {
        self.arrived(instance).0
    }

    /// An instance's agent opened a long-poll; true when it is new here (its first poll on this
    /// server, or the first since it was forgotten), which the other servers must hear of.
    pub fn arrived(self: &Arc<Self>, instance: i64) -> (Poll, bool) {
        let mut polls = self.lock();
        let new = !polls.contains_key(&instance);
        let entry = polls.entry(instance).or_insert(Polls { open: 0, idle_since: None });
        entry.open += 1;
        entry.idle_since = None;
        (Poll { presence: self.clone(), instance, answered: false }, new)
    }

    /// How many agents hold a long-poll open here.
    pub fn polling_agents(&self) -> usize {
        self.lock().values().filter(|p| p.open > 0).count()
    }

    /// A poll ended: `dropped_at` when its connection went away unanswered.
    fn ended(&self, instance: i64, dropped_at: Option<Instant>) {
        if let Some(entry) = self.lock().get_mut(&instance) {
            entry.open = entry.open.saturating_sub(1);
            if entry.open == 0 {
                entry.idle_since = dropped_at;
            }
        }
    }

    /// The instances whose agents have had no long-poll open for longer than `grace`, with how
    /// long; each is reported once (forgotten until it polls again). The same grace for all.
    #[cfg(test)]
    pub fn gone(&self, grace: Duration, now: Instant) -> Vec<(i64, Duration)> {
        self.gone_with(now, |_| grace)
    }

    /// As [`Self::gone`], with each instance's own grace (an agent that is upgrading gets longer).
    pub fn gone_with(&self, now: Instant, grace: impl Fn(i64) -> Duration) -> Vec<(i64, Duration)> {
        let mut polls = self.lock();
        let gone: Vec<(i64, Duration)> =
            Self::idle_in(&polls, now).into_iter().filter(|(id, idle)| *idle > grace(*id)).collect();
        for (id, _) in &gone {
            polls.remove(id);
        }
        gone
    }

    /// The instances whose agents have had no long-poll open for longer than `grace` (nothing is
    /// forgotten).
    pub fn idle(&self, grace: Duration, now: Instant) -> Vec<i64> {
        let polls = self.lock();
        Self::idle_in(&polls, now).into_iter().filter(|(_, idle)| *idle > grace).map(|(id, _)| id).collect()
    }

    fn idle_in(polls: &HashMap<i64, Polls>, now: Instant) -> Vec<(i64, Duration)> {
        polls
            .iter()
            .filter(|(_, p)| p.open == 0)
            .filter_map(|(id, p)| Some((*id, now.checked_duration_since(p.idle_since?)?)))
            .collect()
    }

    /// Forgets an instance (stopped on purpose, or deleted).
    pub fn forget(&self, instance: i64) {
        self.lock().remove(&instance);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_is_gone_only_after_the_grace_without_a_poll_and_is_reported_once() {
        let presence = Arc::new(AgentPresence::default());
        let grace = Duration::from_secs(10);
        let t0 = Instant::now();
        drop(presence.polling(1));
        let _other = presence.polling(2);
        // As if the poll had been dropped at t0 exactly.
        presence.ended(1, Some(t0));
        // (seconds after the poll ended, reported gone)
        let cases = [(5, false), (10, false), (11, true), (12, false)];
        for (after, want) in cases {
            let gone = presence.gone(grace, t0 + Duration::from_secs(after));
            assert_eq!(gone.iter().any(|(id, _)| *id == 1), want, "{after} s");
            assert!(!gone.iter().any(|(id, _)| *id == 2), "an open poll is present");
        }
    }

    #[test]
    fn an_answered_poll_is_not_a_dropped_connection() {
        let presence = Arc::new(AgentPresence::default());
        presence.polling(1).answered();
        assert!(presence.gone(Duration::from_secs(10), Instant::now() + Duration::from_secs(60)).is_empty());
    }

    #[test]
    fn polling_again_in_time_keeps_an_agent_present() {
        let presence = Arc::new(AgentPresence::default());
        let grace = Duration::from_secs(10);
        drop(presence.polling(1));
        let _again = presence.polling(1);
        assert!(presence.gone(grace, Instant::now() + Duration::from_secs(60)).is_empty());
    }

    #[test]
    fn an_upgrading_agent_gets_its_own_grace() {
        let presence = Arc::new(AgentPresence::default());
        let t0 = Instant::now();
        drop(presence.polling(1));
        drop(presence.polling(2));
        presence.ended(1, Some(t0));
        presence.ended(2, Some(t0));
        let grace = |id| Duration::from_secs(if id == 2 { 60 } else { 10 });
        let at = t0 + Duration::from_secs(20);
        let mut idle = presence.idle(Duration::from_secs(10), at);
        idle.sort();
        assert_eq!(idle, vec![1, 2], "idle() forgets nothing");
        let gone: Vec<i64> = presence.gone_with(at, grace).into_iter().map(|(id, _)| id).collect();
        assert_eq!(gone, vec![1]);
        let gone: Vec<i64> =
            presence.gone_with(t0 + Duration::from_secs(61), grace).into_iter().map(|(id, _)| id).collect();
        assert_eq!(gone, vec![2]);
    }
}
