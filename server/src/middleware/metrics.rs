//! Request latency per route, and the wizards' steps by outcome, for
//! `/metrics` (added to the router only when `metrics_listen` is set).
//!
//! Two halves: `name_route` runs inside the router, where the matched
//! route is known, and names it on the response; `record` runs outside
//! every other layer, so the time includes them all, and reads that name.
//! Labels come only from the route table, a fixed list of methods, the
//! status and the error codes, never from what a client typed, so the
//! series stay few.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use http::{Method, header};
use metrics::{counter, histogram};

/// Seconds from the request's arrival to its response, by route, method
/// and status.
pub const REQUEST_SECONDS: &str = "sspr_http_request_duration_seconds";
/// Each step of the reset, registration and sign-in wizards, by outcome:
/// `ok`, an error's stable code, or `error` for a failed form post made
/// without JavaScript (its code travels in the redirect).
pub const WIZARD_STEPS: &str = "sspr_wizard_steps_total";

/// The route that answered, put on the response by [`name_route`].
#[derive(Clone)]
struct Route(Arc<str>);

/// The error code a server function answered with, put on the response
/// by `error_status::map`.
#[derive(Clone, Copy)]
pub struct ErrorCode(pub &'static str);

pub async fn name_route(req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let mut res = next.run(req).await;
    if let Some(m) = matched {
        res.extensions_mut().insert(Route(Arc::from(m.as_str())));
    }
    res
}

pub async fn record(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let res = next.run(req).await;
    let route = res
        .extensions()
        .get::<Route>()
        .map_or_else(|| "unmatched".to_owned(), |r| r.0.to_string());
    histogram!(
        REQUEST_SECONDS,
        "route" => route.clone(),
        "method" => method_label(&method),
        "status" => res.status().as_u16().to_string()
    )
    .record(started.elapsed().as_secs_f64());
    if method == Method::POST
        && let Some((wizard, step)) = wizard_step(&route)
    {
        counter!(
            WIZARD_STEPS,
            "wizard" => wizard,
            "step" => step.to_owned(),
            "outcome" => outcome(&res)
        )
        .increment(1);
    }
    res
}

/// The method as a label: the ones the application answers, and `other`
/// for anything a client makes up (`FOO1`, `FOO2`… would each start a
/// series of their own).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        _ => "other",
    }
}

/// The wizard and step a server function's route belongs to; reads of a
/// wizard's state are not steps.
fn wizard_step(route: &str) -> Option<(&'static str, &str)> {
    let name = route.strip_prefix("/api/")?;
    let (wizard, step) = if let Some(step) = name.strip_prefix("reset_") {
        ("reset", step)
    } else if let Some(step) = name.strip_prefix("setup_") {
        ("registration", step)
    } else if name == "sign_in" {
        ("sign_in", "password")
    } else if let Some(step) = name.strip_prefix("sign_in_") {
        ("sign_in", step)
    } else {
        return None;
    };
    (step != "state").then_some((wizard, step))
}

fn outcome(res: &Response) -> &'static str {
    if let Some(ErrorCode(code)) = res.extensions().get::<ErrorCode>() {
        return code;
    }
    let failed_form_post = res
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .is_some_and(|l| l.contains("__err="));
    if failed_form_post || res.status().is_server_error() {
        "error"
    } else {
        "ok"
    }
}

#[cfg(test)]
mod tests {
    use super::{Method, method_label, wizard_step};

    #[test]
    fn a_made_up_method_is_one_label() {
        let made_up = Method::from_bytes(b"FOO1").unwrap();
        assert_eq!(method_label(&made_up), "other");
        assert_eq!(method_label(&Method::PUT), "other");
        assert_eq!(method_label(&Method::POST), "POST");
    }

    #[test]
    fn steps_are_named_after_their_wizard() {
        assert_eq!(wizard_step("/api/reset_verify"), Some(("reset", "verify")));
        assert_eq!(
            wizard_step("/api/setup_email"),
            Some(("registration", "email"))
        );
        assert_eq!(wizard_step("/api/sign_in"), Some(("sign_in", "password")));
        assert_eq!(
            wizard_step("/api/sign_in_verify"),
            Some(("sign_in", "verify"))
        );
        assert_eq!(wizard_step("/api/reset_state"), None);
        assert_eq!(wizard_step("/api/change_password"), None);
        assert_eq!(wizard_step("/reset"), None);
    }
}
