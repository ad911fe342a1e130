//! The server's CA and certificate.
//!
//! First start: a CA key and certificate are made and kept in `<data>/pki` (key mode 0600). Every
//! start: a fresh server certificate is signed by that CA for the current names and addresses,
//! so changing `--advertise-url` needs no new CA. Clients pin the CA's SHA-256 fingerprint.

use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

use crate::error::ServerError;
use crate::secrets::write_private;

/// The loaded certificates.
pub struct Pki {
    /// Hex SHA-256 of the CA certificate (DER): what tokens carry.
    pub fingerprint: String,
    /// TLS settings for the listener.
    pub tls: Arc<rustls::ServerConfig>,
}

fn pki_err(what: &str) -> impl FnOnce(rcgen::Error) -> ServerError + '_ {
    move |e| ServerError::Pki(format!("{what}: {e}"))
}

/// Loads the CA from `dir` (creating it on first start) and signs a server certificate for `sans`.
pub fn load_or_create(dir: &Path, sans: &[String]) -> Result<Pki, ServerError> {
    std::fs::create_dir_all(dir).map_err(ServerError::io("create", dir))?;
    if read_ca(dir)?.is_none() {
        let (cert, key) = generate_ca()?;
        write_ca(dir, &cert, &key)?;
    }
    let (ca_pem, key_pem) = read_ca(dir)?.ok_or_else(|| ServerError::Pki("the CA files vanished".into()))?;
    let ca_key = KeyPair::from_pem(&key_pem).map_err(pki_err("read the CA key"))?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key).map_err(pki_err("read the CA certificate"))?;
    let ca_der = pem_to_der(&ca_pem)?;

    let leaf_key = KeyPair::generate().map_err(pki_err("generate the server key"))?;
    let mut params = CertificateParams::new(sans.to_vec()).map_err(pki_err("server certificate names"))?;
    params.distinguished_name.push(DnType::CommonName, "drover server");
    params.not_after = rcgen::date_time_ymd(2100, 1, 1);
    let leaf = params.signed_by(&leaf_key, &issuer).map_err(pki_err("sign the server certificate"))?;

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let chain = vec![leaf.der().clone(), ca_der.clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| ServerError::Pki(format!("TLS settings: {e}")))?;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Pki { fingerprint: hex::encode(Sha256::digest(&ca_der)), tls: Arc::new(tls) })
}

/// A new CA: its certificate and private key, PEM.
pub fn generate_ca() -> Result<(String, String), ServerError> {
    let key = KeyPair::generate().map_err(pki_err("generate the CA key"))?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(pki_err("CA parameters"))?;
    params.distinguished_name.push(DnType::CommonName, "Drover CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_after = rcgen::date_time_ymd(2100, 1, 1);
    let cert = params.self_signed(&key).map_err(pki_err("self-sign the CA"))?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// The CA certificate and key in `dir` (PEM), if it has them.
pub fn read_ca(dir: &Path) -> Result<Option<(String, String)>, ServerError> {
    let cert_path = dir.join("ca.crt");
    if !cert_path.exists() {
        return Ok(None);
    }
    let key_path = dir.join("ca.key");
    let cert = std::fs::read_to_string(&cert_path).map_err(ServerError::io("read", &cert_path))?;
    let key = std::fs::read_to_string(&key_path).map_err(ServerError::io("read", &key_path))?;
    Ok(Some((cert, key)))
}

/// Writes the CA into `dir`: the key 0600 first, so a certificate never stands without its key.
pub fn write_ca(dir: &Path, cert: &str, key: &str) -> Result<(), ServerError> {
    std::fs::create_dir_all(dir).map_err(ServerError::io("create", dir))?;
    write_private(&dir.join("ca.key"), key)?;
    let cert_path = dir.join("ca.crt");
    std::fs::write(&cert_path, cert).map_err(ServerError::io("write", &cert_path))
}

fn pem_to_der(pem: &str) -> Result<CertificateDer<'static>, ServerError> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| ServerError::Pki(format!("CA certificate is not valid PEM: {e}")))?;
    Ok(CertificateDer::from(der))
}
