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
    /// (line number in the file, reason)
    pub rejected: Vec<(u64, String)>,
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
                report.rejected.push((line, format!("unreadable row: {e}")));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        match row_to_user(&record, &cols) {
            Err(reason) => report.rejected.push((line, reason)),
            Ok((login, user, groups)) => match users::create(db, &login, &user, &groups, now).await
            {
                Ok(_) => report.created += 1,
                Err(CreateUserError::Duplicate) => report.rejected.push((
                    line,
                    format!("user ID {:?} already exists", user.login_display),
                )),
                Err(CreateUserError::Domain(e)) => return Err(e.into()),
            },
        }
    }
    Ok(report)
}

fn row_to_user(r: &csv::StringRecord, c: &Columns) -> Result<(Login, NewUser, Vec<Login>), String> {
    let get = |i: Option<usize>| i.and_then(|i| r.get(i)).unwrap_or("").to_owned();
    let login_display = get(Some(c.login));
    let login = Login::parse(&login_display).map_err(|e| format!("login: {e}"))?;
    let display_name = get(Some(c.display_name));
    if display_name.is_empty()
        || display_name.chars().count() > 200
        || display_name.chars().any(char::is_control)
    {
        return Err("display_name: must be 1 to 200 printable characters".into());
    }
    let email = Some(get(c.email)).filter(|e| !e.is_empty());
    if let Some(e) = &email
        && !valid_email(e)
    {
        return Err(format!("email: {e:?} is not an email address"));
    }
    let role_text = get(c.role);
    let role = Role::parse(&role_text)
        .ok_or_else(|| format!("role: {role_text:?} is not user or admin"))?;
    let groups = get(c.groups)
        .split(';')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(|g| Login::parse(g).map_err(|e| format!("groups: {g:?}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let password_hash = Some(get(c.password_hash)).filter(|h| !h.is_empty());
    if let Some(h) = &password_hash
        && !is_valid_phc(h)
    {
        return Err("password_hash: not an argon2id PHC string".into());
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
