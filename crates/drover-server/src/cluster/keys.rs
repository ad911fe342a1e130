//! The keys every server on one PostgreSQL store shares, so that agents and clients trust any of
//! them: the CA (certificate and private key; each server signs its own certificate with it, for
//! its own names), the admin token's hash, and the key their messages to each other are signed
//! with. The first server to start on an empty store shares its own (an SQLite installation
//! moved with `server migrate` keeps its CA and token this way); each later one writes the
//! shared CA into its data dir, and refuses to start when its data dir holds another CA, which
//! its agents would trust instead.
//!
//! The CA key in the store gives whoever can read the database the power to sign server
//! certificates; the database already decides everything the control plane does, so it is
//! guarded as the CA key file would be.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ServerError;
use crate::pki;
use crate::secrets;
use crate::store::Store;

const CA_KEY: &str = "ca";
const ADMIN_HASH_KEY: &str = "admin_token_sha256";
const BUS_KEY: &str = "bus_hmac_key";

#[derive(Serialize, Deserialize, PartialEq)]
struct SharedCa {
    cert: String,
    key: String,
}

/// Makes `<pki>/ca.crt` and `ca.key` the control plane's CA, sharing this data dir's (or a new
/// one) when the store has none yet.
pub async fn share_ca(store: &Store, pki_dir: &Path) -> Result<(), ServerError> {
    let local = pki::read_ca(pki_dir)?.map(|(cert, key)| SharedCa { cert, key });
    let stored = match store.control_plane_key(CA_KEY).await? {
        Some(stored) => stored,
        None => {
            let offered = match &local {
                Some(ca) => ca_json(ca)?,
                None => {
                    let (cert, key) = pki::generate_ca()?;
                    ca_json(&SharedCa { cert, key })?
                }
            };
            store.share_control_plane_key(CA_KEY, &offered).await?
        }
    };
    let shared: SharedCa = serde_json::from_str(&stored)
        .map_err(|e| ServerError::Pki(format!("the control plane's CA in the store does not parse: {e}")))?;
    match local {
        Some(local) if local == shared => Ok(()),
        Some(_) => Err(ServerError::Pki(format!(
            "{} holds a CA other than the one the servers on this database share: its agents would trust \
             only this server. Move that directory away to take the shared CA, or point this server at \
             its own database",
            pki_dir.display()
        ))),
        None => pki::write_ca(pki_dir, &shared.cert, &shared.key),
    }
}

fn ca_json(ca: &SharedCa) -> Result<String, ServerError> {
    serde_json::to_string(ca).map_err(|e| ServerError::Pki(format!("encode the CA: {e}")))
}

/// The admin token hash every server accepts: this server's own token's when it is the first,
/// else the first server's.
pub async fn share_admin_hash(store: &Store, own_secret: &str) -> Result<String, ServerError> {
    Ok(store.share_control_plane_key(ADMIN_HASH_KEY, &secrets::hash(own_secret)).await?)
}

/// The key the servers sign their messages to each other with: the first server's, made when
/// it started.
pub async fn share_bus_key(store: &Store) -> Result<super::bus::BusKey, ServerError> {
    Ok(super::bus::BusKey::new(&store.share_control_plane_key(BUS_KEY, &secrets::generate()).await?))
}
