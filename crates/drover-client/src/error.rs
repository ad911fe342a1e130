//! Error policy: one enum for everything a call can meet. The CLI maps each variant to an exit
//! code (unreachable and unauthorised: 3; a refused request: 2).

use drover_proto::ApiError;

/// A failed API call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No answer: the server is down, the address is wrong, or its certificate is not the pinned one.
    #[error("cannot reach the drover server at {url}: {detail}; check that it runs and that DROVER_SERVER is right")]
    Unreachable {
        /// The server URL.
        url: String,
        /// The cause chain, flattened.
        detail: String,
    },
    /// The server answered with an error.
    #[error("{error}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The error body.
        error: ApiError,
        /// When to try again, from `Retry-After` (sent with 429 and 503).
        retry_after: Option<std::time::Duration>,
    },
    /// The server answered something this client does not understand.
    #[error("unexpected answer from the server (HTTP {status}): {detail}")]
    Protocol {
        /// The HTTP status.
        status: u16,
        /// What was wrong.
        detail: String,
    },
    /// The client could not be set up.
    #[error("failed to set up the HTTPS client: {0}")]
    Setup(String),
}

impl ClientError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::Protocol { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How long the server asked to wait before trying again (`Retry-After`), when it did.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True when the server could not be reached or refused the credentials.
    pub fn is_unreachable_or_unauthorised(&self) -> bool {
        matches!(self, Self::Unreachable { .. }) || matches!(self.status(), Some(401 | 403))
    }
}

/// The whole source chain of an error, joined with ": ".
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        next = e.source();
    }
    out
}
