//! The eleven languages over HTTP: each page in its language and direction
//! with only its own catalog inside, the saved language of a signed-in
//! account, and messages in the recipient's language (docs/security.md #96).

use std::path::Path;

use http::StatusCode;
use http_body_util::BodyExt;
use sqlx::Row;
use sspr_domain::testkit::TestDb;
use sspr_domain::users::Role;
use sspr_domain::{Clock, both_backends};
use tower::ServiceExt;

use crate::harness::{PASSWORD, TestApp, form};

both_backends!(
    every_language_is_served_with_its_direction_and_only_its_catalog,
    a_saved_language_beats_the_cookie_and_the_browser,
    messages_follow_the_saved_language_else_the_page,
    a_reset_for_a_japanese_user_mails_japanese_through_smtp,
    the_phone_picker_names_countries_in_the_page_language,
);

const LANGUAGES: [(&str, &str); 11] = [
    ("en", "ltr"),
    ("zh-TW", "ltr"),
    ("ja-JP", "ltr"),
    ("he-IL", "rtl"),
    ("ar", "rtl"),
    ("de", "ltr"),
    ("fr", "ltr"),
    ("es", "ltr"),
    ("pt-BR", "ltr"),
    ("ko", "ltr"),
    ("zh-CN", "ltr"),
];

/// The text of `key` in language `tag`, from the catalog the app is built from.
fn catalog_text(tag: &str, key: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../app/locales/{tag}.json"));
    let catalog: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    catalog[key].as_str().unwrap().to_owned()
}

/// HTML-escaped as leptos writes text.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

async fn every_language_is_served_with_its_direction_and_only_its_catalog(t: &TestDb) {
    let app = TestApp::new(t).await;
    for (tag, dir) in LANGUAGES {
        let r = app.get(&format!("/reset?lang={tag}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{tag}");
        assert!(
            r.body
                .contains(&format!(r#"<html lang="{tag}" dir="{dir}""#)),
            "{tag}"
        );
        let title = escaped(&catalog_text(tag, "reset_title"));
        assert!(r.body.contains(&title), "{tag}: {title}");
        // The page names its own catalog for the browser, under the
        // response's CSP nonce, and no other language's.
        let csp = r.header("content-security-policy").unwrap();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|n| n.split('\'').next())
            .unwrap();
        let start = format!(r#"<script nonce="{nonce}" src="/i18n/{tag}."#);
        let at = r
            .body
            .find(&start)
            .unwrap_or_else(|| panic!("{tag}: catalog script"));
        let src = r.body[at..]
            .split("src=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_owned();
        assert_eq!(r.body.matches("/i18n/").count(), 1, "{tag}");
        let script = app.get(&src, None).await;
        assert_eq!(script.status, StatusCode::OK, "{src}");
        assert_eq!(
            script.header("content-type"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(
            script.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        assert!(
            script.body.starts_with(&format!(
                r#"window.__LEPTOS_I18N_TRANSLATIONS=[{{"locale":"{tag}","#
            )),
            "{tag}"
        );
        assert_eq!(script.body.matches(r#""locale":"#).count(), 1, "{tag}");
        assert!(
            script
                .body
                .contains(&serde_json::to_string(&catalog_text(tag, "reset_title")).unwrap())
        );
        // The same bytes in brotli for a browser that takes it.
        let req = http::Request::get(&src)
            .header("accept-encoding", "gzip, deflate, br")
            .body(axum::body::Body::empty())
            .unwrap();
        let res = app.router.clone().oneshot(req).await.unwrap();
        assert_eq!(res.headers().get("content-encoding").unwrap(), "br");
        let packed = res.into_body().collect().await.unwrap().to_bytes();
        let mut unpacked = Vec::new();
        brotli::BrotliDecompress(&mut &packed[..], &mut unpacked).unwrap();
        assert_eq!(String::from_utf8(unpacked).unwrap(), script.body);
        // Every language is offered, each in its own name.
        for (other, _) in LANGUAGES {
            let name = escaped(&catalog_text(other, "language_name"));
            assert!(
                r.body.contains(&format!(r#"lang="{other}">{name}<"#))
                    || r.body
                        .contains(&format!(r#"lang="{other}" selected>{name}<"#)),
                "{tag} offers {other}"
            );
        }
    }
    // Only the catalogs' own names are served.
    for wrong in [
        "/i18n/en.js",
        "/i18n/xx.0123456789abcdef012345.js",
        "/i18n/..%2Fen.json",
    ] {
        assert_eq!(
            app.get(wrong, None).await.status,
            StatusCode::NOT_FOUND,
            "{wrong}"
        );
    }
    // The tags browsers send reach the right language.
    for (header, want) in [
        ("zh-HK", "zh-TW"),
        ("zh-SG", "zh-CN"),
        ("iw", "he-IL"),
        ("pt", "pt-BR"),
    ] {
        let req = http::Request::get("/sign-in")
            .header("accept-language", header)
            .body(axum::body::Body::empty())
            .unwrap();
        let r = app.send(req).await;
        assert!(
            r.body.contains(&format!(r#"<html lang="{want}""#)),
            "{header}"
        );
    }
}

async fn saved_locale(app: &TestApp, login: &str) -> Option<String> {
    sqlx::query("SELECT locale FROM users WHERE login = $1")
        .bind(login)
        .fetch_one(app.services.db.pool())
        .await
        .unwrap()
        .get("locale")
}

async fn a_saved_language_beats_the_cookie_and_the_browser(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("mika", Role::User).await;
    let session = app.sign_in("mika").await.session().unwrap();
    let cookie = format!("sspr_session={session}");
    assert_eq!(saved_locale(&app, "mika").await, None);
    // Choosing on My account (or in the header's picker): a form post.
    let r = app
        .post_html_with_cookie(
            "/api/choose_language",
            "lang=ja-JP&back=%2Faccount%3Fx%3D1",
            "/account",
            &cookie,
        )
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    assert_eq!(r.header("location"), Some("/account?lang=ja-JP"));
    assert_eq!(saved_locale(&app, "mika").await.as_deref(), Some("ja-JP"));
    // Another browser (its own cookie and languages) shows the account's.
    let req = http::Request::get("/account")
        .header("cookie", format!("{cookie}; i18n_pref_locale=de"))
        .header("accept-language", "fr")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert!(
        r.body.contains(r#"<html lang="ja-JP""#),
        "saved beats cookie"
    );
    assert!(
        r.body
            .contains(&escaped(&catalog_text("ja-JP", "account_language")))
    );
    // A link's `?lang=` chooses the page's language, and saves nothing: a
    // GET changes nothing stored (docs/security.md #44), so a link from
    // anywhere cannot change the account.
    let r = app.get("/account?lang=ar", Some(&cookie)).await;
    assert!(r.body.contains(r#"<html lang="ar" dir="rtl""#));
    // The account's list still shows what is saved, not the page's.
    assert_eq!(account_list_choice(&r.body), ["ja-JP"]);
    assert_eq!(saved_locale(&app, "mika").await.as_deref(), Some("ja-JP"));
    // A cross-site post is refused before anything is read.
    let req = http::Request::post("/api/choose_language")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .body(axum::body::Body::from("lang=ko&back=%2F"))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);
    assert_eq!(saved_locale(&app, "mika").await.as_deref(), Some("ja-JP"));
    // Signed out, the picker changes the page's language only; an unknown
    // language and a foreign `back` are refused or ignored.
    let r = app
        .post_html(
            "/api/choose_language",
            "lang=ko&back=%2F%2Fevil.example",
            "/sign-in",
        )
        .await;
    assert_eq!(r.header("location"), Some("/?lang=ko"));
    let r = app
        .post_html(
            "/api/choose_language",
            "lang=xx&back=%2Fsign-in",
            "/sign-in",
        )
        .await;
    assert!(
        r.header("location").is_some_and(|l| l.contains("__err")),
        "{:?}",
        r.headers
    );
    assert_eq!(saved_locale(&app, "mika").await.as_deref(), Some("ja-JP"));
    // My account's "Automatic" clears the saved language, and the way back
    // (`?lang=auto`) the picker's cookie: the browser's languages decide.
    let r = app
        .post_html_with_cookie(
            "/api/choose_language",
            "lang=auto&back=%2Faccount",
            "/account",
            &cookie,
        )
        .await;
    assert_eq!(r.header("location"), Some("/account?lang=auto"));
    assert_eq!(saved_locale(&app, "mika").await, None);
    let req = http::Request::get("/account?lang=auto")
        .header("cookie", format!("{cookie}; i18n_pref_locale=de"))
        .header("accept-language", "fr")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert!(r.body.contains(r#"<html lang="fr""#), "the browser's");
    let cleared = r.set_cookies();
    assert!(
        cleared.iter().any(|c| c.starts_with("i18n_pref_locale=;")
            && c.contains("Max-Age=0")
            && c.contains("Path=/")),
        "{cleared:?}"
    );
    assert_eq!(
        account_list_choice(&r.body),
        ["auto"],
        "Automatic, and only it"
    );
}

/// The values of the selected options in My account's language list.
fn account_list_choice(page: &str) -> Vec<&str> {
    let list = page.find(r#"id="account-lang""#).expect("the list");
    let list = &page[list..list + page[list..].find("</select>").unwrap()];
    list.split("<option")
        .skip(1)
        .map(|o| &o[..o.find('>').unwrap()])
        .filter(|o| o.contains("selected"))
        .filter_map(|o| o.split(r#"value=""#).nth(1)?.split('"').next())
        .collect()
}

/// The language of the newest message to `to`.
async fn last_message_locale(app: &TestApp, to: &str) -> String {
    sqlx::query("SELECT locale FROM outbox WHERE recipient = $1 ORDER BY id DESC LIMIT 1")
        .bind(to)
        .fetch_one(app.services.db.pool())
        .await
        .unwrap()
        .get("locale")
}

async fn messages_follow_the_saved_language_else_the_page(t: &TestDb) {
    use sspr_domain::methods::{self, NewMethod};
    let app = TestApp::new(t).await;
    let id = app.add_user("rin", Role::Admin).await;
    let address = "rin@home.example";
    let db = app.services.db.pool();
    methods::upsert(db, id, &NewMethod::email(address), app.clock.now())
        .await
        .unwrap();
    let method = methods::list(db, id).await.unwrap()[0].id;
    // The sign-in's second factor sends a code: in the page's language
    // while the account has saved none.
    let send_code = |lang: &'static str| {
        let app = &app;
        async move {
            let r = app
                .post_js(
                    "/api/sign_in",
                    &form("rin", PASSWORD),
                    Some(&format!("i18n_pref_locale={lang}")),
                )
                .await;
            let flow = r
                .cookie("sspr_signin")
                .expect("the second factor's flow cookie");
            let r = app
                .post_js(
                    "/api/sign_in_choose",
                    &format!("method={method}"),
                    Some(&format!("sspr_signin={flow}; i18n_pref_locale={lang}")),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    };
    send_code("ja-JP").await;
    assert_eq!(last_message_locale(&app, address).await, "ja-JP");
    // Past any wait between codes to one address.
    app.clock.advance(600);
    send_code("he-IL").await;
    assert_eq!(last_message_locale(&app, address).await, "he-IL");
    // Once saved, the account's language wins over the page's.
    sqlx::query("UPDATE users SET locale = 'ko' WHERE id = $1")
        .bind(id)
        .execute(db)
        .await
        .unwrap();
    app.clock.advance(600);
    send_code("de").await;
    assert_eq!(last_message_locale(&app, address).await, "ko");

    // A notice someone else causes is not in their page's language: wrong
    // passwords typed on a Hebrew page lock the account, and its owner
    // (who saved none) is told in the organisation's language.
    app.add_user("kai", Role::User).await;
    for i in 0..10 {
        app.post_js(
            "/api/sign_in",
            &form("kai", &format!("wrong {i}")),
            Some("i18n_pref_locale=he-IL"),
        )
        .await;
    }
    assert_eq!(last_message_locale(&app, "kai@contoso.example").await, "en");
}

async fn a_reset_for_a_japanese_user_mails_japanese_through_smtp(t: &TestDb) {
    use sspr_domain::outbox;
    use sspr_server::delivery::LiveSender;

    use crate::smtp::{body, decode_header, header, smtp_server};

    let app = TestApp::new(t).await;
    let id = crate::reset::add_registered_user(&app, "haru").await;
    sspr_domain::users::set_locale(app.services.db.pool(), id, Some("ja-JP"))
        .await
        .unwrap();
    // The reset runs in an English page: the mail follows the account.
    // The code is read before delivery, which wipes it from the outbox.
    let (_, code) = crate::reset::email_code(&app, "haru").await;
    let (port, inbox) = smtp_server();
    let sender = LiveSender::new(&crate::delivery::smtp_config(port)).unwrap();
    let delivered = outbox::deliver_due(&app.services.db, &app.services.key, &sender, &app.clock)
        .await
        .unwrap();
    assert!(delivered >= 1);
    let mails = inbox.mails();
    let (_, mail) = mails
        .iter()
        .find(|(to, _)| to == &vec!["haru@home.example".to_owned()])
        .expect("the reset code's mail");
    assert_eq!(
        decode_header(&header(mail, "Subject")),
        catalog_text("ja-JP", "mail_reset_code_subject")
    );
    let text = body(mail);
    let expected = catalog_text("ja-JP", "mail_reset_code_body")
        .replace("{{ code }}", &code)
        .replace("{minutes, plural, other {# 分}}", "10 分");
    assert!(text.contains(&expected), "{text}\n{expected}");
    assert!(!text.contains("plural"));
}

/// The registration wizard's phone page, as a browser saying `accept`.
async fn phone_page(app: &TestApp, session: &str, accept: &str) -> String {
    let req = http::Request::get("/security-info/setup/phone")
        .header(http::header::ACCEPT, "text/html")
        .header(http::header::ACCEPT_LANGUAGE, accept)
        .header(http::header::COOKIE, session)
        .body(axum::body::Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{accept}");
    r.body
}

/// The picker's countries come from CLDR in the page's language, with
/// their calling codes; it starts on the browser's country when the admin
/// allows it, else on the organisation's default (US, IL, JP and TW are
/// allowed, US the default).
async fn the_phone_picker_names_countries_in_the_page_language(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("mika", Role::User).await;
    let session = format!(
        "sspr_session={}",
        app.sign_in("mika").await.session().unwrap()
    );

    let body = phone_page(&app, &session, "ja-JP,ja;q=0.9").await;
    assert!(body.contains(r#"<html lang="ja-JP""#));
    assert!(body.contains("日本 (\u{2066}+81\u{2069})"), "{body}");
    assert!(
        body.contains("アメリカ合衆国 (\u{2066}+1\u{2069})"),
        "{body}"
    );
    assert!(body.contains(r#"<option value="JP" selected"#), "{body}");

    let body = phone_page(&app, &session, "he-IL").await;
    assert!(body.contains("ישראל (\u{2066}+972\u{2069})"), "{body}");
    assert!(body.contains(r#"<option value="IL" selected"#), "{body}");

    // A country the admin does not allow: the organisation's default.
    let body = phone_page(&app, &session, "en-GB,en;q=0.8").await;
    assert!(body.contains("Taiwan (\u{2066}+886\u{2069})"), "{body}");
    assert!(body.contains(r#"<option value="US" selected"#), "{body}");
    assert!(!body.contains(r#"<option value="IL" selected"#));
}
