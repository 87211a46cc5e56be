//! The reset wizard over HTTP: uniform answers (docs/security.md #8, #11),
//! bad input, the whole one-gate journey.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, StatusCode, header};
use sspr_domain::captcha::{self, Puzzle};
use sspr_domain::config::Config;
use sspr_domain::methods::{self, NewMethod};
use sspr_domain::outbox::{self, Template};
use sspr_domain::testkit::{NEW_PASSWORD, TestDb, last_code, register_questions};
use sspr_domain::users::{self, Role};
use sspr_domain::{Clock, both_backends, policy};

use crate::harness::{ORIGIN, PASSWORD, Reply, TestApp, enc, form};

/// A browser's cookies for the reset wizard.
fn cookies_of(replies: &[&Reply]) -> String {
    let mut jar: BTreeMap<String, String> = BTreeMap::new();
    for r in replies {
        for c in r.set_cookies() {
            if let Some((k, v)) = c.split(';').next().unwrap_or("").split_once('=') {
                jar.insert(k.to_owned(), v.to_owned());
            }
        }
    }
    jar.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Step 1 as the hydrated page does it: fetch a CAPTCHA, solve it, post.
pub(crate) async fn start(app: &TestApp, login: &str) -> (Reply, String) {
    let challenge = app.post_js("/api/reset_challenge", "", None).await;
    assert_eq!(challenge.status, StatusCode::OK, "{}", challenge.body);
    let puzzle: Puzzle = serde_json::from_str(&challenge.body).unwrap();
    let solution = captcha::solve(&puzzle).unwrap();
    let nonce_cookie = cookies_of(&[&challenge]);
    let r = app
        .post_js(
            "/api/reset_start",
            &format!("login={}&captcha={}", enc(login), enc(&solution)),
            Some(&nonce_cookie),
        )
        .await;
    let cookies = cookies_of(&[&challenge, &r]);
    (r, cookies)
}

/// Steps 1 and 2 up to the code: starts a reset for `login` (registered
/// with `{login}@home.example`) and has the code mailed; the wizard's
/// cookies and the code.
pub(crate) async fn email_code(app: &TestApp, login: &str) -> (String, String) {
    let (r, cookies) = start(app, login).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let address = format!("{login}@home.example");
    let sent = app
        .post_js(
            "/api/reset_email",
            &format!("address={}", enc(&address)),
            Some(&cookies),
        )
        .await;
    assert_eq!(
        sent.header("location"),
        Some("/reset/code"),
        "{}",
        sent.body
    );
    let (code, _) = sspr_domain::testkit::last_code(&app.services, &address).await;
    (cookies, code)
}

/// A user with a registered email, `{login}@home.example`.
pub(crate) async fn add_registered_user(app: &TestApp, login: &str) -> i64 {
    add_registered(app, login, Role::User).await
}

async fn add_registered(app: &TestApp, login: &str, role: Role) -> i64 {
    let id = app.add_user(login, role).await;
    methods::upsert(
        app.services.db.pool(),
        id,
        &NewMethod::email(&format!("{login}@home.example")),
        app.clock.now(),
    )
    .await
    .unwrap();
    id
}

/// Step 3's form with [`NEW_PASSWORD`] typed twice.
fn new_password_form() -> String {
    format!(
        "new_password={}&confirm_password={}",
        enc(NEW_PASSWORD),
        enc(NEW_PASSWORD)
    )
}

fn set_cookie_names(r: &Reply) -> Vec<String> {
    let mut names: Vec<String> = r
        .set_cookies()
        .iter()
        .map(|c| c.split('=').next().unwrap_or("").to_owned())
        .collect();
    names.sort();
    names
}

both_backends!(
    step_one_answers_every_account_alike,
    the_one_gate_journey_resets_and_signs_everyone_out,
    bad_input_is_refused_and_sends_nothing,
    throttled_answers_carry_retry_after,
    per_address_limits_believe_x_forwarded_for_only_from_trusted_proxies,
    the_help_desk_contact_is_on_every_reset_page,
    a_page_whose_policy_cannot_be_read_comes_without_the_help_desk,
    the_questions_gate_works_with_and_without_javascript,
    hints_mode_shows_masked_hints_to_everyone,
    the_phone_gate_works_with_and_without_javascript,
);

/// The phone gate over HTTP: the number typed nationally, a text with the
/// hydrated app, a call without JavaScript (docs/security.md #12).
async fn the_phone_gate_works_with_and_without_javascript(t: &TestDb) {
    let app = TestApp::new(t).await;
    let id = app.add_user("dana", Role::User).await;
    let mobile = "+972502345678";
    methods::upsert(
        app.services.db.pool(),
        id,
        &NewMethod {
            kind: sspr_domain::methods::Kind::Phone,
            destination: mobile,
            phone_channel: Some(sspr_domain::methods::PhoneChannel::Sms),
            secret: None,
            last_step: 0,
            answers: None,
        },
        app.clock.now(),
    )
    .await
    .unwrap();
    let (_, cookies) = start(&app, "dana").await;
    let page = app.get("/reset/verify", Some(&cookies)).await;
    assert!(
        page.body.contains("/api/reset_phone"),
        "offered: {}",
        page.body
    );
    let sent = app
        .post_js(
            "/api/reset_phone",
            "region=IL&number=050-234-5678&channel=sms",
            Some(&cookies),
        )
        .await;
    assert_eq!(
        sent.header("location"),
        Some("/reset/code"),
        "{}",
        sent.body
    );
    let (code, channel) = last_code(&app.services, mobile).await;
    assert_eq!(channel, sspr_domain::outbox::Channel::Sms);
    let ok = app
        .post_js("/api/reset_verify", &format!("code={code}"), Some(&cookies))
        .await;
    assert_eq!(
        ok.header("location"),
        Some("/reset/password"),
        "{}",
        ok.body
    );

    // Without JavaScript: a call, and a form post answered with redirects.
    let (_, cookies) = start(&app, "dana").await;
    let sent = app
        .post_html_with_cookie(
            "/api/reset_phone",
            "region=IL&number=%2B972502345678&channel=voice",
            "/reset/verify",
            &cookies,
        )
        .await;
    assert_eq!(sent.status, StatusCode::FOUND, "{}", sent.body);
    assert_eq!(sent.header("location"), Some("/reset/code"));
    let (code, channel) = last_code(&app.services, mobile).await;
    assert_eq!(channel, sspr_domain::outbox::Channel::Voice);
    let ok = app
        .post_html_with_cookie(
            "/api/reset_verify",
            &format!("code={code}"),
            "/reset/code",
            &cookies,
        )
        .await;
    assert_eq!(
        ok.header("location"),
        Some("/reset/password"),
        "{}",
        ok.body
    );
}

/// The page's body with its CSP nonce (fresh per response, repeated in
/// the page) taken out.
fn without_nonce(page: &Reply) -> String {
    let nonce = page
        .header("content-security-policy")
        .and_then(|csp| csp.split("'nonce-").nth(1))
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_default();
    assert!(!nonce.is_empty(), "a page carries a nonce");
    page.body.replace(nonce, "")
}

async fn step_one_answers_every_account_alike(t: &TestDb) {
    let app = TestApp::new(t).await;
    add_registered_user(&app, "dana").await;
    app.add_user("unregistered", Role::User).await;
    let disabled = add_registered_user(&app, "gone").await;
    users::set_enabled(app.services.db.pool(), disabled, false)
        .await
        .unwrap();
    add_registered(&app, "boss", Role::Admin).await;
    // Locked by ten failed sign-ins.
    add_registered_user(&app, "locked").await;
    for i in 0..10 {
        app.post_js("/api/sign_in", &form("locked", &format!("wrong {i}")), None)
            .await;
    }
    let mut mut_policy = policy::load(&app.services.db).await.unwrap();
    mut_policy.sspr_scope = sspr_domain::policy::SsprScope::Groups;
    mut_policy.sspr_groups = vec!["nobody-is-here".into()];
    policy::save(&app.services.db, &mut_policy, app.clock.now())
        .await
        .unwrap();

    let (reference, reference_cookies) = start(&app, "nobody").await;
    assert_eq!(reference.status, StatusCode::OK, "{}", reference.body);
    assert_eq!(reference.header("location"), Some("/reset/verify"));
    let reference_page = app.get("/reset/verify", Some(&reference_cookies)).await;
    for login in ["dana", "unregistered", "gone", "boss", "locked"] {
        let (r, cookies) = start(&app, login).await;
        assert_eq!(r.status, reference.status, "{login}");
        assert_eq!(r.body, reference.body, "{login}");
        assert_eq!(
            r.comparable_headers().keys().collect::<Vec<_>>(),
            reference.comparable_headers().keys().collect::<Vec<_>>(),
            "{login}"
        );
        assert_eq!(r.header("location"), reference.header("location"));
        assert_eq!(
            set_cookie_names(&r),
            set_cookie_names(&reference),
            "{login}"
        );
        // The gate page too, admins included: a second gate shows only
        // once the first is passed (docs/security.md #72).
        let page = app.get("/reset/verify", Some(&cookies)).await;
        assert_eq!(page.status, StatusCode::OK, "{login}");
        assert_eq!(
            without_nonce(&page),
            without_nonce(&reference_page),
            "{login}"
        );
        let sent = app
            .post_js(
                "/api/reset_email",
                &format!("address={}", enc(&format!("{login}@home.example"))),
                Some(&cookies),
            )
            .await;
        assert_eq!(
            (sent.status, sent.header("location")),
            (StatusCode::OK, Some("/reset/code")),
            "{login}: {}",
            sent.body
        );
    }
    // Only dana and the admin could be reached: disabled, locked-out and
    // out-of-scope accounts learn their state after a gate, not before.
    let codes: Vec<String> = outbox::recent(app.services.db.pool(), &app.services.key, 50)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m.template {
            Template::ResetCode { .. } => Some(m.recipient),
            _ => None,
        })
        .collect();
    assert!(
        !codes.contains(&"unregistered@home.example".to_owned())
            && !codes.contains(&"nobody@home.example".to_owned())
    );
}

async fn the_one_gate_journey_resets_and_signs_everyone_out(t: &TestDb) {
    let app = TestApp::new(t).await;
    add_registered_user(&app, "dana").await;
    let old = app
        .post_js("/api/sign_in", &form("dana", PASSWORD), None)
        .await
        .session()
        .unwrap();
    let (r, cookies) = start(&app, "dana").await;
    assert_eq!(r.status, StatusCode::OK);
    // Step 3 before the gate: 409, flow unchanged.
    let early = app
        .post_js("/api/reset_password", &new_password_form(), Some(&cookies))
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
    assert!(early.body.contains(r#""code":"gates_incomplete""#));
    let sent = app
        .post_js(
            "/api/reset_email",
            "address=DANA%40home.example",
            Some(&cookies),
        )
        .await;
    assert_eq!(sent.header("location"), Some("/reset/code"));
    let code_page = app.get("/reset/code", Some(&cookies)).await;
    assert!(code_page.body.contains(r#"autocomplete="one-time-code""#));
    let message = outbox::recent(app.services.db.pool(), &app.services.key, 5)
        .await
        .unwrap()
        .into_iter()
        .find(|m| matches!(m.template, Template::ResetCode { .. }))
        .unwrap();
    let Template::ResetCode { code, .. } = &message.template else {
        unreachable!()
    };
    // Codes carry no link, so a poisoned Host header has nothing to poison.
    let text = app::ssr::messages::render(&message.template, "en").body;
    assert!(!text.contains("http"), "{text}");
    let ok = app
        .post_js("/api/reset_verify", &format!("code={code}"), Some(&cookies))
        .await;
    assert_eq!(
        ok.header("location"),
        Some("/reset/password"),
        "{}",
        ok.body
    );
    let page = app.get("/reset/password", Some(&cookies)).await;
    // Printed when it fails: the intermittent failure (a page read right
    // after the step that leads to it) must name its cause next time.
    assert!(
        page.body.contains(r#"autocomplete="new-password""#),
        "{}: {}",
        page.status,
        page.body
    );
    let weak = app
        .post_js(
            "/api/reset_password",
            "new_password=password123456789&confirm_password=password123456789",
            Some(&cookies),
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.body.contains(r#""reasons":["common"]"#),
        "{}",
        weak.body
    );
    let done = app
        .post_js("/api/reset_password", &new_password_form(), Some(&cookies))
        .await;
    assert_eq!(
        done.header("location"),
        Some("/reset/done"),
        "{}",
        done.body
    );
    assert!(done.session().is_none(), "nobody is signed in by a reset");
    let account = app
        .get("/account", Some(&format!("sspr_session={old}")))
        .await;
    assert_eq!(account.status, StatusCode::FOUND, "the old session is gone");
    let again = app
        .post_js("/api/reset_password", &new_password_form(), Some(&cookies))
        .await;
    assert!(
        again.body.contains(r#""code":"flow_expired""#),
        "single use"
    );
    assert_eq!(
        app.post_js("/api/sign_in", &form("dana", NEW_PASSWORD), None)
            .await
            .status,
        StatusCode::OK
    );
}

async fn bad_input_is_refused_and_sends_nothing(t: &TestDb) {
    let app = TestApp::new(t).await;
    add_registered_user(&app, "dana").await;
    add_registered_user(&app, "mallory").await;
    let challenge = app.post_js("/api/reset_challenge", "", None).await;
    let puzzle: Puzzle = serde_json::from_str(&challenge.body).unwrap();
    let solution = captcha::solve(&puzzle).unwrap();
    let nonce = cookies_of(&[&challenge]);
    // Two identities in one request.
    let r = app
        .post_js(
            "/api/reset_start",
            &format!("login=dana&login=mallory&captcha={}", enc(&solution)),
            Some(&nonce),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = app
        .post_js(
            "/api/reset_start",
            &format!(
                "login%5B%5D=dana&login%5B%5D=mallory&captcha={}",
                enc(&solution)
            ),
            Some(&nonce),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // A forged CAPTCHA, then a replayed one.
    let r = app
        .post_js(
            "/api/reset_start",
            "login=dana&captcha=%7B%7D",
            Some(&nonce),
        )
        .await;
    assert!(r.body.contains(r#""code":"captcha_invalid""#), "{}", r.body);
    let first = app
        .post_js(
            "/api/reset_start",
            &format!("login=dana&captcha={}", enc(&solution)),
            Some(&nonce),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let replay = app
        .post_js(
            "/api/reset_start",
            &format!("login=dana&captcha={}", enc(&solution)),
            Some(&nonce),
        )
        .await;
    assert!(
        replay.body.contains(r#""code":"captcha_invalid""#),
        "{}",
        replay.body
    );
    let cookies = cookies_of(&[&challenge, &first]);
    let r = app
        .post_js(
            "/api/reset_email",
            "address=dana%40home.example&address=mallory%40evil.example",
            Some(&cookies),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .post_js(
            "/api/reset_email",
            "address=a%40x.test%0D%0ABcc%3A%20b%40y.test",
            Some(&cookies),
        )
        .await;
    assert!(r.body.contains(r#""code":"invalid_email""#));
    assert!(
        outbox::recent(app.services.db.pool(), &app.services.key, 10)
            .await
            .unwrap()
            .is_empty(),
        "no mail left"
    );
    // No flow: every later step says so.
    let r = app
        .post_js("/api/reset_verify", "code=12345678", None)
        .await;
    assert!(r.body.contains(r#""code":"flow_expired""#), "{}", r.body);
}

async fn throttled_answers_carry_retry_after(t: &TestDb) {
    let app = TestApp::new(t).await;
    add_registered_user(&app, "dana").await;
    let (_, cookies) = start(&app, "dana").await;
    let mut last = None;
    for _ in 0..6 {
        app.post_js("/api/reset_authenticator", "", Some(&cookies))
            .await;
        last = Some(
            app.post_js("/api/reset_verify", "code=000000", Some(&cookies))
                .await,
        );
    }
    let last = last.unwrap();
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS, "{}", last.body);
    assert!(last.body.contains(r#""code":"method_blocked""#));
    assert_eq!(last.header("retry-after"), Some("86400"));
}

async fn per_address_limits_believe_x_forwarded_for_only_from_trusted_proxies(t: &TestDb) {
    // docs/security.md #38: spoofed X-Forwarded-For from an untrusted peer is ignored.
    let config = Config {
        trusted_proxies: vec!["10.0.0.0/8".into()],
        ..Config::default()
    };
    let app = TestApp::with_config(t, config).await;
    // Without JavaScript (no CAPTCHA) three starts per address per hour.
    let nojs_start = |peer: &str, forwarded: &str| {
        let mut req = Request::post("/api/reset_start")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header("sec-fetch-site", "same-origin")
            .header(header::ORIGIN, ORIGIN)
            .header("x-forwarded-for", forwarded)
            .body(Body::from("login=dana&captcha="))
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 50000)));
        app.send(req)
    };
    // A client talking to us directly cannot escape by inventing a new
    // forwarded address each time.
    for i in 0..3 {
        let r = nojs_start("198.51.100.9", &format!("203.0.113.{i}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let r = nojs_start("198.51.100.9", "203.0.113.99").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    // Behind the trusted load balancer each client has its own count,
    // and a client's own fake entry on the left changes nothing.
    for i in 0..3 {
        let r = nojs_start("10.0.0.2", &format!("192.0.2.{i}, 203.0.113.50")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let r = nojs_start("10.0.0.2", "192.0.2.77, 203.0.113.50").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    let r = nojs_start("10.0.0.3", "203.0.113.51").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "another client behind the same proxy"
    );
    // An IPv6 client counts as its /64.
    for i in 1..=3 {
        let r = nojs_start("2001:db8:1:2::1", "").await;
        assert_eq!(r.status, StatusCode::OK, "{i}: {}", r.body);
    }
    let r = nojs_start("2001:db8:1:2:ffff::9", "").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "same /64");
    let r = nojs_start("2001:db8:1:3::1", "").await;
    assert_eq!(r.status, StatusCode::OK, "another /64");
}

async fn the_help_desk_contact_is_on_every_reset_page(t: &TestDb) {
    let app = TestApp::new(t).await;
    let page = app.get("/reset", None).await;
    assert!(!page.body.contains("class=\"helpdesk\""));
    let mut p = policy::load(&app.services.db).await.unwrap();
    p.helpdesk_contact = "help@contoso.example".into();
    policy::save(&app.services.db, &p, app.clock.now())
        .await
        .unwrap();
    let page = app.get("/reset?lang=he-IL", None).await;
    assert!(
        page.body.contains(r#"href="mailto:help@contoso.example""#),
        "step 1"
    );
    let expired = app.get("/reset/verify", None).await;
    assert!(expired.body.contains(r#"data-code="flow_expired""#));
    assert!(
        expired.body.contains("mailto:help@contoso.example"),
        "and with errors"
    );
}

/// The policy unreadable when a page is asked for: the page is still shown,
/// without the help desk, and the fault is logged
/// (server/src/middleware/page_settings.rs).
async fn a_page_whose_policy_cannot_be_read_comes_without_the_help_desk(t: &TestDb) {
    let captured = crate::logs::Captured::default();
    let _guard = tracing::subscriber::set_default(crate::logs::subscriber(&captured));
    let app = TestApp::new(t).await;
    let mut p = policy::load(&app.services.db).await.unwrap();
    p.helpdesk_contact = "help@contoso.example".into();
    policy::save(&app.services.db, &p, app.clock.now())
        .await
        .unwrap();
    let readable = app.get("/reset", None).await;
    assert!(readable.body.contains("sspr-helpdesk"), "while readable");
    // A row no policy can be read from, and no copy in the cache.
    sspr_domain::store::settings::put(
        app.services.db.pool(),
        "policy",
        "not json",
        app.clock.now(),
    )
    .await
    .unwrap();
    app.services.db.policy_cache().forget();
    let page = app.get("/reset", None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("sspr-helpdesk"), "{}", page.body);
    assert!(!page.body.contains(r#"class="helpdesk""#));
    let logs = captured.text();
    assert!(
        logs.contains("a page without the help desk"),
        "the fault is logged: {logs}"
    );
}

async fn the_questions_gate_works_with_and_without_javascript(t: &TestDb) {
    let app = TestApp::new(t).await;
    let id = add_registered_user(&app, "dana").await;
    register_questions(&app.services, id).await;

    let (_, cookies) = start(&app, "dana").await;
    let gate = app.get("/reset/verify", Some(&cookies)).await;
    assert!(
        !gate.body.contains("/api/reset_questions"),
        "never a first gate"
    );
    let early = app
        .post_js("/api/reset_questions", "", Some(&cookies))
        .await;
    assert!(
        early.body.contains(r#""code":"method_not_allowed""#),
        "{}",
        early.body
    );
    app.post_js(
        "/api/reset_email",
        "address=dana%40home.example",
        Some(&cookies),
    )
    .await;
    let (code, _) = last_code(&app.services, "dana@home.example").await;
    let ok = app
        .post_js("/api/reset_verify", &format!("code={code}"), Some(&cookies))
        .await;
    assert_eq!(
        ok.header("location"),
        Some("/reset/verify"),
        "one of two: {}",
        ok.body
    );
    let gate = app.get("/reset/verify", Some(&cookies)).await;
    assert!(
        gate.body.contains("/api/reset_questions"),
        "offered as the second gate: {} {}",
        gate.status,
        gate.body
    );
    let chosen = app
        .post_html_with_cookie("/api/reset_questions", "", "/reset/verify", &cookies)
        .await;
    assert_eq!(
        (chosen.status, chosen.header("location")),
        (StatusCode::FOUND, Some("/reset/questions"))
    );
    let page = app.get("/reset/questions", Some(&cookies)).await;
    assert!(
        page.body.contains("What was the name of your first pet?"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"name="answers[1]""#) && page.body.contains(r#"autocomplete="off""#)
    );
    // A missing answer, then a wrong one: clear codes, nothing passed.
    let r = app
        .post_js("/api/reset_answers", "answers%5B0%5D=Rex", Some(&cookies))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains(r#""code":"answers_incomplete""#),
        "{}",
        r.body
    );
    let r = app
        .post_js(
            "/api/reset_answers",
            "answers%5B0%5D=Rex&answers%5B1%5D=Haifa",
            Some(&cookies),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains(r#""code":"wrong_answers""#) && r.body.contains(r#""attempts_left":4"#),
        "{}",
        r.body
    );
    // Without JavaScript: the browser posts the form and follows the redirect.
    let r = app
        .post_html_with_cookie(
            "/api/reset_answers",
            "answers%5B0%5D=rex&answers%5B1%5D=TEL+AVIV",
            "/reset/questions",
            &cookies,
        )
        .await;
    assert_eq!(
        (r.status, r.header("location")),
        (StatusCode::FOUND, Some("/reset/password")),
        "{}",
        r.body
    );
    let done = app
        .post_js("/api/reset_password", &new_password_form(), Some(&cookies))
        .await;
    assert_eq!(
        done.header("location"),
        Some("/reset/done"),
        "{}",
        done.body
    );
}

async fn hints_mode_shows_masked_hints_to_everyone(t: &TestDb) {
    let app = TestApp::new(t).await;
    add_registered_user(&app, "dana").await;
    let (_, plain) = start(&app, "dana").await;
    let page = app.get("/reset/verify", Some(&plain)).await;
    assert!(
        !page.body.contains("email-hint") && page.body.contains(r#"name="address""#),
        "off by default: {} {}",
        page.status,
        page.body
    );
    let mut p = policy::load(&app.services.db).await.unwrap();
    p.reset_show_hints = true;
    policy::save(&app.services.db, &p, app.clock.now())
        .await
        .unwrap();
    let mut sends = vec![];
    for login in ["dana", "nobody"] {
        let (_, cookies) = start(&app, login).await;
        let page = app.get("/reset/verify", Some(&cookies)).await;
        assert!(page.body.contains(r#"data-testid="email-hint""#), "{login}");
        assert!(
            page.body.contains("***@home.example"),
            "{login}: the stand-in uses the common domain"
        );
        assert!(page.body.contains(r#"data-testid="phone-hint""#), "{login}");
        assert!(
            !page.body.contains(r#"name="address""#),
            "{login}: nothing to type"
        );
        let r = app
            .post_js("/api/reset_email_hint", "", Some(&cookies))
            .await;
        sends.push((r.status, r.header("location").map(str::to_owned), r.body));
    }
    let (again, cookies) = start(&app, "dana").await;
    let page = app.get("/reset/verify", Some(&cookies)).await;
    assert!(
        page.body.contains("da***@home.example"),
        "start: {} {:?} {}; page: {} {}",
        again.status,
        again.header("location"),
        again.body,
        page.status,
        page.body
    );
    assert_eq!(sends[0], sends[1], "the same answer either way");
    let sent: Vec<String> = outbox::recent(app.services.db.pool(), &app.services.key, 10)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m.template {
            Template::ResetCode { .. } => Some(m.recipient),
            _ => None,
        })
        .collect();
    assert_eq!(sent, vec!["dana@home.example".to_owned()]);
}
