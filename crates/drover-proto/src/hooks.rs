//! Wire types of deploy webhooks.

use serde::{Deserialize, Serialize};

/// An app's deploy webhook, as enabling it answers: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Webhook {
    /// Where to `POST` (the app's id is in it).
    pub url: String,
    /// The HMAC-SHA256 key the sender signs each body with (`X-Hub-Signature-256: sha256=<hex>`).
    pub secret: String,
}

/// What a good delivery that deploys nothing answers (`202`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ignored {
    /// Why nothing was deployed.
    pub ignored: String,
}
