//! The frontend's certificate in Custom JSON (`nginx_plone.ssl`): every PEM text parsed and the
//! key matched to the certificate before a document is saved (so nothing unusable reaches a
//! host), and the certificate's end for `stack frontends` and `status`.

use drover_core::frontend::tls::certificate_state;
use drover_proto::api::FrontendCertificate;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;

/// What is wrong with a document's `nginx_plone.ssl`, at a JSON path inside the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsProblem {
    /// Where, e.g. `nginx_plone.ssl.certificate_key`.
    pub path: String,
    /// What is wrong and what to do.
    pub message: String,
}

const SSL: [&str; 2] = ["nginx_plone", "ssl"];

fn problem(key: &str, message: impl Into<String>) -> TlsProblem {
    TlsProblem { path: format!("{}.{}.{key}", SSL[0], SSL[1]), message: message.into() }
}

fn text<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.get(SSL[0])?.get(SSL[1])?.get(key)?.as_str()
}

/// The certificates of a PEM text, in order; an error when it holds none or one is not X.509.
fn certificates(pem: &str, key: &str) -> Result<Vec<CertificateDer<'static>>, TlsProblem> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| problem(key, format!("is not valid PEM ({e}); paste the certificate as PEM text")))?;
    if certs.is_empty() {
        return Err(problem(
            key,
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----); paste the certificate as PEM",
        ));
    }
    for (i, der) in certs.iter().enumerate() {
        x509_parser::parse_x509_certificate(der)
            .map_err(|e| problem(key, format!("certificate {} of the text is not an X.509 certificate: {e}", i + 1)))?;
    }
    Ok(certs)
}

/// Checks one Custom JSON document's `nginx_plone.ssl`: the certificate and its key are given
/// together (so they are checked as a pair), each parses, the chain parses, and the key is the
/// certificate's.
pub fn check_document(doc: &Value) -> Result<(), TlsProblem> {
    let (cert, key, chain) = (text(doc, "certificate"), text(doc, "certificate_key"), text(doc, "certificate_ca"));
    let (cert, key) = match (cert, key) {
        (None, None) => {
            if chain.is_some() {
                return Err(problem(
                    "certificate_ca",
                    "a chain without a certificate; give nginx_plone.ssl.certificate and certificate_key with it",
                ));
            }
            return Ok(());
        }
        (Some(_), None) => {
            return Err(problem(
                "certificate_key",
                "is missing: give the certificate's private key (PEM) in the same document as the certificate",
            ));
        }
        (None, Some(_)) => {
            return Err(problem(
                "certificate",
                "is missing: give the key's certificate (PEM) in the same document as the key",
            ));
        }
        (Some(c), Some(k)) => (c, k),
    };
    let certs = certificates(cert, "certificate")?;
    if let Some(chain) = chain {
        certificates(chain, "certificate_ca")?;
    }
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|_| {
        problem(
            "certificate_key",
            "holds no PEM private key (PKCS#8 \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\"); paste the key as PEM",
        )
    })?;
    let signing = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key)
        .map_err(|e| problem("certificate_key", format!("is not a usable RSA, ECDSA or Ed25519 key: {e}")))?;
    match rustls::sign::CertifiedKey::new(certs, signing).keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(()),
        Err(rustls::Error::InconsistentKeys(_)) => Err(problem(
            "certificate_key",
            "does not belong to the certificate (their public keys differ); give the certificate's own key",
        )),
        Err(e) => Err(problem("certificate", format!("cannot be read: {e}"))),
    }
}

/// The certificate an instance's effective attributes serve, with where it stands at `now_secs`;
/// none when HTTPS is off or the certificate does not parse (documents are checked on save).
pub fn certificate_of(hostname: &str, effective: &Value, now_secs: i64) -> Option<FrontendCertificate> {
    let pem = text(effective, "certificate")?;
    text(effective, "certificate_key")?;
    let der = CertificateDer::pem_slice_iter(pem.as_bytes()).next()?.ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
    let not_after = cert.validity().not_after.timestamp();
    let (state, days_left) = certificate_state(not_after, now_secs);
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                x509_parser::extensions::GeneralName::DNSName(n) => names.push((*n).to_owned()),
                x509_parser::extensions::GeneralName::IPAddress(ip) => {
                    if let Ok(v4) = <[u8; 4]>::try_from(*ip) {
                        names.push(std::net::Ipv4Addr::from(v4).to_string());
                    } else if let Ok(v6) = <[u8; 16]>::try_from(*ip) {
                        names.push(std::net::Ipv6Addr::from(v6).to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Some(FrontendCertificate {
        hostname: hostname.to_owned(),
        not_after: crate::time::rfc3339(not_after.saturating_mul(1000)),
        days_left,
        expired: state == drover_core::frontend::tls::CertificateState::Expired,
        state: state.as_str().to_owned(),
        names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pair(names: &[&str], not_after: (i32, u8, u8)) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn doc(ssl: Value) -> Value {
        json!({"nginx_plone": {"ssl": ssl}})
    }

    fn path_of(d: Value) -> String {
        check_document(&d).unwrap_err().path
    }

    #[test]
    fn a_matching_pair_passes_and_everything_else_is_refused_by_path() {
        let (cert, key) = pair(&["www.example.org"], (2099, 1, 1));
        let (other_cert, other_key) = pair(&["other.example.org"], (2099, 1, 1));
        assert_eq!(check_document(&json!({})), Ok(()));
        assert_eq!(check_document(&doc(json!({"hsts": 60}))), Ok(()));
        assert_eq!(check_document(&doc(json!({"certificate": cert, "certificate_key": key}))), Ok(()));
        let chained = json!({"certificate": cert, "certificate_key": key, "certificate_ca": other_cert});
        assert_eq!(check_document(&doc(chained)), Ok(()));
        let cases = [
            (json!({"certificate": cert}), "certificate_key"),
            (json!({"certificate_key": key}), "certificate"),
            (json!({"certificate_ca": cert}), "certificate_ca"),
            (json!({"certificate": "not pem", "certificate_key": key}), "certificate"),
            (
                json!({"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "certificate_key": key}),
                "certificate",
            ),
            (json!({"certificate": cert, "certificate_key": "-----BEGIN PRIVATE KEY-----\nxx\n"}), "certificate_key"),
            (json!({"certificate": cert, "certificate_key": other_key}), "certificate_key"),
            (json!({"certificate": cert, "certificate_key": key, "certificate_ca": "junk"}), "certificate_ca"),
        ];
        for (ssl, key) in cases {
            assert_eq!(path_of(doc(ssl.clone())), format!("nginx_plone.ssl.{key}"), "{ssl}");
        }
        let e = check_document(&doc(json!({"certificate": cert, "certificate_key": other_key}))).unwrap_err();
        assert!(e.message.contains("does not belong to the certificate"), "{e:?}");
    }

    #[test]
    fn the_certificate_s_end_and_names() {
        let (cert, key) = pair(&["www.example.org", "127.0.0.9"], (2030, 6, 1));
        let effective = doc(json!({"certificate": cert, "certificate_key": key}));
        let now = 1_893_456_000; // 2030-01-01
        let c = certificate_of("web1", &effective, now).unwrap();
        assert_eq!((c.state.as_str(), c.days_left, c.expired), ("ok", 151, false));
        assert!(c.not_after.starts_with("2030-06-01T00:00:00"), "{}", c.not_after);
        assert_eq!(c.names, ["www.example.org", "127.0.0.9"]);
        let c = certificate_of("web1", &effective, 1_912_000_000).unwrap();
        assert_eq!((c.state.as_str(), c.expired), ("expired", true));
        assert_eq!(certificate_of("web1", &json!({}), now), None);
    }
}
