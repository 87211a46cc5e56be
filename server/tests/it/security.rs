//! CSRF guard, body limit, headers (docs/security.md #44, #46, #47, #48).

use axum::body::Body;
use http::{Request, StatusCode, header};
use sspr_domain::both_backends;
use sspr_domain::config::Config;
use sspr_domain::testkit::TestDb;
use sspr_domain::users::Role;

use crate::harness::{ORIGIN, PASSWORD, TestApp, form};

fn post(sec_fetch_site: Option<&str>, origin: Option<&str>, body: String) -> Request<Body> {
    let mut b = Request::post("/api/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(s) = sec_fetch_site {
        b = b.header("sec-fetch-site", s);
    }
    if let Some(o) = origin {
        b = b.header(header::ORIGIN, o);
    }
    b.body(Body::from(body)).unwrap()
}

both_backends!(
    cross_site_posts_are_refused_before_any_work,
    bodies_over_16_kib_get_413,
    pages_carry_security_headers_and_a_fresh_nonce,
    every_route_and_error_carries_the_header_set,
    https_origins_get_hsts_and_host_prefixed_secure_cookies,
    host_header_poisoning_changes_nothing,
    only_form_encoded_bodies_are_accepted,
    malformed_forms_are_400_never_500,
);

async fn cross_site_posts_are_refused_before_any_work(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let before = app.services.hasher.hash_count();
    let body = || form("dana", PASSWORD);
    for (site, origin) in [
        (Some("cross-site"), Some(ORIGIN)),
        (Some("same-site"), None),
        (Some("none"), None),
        (None, Some("https://evil.example")),
        (None, Some("null")),
        (None, None),
    ] {
        let r = app.send(post(site, origin, body())).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{site:?} {origin:?}");
        assert!(r.session().is_none());
    }
    assert_eq!(
        app.services.hasher.hash_count(),
        before,
        "no password was checked"
    );
    // Same origin by Fetch Metadata, or by Origin when the browser sends none.
    assert_eq!(
        app.send(post(Some("same-origin"), None, body()))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.send(post(None, Some(ORIGIN), body())).await.status,
        StatusCode::OK
    );
}

async fn bodies_over_16_kib_get_413(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let before = app.services.hasher.hash_count();
    let big = form("dana", &"x".repeat(17 * 1024));
    // Declared by Content-Length, as browsers send forms...
    let mut declared = post(Some("same-origin"), None, big.clone());
    declared
        .headers_mut()
        .insert(header::CONTENT_LENGTH, big.len().into());
    assert_eq!(
        app.send(declared).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // ...or streamed without one.
    let r = app.send(post(Some("same-origin"), None, big)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.services.hasher.hash_count(), before);
}

/// Pages, server functions, static files, redirects and every kind of
/// error answer: the same header set on all (docs/security.md #47).
async fn every_route_and_error_carries_the_header_set(t: &TestDb) {
    let app = TestApp::new(t).await;
    let big = "a".repeat(64 * 1024);
    let cross_site = Request::post("/api/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::from(form("x", "y")))
        .unwrap();
    let replies = [
        ("page", app.get("/sign-in", None).await),
        ("wizard page", app.get("/reset/verify", None).await),
        ("redirect", app.get("/security-info", None).await),
        ("missing page", app.get("/no/such/page", None).await),
        ("static file", app.get("/pkg/sspr.css", None).await),
        ("dev outbox, held", app.get("/dev/outbox", None).await),
        ("health", app.get("/healthz", None).await),
        (
            "server function",
            app.post_js("/api/sign_in", &form("x", "y"), None).await,
        ),
        (
            "unknown function",
            app.post_js("/api/no_such_fn", "", None).await,
        ),
        ("too large", app.post_js("/api/sign_in", &big, None).await),
        ("cross-site", app.send(cross_site).await),
    ];
    for (what, r) in &replies {
        for (name, value) in [
            ("x-content-type-options", Some("nosniff")),
            ("referrer-policy", Some("same-origin")),
            ("x-frame-options", Some("DENY")),
            ("cross-origin-opener-policy", Some("same-origin")),
        ] {
            assert_eq!(r.header(name), value, "{what} ({}): {name}", r.status);
        }
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'"),
            "{what} ({}): {csp:?}",
            r.status
        );
    }
}

async fn pages_carry_security_headers_and_a_fresh_nonce(t: &TestDb) {
    let app = TestApp::new(t).await;
    let a = app.get("/sign-in", None).await;
    let b = app.get("/sign-in", None).await;
    assert_eq!(a.status, StatusCode::OK);
    let csp = a.header("content-security-policy").unwrap();
    for directive in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(
        a.body.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the header's nonce"
    );
    assert_ne!(
        csp,
        b.header("content-security-policy").unwrap(),
        "one nonce per response"
    );
    assert_eq!(a.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(a.header("referrer-policy"), Some("same-origin"));
    assert_eq!(a.header("cache-control"), Some("no-store"));
    assert_eq!(a.header("x-frame-options"), Some("DENY"));
    assert_eq!(a.header("cross-origin-opener-policy"), Some("same-origin"));
    assert!(
        a.header("strict-transport-security").is_none(),
        "no HSTS on plain http"
    );
    let api = app.post_js("/api/sign_in", &form("x", "y"), None).await;
    assert_eq!(api.header("cache-control"), Some("no-store"));
}

async fn https_origins_get_hsts_and_host_prefixed_secure_cookies(t: &TestDb) {
    let config = Config {
        public_url: "https://sspr.contoso.example".into(),
        ..Config::default()
    };
    let app = TestApp::with_config(t, config).await;
    app.add_user("dana", Role::User).await;
    let page = app.get("/sign-in", None).await;
    assert_eq!(
        page.header("strict-transport-security"),
        Some("max-age=31536000; includeSubDomains")
    );
    let r = app
        .send(post(
            None,
            Some("https://sspr.contoso.example"),
            form("dana", PASSWORD),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let cookie = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-sspr_session="))
        .unwrap();
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"),
        "{cookie}"
    );
    // The reset wizard's cookies too: the CAPTCHA nonce and the flow
    // (docs/security.md #69).
    let https_post = |path: &str, body: &str, cookie: Option<&str>| {
        let mut b = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::ORIGIN, "https://sspr.contoso.example");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        b.body(Body::from(body.to_owned())).unwrap()
    };
    let challenge = app.send(https_post("/api/reset_challenge", "", None)).await;
    let start = app
        .send(https_post("/api/reset_start", "login=dana&captcha=", None))
        .await;
    for (reply, name) in [
        (&challenge, "__Host-sspr_captcha="),
        (&start, "__Host-sspr_reset="),
    ] {
        let cookie = reply
            .set_cookies()
            .into_iter()
            .find(|c| c.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {:?} {}", reply.set_cookies(), reply.body));
        assert!(
            cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"),
            "{cookie}"
        );
    }
    // The http origin is no longer accepted for posts.
    assert_eq!(
        app.send(post(None, Some(ORIGIN), form("dana", PASSWORD)))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

async fn host_header_poisoning_changes_nothing(t: &TestDb) {
    // Links and the CSRF origin come from public_url only (docs/security.md #14).
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let req = Request::post("/api/sign_in")
        .header(header::HOST, "evil.example")
        .header("x-forwarded-host", "evil.example")
        .header(header::ORIGIN, "http://evil.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form("dana", PASSWORD)))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);
}

async fn only_form_encoded_bodies_are_accepted(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    for content_type in [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/json",
        "",
    ] {
        let mut req = post(Some("same-origin"), None, form("dana", PASSWORD));
        if content_type.is_empty() {
            req.headers_mut().remove(header::CONTENT_TYPE);
        } else {
            req.headers_mut()
                .insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        }
        let r = app.send(req).await;
        assert_eq!(
            r.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
    }
    let mut charset = post(Some("same-origin"), None, form("dana", PASSWORD));
    charset.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/x-www-form-urlencoded; charset=UTF-8"
            .parse()
            .unwrap(),
    );
    assert_eq!(app.send(charset).await.status, StatusCode::OK);
}

async fn malformed_forms_are_400_never_500(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let before = app.services.hasher.hash_count();
    for body in [
        "login=dana&login=eve&password=x".to_owned(),
        "login[]=dana&password=x".to_owned(),
        "login=%ff%fe&password=x".to_owned(),
        "%%%".to_owned(),
        String::new(),
    ] {
        let r = app
            .send(post(Some("same-origin"), None, body.clone()))
            .await;
        assert!(
            r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::UNAUTHORIZED,
            "{body:?} -> {} {}",
            r.status,
            r.body
        );
        assert!(r.session().is_none(), "{body:?} signed someone in");
    }
    // Duplicate or array identity fields never reach a password check
    // for two accounts; at most one ID is ever considered.
    assert!(app.services.hasher.hash_count() - before <= 3);
}
