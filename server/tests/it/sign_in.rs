//! Sign-in over HTTP: uniform answers (docs/security.md #8), lockout (#35), sessions (#42).

use http::StatusCode;
use sspr_domain::methods::{self, NewMethod};
use sspr_domain::testkit::{TestDb, last_code, wrong_code};
use sspr_domain::users::Role;
use sspr_domain::{Clock, both_backends};

use crate::harness::{PASSWORD, TestApp, form};

both_backends!(
    sign_in_sets_a_strict_http_only_cookie_and_redirects,
    without_javascript_the_form_post_redirects,
    wrong_password_and_unknown_user_answer_identically,
    lockout_after_ten_failures_then_it_ends,
    a_session_id_from_before_sign_in_is_dead_after_it,
    sign_out_revokes_the_session_and_clears_the_cookie,
    over_long_password_is_refused_before_hashing,
    missing_fields_are_a_bad_request,
    a_full_hashing_queue_answers_503_with_retry_after,
    a_database_failure_shows_only_a_correlation_id,
    an_admin_signs_in_with_a_code_without_javascript,
);

/// docs/security.md #82 over HTTP, as a browser without JavaScript: the
/// right password leads to the method page (a flow cookie, no session), a
/// chosen method gets its code, a wrong code answers with the error and
/// no session, the right one starts the session and drops the flow.
async fn an_admin_signs_in_with_a_code_without_javascript(t: &TestDb) {
    let app = TestApp::new(t).await;
    let id = app.add_user("boss", Role::Admin).await;
    let home = "boss@home.example";
    methods::upsert(
        app.services.db.pool(),
        id,
        &NewMethod::email(home),
        app.clock.now(),
    )
    .await
    .unwrap();
    let method = methods::list(app.services.db.pool(), id).await.unwrap()[0].id;

    let r = app
        .post_html("/api/sign_in", &form("boss", PASSWORD), "/sign-in")
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    assert_eq!(r.header("location"), Some("/sign-in/verify"));
    assert!(r.session().is_none(), "no session after the password alone");
    let flow = r.cookie("sspr_signin").unwrap();
    let cookie = format!("sspr_signin={flow}");

    let page = app.get("/sign-in/verify", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&methods::mask_email(home)),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("action=\"/api/sign_in_choose\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains(home), "only the masked address");

    let chosen = app
        .post_html_with_cookie(
            "/api/sign_in_choose",
            &format!("method={method}"),
            "/sign-in/verify",
            &cookie,
        )
        .await;
    assert_eq!(chosen.status, StatusCode::FOUND, "{}", chosen.body);
    assert_eq!(chosen.header("location"), Some("/sign-in/code"));
    let (code, _) = last_code(&app.services, home).await;
    let page = app.get("/sign-in/code", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"code\""), "{}", page.body);

    let wrong = app
        .post_html_with_cookie(
            "/api/sign_in_verify",
            &format!("code={}", wrong_code(&code)),
            "/sign-in/code",
            &cookie,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FOUND);
    assert!(
        wrong.header("location").unwrap().contains("__err="),
        "{:?}",
        wrong.header("location")
    );
    assert!(wrong.session().is_none());

    let right = app
        .post_html_with_cookie(
            "/api/sign_in_verify",
            &format!("code={code}"),
            "/sign-in/code",
            &cookie,
        )
        .await;
    assert_eq!(right.status, StatusCode::FOUND, "{}", right.body);
    // An admin with one method registers a second one next.
    assert_eq!(right.header("location"), Some("/security-info/setup"));
    let session = right.session().unwrap();
    assert!(
        right
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("sspr_signin=;") && c.contains("Max-Age=0")),
        "{:?}",
        right.set_cookies()
    );
    let me = app
        .post_js(
            "/api/current_account",
            "",
            Some(&format!("sspr_session={session}")),
        )
        .await;
    assert!(me.body.contains("boss Display"), "{}", me.body);
    // The spent flow answers "start again", with a way back.
    let spent = app.get("/sign-in/code", Some(&cookie)).await;
    assert!(spent.body.contains("href=\"/sign-in\""), "{}", spent.body);
}

async fn sign_in_sets_a_strict_http_only_cookie_and_redirects(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let r = app
        .post_js("/api/sign_in", &form("dana", PASSWORD), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.header("serverfnredirect").is_some(),
        "client-side navigation"
    );
    assert_eq!(
        r.header("location"),
        Some("/security-info/setup"),
        "new users register first"
    );
    let cookie = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("sspr_session="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain-http development origin");
    let token = r.session().unwrap();
    let me = app
        .post_js(
            "/api/current_account",
            "",
            Some(&format!("sspr_session={token}")),
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(
        me.body.contains("\"display_name\":\"dana Display\""),
        "{}",
        me.body
    );
}

async fn without_javascript_the_form_post_redirects(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let ok = app
        .post_html("/api/sign_in", &form("dana", PASSWORD), "/sign-in")
        .await;
    assert_eq!(ok.status, StatusCode::FOUND);
    assert_eq!(ok.header("location"), Some("/security-info/setup"));
    assert!(ok.session().is_some());
    let bad = app
        .post_html("/api/sign_in", &form("dana", "nope"), "/sign-in")
        .await;
    assert_eq!(bad.status, StatusCode::FOUND);
    let location = bad.header("location").unwrap();
    assert!(
        location.starts_with("http://127.0.0.1:3000/sign-in?__path=%2Fapi%2Fsign_in&__err="),
        "{location}"
    );
    assert!(bad.session().is_none());
}

async fn wrong_password_and_unknown_user_answer_identically(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let wrong = app
        .post_js("/api/sign_in", &form("dana", "wrong password"), None)
        .await;
    let unknown = app
        .post_js("/api/sign_in", &form("nobody", "wrong password"), None)
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body, r#"{"code":"invalid_credentials"}"#);
    assert_eq!((wrong.status, &wrong.body), (unknown.status, &unknown.body));
    assert_eq!(wrong.comparable_headers(), unknown.comparable_headers());
    let html_wrong = app
        .post_html("/api/sign_in", &form("dana", "wrong"), "/sign-in")
        .await;
    let html_unknown = app
        .post_html("/api/sign_in", &form("nobody", "wrong"), "/sign-in")
        .await;
    assert_eq!(
        html_wrong.comparable_headers(),
        html_unknown.comparable_headers()
    );
}

async fn lockout_after_ten_failures_then_it_ends(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    for i in 0..10 {
        let r = app
            .post_js("/api/sign_in", &form("dana", &format!("wrong {i}")), None)
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let locked = app
        .post_js("/api/sign_in", &form("dana", PASSWORD), None)
        .await;
    assert_eq!(
        (locked.status, locked.body.as_str()),
        (
            StatusCode::UNAUTHORIZED,
            r#"{"code":"invalid_credentials"}"#
        )
    );
    assert!(locked.session().is_none());
    app.clock.advance(61);
    let after = app
        .post_js("/api/sign_in", &form("dana", PASSWORD), None)
        .await;
    assert_eq!(after.status, StatusCode::OK);
    assert!(after.session().is_some());
}

async fn a_session_id_from_before_sign_in_is_dead_after_it(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let first = app
        .post_js("/api/sign_in", &form("dana", PASSWORD), None)
        .await
        .session()
        .unwrap();
    let old_cookie = format!("sspr_session={first}");
    let second = app
        .post_js("/api/sign_in", &form("dana", PASSWORD), Some(&old_cookie))
        .await
        .session()
        .unwrap();
    assert_ne!(first, second);
    let me_old = app
        .post_js("/api/current_account", "", Some(&old_cookie))
        .await;
    assert_eq!(me_old.body, "null");
    // A value the client made up is never adopted either.
    let planted = app
        .post_js(
            "/api/sign_in",
            &form("dana", PASSWORD),
            Some("sspr_session=attacker-chosen"),
        )
        .await;
    assert_ne!(planted.session().as_deref(), Some("attacker-chosen"));
}

async fn sign_out_revokes_the_session_and_clears_the_cookie(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let token = app
        .post_js("/api/sign_in", &form("dana", PASSWORD), None)
        .await
        .session()
        .unwrap();
    let cookie = format!("sspr_session={token}");
    let out = app.post_js("/api/sign_out", "", Some(&cookie)).await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(out.header("location"), Some("/sign-in"));
    assert!(
        out.set_cookies()
            .iter()
            .any(|c| c.starts_with("sspr_session=;") && c.contains("Max-Age=0")),
        "{:?}",
        out.set_cookies()
    );
    assert_eq!(
        app.post_js("/api/current_account", "", Some(&cookie))
            .await
            .body,
        "null"
    );
}

async fn over_long_password_is_refused_before_hashing(t: &TestDb) {
    // docs/security.md #2: 4096-byte cap, 422, no argon2 work.
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let before = app.services.hasher.hash_count();
    let r = app
        .post_js("/api/sign_in", &form("dana", &"x".repeat(5000)), None)
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            r#"{"code":"password_too_long"}"#
        )
    );
    assert_eq!(app.services.hasher.hash_count(), before);
}

async fn missing_fields_are_a_bad_request(t: &TestDb) {
    let app = TestApp::new(t).await;
    let r = app.post_js("/api/sign_in", "login=dana", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("\"code\":\"bad_request\""), "{}", r.body);
}

async fn a_full_hashing_queue_answers_503_with_retry_after(t: &TestDb) {
    let mut config = sspr_domain::config::Config::default();
    config.password_hashing.queue_timeout_ms = 20;
    let app = TestApp::with_config(t, config).await;
    app.add_user("dana", Role::User).await;
    let _held = app.services.hasher.occupy_all().await.unwrap();
    let r = app
        .post_js("/api/sign_in", &form("dana", PASSWORD), None)
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(r.body.contains("\"code\":\"busy\""));
    drop(_held);
    // The refused attempt did not count as a failure.
    assert_eq!(
        app.post_js("/api/sign_in", &form("dana", PASSWORD), None)
            .await
            .status,
        StatusCode::OK
    );
}

async fn a_database_failure_shows_only_a_correlation_id(t: &TestDb) {
    // docs/security.md #50. A fault that will not pass by itself (a table
    // gone) is a 500 with a correlation id; a closed pool is a 503 with
    // Retry-After (#76).
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    sqlx::query("DROP TABLE audit_events")
        .execute(app.services.db.pool())
        .await
        .unwrap();
    let r = app
        .post_js("/api/sign_in", &form("dana", PASSWORD), None)
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.body);
    assert!(
        r.body
            .starts_with(r#"{"code":"internal","correlation_id":""#),
        "{}",
        r.body
    );
    for leak in ["sqlx", "pool", "audit_events", "database", "table"] {
        assert!(!r.body.to_lowercase().contains(leak), "{}", r.body);
    }
    app.services.db.close().await;
    let closed = app
        .post_js("/api/sign_in", &form("dana", PASSWORD), None)
        .await;
    assert_eq!(
        closed.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        closed.body
    );
    assert!(closed.header("retry-after").is_some());
    for leak in ["sqlx", "pool", "closed", "database"] {
        assert!(
            !closed.body.to_lowercase().contains(leak),
            "{}",
            closed.body
        );
    }
}
