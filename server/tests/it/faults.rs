//! Infrastructure faults: the database cut or locked under a running flow
//! answers 503 with Retry-After, writes nothing half, and the flow works
//! again once the database is back (docs/security.md #76).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use http::StatusCode;
use sqlx::Connection;
use sspr_domain::Db;
use sspr_domain::config::Config;
use sspr_domain::testkit::{TestDb, last_code};
use sspr_domain::users::Role;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::harness::{PASSWORD, Reply, TestApp, form};
use crate::reset::{add_registered_user, start};

/// A TCP proxy in front of PostgreSQL that the test can cut: while cut,
/// open connections are dropped and new ones refused at once.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn to(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (c, l) = (cut.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                l.lock().unwrap().push(link);
            }
        });
        Proxy { port, cut, links }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// `url` with its `host:port` replaced by the proxy's; the upstream
/// `host:port`.
fn through_proxy(url: &str, port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let (user, host) = authority.rsplit_once('@').unwrap_or(("", authority));
    let user = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    (
        format!("{scheme}://{user}127.0.0.1:{port}/{path}"),
        host.to_owned(),
    )
}

/// The app over `t`'s PostgreSQL, reached through a [`Proxy`] the test can cut.
async fn behind_proxy(t: &TestDb) -> (Proxy, TestApp) {
    let upstream = through_proxy(&t.url, 0).1;
    let proxy = Proxy::to(upstream).await;
    let (proxied, _) = through_proxy(&t.url, proxy.port);
    let db = Db::connect(&proxied).await.unwrap();
    (proxy, TestApp::over(db, Config::default()).await)
}

fn unavailable(r: &Reply) {
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
    assert!(r.body.contains(r#""code":"busy""#), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_database_answers_503_and_the_flow_resumes() {
    let t = TestDb::postgres().await;
    let (proxy, app) = behind_proxy(&t).await;
    add_registered_user(&app, "dana").await;
    let (started, cookies) = start(&app, "dana").await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);

    proxy.cut();
    let send = || {
        app.post_js(
            "/api/reset_email",
            "address=dana%40home.example",
            Some(&cookies),
        )
    };
    unavailable(&send().await);
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(queued, 0, "nothing half-done: no code queued");

    proxy.restore();
    let sent = send().await;
    assert_eq!(
        sent.header("location"),
        Some("/reset/code"),
        "{}",
        sent.body
    );
    let (code, _) = last_code(&app.services, "dana@home.example").await;
    let verified = app
        .post_js("/api/reset_verify", &format!("code={code}"), Some(&cookies))
        .await;
    assert_eq!(
        verified.header("location"),
        Some("/reset/password"),
        "{}",
        verified.body
    );
    app.services.db.close().await;
    t.cleanup().await;
}

/// `/healthz` pings through a connection of its own (issue 12): cut, it says
/// so; back, it says so again — the dead connection is not kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_check_reports_a_cut_database_and_its_return() {
    let t = TestDb::postgres().await;
    let (proxy, app) = behind_proxy(&t).await;
    let health = || async {
        let r = app.get("/healthz", None).await;
        (r.status, r.body)
    };
    // Opens the health connection, which the cut then drops.
    assert_eq!(health().await, (StatusCode::OK, "ok".to_owned()));

    proxy.cut();
    assert_eq!(
        health().await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable".to_owned()
        )
    );

    proxy.restore();
    assert_eq!(health().await, (StatusCode::OK, "ok".to_owned()));
    app.services.db.close().await;
    t.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_answers_503_and_nothing_is_half_written() {
    let t = TestDb::sqlite().await;
    let app = TestApp::new(&t).await;
    app.add_user("dana", Role::User).await;
    let audit = |t: &TestDb| {
        let pool = t.db.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_events")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let before = audit(&t).await;
    // Another process holds the write lock for longer than the busy
    // timeout.
    let mut holder = sqlx::AnyConnection::connect(&t.url).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .await
        .unwrap();
    let r = app
        .post_js("/api/sign_in", &form("dana", PASSWORD), None)
        .await;
    unavailable(&r);
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    assert_eq!(audit(&t).await, before, "nothing written");
    let again = app
        .post_js("/api/sign_in", &form("dana", PASSWORD), None)
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    t.cleanup().await;
}
