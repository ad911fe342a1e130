//! Shared HTTPS plumbing: the server URLs, the bearer token, pinned TLS, and failing over between
//! servers. A server URL may list several servers of one control plane, comma-separated
//! (`https://a:7443,https://b:7443`); a call that cannot connect to the current one goes to the
//! next, which stays current. Only a failure to connect moves on: a request that may have reached
//! a server is never sent to another, so nothing is done twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use drover_proto::{API_PREFIX, ErrorBody};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ClientError, chain};
use crate::tls::pinned_client_config;

/// How long an ordinary call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The servers, the token and the pinned TLS client.
#[derive(Clone)]
pub struct Http {
    pub inner: reqwest::Client,
    bases: Arc<[String]>,
    current: Arc<AtomicUsize>,
    pub token: String,
}

/// The servers a URL list names, in order, without trailing slashes.
pub fn server_urls(list: &str) -> Vec<String> {
    let urls: Vec<String> =
        list.split(',').map(|u| u.trim().trim_end_matches('/').to_owned()).filter(|u| !u.is_empty()).collect();
    if urls.is_empty() { vec![list.trim().to_owned()] } else { urls }
}

impl Http {
    pub fn new(server_url: &str, ca_fingerprint: &str, token: &str) -> Result<Self, ClientError> {
        let mut tls = pinned_client_config(ca_fingerprint).map_err(|e| ClientError::Setup(e.to_string()))?;
        // HTTP/2 where the server offers it: an agent's long-poll, heartbeats and reports share
        // one connection (one descriptor per agent on the server, one TLS handshake).
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let inner = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .map_err(|e| ClientError::Setup(chain(&e)))?;
        Ok(Self {
            inner,
            bases: server_urls(server_url).into(),
            current: Arc::new(AtomicUsize::new(0)),
            token: token.to_owned(),
        })
    }

    /// The server calls go to now.
    pub fn base(&self) -> String {
        self.bases[self.current.load(Ordering::Relaxed) % self.bases.len()].clone()
    }

    /// Sends a request to the current server, or, when it cannot be connected to, to the next.
    async fn send<B: Serialize>(
        &self,
        method: &Method,
        path: &str,
        body: Option<&B>,
        timeout: Duration,
    ) -> Result<(reqwest::Response, String), ClientError> {
        let first = self.current.load(Ordering::Relaxed);
        let count = self.bases.len();
        let mut refused = Vec::new();
        for attempt in 0..count {
            let index = (first + attempt) % count;
            let base = &self.bases[index];
            let mut req = self
                .inner
                .request(method.clone(), format!("{base}{API_PREFIX}{path}"))
                .bearer_auth(&self.token)
                .timeout(timeout);
            if let Some(body) = body {
                req = req.json(body);
            }
            match req.send().await {
                Ok(resp) => {
                    if attempt > 0 {
                        self.current.store(index, Ordering::Relaxed);
                    }
                    return Ok((resp, base.clone()));
                }
                Err(e) if e.is_connect() && attempt + 1 < count => refused.push(format!("{base}: {}", chain(&e))),
                Err(e) => {
                    let detail = chain(&e);
                    let url = if refused.is_empty() { base.clone() } else { self.bases.join(",") };
                    refused.push(detail);
                    return Err(ClientError::Unreachable { url, detail: refused.join("; ") });
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    pub async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        timeout: Duration,
    ) -> Result<Option<T>, ClientError> {
        let (resp, base) = self.send(&method, path, body, timeout).await?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = resp.bytes().await.map_err(|e| ClientError::Unreachable { url: base, detail: chain(&e) })?;
        if (200..300).contains(&status) {
            if status == 204 || bytes.is_empty() {
                return Ok(None);
            }
            return serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| ClientError::Protocol { status, detail: e.to_string() });
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(ClientError::Api { status, error: body.error, retry_after }),
            Err(_) => Err(ClientError::Protocol { status, detail: String::from_utf8_lossy(&bytes).into_owned() }),
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.required(self.call::<(), T>(Method::GET, path, None, CALL_TIMEOUT).await)
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ClientError> {
        self.required(self.call(Method::POST, path, Some(body), CALL_TIMEOUT).await)
    }

    pub async fn post_empty<B: Serialize>(&self, path: &str, body: &B) -> Result<(), ClientError> {
        self.call::<B, serde_json::Value>(Method::POST, path, Some(body), CALL_TIMEOUT).await.map(|_| ())
    }

    pub async fn put_empty<B: Serialize>(&self, path: &str, body: &B) -> Result<(), ClientError> {
        self.call::<B, serde_json::Value>(Method::PUT, path, Some(body), CALL_TIMEOUT).await.map(|_| ())
    }

    pub async fn delete(&self, path: &str) -> Result<(), ClientError> {
        self.call::<(), serde_json::Value>(Method::DELETE, path, None, CALL_TIMEOUT).await.map(|_| ())
    }

    pub fn required<T>(&self, got: Result<Option<T>, ClientError>) -> Result<T, ClientError> {
        got?.ok_or_else(|| ClientError::Protocol { status: 204, detail: "empty body where one was expected".into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_url_may_list_several_servers() {
        let cases: [(&str, &[&str]); 4] = [
            ("https://a:7443", &["https://a:7443"]),
            ("https://a:7443/, https://b:7443", &["https://a:7443", "https://b:7443"]),
            ("https://a:7443,,", &["https://a:7443"]),
            ("", &[""]),
        ];
        for (list, want) in cases {
            assert_eq!(server_urls(list), want, "{list:?}");
        }
    }
}
