//! The SSPR server's domain. Everything that decides something about an
//! account lives here: identities, password hashing, sessions, throttles,
//! audit and the outbox. The web layer (`app` server functions, `server`
//! middleware) only decodes input, calls into this crate and maps errors to
//! stable codes.
//!
//! Time is always a parameter (`now: Timestamp`) so tests drive it with a
//! [`clock::ManualClock`] instead of sleeping.

pub mod account_actions;
pub mod audit;
pub mod auth;
pub mod authenticator;
pub mod captcha;
pub mod clock;
pub mod codes;
pub mod config;
pub mod db;
pub mod demo;
pub mod directory;
pub mod eligibility;
pub mod error;
pub mod fair_slots;
pub mod flow;
pub mod groups;
pub mod hash_threads;
pub mod housekeeping;
pub mod identity;
pub mod impact;
pub mod import;
pub mod lockout;
pub mod methods;
pub mod new_accounts;
pub mod notices;
pub mod ops_metrics;
pub mod outbox;
pub mod password;
pub mod password_change;
pub mod password_policy;
pub mod phone;
pub mod policy;
pub mod policy_history;
pub mod questions;
pub mod rate;
pub mod registration;
pub mod reset;
pub mod second_factor;
pub mod secrets;
pub mod sends;
pub mod sessions;
pub mod store;
pub mod user_list;
pub mod users;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use db::Db;
pub use error::DomainError;

use std::sync::Arc;

/// Everything a request needs from the domain, built once at start-up and
/// shared (cheap to clone).
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub hasher: password::Hasher,
    pub key: secrets::ServerKey,
    pub config: Arc<config::Config>,
    pub clock: Arc<dyn Clock>,
    /// The masked-hints mode's stand-in email domain, computed at most once
    /// an hour (`reset::hints`).
    pub hint_domain: Arc<std::sync::Mutex<Option<(Timestamp, String)>>>,
    /// The organisation's directory, when `[directory] kind` names one:
    /// accounts and passwords live there (docs/security.md #84).
    pub directory: Option<Arc<directory::Directory>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServicesError {
    #[error(transparent)]
    Hashing(#[from] password::HashError),
    #[error(transparent)]
    Directory(#[from] directory::DirectoryError),
}

impl Services {
    pub fn new(
        db: Db,
        key: secrets::ServerKey,
        config: config::Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Services, ServicesError> {
        let directory = directory::Directory::new(&config.directory)?.map(Arc::new);
        Ok(Services {
            hasher: password::Hasher::new(&config.password_hashing)?,
            db,
            key,
            config: Arc::new(config),
            clock,
            hint_domain: Arc::default(),
            directory,
        })
    }
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

#[cfg(feature = "testkit")]
pub mod testkit;
