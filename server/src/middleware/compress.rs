//! Pages compressed for visitors who carry no state of ours (docs/security.md
//! #86). A compression side channel (BREACH) reads a secret that repeats in
//! every response out of their sizes, given text the attacker chooses in the
//! same response. A request whose only cookie is the language preference gets
//! a page with nothing secret in it: sessions, flows and personal data all
//! come from the other cookies, and the CSP nonce is new in every response,
//! so no run of responses repeats it. A first visit to `/reset` or `/sign-in`
//! is such a request, and its page shrinks from ~4 KB to ~1.5 KB (issue 12).
//! Every other request loses its `Accept-Encoding` before the compression
//! layer sees it; server functions' answers (JSON, redirects) are never
//! compressed.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::header::{ACCEPT_ENCODING, CONTENT_TYPE, COOKIE};
use http::{Extensions, HeaderMap, StatusCode, Version};
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// The layer that compresses, behind [`unless_stateful`]: HTML only.
pub fn pages() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .no_deflate()
        .no_zstd()
        // A page is a few KB, compressed on every request: the default
        // levels cost more CPU than they save bytes at this size.
        .quality(CompressionLevel::Fastest)
        .compress_when(DefaultPredicate::new().and(is_html))
}

fn is_html(_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
    headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
}

/// Takes away `Accept-Encoding` from a request that carries a cookie other
/// than the language preference, so its page goes out uncompressed.
pub async fn unless_stateful(mut req: Request, next: Next) -> Response {
    if carries_state(req.headers()) {
        req.headers_mut().remove(ACCEPT_ENCODING);
    }
    next.run(req).await
}

/// Any cookie but the language preference; an unreadable header counts.
fn carries_state(headers: &HeaderMap) -> bool {
    headers
        .get_all(COOKIE)
        .iter()
        .any(|value| match value.to_str() {
            Err(_) => true,
            Ok(text) => text
                .split(';')
                .filter_map(|pair| pair.split('=').next())
                .map(str::trim)
                .any(|name| !name.is_empty() && name != app::locale::COOKIE_NAME),
        })
}

#[cfg(test)]
mod tests {
    use super::carries_state;
    use http::HeaderMap;
    use http::header::{COOKIE, HeaderValue};

    fn with_cookies(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(COOKIE, HeaderValue::from_str(v).expect("a header value"));
        }
        headers
    }

    #[test]
    fn only_the_language_cookie_or_none_is_stateless() {
        assert!(!carries_state(&HeaderMap::new()));
        assert!(!carries_state(&with_cookies(&["i18n_pref_locale=he-IL"])));
        assert!(!carries_state(&with_cookies(&[" i18n_pref_locale=en ; "])));
        assert!(carries_state(&with_cookies(&[
            "i18n_pref_locale=en; sspr_session=x"
        ])));
        assert!(carries_state(&with_cookies(&[
            "i18n_pref_locale=en",
            "__Host-sspr_flow=y"
        ])));
        // A cookie header that is not text is not trusted to be harmless.
        let mut odd = HeaderMap::new();
        let value = HeaderValue::from_bytes(b"i18n_pref_locale=\xff").expect("obs-text is allowed");
        odd.append(COOKIE, value);
        assert!(carries_state(&odd));
    }
}
