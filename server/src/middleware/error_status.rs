//! Gives server-function errors their HTTP status.
//!
//! Leptos answers every server-function error with 500; script clients
//! (and monitoring) need 400, 401, 404, 422, 503 + Retry-After. The status
//! comes from the error's own code (`AppError::status_code`), so it is
//! decided in one place. Plain HTML form posts are 302 redirects and pass
//! through untouched.

use app::error::AppError;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::middleware::metrics::ErrorCode;

/// Error bodies are a few dozen bytes of JSON.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn map(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key("serverfnerror")
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.extensions.insert(ErrorCode(err.code()));
        parts.status =
            StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let Some(v) = retry_after(&err) {
            parts.headers.insert(header::RETRY_AFTER, v);
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn retry_after(err: &AppError) -> Option<HeaderValue> {
    match err {
        AppError::Busy { retry_after_secs }
        | AppError::Throttled { retry_after_secs }
        | AppError::ResendTooSoon { retry_after_secs }
        | AppError::MethodBlocked { retry_after_secs } => {
            HeaderValue::from_str(&retry_after_secs.to_string()).ok()
        }
        _ => None,
    }
}

/// An error answered by a layer before any server function ran, as a
/// server function would have answered it (status, JSON, Retry-After).
pub fn respond(err: AppError) -> Response {
    let status =
        StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = (status, axum::Json(&err)).into_response();
    if let Some(v) = retry_after(&err) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res.extensions_mut().insert(ErrorCode(err.code()));
    res
}
