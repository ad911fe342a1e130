//! HTTPS at the frontend: `nginx_plone.ssl` (the certificate, its key, an optional chain, HSTS
//! and the redirect of port 80), and how close a certificate is to its end.
//!
//! The names are the cookbook's app fields without their `ssl_` prefix: `certificate`
//! (`ssl_certificate`), `certificate_key` (`ssl_certificate_key`) and `certificate_ca`
//! (`ssl_certificate_ca`, the intermediate certificates served after the certificate).

use serde::{Deserialize, Serialize};

use crate::attributes::Reader;

/// nginx's HTTPS port.
pub const HTTPS_PORT: u16 = 443;

/// A certificate that ends in fewer days than this is reported as expiring.
pub const EXPIRING_WITHIN_DAYS: i64 = 14;

/// The longest HSTS max-age accepted (two years, in seconds).
pub const MAX_HSTS_SECONDS: u64 = 63_072_000;

/// `nginx_plone.ssl`, when it gives a certificate and its key.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SslSettings {
    /// The certificate, then the chain (`certificate_ca`), PEM: the file nginx serves.
    pub certificate: String,
    /// The private key, PEM (a secret: never in Debug output or logs).
    pub certificate_key: String,
    /// `hsts`: the `Strict-Transport-Security` max-age in seconds; none sends no header.
    pub hsts: Option<u64>,
    /// `redirect_http` (true): port 80 answers every request with a redirect to HTTPS.
    pub redirect_http: bool,
    /// nginx's HTTPS port.
    pub https_port: u16,
}

impl std::fmt::Debug for SslSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SslSettings")
            .field("certificate", &format_args!("{} bytes of PEM", self.certificate.len()))
            .field("certificate_key", &crate::attributes::REDACTED)
            .field("hsts", &self.hsts)
            .field("redirect_http", &self.redirect_http)
            .field("https_port", &self.https_port)
            .finish()
    }
}

/// Reads `nginx_plone.ssl` out of an instance's effective attributes: none when it gives no
/// certificate (HTTPS off); a certificate without its key (or a key without its certificate) is
/// an error at the missing one's path.
pub fn ssl_settings(r: &mut Reader<'_>) -> Option<SslSettings> {
    let s = |k: &'static str| -> [&'static str; 3] { ["nginx_plone", "ssl", k] };
    let certificate = r.string(&s("certificate"));
    let key = r.string(&s("certificate_key"));
    let chain = r.string(&s("certificate_ca"));
    let hsts = r.whole(&s("hsts"), 0);
    let redirect_http = r.bool(&s("redirect_http"));
    let (certificate, key) = match (certificate, key) {
        (Some(c), Some(k)) => (c, k),
        (None, None) => return None,
        (Some(_), None) => {
            r.errors.push(crate::attributes::AttributeError {
                path: "nginx_plone.ssl.certificate_key".into(),
                expected: "the certificate's private key (PEM), set with nginx_plone.ssl.certificate".into(),
            });
            return None;
        }
        (None, Some(_)) => {
            r.errors.push(crate::attributes::AttributeError {
                path: "nginx_plone.ssl.certificate".into(),
                expected: "the key's certificate (PEM), set with nginx_plone.ssl.certificate_key".into(),
            });
            return None;
        }
    };
    Some(SslSettings {
        certificate: full_chain(&certificate, chain.as_deref()),
        certificate_key: key,
        hsts: hsts.filter(|&s| s > 0),
        redirect_http,
        https_port: HTTPS_PORT,
    })
}

/// The certificate followed by its chain, each ending in a line break.
pub fn full_chain(certificate: &str, chain: Option<&str>) -> String {
    let mut out = String::new();
    for pem in std::iter::once(certificate).chain(chain) {
        let pem = pem.trim();
        if !pem.is_empty() {
            out.push_str(pem);
            out.push('\n');
        }
    }
    out
}

/// How close a certificate is to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertificateState {
    /// More than [`EXPIRING_WITHIN_DAYS`] days left.
    Ok,
    /// Still valid, ending within [`EXPIRING_WITHIN_DAYS`] days.
    Expiring,
    /// Its end (`not_after`) has passed: clients refuse it.
    Expired,
}

impl CertificateState {
    /// `ok`, `expiring` or `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Expiring => "expiring",
            Self::Expired => "expired",
        }
    }
}

/// Where a certificate stands at `now`: its state and its whole days left (negative once
/// expired), both times in seconds since the Unix epoch.
pub fn certificate_state(not_after: i64, now: i64) -> (CertificateState, i64) {
    let days_left = (not_after - now).div_euclid(86_400);
    let state = if now >= not_after {
        CertificateState::Expired
    } else if days_left < EXPIRING_WITHIN_DAYS {
        CertificateState::Expiring
    } else {
        CertificateState::Ok
    };
    (state, days_left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DAY: i64 = 86_400;

    #[test]
    fn states_by_days_left() {
        let now = 1_800_000_000;
        let cases = [
            (now + 90 * DAY, CertificateState::Ok, 90),
            (now + 14 * DAY, CertificateState::Ok, 14),
            (now + 14 * DAY - 1, CertificateState::Expiring, 13),
            (now + DAY / 2, CertificateState::Expiring, 0),
            (now + 1, CertificateState::Expiring, 0),
            (now, CertificateState::Expired, 0),
            (now - 1, CertificateState::Expired, -1),
            (now - 3 * DAY, CertificateState::Expired, -3),
        ];
        for (not_after, state, days) in cases {
            assert_eq!(certificate_state(not_after, now), (state, days), "{}", not_after - now);
        }
    }

    fn read(doc: serde_json::Value) -> (Option<SslSettings>, Vec<String>) {
        let mut r = Reader::new(&doc);
        let s = ssl_settings(&mut r);
        (s, r.errors.into_iter().map(|e| e.path).collect())
    }

    #[test]
    fn settings_from_attributes() {
        assert_eq!(read(json!({})), (None, vec![]));
        let (s, errors) = read(json!({"nginx_plone": {"ssl": {
            "certificate": "CERT\n", "certificate_key": "KEY", "certificate_ca": "CA", "hsts": 31536000
        }}}));
        let s = s.unwrap();
        assert!(errors.is_empty());
        assert_eq!((s.certificate.as_str(), s.certificate_key.as_str()), ("CERT\nCA\n", "KEY"));
        assert_eq!((s.hsts, s.redirect_http, s.https_port), (Some(31536000), true, 443));
        let (s, _) = read(json!({"nginx_plone": {"ssl": {
            "certificate": "C", "certificate_key": "K", "redirect_http": false, "hsts": 0
        }}}));
        assert_eq!(s.map(|s| (s.hsts, s.redirect_http)), Some((None, false)));
        assert_eq!(
            read(json!({"nginx_plone": {"ssl": {"certificate": "C"}}})),
            (None, vec!["nginx_plone.ssl.certificate_key".to_owned()])
        );
        assert_eq!(
            read(json!({"nginx_plone": {"ssl": {"certificate_key": "K", "hsts": "long"}}})),
            (None, vec!["nginx_plone.ssl.hsts".to_owned(), "nginx_plone.ssl.certificate".to_owned()])
        );
    }

    #[test]
    fn the_key_is_not_in_debug_output() {
        let (s, _) = read(json!({"nginx_plone": {"ssl": {"certificate": "C", "certificate_key": "SECRET"}}}));
        let shown = format!("{s:?}");
        assert!(!shown.contains("SECRET") && shown.contains("<redacted>"), "{shown}");
    }
}
