//! Logs never hold a password, a session token or a query string
//! (docs/security.md #55).

use std::io::Write;
use std::sync::{Arc, Mutex};

use http::StatusCode;
use sspr_domain::both_backends;
use sspr_domain::testkit::TestDb;
use sspr_domain::users::Role;

use crate::harness::{PASSWORD, TestApp, form};

/// What the test's tracing subscriber wrote (also used by other modules'
/// tests that check a fault is logged).
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) fn subscriber(c: &Captured) -> impl tracing::Subscriber + Send + Sync {
    let c = c.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || c.clone())
        .finish()
}

both_backends!(sign_in_logs_no_secret,);

async fn sign_in_logs_no_secret(t: &TestDb) {
    let captured = Captured::default();
    let _guard = tracing::subscriber::set_default(subscriber(&captured));
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let wrong = "Wr0ng-Secret-Guess";
    assert_eq!(
        app.post_js("/api/sign_in", &form("dana", wrong), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let ok = app
        .post_js("/api/sign_in", &form("dana", PASSWORD), None)
        .await;
    let token = ok.session().unwrap();
    app.get(
        "/sign-in?lang=he-IL&secret=query-value",
        Some(&format!("sspr_session={token}")),
    )
    .await;
    // A fault that is logged as an internal error (a table gone).
    sqlx::query("DROP TABLE audit_events")
        .execute(app.services.db.pool())
        .await
        .unwrap();
    app.post_js("/api/sign_in", &form("dana", PASSWORD), None)
        .await;
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("internal error"),
        "the failure was logged: {logs}"
    );
    for secret in [PASSWORD, wrong, token.as_str(), "query-value"] {
        assert!(
            !logs.contains(secret),
            "{secret:?} appears in the logs:\n{logs}"
        );
    }
}
