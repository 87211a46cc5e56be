//! The server key: 32 random bytes kept in a file outside the database.
//! Every keyed hash (session-independent fingerprints, later code hashes and
//! the TOTP encryption key) is derived from it, so a database dump alone
//! cannot be used to test guesses offline.

use std::io::Write;
use std::path::Path;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::DomainError;

#[derive(Clone)]
pub struct ServerKey([u8; 32]);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(..)")
    }
}

impl ServerKey {
    pub fn random() -> ServerKey {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        ServerKey(k)
    }

    /// Reads the key file, creating it (mode 0600) on first start.
    pub fn load_or_create(path: &Path) -> Result<ServerKey, DomainError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim())
                    .map_err(|_| DomainError::Corrupt(format!("{} is not hex", path.display())))?;
                let key: [u8; 32] = bytes.try_into().map_err(|_| {
                    DomainError::Corrupt(format!("{} must hold 32 bytes", path.display()))
                })?;
                Ok(ServerKey(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = ServerKey::random();
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path)?;
                file.write_all(hex::encode(key.0).as_bytes())?;
                tracing::info!(path = %path.display(), "created a new server key");
                Ok(key)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// HMAC-SHA-256 over `parts`, separated unambiguously, under a
    /// purpose-specific derivation of the key.
    pub fn keyed_hash(&self, purpose: &str, parts: &[&[u8]]) -> [u8; 32] {
        // HMAC takes keys of any length, so this cannot fail.
        #[allow(clippy::expect_used)]
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC key");
        mac.update(purpose.as_bytes());
        for p in parts {
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }
}

/// 256 bits from the OS CSPRNG, URL-safe base64 (43 chars): session and flow ids.
pub fn random_token() -> String {
    use base64::Engine;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// SHA-256 hex of a bearer token: what the database stores instead of it.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(token.as_bytes()))
}
