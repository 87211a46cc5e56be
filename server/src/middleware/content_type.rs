//! Server functions here take form-encoded input only; any other body type
//! is refused with 415 before decoding (docs/security.md #45). `text/plain` and
//! `multipart/form-data` are what cross-site forms can send without a
//! preflight, so refusing them also narrows what a CSRF attempt can try.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};

pub async fn form_only(req: Request, next: Next) -> Response {
    if req.method() == Method::POST && req.uri().path().starts_with("/api/") {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = content_type.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "form-encoded bodies only",
            )
                .into_response();
        }
    }
    next.run(req).await
}
