//! How many SQL statements a right reset code costs, counted from sqlx's
//! own statement log (target `sqlx::query`), on both backends. A separate
//! test binary: the counter is process-wide, so its tests take turns.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sspr_domain::identity::Login;
use sspr_domain::methods::{self, NewMethod};
use sspr_domain::outbox::{self, Template};
use sspr_domain::testkit::TestDb;
use sspr_domain::users::{self, Role};
use sspr_domain::{Clock, Services, captcha, reset};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

/// Statements seen while `ON` is set, by their first keyword.
#[derive(Clone, Default)]
struct Statements(Arc<Mutex<BTreeMap<String, usize>>>);

static ON: AtomicBool = AtomicBool::new(false);
/// One test at a time, from creating its database to dropping it: the
/// counter is process-wide, so the other backend's setup (migrations,
/// fixtures) must not run while this one measures. Holding the turn only
/// around the measurement let PostgreSQL's setup add to SQLite's count.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct FirstWord(Option<String>);

impl Visit for FirstWord {
    // sqlx logs a short statement whole as the event's message, a long one
    // as a summary plus `db.statement`; the first word is the same.
    fn record_str(&mut self, field: &Field, value: &str) {
        if matches!(field.name(), "summary" | "message" | "db.statement") && self.0.is_none() {
            self.0 = value
                .split_whitespace()
                .next()
                .map(|w| w.to_ascii_uppercase());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if matches!(field.name(), "summary" | "message" | "db.statement") && self.0.is_none() {
            self.record_str(field, format!("{value:?}").trim_matches('"'));
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" || !ON.load(Ordering::SeqCst) {
            return;
        }
        let mut word = FirstWord(None);
        event.record(&mut word);
        // The pool opening a connection sets its pragmas: not the code's.
        let word = word.0.unwrap_or_else(|| {
            if std::env::var_os("SQL_COUNT_DEBUG").is_some() {
                println!("unnamed statement: {event:?}");
            }
            "?".into()
        });
        if word == "PRAGMA" {
            return;
        }
        *self.0.lock().unwrap().entry(word).or_default() += 1;
    }
}

fn counter() -> Statements {
    static INSTALLED: std::sync::OnceLock<Statements> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let s = Statements::default();
            tracing::subscriber::set_global_default(Registry::default().with(s.clone()))
                .expect("one global subscriber");
            s
        })
        .clone()
}

/// Counts the statements of `f`, with the policy read from the database as
/// on a step more than a second after the last (`policy::CACHED_FOR`):
/// whether a copy is fresh must not depend on how fast this machine ran
/// the steps before.
async fn measure<F: std::future::Future>(
    db: &sspr_domain::Db,
    f: F,
) -> (F::Output, BTreeMap<String, usize>) {
    db.policy_cache().forget();
    let c = counter();
    c.0.lock().unwrap().clear();
    ON.store(true, Ordering::SeqCst);
    let out = f.await;
    ON.store(false, Ordering::SeqCst);
    let seen = c.0.lock().unwrap().clone();
    (out, seen)
}

const HOME: &str = "dana.home@example.org";

/// Services over `t` where dana registered [`HOME`], and a solved CAPTCHA
/// for the nonce [`NONCE`].
async fn dana_at_home(t: &TestDb) -> (Services, String) {
    let (s, clock) = sspr_domain::testkit::services(t.db.clone(), Default::default());
    let id = users::create(
        &t.db,
        &Login::parse("dana").unwrap(),
        &sspr_domain::testkit::dana(Role::User),
        &[],
        clock.now(),
    )
    .await
    .unwrap();
    methods::upsert(t.db.pool(), id, &NewMethod::email(HOME), clock.now())
        .await
        .unwrap();
    let puzzle = captcha::issue(&s, NONCE, s.now()).unwrap();
    let solution = captcha::solve(&puzzle).unwrap();
    (s, solution)
}

const NONCE: &str = "n0nce123";

async fn right_reset_code(t: &TestDb) -> BTreeMap<String, usize> {
    counter();
    let (s, solution) = dana_at_home(t).await;
    let flow = reset::start(
        &s,
        "dana",
        &solution,
        NONCE,
        "192.0.2.1".parse().ok(),
        s.now(),
    )
    .await
    .unwrap();
    reset::send_email_code(&s, &flow, HOME, s.now())
        .await
        .unwrap();
    let code = outbox::recent(t.db.pool(), &s.key, 10)
        .await
        .unwrap()
        .into_iter()
        .find_map(|m| match m.template {
            Template::ResetCode { code, .. } => Some(code),
            _ => None,
        })
        .unwrap();
    let (done, seen) = measure(&s.db, reset::verify(&s, &flow, &code, s.now())).await;
    assert!(done.unwrap(), "the right code passes the only gate");
    seen
}

async fn check(t: &TestDb) {
    let seen = right_reset_code(t).await;
    let data: usize = ["SELECT", "INSERT", "UPDATE", "DELETE"]
        .iter()
        .filter_map(|k| seen.get(*k))
        .sum();
    println!("statements for a right reset code: {data} reading or writing rows, all: {seen:?}");
    assert!(
        seen.get("SELECT").is_some_and(|n| *n > 0),
        "the counter sees statements"
    );
    assert!(data <= MAX_STATEMENTS, "{data} statements: {seen:?}");
}

/// The budget for a right reset code, in statements that read or write
/// rows (transaction control aside: PostgreSQL logs its COMMIT, SQLite
/// does not). 11 before the flow engine read the flow once and put the
/// audit row and the refund in the flow's transaction; 9 then; now 10,
/// since a pass also ends the failure streaks: the policy, the flow, the
/// method's blocks and streaks (one read), the failure slot (reserved),
/// the account's methods, the flow's compare-and-swap, the audit row, the
/// slot given back, the streaks ended, the account.
const MAX_STATEMENTS: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_right_reset_code_costs_few_statements_sqlite() {
    let _turn = TURN.lock().await;
    let t = TestDb::sqlite().await;
    check(&t).await;
    t.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_right_reset_code_costs_few_statements_postgres() {
    let _turn = TURN.lock().await;
    let t = TestDb::postgres().await;
    check(&t).await;
    t.cleanup().await;
}

/// The statements (by kind) and argon2 computations of each step of the
/// reset wizard for `login`, typing dana's home address: the same for an
/// account and for an unknown ID (docs/security.md #11), the work counted
/// rather than timed.
async fn steps_of(t: &TestDb, login: &str) -> Vec<(&'static str, BTreeMap<String, usize>, u64)> {
    let (s, solution) = dana_at_home(t).await;
    let mut steps = Vec::new();
    let hashes = s.hasher.hash_count();
    let (flow, seen) = measure(
        &s.db,
        reset::start(
            &s,
            login,
            &solution,
            NONCE,
            "192.0.2.1".parse().ok(),
            s.now(),
        ),
    )
    .await;
    let flow = flow.unwrap();
    steps.push(("start", seen, s.hasher.hash_count() - hashes));
    let hashes = s.hasher.hash_count();
    let (sent, seen) = measure(&s.db, reset::send_email_code(&s, &flow, HOME, s.now())).await;
    sent.unwrap();
    steps.push(("send", seen, s.hasher.hash_count() - hashes));
    let hashes = s.hasher.hash_count();
    let (checked, seen) = measure(&s.db, reset::verify(&s, &flow, "00000000", s.now())).await;
    assert!(checked.is_err());
    steps.push(("wrong code", seen, s.hasher.hash_count() - hashes));
    steps
}

async fn equal_work(t: &TestDb) {
    counter();
    let known = steps_of(t, "dana").await;
    let t2 = if t.url.starts_with("sqlite") {
        TestDb::sqlite().await
    } else {
        TestDb::postgres().await
    };
    let unknown = steps_of(&t2, "nobody").await;
    t2.cleanup().await;
    for (k, u) in known.iter().zip(&unknown) {
        println!(
            "{}: known {:?} {} / unknown {:?} {}",
            k.0, k.1, k.2, u.1, u.2
        );
    }
    // Statement for statement: a code to a registered address is queued,
    // and nobody's code writes a stand-in row (docs/security.md #11).
    assert_eq!(
        known, unknown,
        "every step does the same work for an account and an unknown ID"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_step_does_the_same_work_for_known_and_unknown_ids_sqlite() {
    let _turn = TURN.lock().await;
    let t = TestDb::sqlite().await;
    equal_work(&t).await;
    t.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_step_does_the_same_work_for_known_and_unknown_ids_postgres() {
    let _turn = TURN.lock().await;
    let t = TestDb::postgres().await;
    equal_work(&t).await;
    t.cleanup().await;
}

/// The work of a whole reset (one gate: an email code) and of a sign-in,
/// step by step, for docs/capacity.md: statements that read or write rows
/// (transaction control aside) and argon2id hashes. Printed with
/// `cargo test -p sspr-domain --test sql_count capacity -- --nocapture`.
async fn whole_reset_and_sign_in(t: &TestDb) -> Vec<(&'static str, usize, u64)> {
    counter();
    let (s, solution) = dana_at_home(t).await;
    let ip = "192.0.2.1".parse().ok();
    let mut steps = Vec::new();
    let mut step = |name, seen: BTreeMap<String, usize>, hashes| {
        let data = ["SELECT", "INSERT", "UPDATE", "DELETE"]
            .iter()
            .filter_map(|k| seen.get(*k))
            .sum();
        steps.push((name, data, hashes));
    };
    let h = s.hasher.hash_count();
    let (flow, seen) = measure(
        &s.db,
        reset::start(&s, "dana", &solution, NONCE, ip, s.now()),
    )
    .await;
    let flow = flow.unwrap();
    step("reset: user ID + CAPTCHA", seen, s.hasher.hash_count() - h);
    let h = s.hasher.hash_count();
    let (sent, seen) = measure(&s.db, reset::send_email_code(&s, &flow, HOME, s.now())).await;
    sent.unwrap();
    step("reset: email code sent", seen, s.hasher.hash_count() - h);
    let code = sspr_domain::testkit::last_code(&s, HOME).await.0;
    let h = s.hasher.hash_count();
    let (passed, seen) = measure(&s.db, reset::verify(&s, &flow, &code, s.now())).await;
    assert!(passed.unwrap());
    step("reset: right code", seen, s.hasher.hash_count() - h);
    let new = sspr_domain::testkit::NEW_PASSWORD;
    let h = s.hasher.hash_count();
    let (set, seen) = measure(&s.db, reset::set_password(&s, &flow, new, new, ip, s.now())).await;
    set.unwrap();
    step("reset: new password", seen, s.hasher.hash_count() - h);
    let h = s.hasher.hash_count();
    let req = sspr_domain::testkit::req("dana", new);
    let (signed, seen) = measure(&s.db, sspr_domain::auth::sign_in(&s, req, s.now())).await;
    signed.unwrap();
    step("sign-in: right password", seen, s.hasher.hash_count() - h);
    let h = s.hasher.hash_count();
    let req = sspr_domain::testkit::req("dana", "not the password");
    let (refused, seen) = measure(&s.db, sspr_domain::auth::sign_in(&s, req, s.now())).await;
    assert!(refused.is_err());
    step("sign-in: wrong password", seen, s.hasher.hash_count() - h);
    steps
}

async fn capacity(t: &TestDb) {
    let steps = whole_reset_and_sign_in(t).await;
    let backend = if t.url.starts_with("sqlite") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    println!("| step ({backend}) | statements | argon2id hashes |");
    for (name, statements, hashes) in &steps {
        println!("| {name} | {statements} | {hashes} |");
        assert!(*statements > 0, "{name}: the counter sees its statements");
    }
    let hashes: Vec<u64> = steps.iter().map(|s| s.2).collect();
    // The password is hashed when set and checked at each sign-in; the
    // wizard's other steps never hash (codes are keyed hashes, not argon2).
    assert_eq!(hashes[..3], [0, 0, 0], "{steps:?}");
    assert!(hashes[3..].iter().all(|h| *h >= 1), "{steps:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_a_whole_reset_and_a_sign_in_sqlite() {
    let _turn = TURN.lock().await;
    let t = TestDb::sqlite().await;
    capacity(&t).await;
    t.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_a_whole_reset_and_a_sign_in_postgres() {
    let _turn = TURN.lock().await;
    let t = TestDb::postgres().await;
    capacity(&t).await;
    t.cleanup().await;
}
