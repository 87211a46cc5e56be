//! CSV import of accounts, for `sspr user import` and the admin portal's
//! import page alike.
//!
//! Columns (header row required, order free):
//! `login` (required), `display_name` (required), `email`, `role`
//! (`user`|`admin`, default `user`), `groups` (`;`-separated), `password_hash`
//! (an argon2id PHC string from another system; empty = no password: the
//! email given becomes the account's first email method, with which the
//! user sets a password through the reset wizard — `new_accounts`).
//!
//! Each row is written in its own transaction (user plus memberships), so a
//! bad row is reported with its line number and never half-written, and the
//! good rows are kept. The import as a whole is audited (`users_imported`)
//! with its report, which the portal shows from there.

use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::audit::{self, Event, Kind, Outcome};
use crate::groups::Actor;
use crate::identity::{Login, valid_email};
use crate::new_accounts;
use crate::password::is_valid_phc;
use crate::users::{CreateUserError, NewUser, Role};
use crate::{Db, DomainError, Timestamp, store};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    /// (line number in the file, why)
    pub rejected: Vec<(u64, Rejected)>,
    /// The `users_imported` audit row that keeps this report.
    pub audit_id: i64,
}

/// The largest file the admin portal takes. A request has 10 s, and an
/// import cut off by that limit would leave its first rows written and no
/// report; each row is its own transaction, so the rows are capped well
/// within it: 2 000 took 2.9–4.5 s on a 2-core machine (SQLite, up to 45 %
/// of the 10 s); 1 000 take 0.9 s on SQLite and 1.7 s on PostgreSQL (at
/// most 17 %), room for a slower disk or a busy server (`bench/README.md`,
/// `portal_import`). A bigger file is for
/// `sspr user import`.
pub const PORTAL_MAX_BYTES: usize = 512 * 1024;
pub const PORTAL_MAX_ROWS: usize = 1_000;

/// How many rejected rows the audit row keeps (with their total): enough
/// to fix a file, small enough for one audit row.
pub const KEPT_REJECTIONS: usize = 200;

/// The report as the audit row keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptReport {
    pub created: usize,
    /// How many rows were rejected in all.
    pub rejected: usize,
    /// The first [`KEPT_REJECTIONS`]: line, code, the value the row gave.
    pub rows: Vec<(u64, String, Option<String>)>,
}

impl KeptReport {
    fn of(report: &ImportReport) -> KeptReport {
        KeptReport {
            created: report.created,
            rejected: report.rejected.len(),
            rows: report
                .rejected
                .iter()
                .take(KEPT_REJECTIONS)
                .map(|(line, r)| (*line, r.code().to_owned(), r.value().map(str::to_owned)))
                .collect(),
        }
    }
}

/// An import's report: when, by whom (`None`: the command line) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredReport {
    pub at: Timestamp,
    pub by: Option<i64>,
    pub report: KeptReport,
}

/// The report kept by audit row `id`, if that row is an import's.
pub async fn stored_report(db: &Db, id: i64) -> Result<Option<StoredReport>, DomainError> {
    let row =
        store::audit_events::find_of_kind(db.pool(), id, Kind::UsersImported.as_str()).await?;
    Ok(row.and_then(|(at, by, detail)| {
        let report = serde_json::from_str(detail.as_deref()?).ok()?;
        Some(StoredReport {
            at: Timestamp(at),
            by,
            report,
        })
    }))
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

/// How many rows (records after the header) a CSV holds, without
/// importing it: a caller with a limit checks it before any write.
pub fn row_count(input: &[u8]) -> usize {
    csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(input)
        .records()
        .count()
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
    by: Option<Actor>,
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
            Ok((login, user, groups)) => {
                match new_accounts::create(db, by, &login, &user, &groups, now).await {
                    Ok(_) => report.created += 1,
                    Err(CreateUserError::Duplicate) => report
                        .rejected
                        .push((line, Rejected::Duplicate(user.login_display.clone()))),
                    Err(CreateUserError::Domain(e)) => return Err(e.into()),
                }
            }
        }
    }
    let kept = serde_json::to_string(&KeptReport::of(&report))
        .map_err(|e| DomainError::Corrupt(e.to_string()))?;
    let event = Event {
        actor_user_id: by.map(|a| a.user_id),
        ..Event::new(Kind::UsersImported, Outcome::Success)
    }
    .ip(by.and_then(|a| a.ip))
    .detail(kept);
    report.audit_id = audit::record_id(db.pool(), &event, now).await?;
    Ok(report)
}

fn row_to_user(
    r: &csv::StringRecord,
    c: &Columns,
) -> Result<(Login, NewUser, Vec<Login>), Rejected> {
    let get = |i: Option<usize>| i.and_then(|i| r.get(i)).unwrap_or("");
    parse_account(&Fields {
        login: get(Some(c.login)),
        display_name: get(Some(c.display_name)),
        email: get(c.email),
        role: get(c.role),
        groups: get(c.groups),
        password_hash: get(c.password_hash),
    })
}

/// One account as text: a CSV row's cells, or the portal's form.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fields<'a> {
    pub login: &'a str,
    pub display_name: &'a str,
    /// Empty: none.
    pub email: &'a str,
    /// `user`, `admin`, or empty for `user`.
    pub role: &'a str,
    /// `;`-separated.
    pub groups: &'a str,
    /// Empty: none.
    pub password_hash: &'a str,
}

/// The checks every new account passes, wherever it comes from.
pub fn parse_account(f: &Fields<'_>) -> Result<(Login, NewUser, Vec<Login>), Rejected> {
    let get = |s: &str| s.trim().to_owned();
    let login_display = get(f.login);
    let login = Login::parse(&login_display).map_err(Rejected::Login)?;
    let display_name = get(f.display_name);
    if display_name.is_empty()
        || display_name.chars().count() > 200
        || display_name.chars().any(char::is_control)
    {
        return Err(Rejected::DisplayName);
    }
    let email = Some(get(f.email)).filter(|e| !e.is_empty());
    if let Some(e) = &email
        && !valid_email(e)
    {
        return Err(Rejected::Email(e.clone()));
    }
    let role_text = get(f.role);
    let role = Role::parse(&role_text).ok_or_else(|| Rejected::Role(role_text.clone()))?;
    let groups = f
        .groups
        .split(';')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(|g| Login::parse(g).map_err(|e| Rejected::Group(g.to_owned(), e)))
        .collect::<Result<Vec<_>, _>>()?;
    let password_hash = Some(get(f.password_hash)).filter(|h| !h.is_empty());
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
