//! The admin portal at 100 000 accounts (issue 13): a page of the users
//! list, prefix searches and each filter, and the impact preview of two
//! policy changes, on a seeded database. Each is timed in the domain (what
//! the server function adds is a JSON encoding of 50 rows), and reported
//! beside a count of every account (one pass over the table: what a query
//! that does not use an index would cost).
//!
//!     cargo bench -p sspr-domain --bench admin_users
//!     BENCH_DB=postgres BENCH_USERS=100000 cargo bench -p sspr-domain --bench admin_users

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use sspr_domain::config::Config;
use sspr_domain::identity::Login;
use sspr_domain::methods::{Kind, NewMethod};
use sspr_domain::policy::{Policy, SsprScope};
use sspr_domain::testkit::{EPOCH, TestDb, services};
use sspr_domain::user_list::{self, Query};
use sspr_domain::users::{NewUser, Role};
use sspr_domain::{impact, store};

const FIRST: [&str; 12] = [
    "Maria", "Mohammed", "Yuki", "Chen", "Anna", "David", "Noa", "Olga", "Pedro", "Sara", "Tomás",
    "Zoë",
];
const LAST: [&str; 10] = [
    "Cohen", "García", "Ito", "Kowalski", "Lin", "Martin", "Müller", "Nakamura", "Silva", "Smith",
];

/// 100 000 accounts: 1 % admins, 10 % in `staff`, 2 % disabled, and a
/// spread of registered kinds (none, one, two, questions beside another).
async fn seed(t: &TestDb, n: usize) {
    let staff = Login::parse("staff").unwrap();
    store::groups::ensure(t.db.pool(), &staff, EPOCH)
        .await
        .unwrap();
    let kind_sets: [&[Kind]; 6] = [
        &[],
        &[Kind::Email],
        &[Kind::Email, Kind::Phone],
        &[Kind::Authenticator],
        &[Kind::Email, Kind::Questions],
        &[Kind::Phone, Kind::Authenticator],
    ];
    let mut tx = t.db.pool().begin().await.unwrap();
    for i in 0..n {
        let (first, last) = (FIRST[i % FIRST.len()], LAST[(i / 7) % LAST.len()]);
        let login = format!("user{i:06}");
        let user = NewUser {
            login_display: login.clone(),
            display_name: format!("{first} {last}"),
            email: Some(format!(
                "{}.{}{i}@example.org",
                first.to_lowercase(),
                last.to_lowercase()
            )),
            role: if i % 100 == 0 {
                Role::Admin
            } else {
                Role::User
            },
            password_hash: None,
            locale: None,
        };
        let login = Login::parse(&login).unwrap();
        let id = store::users::insert(&mut *tx, &login, &user, EPOCH)
            .await
            .unwrap();
        if i % 50 == 7 {
            store::users::set_enabled(&mut *tx, id, false)
                .await
                .unwrap();
        }
        if i % 10 == 3 {
            store::groups::add_member(&mut *tx, &staff, id)
                .await
                .unwrap();
        }
        for kind in kind_sets[i % kind_sets.len()] {
            let destination = match kind {
                Kind::Email => format!("u{i}@home.example"),
                Kind::Phone => format!("+1202{i:07}"),
                _ => String::new(),
            };
            let m = NewMethod {
                kind: *kind,
                destination: &destination,
                phone_channel: None,
                secret: None,
                last_step: 0,
                answers: (*kind == Kind::Questions).then_some("[]"),
            };
            store::methods::upsert(&mut *tx, id, &m, EPOCH)
                .await
                .unwrap();
        }
        if i % 5000 == 4999 {
            tx.commit().await.unwrap();
            tx = t.db.pool().begin().await.unwrap();
        }
    }
    tx.commit().await.unwrap();
}

/// The `p`th percentile of `v`, by the nearest rank below.
fn percentile(v: &[Duration], p: usize) -> Duration {
    let mut sorted = v.to_vec();
    sorted.sort();
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Times `f` `samples` times after one warm-up run; (p50, p95, rows of the
/// last run).
async fn time<F, Fut>(samples: usize, mut f: F) -> (Duration, Duration, usize)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let rows = f().await;
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let began = Instant::now();
        std::hint::black_box(f().await);
        times.push(began.elapsed());
    }
    (percentile(&times, 50), percentile(&times, 95), rows)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let postgres = std::env::var("BENCH_DB").is_ok_and(|v| v == "postgres");
    let (t, backend) = if postgres {
        (TestDb::postgres().await, "PostgreSQL")
    } else {
        (TestDb::sqlite().await, "SQLite")
    };
    let began = Instant::now();
    seed(&t, n).await;
    if postgres {
        // What autovacuum does to a table that grew this much; SQLite's
        // planner runs without statistics, as sspr leaves it.
        sqlx::query("ANALYZE").execute(t.db.pool()).await.unwrap();
    }
    println!(
        "admin portal, {n} accounts, {backend}; seeded in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    let (s, _) = services(t.db.clone(), Config::default());
    let policy = Policy::default();

    let (scan50, scan95, _) = time(20, || async {
        store::users::count(t.db.pool()).await.unwrap() as usize
    })
    .await;
    println!(
        "{:<44} p50 {:>7.2} ms  p95 {:>7.2} ms",
        "baseline: count every account (one pass)",
        ms(scan50),
        ms(scan95)
    );

    let q = |text: &str| Query {
        text: text.into(),
        ..Query::default()
    };
    let cases: Vec<(&str, Query, Option<&str>)> = vec![
        ("first page, no filter", Query::default(), None),
        ("a page in the middle", Query::default(), Some("user050000")),
        ("search \"m\" (name, address, ID)", q("m"), None),
        ("search \"zoë\"", q("zoë"), None),
        (
            "search \"GARCÍA\" (no match at the start)",
            q("GARCÍA"),
            None,
        ),
        ("search \"user04213\" (user ID)", q("user04213"), None),
        ("search \"maria.cohen\" (address)", q("maria.cohen"), None),
        (
            "role = admin",
            Query {
                role: Some(Role::Admin),
                ..Query::default()
            },
            None,
        ),
        (
            "registered = no",
            Query {
                registered: Some(false),
                ..Query::default()
            },
            None,
        ),
        (
            "can reset = yes",
            Query {
                can_reset: Some(true),
                ..Query::default()
            },
            None,
        ),
        (
            "can reset = no",
            Query {
                can_reset: Some(false),
                ..Query::default()
            },
            None,
        ),
        (
            "disabled",
            Query {
                enabled: Some(false),
                ..Query::default()
            },
            None,
        ),
        (
            "locked",
            Query {
                locked: true,
                ..Query::default()
            },
            None,
        ),
        (
            "search \"s\" + can reset = no",
            Query {
                can_reset: Some(false),
                ..q("s")
            },
            None,
        ),
    ];
    for (label, query, after) in &cases {
        let (p50, p95, rows) = time(100, || async {
            user_list::page(&s, &policy, query, *after)
                .await
                .unwrap()
                .users
                .len()
        })
        .await;
        println!(
            "{label:<44} p50 {:>7.2} ms  p95 {:>7.2} ms  {:>5.3} of the pass  {rows:>3} rows",
            ms(p50),
            ms(p95),
            p95.as_secs_f64() / scan50.as_secs_f64(),
        );
    }

    let selected = Policy {
        sspr_scope: SsprScope::Groups,
        sspr_groups: vec!["staff".into()],
        ..Policy::default()
    };
    let two = Policy {
        methods_required: 2,
        ..Policy::default()
    };
    for (label, after) in [
        ("impact: All → Selected (staff)", &selected),
        ("impact: one method → two", &two),
    ] {
        let (p50, p95, changes) = time(10, || async {
            impact::preview(&t.db, &policy, after)
                .await
                .unwrap()
                .changes
                .len()
        })
        .await;
        println!(
            "{label:<44} p50 {:>7.0} ms  p95 {:>7.0} ms  {:>5.1} passes  {changes} accounts change",
            ms(p50),
            ms(p95),
            p95.as_secs_f64() / scan50.as_secs_f64(),
        );
    }
    t.cleanup().await;
}
