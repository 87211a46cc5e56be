//! Adding accounts in the admin portal (issue 13): the form, with its
//! refusals and the welcome email; the CSV upload (`/admin/users/import`),
//! who may post it, its limits, and the report the page shows from the
//! import's audit row.

use http::{Request, StatusCode, header};
use sspr_domain::audit::{self, Filter};
use sspr_domain::identity::Login;
use sspr_domain::outbox::{self, Template};
use sspr_domain::testkit::TestDb;
use sspr_domain::users::Role;
use sspr_domain::{both_backends, import, store};

use crate::harness::{ORIGIN, Reply, TestApp, enc};

both_backends!(
    an_account_is_created_from_the_form_and_welcomed,
    the_form_refuses_what_an_import_would,
    a_csv_file_is_imported_and_its_report_kept,
    only_a_fresh_admin_may_upload_within_the_limits,
);

fn code_of(r: &Reply) -> String {
    serde_json::from_str::<serde_json::Value>(&r.body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

const BOUNDARY: &str = "sspr-test-boundary";

/// A `multipart/form-data` body with one file field, as a browser posts
/// the import form.
fn multipart(field: &str, content: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; \
         filename=\"people.csv\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Posts `csv` to the import route from a same-origin page without
/// JavaScript; `site` is the `Sec-Fetch-Site` the browser sends.
async fn upload(app: &TestApp, csv: &[u8], cookie: Option<&str>, site: &str) -> Reply {
    let mut b = Request::post("/admin/users/import")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::ACCEPT, "text/html")
        .header("sec-fetch-site", site)
        .header(header::ORIGIN, ORIGIN);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    app.send(
        b.body(axum::body::Body::from(multipart("file", csv)))
            .unwrap(),
    )
    .await
}

async fn user_id(app: &TestApp, login: &str) -> Option<i64> {
    store::users::find_by_login(app.services.db.pool(), &Login::parse(login).unwrap())
        .await
        .unwrap()
        .map(|u| u.id)
}

async fn newest_events(app: &TestApp, n: i64) -> Vec<String> {
    audit::search(app.services.db.pool(), &Filter::default(), None, n)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect()
}

async fn an_account_is_created_from_the_form_and_welcomed(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    // Without JavaScript: the form posts, the answer is the new account's
    // page, which says it was made.
    let r = app
        .post_html_with_cookie(
            "/api/admin_create_user",
            &format!(
                "login=newbie&display_name={}&email=newbie%40example.org&role=user&groups={}&welcome=on",
                enc("New Person"),
                enc("staff, lab")
            ),
            "/admin/users/add",
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    let id = user_id(&app, "newbie").await.expect("the account");
    let to = r.header("location").unwrap_or_default().to_owned();
    assert_eq!(to, format!("/admin/users/detail?id={id}&done=created"));
    let page = app.get(&to, Some(&admin)).await;
    assert!(page.body.contains("data-testid=\"done\""), "{}", page.body);
    // The email given is the account's first method, so it can reset
    // (set a first password) at once; the groups were made and joined.
    let r = app
        .post_js("/api/admin_user", &format!("id={id}"), Some(&admin))
        .await;
    let detail: sspr_proto::admin::UserDetailView = serde_json::from_str(&r.body).unwrap();
    assert_eq!(detail.display_name, "New Person");
    let methods: Vec<&str> = detail.methods.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(methods, ["email"], "{detail:?}");
    assert_eq!(detail.standing, "eligible", "{detail:?}");
    assert_eq!(detail.groups, ["lab", "staff"]);
    // The welcome names the user ID and the reset page, and carries no
    // code or token.
    let welcome = outbox::recent(app.services.db.pool(), &app.services.key, 5)
        .await
        .unwrap()
        .into_iter()
        .find(|m| matches!(m.template, Template::Invitation { .. }))
        .expect("a welcome email");
    assert_eq!(welcome.recipient, "newbie@example.org");
    let text = app::ssr::messages::render(&welcome.template, "en").body;
    assert!(text.contains("newbie"), "{text}");
    assert!(text.contains("/reset"), "{text}");
    assert!(!text.contains('?'), "no token in the link: {text}");
    let events = newest_events(&app, 3).await;
    assert!(events.contains(&"account_created".to_owned()), "{events:?}");
    // With JavaScript and no welcome: no second email.
    let r = app
        .post_js(
            "/api/admin_create_user",
            "login=quiet&display_name=Quiet&email=quiet%40example.org",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(user_id(&app, "quiet").await.is_some());
    let invitations = outbox::recent(app.services.db.pool(), &app.services.key, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| matches!(m.template, Template::Invitation { .. }))
        .count();
    assert_eq!(invitations, 1);
}

async fn the_form_refuses_what_an_import_would(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    app.add_user("taken", Role::User).await;
    for (body, code) in [
        ("login=zero%E2%80%8Bwidth&display_name=X", "invalid_login"),
        ("login=okname&display_name=%20", "invalid_display_name"),
        (
            "login=okname&display_name=X&email=not-an-address",
            "invalid_email",
        ),
        ("login=TAKEN&display_name=X", "account_exists"),
        (
            "login=okname&display_name=X&groups=bad%E2%80%8Bgroup",
            "invalid_setting",
        ),
        ("login=okname&display_name=X&role=root", "bad_request"),
    ] {
        let r = app
            .post_js("/api/admin_create_user", body, Some(&admin))
            .await;
        assert_eq!(code_of(&r), code, "{body}: {} {}", r.status, r.body);
        assert!(!r.status.is_server_error(), "{body}");
    }
    assert_eq!(user_id(&app, "okname").await, None);
    // A group refusal names the field the page shows.
    let r = app
        .post_js(
            "/api/admin_create_user",
            "login=okname&display_name=X&groups=bad%E2%80%8Bgroup",
            Some(&admin),
        )
        .await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["field"], "groups", "{}", r.body);
    // A stale proof: nothing is made.
    app.clock.advance(11 * 60);
    let r = app
        .post_js(
            "/api/admin_create_user",
            "login=late&display_name=Late",
            Some(&admin),
        )
        .await;
    assert_eq!(code_of(&r), "reauthentication_required", "{}", r.body);
    assert_eq!(user_id(&app, "late").await, None);
}

async fn a_csv_file_is_imported_and_its_report_kept(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    let csv = "login,display_name,email,groups\n\
               ann,Ann,ann@example.org,staff\n\
               bo\u{200b}b,Bob,,\n\
               cy,Cy,not-an-address,\n\
               ann,Ann Again,,\n\
               dee,Dee,,staff;lab\n";
    let r = upload(&app, csv.as_bytes(), Some(&admin), "same-origin").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.header("location").unwrap_or_default().to_owned();
    let id: i64 = to
        .strip_prefix("/admin/users/add?report=")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{to}"));
    assert!(user_id(&app, "ann").await.is_some());
    assert!(user_id(&app, "dee").await.is_some());
    assert_eq!(user_id(&app, "cy").await, None);
    // The report, as data and as the page, by line with stable codes.
    let r = app
        .post_js(
            "/api/admin_add_users",
            &format!("report={id}"),
            Some(&admin),
        )
        .await;
    let v: sspr_proto::admin::AddUsersView = serde_json::from_str(&r.body).unwrap();
    let report = v.report.expect("the report");
    assert_eq!((report.created, report.rejected), (2, 3));
    assert_eq!(report.by.as_deref(), Some("boss"));
    let rows: Vec<(u64, &str, Option<&str>)> = report
        .rows
        .iter()
        .map(|r| (r.line, r.code.as_str(), r.value.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [
            (3, "invalid_login", None),
            (4, "invalid_email", Some("not-an-address")),
            (5, "duplicate", Some("ann")),
        ]
    );
    let page = app.get(&to, Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("data-testid=\"import-report\""));
    assert!(
        page.body.contains("data-code=\"duplicate\""),
        "{}",
        page.body
    );
    // Each new account has its own audit row, and the import one more.
    let events = newest_events(&app, 3).await;
    assert_eq!(
        events,
        ["users_imported", "account_created", "account_created"]
    );
    // Another audit row's id is not a report.
    let r = app
        .post_js(
            "/api/admin_add_users",
            &format!("report={}", id - 1),
            Some(&admin),
        )
        .await;
    assert_eq!(code_of(&r), "not_found", "{}", r.body);
}

async fn only_a_fresh_admin_may_upload_within_the_limits(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    app.add_user("dana", Role::User).await;
    let user = format!(
        "sspr_session={}",
        app.sign_in("dana").await.session().unwrap()
    );
    let csv = b"login,display_name\nzed,Zed\n";
    // No session, a user's: refused before the body is read — as a form
    // posted without JavaScript is, by sending the browser to sign in.
    for cookie in [None, Some(user.as_str())] {
        let r = upload(&app, csv, cookie, "same-origin").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{cookie:?}");
        assert_eq!(r.header("location"), Some("/sign-in?next=%2Fadmin"));
    }
    // Cross-site, even with the admin's cookie.
    let r = upload(&app, csv, Some(&admin), "cross-site").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(user_id(&app, "zed").await, None);
    // Files the portal does not take: back to the page with the reason.
    let big_row = format!("u,{}\n", "x".repeat(100));
    let too_many = format!(
        "login,display_name\n{}",
        big_row.repeat(import::PORTAL_MAX_ROWS + 1)
    );
    let too_big = format!(
        "login,display_name\nu,{}\n",
        "x".repeat(import::PORTAL_MAX_BYTES)
    );
    let way_too_big = "x".repeat(4 * import::PORTAL_MAX_BYTES);
    for (csv, code) in [
        ("display_name\nZed\n", "csv_columns"),
        ("", "csv_columns"),
        (too_many.as_str(), "file_too_large"),
        (too_big.as_str(), "file_too_large"),
        (way_too_big.as_str(), "file_too_large"),
    ] {
        let r = upload(&app, csv.as_bytes(), Some(&admin), "same-origin").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{code}: {}", r.body);
        assert_eq!(
            r.header("location"),
            Some(format!("/admin/users/add?error={code}").as_str())
        );
    }
    assert_eq!(user_id(&app, "u").await, None);
    // The page says why, in words.
    let page = app
        .get("/admin/users/add?error=file_too_large", Some(&admin))
        .await;
    assert!(
        page.body.contains("data-code=\"file_too_large\""),
        "{}",
        page.body
    );
    // A stale proof: back to the page, nothing imported.
    app.clock.advance(11 * 60);
    let r = upload(&app, csv, Some(&admin), "same-origin").await;
    assert_eq!(
        r.header("location"),
        Some("/admin/users/add?error=reauthentication_required")
    );
    assert_eq!(user_id(&app, "zed").await, None);
}
