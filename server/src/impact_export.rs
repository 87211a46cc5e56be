//! `GET /admin/password-reset/impact.csv?<the settings form>`: every
//! account whose right to reset the proposed settings would change, as
//! CSV (the preview page lists the first hundred). Admins only
//! (`middleware::admin_only`, and again here); the export is audited.

use app::error::AppError;
use app::ssr::AppState;
use app::ssr::ClientAddr;
use app::ssr::admin_impact::compare;
use axum::Extension;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum_extra::extract::CookieJar;
use sspr_domain::audit::Kind;
use sspr_domain::impact::Change;
use sspr_domain::policy::PolicyError;

use crate::csv_download::{self, attachment, encode};
use crate::middleware::error_status;

const COLUMNS: [&str; 5] = ["user_id", "name", "role", "before", "after"];

pub async fn csv(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Option<Extension<ClientAddr>>,
    RawQuery(query): RawQuery,
) -> Response {
    let admin = match csv_download::admin(&state, &jar).await {
        Ok(admin) => admin,
        Err(refused) => return refused,
    };
    let s = &state.services;
    let compared = match compare(s, query.as_deref().unwrap_or_default()).await {
        Ok(c) => c,
        Err(PolicyError::Invalid { field, .. }) => {
            return error_status::respond(AppError::InvalidSetting {
                field: field.to_owned(),
                label: field.to_owned(),
            });
        }
        Err(PolicyError::Internal(e)) => return error_status::respond(AppError::from(e)),
        Err(_) => return error_status::respond(AppError::BadRequest),
    };
    let changes = compared.impact.changes;
    if let Err(refused) = csv_download::record(
        s,
        &admin,
        client,
        Kind::ImpactExported,
        format!("accounts={}", changes.len()),
    )
    .await
    {
        return refused;
    }
    let mut lines = vec![COLUMNS.map(str::to_owned).to_vec()];
    lines.extend(changes.into_iter().map(line));
    match encode(&lines) {
        Ok(body) => attachment("impact.csv", Body::from(body)),
        Err(e) => {
            tracing::error!(error = %e, "impact export failed");
            error_status::respond(AppError::BadRequest)
        }
    }
}

fn line(c: Change) -> Vec<String> {
    vec![
        c.login_display,
        c.display_name,
        c.role.as_str().to_owned(),
        c.before.as_str().to_owned(),
        c.after.as_str().to_owned(),
    ]
}
