//! The reset wizard's CAPTCHA: an ALTCHA proof of work. The server hands
//! out a signed challenge; the browser finds the number whose SHA-256 with
//! the salt gives the challenge (a fraction of a second in the wasm), and
//! the server checks the signature, the expiry (≤ 5 minutes, against the
//! injected clock), the binding to this browser's nonce, and that the
//! solution was never used before. No image puzzle, no third party.

use altcha_lib_rs::{Challenge, ChallengeOptions, Payload};
use serde::{Deserialize, Serialize};

use crate::rate::CounterKey;
use crate::{Db, DomainError, Services, Timestamp, store};

/// A challenge lives this long.
pub const TTL_SECS: i64 = 5 * 60;
/// Upper bound of the secret number: ~50 000 hashes on average, well under
/// a second in the wasm on a phone.
pub const MAX_NUMBER: u64 = 100_000;

/// What the page needs to solve a challenge (the ALTCHA wire format).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Puzzle {
    pub algorithm: String,
    pub challenge: String,
    pub maxnumber: u64,
    pub salt: String,
    pub signature: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CaptchaError {
    #[error("the CAPTCHA answer is malformed or wrong")]
    Invalid,
    #[error("the CAPTCHA expired")]
    Expired,
    #[error("the CAPTCHA was already used")]
    Replayed,
}

fn hmac_key(s: &Services) -> String {
    hex::encode(s.key.keyed_hash("altcha", &[]))
}

/// A fresh challenge bound to `nonce` (kept in the browser's cookie).
pub fn issue(s: &Services, nonce: &str, now: Timestamp) -> Result<Puzzle, DomainError> {
    let expires = chrono::DateTime::from_timestamp(now.plus_secs(TTL_SECS).secs(), 0)
        .ok_or_else(|| DomainError::Corrupt("clock out of range".into()))?;
    if !valid_nonce(nonce) {
        return Err(DomainError::Corrupt("captcha nonce".into()));
    }
    let key = hmac_key(s);
    // The nonce goes into the salt itself: ALTCHA re-serializes salt
    // parameters from a hash map, so only one (`expires`) is stable.
    let random = hex::encode(
        &s.key
            .keyed_hash("altcha-salt", &[crate::secrets::random_token().as_bytes()])[..12],
    );
    let challenge: Challenge = altcha_lib_rs::create_challenge(ChallengeOptions {
        hmac_key: &key,
        max_number: Some(MAX_NUMBER),
        expires: Some(expires),
        salt: Some(format!("{random}.{nonce}")),
        ..ChallengeOptions::default()
    })
    .map_err(|e| DomainError::Corrupt(format!("altcha: {e}")))?;
    Ok(Puzzle {
        algorithm: challenge.algorithm.to_string(),
        challenge: challenge.challenge,
        maxnumber: challenge.maxnumber,
        salt: challenge.salt,
        signature: challenge.signature,
    })
}

/// Nonces are short and plain, so they cannot disturb the salt's syntax.
pub fn valid_nonce(nonce: &str) -> bool {
    (8..=64).contains(&nonce.len()) && nonce.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The nonce part of a salt (`random.nonce?expires=…&`).
fn salt_nonce(salt: &str) -> Option<&str> {
    salt.split('?').next()?.split_once('.').map(|(_, n)| n)
}

/// The parameters ALTCHA appends to the salt (`salt?expires=…&n=…&`).
fn salt_param<'a>(salt: &'a str, name: &str) -> Option<&'a str> {
    let (_, query) = salt.split_once('?')?;
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Checks a solution (the JSON the page posts) and spends it.
pub async fn redeem(
    s: &Services,
    solution: &str,
    nonce: &str,
    now: Timestamp,
) -> Result<(), CaptchaError> {
    // Bounded before parsing: a real payload is ~300 bytes.
    if solution.len() > 2048 {
        return Err(CaptchaError::Invalid);
    }
    let payload: Payload = serde_json::from_str(solution).map_err(|_| CaptchaError::Invalid)?;
    altcha_lib_rs::verify_solution(&payload, &hmac_key(s), false)
        .map_err(|_| CaptchaError::Invalid)?;
    if !valid_nonce(nonce) || salt_nonce(&payload.salt) != Some(nonce) {
        return Err(CaptchaError::Invalid);
    }
    let expires: i64 = salt_param(&payload.salt, "expires")
        .and_then(|e| e.parse().ok())
        .ok_or(CaptchaError::Invalid)?;
    if expires <= now.secs() {
        return Err(CaptchaError::Expired);
    }
    if !spend(&s.db, &payload.signature, now)
        .await
        .map_err(|_| CaptchaError::Invalid)?
    {
        return Err(CaptchaError::Replayed);
    }
    Ok(())
}

/// Records a solved challenge; false when it was recorded before.
async fn spend(db: &Db, signature: &str, now: Timestamp) -> Result<bool, DomainError> {
    let key = CounterKey::CaptchaSpent(signature).to_string();
    store::counters::mark_once(db.pool(), &key, now).await
}

/// Solves a puzzle by brute force, as the browser does. For tests and the
/// benchmark.
pub fn solve(p: &Puzzle) -> Option<String> {
    let algorithm = p.algorithm.parse().ok()?;
    let number = altcha_lib_rs::solve_challenge(
        &p.challenge,
        &p.salt,
        Some(algorithm),
        Some(p.maxnumber),
        0,
    )
    .ok()?;
    serde_json::to_string(&serde_json::json!({
        "algorithm": p.algorithm,
        "challenge": p.challenge,
        "number": number,
        "salt": p.salt,
        "signature": p.signature,
    }))
    .ok()
}
