//! Accounts and groups.

use serde::{Deserialize, Serialize};

use crate::identity::Login;
use crate::store::{self, Exec};
use crate::{Db, DomainError, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "user" | "" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub login: Login,
    pub login_display: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub enabled: bool,
    pub password_hash: Option<String>,
    pub locale: Option<String>,
    /// Where the account lives in the organisation's directory; `None` for
    /// sspr's own accounts (docs/security.md #84).
    pub directory_dn: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub login_display: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub password_hash: Option<String>,
    pub locale: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("a user with this ID already exists")]
    Duplicate,
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl From<sqlx::Error> for CreateUserError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => CreateUserError::Duplicate,
            _ => CreateUserError::Domain(e.into()),
        }
    }
}

pub use crate::store::groups::{exists as group_exists, of_user as groups_of};
pub use crate::store::users::{count, find_by_id, find_by_login, set_enabled, set_locale};

/// Inserts a user and, in the same transaction, its groups (created when
/// missing) and memberships. Either everything is written or nothing is.
pub async fn create(
    db: &Db,
    login: &Login,
    user: &NewUser,
    groups: &[Login],
    now: Timestamp,
) -> Result<i64, CreateUserError> {
    let mut tx = db.pool().begin().await.map_err(DomainError::from)?;
    let id = insert_with_groups(&mut tx, login, user, groups, now).await?;
    tx.commit().await.map_err(DomainError::from)?;
    Ok(id)
}

/// [`create`]'s writes, in the caller's transaction.
pub async fn insert_with_groups(
    conn: &mut sqlx::AnyConnection,
    login: &Login,
    user: &NewUser,
    groups: &[Login],
    now: Timestamp,
) -> Result<i64, CreateUserError> {
    for group in groups {
        store::groups::ensure(&mut *conn, group, now).await?;
    }
    let id = store::users::insert(&mut *conn, login, user, now).await?;
    for group in groups {
        store::groups::add_member(&mut *conn, group, id).await?;
    }
    Ok(id)
}

/// Every address to tell about a change to the account: the directory
/// email and the registered email methods, without repeats.
pub async fn contact_addresses<'e>(
    exec: impl Exec<'e>,
    user: &User,
) -> Result<Vec<String>, DomainError> {
    let mut addresses: Vec<String> = user.email.iter().cloned().collect();
    addresses.extend(store::methods::email_addresses(exec, user.id).await?);
    addresses.sort();
    addresses.dedup();
    Ok(addresses)
}

/// Gives accounts written before the search keys existed theirs (the
/// migration cannot: the keys are folded here, in Rust). Runs after every
/// migration, a batch at a time; nothing to do once all are filled.
pub async fn fill_search_keys(db: &Db) -> Result<u64, DomainError> {
    let mut filled = 0;
    loop {
        let batch = store::users::without_search_keys(db.pool(), 500).await?;
        if batch.is_empty() {
            return Ok(filled);
        }
        let mut tx = db.pool().begin().await?;
        for (id, name, email) in &batch {
            store::users::set_search_keys(&mut *tx, *id, name, email.as_deref()).await?;
        }
        tx.commit().await?;
        filled += batch.len() as u64;
    }
}
