//! Password hashing: argon2id with PHC strings, run on the hashing threads
//! ([`HashThreads`]) behind fair slots (docs/security.md #6, #7).
//!
//! One argon2 hash at m=19456 KiB takes ~16 ms of a core and 19 MiB of RAM,
//! so an unbounded number of them is the cheapest denial of service against
//! a password product. Slots = cores, handed out in turn per client when
//! they are all busy ([`FairSlots`]); a caller that cannot get one within
//! the queue timeout gets [`HashError::Busy`] (503 + Retry-After upstream).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use crate::fair_slots::FairSlots;
use crate::hash_threads::HashThreads;
use crate::ops_metrics::{self, Occupancy};

/// Raw input cap before any normalization or hashing (Django CVE-2013-1443).
pub const MAX_PASSWORD_BYTES: usize = 4096;

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct HashingConfig {
    /// argon2id memory cost in KiB (OWASP minimum 19456).
    pub memory_kib: u32,
    /// argon2id iterations (OWASP minimum 2 at 19 MiB).
    pub iterations: u32,
    /// argon2id lanes.
    pub parallelism: u32,
    /// Hashes allowed at once; 0 = one per CPU core.
    pub max_concurrent: usize,
    /// How long a request may wait for a hashing slot before it gets 503.
    pub queue_timeout_ms: u64,
    /// Password checks (sign-in, re-authentication, password change) one
    /// client network may cause per minute: an IPv4 address or an IPv6
    /// /64 (docs/security.md #75).
    pub per_address_per_minute: i64,
    /// The same for a whole IPv6 /48 (many /64s of one site).
    pub per_ipv6_48_per_minute: i64,
}

impl Default for HashingConfig {
    fn default() -> Self {
        HashingConfig {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
            max_concurrent: 0,
            queue_timeout_ms: 2000,
            per_address_per_minute: 60,
            per_ipv6_48_per_minute: 600,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("all hashing slots are busy")]
    Busy { retry_after_secs: u64 },
    #[error("argon2 failed: {0}")]
    Internal(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub ok: bool,
    /// The stored hash uses weaker parameters than the configured ones.
    pub needs_rehash: bool,
}

#[derive(Clone)]
pub struct Hasher {
    params: Params,
    slots: FairSlots,
    threads: HashThreads,
    queue_timeout: Duration,
    /// Verified against when the account is unknown, so that path costs the
    /// same argon2 work as a real one (docs/security.md #8).
    dummy_hash: Arc<str>,
    hashes: Arc<AtomicU64>,
    permits: usize,
    /// How long one hash takes here, in microseconds (a moving average of
    /// the ones computed; 0 until the first): how many waiting callers the
    /// slots can serve within `queue_timeout`.
    hash_micros: Arc<AtomicU64>,
}

/// A password after the byte cap and NFKC (docs/security.md #2, #4). No case
/// folding: "Password" and "password" stay different.
#[derive(Clone)]
pub struct Normalized(String);

impl std::fmt::Debug for Normalized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Normalized(***)")
    }
}

impl Normalized {
    pub fn new(raw: &str) -> Result<Normalized, HashError> {
        if raw.len() > MAX_PASSWORD_BYTES {
            return Err(HashError::TooLong);
        }
        Ok(Normalized(raw.nfkc().collect()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Hasher {
    pub fn new(cfg: &HashingConfig) -> Result<Hasher, HashError> {
        let params = Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None)
            .map_err(|e| HashError::Internal(e.to_string()))?;
        let permits = match cfg.max_concurrent {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            n => n,
        };
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let salt = SaltString::generate(&mut OsRng);
        let dummy = argon
            .hash_password(b"dummy password for unknown accounts", &salt)
            .map_err(|e| HashError::Internal(e.to_string()))?
            .to_string();
        Ok(Hasher {
            params,
            slots: FairSlots::new(permits),
            threads: HashThreads::start(permits).map_err(|e| HashError::Internal(e.to_string()))?,
            queue_timeout: Duration::from_millis(cfg.queue_timeout_ms),
            dummy_hash: dummy.into(),
            hashes: Arc::new(AtomicU64::new(0)),
            permits,
            hash_micros: Arc::new(AtomicU64::new(0)),
        })
    }

    /// How many argon2 computations ran (tests assert that refused input
    /// hashes nothing).
    pub fn hash_count(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    /// Takes every hashing slot, so the next caller waits and gets `Busy`.
    #[cfg(feature = "testkit")]
    pub async fn occupy_all(&self) -> Option<Vec<crate::fair_slots::Slot>> {
        let mut held = Vec::new();
        for _ in 0..self.slots.free() {
            held.push(self.slots.acquire("testkit").await?);
        }
        Some(held)
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A new hash, for work no client's request asked for directly.
    pub async fn hash(&self, password: &Normalized) -> Result<String, HashError> {
        self.hash_for("", password).await
    }

    /// A new hash, waiting in `client`'s turn when the slots are busy.
    pub async fn hash_for(&self, client: &str, password: &Normalized) -> Result<String, HashError> {
        let argon = self.argon();
        let pw = password.0.clone();
        self.run(client, move || {
            let salt = SaltString::generate(&mut OsRng);
            argon
                .hash_password(pw.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| HashError::Internal(e.to_string()))
        })
        .await?
    }

    /// Verifies against `stored`, or against the dummy hash when there is
    /// none, so both paths cost the same.
    pub async fn verify(
        &self,
        password: &Normalized,
        stored: Option<&str>,
    ) -> Result<Verified, HashError> {
        self.verify_for("", password, stored).await
    }

    /// [`Hasher::verify`], waiting in `client`'s turn when the slots are
    /// busy (the client's network, for password checks).
    pub async fn verify_for(
        &self,
        client: &str,
        password: &Normalized,
        stored: Option<&str>,
    ) -> Result<Verified, HashError> {
        let real = stored.is_some();
        let phc: String = stored
            .map(str::to_owned)
            .unwrap_or_else(|| self.dummy_hash.to_string());
        let pw = password.0.clone();
        let current = self.params.clone();
        self.run(client, move || {
            let parsed = PasswordHash::new(&phc).map_err(|e| HashError::Internal(e.to_string()))?;
            // Verify with the parameters recorded in the PHC string.
            let ok = Argon2::default()
                .verify_password(pw.as_bytes(), &parsed)
                .is_ok();
            let needs_rehash = real && ok && weaker_than(&parsed, &current);
            Ok(Verified {
                ok: ok && real,
                needs_rehash,
            })
        })
        .await?
    }

    async fn run<T: Send + 'static>(
        &self,
        client: &str,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let busy = || {
            ops_metrics::hashing_refused();
            HashError::Busy {
                retry_after_secs: 1,
            }
        };
        let waiting = Occupancy::enter(ops_metrics::HASHING_WAITING);
        let asked = Instant::now();
        let turn = self.slots.acquire_unless_crowded(client, self.servable());
        let permit = tokio::time::timeout(self.queue_timeout, turn)
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?
            .ok_or_else(|| HashError::Internal("hashing slots closed".into()))?;
        drop(waiting);
        ops_metrics::hashing_waited(asked.elapsed());
        let (hashes, hash_micros) = (self.hashes.clone(), self.hash_micros.clone());
        self.threads
            .run(move || {
                let _permit = permit;
                let _running = Occupancy::enter(ops_metrics::HASHING_RUNNING);
                hashes.fetch_add(1, Ordering::Relaxed);
                let started = Instant::now();
                let out = job();
                remember_duration(&hash_micros, started.elapsed());
                out
            })
            .await
            .ok_or_else(|| HashError::Internal("a hashing job failed".into()))
    }
}

impl Hasher {
    /// How many waiting callers the slots can serve within the queue
    /// timeout: a caller further back would wait it out and be refused
    /// anyway, so it is refused at once (docs/security.md #75). Unbounded
    /// until a hash has been timed.
    fn servable(&self) -> usize {
        let micros = self.hash_micros.load(Ordering::Relaxed);
        if micros == 0 {
            return usize::MAX;
        }
        let per_slot = self.queue_timeout.as_micros() / u128::from(micros);
        // At least the next in line may wait: a hash slower than the whole
        // timeout must not refuse everyone without trying.
        usize::try_from(per_slot.saturating_mul(self.permits as u128))
            .unwrap_or(usize::MAX)
            .max(1)
    }
}

/// Folds one hash's duration into the moving average (weight 1/8: a few
/// hashes follow a change of load or parameters).
fn remember_duration(average: &AtomicU64, took: Duration) {
    let took = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
    let _ = average.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
        Some(if old == 0 {
            took
        } else {
            old - old / 8 + took / 8
        })
    });
}

/// True when the stored hash is not argon2id or any cost is below `current`.
fn weaker_than(stored: &PasswordHash<'_>, current: &Params) -> bool {
    if stored.algorithm.as_str() != "argon2id" {
        return true;
    }
    match Params::try_from(stored) {
        Ok(p) => {
            p.m_cost() < current.m_cost()
                || p.t_cost() < current.t_cost()
                || p.p_cost() < current.p_cost()
        }
        Err(_) => true,
    }
}

/// Checks that an imported hash is an argon2id PHC string we can verify.
/// Limits on the cost of a hash imported from another system: checking it
/// runs at sign-in on our hashing pool, so a hash that asks for 4 GiB or a
/// thousand passes would let one account starve everyone else.
pub const MAX_IMPORTED_MEMORY_KIB: u32 = 256 * 1024;
pub const MAX_IMPORTED_ITERATIONS: u32 = 10;
pub const MAX_IMPORTED_PARALLELISM: u32 = 4;

/// An argon2id PHC string whose parameters stay within the import limits.
pub fn is_valid_phc(s: &str) -> bool {
    let Ok(hash) = PasswordHash::new(s) else {
        return false;
    };
    if hash.algorithm.as_str() != "argon2id" {
        return false;
    }
    Params::try_from(&hash).is_ok_and(|p| {
        p.m_cost() <= MAX_IMPORTED_MEMORY_KIB
            && p.t_cost() <= MAX_IMPORTED_ITERATIONS
            && p.p_cost() <= MAX_IMPORTED_PARALLELISM
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> HashingConfig {
        HashingConfig {
            memory_kib: 1024,
            iterations: 1,
            ..HashingConfig::default()
        }
    }

    #[tokio::test]
    async fn imported_hashes_must_stay_within_the_cost_limits() {
        let h = Hasher::new(&fast()).unwrap();
        let ok = h.hash(&Normalized::new("imported").unwrap()).await.unwrap();
        assert!(is_valid_phc(&ok), "{ok}");
        for (from, to) in [("m=1024", "m=262145"), ("t=1", "t=11"), ("p=1", "p=5")] {
            assert!(ok.contains(from), "{ok}");
            let costly = ok.replace(from, to);
            assert!(!is_valid_phc(&costly), "{costly}");
        }
        assert!(is_valid_phc(&ok.replace("m=1024", "m=262144")));
        assert!(!is_valid_phc(&ok.replace("argon2id", "argon2i")));
        assert!(!is_valid_phc("not a hash"));
    }

    #[tokio::test]
    async fn hash_is_argon2id_phc_and_verifies_nfkc_equivalents() {
        let h = Hasher::new(&HashingConfig::default()).unwrap();
        // docs/security.md #4: U+212B ANGSTROM SIGN and U+00C5 are the same after NFKC.
        let stored = h
            .hash(&Normalized::new("\u{212B}ngström-pass").unwrap())
            .await
            .unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        let v = h
            .verify(
                &Normalized::new("\u{00C5}ngström-pass").unwrap(),
                Some(&stored),
            )
            .await
            .unwrap();
        assert!(v.ok && !v.needs_rehash);
        let v = h
            .verify(
                &Normalized::new("\u{00C5}NGSTRÖM-PASS").unwrap(),
                Some(&stored),
            )
            .await
            .unwrap();
        assert!(!v.ok, "no case folding of passwords");
    }

    #[tokio::test]
    async fn unknown_account_costs_a_hash_and_never_verifies() {
        let h = Hasher::new(&fast()).unwrap();
        let before = h.hash_count();
        let v = h
            .verify(
                &Normalized::new("dummy password for unknown accounts").unwrap(),
                None,
            )
            .await
            .unwrap();
        assert!(!v.ok);
        assert_eq!(h.hash_count(), before + 1);
    }

    #[tokio::test]
    async fn raised_parameters_ask_for_a_rehash() {
        let weak = Hasher::new(&fast()).unwrap();
        let stored = weak.hash(&Normalized::new("pw").unwrap()).await.unwrap();
        let strong = Hasher::new(&HashingConfig::default()).unwrap();
        let v = strong
            .verify(&Normalized::new("pw").unwrap(), Some(&stored))
            .await
            .unwrap();
        assert!(v.ok && v.needs_rehash);
    }

    #[test]
    fn over_long_input_is_refused_before_hashing() {
        // docs/security.md #2: 4096-byte cap.
        assert!(Normalized::new(&"a".repeat(MAX_PASSWORD_BYTES)).is_ok());
        assert!(matches!(
            Normalized::new(&"a".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(HashError::TooLong)
        ));
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy() {
        let h = Hasher::new(&HashingConfig {
            max_concurrent: 1,
            queue_timeout_ms: 50,
            ..fast()
        })
        .unwrap();
        let _held = h.slots.acquire("x").await.unwrap();
        let r = h.hash(&Normalized::new("pw").unwrap()).await;
        assert!(matches!(r, Err(HashError::Busy { .. })));
    }
}
