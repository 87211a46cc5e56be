//! The demo organisation seeded by `sspr serve --demo` into an empty
//! database, so a newcomer can sign in at once. Passwords are random and
//! returned to the caller to print once; nothing here runs outside demo mode.

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::identity::Login;
use crate::password::Normalized;
use crate::users::{self, NewUser, Role};
use crate::{DomainError, Services, Timestamp};

pub struct DemoAccount {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

const PEOPLE: &[(&str, &str, &str, Role, &[&str])] = &[
    (
        "admin",
        "Avery Admin",
        "admin@contoso.example",
        Role::Admin,
        &["it"],
    ),
    (
        "alice",
        "Alice Anders",
        "alice@contoso.example",
        Role::User,
        &["sales"],
    ),
    (
        "bob",
        "Bob Brown",
        "bob@contoso.example",
        Role::User,
        &["sales"],
    ),
    (
        "chen",
        "陳美玲",
        "chen@contoso.example",
        Role::User,
        &["engineering"],
    ),
    (
        "noa",
        "נועה לוי",
        "noa@contoso.example",
        Role::User,
        &["engineering"],
    ),
];

/// A random 20-character password: long enough for any policy.
pub fn random_password() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

/// Seeds the demo organisation if the database has no users. Returns the
/// accounts created (empty when the database already had users).
pub async fn seed_if_empty(s: &Services, now: Timestamp) -> Result<Vec<DemoAccount>, DomainError> {
    if users::count(s.db.pool()).await? > 0 {
        return Ok(Vec::new());
    }
    let mut created = Vec::new();
    for (login, name, email, role, groups) in PEOPLE {
        let password = random_password();
        let hash = s
            .hasher
            .hash(&Normalized::new(&password).map_err(|e| DomainError::Hashing(e.to_string()))?)
            .await
            .map_err(|e| DomainError::Hashing(e.to_string()))?;
        let canonical = Login::parse(login).map_err(|e| DomainError::Corrupt(e.to_string()))?;
        let groups: Vec<Login> = groups.iter().filter_map(|g| Login::parse(g).ok()).collect();
        let user = NewUser {
            login_display: (*login).to_owned(),
            display_name: (*name).to_owned(),
            email: Some((*email).to_owned()),
            role: *role,
            password_hash: Some(hash),
            locale: None,
        };
        match users::create(&s.db, &canonical, &user, &groups, now).await {
            Ok(_) => {}
            Err(users::CreateUserError::Duplicate) => continue,
            Err(users::CreateUserError::Domain(e)) => return Err(e),
        }
        created.push(DemoAccount {
            login: (*login).to_owned(),
            display_name: (*name).to_owned(),
            role: *role,
            password,
        });
    }
    Ok(created)
}
