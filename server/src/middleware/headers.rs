//! Security headers on every response (docs/security.md #47, #48), with a fresh
//! CSP nonce per response that the Leptos hydration scripts carry.

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
    let h = res.headers_mut();
    let csp = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
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
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    );
    h.insert(header::CACHE_CONTROL, cache);
    if p.https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}

fn new_nonce() -> Arc<str> {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::STANDARD_NO_PAD
        .encode(b)
        .into()
}
