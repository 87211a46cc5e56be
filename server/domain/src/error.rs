use thiserror::Error;

/// Failures of the storage and infrastructure underneath the domain. These
/// are logged with their cause and shown to users only as a generic error
/// with a correlation id.
#[derive(Debug, Error)]
pub enum DomainError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("contention: {0}")]
    Contention(&'static str),
}
