//! The server key: 32 random bytes kept in a file outside the database.
//! Every keyed hash (session-independent fingerprints, later code hashes and
//! the TOTP encryption key) is derived from it, so a database dump alone
//! cannot be used to test guesses offline.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
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

    /// Opens the key file. A missing one is created (mode 0600) only for a
    /// database without users: with users, a fresh key would silently
    /// invalidate every sealed authenticator secret and keyed hash, so the
    /// start is refused instead (docs/security.md #70). A key that group or
    /// others may read is used, with a warning.
    pub fn open(path: &Path, database_has_users: bool) -> Result<ServerKey, DomainError> {
        match Self::read(path)? {
            Some(key) => {
                if exposed(path) {
                    tracing::warn!(
                        path = %path.display(),
                        "the server key is readable by group or others; chmod 600 it"
                    );
                }
                Ok(key)
            }
            None if database_has_users => Err(DomainError::KeyMissing(path.display().to_string())),
            None => Self::create(path),
        }
    }

    /// The key in `path`; `None` when there is no such file.
    fn read(path: &Path) -> Result<Option<ServerKey>, DomainError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let bytes = hex::decode(text.trim())
            .map_err(|_| DomainError::Corrupt(format!("{} is not hex", path.display())))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| DomainError::Corrupt(format!("{} must hold 32 bytes", path.display())))?;
        Ok(Some(ServerKey(key)))
    }

    fn create(path: &Path) -> Result<ServerKey, DomainError> {
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
        tracing::info!(path = %path.display(), "created a new server key; back it up apart from the database");
        Ok(key)
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

impl ServerKey {
    fn cipher(&self, purpose: &str) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.keyed_hash(purpose, &[]).into())
    }

    /// Encrypts `plain` for storage under a key derived for `purpose`:
    /// base64 of a random 24-byte nonce and the sealed bytes. `bound` is
    /// authenticated, not stored: the text opens only with the same
    /// `bound`, so a sealed value copied to another row does not open.
    pub fn seal(&self, purpose: &str, bound: &[u8], plain: &[u8]) -> Result<String, DomainError> {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher(purpose)
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: bound,
                },
            )
            .map_err(|_| DomainError::Corrupt(format!("{purpose}: encryption failed")))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(STANDARD.encode(out))
    }

    /// The bytes [`ServerKey::seal`] sealed with the same `purpose` and `bound`.
    pub fn unseal(
        &self,
        purpose: &str,
        bound: &[u8],
        stored: &str,
    ) -> Result<Vec<u8>, DomainError> {
        let bytes = STANDARD
            .decode(stored)
            .map_err(|_| DomainError::Corrupt(format!("{purpose}: not base64")))?;
        if bytes.len() < 24 {
            return Err(DomainError::Corrupt(format!("{purpose}: too short")));
        }
        let (nonce, sealed) = bytes.split_at(24);
        self.cipher(purpose)
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: bound,
                },
            )
            .map_err(|_| {
                DomainError::Corrupt(format!("{purpose}: does not open with this server key"))
            })
    }
}

/// True when group or others may read `path` (Unix permissions).
fn exposed(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_purpose_and_binding() {
        let k = ServerKey::random();
        let stored = k.seal("p", b"row 1", b"secret").unwrap();
        assert!(!stored.contains("secret"));
        assert_eq!(k.unseal("p", b"row 1", &stored).unwrap(), b"secret");
        assert!(k.unseal("p", b"row 2", &stored).is_err(), "another row");
        assert!(k.unseal("q", b"row 1", &stored).is_err(), "another purpose");
        assert!(ServerKey::random().unseal("p", b"row 1", &stored).is_err());
        assert!(k.unseal("p", b"row 1", "not base64!").is_err());
        assert!(k.unseal("p", b"row 1", "c2hvcnQ=").is_err());
    }

    /// docs/security.md #70.
    #[test]
    fn a_missing_key_is_created_only_for_a_database_without_users() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("sspr.key");
        let err = ServerKey::open(&path, true).unwrap_err();
        assert!(matches!(err, DomainError::KeyMissing(_)), "{err}");
        assert!(err.to_string().contains("Restore the key file"), "{err}");
        assert!(!path.exists(), "nothing written");
        let created = ServerKey::open(&path, false).unwrap();
        let again = ServerKey::open(&path, true).unwrap();
        assert_eq!(created.0, again.0, "the same key once it exists");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            assert!(!exposed(&path));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(exposed(&path), "warned about");
        }
    }
}
