//! The admin portal's CSV upload at its limit (issue 13): a file of
//! `import::PORTAL_MAX_ROWS` accounts (each with an email address, so each
//! also gets its first method, and a group), imported by `import_csv` as
//! the upload does, into a database that already holds `BENCH_USERS`
//! accounts. Reported beside the floor: as many bare one-row transactions
//! (`store::users::insert`, begin/commit), the least a row-per-transaction
//! import can cost on this machine; and as a share of the 10 s a request
//! has (`server/src/router.rs` `REQUEST_TIMEOUT`), which the limit must
//! leave room within.
//!
//!     cargo bench -p sspr-domain --bench portal_import
//!     BENCH_DB=postgres cargo bench -p sspr-domain --bench portal_import

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use sspr_domain::identity::Login;
use sspr_domain::import::{self, PORTAL_MAX_ROWS};
use sspr_domain::store;
use sspr_domain::testkit::{EPOCH, TestDb};
use sspr_domain::users::{NewUser, Role};

const RUNS: usize = 3;
const REQUEST_SECS: f64 = 10.0;

fn csv(run: usize) -> String {
    let mut s = String::from("login,display_name,email,groups\n");
    for i in 0..PORTAL_MAX_ROWS {
        s.push_str(&format!(
            "imp{run}x{i:05},Imported Person {i},imp{run}x{i:05}@example.org,import{}\n",
            i % 20
        ));
    }
    s
}

fn user(login: &str) -> NewUser {
    NewUser {
        login_display: login.to_owned(),
        display_name: "Bare Row".into(),
        email: None,
        role: Role::User,
        password_hash: None,
        locale: None,
    }
}

/// One bare transaction per row: the floor.
async fn bare(t: &TestDb, run: usize) -> Duration {
    let began = Instant::now();
    for i in 0..PORTAL_MAX_ROWS {
        let login = format!("bare{run}x{i:05}");
        let mut tx = t.db.pool().begin().await.unwrap();
        store::users::insert(
            &mut *tx,
            &Login::parse(&login).unwrap(),
            &user(&login),
            EPOCH,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    began.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let existing: usize = std::env::var("BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let postgres = std::env::var("BENCH_DB").is_ok_and(|v| v == "postgres");
    let (t, backend) = if postgres {
        (TestDb::postgres().await, "PostgreSQL")
    } else {
        (TestDb::sqlite().await, "SQLite")
    };
    let mut tx = t.db.pool().begin().await.unwrap();
    for i in 0..existing {
        let login = format!("user{i:06}");
        store::users::insert(
            &mut *tx,
            &Login::parse(&login).unwrap(),
            &user(&login),
            EPOCH,
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    println!(
        "{backend}: {PORTAL_MAX_ROWS} rows per file, {existing} accounts before, {RUNS} runs each"
    );
    println!(
        "{:<30} {:>10} {:>10} {:>12} {:>14}",
        "run", "seconds", "rows/s", "× bare", "share of 10 s"
    );
    for run in 0..RUNS {
        let floor = bare(&t, run).await;
        let file = csv(run);
        let began = Instant::now();
        let report = import::import_csv(&t.db, None, file.as_bytes(), EPOCH)
            .await
            .unwrap();
        let took = began.elapsed();
        assert_eq!(report.created, PORTAL_MAX_ROWS, "{report:?}");
        let secs = |d: Duration| d.as_secs_f64();
        println!(
            "{:<30} {:>10.2} {:>10.0} {:>12} {:>14}",
            format!("bare one-row transactions {run}"),
            secs(floor),
            PORTAL_MAX_ROWS as f64 / secs(floor),
            "1.00",
            format!("{:.0} %", 100.0 * secs(floor) / REQUEST_SECS)
        );
        println!(
            "{:<30} {:>10.2} {:>10.0} {:>12.2} {:>14}",
            format!("import_csv {run}"),
            secs(took),
            PORTAL_MAX_ROWS as f64 / secs(took),
            secs(took) / secs(floor),
            format!("{:.0} %", 100.0 * secs(took) / REQUEST_SECS)
        );
    }
}
