//! The floor for sspr's database writes (bench/load.sh): `POST /insert`
//! inserts one row with sqlx, over the same `Any` driver, pool size and
//! SQLite settings as sspr (server/domain/src/db.rs), and answers 200.
//!
//! Usage: bare-insert ADDRESS DATABASE_URL

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone)]
struct Rows {
    pool: AnyPool,
    next: Arc<AtomicI64>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(url)) = (args.next(), args.next()) else {
        return Err("usage: bare-insert ADDRESS DATABASE_URL".into());
    };
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    let pool = AnyPoolOptions::new()
        .max_connections(if sqlite { 8 } else { 10 })
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if sqlite {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                         PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await?;
    pool.execute("DROP TABLE IF EXISTS bench_rows").await?;
    pool.execute("CREATE TABLE bench_rows (id BIGINT PRIMARY KEY, created_at BIGINT NOT NULL, body TEXT NOT NULL)")
        .await?;
    let rows = Rows {
        pool,
        next: Arc::new(AtomicI64::new(1)),
    };
    let app = Router::new()
        .route("/insert", post(insert))
        .with_state(rows);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn insert(State(rows): State<Rows>, body: String) -> StatusCode {
    let id = rows.next.fetch_add(1, Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let inserted = sqlx::query("INSERT INTO bench_rows (id, created_at, body) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(now)
        .bind(body)
        .execute(&rows.pool)
        .await;
    match inserted {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}
