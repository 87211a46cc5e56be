//! `/metrics` for Prometheus, on a listener of its own (`metrics_listen`;
//! docs/security.md #88): the public listener never serves it. What is
//! measured: request latency per route and wizard steps by outcome
//! (`middleware::metrics`), the hashing queue and the outbox
//! (`sspr_domain::ops_metrics`). docs/capacity.md says what to watch.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use http::header;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use sspr_domain::{Services, outbox};

/// Histogram buckets for every `*_seconds` metric: from a page served
/// from memory (1 ms) to the request timeout (10 s).
const SECONDS_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histograms and counters are tidied when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("metrics recorder: {0}")]
    Recorder(#[from] BuildError),
}

/// Installs the process-wide Prometheus recorder (once per process: the
/// `metrics` facade has one global recorder).
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    Ok(PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)?
        .install_recorder()?)
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    services: Services,
}

/// Serves `GET /metrics` on `listener` until `stop` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    handle: PrometheusHandle,
    services: Services,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let upkeep = handle.clone();
    let tidy = tokio::spawn(async move {
        loop {
            tokio::time::sleep(UPKEEP_EVERY).await;
            upkeep.run_upkeep();
        }
    });
    let app = Router::new()
        .route("/metrics", get(render))
        .with_state(Scrape { handle, services });
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::error!(error = %e, "metrics listener failed");
    }
    tidy.abort();
}

/// The text exposition format. The outbox gauges are read from the shared
/// database at each scrape; when it does not answer they keep their last
/// value and the scrape still succeeds (the database's own health is
/// `/healthz`'s job).
async fn render(State(s): State<Scrape>) -> impl IntoResponse {
    if let Err(e) = outbox::observe_backlog(&s.services.db, s.services.clock.now()).await {
        tracing::warn!(error = %e, "metrics: outbox backlog not read");
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.handle.render(),
    )
}
