//! The floor for sspr's pages and password checks (bench/load.sh):
//! `GET /` answers a small HTML page from memory; `POST /verify` checks a
//! wrong password against an argon2id hash with sspr's parameters
//! (m=19456 KiB, t=2, p=1) on the blocking pool, one hash per core at once.
//!
//! Usage: bare-hello ADDRESS

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::{get, post};
use tokio::sync::Semaphore;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Hello</title></head>\
<body><main><h1>Hello</h1><p>A small page served from memory.</p></main></body></html>";

#[derive(Clone)]
struct Verifier {
    hash: Arc<str>,
    slots: Arc<Semaphore>,
}

fn argon2() -> Result<Argon2<'static>, argon2::Error> {
    Ok(Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19_456, 2, 1, None)?,
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).ok_or("usage: bare-hello ADDRESS")?;
    let salt = SaltString::encode_b64(b"bare-hello-salt!").map_err(|e| e.to_string())?;
    let hash = argon2()?
        .hash_password(b"the right password", &salt)
        .map_err(|e| e.to_string())?
        .to_string();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let verifier = Verifier {
        hash: Arc::from(hash),
        slots: Arc::new(Semaphore::new(cores)),
    };
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/verify", post(verify))
        .with_state(verifier);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// 401 after a full argon2id verify of a wrong password, as a sign-in with
/// a wrong password answers.
async fn verify(State(v): State<Verifier>) -> StatusCode {
    let Ok(_slot) = v.slots.acquire().await else {
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    let hash = v.hash.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).ok()?;
        let ok = argon2()
            .ok()?
            .verify_password(b"a wrong password", &parsed)
            .is_ok();
        Some(ok)
    })
    .await;
    match checked {
        Ok(Some(false)) => StatusCode::UNAUTHORIZED,
        Ok(Some(true)) => StatusCode::OK,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
