//! What the admin portal's CSV downloads share: the response, the cells
//! (formulas defused, docs/security.md #91) and the keyset stream that
//! reads a batch at a time, so memory stays flat at any size.

use std::future::Future;

use app::error::AppError;
use app::ssr::{AppState, ClientAddr};
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use futures::Stream;
use http::header;
use sspr_domain::audit::{self, Event, Kind, Outcome};
use sspr_domain::users::User;
use sspr_domain::{DomainError, Services};

use crate::middleware::admin_only::admin_of;
use crate::middleware::error_status;

/// The enabled admin asking (the `admin_only` layer checked already; this
/// is the download's own check), or the refusal to answer with.
pub async fn admin(state: &AppState, jar: &CookieJar) -> Result<User, Response> {
    match admin_of(state, jar).await {
        Ok(Some(admin)) => Ok(admin),
        Ok(None) => Err(error_status::respond(AppError::AdminOnly)),
        Err(e) => Err(error_status::respond(AppError::from(e))),
    }
}

/// Audits the download (`kind`, with `detail`) before any row goes out: a
/// download cut short is still on record.
pub async fn record(
    s: &Services,
    admin: &User,
    client: Option<Extension<ClientAddr>>,
    kind: Kind,
    detail: String,
) -> Result<(), Response> {
    let event = Event {
        actor_user_id: Some(admin.id),
        ..Event::new(kind, Outcome::Success)
    }
    .ip(client.map(|c| c.0.0))
    .detail(detail);
    audit::record(s.db.pool(), &event, s.now())
        .await
        .map_err(|e| error_status::respond(AppError::from(e)))
}

/// A `text/csv` attachment named `filename` with `body`.
pub fn attachment(filename: &'static str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// CSV text of `lines`. A cell a spreadsheet would run as a formula (typed
/// user IDs are recorded too, and names come from users) gets a leading
/// apostrophe (OWASP "CSV injection").
pub fn encode(lines: &[Vec<String>]) -> Result<Bytes, std::io::Error> {
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

/// How a keyset download reads and writes its rows.
pub struct Keyset<F, K, T> {
    pub columns: &'static [&'static str],
    pub batch: i64,
    /// The batch after the key given (`None`: the first).
    pub fetch: F,
    /// The key the next batch starts after.
    pub key: fn(&T) -> K,
    pub line: fn(T) -> Vec<String>,
    /// Named in the log when a batch fails.
    pub what: &'static str,
}

/// The header line, then one chunk per batch until a batch comes back
/// short. A failure mid-way cuts the download (the status is sent
/// already), so the file is visibly incomplete rather than quietly so.
pub fn keyset<F, Fut, K, T>(
    k: Keyset<F, K, T>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send
where
    F: Fn(Option<K>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<T>, DomainError>> + Send,
    K: Send + 'static,
    T: Send + 'static,
{
    struct Cursor<F, K, T> {
        k: Keyset<F, K, T>,
        after: Option<K>,
        started: bool,
        done: bool,
    }
    let start = Cursor {
        k,
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
            let header = c.k.columns.iter().map(|s| (*s).to_owned()).collect();
            return Some((encode(&[header]), c));
        }
        match (c.k.fetch)(c.after.take()).await {
            Ok(batch) => {
                c.done = batch.len() < c.k.batch as usize;
                c.after = batch.last().map(c.k.key);
                if batch.is_empty() {
                    return None;
                }
                let lines: Vec<Vec<String>> = batch.into_iter().map(c.k.line).collect();
                Some((encode(&lines), c))
            }
            Err(e) => {
                tracing::error!(error = %e, what = c.k.what, "CSV download failed mid-stream");
                c.done = true;
                Some((Err(std::io::Error::other("CSV download failed")), c))
            }
        }
    })
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
