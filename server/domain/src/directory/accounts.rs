//! Directory entries mirrored into sspr's `users` rows: the row is found by
//! the directory's stable id, so a user renamed or moved in the directory
//! keeps their registered methods; the login, names, email, language,
//! admin role and enabled state follow the directory at every lookup.

use super::Entry;
use crate::identity::Login;
use crate::store::users::{self as store, Mirrored};
use crate::users::{Role, User};
use crate::{Db, DomainError, Services, Timestamp};

/// The account a typed ID names: with a directory, the entry it finds
/// (mirrored into its row now); otherwise sspr's own row. With a directory
/// every ID costs the same one search, known or not.
pub async fn lookup(
    s: &Services,
    login: &Login,
    now: Timestamp,
) -> Result<Option<User>, DomainError> {
    let Some(dir) = &s.directory else {
        return store::find_by_login(s.db.pool(), login).await;
    };
    match dir.find(login.as_str()).await? {
        Some(entry) => mirror(&s.db, &entry, now).await,
        None => {
            // The reads a known, unchanged entry costs (`mirror`), so the
            // answer takes the same work (docs/security.md #10).
            store::find_by_directory_id(s.db.pool(), "").await?;
            crate::store::groups::of_user(s.db.pool(), 0).await?;
            Ok(None)
        }
    }
}

/// Writes `entry` into its row (created the first time it is seen) and
/// returns the account. `None` when the entry's login cannot be an sspr
/// user ID (e.g. empty after trimming).
pub async fn mirror(db: &Db, entry: &Entry, now: Timestamp) -> Result<Option<User>, DomainError> {
    Ok(mirror_reporting(db, entry, now)
        .await?
        .map(|(user, _)| user))
}

/// What mirroring an entry did to its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mirroring {
    Unchanged,
    Written,
}

/// `mirror`, saying whether the row was written.
pub async fn mirror_reporting(
    db: &Db,
    entry: &Entry,
    now: Timestamp,
) -> Result<Option<(User, Mirroring)>, DomainError> {
    let Ok(login) = Login::parse(&entry.login) else {
        return Ok(None);
    };
    let display_name = entry
        .display_name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(&entry.login);
    let m = Mirrored {
        directory_id: &entry.id,
        dn: &entry.dn,
        login: &login,
        login_display: &entry.login,
        display_name,
        email: entry.email.as_deref(),
        role: if entry.admin { Role::Admin } else { Role::User },
        enabled: !entry.disabled,
        locale: entry.preferred_language.as_deref(),
    };
    let groups = entry.group_names();
    let group_names: Vec<&str> = groups.iter().map(Login::as_str).collect();
    // Usually nothing changed since the last lookup: two reads, no write.
    if let Some(user) = store::find_by_directory_id(db.pool(), &entry.id).await? {
        let held = crate::store::groups::of_user(db.pool(), user.id).await?;
        if unchanged(&user, &m) && held == group_names {
            return Ok(Some((user, Mirroring::Unchanged)));
        }
    }
    // Two instances may see a new entry at once: the loser of the insert
    // finds the winner's row on its second try.
    for _ in 0..2 {
        let mut tx = db.pool().begin().await?;
        store::release_login(&mut *tx, &login, &entry.id).await?;
        let id = match store::update_mirrored(&mut *tx, &m, now).await {
            Ok(Some(id)) => id,
            Ok(None) => match store::insert_mirrored(&mut *tx, &m, now).await {
                Ok(id) => id,
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                    tx.rollback().await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            },
            Err(e) => return Err(e.into()),
        };
        // The directory's groups replace the row's (SSPR scope by group).
        crate::store::groups::clear_memberships(&mut *tx, id).await?;
        for group in &groups {
            crate::store::groups::ensure(&mut *tx, group, now).await?;
            crate::store::groups::add_member(&mut *tx, group, id).await?;
        }
        tx.commit().await?;
        return Ok(store::find_by_id(db.pool(), id)
            .await?
            .map(|u| (u, Mirroring::Written)));
    }
    Err(DomainError::Corrupt(format!(
        "directory entry {} could not be mirrored",
        entry.id
    )))
}

fn unchanged(u: &User, m: &Mirrored<'_>) -> bool {
    u.login == *m.login
        && u.login_display == m.login_display
        && u.display_name == m.display_name
        && u.email.as_deref() == m.email
        && u.role == m.role
        && u.enabled == m.enabled
        && u.locale.as_deref() == m.locale
        && u.directory_dn.as_deref() == Some(m.dn)
}
