//! CSRF guard for every state-changing request (docs/security.md #44).
//!
//! Leptos server functions have no CSRF defence of their own and accept a
//! form-encoded POST, which browsers send cross-site without a preflight.
//! So: a non-GET request must carry `Sec-Fetch-Site: same-origin`; when the
//! browser sends no Fetch Metadata, its `Origin` must equal the configured
//! public origin; with neither, it is refused (fail closed).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};

#[derive(Clone, Debug)]
pub struct CsrfGuard {
    /// `scheme://host[:port]` of `public_url`.
    pub origin: Arc<str>,
}

pub async fn guard(State(g): State<CsrfGuard>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) || allowed(&g, &req) {
        return next.run(req).await;
    }
    tracing::warn!(method = %req.method(), path = %req.uri().path(), "cross-site request refused");
    (StatusCode::FORBIDDEN, "cross-site request refused").into_response()
}

fn allowed(g: &CsrfGuard, req: &Request) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    headers
        .get(header::ORIGIN)
        .is_some_and(|o| o.as_bytes() == g.origin.as_bytes())
}
