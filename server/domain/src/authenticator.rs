//! Authenticator apps: TOTP per RFC 6238 (SHA-1, 6 digits, 30 s, 160-bit
//! secrets), secrets encrypted at rest with a key derived from the server
//! key, which is not in the database (docs/security.md #27, #28).

use rand::RngCore;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Builder, Totp};

use crate::secrets::ServerKey;
use crate::{DomainError, Timestamp};

pub const STEP_SECS: u64 = 30;
pub const DIGITS: usize = 6;

/// 20 random bytes (RFC 4226 recommends 160 bits).
pub fn new_secret() -> Vec<u8> {
    let mut s = vec![0u8; 20];
    rand::rng().fill_bytes(&mut s);
    s
}

/// The secret as the base32 text people type into an app.
pub fn secret_text(secret: &[u8]) -> String {
    base32_encode(secret)
}

/// What the secrets' encryption key is derived for.
const PURPOSE: &str = "totp-secret-encryption";

/// Encrypts for storage; the user id is bound in as associated data, so a
/// ciphertext copied to another account does not decrypt.
pub fn encrypt(key: &ServerKey, user_id: i64, secret: &[u8]) -> Result<String, DomainError> {
    key.seal(PURPOSE, &user_id.to_be_bytes(), secret)
}

pub fn decrypt(key: &ServerKey, user_id: i64, stored: &str) -> Result<Vec<u8>, DomainError> {
    key.unseal(PURPOSE, &user_id.to_be_bytes(), stored)
}

fn totp(secret: &[u8], issuer: &str, account: &str) -> Result<Totp, DomainError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS as u8)
        .with_step_duration(STEP_SECS)
        .with_secret(secret.to_vec())
        .with_issuer(Some(issuer))
        .with_account_name(account)
        .build()
        .map_err(|e| DomainError::Corrupt(format!("TOTP: {e}")))
}

/// `otpauth://totp/…` for the QR code.
pub fn provisioning_uri(secret: &[u8], issuer: &str, account: &str) -> Result<String, DomainError> {
    // The otpauth format reserves ':' in both parts.
    let clean = |s: &str| s.replace(':', " ");
    totp(secret, &clean(issuer), &clean(account))?
        .to_url()
        .map_err(|e| DomainError::Corrupt(format!("TOTP URL: {e}")))
}

/// The code an app shows for `secret` at `time` (tests compute codes with it).
pub fn code_at(secret: &[u8], time: Timestamp) -> Result<String, DomainError> {
    Ok(totp(secret, "sspr", "x")?
        .generate(u64::try_from(time.secs()).unwrap_or(0))
        .to_string())
}

/// Checks `code` against the steps now−1, now, now+1 (one step of drift)
/// that are later than `last_step`. Returns the matching step: the caller
/// stores it so that no step is ever accepted twice.
pub fn verify(
    secret: &[u8],
    code: &str,
    now: Timestamp,
    last_step: i64,
) -> Result<Option<i64>, DomainError> {
    let current = now.secs() / STEP_SECS as i64;
    for step in [current - 1, current, current + 1] {
        if step <= last_step || step < 0 {
            continue;
        }
        let expected = code_at(secret, Timestamp(step * STEP_SECS as i64))?;
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            return Ok(Some(step));
        }
    }
    Ok(None)
}

fn base32_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s → 94287082 (8 digits);
        // the last 6 digits are what a 6-digit app shows.
        let code = code_at(b"12345678901234567890", Timestamp(59)).unwrap();
        assert_eq!(code, "287082");
    }

    #[test]
    fn a_step_is_accepted_once_and_drift_is_one_step() {
        let s = new_secret();
        let now = Timestamp(1_767_225_615);
        let code = code_at(&s, now).unwrap();
        let step = verify(&s, &code, now, 0).unwrap().unwrap();
        assert_eq!(
            verify(&s, &code, now, step).unwrap(),
            None,
            "replay of the same step"
        );
        let previous = code_at(&s, now.minus_secs(30)).unwrap();
        assert!(verify(&s, &previous, now, 0).unwrap().is_some());
        let old = code_at(&s, now.minus_secs(90)).unwrap();
        assert_eq!(verify(&s, &old, now, 0).unwrap(), None);
    }

    #[test]
    fn secrets_are_encrypted_and_bound_to_the_user() {
        let k = ServerKey::random();
        let s = new_secret();
        let stored = encrypt(&k, 7, &s).unwrap();
        assert!(!stored.contains(&secret_text(&s)));
        assert_eq!(decrypt(&k, 7, &stored).unwrap(), s);
        assert!(decrypt(&k, 8, &stored).is_err());
        assert!(decrypt(&ServerKey::random(), 7, &stored).is_err());
        assert_eq!(secret_text(&s).len(), 32);
    }

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
    }
}
