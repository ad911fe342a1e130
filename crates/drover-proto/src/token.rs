//! Tokens: `drv1:<kind>:<ca-sha256-hex>:<secret>:<server-url>`.
//!
//! Admin and join tokens carry the server URL and the SHA-256 fingerprint of the server's CA
//! certificate, so a client needs nothing else to connect safely: it pins the CA by fingerprint
//! (the k3s pattern). Agent credentials have the form `drv1:agent:<instance-id>:<secret>`.

use std::fmt;
use std::str::FromStr;

/// Which door a token opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Everything in the API.
    Admin,
    /// Only agent enrollment, into one stack (see `drover token create --join`).
    Join,
    /// A person's personal token: their levels on each stack, cut down to the token's scope.
    User,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Join => "join",
            Self::User => "user",
        }
    }
}

/// An admin, user or join token.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// Admin, user or join.
    pub kind: TokenKind,
    /// Lowercase hex SHA-256 of the CA certificate (DER).
    pub ca_fingerprint: String,
    /// The secret the server checks.
    pub secret: String,
    /// Where the server listens, e.g. `https://127.0.0.1:7443`.
    pub server_url: String,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("kind", &self.kind)
            .field("ca_fingerprint", &self.ca_fingerprint)
            .field("secret", &"<redacted>")
            .field("server_url", &self.server_url)
            .finish()
    }
}

/// A token that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the token is not a drover token ({0}); copy it again (admin.token in the server's data dir, or a join token from `drover token create --join`)"
)]
pub struct TokenError(&'static str);

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "drv1:{}:{}:{}:{}", self.kind.as_str(), self.ca_fingerprint, self.secret, self.server_url)
    }
}

/// Whether `s` looks like a secret the server generates.
pub fn is_secret_shaped(s: &str) -> bool {
    s.len() >= 32 && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric())
}

impl FromStr for Token {
    type Err = TokenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.trim().splitn(5, ':');
        if parts.next() != Some("drv1") {
            return Err(TokenError("it does not start with drv1:"));
        }
        let kind = match parts.next() {
            Some("admin") => TokenKind::Admin,
            Some("join") => TokenKind::Join,
            Some("user") => TokenKind::User,
            _ => return Err(TokenError("its kind is not admin, user or join")),
        };
        let fingerprint = parts.next().unwrap_or_default();
        if fingerprint.len() != 64 || !fingerprint.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(TokenError("the CA fingerprint is not 64 hex digits"));
        }
        let secret = parts.next().unwrap_or_default();
        if !is_secret_shaped(secret) {
            return Err(TokenError("the secret is malformed"));
        }
        let url = parts.next().unwrap_or_default();
        if !url.starts_with("https://") {
            return Err(TokenError("the server URL does not start with https://"));
        }
        Ok(Token {
            kind,
            ca_fingerprint: fingerprint.to_ascii_lowercase(),
            secret: secret.to_owned(),
            server_url: url.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Token {
        Token {
            kind: TokenKind::Join,
            ca_fingerprint: "ab".repeat(32),
            secret: "S".repeat(40),
            server_url: "https://127.0.0.1:7443".into(),
        }
    }

    #[test]
    fn round_trips() {
        let t = sample();
        assert_eq!(t.to_string().parse::<Token>(), Ok(t));
    }

    #[test]
    fn refuses_malformed_tokens() {
        let good = sample().to_string();
        let cases = [
            ("", "does not start"),
            ("drv2:join:x", "does not start"),
            (&good.replace(":join:", ":root:"), "kind"),
            (&good.replace(&"ab".repeat(32), "abc"), "fingerprint"),
            (&good.replace(&"S".repeat(40), "short"), "secret"),
            (&good.replace("https://", "http://"), "https"),
        ];
        for (raw, want) in cases {
            let err = raw.parse::<Token>().unwrap_err().to_string();
            assert!(err.contains(want), "{raw:?}: {err}");
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        assert!(!format!("{:?}", sample()).contains("SSSS"));
    }
}
