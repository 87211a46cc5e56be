//! The reset wizard's steps after step 1 must take the same time whatever
//! the user ID names (docs/security.md #10, #11). For an unknown ID the
//! wizard pretends: a code is "sent" (stored, and nobody receives it), a
//! typed code is checked against a code nobody knows, the authenticator
//! gate is offered and fails. This times each step for an existing user
//! ID (dana: an email address, a mobile number, an authenticator app and
//! security questions registered) and for an unknown one, both typing
//! dana's address and number, interleaved: the two flows take turns at
//! every step, the one going first alternating by round. Each step is
//! compared as `reset_start` compares step 1: the medians and their
//! difference, that difference over the noise floor (the gap between the
//! medians of two halves of the unknown ID's own samples, an A/A
//! comparison balanced over who went first) and the two-sample Kolmogorov–Smirnov statistic D.
//!
//!     cargo bench -p sspr-domain --bench reset_steps            # SQLite
//!     BENCH_DB=postgres cargo bench -p sspr-domain --bench reset_steps
//!
//! The security-questions gate is only ever a second gate (offered once a
//! first gate is passed, which an unknown ID never is), so there is no
//! unknown ID to time it against; what both can do is ask for it as a
//! first gate, refused alike, and that is timed.
//!
//! Every round starts two fresh flows (untimed, CAPTCHA solved) and then
//! moves the clock past the longest counter window, so no throttle, block
//! or streak of one round reaches the next: every sample is a first try.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{Comparison, KS_C_ALPHA, Noise, median, micros};
use sspr_domain::methods::{self, Kind, NewMethod, PhoneChannel};
use sspr_domain::reset::{self, ResetError};
use sspr_domain::testkit::{self, TestDb};
use sspr_domain::users::Role;
use sspr_domain::{Services, Timestamp, authenticator, captcha};

const ROUNDS: usize = 300;
/// The first rounds warm the pool and the caches, and are not counted.
const WARMUP: usize = 20;
/// The user IDs compared: the unknown one is the reference.
const LOGINS: [&str; 2] = ["nobody", "dana"];
const HOME: &str = "dana.home@example.org";
const MOBILE: &str = "+972502345678";
/// Past every counter window (the longest: a failure streak's), so each
/// round starts with no counts.
const ROUND_SECS: i64 = reset::STREAK_SECS + 3600;

/// The steps timed, in the order a flow takes them.
#[derive(Clone, Copy, Debug)]
enum Step {
    SendEmail,
    EmailGate,
    SendPhone,
    PhoneGate,
    ChooseAuthenticator,
    AuthenticatorGate,
    ChooseQuestions,
}

impl Step {
    const ALL: [Step; 7] = [
        Step::SendEmail,
        Step::EmailGate,
        Step::SendPhone,
        Step::PhoneGate,
        Step::ChooseAuthenticator,
        Step::AuthenticatorGate,
        Step::ChooseQuestions,
    ];

    fn label(self) -> &'static str {
        match self {
            Step::SendEmail => "send: email code",
            Step::EmailGate => "gate: email code",
            Step::SendPhone => "send: phone code",
            Step::PhoneGate => "gate: phone code",
            Step::ChooseAuthenticator => "choose: authenticator",
            Step::AuthenticatorGate => "gate: authenticator",
            Step::ChooseQuestions => "choose: questions",
        }
    }
}

/// The wrong codes typed at this round's gates: each differs from dana's
/// real one, so the existing ID's check fails as the unknown ID's must.
#[derive(Default)]
struct Wrong {
    email: String,
    phone: String,
    totp: String,
}

/// dana with every kind of method, under a policy that allows security
/// questions (and so asks for two gates). Returns the authenticator's secret.
async fn dana(s: &Services) -> Vec<u8> {
    let user = testkit::with_password(s, testkit::dana(Role::User)).await;
    let id = testkit::create_user(&s.db, &user, s.now()).await;
    methods::upsert(s.db.pool(), id, &NewMethod::email(HOME), s.now())
        .await
        .unwrap();
    let phone = NewMethod {
        kind: Kind::Phone,
        destination: MOBILE,
        phone_channel: Some(PhoneChannel::Sms),
        ..NewMethod::email("")
    };
    methods::upsert(s.db.pool(), id, &phone, s.now())
        .await
        .unwrap();
    let secret = authenticator::new_secret();
    let sealed = authenticator::encrypt(&s.key, id, &secret).unwrap();
    let app = NewMethod {
        kind: Kind::Authenticator,
        secret: Some(&sealed),
        ..NewMethod::email("")
    };
    methods::upsert(s.db.pool(), id, &app, s.now())
        .await
        .unwrap();
    testkit::register_questions(s, id).await;
    secret
}

/// Step 1 for `login` (untimed).
async fn start(s: &Services, login: &str, round: usize, kind: usize) -> String {
    let nonce = format!("steps{round:05}k{kind}");
    let puzzle = captcha::issue(s, &nonce, s.now()).unwrap();
    let solution = captcha::solve(&puzzle).unwrap();
    let ip = std::net::Ipv4Addr::new(10, 1, kind as u8, 1);
    reset::start(s, login, &solution, &nonce, Some(ip.into()), s.now())
        .await
        .unwrap()
}

/// A six-digit code the authenticator accepts at none of the steps
/// around `now`.
fn wrong_totp(secret: &[u8], now: Timestamp) -> String {
    let near: Vec<String> = [-30, 0, 30]
        .iter()
        .map(|dt| authenticator::code_at(secret, now.plus_secs(*dt)).unwrap())
        .collect();
    (0..)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// A code of the length of the last one sent to `to` that differs from
/// it in every digit.
async fn wrong_code_for(s: &Services, to: &str) -> String {
    testkit::wrong_code(&testkit::last_code(s, to).await.0)
}

/// Takes `step` in the flow `flow`.
async fn take(
    s: &Services,
    step: Step,
    flow: &str,
    wrong: &Wrong,
    now: Timestamp,
) -> Result<bool, ResetError> {
    match step {
        Step::SendEmail => reset::send_email_code(s, flow, HOME, now)
            .await
            .map(|()| false),
        Step::SendPhone => reset::send_phone_code(s, flow, "IL", MOBILE, PhoneChannel::Sms, now)
            .await
            .map(|()| false),
        Step::ChooseAuthenticator => reset::choose_authenticator(s, flow, now)
            .await
            .map(|()| false),
        Step::ChooseQuestions => reset::choose_questions(s, flow, now).await.map(|()| false),
        Step::EmailGate => reset::verify(s, flow, &wrong.email, now).await,
        Step::PhoneGate => reset::verify(s, flow, &wrong.phone, now).await,
        Step::AuthenticatorGate => reset::verify(s, flow, &wrong.totp, now).await,
    }
}

async fn bench(t: &TestDb, backend: &str) {
    let (s, clock) = testkit::services(t.db.clone(), Default::default());
    let secret = dana(&s).await;
    // samples[step][kind], kind indexing LOGINS.
    let mut samples = vec![vec![Vec::with_capacity(ROUNDS); LOGINS.len()]; Step::ALL.len()];
    let mut answers: Vec<String> = vec![String::new(); Step::ALL.len()];
    let began = Instant::now();
    for round in 0..WARMUP + ROUNDS {
        let now = s.now();
        let order: Vec<usize> = common::turns(round, LOGINS.len()).collect();
        let mut flows = vec![String::new(); LOGINS.len()];
        for &kind in &order {
            flows[kind] = start(&s, LOGINS[kind], round, kind).await;
        }
        let mut wrong = Wrong {
            totp: wrong_totp(&secret, now),
            ..Wrong::default()
        };
        for (i, step) in Step::ALL.into_iter().enumerate() {
            let mut answered = vec![String::new(); LOGINS.len()];
            for &kind in &order {
                let at = Instant::now();
                let answer = take(&s, step, &flows[kind], &wrong, now).await;
                let took = at.elapsed();
                answered[kind] = format!("{answer:?}");
                if round >= WARMUP {
                    samples[i][kind].push(took);
                }
            }
            // Not a timing: the two must be on the same path, or the
            // comparison means nothing.
            assert!(
                answered.iter().all(|a| *a == answered[0]),
                "{step:?}: the IDs got different answers: {answered:?}"
            );
            answers[i] = answered.swap_remove(0);
            // The codes just sent to dana, made wrong for the gates.
            match step {
                Step::SendEmail => wrong.email = wrong_code_for(&s, HOME).await,
                Step::SendPhone => wrong.phone = wrong_code_for(&s, MOBILE).await,
                _ => {}
            }
        }
        clock.advance(ROUND_SECS);
    }
    let took = began.elapsed();
    report(backend, &samples, &answers, took);
}

fn report(backend: &str, samples: &[Vec<Vec<Duration>>], answers: &[String], took: Duration) {
    println!(
        "reset steps after step 1 on {backend}: an existing user ID (dana) vs an unknown one, \
         {ROUNDS} interleaved samples each (µs)"
    );
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>7} {:>8} {:>7} {:>7}  answer (both)",
        "step", "existing", "unknown", "Δ median", "noise", "Δ/noise", "KS D", "A/A D"
    );
    for ((step, v), answer) in Step::ALL.iter().zip(samples).zip(answers) {
        let (unknown, existing) = (&v[0], &v[1]);
        let noise = Noise::of(unknown, LOGINS.len());
        let c = Comparison::of(unknown, existing, &noise);
        println!(
            "{:<22} {:>9.0} {:>9.0} {:>+9.0} {:>7.1} {:>+8.1} {:>7} {:>7}  {answer}",
            step.label(),
            c.median_us,
            micros(median(unknown)),
            c.delta_us,
            noise.floor_us,
            c.ratio,
            c.d_marked(),
            common::marked(noise.d, noise.critical),
        );
    }
    println!(
        "Δ median: existing minus unknown. noise: the gap between the medians of two halves of \
         the unknown ID's samples (A/A: rounds 0-1, 4-5, … against 2-3, 6-7, …, so each half \
         went first as often as second); A/A D: D between those halves."
    );
    println!(
        "KS critical value at α=0.05 (c={KS_C_ALPHA}): {:.3} for {ROUNDS} vs {ROUNDS} samples, \
         {:.3} for the A/A halves; * marks a D above it.",
        common::ks_critical(ROUNDS, ROUNDS),
        common::ks_critical(ROUNDS / 2, ROUNDS - ROUNDS / 2),
    );
    println!(
        "The security-questions gate is a second gate only: an unknown ID never reaches it, \
         so only asking for it first (refused for both) is timed."
    );
    println!(
        "{} rounds ({WARMUP} of warm-up) in {:.1} s",
        WARMUP + ROUNDS,
        took.as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let postgres = std::env::var("BENCH_DB").is_ok_and(|v| v == "postgres");
    let (t, backend) = if postgres {
        (TestDb::postgres().await, "PostgreSQL")
    } else {
        (TestDb::sqlite().await, "SQLite")
    };
    // Drops the PostgreSQL database even when a step panics.
    testkit::run(t, async |t| bench(t, backend).await).await;
}
