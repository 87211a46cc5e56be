//! One storage handle over SQLite (the embedded default) and PostgreSQL.
//!
//! Queries are written once, with `$1`-style placeholders that both sqlx
//! drivers accept, and run through sqlx's `Any` driver. Only the migrations
//! differ per backend (`migrations/sqlite`, `migrations/postgres`).

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use crate::DomainError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    /// One connection of its own for the health check: behind the main
    /// pool's queue, `/healthz` reported how long the queue was under a
    /// flood of sign-ins (p99 ~200 ms, issue 12), not whether the database
    /// answers. Opened on first use, so it costs nothing until asked.
    health: AnyPool,
    backend: Backend,
    /// The policy as last read, shared by every clone of this handle
    /// (`policy::load`): read at most once a second, not on every request.
    policy: crate::policy::Cached,
}

#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("DATABASE_URL must start with sqlite: or postgres:// (got scheme {0:?})")]
    Scheme(String),
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Backend, UrlError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else {
            let scheme = url.split(':').next().unwrap_or_default().to_owned();
            Err(UrlError::Scheme(scheme))
        }
    }
}

impl Db {
    /// Connects and runs pending migrations.
    pub async fn open(url: &str) -> Result<Db, DomainError> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Connects without migrating. SQLite files (and their folder) are
    /// created when missing.
    pub async fn connect(url: &str) -> Result<Db, DomainError> {
        install_default_drivers();
        let backend = Backend::of_url(url)
            .map_err(|e| DomainError::Db(sqlx::Error::Configuration(Box::new(e))))?;
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let pool = pool_options(
            backend,
            match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 10,
            },
        )
        .connect(&url)
        .await?;
        let health = pool_options(backend, 1).connect_lazy(&url)?;
        Ok(Db {
            pool,
            health,
            backend,
            policy: crate::policy::Cached::default(),
        })
    }

    pub async fn migrate(&self) -> Result<(), DomainError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        crate::users::fill_search_keys(self).await?;
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The health check's own connection (see the field).
    pub fn health_pool(&self) -> &AnyPool {
        &self.health
    }

    pub fn policy_cache(&self) -> &crate::policy::Cached {
        &self.policy
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.health.close().await;
    }
}

/// A pool of at most `max` connections set up the same way on every pool.
fn pool_options(backend: Backend, max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        // A request waits at most this long for a connection; then the
        // caller fails fast instead of queueing without bound (docs/security.md #61).
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL lets readers run beside the one writer;
                    // busy_timeout makes writers wait instead of failing (docs/security.md #62).
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                         PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                    )
                    .await?;
                }
                Ok(())
            })
        })
}

/// `sqlite:data/sspr.db` → make sure `data/` exists and the file is created.
fn prepare_sqlite_url(url: &str) -> Result<String, DomainError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = rest.split('?').next().unwrap_or_default();
    if !path.is_empty()
        && path != ":memory:"
        && let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    Ok(if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}
