//! The orchestrator's error policy: a refusal says what was wrong with the request (which field,
//! what to do) and changed nothing; a store fault is passed on. The API turns each into its
//! `{"error": ...}` shape in one `From` (`api/failure.rs`).

/// Why the orchestrator refused or failed an action.
#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    /// The request names something invalid.
    #[error("{field}: {message}")]
    Invalid {
        /// The request field.
        field: String,
        /// What was wrong, and what to do.
        message: String,
    },
    /// The request names something that does not exist.
    #[error("{field}: {message}")]
    NotFound {
        /// The request field.
        field: String,
        /// What is missing, and where to look.
        message: String,
    },
    /// The request conflicts with the state (a lock, a duplicate name, no address left).
    #[error("{message}")]
    Conflict {
        /// The request field, if one is to blame.
        field: Option<String>,
        /// What conflicts, and what to do.
        message: String,
    },
    /// The store failed.
    #[error("failed to reach the store: {0}")]
    Db(#[from] sqlx::Error),
    /// Something that cannot happen did.
    #[error("{0}")]
    Internal(String),
}

impl OrchestratorError {
    /// A refusal about `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { field: field.into(), message: message.into() }
    }

    /// A missing thing named by `field`.
    pub fn not_found(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::NotFound { field: field.into(), message: message.into() }
    }

    /// A conflict with the state.
    pub fn conflict(field: Option<&str>, message: impl Into<String>) -> Self {
        Self::Conflict { field: field.map(String::from), message: message.into() }
    }
}

impl From<crate::store::StoreError> for OrchestratorError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Duplicate => Self::conflict(None, "it already exists"),
            crate::store::StoreError::JoinTokenSpent => Self::conflict(
                None,
                "the join token was revoked, expired or used up while this enrollment ran; create another with `drover token create --join`",
            ),
            crate::store::StoreError::Db(e) => Self::Db(e),
        }
    }
}
