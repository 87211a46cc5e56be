//! What every page shows of the organisation's settings, read before the
//! page renders: Leptos fills a page's context synchronously
//! (`router::leptos_context`), so what needs the database is read here and
//! handed over in the request's extensions. Today that is the help desk
//! contact, from the policy as cached for a second (`policy::CACHED_FOR`).

use app::HelpdeskContact;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::Method;
use sspr_domain::db::Db;
use sspr_domain::policy;

pub async fn load(State(db): State<Db>, mut req: Request, next: Next) -> Response {
    // Pages are GETs; the server functions beside them are POSTs and show
    // nothing of this.
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        match policy::helpdesk_contact(&db).await {
            Ok(contact) => {
                req.extensions_mut().insert(HelpdeskContact(contact));
            }
            // The page is still worth showing without it: a step that needs
            // the database answers 503 itself.
            Err(e) => {
                tracing::warn!(error = %e, "a page without the help desk: the policy could not be read")
            }
        }
    }
    next.run(req).await
}
