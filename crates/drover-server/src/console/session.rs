//! Console sessions: signing in with a token makes a session, held in the server's memory and
//! named by a random id in a cookie that is `Secure`, `HttpOnly` and `SameSite=Strict`. Each
//! session has its own CSRF secret, which every form posts back. The store keeps only the
//! SHA-256 of session ids. A server restart signs everyone out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "drover_session";
/// The cookie that carries the sign-in form's CSRF secret before there is a session.
pub const LOGIN_COOKIE: &str = "drover_login";
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Most sessions held at once; the oldest goes first.
const MAX_SESSIONS: usize = 10_000;

/// A signed-in person.
#[derive(Clone)]
pub struct Session {
    /// The token they signed in with: every page acts through the API with it.
    pub token: String,
    /// Who it is (`admin`, or the user's name).
    pub name: String,
    /// The token's id when signing in with a password made it (revoked at sign-out).
    pub token_id: Option<i64>,
    /// What every form must post back.
    pub csrf: String,
    expires: Instant,
}

/// The sessions, by the hash of their ids.
#[derive(Default)]
pub struct Sessions {
    by_hash: Mutex<HashMap<[u8; 32], Session>>,
}

/// A random secret, 32 bytes as hex.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    /// Starts a session; answers its id (for the cookie).
    pub fn start(&self, token: String, name: String, token_id: Option<i64>) -> String {
        let id = random_secret();
        let session = Session { token, name, token_id, csrf: random_secret(), expires: Instant::now() + SESSION_TTL };
        let mut all = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        all.retain(|_, s| s.expires > now);
        if all.len() >= MAX_SESSIONS
            && let Some(oldest) = all.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k)
        {
            all.remove(&oldest);
        }
        all.insert(hash(&id), session);
        id
    }

    /// The live session the request's cookie names.
    pub fn find(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, SESSION_COOKIE)?;
        let all = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        all.get(&hash(&id)).filter(|s| s.expires > Instant::now()).cloned()
    }

    /// Ends the request's session, if any.
    pub fn end(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, SESSION_COOKIE) {
            self.by_hash.lock().unwrap_or_else(|e| e.into_inner()).remove(&hash(&id));
        }
    }
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value: secure, script-proof and same-site only.
pub fn set_cookie(name: &str, value: &str, max_age: Duration) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}", max_age.as_secs())
}

/// Whether a posted secret is the expected one, in constant time.
pub fn same_secret(expected: &str, posted: &str) -> bool {
    let (a, b) = (Sha256::digest(expected.as_bytes()), Sha256::digest(posted.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0 && !expected.is_empty()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn sessions_are_found_by_cookie_and_ended() {
        let sessions = Sessions::default();
        let id = sessions.start("drv1:user:x:y:z".into(), "dana".into(), None);
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(&format!("other=1; {SESSION_COOKIE}={id}")).unwrap());
        let found = sessions.find(&headers).expect("the session");
        assert_eq!((found.name.as_str(), found.csrf.len()), ("dana", 64));
        let mut forged = HeaderMap::new();
        forged.insert(COOKIE, HeaderValue::from_static("drover_session=0000"));
        assert!(sessions.find(&forged).is_none());
        sessions.end(&headers);
        assert!(sessions.find(&headers).is_none());
    }

    #[test]
    fn secrets_compare_whole() {
        // (expected, posted, same)
        let cases = [("abc", "abc", true), ("abc", "abd", false), ("abc", "", false), ("", "", false)];
        for (expected, posted, same) in cases {
            assert_eq!(same_secret(expected, posted), same, "{expected:?} {posted:?}");
        }
    }

    #[test]
    fn cookies_are_secure_http_only_and_same_site() {
        let set = set_cookie(SESSION_COOKIE, "abc", SESSION_TTL);
        for part in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
            assert!(set.contains(part), "{set}");
        }
    }
}
