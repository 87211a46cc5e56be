//! `sspr serve`: open storage, seed the demo if asked, start the workers
//! and the HTTP server, and shut down gracefully on Ctrl-C or SIGTERM.

use std::net::SocketAddr;

use std::time::Duration;

use anyhow::Context;
use sspr_domain::config::Config;
use sspr_domain::demo;
use sspr_domain::outbox::{self, DeliveryMode, DevOutbox};
use tokio::sync::watch;

use crate::cli::open_services;
use crate::delivery::LiveSender;
use crate::{listener, router};

pub async fn run(mut config: Config, demo_mode: bool) -> anyhow::Result<()> {
    config.demo |= demo_mode;
    // `--demo` may turn the dev outbox on: its rules apply again.
    config.check_dev_outbox()?;
    let leptos_options = leptos::config::get_configuration(None)
        .context("Leptos configuration")?
        .leptos_options;
    crate::assets::check_hash_file(&leptos_options)?;
    let services = open_services(config.clone()).await?;
    if config.demo {
        announce_demo(&services, &config).await?;
    }
    if config.delivery_mode() == DeliveryMode::Outbox {
        tracing::warn!(
            "delivery mode is 'outbox': messages are shown on /dev/outbox and not sent; never use this in production"
        );
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut workers = Vec::new();
    let (db, key, clock) = (
        services.db.clone(),
        services.key.clone(),
        services.clock.clone(),
    );
    match config.delivery_mode() {
        DeliveryMode::Outbox => workers.push(tokio::spawn(outbox::run_worker(
            db,
            key,
            clock,
            DevOutbox,
            Duration::from_secs(1),
            stop_rx.clone(),
        ))),
        DeliveryMode::Live => {
            let sender = LiveSender::new(&config.delivery)?;
            workers.push(tokio::spawn(outbox::run_worker(
                db,
                key,
                clock,
                sender,
                Duration::from_secs(1),
                stop_rx.clone(),
            )));
        }
        DeliveryMode::Hold => {
            tracing::warn!("delivery mode is 'hold': messages are queued and not sent")
        }
    }
    workers.push(tokio::spawn(housekeeping(
        services.clone(),
        stopped(stop_rx.clone()),
    )));
    let every = config.directory.sync_interval_secs;
    if services.directory.is_some() && every > 0 {
        workers.push(tokio::spawn(directory_sync(
            services.clone(),
            Duration::from_secs(every),
            stopped(stop_rx.clone()),
        )));
    }

    if let Some(addr) = config.metrics_address()? {
        let handle = crate::metrics::install()?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the metrics listener {addr}"))?;
        tracing::info!(addr = %listener.local_addr().unwrap_or(addr), "metrics listening");
        workers.push(tokio::spawn(crate::metrics::serve(
            listener,
            handle,
            services.clone(),
            stopped(stop_rx.clone()),
        )));
    }

    let state = router::app_state(leptos_options, services.clone())?;
    let app = router::build(state)?;
    let addr: SocketAddr = config
        .listen
        .parse()
        .with_context(|| format!("listen address {:?}", config.listen))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    // The bound address: with port 0 the system chose one, and whoever
    // started the process reads it here.
    let bound = listener.local_addr().unwrap_or(addr);
    tracing::info!(addr = %bound, public_url = %config.public_url, "listening");
    let limits = listener::Limits {
        header_read_timeout: Duration::from_secs(config.header_read_timeout_secs),
        max_connections: config.max_connections,
    };
    // The workers hear of the stop with the listener, not after it has
    // drained: the outbox worker then finishes only the message in flight
    // and hands the rest of its batch back to the other instances.
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    };
    listener::serve(listener, app, limits, shutdown).await;
    for w in workers {
        let _ = w.await;
    }
    services.db.close().await;
    Ok(())
}

async fn announce_demo(s: &sspr_domain::Services, config: &Config) -> anyhow::Result<()> {
    let accounts = demo::seed_if_empty(s, s.clock.now()).await?;
    if accounts.is_empty() {
        println!(
            "Demo: the database already has users; nothing seeded (passwords were printed on the first run)."
        );
        return Ok(());
    }
    println!();
    println!("Demo organisation created. These passwords are shown once:");
    for a in &accounts {
        println!(
            "  {:<8} {:<6} {}  ({})",
            a.login,
            a.role.as_str(),
            a.password,
            a.display_name
        );
    }
    println!(
        "Sign in at {}/sign-in  ·  sent messages: {}/dev/outbox",
        config.public_url, config.public_url
    );
    println!();
    Ok(())
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

/// Deletes expired sessions, stale counters and old flows every 10 minutes.
async fn housekeeping(s: sspr_domain::Services, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        match sspr_domain::housekeeping::purge(&s.db, &s.config, s.clock.now()).await {
            Ok(p) => tracing::debug!(?p, "housekeeping"),
            Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
        }
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(Duration::from_secs(600)) => {}
        }
    }
}

/// Syncs the directory's entries every `every` (the first after one
/// interval: sign-in and reset read the entries they need on their own).
/// Of several instances on one database, one syncs each interval (a lease
/// in the database, `directory::sync::run_if_due`).
async fn directory_sync(
    s: sspr_domain::Services,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    let holder = uuid::Uuid::new_v4().to_string();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(every) => {}
        }
        let now = s.clock.now();
        match sspr_domain::directory::sync::run_if_due(&s, &holder, every.as_secs(), now).await {
            Ok(Some(r)) => tracing::info!(?r, "directory sync"),
            Ok(None) => tracing::debug!("directory sync: another instance synced this interval"),
            Err(e) => tracing::warn!(error = %e, "directory sync failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}
