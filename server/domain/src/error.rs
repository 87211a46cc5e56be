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
    #[error(transparent)]
    Directory(#[from] crate::directory::DirectoryError),
    #[error(
        "the server key {0} is missing, but the database already holds users: a new key would \
         make every sealed authenticator secret and keyed hash unusable. Restore the key file \
         from its backup (it is backed up apart from the database), or point key_file at it"
    )]
    KeyMissing(String),
}

impl DomainError {
    /// The storage is unreachable or busy for now (a pool timeout, a lost
    /// connection, SQLite busy, a server shutting down, a serialization
    /// conflict): the request changed nothing and may be retried, so it is
    /// answered 503 with Retry-After, not 500 (docs/security.md #76).
    pub fn is_transient(&self) -> bool {
        match self {
            DomainError::Db(e) => transient_db(e),
            DomainError::Contention(_) => true,
            // The directory does not answer: the user is told to come back,
            // never that their password is wrong (docs/security.md #84).
            DomainError::Directory(crate::directory::DirectoryError::Unavailable(_)) => true,
            _ => false,
        }
    }
}

fn transient_db(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their
            // extended codes. PostgreSQL: connection exceptions (08…),
            // shutdown and startup (57P…), serialization and deadlock
            // (40001, 40P01), too many connections (53300).
            // SQLite's codes are numbers below 10000; PostgreSQL's
            // SQLSTATEs are always five characters.
            let code = code.as_ref();
            let sqlite_busy =
                code.len() < 5 && code.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6));
            sqlite_busy
                || code.starts_with("08")
                || code.starts_with("57P")
                || matches!(code, "40001" | "40P01" | "53300")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_faults_that_pass_are_transient() {
        assert!(DomainError::Db(sqlx::Error::PoolTimedOut).is_transient());
        assert!(
            DomainError::Db(sqlx::Error::Io(std::io::ErrorKind::BrokenPipe.into())).is_transient()
        );
        assert!(DomainError::Contention("flow").is_transient());
        assert!(!DomainError::Db(sqlx::Error::RowNotFound).is_transient());
        assert!(!DomainError::Corrupt("x".into()).is_transient());
        assert!(!DomainError::Hashing("x".into()).is_transient());
    }
}
