//! Server-side halves of the server functions, and what they share: the
//! application state, cookies, error mapping. Compiled only with `ssr`.

pub mod admin;
pub mod admin_impact;
pub mod admin_users;
pub mod auth;
pub mod errors;
pub mod messages;
pub mod outbox;
pub mod password;
pub mod reset;
pub mod setup;
pub mod typed_back;

use std::sync::Arc;

use axum::extract::FromRef;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use http::{HeaderValue, header};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use sspr_domain::Services;

use crate::error::AppError;

/// Shared by every request; provided to server functions and SSR by
/// `leptos_routes_with_context`.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// Behind an `Arc`: the state is cloned several times a request (the
    /// context of every page and server function, each `State` extractor),
    /// and cloning `Services` itself took and dropped a dozen reference
    /// counts each time (~3 % of a page's CPU time in `perf`, issue 12).
    pub services: Arc<Services>,
    pub cookies: CookiePolicy,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> LeptosOptions {
        s.leptos_options.clone()
    }
}

/// A cookie of ours, by its name on plain-http development origins and
/// over https, where the `__Host-` prefix makes the browser insist on
/// Secure, Path=/ and no Domain, so a sibling host cannot plant or
/// overwrite it (docs/security.md #69).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieName {
    pub http: &'static str,
    pub https: &'static str,
}

/// The session.
pub const SESSION_COOKIE: CookieName = CookieName {
    http: "sspr_session",
    https: "__Host-sspr_session",
};

/// Cookie settings derived from `public_url`.
#[derive(Clone, Debug)]
pub struct CookiePolicy {
    pub https: bool,
}

impl CookiePolicy {
    pub fn for_https(https: bool) -> CookiePolicy {
        CookiePolicy { https }
    }
    /// The name `cookie` has on this site.
    pub fn name(&self, cookie: CookieName) -> &'static str {
        if self.https {
            cookie.https
        } else {
            cookie.http
        }
    }
    pub fn session_name(&self) -> &'static str {
        self.name(SESSION_COOKIE)
    }
}

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| internal("AppState missing from context"))
}

/// Logs `cause` with a fresh correlation id and returns the generic error
/// that carries only that id (docs/security.md #50).
pub use errors::internal;

pub async fn cookie_jar() -> CookieJar {
    leptos_axum::extract::<CookieJar>()
        .await
        .unwrap_or_default()
}

/// The request's language: `middleware::locale` always leaves the chosen
/// one in the cookie header.
pub async fn request_locale() -> crate::i18n::Locale {
    cookie_jar()
        .await
        .get(crate::locale::COOKIE_NAME)
        .and_then(|c| crate::locale::match_tag(c.value()))
        .unwrap_or_default()
}

/// The browser's country, from its `Accept-Language` (`en-GB` → GB), where
/// the phone number's country picker starts when the admin allows it.
pub async fn browser_region() -> Option<String> {
    let headers = leptos_axum::extract::<http::HeaderMap>().await.ok()?;
    let accept = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    sspr_domain::phone::region_of_accept_language(accept)
}

pub async fn session_token(policy: &CookiePolicy) -> Option<String> {
    cookie_jar()
        .await
        .get(policy.session_name())
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

fn session_cookie(policy: &CookiePolicy, value: String) -> Cookie<'static> {
    Cookie::build((policy.session_name(), value))
        .path("/")
        .http_only(true)
        .secure(policy.https)
        // Strict: no cross-site request ever carries the session
        // (docs/security.md #42); following a mailed link means signing in again.
        .same_site(SameSite::Strict)
        .build()
}

/// Sets an HttpOnly, SameSite=Strict cookie for the whole site (Secure
/// and `__Host-` over https).
pub fn append_cookie_value(policy: &CookiePolicy, name: CookieName, value: String) {
    append_cookie(flow_cookie(policy, name, value));
}

/// Tells the browser to drop one of our cookies (a spent flow's).
pub fn remove_cookie(policy: &CookiePolicy, name: CookieName) {
    let mut c = flow_cookie(policy, name, String::new());
    c.make_removal();
    append_cookie(c);
}

fn flow_cookie(policy: &CookiePolicy, name: CookieName, value: String) -> Cookie<'static> {
    Cookie::build((policy.name(name), value))
        .path("/")
        .http_only(true)
        .secure(policy.https)
        .same_site(SameSite::Strict)
        .build()
}

fn append_cookie(c: Cookie<'static>) {
    if let (Some(resp), Ok(v)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(&c.to_string()),
    ) {
        resp.append_header(header::SET_COOKIE, v);
    }
}

pub fn set_session_cookie(policy: &CookiePolicy, token: String) {
    append_cookie(session_cookie(policy, token));
}

pub fn clear_session_cookie(policy: &CookiePolicy) {
    let mut c = session_cookie(policy, String::new());
    c.make_removal();
    append_cookie(c);
}

/// The client's address, as the server's `client_addr` layer decided it
/// (the TCP peer, or what a trusted proxy forwarded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

pub async fn client_ip() -> Option<std::net::IpAddr> {
    leptos_axum::extract::<axum::Extension<ClientAddr>>()
        .await
        .ok()
        .map(|c| c.0.0)
}
