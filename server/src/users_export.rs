//! `GET /admin/users.csv?<the users page's filters>`: the accounts that
//! match, as CSV, read a thousand at a time by keyset (memory stays flat at
//! any size). Admins only (`middleware::admin_only`, and again here); the
//! export is audited.

use std::collections::HashMap;

use app::error::AppError;
use app::ssr::AppState;
use app::ssr::ClientAddr;
use app::ssr::admin_users::UsersQuery;
use axum::Extension;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::Response;
use axum_extra::extract::CookieJar;
use sspr_domain::audit::Kind;
use sspr_domain::policy_history;
use sspr_domain::store::users::Listed;
use sspr_domain::user_list;

use crate::csv_download::{self, Keyset, attachment, keyset};
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
    let admin = match csv_download::admin(&state, &jar).await {
        Ok(admin) => admin,
        Err(refused) => return refused,
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
    // Which filters, with the chosen values; the typed search text is the
    // admin's input and stays out of the log (only that there was one).
    let summary: Vec<String> = ["q", "role", "registered", "can_reset", "status"]
        .iter()
        .filter(|k| !text(k).trim().is_empty())
        .map(|k| match *k {
            "q" => "q".to_owned(),
            k => format!("{k}={}", text(k).trim()),
        })
        .collect();
    if let Err(refused) =
        csv_download::record(&s, &admin, client, Kind::UsersExported, summary.join(" ")).await
    {
        return refused;
    }
    let stream = keyset(Keyset {
        columns: &COLUMNS,
        batch: BATCH,
        fetch: move |after: Option<String>| {
            let (s, policy, query) = (s.clone(), policy.clone(), query.clone());
            async move { user_list::rows(&s, &policy, &query, after.as_deref(), BATCH).await }
        },
        key: |u: &Listed| u.login.clone(),
        line,
        what: "users",
    });
    attachment("users.csv", Body::from_stream(stream))
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
