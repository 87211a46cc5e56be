//! `GET /admin/audit.csv`: the audit log's rows that match the page's
//! filter, as CSV, streamed a thousand rows at a time by keyset (memory
//! stays flat for a million rows). Admins only (`middleware::admin_only`,
//! and again here); the export itself is audited.

use std::collections::HashMap;

use app::error::AppError;
use app::ssr::AppState;
use app::ssr::ClientAddr;
use app::ssr::admin::AuditQuery;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use http::header;
use sspr_domain::Db;
use sspr_domain::audit::{self, Entry, Event, Filter, Kind, Outcome};

use crate::middleware::admin_only::admin_of;
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
    let admin = match admin_of(&state, &jar).await {
        Ok(Some(admin)) => admin,
        Ok(None) => return error_status::respond(AppError::AdminOnly),
        Err(e) => return error_status::respond(AppError::from(e)),
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
    let event = Event {
        actor_user_id: Some(admin.id),
        ..Event::new(Kind::AuditExported, Outcome::Success)
    }
    .ip(client.map(|c| c.0.0))
    .detail(query.summary(&filter));
    if let Err(e) = audit::record(s.db.pool(), &event, s.now()).await {
        return error_status::respond(AppError::from(e));
    }
    let body = Body::from_stream(rows(s.db.clone(), filter));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}

/// The header line, then one chunk per batch until a batch comes back short.
fn rows(
    db: Db,
    filter: Filter,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    struct Cursor {
        db: Db,
        filter: Filter,
        before: Option<i64>,
        started: bool,
        done: bool,
    }
    let start = Cursor {
        db,
        filter,
        before: None,
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
        match audit::search(c.db.pool(), &c.filter, c.before, BATCH).await {
            Ok(batch) => {
                c.done = batch.len() < BATCH as usize;
                c.before = batch.last().map(|e| e.id);
                if batch.is_empty() {
                    return None;
                }
                let lines: Vec<Vec<String>> = batch.into_iter().map(line).collect();
                Some((encode(&lines), c))
            }
            Err(e) => {
                // The status is sent already: cut the download short, so
                // the file is visibly incomplete rather than quietly so.
                tracing::error!(error = %e, "audit export failed mid-stream");
                c.done = true;
                Some((Err(std::io::Error::other("audit export failed")), c))
            }
        }
    })
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

/// CSV text of `lines`. A cell a spreadsheet would run as a formula (typed
/// user IDs are recorded too) gets a leading apostrophe (OWASP "CSV
/// injection").
pub(crate) fn encode(lines: &[Vec<String>]) -> Result<Bytes, std::io::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for l in lines {
        w.write_record(l.iter().map(|cell| defuse(cell).into_owned()))
            .map_err(std::io::Error::other)?;
    }
    w.into_inner()
        .map(Bytes::from)
        .map_err(|e| std::io::Error::other(e.to_string()))
}

fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_cells_quoted() {
        let text = encode(&[vec![
            "=HYPERLINK(\"x\")".into(),
            "a,b".into(),
            "-1".into(),
            "plain".into(),
        ]])
        .unwrap();
        assert_eq!(
            std::str::from_utf8(&text).unwrap(),
            "\"'=HYPERLINK(\"\"x\"\")\",\"a,b\",'-1,plain\n"
        );
    }
}
