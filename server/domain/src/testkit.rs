//! Real databases for tests: a fresh SQLite file in a temporary folder, or
//! a fresh database on the PostgreSQL server named by
//! `SSPR_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! PostgreSQL tests fail, never skip, when the server does not answer.

#![allow(clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use sqlx::Executor;
use sqlx::any::AnyPoolOptions;

use crate::config::Config;
use crate::secrets::ServerKey;
use crate::{Db, ManualClock, Services, Timestamp};

/// 2026-01-01T00:00:00Z: tests start their clocks here.
pub const EPOCH: Timestamp = Timestamp(1_767_225_600);

pub fn postgres_admin_url() -> String {
    std::env::var("SSPR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub struct TestDb {
    pub db: Db,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("sspr.db").display());
        let db = Db::open(&url).await.expect("open sqlite");
        TestDb {
            db,
            url,
            _dir: Some(dir),
            pg_name: None,
        }
    }

    pub async fn postgres() -> TestDb {
        sqlx::any::install_default_drivers();
        let admin_url = postgres_admin_url();
        let name = format!("sspr_t_{}", uuid::Uuid::new_v4().simple());
        let admin = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL at {admin_url} must answer for these tests: {e}")
            });
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
        admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&admin_url);
        let url = format!("{base}/{name}");
        let db = Db::open(&url).await.expect("open postgres");
        TestDb {
            db,
            url,
            _dir: None,
            pg_name: Some(name),
        }
    }

    /// Closes the pool and drops the PostgreSQL database.
    pub async fn cleanup(self) {
        self.db.close().await;
        if let Some(name) = self.pg_name
            && let Ok(admin) = AnyPoolOptions::new()
                .max_connections(1)
                .connect(&postgres_admin_url())
                .await
        {
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
            admin.close().await;
        }
    }
}

/// Services over `db` with default configuration and a manual clock at [`EPOCH`].
pub fn services(db: Db, config: Config) -> (Services, ManualClock) {
    let clock = ManualClock::new(EPOCH);
    let s =
        Services::new(db, ServerKey::random(), config, Arc::new(clock.clone())).expect("services");
    (s, clock)
}

/// Runs `$body(&TestDb)` once on SQLite and once on PostgreSQL, as two tests.
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($db:ident : &TestDb) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn run($db: &$crate::testkit::TestDb) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let t = $crate::testkit::TestDb::sqlite().await;
                    run(&t).await;
                    t.cleanup().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let t = $crate::testkit::TestDb::postgres().await;
                    run(&t).await;
                    t.cleanup().await;
                }
            }
        )*
    };
}
