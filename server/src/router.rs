//! Builds the HTTP application: Leptos pages and server functions, static
//! files, a health check, and the security layers around all of them.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use app::i18n::Locale;
use app::locale::match_tag;
use app::ssr::{AppState, CookiePolicy};
use app::{App, HelpdeskContact, shell};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use http::StatusCode;
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use sspr_domain::Services;
use sspr_domain::outbox::DeliveryMode;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::middleware::body_limit::BodyLimit;
use crate::middleware::client_addr::TrustedProxies;
use crate::middleware::csrf::CsrfGuard;
use crate::middleware::dev_only::DevPages;
use crate::middleware::headers::{CspNonce, HeaderPolicy};
use crate::middleware::locale::LocalePolicy;
use crate::middleware::{
    admin_only, body_limit, client_addr, compress, content_type, csrf, dev_only, error_status,
    headers, locale, metrics, page_settings,
};

/// Largest request body: forms here are a few hundred bytes (docs/security.md #46).
pub const BODY_LIMIT: usize = 16 * 1024;
/// Longest a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] sspr_domain::config::ConfigError),
}

pub fn app_state(
    leptos_options: LeptosOptions,
    services: Services,
) -> Result<AppState, BuildError> {
    let origin = services.config.public_origin()?;
    Ok(AppState {
        leptos_options,
        services: Arc::new(services),
        cookies: CookiePolicy::for_https(origin.https),
    })
}

/// Hands this response's CSP nonce (made by `headers::apply`) to Leptos,
/// so the hydration scripts carry the nonce the header allows, and the
/// organisation's settings a page shows (`page_settings::load`).
fn leptos_context() {
    let Some(parts) = use_context::<http::request::Parts>() else {
        return;
    };
    if let Some(nonce) = parts.extensions.get::<CspNonce>() {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0.clone()));
    }
    if let Some(helpdesk) = parts.extensions.get::<HelpdeskContact>() {
        provide_context(helpdesk.clone());
    }
}

/// The application's routes, listed once per process.
///
/// Listing renders the whole app with resource loading switched off by a
/// process-wide flag (leptos_server's `SuppressResourceLoad`), and a resource
/// first polled while the flag is up waits forever (leptos-rs/leptos#4773):
/// a page rendered by one router while another router is being built would
/// hang until the request timeout. Listing once, before the first router
/// exists, leaves no page that can be rendered during a listing.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn build(state: AppState) -> Result<Router, BuildError> {
    let config = state.services.config.clone();
    let origin = config.public_origin()?;
    let routes = route_list();
    let default_locale = match_tag(&config.default_locale).unwrap_or(Locale::en);

    let measured = config.metrics_address()?.is_some();

    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, leptos_context, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .route_layer(from_fn_with_state(
            state.services.db.clone(),
            page_settings::load,
        ))
        .route_layer(compress::pages())
        .route_layer(axum::middleware::from_fn(compress::unless_stateful));
    let mut known = Router::new()
        .route("/healthz", get(healthz))
        .route("/admin/audit.csv", get(crate::audit_export::csv))
        .route(
            "/admin/password-reset/impact.csv",
            get(crate::impact_export::csv),
        )
        .route("/admin/users.csv", get(crate::users_export::csv))
        .route(
            crate::users_import::PATH,
            post(crate::users_import::upload)
                .layer(DefaultBodyLimit::max(crate::users_import::BODY_LIMIT)),
        )
        .merge(crate::assets::pkg_router(&state.leptos_options))
        .merge(crate::catalog_scripts::router())
        .merge(pages);
    if measured {
        known = known.route_layer(axum::middleware::from_fn(metrics::name_route));
    }
    let admin_state = state.clone();
    let locale_state = state.clone();
    let app = known
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(leptos_context, shell))
        .with_state(state);

    // The last layer added is the outermost: a request passes (metrics →)
    // trace → panic guard → headers → CSRF → timeout → body limit →
    // content type → error status → dev pages → locale → client address →
    // admins only (`/api/admin_*`, `/admin/*.csv`) →
    // (pages and server functions: cookie check →
    // compression (HTML only) → page settings →) handler.
    let app = app
        .layer(from_fn_with_state(admin_state, admin_only::guard))
        .layer(from_fn_with_state(
            TrustedProxies(config.trusted_proxy_nets()?.into()),
            client_addr::resolve,
        ))
        .layer(from_fn_with_state(
            LocalePolicy {
                default: default_locale,
                services: locale_state.services.clone(),
                cookies: locale_state.cookies.clone(),
                assets: format!("/{}/", locale_state.leptos_options.site_pkg_dir).into(),
            },
            locale::negotiate_locale,
        ))
        .layer(from_fn_with_state(
            DevPages {
                outbox: config.delivery_mode() == DeliveryMode::Outbox,
            },
            dev_only::guard,
        ))
        .layer(axum::middleware::from_fn(error_status::map))
        .layer(axum::middleware::from_fn(content_type::form_only))
        .layer(from_fn_with_state(
            BodyLimit(BODY_LIMIT),
            body_limit::enforce,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(from_fn_with_state(
            CsrfGuard {
                origin: Arc::from(origin.origin.as_str()),
            },
            csrf::guard,
        ))
        .layer(from_fn_with_state(
            HeaderPolicy {
                https: origin.https,
            },
            headers::apply,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &http::Request<_>| {
                // Path only: query strings are never logged.
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        );
    Ok(if measured {
        app.layer(axum::middleware::from_fn(metrics::record))
    } else {
        app
    })
}

/// 200 when the database answers and, with a directory, the directory
/// binds the service account; 503 naming which one does not.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    if let Err(e) = sspr_domain::store::ping(state.services.db.health_pool()).await {
        tracing::error!(error = %e, "health check: database unreachable");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable");
    }
    if let Some(dir) = &state.services.directory
        && let Err(e) = dir.ping().await
    {
        tracing::error!(error = %e, "health check: directory unreachable");
        return (StatusCode::SERVICE_UNAVAILABLE, "directory unavailable");
    }
    (StatusCode::OK, "ok")
}
