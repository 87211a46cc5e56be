//! Security headers on every response (docs/security.md #47, #48), with a fresh
//! CSP nonce per response that the Leptos hydration scripts carry.
//!
//! A build file under a hashed name (wasm, JavaScript, CSS) gets only the
//! headers that act on a subresource: `nosniff`, CORP, its cache lifetime
//! and HSTS. CSP, `X-Frame-Options`, the referrer, opener and permissions
//! policies act on documents, and those files are never one: their bytes
//! are fixed at build time and served with a script, wasm or style type.
//! Sent on each of them, the document headers were about 600 bytes a file,
//! a tenth of the first load's budget beyond the wasm (issue 12).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use http::{HeaderValue, header};
use rand::RngCore;

/// The nonce of this response, put into the request's extensions for the
/// Leptos renderer (see `router::leptos_context`).
#[derive(Clone, Debug)]
pub struct CspNonce(pub Arc<str>);

#[derive(Clone, Copy, Debug)]
pub struct HeaderPolicy {
    pub https: bool,
}

pub async fn apply(State(p): State<HeaderPolicy>, mut req: Request, next: Next) -> Response {
    let nonce = new_nonce();
    let path = req.uri().path().to_owned();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let cache = crate::assets::cache_control(&path, res.status());
    let build_file = crate::assets::is_immutable(&cache);
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, cache);
    if p.https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if build_file {
        return res;
    }
    let csp = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // same-origin, not no-referrer: a no-JavaScript form post is answered
    // with a redirect back to its Referer.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    );
    res
}

fn new_nonce() -> Arc<str> {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::STANDARD_NO_PAD
        .encode(b)
        .into()
}
