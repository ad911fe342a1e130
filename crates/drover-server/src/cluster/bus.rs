//! What one server tells the others on the same PostgreSQL (`NOTIFY drover`): a command queued
//! for an agent that may be long-polling elsewhere, a Configure to coalesce, a cancelled stream,
//! an agent that moved its long-poll here, a heartbeat's metrics for the leader's load-based
//! scaling, and the frontend relay's requests, answers and withdrawals. Best effort: a message
//! missed while the listening connection reconnects costs at most one long-poll wait, since every
//! waiter is woken to look again after a reconnect.
//!
//! Every payload is signed (`<hex HMAC-SHA256>.<json>`) with a key the servers share through the
//! store ([`super::keys::share_bus_key`]): a role that may only connect and NOTIFY cannot make a
//! server wake, cancel or relay anything; unsigned or wrongly signed payloads are dropped.

use drover_proto::relay::{BackendState, FrontendRequest};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use tokio::sync::mpsc;

use crate::hmac::{hmac_sha256, same_bytes};
use crate::state::AppState;
use crate::store::Store;

/// The channel every server listens on.
const CHANNEL: &str = "drover";
/// NOTIFY payloads must stay under 8000 bytes; messages are packed up to this (the signature
/// adds 65).
const PAYLOAD_BUDGET: usize = 6000;
/// The most ids in one wake or cancel message.
const IDS_PER_MESSAGE: usize = 400;

/// One thing that happened on a server that the others must know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Message {
    /// Commands were queued for these instances.
    Wake { ids: Vec<i64> },
    /// A command's output or status changed.
    Changed,
    /// A held Configure was created for the stack.
    Configure { stack: i64 },
    /// These commands were cancelled.
    Cancelled { ids: Vec<i64> },
    /// The instance's agent opened a long-poll on the sender.
    Polling { instance: i64 },
    /// A request for a frontend's HAProxy, asked on the sender (its agent may poll here).
    RelayAsk { frontend: i64, request: FrontendRequest },
    /// A frontend's answer to a request the receiver asked.
    RelayAnswer { frontend: i64, id: u64, state: BackendState },
    /// The sender's request is no longer waited for.
    RelayWithdraw { id: u64 },
    /// The instance's heartbeat metrics, received by the sender at `at_ms`.
    Heartbeat { instance: i64, created_at: i64, at_ms: i64, cpu: f64, memory: f64, load: f64 },
}

/// A batch of messages from one server.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    from: String,
    ms: Vec<Message>,
}

/// Where a server drops messages for the others; nothing is sent on SQLite (one server).
#[derive(Clone, Default)]
pub struct Outbox(Option<mpsc::UnboundedSender<Message>>);

impl Outbox {
    /// Hands a message to the publisher (never waits).
    pub fn send(&self, message: Message) {
        if let Some(tx) = &self.0 {
            let _ = tx.send(message);
        }
    }

    /// Asks the other servers to wake these instances' long-polls.
    pub fn wake(&self, ids: &[i64]) {
        if self.0.is_some() {
            for chunk in ids.chunks(IDS_PER_MESSAGE) {
                self.send(Message::Wake { ids: chunk.to_vec() });
            }
        }
    }

    /// Tells the other servers these commands were cancelled.
    pub fn cancelled(&self, ids: &[i64]) {
        if self.0.is_some() {
            for chunk in ids.chunks(IDS_PER_MESSAGE) {
                self.send(Message::Cancelled { ids: chunk.to_vec() });
            }
        }
    }
}

/// The key payloads are signed with, shared by every server on the store.
#[derive(Clone)]
pub struct BusKey(std::sync::Arc<str>);

impl BusKey {
    pub fn new(key: &str) -> Self {
        Self(key.into())
    }

    /// `<hex mac>.<json>`.
    fn seal(&self, json: &str) -> String {
        format!("{}.{json}", hex::encode(hmac_sha256(self.0.as_bytes(), json.as_bytes())))
    }

    /// The JSON of a payload signed with this key; none when the signature is missing or wrong.
    fn open<'a>(&self, payload: &'a str) -> Option<&'a str> {
        let (mac, json) = payload.split_once('.')?;
        let mac = hex::decode(mac).ok()?;
        same_bytes(&mac, &hmac_sha256(self.0.as_bytes(), json.as_bytes())).then_some(json)
    }
}

/// An outbox and the receiving end its publisher drains.
pub fn outbox() -> (Outbox, mpsc::UnboundedReceiver<Message>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Outbox(Some(tx)), rx)
}

/// Sends what the outbox gathers, packed into few NOTIFYs, forever.
pub async fn publish(store: Store, from: String, key: BusKey, mut outgoing: mpsc::UnboundedReceiver<Message>) {
    while let Some(first) = outgoing.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = outgoing.try_recv() {
            batch.push(more);
        }
        for payload in pack(&from, batch) {
            if let Err(e) = store.notify(CHANNEL, &key.seal(&payload)).await {
                tracing::warn!("failed to tell the other servers: {e}");
            }
        }
    }
}

/// Envelopes of at most [`PAYLOAD_BUDGET`] bytes each (a single larger message goes alone),
/// repeated `Changed` folded into one.
fn pack(from: &str, batch: Vec<Message>) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current: Vec<Message> = Vec::new();
    let mut size = 0;
    let mut changed = false;
    for message in batch {
        if message == Message::Changed {
            if changed {
                continue;
            }
            changed = true;
        }
        let len = serde_json::to_string(&message).map_or(0, |s| s.len()) + 1;
        if !current.is_empty() && size + len > PAYLOAD_BUDGET {
            payloads.push(envelope(from, std::mem::take(&mut current)));
            size = 0;
        }
        size += len;
        current.push(message);
    }
    if !current.is_empty() {
        payloads.push(envelope(from, current));
    }
    payloads
}

fn envelope(from: &str, ms: Vec<Message>) -> String {
    serde_json::to_string(&Envelope { from: from.to_owned(), ms }).unwrap_or_default()
}

/// Listens for the other servers' messages and applies them here, forever (reconnecting).
pub async fn listen(state: AppState, url: String, key: BusKey) {
    loop {
        match PgListener::connect(&url).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => {
                    // What was sent before this listen was missed: every waiter looks again.
                    state.wakeups.wake_everyone_here();
                    receive(&state, &mut listener, &key).await
                }
                Err(e) => tracing::warn!("failed to listen for the other servers: {e}"),
            },
            Err(e) => tracing::warn!("failed to connect to listen for the other servers: {e}"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

async fn receive(state: &AppState, listener: &mut PgListener, key: &BusKey) {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => match key.open(notification.payload()).map(serde_json::from_str::<Envelope>) {
                None => tracing::warn!(
                    "ignored a message on the servers' channel that is not signed with their key \
                     (is a role other than the servers' sending on channel {CHANNEL}?)"
                ),
                Some(Ok(envelope)) if envelope.from == state.cluster.id => {}
                Some(Ok(envelope)) => envelope.ms.into_iter().for_each(|m| apply(state, m)),
                Some(Err(e)) => tracing::warn!("ignored a message from another server that did not parse: {e}"),
            },
            // The connection was lost and has been made again: what was sent meanwhile is lost,
            // so every waiter looks again.
            Ok(None) => {
                tracing::warn!("the connection listening for the other servers was lost; every long-poll looks again");
                state.wakeups.wake_everyone_here();
            }
            Err(e) => {
                tracing::warn!("stopped listening for the other servers: {e}");
                state.wakeups.wake_everyone_here();
                return;
            }
        }
    }
}

/// Applies another server's message to this one's in-memory state.
fn apply(state: &AppState, message: Message) {
    match message {
        Message::Wake { ids } => state.wakeups.wake_here(&ids),
        Message::Changed => state.wakeups.changed_here(),
        Message::Configure { stack } => state.configure_events.trigger(stack),
        Message::Cancelled { ids } => state.cancelled.add(ids),
        Message::Polling { instance } => state.presence.forget(instance),
        Message::RelayAsk { frontend, request } => {
            state.frontend_relay.asked_elsewhere(frontend, request);
            state.wakeups.wake_here(&[frontend]);
        }
        Message::RelayAnswer { frontend, id, state: answer } => {
            state.frontend_relay.answered_elsewhere(frontend, id, answer)
        }
        Message::RelayWithdraw { id } => state.frontend_relay.withdrawn_elsewhere(id),
        Message::Heartbeat { instance, created_at, at_ms, cpu, memory, load } => {
            state.metrics.record_sample(instance, created_at, at_ms, cpu, memory, load);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_packed_under_the_budget_and_changes_folded() {
        let mut batch = vec![Message::Changed, Message::Configure { stack: 1 }, Message::Changed];
        batch.extend((0..2000).map(|i| Message::Polling { instance: i }));
        let payloads = pack("a", batch);
        assert!(payloads.len() > 1);
        let mut seen = Vec::new();
        for payload in &payloads {
            assert!(payload.len() < 8000, "{} bytes", payload.len());
            let envelope: Envelope = serde_json::from_str(payload).unwrap();
            assert_eq!(envelope.from, "a");
            seen.extend(envelope.ms);
        }
        assert_eq!(seen.iter().filter(|m| **m == Message::Changed).count(), 1);
        assert_eq!(seen.len(), 2 + 2000);
        assert_eq!(seen[1], Message::Configure { stack: 1 });
    }

    #[test]
    fn only_payloads_signed_with_the_key_open() {
        let (key, other) = (BusKey::new("k1"), BusKey::new("k2"));
        let sealed = key.seal(r#"{"from":"a","ms":[]}"#);
        assert_eq!(key.open(&sealed), Some(r#"{"from":"a","ms":[]}"#));
        assert_eq!(other.open(&sealed), None, "another key");
        assert_eq!(key.open(r#"{"from":"a","ms":[]}"#), None, "unsigned");
        let (mac, json) = sealed.split_once('.').unwrap();
        assert_eq!(key.open(&format!("{mac}.{}", json.replace("[]", r#"[{"t":"changed"}]"#))), None, "altered");
        assert_eq!(key.open(&format!("zz.{json}")), None, "not hex");
        let packed = pack("a", (0..2000).map(|i| Message::Polling { instance: i }).collect());
        assert!(packed.iter().all(|p| key.seal(p).len() < 8000), "sealed payloads stay under NOTIFY's limit");
    }

    #[test]
    fn wakes_of_many_instances_are_split() {
        let (outbox, mut rx) = outbox();
        let ids: Vec<i64> = (0..1000).collect();
        outbox.wake(&ids);
        let mut got = Vec::new();
        while let Ok(Message::Wake { ids }) = rx.try_recv() {
            assert!(ids.len() <= IDS_PER_MESSAGE);
            got.extend(ids);
        }
        assert_eq!(got, ids);
    }
}
