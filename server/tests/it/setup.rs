//! The registration wizard over HTTP: interrupt at sign-in, cookies,
//! codes from the outbox, re-authentication, error codes.

use http::StatusCode;
use sspr_domain::outbox;
use sspr_domain::testkit::{TestDb, last_code};
use sspr_domain::users::Role;
use sspr_domain::{Clock, both_backends, methods};

use crate::harness::{PASSWORD, Reply, TestApp, enc, form};

/// Session and flow cookies, as a browser would keep them.
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn take(&mut self, r: &Reply) {
        for c in r.set_cookies() {
            let pair = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                self.0.retain(|(name, _)| name != k);
                if !v.is_empty() {
                    self.0.push((k.to_owned(), v.to_owned()));
                }
            }
        }
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

async fn signed_in(app: &TestApp, login: &str) -> (Jar, Reply) {
    let mut jar = Jar::default();
    let r = app.sign_in(login).await;
    jar.take(&r);
    (jar, r)
}

async fn post(app: &TestApp, jar: &mut Jar, path: &str, body: &str) -> Reply {
    let r = app.post_js(path, body, Some(&jar.header())).await;
    jar.take(&r);
    r
}

both_backends!(
    the_wizard_interrupts_sign_in_and_registers_an_email,
    bad_input_gets_stable_codes,
    changes_need_a_password_proof_from_the_last_ten_minutes,
    next_is_a_local_path_only,
    the_last_needed_method_cannot_be_deleted,
);

async fn the_wizard_interrupts_sign_in_and_registers_an_email(t: &TestDb) {
    let app = TestApp::new(t).await;
    let id = app.add_user("dana", Role::User).await;
    let anon = app.get("/security-info/setup", None).await;
    assert_eq!(anon.status, StatusCode::FOUND);
    assert_eq!(
        anon.header("location"),
        Some("/sign-in?next=%2Fsecurity-info%2Fsetup")
    );

    let (mut jar, signed) = signed_in(&app, "dana").await;
    assert_eq!(
        signed.header("location"),
        Some("/security-info/setup"),
        "More information required"
    );
    let page = app.get("/security-info/setup", Some(&jar.header())).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("More information required"));
    let text = page.body.replace("<!>", "");
    assert!(
        text.contains("Step 1 of 2"),
        "{}",
        &text[text.find("progress").unwrap_or(0)..][..200]
    );
    jar.take(&page);
    assert!(
        jar.header().contains("sspr_setup="),
        "the flow cookie is set"
    );
    let cookie = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("sspr_setup="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    let sent = post(
        &app,
        &mut jar,
        "/api/setup_email",
        &format!("address={}", enc("dana@home.example")),
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(sent.header("location"), Some("/security-info/setup/verify"));
    let verify_page = app
        .get("/security-info/setup/verify", Some(&jar.header()))
        .await;
    assert!(verify_page.body.contains("dana@home.example"));
    assert!(verify_page.body.contains(r#"autocomplete="one-time-code""#));

    let bad = post(&app, &mut jar, "/api/setup_verify", "code=00000000").await;
    let code = last_code(&app.services, "dana@home.example").await.0;
    if code != "00000000" {
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains(r#""code":"wrong_code""#), "{}", bad.body);
    }
    let ok = post(&app, &mut jar, "/api/setup_verify", &format!("code={code}")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.header("location"), Some("/security-info/setup"));
    assert_eq!(
        methods::list(app.services.db.pool(), id)
            .await
            .unwrap()
            .len(),
        1
    );

    let done = post(&app, &mut jar, "/api/setup_finish", "").await;
    assert_eq!(done.header("location"), Some("/security-info"));
    let info = app.get("/security-info", Some(&jar.header())).await;
    assert!(
        info.body.contains("da***@home.example"),
        "masked on My security info"
    );
    // The next sign-in is not interrupted.
    let again = app
        .post_js("/api/sign_in", &form("dana", PASSWORD), None)
        .await;
    assert_eq!(again.header("location"), Some("/account"));
}

async fn bad_input_gets_stable_codes(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let (mut jar, _) = signed_in(&app, "dana").await;
    for (body, status, code) in [
        (
            "address=a%40b%2Cc%40d.example",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_email",
        ),
        (
            "address=a%40x.test%0D%0ABcc%3A%20b%40y.test",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_email",
        ),
    ] {
        let r = post(&app, &mut jar, "/api/setup_email", body).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert!(
            r.body.contains(&format!(r#""code":"{code}""#)),
            "{}",
            r.body
        );
    }
    let r = post(
        &app,
        &mut jar,
        "/api/setup_phone",
        "region=IL&number=050-CALL-NOW&channel=sms",
    )
    .await;
    assert!(r.body.contains(r#""code":"invalid_phone""#), "{}", r.body);
    let r = post(
        &app,
        &mut jar,
        "/api/setup_phone",
        "region=IL&number=%2B44%207400%20123456&channel=sms",
    )
    .await;
    assert!(
        r.body.contains(r#""code":"phone_region_not_allowed""#),
        "{}",
        r.body
    );
    // Digits no US number has, with "US (+1)" picked: a typing mistake,
    // not a refused country (issue 14).
    for typo in ["050-234-5678", "123-456-7890", "12345"] {
        let r = post(
            &app,
            &mut jar,
            "/api/setup_phone",
            &format!("region=US&number={typo}&channel=sms"),
        )
        .await;
        assert!(
            r.body.contains(r#""code":"invalid_phone""#),
            "{typo}: {}",
            r.body
        );
    }
    let r = post(
        &app,
        &mut jar,
        "/api/setup_phone",
        "region=IL&number=0502345678&channel=fax",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = post(&app, &mut jar, "/api/setup_verify", "code=123456").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains(r#""code":"no_pending_code""#));
    let r = post(
        &app,
        &mut jar,
        "/api/setup_email",
        &format!("address={}", "a".repeat(20_000)),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        outbox::recent(app.services.db.pool(), &app.services.key, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing was sent"
    );
}

async fn changes_need_a_password_proof_from_the_last_ten_minutes(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let (mut jar, _) = signed_in(&app, "dana").await;
    app.clock.advance(11 * 60);
    // Keep the session alive (idle timeout is 30 min).
    let r = post(
        &app,
        &mut jar,
        "/api/setup_email",
        "address=d%40home.example",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains(r#""code":"reauthentication_required""#));
    let wrong = post(
        &app,
        &mut jar,
        "/api/reauthenticate",
        "password=nope&next=%2Fsecurity-info%2Fsetup",
    )
    .await;
    assert!(wrong.body.contains(r#""code":"invalid_credentials""#));
    let before = jar.get("sspr_session").map(str::to_owned);
    let ok = post(
        &app,
        &mut jar,
        "/api/reauthenticate",
        &format!("password={}&next=%2Fsecurity-info%2Fsetup", enc(PASSWORD)),
    )
    .await;
    assert_eq!(ok.header("location"), Some("/security-info/setup"));
    // The session was re-issued under a new id (docs/security.md #69).
    let after = jar.get("sspr_session").map(str::to_owned);
    assert!(before.is_some() && after.is_some() && before != after);
    let stale = app
        .post_js(
            "/api/setup_email",
            "address=d%40home.example",
            Some(&format!("sspr_session={}", before.unwrap_or_default())),
        )
        .await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED, "{}", stale.body);
    let r = post(
        &app,
        &mut jar,
        "/api/setup_email",
        "address=d%40home.example",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn next_is_a_local_path_only(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    // Registered, so sign-in is not interrupted.
    sspr_domain::policy::save(
        &app.services.db,
        &sspr_domain::policy::Policy {
            require_registration: false,
            ..Default::default()
        },
        app.clock.now(),
    )
    .await
    .unwrap();
    for (next, expected) in [
        ("%2Fsecurity-info", "/security-info"),
        ("https%3A%2F%2Fevil.example", "/account"),
        ("%2F%2Fevil.example", "/account"),
        ("%2F%5Cevil.example", "/account"),
    ] {
        let r = app
            .post_js(
                "/api/sign_in",
                &format!("{}&next={next}", form("dana", PASSWORD)),
                None,
            )
            .await;
        assert_eq!(r.header("location"), Some(expected), "{next}");
    }
}

async fn the_last_needed_method_cannot_be_deleted(t: &TestDb) {
    let app = TestApp::new(t).await;
    let id = app.add_user("dana", Role::User).await;
    let (mut jar, _) = signed_in(&app, "dana").await;
    app.get("/security-info/setup", Some(&jar.header())).await;
    let page = app.get("/security-info/setup", Some(&jar.header())).await;
    jar.take(&page);
    post(
        &app,
        &mut jar,
        "/api/setup_email",
        "address=d%40home.example",
    )
    .await;
    let code = last_code(&app.services, "d@home.example").await.0;
    post(&app, &mut jar, "/api/setup_verify", &format!("code={code}")).await;
    let method = methods::list(app.services.db.pool(), id).await.unwrap()[0].id;
    let r = post(
        &app,
        &mut jar,
        "/api/security_info_delete",
        &format!("id={method}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains(r#""code":"last_method""#));
    assert_eq!(
        methods::list(app.services.db.pool(), id)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// The questions form as a browser encodes it (brackets percent-encoded).
fn questions_form(rows: &[(&str, &str, &str)]) -> String {
    rows.iter()
        .enumerate()
        .flat_map(|(i, (choice, custom, answer))| {
            [
                format!("entries%5B{i}%5D%5Bchoice%5D={}", enc(choice)),
                format!("entries%5B{i}%5D%5Bcustom%5D={}", enc(custom)),
                format!("entries%5B{i}%5D%5Banswer%5D={}", enc(answer)),
            ]
        })
        .collect::<Vec<_>>()
        .join("&")
}

both_backends!(
    security_questions_register_over_http_with_stable_errors,
    a_second_tab_racing_the_first_applies_the_code_once,
);

async fn security_questions_register_over_http_with_stable_errors(t: &TestDb) {
    let app = TestApp::new(t).await;
    let id = app.add_user("dana", Role::User).await;
    let (mut jar, _) = signed_in(&app, "dana").await;
    // Off by default: no link, and the endpoint refuses.
    let page = app.get("/security-info/setup", Some(&jar.header())).await;
    jar.take(&page);
    assert!(!page.body.contains("/security-info/setup/questions"));
    let good = questions_form(&[
        ("first_pet", "", "Rex"),
        ("birth_city", "", "Haifa"),
        ("custom", "What was my first street called?", "Herzl"),
    ]);
    let r = post(&app, &mut jar, "/api/setup_questions", &good).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body.contains(r#""code":"method_not_allowed""#),
        "{}",
        r.body
    );

    let mut p = sspr_domain::policy::load(&app.services.db).await.unwrap();
    p.allow_questions = true;
    sspr_domain::policy::save(&app.services.db, &p, app.clock.now())
        .await
        .unwrap();
    let page = app.get("/security-info/setup", Some(&jar.header())).await;
    assert!(page.body.contains("/security-info/setup/questions"));
    let form_page = app
        .get("/security-info/setup/questions", Some(&jar.header()))
        .await;
    assert_eq!(form_page.status, StatusCode::OK);
    assert!(
        form_page
            .body
            .contains("What was the name of your first pet?")
    );
    assert!(form_page.body.contains(r#"name="entries[2][answer]""#));
    assert!(
        form_page
            .body
            .contains("count only together with another method")
    );

    for (rows, code) in [
        (
            vec![("first_pet", "", "Rex"), ("birth_city", "", "Haifa")],
            "questions_count",
        ),
        (
            vec![
                ("first_pet", "", "Rex"),
                ("first_pet", "", "Haifa"),
                ("first_job", "", "Acre"),
            ],
            "question_repeated",
        ),
        (
            vec![
                ("first_pet", "", "Rex"),
                ("birth_city", "", "REX"),
                ("first_job", "", "Acre"),
            ],
            "answer_repeated",
        ),
        (
            vec![
                ("first_pet", "", "Rex"),
                ("birth_city", "", "Haifa"),
                ("first_job", "", "ab"),
            ],
            "answer_length",
        ),
        (
            vec![
                ("first_pet", "", "Rex"),
                ("birth_city", "", "Haifa"),
                ("mother_maiden", "", "Acre"),
            ],
            "question_unknown",
        ),
        (
            vec![
                ("first_pet", "", "Rex"),
                ("birth_city", "", "Haifa"),
                ("custom", "Why?", "Acre"),
            ],
            "question_length",
        ),
    ] {
        let r = post(
            &app,
            &mut jar,
            "/api/setup_questions",
            &questions_form(&rows),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{code}: {}",
            r.body
        );
        assert!(
            r.body.contains(&format!(r#""code":"{code}""#)),
            "{code}: {}",
            r.body
        );
    }
    // Scalars where a list is expected are a bad request, not a 500.
    let r = post(&app, &mut jar, "/api/setup_questions", "entries=Rex").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        methods::list(app.services.db.pool(), id)
            .await
            .unwrap()
            .is_empty(),
        "nothing half-written"
    );

    let r = post(&app, &mut jar, "/api/setup_questions", &good).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.header("location"), Some("/security-info/setup"));
    let list = methods::list(app.services.db.pool(), id).await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(!list[0].answers.as_deref().unwrap().contains("Herzl"));
    // Alone they do not satisfy the policy: Finish is refused.
    let r = post(&app, &mut jar, "/api/setup_finish", "").await;
    assert!(
        r.body.contains(r#""code":"not_enough_methods""#),
        "{}",
        r.body
    );
}

async fn a_second_tab_racing_the_first_applies_the_code_once(t: &TestDb) {
    let app = TestApp::new(t).await;
    let id = app.add_user("dana", Role::User).await;
    let (mut jar, _) = signed_in(&app, "dana").await;
    let page = app.get("/security-info/setup", Some(&jar.header())).await;
    jar.take(&page);
    let sent = post(
        &app,
        &mut jar,
        "/api/setup_email",
        "address=d%40home.example",
    )
    .await;
    // The second tab shares the cookies, so it sees the same step.
    let tab2 = app
        .get("/security-info/setup/verify", Some(&jar.header()))
        .await;
    // Everything printed: this check failed once, intermittently (see the
    // closing note of the redesign step).
    assert!(
        tab2.body.contains("d@home.example"),
        "the second tab continues the same flow; send: {} {:?} {}; page: {} {}",
        sent.status,
        sent.header("location"),
        sent.body,
        tab2.status,
        tab2.body
    );
    let code = last_code(&app.services, "d@home.example").await.0;
    let cookie = jar.header();
    let body = format!("code={code}");
    let (a, b) = tokio::join!(
        app.post_js("/api/setup_verify", &body, Some(&cookie)),
        app.post_js("/api/setup_verify", &body, Some(&cookie)),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", a.body, b.body);
    let loser = if a.status == StatusCode::OK { &b } else { &a };
    assert!(
        loser.body.contains(r#""code":"no_pending_code""#),
        "{}",
        loser.body
    );
    assert_eq!(
        methods::list(app.services.db.pool(), id)
            .await
            .unwrap()
            .len(),
        1
    );
    // Cancel in one tab while the other verifies: nothing half-registered.
    post(
        &app,
        &mut jar,
        "/api/setup_email",
        "address=e%40home.example",
    )
    .await;
    let code = last_code(&app.services, "e@home.example").await.0;
    let cancel = post(&app, &mut jar, "/api/setup_cancel", "").await;
    assert_eq!(cancel.status, StatusCode::OK);
    let late = post(&app, &mut jar, "/api/setup_verify", &format!("code={code}")).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert_eq!(
        methods::list(app.services.db.pool(), id)
            .await
            .unwrap()
            .len(),
        1
    );
}
