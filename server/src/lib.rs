//! The `sspr` server: axum wiring around the Leptos app, the security
//! middleware every route inherits, the CLI, and background workers.
//! Decisions about accounts live in `sspr-domain`; this crate only connects
//! them to HTTP and the command line.

pub mod assets;
pub mod audit_export;
pub mod catalog_scripts;
pub mod cli;
pub mod csv_download;
pub mod delivery;
pub mod i18n_cli;
pub mod impact_export;
pub mod listener;
pub mod logging;
pub mod metrics;
pub mod middleware;
pub mod router;
pub mod serve;
pub mod users_export;
pub mod users_import;
