//! Request bodies over the limit get 413 before any handler runs
//! (docs/security.md #46), whether they declare a Content-Length or stream
//! chunks. Bodies here are small forms, so reading them whole is cheap.
//! One route, the admin portal's CSV upload, sets its own limit.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};

#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

pub async fn enforce(
    State(BodyLimit(limit)): State<BodyLimit>,
    req: Request,
    next: Next,
) -> Response {
    // The portal's CSV upload has its own, larger limit on its route, read
    // as it streams and only after the admin check (`admin_only` runs
    // before the handler): an anonymous post there is refused unread.
    if req.uri().path() == crate::users_import::PATH {
        return next.run(req).await;
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => too_large(),
    }
}

fn too_large() -> Response {
    (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response()
}
