//! argon2id as configured by default (19 MiB, 2 iterations, 1 lane; OWASP's
//! minimum): the cost of one hash, of a verify against a real hash and
//! against the dummy hash used for unknown accounts (they must cost the
//! same), and what a burst of concurrent requests gets from the bounded
//! pool (hashes run on the hashing threads, one per core; callers wait at
//! most `queue_timeout_ms`, then get `Busy`, i.e. 503 + Retry-After).
//!
//!     cargo bench -p sspr-domain --bench hashing

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use sspr_domain::password::{HashError, Hasher, HashingConfig, Normalized};

const SAMPLES: usize = 30;
const BURST: usize = 64;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn timed<F: std::future::Future>(f: impl Fn() -> F) -> Vec<Duration> {
    let mut v = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let began = Instant::now();
        f().await;
        v.push(began.elapsed());
    }
    v.sort();
    v
}

fn line(what: &str, v: &[Duration]) {
    println!(
        "{what:<34} median {:>6.1} ms   p10 {:>6.1}   p90 {:>6.1}",
        ms(v[v.len() / 2]),
        ms(v[v.len() / 10]),
        ms(v[v.len() * 9 / 10])
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let cfg = HashingConfig::default();
    let hasher = Hasher::new(&cfg).unwrap();
    let password = Normalized::new("correct horse battery staple").unwrap();
    let wrong = Normalized::new("correct horse battery stapler").unwrap();
    let stored = hasher.hash(&password).await.unwrap();
    println!(
        "argon2id m={} KiB t={} p={}, {} hashing slots",
        cfg.memory_kib,
        cfg.iterations,
        cfg.parallelism,
        std::thread::available_parallelism().map_or(2, |n| n.get())
    );
    line("hash", &timed(|| hasher.hash(&password)).await);
    line(
        "verify, right password",
        &timed(|| hasher.verify(&password, Some(&stored))).await,
    );
    line(
        "verify, wrong password",
        &timed(|| hasher.verify(&wrong, Some(&stored))).await,
    );
    line(
        "verify, unknown account (dummy)",
        &timed(|| hasher.verify(&wrong, None)).await,
    );

    // A burst: BURST requests at once against the bounded pool.
    let began = Instant::now();
    let tasks: Vec<_> = (0..BURST)
        .map(|_| {
            let (h, p) = (hasher.clone(), password.clone());
            tokio::spawn(async move { h.hash(&p).await })
        })
        .collect();
    let (mut done, mut busy) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => done += 1,
            Err(HashError::Busy { .. }) => busy += 1,
            Err(e) => panic!("{e}"),
        }
    }
    let took = began.elapsed();
    println!(
        "burst of {BURST}: {done} hashed, {busy} told busy (503), {:.0} ms, {:.1} hashes/s",
        ms(took),
        f64::from(done) / took.as_secs_f64()
    );
}
