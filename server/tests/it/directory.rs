//! The HTTP face of a directory outage and of a directory sign-in: a real
//! OpenLDAP `slapd` behind the whole application (docs/security.md #84).

use axum::http::StatusCode;
use sspr_domain::both_backends;
use sspr_domain::config::Config;
use sspr_domain::testkit::TestDb;
use sspr_domain::testkit::slapd::Slapd;

use crate::harness::{TestApp, form};

const PASSWORD: &str = "correct horse battery staple";

both_backends!(signs_in_against_the_directory_and_an_outage_is_503_with_retry_after);

async fn signs_in_against_the_directory_and_an_outage_is_503_with_retry_after(t: &TestDb) {
    let mut slapd = Slapd::start();
    slapd.add_user("alice", PASSWORD, "alice@example.org", "+15555550101");
    let config = Config {
        directory: slapd.config(),
        ..Config::default()
    };
    let app = TestApp::with_config(t, config).await;
    let health = app.get("/healthz", None).await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::OK, "ok")
    );

    let r = app
        .post_js("/api/sign_in", &form("alice", PASSWORD), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.session().is_some(), "signed in by a bind");

    slapd.stop();
    let health = app.get("/healthz", None).await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "directory unavailable")
    );
    // Never "wrong password": the user is asked to come back.
    let r = app
        .post_js("/api/sign_in", &form("alice", PASSWORD), None)
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);

    slapd.restart();
    let r = app
        .post_js("/api/sign_in", &form("alice", PASSWORD), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}
