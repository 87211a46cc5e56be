//! Real databases for tests: a fresh SQLite file in a temporary folder, or
//! a fresh database on the PostgreSQL server named by
//! `SSPR_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! PostgreSQL tests fail, never skip, when the server does not answer.

#![allow(clippy::expect_used, clippy::panic)]

pub mod ldap_tools;
pub mod samba;
pub mod slapd;

use std::sync::Arc;

use futures::FutureExt;
use sqlx::Executor;
use sqlx::any::AnyPoolOptions;

use crate::auth::SignInRequest;
use crate::config::Config;
use crate::identity::Login;
use crate::methods::{self, NewMethod};
use crate::outbox::{self, Channel};
use crate::password::Normalized;
use crate::questions::{self, Entry, Question};
use crate::secrets::ServerKey;
use crate::users::{self, NewUser, Role};
use crate::{Clock, Db, ManualClock, Services, Timestamp, policy};

/// 2026-01-01T00:00:00Z: tests start their clocks here.
pub const EPOCH: Timestamp = Timestamp(1_767_225_600);

/// The password test users are created with.
pub const PASSWORD: &str = "correct horse battery staple";

/// A password every default policy accepts, for changes and resets.
pub const NEW_PASSWORD: &str = "mauve tractor under the lighthouse";

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

/// dana: "Dana Doe" <dana@contoso.example>, in English, without a password.
pub fn dana(role: Role) -> NewUser {
    NewUser {
        login_display: "dana".into(),
        display_name: "Dana Doe".into(),
        email: Some("dana@contoso.example".into()),
        role,
        password_hash: None,
        locale: Some("en".into()),
    }
}

/// `user` with the password [`PASSWORD`], hashed by `s`'s hasher.
pub async fn with_password(s: &Services, user: NewUser) -> NewUser {
    let normalized = Normalized::new(PASSWORD).expect("a valid password");
    let hash = s.hasher.hash(&normalized).await.expect("hash");
    NewUser {
        password_hash: Some(hash),
        ..user
    }
}

/// Creates `user`, whose login is its `login_display`, in no group; its id.
pub async fn create_user(db: &Db, user: &NewUser, now: Timestamp) -> i64 {
    let login = Login::parse(&user.login_display).expect("a valid login");
    users::create(db, &login, user, &[], now)
        .await
        .expect("create user")
}

/// Services with the default configuration and dana (a user, in Hebrew,
/// with [`PASSWORD`]) under the login `login`: the services, the clock and
/// dana's id.
pub async fn with_user(t: &TestDb, login: &str) -> (Services, ManualClock, i64) {
    let (s, clock) = services(t.db.clone(), Config::default());
    let user = NewUser {
        login_display: login.into(),
        locale: Some("he-IL".into()),
        ..dana(Role::User)
    };
    let id = create_user(&t.db, &with_password(&s, user).await, clock.now()).await;
    (s, clock, id)
}

/// A client address, for domain calls that take one.
pub fn ip(s: &str) -> Option<std::net::IpAddr> {
    Some(s.parse().expect("an IP address"))
}

/// A sign-in from 127.0.0.1 with no earlier session.
pub fn req<'a>(login: &'a str, password: &'a str) -> SignInRequest<'a> {
    SignInRequest {
        login,
        password,
        ip: Some(std::net::Ipv4Addr::LOCALHOST.into()),
        previous_session: None,
        next: "",
    }
}

/// The session of a sign-in that needs no second factor (test code: panics
/// on anything else).
pub trait SignedInExt {
    fn signed_in(self) -> crate::auth::SignedIn;
}

impl SignedInExt for crate::auth::SignInOutcome {
    fn signed_in(self) -> crate::auth::SignedIn {
        match self {
            crate::auth::SignInOutcome::SignedIn(s) => s,
            other => panic!("expected a session, got {other:?}"),
        }
    }
}

/// The code in the newest code message (registration or reset) queued for `to`, and its
/// channel.
pub async fn last_code(s: &Services, to: &str) -> (String, Channel) {
    outbox::recent(s.db.pool(), &s.key, 50)
        .await
        .expect("outbox")
        .into_iter()
        .find_map(|m| match m.template.code() {
            Some(code) if m.recipient == to => Some((code.to_owned(), m.channel)),
            _ => None,
        })
        .expect("a code was queued")
}

/// A code of the same length as `code` that differs in every digit.
pub fn wrong_code(code: &str) -> String {
    code.chars()
        .map(|c| {
            if c == '9' {
                '0'
            } else {
                char::from(c as u8 + 1)
            }
        })
        .collect()
}

/// Registers two security questions for `user_id` (first pet: Rex; birth
/// city: Tel Aviv) and sets a policy that allows questions and asks for two
/// gates.
pub async fn register_questions(s: &Services, user_id: i64) {
    let entries = [("first_pet", "Rex"), ("birth_city", "Tel Aviv")].map(|(id, answer)| Entry {
        question: Question::Predefined(id.into()),
        answer: answer.into(),
    });
    let sealed = questions::seal(&s.hasher, &entries).await.expect("seal");
    methods::upsert(
        s.db.pool(),
        user_id,
        &NewMethod::questions(&sealed),
        s.now(),
    )
    .await
    .expect("register questions");
    let mut p = policy::load(&s.db).await.expect("load policy");
    p.methods_required = 2;
    p.allow_questions = true;
    policy::save(&s.db, &p, s.now()).await.expect("save policy");
}

/// Runs `test` on `t`, then drops the database even when `test` panics,
/// and only then lets the panic go on.
pub async fn run(t: TestDb, test: impl AsyncFnOnce(&TestDb)) {
    let outcome = std::panic::AssertUnwindSafe(test(&t)).catch_unwind().await;
    t.cleanup().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// `both_backends!(a, b)` runs the top-level `async fn a(t: &TestDb)` and
/// `async fn b(t: &TestDb)` once on SQLite and once on PostgreSQL, as the
/// tests `a::sqlite`, `a::postgres`, `b::sqlite` and `b::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let t = $crate::testkit::TestDb::sqlite().await;
                    $crate::testkit::run(t, super::$name).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let t = $crate::testkit::TestDb::postgres().await;
                    $crate::testkit::run(t, super::$name).await;
                }
            }
        )+
    };
}

/// One server key for tests that use the outbox without [`Services`].
pub fn key() -> &'static ServerKey {
    static KEY: std::sync::LazyLock<ServerKey> = std::sync::LazyLock::new(ServerKey::random);
    &KEY
}
