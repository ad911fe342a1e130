//! The API's error contract: every failure is `{"error": {"code", "message", "field"?}}` with the
//! status its code maps to. Internal faults are logged with their cause and answered without it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use drover_proto::{ApiError, ErrorBody, ErrorCode};

/// A handler's failure.
#[derive(Debug)]
pub struct Failure(pub ApiError);

/// What handlers return.
pub type ApiResult<T> = Result<T, Failure>;

impl Failure {
    /// 422 about a field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(ApiError::field(ErrorCode::Invalid, field, message))
    }

    /// 404 about a field.
    pub fn not_found(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(ApiError::field(ErrorCode::NotFound, field, message))
    }

    /// 409.
    pub fn conflict(field: Option<&str>, message: impl Into<String>) -> Self {
        Self(ApiError {
            code: ErrorCode::Conflict,
            message: message.into(),
            field: field.map(String::from),
            details: Vec::new(),
        })
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self(ApiError::new(ErrorCode::Unauthorized, message))
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self(ApiError::new(ErrorCode::Forbidden, message))
    }

    /// 500, logging the cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {cause}");
        Self(ApiError::new(ErrorCode::Internal, "the server failed to complete the request; see the server log"))
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Self::internal(format!("store: {e}"))
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Duplicate => Self::conflict(None, "it already exists"),
            crate::store::StoreError::JoinTokenSpent => Self::unauthorized(
                "the join token was revoked, expired or used up while this enrollment ran; create another with `drover token create --join`",
            ),
            crate::store::StoreError::Db(e) => e.into(),
        }
    }
}

impl From<crate::orchestrator::OrchestratorError> for Failure {
    fn from(e: crate::orchestrator::OrchestratorError) -> Self {
        use crate::orchestrator::OrchestratorError as E;
        match e {
            E::Invalid { field, message } => Self::invalid(field, message),
            E::NotFound { field, message } => Self::not_found(field, message),
            E::Conflict { field, message } => Self::conflict(field.as_deref(), message),
            E::Db(e) => e.into(),
            E::Internal(cause) => Self::internal(cause),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(ErrorBody { error: self.0 })).into_response()
    }
}
