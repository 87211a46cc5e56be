//! Change password over HTTP: docs/security.md #2, #5, #9.

use http::StatusCode;
use sspr_domain::both_backends;
use sspr_domain::testkit::{NEW_PASSWORD, TestDb};
use sspr_domain::users::Role;

use crate::harness::{PASSWORD, TestApp, enc, form};

async fn session(app: &TestApp, login: &str) -> String {
    format!(
        "sspr_session={}",
        app.sign_in(login).await.session().unwrap()
    )
}

fn change_form(current: &str, new: &str, confirm: &str) -> String {
    format!(
        "current_password={}&new_password={}&confirm_password={}&sign_out_others=on",
        enc(current),
        enc(new),
        enc(confirm)
    )
}

both_backends!(
    the_page_needs_a_session_and_sets_autocomplete,
    refusals_are_422_with_reasons_and_success_ends_other_sessions,
    without_javascript_a_refusal_comes_back_to_the_form,
);

async fn the_page_needs_a_session_and_sets_autocomplete(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let anon = app.get("/account/password", None).await;
    assert_eq!(anon.status, StatusCode::FOUND);
    assert_eq!(
        anon.header("location"),
        Some("/sign-in?next=%2Faccount%2Fpassword")
    );
    let cookie = session(&app, "dana").await;
    let page = app.get("/account/password", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"autocomplete="current-password""#));
    assert!(page.body.contains(r#"autocomplete="new-password""#));
    let text = page.body.replace("<!>", "");
    assert!(
        text.contains("At least 15 characters"),
        "the checklist shows this account's minimum"
    );
    let r = app
        .post_js("/api/password_preview", "password=x", None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn refusals_are_422_with_reasons_and_success_ends_other_sessions(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let here = session(&app, "dana").await;
    let elsewhere = session(&app, "dana").await;
    let r = app
        .post_js(
            "/api/change_password",
            &change_form(PASSWORD, "password123456789", "password123456789"),
            Some(&here),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["code"], "password_rejected");
    assert_eq!(v["reasons"], serde_json::json!(["common"]));
    let r = app
        .post_js(
            "/api/change_password",
            &change_form("wrong password here", NEW_PASSWORD, NEW_PASSWORD),
            Some(&here),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains(r#""code":"invalid_credentials""#));
    // Two values for one field: refused, nothing changed.
    let doubled = format!(
        "{}&new_password={}",
        change_form(PASSWORD, NEW_PASSWORD, NEW_PASSWORD),
        enc("another one entirely")
    );
    let r = app
        .post_js("/api/change_password", &doubled, Some(&here))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = app
        .post_js(
            "/api/change_password",
            &change_form(PASSWORD, &"a".repeat(20_000), "x"),
            Some(&here),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);

    let ok = app
        .post_js(
            "/api/change_password",
            &change_form(PASSWORD, NEW_PASSWORD, NEW_PASSWORD),
            Some(&here),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.header("location"), Some("/account/password/done"));
    let gone = app.get("/account", Some(&elsewhere)).await;
    assert_eq!(
        gone.status,
        StatusCode::FOUND,
        "the other session was signed out"
    );
    // This session stays, re-issued under a new id (docs/security.md #69).
    let rotated = format!("sspr_session={}", ok.session().unwrap());
    assert_ne!(rotated, here);
    let still = app.get("/account", Some(&rotated)).await;
    assert_eq!(still.status, StatusCode::OK);
    let old_id = app.get("/account", Some(&here)).await;
    assert_eq!(old_id.status, StatusCode::FOUND, "the old id is dead");
    let r = app
        .post_js("/api/sign_in", &form("dana", NEW_PASSWORD), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn without_javascript_a_refusal_comes_back_to_the_form(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let cookie = session(&app, "dana").await;
    let r = app
        .post_html_with_cookie(
            "/api/change_password",
            &change_form(PASSWORD, "short", "short"),
            "/account/password",
            &cookie,
        )
        .await;
    assert_eq!(r.status, StatusCode::FOUND);
    let back = r
        .header("location")
        .unwrap()
        .trim_start_matches("http://127.0.0.1:3000")
        .to_owned();
    assert!(back.starts_with("/account/password?"), "{back}");
    let page = app.get(&back, Some(&cookie)).await;
    assert!(
        page.body.contains(r#"data-code="password_rejected""#),
        "the refusal is shown"
    );
}
