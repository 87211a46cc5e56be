//! Step 1 of the reset wizard must take the same time whatever the user ID
//! names (docs/security.md #10, #11: uniform answers, "within noise"). This measures
//! `reset::start` for an unknown ID and for existing, registered,
//! unregistered, disabled, admin and locked accounts, interleaved so that
//! drift hits every kind alike, and compares each kind with the unknown
//! ID: the difference of the medians, that difference over the noise floor
//! (the gap between the medians of two halves of the unknown ID's own
//! samples, an A/A comparison balanced over the turn order) and the two-sample
//! Kolmogorov–Smirnov statistic D. The statistics live in `common`, shared
//! with `reset_steps` (the steps after this one).
//!
//!     cargo bench -p sspr-domain --bench reset_start            # SQLite
//!     BENCH_DB=postgres cargo bench -p sspr-domain --bench reset_start
//!
//! The CAPTCHA is solved before the clock starts: its cost is the
//! browser's, not the server's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{Comparison, KS_C_ALPHA, Noise, micros, percentile};

use sspr_domain::auth::{SignInRequest, sign_in};
use sspr_domain::identity::Login;
use sspr_domain::methods::{self, NewMethod};
use sspr_domain::password::Normalized;
use sspr_domain::testkit::TestDb;
use sspr_domain::users::{self, NewUser, Role};
use sspr_domain::{Services, captcha, reset};

const ROUNDS: usize = 300;
const KINDS: [&str; 7] = [
    "nobody",
    "registered",
    "unregistered",
    "disabled",
    "admin",
    "locked",
    "registered-upper",
];

async fn add(s: &Services, login: &str, role: Role, register: bool) -> i64 {
    let hash = s
        .hasher
        .hash(&Normalized::new("correct horse battery staple").unwrap())
        .await
        .unwrap();
    let id = users::create(
        &s.db,
        &Login::parse(login).unwrap(),
        &NewUser {
            login_display: login.into(),
            display_name: login.into(),
            email: Some(format!("{login}@contoso.example")),
            role,
            password_hash: Some(hash),
            locale: None,
        },
        &[],
        s.now(),
    )
    .await
    .unwrap();
    if register {
        methods::upsert(
            s.db.pool(),
            id,
            &NewMethod::email(&format!("{login}@home.example")),
            s.now(),
        )
        .await
        .unwrap();
    }
    id
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let postgres = std::env::var("BENCH_DB").is_ok_and(|v| v == "postgres");
    let t = if postgres {
        TestDb::postgres().await
    } else {
        TestDb::sqlite().await
    };
    let (s, clock) = sspr_domain::testkit::services(t.db.clone(), Default::default());
    add(&s, "registered", Role::User, true).await;
    add(&s, "unregistered", Role::User, false).await;
    let disabled = add(&s, "disabled", Role::User, true).await;
    users::set_enabled(s.db.pool(), disabled, false)
        .await
        .unwrap();
    add(&s, "admin", Role::Admin, true).await;
    add(&s, "locked", Role::User, true).await;
    for i in 0..10 {
        let password = format!("wrong {i}");
        let _ = sign_in(
            &s,
            SignInRequest {
                login: "locked",
                password: &password,
                previous_session: None,
                ip: None,
                next: "",
            },
            s.now(),
        )
        .await;
    }

    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(ROUNDS); KINDS.len()];
    for round in 0..ROUNDS + 20 {
        // Rotate the order each round so no kind always runs first.
        for kind in common::turns(round, KINDS.len()) {
            let login = match KINDS[kind] {
                "registered-upper" => "REGISTERED",
                other => other,
            };
            let nonce = format!("bench{round:05}k{kind}");
            let puzzle = captcha::issue(&s, &nonce, s.now()).unwrap();
            let solution = captcha::solve(&puzzle).unwrap();
            // A distinct client address per start keeps the per-address
            // ceiling out of the measurement.
            let ip =
                std::net::Ipv4Addr::new(10, kind as u8, (round / 250) as u8, (round % 250) as u8);
            let began = Instant::now();
            reset::start(&s, login, &solution, &nonce, Some(ip.into()), s.now())
                .await
                .unwrap();
            let took = began.elapsed();
            // The first rounds warm the pool and the caches.
            if round >= 20 {
                samples[kind].push(took);
            }
        }
        clock.advance(1);
    }

    let reference = &samples[0];
    let noise = Noise::of(reference, KINDS.len());
    println!(
        "reset::start on {}, {ROUNDS} samples per kind (µs)",
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    println!(
        "{:<18} {:>9} {:>9} {:>9} {:>10} {:>9} {:>7}",
        "user ID", "median", "p10", "p90", "Δ median", "Δ/noise", "KS D"
    );
    for (kind, v) in KINDS.iter().zip(&samples) {
        let c = Comparison::of(reference, v, &noise);
        println!(
            "{:<18} {:>9.0} {:>9.0} {:>9.0} {:>+10.0} {:>+9.1} {:>7}",
            kind,
            c.median_us,
            micros(percentile(v, 10)),
            micros(percentile(v, 90)),
            c.delta_us,
            c.ratio,
            c.d_marked()
        );
    }
    println!(
        "noise floor (A/A: two halves of the unknown ID's samples): {:.1} µs, their D {}",
        noise.floor_us,
        common::marked(noise.d, noise.critical)
    );
    println!(
        "KS critical value at α=0.05 (c={KS_C_ALPHA}): {:.3} for {ROUNDS} vs {ROUNDS} samples, \
         {:.3} for the A/A halves; * marks a D above it",
        common::ks_critical(ROUNDS, ROUNDS),
        noise.critical
    );
    t.cleanup().await;
}
