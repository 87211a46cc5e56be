//! `/dev/outbox` exists only in the `outbox` delivery mode.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

#[derive(Clone, Copy, Debug)]
pub struct DevPages {
    pub outbox: bool,
}

pub async fn guard(State(d): State<DevPages>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let is_dev =
        path == "/dev/outbox" || path.starts_with("/dev/outbox/") || path == "/api/dev_outbox";
    if is_dev && !d.outbox {
        return StatusCode::NOT_FOUND.into_response();
    }
    next.run(req).await
}
