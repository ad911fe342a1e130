//! The console acts through the API, in process: each page's reads and changes are API requests
//! with the signed-in person's token, so they meet the same checks, permission levels, audit
//! trail and error messages as the CLI's.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{Method, Request, StatusCode};
use drover_proto::{ApiError, ErrorBody};
use serde::de::DeserializeOwned;
use tower::ServiceExt;

/// The most an API answer the console reads may weigh.
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// An API call that did not succeed: its status and the API's error.
#[derive(Debug)]
pub struct Refused {
    /// The HTTP status.
    pub status: StatusCode,
    /// What the API said.
    pub error: ApiError,
}

/// The API, as one signed-in person from one address.
#[derive(Clone)]
pub struct Api {
    router: Router,
    token: String,
    peer: Option<ConnectInfo<SocketAddr>>,
}

impl Api {
    /// Calls go to `router` with `token`, from `peer`.
    pub fn new(router: Router, token: String, peer: Option<ConnectInfo<SocketAddr>>) -> Self {
        Self { router, token, peer }
    }

    /// `GET /api/v1{path}`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Refused> {
        self.call(Method::GET, path, None).await
    }

    /// `POST /api/v1{path}` with a JSON body.
    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &serde_json::Value) -> Result<T, Refused> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// `PUT /api/v1{path}` with a JSON body.
    pub async fn put<T: DeserializeOwned>(&self, path: &str, body: &serde_json::Value) -> Result<T, Refused> {
        self.call(Method::PUT, path, Some(body)).await
    }

    /// `DELETE /api/v1{path}`.
    pub async fn delete(&self, path: &str) -> Result<(), Refused> {
        self.call::<serde_json::Value>(Method::DELETE, path, None).await.map(|_| ())
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, Refused> {
        let internal = |message: String| Refused {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: ApiError::new(drover_proto::ErrorCode::Internal, message),
        };
        let body = match body {
            Some(json) => Body::from(serde_json::to_vec(json).map_err(|e| internal(e.to_string()))?),
            None => Body::empty(),
        };
        let mut request = Request::builder().method(method).uri(format!("{}{path}", drover_proto::API_PREFIX));
        if !self.token.is_empty() {
            request = request.header(AUTHORIZATION, format!("Bearer {}", self.token));
        }
        let mut request = request
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .map_err(|e| internal(format!("bad request to {path}: {e}")))?;
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(peer);
        }
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER)
            .await
            .map_err(|e| internal(format!("failed to read the answer to {path}: {e}")))?;
        if status.is_success() {
            let bytes = if bytes.is_empty() { &b"null"[..] } else { &bytes[..] };
            return serde_json::from_slice(bytes).map_err(|e| internal(format!("unexpected answer to {path}: {e}")));
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(Refused { status, error: body.error }),
            Err(_) => Err(internal(format!("{path} answered {status}"))),
        }
    }
}
