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

/// The longest query of typed values sent back (with room for `__err`).
const MAX_QUERY_BYTES: usize = 3 * 1024;

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
    if !header(ACCEPT).contains("text/html")
        || referer_path(header(REFERER)).as_deref() != Some(page)
    {
        return;
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        query.append_pair(name, value);
    }
    let query = query.finish();
    // Browsers cut a Referer longer than 4 KiB to the origin, and the next
    // post from the page would then lose its way: a longer form (a long
    // list of banned words) comes back as leptos brings it, without values.
    if query.len() > MAX_QUERY_BYTES {
        return;
    }
    // `to_url` wants an absolute URL; only the path and query are sent.
    const BASE: &str = "http://form";
    let typed = format!("{BASE}{page}?{query}");
    if let Ok(url) = ServerFnUrlError::new(fn_path, error.clone()).to_url(&typed)
        && let Some(local) = url.as_str().strip_prefix(BASE)
    {
        leptos_axum::redirect(local);
    }
}

/// The path of a Referer (`https://host/path?query` → `/path`); `None`
/// for anything but an absolute URL.
fn referer_path(referer: &str) -> Option<String> {
    let uri: http::Uri = referer.parse().ok()?;
    uri.scheme()?;
    Some(uri.path().to_owned())
}

#[cfg(test)]
mod tests {
    use super::referer_path;

    #[test]
    fn a_referer_is_reduced_to_its_path() {
        let path = |r: &str| referer_path(r);
        assert_eq!(
            path("https://sspr.example/admin/password-reset?saved=1").as_deref(),
            Some("/admin/password-reset")
        );
        assert_eq!(
            path("http://127.0.0.1:3000/admin/users/add").as_deref(),
            Some("/admin/users/add")
        );
        assert_eq!(
            path("https://h?x=/admin/password-reset").as_deref(),
            Some("/"),
            "a path in the query is not the path"
        );
        assert_eq!(path("/admin/users/add"), None);
        assert_eq!(path(""), None);
    }
}
