//! A directory sync of many entries against a real OpenLDAP: entries per
//! second and the process's peak memory, for a first sync (every row
//! written), a second one (nothing changed), and the bare paged scan the
//! sync is built on (what the directory and the LDAP client alone can do;
//! the sync's speed is reported as a fraction of it).
//!
//!     cargo bench -p sspr-domain --bench directory_sync
//!     BENCH_DB=postgres BENCH_ENTRIES=100000 cargo bench -p sspr-domain --bench directory_sync

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use sspr_domain::config::Config;
use sspr_domain::directory::{Directory, sync};
use sspr_domain::testkit::slapd::{Slapd, people_ldif};
use sspr_domain::testkit::{TestDb, services};

/// The process's peak resident memory so far (`VmHWM`), in MiB.
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let entries: usize = std::env::var("BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let postgres = std::env::var("BENCH_DB").is_ok_and(|v| v == "postgres");
    let (t, backend) = if postgres {
        (TestDb::postgres().await, "PostgreSQL")
    } else {
        (TestDb::sqlite().await, "SQLite")
    };
    let seeded = Instant::now();
    let slapd = Slapd::start_with(&people_ldif(entries));
    println!(
        "directory sync, {entries} entries, {backend}; slapd seeded in {:.1} s; peak memory before: {:.0} MiB",
        seeded.elapsed().as_secs_f64(),
        peak_mib()
    );

    let dir = Directory::new(&slapd.config()).unwrap().unwrap();
    let began = Instant::now();
    let mut scan = dir.scan().await.unwrap();
    let mut n = 0u64;
    while scan.next().await.unwrap().is_some() {
        n += 1;
    }
    scan.finish().await.unwrap();
    let scan_rate = n as f64 / began.elapsed().as_secs_f64();
    println!(
        "{:<28} {n:>7} entries {:>9.0} entries/s   peak {:>5.0} MiB",
        "paged scan only",
        scan_rate,
        peak_mib()
    );

    let config = Config {
        directory: slapd.config(),
        ..Config::default()
    };
    let (s, _) = services(t.db.clone(), config);
    for label in ["first sync (all written)", "second sync (unchanged)"] {
        let began = Instant::now();
        let r = sync::run(&s, s.now()).await.unwrap();
        let rate = r.seen as f64 / began.elapsed().as_secs_f64();
        println!(
            "{label:<28} {:>7} entries {rate:>9.0} entries/s   peak {:>5.0} MiB   {:.3} of the scan's rate   {r:?}",
            r.seen,
            peak_mib(),
            rate / scan_rate
        );
    }
    drop(slapd);
    t.cleanup().await;
}
