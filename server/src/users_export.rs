//! `GET /admin/users.csv?<the users page's filters>`: the accounts that
//! match, as CSV, read a thousand at a time by keyset (memory stays flat at
//! any size). Admins only (`middleware::admin_only`, and again here); the
//! export is audited.

use std::collections::HashMap;
use std::sync::Arc;

use app::error::AppError;
use app::ssr::AppState;
use app::ssr::ClientAddr;
use app::ssr::admin_users::UsersQuery;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use http::header;
use sspr_domain::audit::{self, Event, Kind, Outcome};
use sspr_domain::policy::Policy;
use sspr_domain::store::users::Listed;
use sspr_domain::user_list;
use sspr_domain::{Services, policy_history};

use crate::audit_export::encode;
use crate::middleware::admin_only::admin_of;
use crate::middleware::error_status;

/// Accounts per query.
const BATCH: i64 = 1000;

const COLUMNS: [&str; 7] = [
    "user_id",
    "name",
    "email",
    "role",
    "enabled",
    "from_directory",
    "methods",
];

pub async fn csv(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Option<Extension<ClientAddr>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let admin = match admin_of(&state, &jar).await {
        Ok(Some(admin)) => admin,
        Ok(None) => return error_status::respond(AppError::AdminOnly),
        Err(e) => return error_status::respond(AppError::from(e)),
    };
    let text = |k: &str| q.get(k).cloned().unwrap_or_default();
    let filters = UsersQuery {
        text: text("q"),
        role: text("role"),
        registered: text("registered"),
        can_reset: text("can_reset"),
        status: text("status"),
    };
    let query = match filters.query() {
        Ok(q) => q,
        Err(e) => return error_status::respond(e),
    };
    let s = state.services.clone();
    let policy = match policy_history::current(&s.db).await {
        Ok((p, _)) => p,
        Err(e) => return error_status::respond(AppError::from(e)),
    };
    // Written before the rows go out: an export cut short is still on record.
    let summary: Vec<String> = ["q", "role", "registered", "can_reset", "status"]
        .iter()
        .filter(|k| !text(k).trim().is_empty())
        .map(|k| format!("{k}={}", text(k).trim()))
        .collect();
    let event = Event {
        actor_user_id: Some(admin.id),
        ..Event::new(Kind::UsersExported, Outcome::Success)
    }
    .ip(client.map(|c| c.0.0))
    .detail(summary.join(" "));
    if let Err(e) = audit::record(s.db.pool(), &event, s.now()).await {
        return error_status::respond(AppError::from(e));
    }
    let body = Body::from_stream(rows(s, policy, query));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"users.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}

/// The header line, then one chunk per batch until a batch comes back short.
fn rows(
    s: Arc<Services>,
    policy: Policy,
    query: user_list::Query,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    struct Cursor {
        s: Arc<Services>,
        policy: Policy,
        query: user_list::Query,
        after: Option<String>,
        started: bool,
        done: bool,
    }
    let start = Cursor {
        s,
        policy,
        query,
        after: None,
        started: false,
        done: false,
    };
    futures::stream::unfold(start, |mut c| async move {
        if c.done {
            return None;
        }
        if !c.started {
            c.started = true;
            return Some((encode(&[COLUMNS.map(str::to_owned).to_vec()]), c));
        }
        match user_list::rows(&c.s, &c.policy, &c.query, c.after.as_deref(), BATCH).await {
            Ok(batch) => {
                c.done = batch.len() < BATCH as usize;
                c.after = batch.last().map(|u| u.login.clone());
                if batch.is_empty() {
                    return None;
                }
                let lines: Vec<Vec<String>> = batch.into_iter().map(line).collect();
                Some((encode(&lines), c))
            }
            Err(e) => {
                // The status is sent already: cut the download short, so
                // the file is visibly incomplete rather than quietly so.
                tracing::error!(error = %e, "users export failed mid-stream");
                c.done = true;
                Some((Err(std::io::Error::other("users export failed")), c))
            }
        }
    })
}

fn line(u: Listed) -> Vec<String> {
    vec![
        u.login_display,
        u.display_name,
        u.email.unwrap_or_default(),
        u.role.as_str().to_owned(),
        u.enabled.to_string(),
        u.from_directory.to_string(),
        u.methods.to_string(),
    ]
}
