//! The pseudo-locales (`app/build.rs`): every page rendered in `en-XA`,
//! where each catalog text is between `⟦` `⟧`, must show no words outside
//! them. A word outside is a text that skipped the catalogs, or a value the
//! user or the directory gave that is not set apart as a `<bdi>` or an
//! element with its own `dir` (issue 14: echoed values are islands of their
//! own direction).

use http::StatusCode;
use sspr_domain::both_backends;
use sspr_domain::testkit::TestDb;
use sspr_domain::users::Role;

use crate::harness::TestApp;

both_backends!(
    every_page_in_the_long_pseudo_locale_shows_catalog_text_only,
    the_right_to_left_pseudo_locale_mirrors_the_page,
);

async fn every_page_in_the_long_pseudo_locale_shows_catalog_text_only(t: &TestDb) {
    let app = TestApp::new(t).await;
    crate::reset::add_registered_user(&app, "rena").await;
    app.add_user("mika", Role::User).await;
    let user = app.sign_in("mika").await.session().unwrap();
    let user = format!("sspr_session={user}");
    let admin = app.admin_session("ada").await;
    let (reset, _) = crate::reset::email_code(&app, "rena").await;

    let mut pages: Vec<(&str, Option<&str>)> = ["/sign-in", "/reset"]
        .into_iter()
        .map(|p| (p, None))
        .collect();
    pages.push(("/reset/code", Some(&reset)));
    for p in [
        "/account",
        "/account/password",
        "/security-info",
        "/security-info/setup",
        "/security-info/setup/email",
        "/security-info/setup/phone",
        "/security-info/setup/app",
        "/security-info/setup/questions",
    ] {
        pages.push((p, Some(&user)));
    }
    for p in [
        "/admin",
        "/admin/password-reset",
        "/admin/password-reset/history",
        "/admin/users",
        "/admin/users/add",
        "/admin/groups",
        "/admin/audit",
    ] {
        pages.push((p, Some(&admin)));
    }

    let mut found = Vec::new();
    for (path, cookie) in pages {
        let sep = if path.contains('?') { '&' } else { '?' };
        let r = app.get(&format!("{path}{sep}lang=en-XA"), cookie).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{path}: {}",
            r.header("location").unwrap_or_default()
        );
        assert!(r.body.contains(r#"<html lang="en-XA" dir="ltr""#), "{path}");
        assert!(r.body.contains('⟦'), "{path}: no catalog text at all");
        for word in unmarked_words(&r.body) {
            found.push(format!("{path}: {word}"));
        }
    }
    // A page that is not found is a page too.
    let r = app.get("/no-such-page?lang=en-XA", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    found.extend(
        unmarked_words(&r.body)
            .into_iter()
            .map(|w| format!("404: {w}")),
    );

    assert!(
        found.is_empty(),
        "text not from the catalogs, or a value outside <bdi>:\n{}",
        found.join("\n")
    );
}

async fn the_right_to_left_pseudo_locale_mirrors_the_page(t: &TestDb) {
    let app = TestApp::new(t).await;
    let r = app.get("/reset?lang=ar-XB", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(r#"<html lang="ar-XB" dir="rtl""#));
    // Each catalog text is laid out right to left.
    assert!(r.body.contains('\u{202E}'));
    // The wasm does not know the pseudo-locales: their pages come without
    // it, as without JavaScript; other pages hydrate.
    assert!(!r.body.contains(".wasm"), "no wasm in a pseudo-locale");
    let r = app.get("/reset?lang=ar", None).await;
    assert!(r.body.contains(".wasm"));
}

/// The words a reader of `html` sees outside the pseudo-locale's markers:
/// in text, and in the attributes people read or hear (`title`,
/// `aria-label`, `placeholder`, `alt`). Not read: scripts and styles;
/// values, which the pages set apart as `<bdi>` or an element with a `dir`
/// of its own (what the user typed, what the directory holds), form fields'
/// contents and `<time>`; elements in a language of their own (`lang`: the
/// picker's names, each in its language) and `data-locale-data` (country
/// names from CLDR).
fn unmarked_words(html: &str) -> Vec<String> {
    let mut text = String::new();
    let mut attributes = Vec::new();
    // The element whose content is skipped, and how deep in it we are.
    let mut skipping: Option<(String, usize)> = None;
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |e| &comment[e + 3..]);
            continue;
        }
        if !rest.starts_with('<') {
            let end = rest.find('<').unwrap_or(rest.len());
            if skipping.is_none() {
                text.push_str(&decode(&rest[..end]));
            }
            rest = &rest[end..];
            continue;
        }
        let end = rest.find('>').map_or(rest.len(), |e| e + 1);
        let tag = &rest[..end];
        rest = &rest[end..];
        let closing = tag.starts_with("</");
        let name: String = tag
            .trim_start_matches(['<', '/'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if !closing && (name == "script" || name == "style") {
            let close = format!("</{name}>");
            rest = rest.find(&close).map_or("", |e| &rest[e + close.len()..]);
            continue;
        }
        if let Some((skipped, depth)) = &mut skipping {
            if *skipped == name {
                if closing {
                    *depth -= 1;
                } else {
                    *depth += 1;
                }
                if *depth == 0 {
                    skipping = None;
                }
            }
            continue;
        }
        if closing {
            // Block ends separate words.
            text.push(' ');
            continue;
        }
        for attribute in ["title", "aria-label", "placeholder", "alt"] {
            if let Some(value) = attribute_value(tag, attribute) {
                attributes.push(decode(value));
            }
        }
        // Values: set apart in `<bdi>` or an element of a fixed direction
        // (`dir="ltr"` around IDs, addresses, keys), a form field's value,
        // a time; not catalog text either: another language's names, CLDR's.
        let value = matches!(name.as_str(), "bdi" | "time" | "textarea")
            || (name != "html" && attribute_value(tag, "dir").is_some());
        let other_text = (name != "html" && attribute_value(tag, "lang").is_some())
            || tag.contains("data-locale-data");
        // An element without content (`<input dir="ltr">`) has nothing to skip.
        let void = tag.ends_with("/>")
            || matches!(
                name.as_str(),
                "input" | "img" | "br" | "hr" | "meta" | "link" | "source" | "wbr" | "area" | "col"
            );
        if (value || other_text) && !void {
            skipping = Some((name, 1));
        }
    }
    std::iter::once(text)
        .chain(attributes)
        .flat_map(|t| outside_markers(&t))
        .collect()
}

/// The value of `name="…"` in an opening tag.
fn attribute_value<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

fn decode(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// Words with a letter outside `⟦ ⟧` (which nest, as a catalog text can
/// hold another), and any text whose `⟧` is missing (cut short).
fn outside_markers(text: &str) -> Vec<String> {
    let mut outside = String::new();
    let mut depth = 0usize;
    let mut open_at = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '⟦' => {
                if depth == 0 {
                    open_at = i;
                }
                depth += 1;
                outside.push(' ');
            }
            '⟧' if depth > 0 => {
                depth -= 1;
                outside.push(' ');
            }
            _ if depth == 0 => outside.push(c),
            _ => {}
        }
    }
    let mut words: Vec<String> = outside
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .map(str::to_owned)
        .collect();
    if depth > 0 {
        let cut: String = text[open_at..].chars().take(40).collect();
        words.push(format!("(no closing marker) {}", cut.trim_end()));
    }
    words
}

#[test]
fn the_gate_finds_text_outside_markers_and_skips_values() {
    let page = r#"<html lang="en-XA"><head><title>⟦Ŕéšéţ⟧</title><script>let x = "plain";</script></head>
        <body><p>⟦Çöðé šéñţ ţö <bdi dir="ltr">alice@contoso.example</bdi> ··⟧</p>
        <p>Forgot password?</p><dd dir="ltr">mika</dd><textarea>US</textarea><input dir="ltr" placeholder="Your ID"><p>Plain after</p><select><option lang="ja-JP">日本語</option></select>
        <p>⟦Öñé ⟦ñéšţéð⟧ ţéẋţ⟧ 12:30</p><p>⟦Çûţ šĥöŕ</p></body></html>"#;
    assert_eq!(
        unmarked_words(page),
        [
            "Forgot",
            "password?",
            "Plain",
            "after",
            "(no closing marker) ⟦Çûţ šĥöŕ",
            "Your",
            "ID"
        ]
    );
}
