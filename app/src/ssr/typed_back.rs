//! A refused admin form keeps what was typed, without JavaScript too.
//!
//! With JavaScript the form stays on the page and only the error arrives.
//! A plain form post is answered by a redirect to its page (leptos puts
//! the error in the URL as `__path` and `__err`), and the page would be
//! drawn again from the stored values, losing the admin's edits. So the
//! refusal goes back to the page with the posted fields as its query
//! (the same shape a `method=get` form has), and the page shows those
//! instead. Used only by forms whose fields are no secret: the settings
//! and a new account's name, address and groups (docs/security.md #95).

use http::header::{ACCEPT, REFERER};
use http::request::Parts;
use leptos::prelude::*;
use leptos::server_fn::error::ServerFnUrlError;

use crate::error::AppError;

/// When this request is a plain form post from `page` that server function
/// `fn_path` refuses with `error`, answers with a redirect to `page` with
/// `fields` and the error in its query. Any other request is left alone.
pub fn keep_typed_values(page: &str, fn_path: &str, fields: &[(&str, &str)], error: &AppError) {
    let Some(parts) = use_context::<Parts>() else {
        return;
    };
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
            .unwrap_or_default()
    };
    // The hydrated app asks for JSON and keeps its own form.
    if !header(ACCEPT).contains("text/html") || referer_path(header(REFERER)) != Some(page) {
        return;
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        query.append_pair(name, value);
    }
    // `to_url` wants an absolute URL; only the path and query are sent.
    const BASE: &str = "http://form";
    let typed = format!("{BASE}{page}?{}", query.finish());
    if let Ok(url) = ServerFnUrlError::new(fn_path, error.clone()).to_url(&typed)
        && let Some(local) = url.as_str().strip_prefix(BASE)
    {
        leptos_axum::redirect(local);
    }
}

/// The path of a Referer (`https://host/path?query` → `/path`).
fn referer_path(referer: &str) -> Option<&str> {
    let after_scheme = referer.split_once("://")?.1;
    let path = &after_scheme[after_scheme.find('/')?..];
    Some(path.split(['?', '#']).next().unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::referer_path;

    #[test]
    fn a_referer_is_reduced_to_its_path() {
        assert_eq!(
            referer_path("https://sspr.example/admin/password-reset?saved=1"),
            Some("/admin/password-reset")
        );
        assert_eq!(
            referer_path("http://127.0.0.1:3000/admin/users/add#create"),
            Some("/admin/users/add")
        );
        assert_eq!(referer_path("https://sspr.example"), None);
        assert_eq!(referer_path("/admin/users/add"), None);
        assert_eq!(referer_path(""), None);
    }
}
