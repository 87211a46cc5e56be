//! Step 1 of the reset wizard must take the same time whatever the user ID
//! names (docs/security.md #10, #11: uniform answers, "within noise"). This measures
//! `reset::start` for an unknown ID and for existing, registered,
//! unregistered, disabled, admin and locked accounts, interleaved so that
//! drift hits every kind alike, and compares each kind's median with the
//! unknown ID's. The noise floor is the gap between the medians of two
//! halves of the unknown ID's own samples.
//!
//!     cargo bench -p sspr-domain --bench reset_start            # SQLite
//!     BENCH_DB=postgres cargo bench -p sspr-domain --bench reset_start
//!
//! The CAPTCHA is solved before the clock starts: its cost is the
//! browser's, not the server's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

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

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
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
        for k in 0..KINDS.len() {
            let kind = (k + round) % KINDS.len();
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
    let (first, second) = reference.split_at(reference.len() / 2);
    let noise = micros(median(&mut first.to_vec())).max(micros(median(&mut second.to_vec())))
        - micros(median(&mut first.to_vec())).min(micros(median(&mut second.to_vec())));
    let reference_median = micros(median(&mut reference.clone()));
    println!(
        "reset::start on {}, {ROUNDS} samples per kind (µs)",
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    println!(
        "{:<18} {:>9} {:>9} {:>9} {:>12}",
        "user ID", "median", "p10", "p90", "Δ median"
    );
    for (kind, v) in KINDS.iter().zip(samples.iter_mut()) {
        v.sort();
        let m = micros(v[v.len() / 2]);
        println!(
            "{:<18} {:>9.0} {:>9.0} {:>9.0} {:>+12.0}",
            kind,
            m,
            micros(v[v.len() / 10]),
            micros(v[v.len() * 9 / 10]),
            m - reference_median
        );
    }
    println!("noise floor (gap between the halves of the unknown ID's samples): {noise:.0} µs");
    t.cleanup().await;
}
