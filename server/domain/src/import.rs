//! CSV import of accounts.
//!
//! Columns (header row required, order free):
//! `login` (required), `display_name` (required), `email`, `role`
//! (`user`|`admin`, default `user`), `groups` (`;`-separated), `password_hash`
//! (an argon2id PHC string from another system; empty = no usable password
//! until the user resets it).
//!
//! Each row is written in its own transaction (user plus memberships), so a
//! bad row is reported with its line number and never half-written, and the
//! good rows are kept.

use std::io::Read;

use crate::identity::{Login, valid_email};
use crate::password::is_valid_phc;
use crate::users::{self, CreateUserError, NewUser, Role};
use crate::{Db, DomainError, Timestamp};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    /// (line number in the file, why)
    pub rejected: Vec<(u64, Rejected)>,
}

/// Why a row was not imported: a stable code (the admin portal's report
/// says it in the reader's language) and the offending value; `Display`
/// is the CLI's English sentence.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("unreadable row: {0}")]
    Unreadable(String),
    #[error("login: {0}")]
    Login(crate::identity::LoginError),
    #[error("display_name: must be 1 to 200 printable characters")]
    DisplayName,
    #[error("email: {0:?} is not an email address")]
    Email(String),
    #[error("role: {0:?} is not user or admin")]
    Role(String),
    #[error("groups: {0:?}: {1}")]
    Group(String, crate::identity::LoginError),
    #[error("password_hash: not an argon2id PHC string")]
    PasswordHash,
    #[error("user ID {0:?} already exists")]
    Duplicate(String),
}

impl Rejected {
    pub fn code(&self) -> &'static str {
        match self {
            Rejected::Unreadable(_) => "unreadable",
            Rejected::Login(_) => "invalid_login",
            Rejected::DisplayName => "invalid_display_name",
            Rejected::Email(_) => "invalid_email",
            Rejected::Role(_) => "invalid_role",
            Rejected::Group(..) => "invalid_group",
            Rejected::PasswordHash => "invalid_password_hash",
            Rejected::Duplicate(_) => "duplicate",
        }
    }

    /// The value the row gave, if the code names one.
    pub fn value(&self) -> Option<&str> {
        match self {
            Rejected::Email(v)
            | Rejected::Role(v)
            | Rejected::Group(v, _)
            | Rejected::Duplicate(v) => Some(v),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the CSV has no header row with the columns login and display_name")]
    MissingColumns,
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

struct Columns {
    login: usize,
    display_name: usize,
    email: Option<usize>,
    role: Option<usize>,
    groups: Option<usize>,
    password_hash: Option<usize>,
}

pub async fn import_csv(
    db: &Db,
    input: impl Read,
    now: Timestamp,
) -> Result<ImportReport, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(input);
    let headers = reader.headers()?.clone();
    let find = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let cols = Columns {
        login: find("login").ok_or(ImportError::MissingColumns)?,
        display_name: find("display_name").ok_or(ImportError::MissingColumns)?,
        email: find("email"),
        role: find("role"),
        groups: find("groups"),
        password_hash: find("password_hash"),
    };
    let mut report = ImportReport::default();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                report
                    .rejected
                    .push((line, Rejected::Unreadable(e.to_string())));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        match row_to_user(&record, &cols) {
            Err(reason) => report.rejected.push((line, reason)),
            Ok((login, user, groups)) => match users::create(db, &login, &user, &groups, now).await
            {
                Ok(_) => report.created += 1,
                Err(CreateUserError::Duplicate) => report
                    .rejected
                    .push((line, Rejected::Duplicate(user.login_display.clone()))),
                Err(CreateUserError::Domain(e)) => return Err(e.into()),
            },
        }
    }
    Ok(report)
}

fn row_to_user(
    r: &csv::StringRecord,
    c: &Columns,
) -> Result<(Login, NewUser, Vec<Login>), Rejected> {
    let get = |i: Option<usize>| i.and_then(|i| r.get(i)).unwrap_or("").to_owned();
    let login_display = get(Some(c.login));
    let login = Login::parse(&login_display).map_err(Rejected::Login)?;
    let display_name = get(Some(c.display_name));
    if display_name.is_empty()
        || display_name.chars().count() > 200
        || display_name.chars().any(char::is_control)
    {
        return Err(Rejected::DisplayName);
    }
    let email = Some(get(c.email)).filter(|e| !e.is_empty());
    if let Some(e) = &email
        && !valid_email(e)
    {
        return Err(Rejected::Email(e.clone()));
    }
    let role_text = get(c.role);
    let role = Role::parse(&role_text).ok_or_else(|| Rejected::Role(role_text.clone()))?;
    let groups = get(c.groups)
        .split(';')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(|g| Login::parse(g).map_err(|e| Rejected::Group(g.to_owned(), e)))
        .collect::<Result<Vec<_>, _>>()?;
    let password_hash = Some(get(c.password_hash)).filter(|h| !h.is_empty());
    if let Some(h) = &password_hash
        && !is_valid_phc(h)
    {
        return Err(Rejected::PasswordHash);
    }
    Ok((
        login,
        NewUser {
            login_display,
            display_name,
            email,
            role,
            password_hash,
            locale: None,
        },
        groups,
    ))
}
