//! `users`: accounts — the canonical user ID, names, role, the password
//! hash and the registration standing.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Exec;
use crate::eligibility;
use crate::identity::{Login, fold};
use crate::policy::{Policy, SsprScope};
use crate::users::{NewUser, Role, User};
use crate::{DomainError, Timestamp};

const COLUMNS: &str = "id, login, login_display, display_name, email, role, enabled, password_hash, locale, directory_dn";

fn from_row(row: &AnyRow) -> Result<User, DomainError> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        login: Login::from_stored(row.try_get("login")?),
        login_display: row.try_get("login_display")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        role: Role::parse(&role).ok_or_else(|| DomainError::Corrupt(format!("role {role:?}")))?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        password_hash: row.try_get("password_hash")?,
        locale: row.try_get("locale")?,
        directory_dn: row.try_get("directory_dn")?,
    })
}

pub async fn find_by_login<'e>(
    exec: impl Exec<'e>,
    login: &Login,
) -> Result<Option<User>, DomainError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE login = $1");
    let row = sqlx::query(&sql)
        .bind(login.as_str())
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn find_by_id<'e>(exec: impl Exec<'e>, id: i64) -> Result<Option<User>, DomainError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(exec).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn count<'e>(exec: impl Exec<'e>) -> Result<i64, DomainError> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(exec)
        .await?
        .try_get("n")?)
}

/// Inserts the account; a taken user ID is a unique violation.
pub async fn insert<'e>(
    exec: impl Exec<'e>,
    login: &Login,
    user: &NewUser,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (login, login_display, display_name, email, role, enabled, password_hash, locale, created_at, password_changed_at, name_key, email_key) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(login.as_str())
    .bind(&user.login_display)
    .bind(&user.display_name)
    .bind(user.email.as_deref())
    .bind(user.role.as_str())
    .bind(user.password_hash.as_deref())
    .bind(user.locale.as_deref())
    .bind(now.secs())
    .bind(user.password_hash.as_ref().map(|_| now.secs()))
    .bind(fold(&user.display_name))
    .bind(user.email.as_deref().map(fold))
    .fetch_one(exec)
    .await?
    .try_get("id")
}

/// Replaces the password hash — only if it is still `expected` when one
/// is given, so two changes racing cannot both win and a parameter
/// upgrade never overwrites a concurrent change. Returns whether it did.
pub async fn set_password_hash<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    expected: Option<&str>,
    hash: &str,
    changed_at: Option<Timestamp>,
) -> Result<bool, DomainError> {
    let r = match (expected, changed_at) {
        (Some(old), Some(now)) => sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3 AND password_hash = $4",
        )
        .bind(hash)
        .bind(now.secs())
        .bind(user_id)
        .bind(old),
        (Some(old), None) => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
                .bind(hash)
                .bind(user_id)
                .bind(old)
        }
        (None, Some(now)) => sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3",
        )
        .bind(hash)
        .bind(now.secs())
        .bind(user_id),
        (None, None) => sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id),
    }
    .execute(exec)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_enabled<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    enabled: bool,
) -> Result<(), DomainError> {
    sqlx::query("UPDATE users SET enabled = $1 WHERE id = $2")
        .bind(i64::from(enabled))
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(())
}

/// When the user last confirmed their security info, and how often they
/// postponed registering.
pub async fn registration_standing<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
) -> Result<(Option<Timestamp>, i64), DomainError> {
    let row = sqlx::query("SELECT info_confirmed_at, registration_skips FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(exec)
        .await?;
    let confirmed: Option<i64> = row.try_get("info_confirmed_at")?;
    Ok((confirmed.map(Timestamp), row.try_get("registration_skips")?))
}

/// Confirms the security info now; `clear_skips` also forgets postponements.
pub async fn confirm_info<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    clear_skips: bool,
    now: Timestamp,
) -> Result<(), DomainError> {
    let sql = if clear_skips {
        "UPDATE users SET info_confirmed_at = $1, registration_skips = 0 WHERE id = $2"
    } else {
        "UPDATE users SET info_confirmed_at = $1 WHERE id = $2"
    };
    sqlx::query(sql)
        .bind(now.secs())
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Takes the account's row lock for the rest of the transaction (a write
/// that changes nothing: a row lock on PostgreSQL, the write lock on
/// SQLite), so checks of the account's methods and the change they allow
/// cannot interleave with another transaction's.
pub async fn lock<'e>(exec: impl Exec<'e>, user_id: i64) -> Result<bool, DomainError> {
    let r = sqlx::query("UPDATE users SET id = id WHERE id = $1")
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Counts one "Ask me later" while fewer than `max` were used; false when
/// none was left. Conditional, so parallel clicks cannot overspend.
pub async fn add_skip<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    max: i64,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "UPDATE users SET registration_skips = registration_skips + 1 WHERE id = $1 AND registration_skips < $2",
    )
    .bind(user_id)
    .bind(max)
    .execute(exec)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Saves the account's language (`None`: follow the browser again).
pub async fn set_locale<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    locale: Option<&str>,
) -> Result<(), DomainError> {
    sqlx::query("UPDATE users SET locale = $1 WHERE id = $2")
        .bind(locale)
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Enabled admins other than `except` who have an email address, with
/// their language.
pub async fn admin_addresses<'e>(
    exec: impl Exec<'e>,
    except: Option<i64>,
) -> Result<Vec<(String, Option<String>)>, DomainError> {
    let rows = sqlx::query(
        "SELECT email, locale FROM users WHERE role = 'admin' AND id <> $1 AND enabled = 1 AND email IS NOT NULL",
    )
    .bind(except.unwrap_or(0)) // row ids start at 1
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("email")?, r.try_get("locale")?)))
        .collect()
}

/// The account mirrored from the directory entry with this stable id.
pub async fn find_by_directory_id<'e>(
    exec: impl Exec<'e>,
    directory_id: &str,
) -> Result<Option<User>, DomainError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE directory_id = $1");
    let row = sqlx::query(&sql)
        .bind(directory_id)
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// What the directory says of an account, as stored in its row.
pub struct Mirrored<'a> {
    pub directory_id: &'a str,
    pub dn: &'a str,
    pub login: &'a Login,
    pub login_display: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub role: Role,
    pub enabled: bool,
    pub locale: Option<&'a str>,
}

/// Writes the directory's view into the row with this directory id, or
/// into an own account with the same login that no directory entry holds
/// yet (adopted: its security info stays). Returns the row's id, or `None`
/// when neither exists.
pub async fn update_mirrored<'e>(
    exec: impl Exec<'e>,
    m: &Mirrored<'_>,
    now: Timestamp,
) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query(
        "UPDATE users SET directory_id = $1, directory_dn = $2, login = $3, login_display = $4, \
         display_name = $5, email = $6, role = $7, enabled = $8, locale = $9, password_hash = NULL, \
         directory_seen_at = $10, directory_gone_at = NULL, name_key = $11, email_key = $12 \
         WHERE directory_id = $1 OR (directory_id IS NULL AND login = $3) RETURNING id",
    )
    .bind(m.directory_id)
    .bind(m.dn)
    .bind(m.login.as_str())
    .bind(m.login_display)
    .bind(m.display_name)
    .bind(m.email)
    .bind(m.role.as_str())
    .bind(i64::from(m.enabled))
    .bind(m.locale)
    .bind(now.secs())
    .bind(fold(m.display_name))
    .bind(m.email.map(fold))
    .fetch_optional(exec)
    .await?;
    row.map(|r| r.try_get("id")).transpose()
}

pub async fn insert_mirrored<'e>(
    exec: impl Exec<'e>,
    m: &Mirrored<'_>,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (login, login_display, display_name, email, role, enabled, locale, \
         created_at, directory_id, directory_dn, directory_seen_at, name_key, email_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $8, $11, $12) RETURNING id",
    )
    .bind(m.login.as_str())
    .bind(m.login_display)
    .bind(m.display_name)
    .bind(m.email)
    .bind(m.role.as_str())
    .bind(i64::from(m.enabled))
    .bind(m.locale)
    .bind(now.secs())
    .bind(m.directory_id)
    .bind(m.dn)
    .bind(fold(m.display_name))
    .bind(m.email.map(fold))
    .fetch_one(exec)
    .await?
    .try_get("id")
}

/// Frees a login held by another directory entry's row (that entry was
/// renamed away; its own next lookup or sync gives it its new login).
/// The placeholder cannot be typed as a login (it holds a space).
pub async fn release_login<'e>(
    exec: impl Exec<'e>,
    login: &Login,
    except_directory_id: &str,
) -> Result<(), DomainError> {
    sqlx::query(
        "UPDATE users SET login = 'directory ' || directory_id \
         WHERE login = $1 AND directory_id IS NOT NULL AND directory_id <> $2",
    )
    .bind(login.as_str())
    .bind(except_directory_id)
    .execute(exec)
    .await?;
    Ok(())
}

/// Notes that a sync saw the entry (its row was otherwise unchanged).
pub async fn touch_seen<'e>(
    exec: impl Exec<'e>,
    user_id: i64,
    now: Timestamp,
) -> Result<(), DomainError> {
    sqlx::query("UPDATE users SET directory_seen_at = $1 WHERE id = $2")
        .bind(now.secs())
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Disables every mirrored account a sync that began at `started` did not
/// see; returns how many. Their rows and security info stay (the entry may
/// come back), but nobody signs in or resets as them.
pub async fn mark_gone<'e>(exec: impl Exec<'e>, started: Timestamp) -> Result<u64, DomainError> {
    let r = sqlx::query(
        "UPDATE users SET enabled = 0, directory_gone_at = $1 \
         WHERE directory_id IS NOT NULL AND directory_gone_at IS NULL \
         AND (directory_seen_at IS NULL OR directory_seen_at < $1)",
    )
    .bind(started.secs())
    .execute(exec)
    .await?;
    Ok(r.rows_affected())
}

/// How many accounts are mirrored from the directory and not gone.
pub async fn count_mirrored<'e>(exec: impl Exec<'e>) -> Result<i64, DomainError> {
    Ok(sqlx::query(
        "SELECT COUNT(*) AS n FROM users WHERE directory_id IS NOT NULL AND directory_gone_at IS NULL",
    )
    .fetch_one(exec)
    .await?
    .try_get("n")?)
}

/// Up to `limit` accounts written before their search keys existed.
pub async fn without_search_keys<'e>(
    exec: impl Exec<'e>,
    limit: i64,
) -> Result<Vec<(i64, String, Option<String>)>, DomainError> {
    let rows = sqlx::query(
        "SELECT id, display_name, email FROM users WHERE name_key IS NULL ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("display_name")?,
                r.try_get("email")?,
            ))
        })
        .collect()
}

pub async fn set_search_keys<'e>(
    exec: impl Exec<'e>,
    id: i64,
    display_name: &str,
    email: Option<&str>,
) -> Result<(), DomainError> {
    sqlx::query("UPDATE users SET name_key = $1, email_key = $2 WHERE id = $3")
        .bind(fold(display_name))
        .bind(email.map(fold))
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

/// The admin portal's user list: the filters present, in user ID order
/// after `after`. See [`crate::user_list`].
pub struct Search<'a> {
    /// Folded; matches the start of the user ID, the name or the address.
    pub prefix: Option<&'a str>,
    pub role: Option<Role>,
    /// Has any method registered, or none.
    pub registered: Option<bool>,
    pub enabled: Option<bool>,
    /// Can reset under the policy, or cannot (`eligibility`'s rule as SQL).
    pub eligible: Option<(bool, &'a Policy)>,
    /// Only these canonical user IDs.
    pub logins: Option<&'a [String]>,
    pub after: Option<&'a str>,
    pub limit: i64,
}

/// One account as the list shows it.
pub struct Listed {
    pub id: i64,
    pub login: String,
    pub login_display: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub enabled: bool,
    pub from_directory: bool,
    pub methods: i64,
}

/// Numbered parameters of a query built piece by piece.
#[derive(Default)]
struct Params {
    values: Vec<Param>,
}

enum Param {
    Text(String),
    Int(i64),
}

impl Params {
    fn text(&mut self, v: impl Into<String>) -> String {
        self.values.push(Param::Text(v.into()));
        format!("${}", self.values.len())
    }
    fn int(&mut self, v: i64) -> String {
        self.values.push(Param::Int(v));
        format!("${}", self.values.len())
    }
}

/// `eligibility::assess` as a condition on `users u`: enabled, in scope,
/// and as many usable kinds as gates to pass. A test holds the two equal
/// (tests/it/user_list.rs).
fn eligible_sql(policy: &Policy, p: &mut Params) -> String {
    let scope = match policy.sspr_scope {
        SsprScope::All => "1 = 1".to_owned(),
        SsprScope::None => "u.role = 'admin'".to_owned(),
        SsprScope::Groups if policy.sspr_groups.is_empty() => "u.role = 'admin'".to_owned(),
        SsprScope::Groups => {
            let names: Vec<String> = policy.sspr_groups.iter().map(|g| p.text(g)).collect();
            format!(
                "(u.role = 'admin' OR EXISTS (SELECT 1 FROM group_members gm \
                 JOIN user_groups g ON g.id = gm.group_id \
                 WHERE gm.user_id = u.id AND g.name IN ({})))",
                names.join(", ")
            )
        }
    };
    // The kinds are constants of this program, not input.
    let kinds: Vec<String> = eligibility::gate_kinds(policy)
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect();
    let strong = if kinds.is_empty() {
        "0".to_owned()
    } else {
        format!(
            "(SELECT COUNT(DISTINCT m.kind) FROM security_methods m \
             WHERE m.user_id = u.id AND m.kind IN ({}))",
            kinds.join(", ")
        )
    };
    let questions = if policy.allow_questions {
        "u.role <> 'admin' AND EXISTS (SELECT 1 FROM security_methods q \
         WHERE q.user_id = u.id AND q.kind = 'questions')"
    } else {
        "1 = 0"
    };
    let need = p.int(i64::from(policy.methods_required.clamp(1, 2)));
    format!(
        "(u.enabled = 1 AND {scope} AND ({strong} + CASE WHEN {strong} > 0 AND {questions} \
         THEN 1 ELSE 0 END) >= CASE WHEN u.role = 'admin' THEN 2 ELSE {need} END)"
    )
}

pub async fn search<'e>(exec: impl Exec<'e>, s: &Search<'_>) -> Result<Vec<Listed>, DomainError> {
    let mut p = Params::default();
    let after = p.text(s.after.unwrap_or(""));
    let mut sql = format!(
        "SELECT u.id, u.login, u.login_display, u.display_name, u.email, u.role, u.enabled, \
         u.directory_id, (SELECT COUNT(*) FROM security_methods m WHERE m.user_id = u.id) AS methods \
         FROM users u WHERE u.login > {after}"
    );
    if let Some(prefix) = s.prefix {
        // A range on each key, in code-point order (0009's collation on
        // PostgreSQL): every string that starts with the prefix. The page is
        // the first matches in user ID order. Measured at 100 000 accounts
        // (bench `admin_users`): PostgreSQL with statistics reads the three
        // indexes (a bitmap OR); SQLite, without statistics, walks the user
        // ID index until a page is full, which costs most (~40 ms) when
        // almost nothing matches.
        let (lo, hi) = (p.text(prefix), p.text(format!("{prefix}\u{10FFFF}")));
        sql.push_str(&format!(
            " AND ((u.login >= {lo} AND u.login < {hi}) \
             OR (u.name_key >= {lo} AND u.name_key < {hi}) \
             OR (u.email_key >= {lo} AND u.email_key < {hi}))"
        ));
    }
    if let Some(role) = s.role {
        let r = p.text(role.as_str());
        sql.push_str(&format!(" AND u.role = {r}"));
    }
    if let Some(registered) = s.registered {
        let not = if registered { "" } else { "NOT " };
        sql.push_str(&format!(
            " AND {not}EXISTS (SELECT 1 FROM security_methods r WHERE r.user_id = u.id)"
        ));
    }
    if let Some(enabled) = s.enabled {
        let e = p.int(i64::from(enabled));
        sql.push_str(&format!(" AND u.enabled = {e}"));
    }
    if let Some((eligible, policy)) = s.eligible {
        let not = if eligible { "" } else { "NOT " };
        let cond = eligible_sql(policy, &mut p);
        sql.push_str(&format!(" AND {not}{cond}"));
    }
    if let Some(logins) = s.logins {
        if logins.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = logins.iter().map(|l| p.text(l.as_str())).collect();
        sql.push_str(&format!(" AND u.login IN ({})", list.join(", ")));
    }
    let limit = p.int(s.limit);
    sql.push_str(&format!(" ORDER BY u.login LIMIT {limit}"));
    let mut q = sqlx::query(&sql);
    for v in p.values {
        q = match v {
            Param::Text(t) => q.bind(t),
            Param::Int(i) => q.bind(i),
        };
    }
    let rows = q.fetch_all(exec).await?;
    rows.iter()
        .map(|r| {
            let role: String = r.try_get("role")?;
            Ok(Listed {
                id: r.try_get("id")?,
                login: r.try_get("login")?,
                login_display: r.try_get("login_display")?,
                display_name: r.try_get("display_name")?,
                email: r.try_get("email")?,
                role: Role::parse(&role)
                    .ok_or_else(|| DomainError::Corrupt(format!("role {role:?}")))?,
                enabled: r.try_get::<i64, _>("enabled")? != 0,
                from_directory: r.try_get::<Option<String>, _>("directory_id")?.is_some(),
                methods: r.try_get("methods")?,
            })
        })
        .collect()
}

/// What the eligibility rule needs of every account, by id: the impact
/// preview's input (with `methods::kinds_by_user` and the memberships).
pub struct Facts {
    pub id: i64,
    pub login_display: String,
    pub display_name: String,
    pub role: Role,
    pub enabled: bool,
}

pub async fn all_facts<'e>(exec: impl Exec<'e>) -> Result<Vec<Facts>, DomainError> {
    let rows =
        sqlx::query("SELECT id, login_display, display_name, role, enabled FROM users ORDER BY id")
            .fetch_all(exec)
            .await?;
    rows.iter()
        .map(|r| {
            let role: String = r.try_get("role")?;
            Ok(Facts {
                id: r.try_get("id")?,
                login_display: r.try_get("login_display")?,
                display_name: r.try_get("display_name")?,
                role: Role::parse(&role)
                    .ok_or_else(|| DomainError::Corrupt(format!("role {role:?}")))?,
                enabled: r.try_get::<i64, _>("enabled")? != 0,
            })
        })
        .collect()
}

/// Dates the user detail shows.
pub struct Dates {
    pub created_at: Timestamp,
    pub password_changed_at: Option<Timestamp>,
    pub info_confirmed_at: Option<Timestamp>,
}

pub async fn dates<'e>(exec: impl Exec<'e>, id: i64) -> Result<Option<Dates>, DomainError> {
    let row = sqlx::query(
        "SELECT created_at, password_changed_at, info_confirmed_at FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(exec)
    .await?;
    row.map(|r| {
        Ok(Dates {
            created_at: Timestamp(r.try_get("created_at")?),
            password_changed_at: r
                .try_get::<Option<i64>, _>("password_changed_at")?
                .map(Timestamp),
            info_confirmed_at: r
                .try_get::<Option<i64>, _>("info_confirmed_at")?
                .map(Timestamp),
        })
    })
    .transpose()
}

/// Forgets when the user last confirmed their security info (they are
/// asked to register again at their next sign-in).
pub async fn clear_info_confirmed<'e>(exec: impl Exec<'e>, id: i64) -> Result<(), DomainError> {
    sqlx::query("UPDATE users SET info_confirmed_at = NULL, registration_skips = 0 WHERE id = $1")
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}
