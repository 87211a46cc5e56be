//! `POST /admin/users/import`: the portal's CSV import (a file posted by a
//! plain `multipart/form-data` form, so it works without JavaScript),
//! imported by the same code as `sspr user import`. Admins only
//! (`middleware::admin_only`, and again here, with a fresh proof like every
//! change in the portal). The answer is a redirect to the page that shows
//! the report, which the import's audit row keeps — so the report survives
//! a reload, can be linked to and is read by whichever instance answers.

use app::error::AppError;
use app::ssr::admin::proof_is_fresh;
use app::ssr::{AppState, ClientAddr};
use axum::Extension;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use http::StatusCode;
use sspr_domain::groups::Actor;
use sspr_domain::import::{self, ImportError, PORTAL_MAX_BYTES, PORTAL_MAX_ROWS};

use crate::middleware::admin_only::admin_session_of;
use crate::middleware::error_status;

pub const PATH: &str = "/admin/users/import";
/// The page with the forms and the report.
const PAGE: &str = "/admin/users/add";

/// The body limit of the route: the file and the form's framing.
pub const BODY_LIMIT: usize = PORTAL_MAX_BYTES + 16 * 1024;

pub async fn upload(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Option<Extension<ClientAddr>>,
    multipart: Multipart,
) -> Response {
    let s = &state.services;
    let admin = match admin_session_of(&state, &jar).await {
        Ok(Some((session, admin))) if proof_is_fresh(session.authenticated_at, s.now()) => admin,
        Ok(Some(_)) => return back(AppError::ReauthenticationRequired),
        Ok(None) => return error_status::respond(AppError::AdminOnly),
        Err(e) => return error_status::respond(AppError::from(e)),
    };
    let file = match file_of(multipart).await {
        Ok(Some(file)) => file,
        Ok(None) => return back(AppError::CsvColumns),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return back(AppError::FileTooLarge);
        }
        Err(_) => return error_status::respond(AppError::BadRequest),
    };
    if file.len() > PORTAL_MAX_BYTES || import::row_count(&file) > PORTAL_MAX_ROWS {
        return back(AppError::FileTooLarge);
    }
    let by = Actor {
        user_id: admin.id,
        ip: client.map(|c| c.0.0),
    };
    match import::import_csv(&s.db, Some(by), file.as_slice(), s.now()).await {
        Ok(report) => Redirect::to(&format!("{PAGE}?report={}", report.audit_id)).into_response(),
        Err(ImportError::MissingColumns | ImportError::Csv(_)) => back(AppError::CsvColumns),
        Err(ImportError::Domain(e)) => error_status::respond(AppError::from(e)),
    }
}

/// The `file` field's bytes; `None` when the form has none or it is empty.
async fn file_of(mut multipart: Multipart) -> Result<Option<Vec<u8>>, MultipartError> {
    while let Some(field) = multipart.next_field().await? {
        if field.name() == Some("file") {
            let bytes = field.bytes().await?;
            return Ok((!bytes.is_empty()).then(|| bytes.to_vec()));
        }
    }
    Ok(None)
}

/// Back to the page, which says why (the form's own error, by code).
fn back(e: AppError) -> Response {
    Redirect::to(&format!("{PAGE}?error={}", e.code())).into_response()
}
