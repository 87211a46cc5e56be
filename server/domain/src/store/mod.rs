//! Storage: the only place with SQL. One file per table (or per pair of
//! tables that only ever change together), each the sole owner of its
//! rows. Every function takes an executor — the pool, or a connection of
//! the caller's transaction — so a change and its effects (audit row,
//! message, counter) commit together or not at all.
//!
//! Queries are written once with `$n` placeholders and run on SQLite and
//! PostgreSQL through sqlx's `Any` driver; times are UTC Unix seconds and
//! flags 0/1 integers.

pub mod audit_events;
pub mod counters;
pub mod flows;
pub mod groups;
pub mod job_leases;
pub mod lockouts;
pub mod methods;
pub mod outbox;
pub mod policy_versions;
pub mod sessions;
pub mod settings;
pub mod users;

/// Anything a query can run on: `db.pool()`, `&mut *tx`, `&mut *conn`.
pub trait Exec<'e>: sqlx::Executor<'e, Database = sqlx::Any> {}
impl<'e, T: sqlx::Executor<'e, Database = sqlx::Any>> Exec<'e> for T {}

/// A transaction on either backend.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// One round trip to the database (the health check).
pub async fn ping<'e>(exec: impl Exec<'e>) -> Result<(), crate::DomainError> {
    sqlx::query("SELECT 1").execute(exec).await?;
    Ok(())
}
