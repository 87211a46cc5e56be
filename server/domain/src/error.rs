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
    #[error(
        "the server key {0} is missing, but the database already holds users: a new key would \
         make every sealed authenticator secret and keyed hash unusable. Restore the key file \
         from its backup (it is backed up apart from the database), or point key_file at it"
    )]
    KeyMissing(String),
}
