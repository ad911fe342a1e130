//! The frontend relay's broker: requests for a frontend instance's HAProxy wait here until its
//! agent's next long-poll takes them, and the answer goes back to the one waiting. In memory
//! only: a request lives no longer than the call that made it, so nothing is left to replay
//! after a restart (an old drain must never arrive late).
//!
//! With several servers, the frontend's agent may long-poll another server than the one asked:
//! every request is also queued on the other servers (over the bus), the server its agent answers
//! forwards the answer, and a withdrawn request is withdrawn everywhere. Request ids start at a
//! random point per server, so that servers' ids do not meet.

use std::collections::HashMap;
use std::sync::Mutex;

use drover_proto::relay::{BackendState, FrontendAction, FrontendRequest};
use tokio::sync::oneshot;

use crate::cluster::bus::{Message, Outbox};

/// Requests in flight, by frontend instance.
pub struct FrontendRelay {
    inner: Mutex<Inner>,
    /// The other servers, where the frontend's agent may be polling.
    others: Outbox,
}

struct Inner {
    next_id: u64,
    /// Not yet taken by the frontend's agent.
    queued: HashMap<i64, Vec<FrontendRequest>>,
    /// Request id → (the frontend instance that must answer, who waits for the answer).
    waiting: HashMap<u64, (i64, oneshot::Sender<BackendState>)>,
    /// Requests another server asked: id → the frontend instance that must answer.
    asked_elsewhere: HashMap<u64, i64>,
}

/// Where an answer went.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    /// To the one waiting here.
    Here,
    /// To the server that asked.
    Forwarded,
    /// Nowhere: no such request waits for this instance (it was withdrawn, or is another's).
    Unknown,
}

impl Default for FrontendRelay {
    fn default() -> Self {
        Self::new(Outbox::default())
    }
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
    /// An empty relay; `others` reaches the other servers of the control plane.
    pub fn new(others: Outbox) -> Self {
        // Below 2^52, so that ids stay exact as JSON numbers anywhere.
        let next_id = rand::random::<u64>() >> 13;
        Self {
            inner: Mutex::new(Inner {
                next_id,
                queued: HashMap::new(),
                waiting: HashMap::new(),
                asked_elsewhere: HashMap::new(),
            }),
            others,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a request for `frontend`'s agent, here and on the other servers (wake it after this).
    pub fn ask(&self, frontend: i64, server: &str, action: FrontendAction) -> Pending<'_> {
        let (tx, rx) = oneshot::channel();
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        let request = FrontendRequest { id, server: server.to_owned(), action };
        inner.queued.entry(frontend).or_default().push(request.clone());
        inner.waiting.insert(id, (frontend, tx));
        drop(inner);
        self.others.send(Message::RelayAsk { frontend, request });
        Pending { relay: self, id, answer: Some(rx) }
    }

    /// Another server's request for `frontend`'s agent, which may be polling here.
    pub fn asked_elsewhere(&self, frontend: i64, request: FrontendRequest) {
        let mut inner = self.lock();
        inner.asked_elsewhere.insert(request.id, frontend);
        inner.queued.entry(frontend).or_default().push(request);
    }

    /// Another server's frontend agent answered a request asked here.
    pub fn answered_elsewhere(&self, frontend: i64, id: u64, state: BackendState) {
        self.deliver(frontend, id, state);
    }

    /// Another server withdrew its request.
    pub fn withdrawn_elsewhere(&self, id: u64) {
        let mut inner = self.lock();
        if let Some(frontend) = inner.asked_elsewhere.remove(&id) {
            inner.unqueue(frontend, id);
        }
    }

    /// The requests queued for `instance`, now taken.
    pub fn take(&self, instance: i64) -> Vec<FrontendRequest> {
        self.lock().queued.remove(&instance).unwrap_or_default()
    }

    /// Delivers `instance`'s answer to request `id`: to the one waiting here, or to the server
    /// that asked.
    pub fn answer(&self, instance: i64, id: u64, state: BackendState) -> Delivery {
        let elsewhere = {
            let mut inner = self.lock();
            match inner.asked_elsewhere.get(&id) {
                Some(frontend) if *frontend == instance => inner.asked_elsewhere.remove(&id).is_some(),
                _ => false,
            }
        };
        if elsewhere {
            self.others.send(Message::RelayAnswer { frontend: instance, id, state });
            return Delivery::Forwarded;
        }
        if self.deliver(instance, id, state) { Delivery::Here } else { Delivery::Unknown }
    }

    /// Hands the answer to the one waiting here; false when nobody waits for it from `instance`.
    fn deliver(&self, instance: i64, id: u64, state: BackendState) -> bool {
        let mut inner = self.lock();
        match inner.waiting.get(&id) {
            Some((frontend, _)) if *frontend == instance => {}
            _ => return false,
        }
        let (_, tx) = inner.waiting.remove(&id).expect("checked above");
        // Answered through another server, it may still be queued here.
        inner.unqueue(instance, id);
        tx.send(state).is_ok()
    }

    /// Forgets request `id`, taken, answered or not, here and on the other servers (where it may
    /// still be queued: it must never reach an agent late).
    fn withdraw(&self, id: u64) {
        let mut inner = self.lock();
        if let Some((frontend, _)) = inner.waiting.remove(&id) {
            inner.unqueue(frontend, id);
        }
        drop(inner);
        self.others.send(Message::RelayWithdraw { id });
    }
}

impl Inner {
    fn unqueue(&mut self, frontend: i64, id: u64) {
        if let Some(queue) = self.queued.get_mut(&frontend) {
            queue.retain(|r| r.id != id);
            if queue.is_empty() {
                self.queued.remove(&frontend);
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
        assert_eq!(relay.answer(8, id, BackendState::default()), Delivery::Unknown, "another instance cannot answer");
        let state = BackendState { sessions: Some(0), status: Some("DRAIN".into()), ..Default::default() };
        assert_eq!(relay.answer(7, id, state.clone()), Delivery::Here);
        assert_eq!(pending.answer().await, Some(state));
        assert_eq!(relay.answer(7, id, BackendState::default()), Delivery::Unknown, "answered once");
    }

    /// Two servers, their buses joined by hand: the frontend's agent polls the server that was not
    /// asked; the answer reaches the one waiting on the other, and a withdrawal empties both.
    #[tokio::test]
    async fn a_request_reaches_a_frontend_polling_another_server_and_its_answer_comes_back() {
        let (out_a, mut bus_a) = crate::cluster::bus::outbox();
        let (out_b, mut bus_b) = crate::cluster::bus::outbox();
        let (a, b) = (FrontendRelay::new(out_a), FrontendRelay::new(out_b));
        let pending = a.ask(7, "clients1-client1", FrontendAction::Drain);
        let Ok(Message::RelayAsk { frontend, request }) = bus_a.try_recv() else { panic!("no ask sent") };
        b.asked_elsewhere(frontend, request);
        let taken = b.take(7);
        assert_eq!(taken.len(), 1);
        let state = BackendState { sessions: Some(0), status: Some("DRAIN".into()), ..Default::default() };
        assert_eq!(b.answer(8, taken[0].id, state.clone()), Delivery::Unknown, "another instance cannot answer");
        assert_eq!(b.answer(7, taken[0].id, state.clone()), Delivery::Forwarded);
        let Ok(Message::RelayAnswer { frontend, id, state: answered }) = bus_b.try_recv() else { panic!("no answer") };
        a.answered_elsewhere(frontend, id, answered);
        assert_eq!(pending.answer().await, Some(state));
        // Answered, the request is withdrawn everywhere all the same.
        assert!(matches!(bus_a.try_recv(), Ok(Message::RelayWithdraw { .. })));

        let withdrawn = a.ask(7, "clients1-client2", FrontendAction::Ready);
        let Ok(Message::RelayAsk { frontend, request }) = bus_a.try_recv() else { panic!("no ask sent") };
        b.asked_elsewhere(frontend, request);
        drop(withdrawn);
        let Ok(Message::RelayWithdraw { id }) = bus_a.try_recv() else { panic!("no withdrawal sent") };
        b.withdrawn_elsewhere(id);
        assert!(b.take(7).is_empty(), "a withdrawn request was handed out elsewhere");
        assert!(a.take(7).is_empty());
    }

    #[test]
    fn a_withdrawn_request_is_never_handed_out() {
        let relay = FrontendRelay::default();
        drop(relay.ask(7, "clients1-client1", FrontendAction::Drain));
        assert!(relay.take(7).is_empty());
        assert!(relay.lock().waiting.is_empty());
    }
}
