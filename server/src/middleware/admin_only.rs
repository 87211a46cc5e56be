//! The admin portal's server functions (`/api/admin_*`), downloads
//! (`/admin/*.csv`) and CSV upload (`/admin/users/import`) answer only an
//! enabled admin's session. Checked here, before a function's arguments
//! (or the upload's body) are read, so a new admin function is
//! covered by its name alone; each function checks again itself
//! (`app::ssr::admin::admin`). Anyone else gets `admin_only` (403) — the
//! same answer with no session, a user's session or an expired one.
//! A browser posting a form without JavaScript is sent to sign in instead.

use app::error::AppError;
use app::ssr::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use http::header;
use sspr_domain::sessions::Session;
use sspr_domain::users::{Role, User};
use sspr_domain::{DomainError, auth};

use crate::middleware::error_status;

/// Paths only admins reach.
pub fn is_admin_path(path: &str) -> bool {
    path.starts_with("/api/admin_")
        || (path.starts_with("/admin/") && path.ends_with(".csv"))
        || path == crate::users_import::PATH
}

/// The enabled admin whose session the request carries, if any.
pub async fn admin_of(state: &AppState, jar: &CookieJar) -> Result<Option<User>, DomainError> {
    Ok(admin_session_of(state, jar).await?.map(|(_, user)| user))
}

/// [`admin_of`] with the session (when the password was last proven).
pub async fn admin_session_of(
    state: &AppState,
    jar: &CookieJar,
) -> Result<Option<(Session, User)>, DomainError> {
    let Some(token) = jar
        .get(state.cookies.session_name())
        .map(|c| c.value())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let s = &state.services;
    Ok(auth::current_session(s, token, s.now())
        .await?
        .filter(|(_, u)| u.role == Role::Admin && u.enabled))
}

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !is_admin_path(req.uri().path()) {
        return next.run(req).await;
    }
    let jar = CookieJar::from_headers(req.headers());
    match admin_of(&state, &jar).await {
        Ok(Some(_)) => next.run(req).await,
        Ok(None) => refuse(&req),
        Err(e) => error_status::respond(AppError::from(e)),
    }
}

fn refuse(req: &Request) -> Response {
    let wants_json = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if req.method() == http::Method::POST && !wants_json {
        // A form posted without JavaScript: back to sign in, then to the
        // admin portal.
        return Redirect::to("/sign-in?next=%2Fadmin").into_response();
    }
    error_status::respond(AppError::AdminOnly)
}
