//! Chooses the request's locale once (`?lang=` > the signed-in account's
//! saved language > cookie > Accept-Language > default) and tells
//! leptos_i18n through its cookie, rewritten on the request, so SSR,
//! `<html lang dir>`, server functions and the hydrated client all agree.
//! An explicit `?lang=` is remembered in the cookie for a year (`?lang=auto`
//! forgets it); it is never
//! saved on the account here: a GET changes nothing stored (docs/security.md
//! #44), so saving is the `choose_language` form's, a POST. The request
//! runs with its language as the flow's (`notices::FLOW_LOCALE`), for the
//! codes it sends.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, SameSite};
use http::{HeaderValue, header};

use app::i18n::{I18nLocaleTrait, Locale};
use app::locale::{CATALOG_PREFIX, COOKIE_NAME, negotiate};
use app::ssr::CookiePolicy;
use sspr_domain::{Services, notices, sessions};

#[derive(Clone)]
pub struct LocalePolicy {
    pub default: Locale,
    pub services: Arc<Services>,
    pub cookies: CookiePolicy,
    /// The built files' URL prefix: no session is looked up for those (nor
    /// for the catalog scripts).
    pub assets: Arc<str>,
}

pub async fn negotiate_locale(
    State(p): State<LocalePolicy>,
    mut req: Request,
    next: Next,
) -> Response {
    let query_lang = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")))
        .map(str::to_owned);
    let cookies: Vec<String> = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    let value_of = |name: &str| {
        cookies.iter().find_map(|c| {
            c.strip_prefix(name)
                .and_then(|r| r.strip_prefix('='))
                .map(str::to_owned)
        })
    };
    let cookie_lang = value_of(COOKIE_NAME);
    let session = match value_of(p.cookies.session_name()) {
        Some(token)
            if !req.uri().path().starts_with(&*p.assets)
                && !req.uri().path().starts_with(CATALOG_PREFIX) =>
        {
            signed_in(&p.services, &token).await
        }
        _ => None,
    };
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let chosen = negotiate(
        query_lang.as_deref(),
        session.as_ref().and_then(|s| s.locale.as_deref()),
        cookie_lang.as_deref(),
        accept,
        p.default,
    );
    let tag = chosen.locale.as_str();

    let mut rebuilt: Vec<String> = cookies
        .iter()
        .filter(|c| !c.starts_with(&format!("{COOKIE_NAME}=")))
        .cloned()
        .collect();
    rebuilt.push(format!("{COOKIE_NAME}={tag}"));
    req.headers_mut().remove(header::COOKIE);
    if let Ok(v) = HeaderValue::from_str(&rebuilt.join("; ")) {
        req.headers_mut().insert(header::COOKIE, v);
    }
    let mut res = notices::FLOW_LOCALE
        .scope(tag.to_owned(), next.run(req))
        .await;
    // Remembered for a year, or (`?lang=auto`) forgotten at once.
    let remember = match (chosen.explicit, chosen.forget) {
        (true, _) => Some((tag, time::Duration::days(365))),
        (false, true) => Some(("", time::Duration::ZERO)),
        (false, false) => None,
    };
    if let Some((value, age)) = remember {
        let c = Cookie::build((COOKIE_NAME, value))
            .path("/")
            .max_age(age)
            .same_site(SameSite::Lax)
            .build();
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// The session behind `token`, if it is live. A fault only costs the saved
/// language (the page's own session check answers it properly).
async fn signed_in(s: &Services, token: &str) -> Option<sessions::Session> {
    match sessions::lookup(&s.db, &s.config.sessions, token, s.now()).await {
        Ok(session) => session,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the session for its language");
            None
        }
    }
}
