//! Chooses the request's locale once (`?lang=` > cookie > Accept-Language >
//! default) and tells leptos_i18n through its cookie, rewritten on the
//! request, so SSR, `<html lang dir>`, server functions and the hydrated
//! client all agree. An explicit `?lang=` is remembered for a year.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, SameSite};
use http::{HeaderValue, header};

use app::i18n::{I18nLocaleTrait, Locale};
use app::locale::{COOKIE_NAME, negotiate};

#[derive(Clone, Copy, Debug)]
pub struct LocalePolicy {
    pub default: Locale,
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
    let cookie_lang = cookies.iter().find_map(|c| {
        c.strip_prefix(COOKIE_NAME)
            .and_then(|r| r.strip_prefix('='))
    });
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let chosen = negotiate(query_lang.as_deref(), cookie_lang, accept, p.default);

    let mut rebuilt: Vec<String> = cookies
        .iter()
        .filter(|c| !c.starts_with(&format!("{COOKIE_NAME}=")))
        .cloned()
        .collect();
    rebuilt.push(format!("{COOKIE_NAME}={}", chosen.locale.as_str()));
    req.headers_mut().remove(header::COOKIE);
    if let Ok(v) = HeaderValue::from_str(&rebuilt.join("; ")) {
        req.headers_mut().insert(header::COOKIE, v);
    }
    let mut res = next.run(req).await;
    if chosen.explicit {
        let c = Cookie::build((COOKIE_NAME, chosen.locale.as_str()))
            .path("/")
            .max_age(time::Duration::days(365))
            .same_site(SameSite::Lax)
            .build();
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}
