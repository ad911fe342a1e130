//! The frontend relay's broker: requests for a frontend instance's HAProxy wait here until its
//! agent's next long-poll takes them, and the answer goes back to the one waiting. In memory
//! only: a request lives no longer than the call that made it, so nothing is left to replay
//! after a restart (an old drain must never arrive late).

use std::collections::HashMap;
use std::sync::Mutex;

use drover_proto::relay::{BackendState, FrontendAction, FrontendRequest};
use tokio::sync::oneshot;

/// Requests in flight, by frontend instance.
#[derive(Default)]
pub struct FrontendRelay {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    /// Not yet taken by the frontend's agent.
    queued: HashMap<i64, Vec<FrontendRequest>>,
    /// Request id → (the frontend instance that must answer, who waits for the answer).
    waiting: HashMap<u64, (i64, oneshot::Sender<BackendState>)>,
}

/// A request handed to the relay; dropping it withdraws the request.
pub struct Pending<'a> {
    relay: &'a FrontendRelay,
    id: u64,
    answer: Option<oneshot::Receiver<BackendState>>,
}

impl Pending<'_> {
    /// The frontend's answer; none when it dropped the request.
    pub async fn answer(mut self) -> Option<BackendState> {
        self.answer.take()?.await.ok()
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.relay.withdraw(self.id);
    }
}

impl FrontendRelay {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a request for `frontend`'s agent (wake it after this).
    pub fn ask(&self, frontend: i64, server: &str, action: FrontendAction) -> Pending<'_> {
        let (tx, rx) = oneshot::channel();
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        inner.queued.entry(frontend).or_default().push(FrontendRequest { id, server: server.to_owned(), action });
        inner.waiting.insert(id, (frontend, tx));
        Pending { relay: self, id, answer: Some(rx) }
    }

    /// The requests queued for `instance`, now taken.
    pub fn take(&self, instance: i64) -> Vec<FrontendRequest> {
        self.lock().queued.remove(&instance).unwrap_or_default()
    }

    /// Delivers `instance`'s answer to request `id`; false when no such request waits for this
    /// instance (it was withdrawn, or is another's).
    pub fn answer(&self, instance: i64, id: u64, state: BackendState) -> bool {
        let mut inner = self.lock();
        match inner.waiting.get(&id) {
            Some((frontend, _)) if *frontend == instance => {}
            _ => return false,
        }
        let (_, tx) = inner.waiting.remove(&id).expect("checked above");
        tx.send(state).is_ok()
    }

    /// Forgets request `id`, taken or not.
    fn withdraw(&self, id: u64) {
        let mut inner = self.lock();
        if let Some((frontend, _)) = inner.waiting.remove(&id)
            && let Some(queue) = inner.queued.get_mut(&frontend)
        {
            queue.retain(|r| r.id != id);
            if queue.is_empty() {
                inner.queued.remove(&frontend);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_reaches_the_one_who_asked_and_only_from_the_frontend_asked() {
        let relay = FrontendRelay::default();
        let pending = relay.ask(7, "clients1-client1", FrontendAction::Drain);
        let taken = relay.take(7);
        assert_eq!(taken.len(), 1);
        assert!(relay.take(7).is_empty(), "taken once");
        let id = taken[0].id;
        assert!(!relay.answer(8, id, BackendState::default()), "another instance cannot answer");
        let state = BackendState { sessions: Some(0), status: Some("DRAIN".into()), ..Default::default() };
        assert!(relay.answer(7, id, state.clone()));
        assert_eq!(pending.answer().await, Some(state));
        assert!(!relay.answer(7, id, BackendState::default()), "answered once");
    }

    #[test]
    fn a_withdrawn_request_is_never_handed_out() {
        let relay = FrontendRelay::default();
        drop(relay.ask(7, "clients1-client1", FrontendAction::Drain));
        assert!(relay.take(7).is_empty());
        assert!(relay.lock().waiting.is_empty());
    }
}
