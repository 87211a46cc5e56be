//! `GET /admin/audit.csv`: the audit log's rows that match the page's
//! filter, as CSV, streamed a thousand rows at a time by keyset (memory
//! stays flat for a million rows). Admins only (`middleware::admin_only`,
//! and again here); the export itself is audited.

use std::collections::HashMap;

use app::ssr::AppState;
use app::ssr::ClientAddr;
use app::ssr::admin::AuditQuery;
use axum::Extension;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::Response;
use axum_extra::extract::CookieJar;
use sspr_domain::audit::{self, Entry, Kind};

use crate::csv_download::{self, Keyset, attachment, keyset};
use crate::middleware::error_status;

/// Rows per query.
const BATCH: i64 = 1000;

const COLUMNS: [&str; 8] = [
    "id",
    "time_utc",
    "event",
    "outcome",
    "actor",
    "subject",
    "client_address",
    "detail",
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
    let query = AuditQuery {
        user: text("user"),
        event: text("event"),
        outcome: text("outcome"),
        from: text("from"),
        to: text("to"),
    };
    let s = &state.services;
    let filter = match query.filter(s).await {
        Ok(f) => f,
        Err(e) => return error_status::respond(e),
    };
    // Written before the rows go out: an export cut short is still on record.
    if let Err(refused) = csv_download::record(
        s,
        &admin,
        client,
        Kind::AuditExported,
        query.summary(&filter),
    )
    .await
    {
        return refused;
    }
    let db = s.db.clone();
    let stream = keyset(Keyset {
        columns: &COLUMNS,
        batch: BATCH,
        fetch: move |before: Option<i64>| {
            let (db, filter) = (db.clone(), filter.clone());
            async move { audit::search(db.pool(), &filter, before, BATCH).await }
        },
        key: |e: &Entry| e.id,
        line,
        what: "audit",
    });
    attachment("audit.csv", Body::from_stream(stream))
}

fn line(e: Entry) -> Vec<String> {
    let at = time::OffsetDateTime::from_unix_timestamp(e.at.secs())
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    vec![
        e.id.to_string(),
        at,
        e.event,
        e.outcome,
        e.actor.unwrap_or_default(),
        e.subject.unwrap_or_default(),
        e.ip.unwrap_or_default(),
        e.detail.unwrap_or_default(),
    ]
}
