//! Console passwords: kept only as Argon2id hashes (PHC strings with their salt), hashed and
//! checked off the async threads; and how many wrong ones each user name has had lately.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use drover_core::password::WRONG_GUESSES;
use drover_core::rate_limit::{Bucket, Decision, take};
use rand::RngCore;

/// The hash of a new password.
pub async fn hash(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Whether `password` is the one `stored` was made from. With none stored (no such user, or no
/// password), a hash is still checked, so the answer takes as long either way.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    let result = tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| stand_in().to_owned());
        let Ok(parsed) = PasswordHash::new(&stored) else { return false };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && known
    })
    .await;
    result.unwrap_or(false)
}

/// A hash no password is checked against successfully, for names without a password.
fn stand_in() -> &'static str {
    static STAND_IN: OnceLock<String> = OnceLock::new();
    STAND_IN.get_or_init(|| {
        let salt = SaltString::encode_b64(b"drover-stand-in!").expect("16 bytes encode");
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        Argon2::default().hash_password(&secret, &salt).map(|h| h.to_string()).unwrap_or_default()
    })
}

/// Wrong passwords per user name ([`WRONG_GUESSES`]), in memory.
#[derive(Default)]
pub struct WrongGuesses {
    buckets: Mutex<HashMap<String, Bucket>>,
    started: OnceLock<Instant>,
}

impl WrongGuesses {
    fn now(&self) -> f64 {
        self.started.get_or_init(Instant::now).elapsed().as_secs_f64()
    }

    /// How long `name` must wait before its next try, when it has had too many wrong ones.
    pub fn wait(&self, name: &str) -> Option<Duration> {
        let now = self.now();
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let mut bucket = *buckets.get(name)?;
        match take(&mut bucket, WRONG_GUESSES, now) {
            Decision::Allowed => None,
            Decision::Refused { retry_after } => Some(retry_after),
        }
    }

    /// Counts a wrong password for `name`.
    pub fn wrong(&self, name: &str) {
        let now = self.now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            buckets.retain(|_, b| !b.is_idle(WRONG_GUESSES, now));
        }
        let bucket = buckets.entry(name.to_owned()).or_insert_with(|| Bucket::full(WRONG_GUESSES, now));
        let _ = take(bucket, WRONG_GUESSES, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_checks_its_own_password_only() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify("correct horse battery".into(), Some(stored.clone())).await);
        assert!(!verify("correct horse batterx".into(), Some(stored)).await);
        assert!(!verify("anything".into(), None).await, "no password: never");
        assert!(!verify("anything".into(), Some("not a hash".into())).await);
    }

    #[test]
    fn five_wrong_then_wait() {
        let guesses = WrongGuesses::default();
        for _ in 0..5 {
            assert_eq!(guesses.wait("dana"), None);
            guesses.wrong("dana");
        }
        assert!(guesses.wait("dana").is_some());
        assert_eq!(guesses.wait("sam"), None, "per name");
    }
}
