//! Saving the SSPR policy: every save, from the admin portal or `sspr
//! policy set`, is a version with who saved it, when, and what changed
//! field by field; any version can be brought back, as a new version. The
//! version, the policy in force and the audit row commit together.

use std::net::IpAddr;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::{self, Event, Kind, Outcome};
use crate::identity::Login;
use crate::policy::{self, Policy, PolicyError};
use crate::store::{self, policy_versions::NewVersion};
use crate::{Db, DomainError, Timestamp};

/// Who saves: an admin (by account) or the operator on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Editor {
    pub user_id: Option<i64>,
    /// Shown in the history: the admin's user ID, or "sspr policy set".
    pub name: String,
    pub ip: Option<IpAddr>,
}

impl Editor {
    pub fn operator() -> Editor {
        Editor {
            user_id: None,
            name: "sspr policy set".into(),
            ip: None,
        }
    }
    pub fn admin(user_id: i64, login: &str, ip: Option<IpAddr>) -> Editor {
        Editor {
            user_id: Some(user_id),
            name: login.to_owned(),
            ip,
        }
    }
}

/// One field whose value differs, both values as JSON text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// The fields whose values differ between `before` and `after`, by field
/// name.
pub fn diff(before: &Policy, after: &Policy) -> Result<Vec<Change>, DomainError> {
    let as_map = |p: &Policy| match serde_json::to_value(p) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(DomainError::Corrupt("policy is not an object".into())),
        Err(e) => Err(DomainError::Corrupt(e.to_string())),
    };
    let (old, new) = (as_map(before)?, as_map(after)?);
    Ok(new
        .iter()
        .filter(|(field, value)| old.get(*field) != Some(*value))
        .map(|(field, value)| Change {
            field: field.clone(),
            before: old.get(field).map(Value::to_string).unwrap_or_default(),
            after: value.to_string(),
        })
        .collect())
}

/// One saved version, as the history lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub id: i64,
    pub saved_at: Timestamp,
    pub saved_by: String,
    pub restored_from: Option<i64>,
    pub changes: Vec<Change>,
}

/// Validates `p` and makes it the policy in force as a new version.
/// `based_on` is the version the editor read (the form carries it): when
/// another save landed since, nothing is saved and the answer is
/// [`PolicyError::Conflict`]. `None` saves over whatever is newest (the CLI).
/// Returns the new version's id.
pub async fn save(
    db: &Db,
    p: &Policy,
    by: &Editor,
    based_on: Option<i64>,
    now: Timestamp,
) -> Result<i64, PolicyError> {
    store_version(db, p, by, based_on, None, now).await
}

/// `p` as a save would store it (group names canonical), or why a save
/// would refuse it: what the impact preview compares with the policy in
/// force.
pub fn proposal(p: &Policy) -> Result<Policy, PolicyError> {
    let p = with_canonical_groups(p)?;
    p.validate()?;
    Ok(p)
}

/// Makes version `id`'s policy the one in force, as a new version.
pub async fn restore(
    db: &Db,
    id: i64,
    by: &Editor,
    based_on: Option<i64>,
    now: Timestamp,
) -> Result<i64, PolicyError> {
    let row = store::policy_versions::find(db.pool(), id)
        .await?
        .ok_or(PolicyError::NoSuchVersion(id))?;
    let p: Policy = read_policy(&row.policy)?;
    store_version(db, &p, by, based_on, Some(id), now).await
}

async fn store_version(
    db: &Db,
    p: &Policy,
    by: &Editor,
    based_on: Option<i64>,
    restored_from: Option<i64>,
    now: Timestamp,
) -> Result<i64, PolicyError> {
    let p = &with_canonical_groups(p)?;
    p.validate()?;
    let mut tx = db.pool().begin().await.map_err(DomainError::from)?;
    store::settings::lock(&mut *tx, "policy").await?;
    let latest = store::policy_versions::latest_id(&mut *tx).await?;
    if based_on.is_some_and(|v| v != latest) {
        return Err(PolicyError::Conflict(based_on.unwrap_or_default()));
    }
    let before = match store::settings::get(&mut *tx, "policy").await? {
        Some(text) => read_policy(&text)?,
        None => Policy::default(),
    };
    let changes = diff(&before, p)?;
    let version = NewVersion {
        saved_by: by.user_id,
        saved_by_name: &by.name,
        replaces: latest,
        restored_from,
        policy: &to_json(p)?,
        changes: &to_json(&changes)?,
    };
    let id = match store::policy_versions::insert(&mut *tx, &version, now).await {
        Ok(id) => id,
        // Another save of the same version landed first (`replaces` is unique).
        Err(DomainError::Db(sqlx::Error::Database(d))) if d.is_unique_violation() => {
            return Err(PolicyError::Conflict(latest));
        }
        Err(e) => return Err(e.into()),
    };
    policy::put(&mut *tx, p, now).await?;
    // The fields, never their values: banned words and contacts are the
    // organisation's, and the history holds them for admins already.
    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    let detail = match restored_from {
        Some(from) => format!("version {id} restores {from}: {}", fields.join(",")),
        None => format!("version {id}: {}", fields.join(",")),
    };
    let event = Event {
        actor_user_id: by.user_id,
        ..Event::new(Kind::PolicyChanged, Outcome::Success)
    }
    .ip(by.ip)
    .detail(detail);
    audit::record(&mut *tx, &event, now).await?;
    tx.commit().await.map_err(DomainError::from)?;
    // Stamped after the commit: a read that began before it must not
    // count as newer than this save.
    policy::keep(db, Instant::now(), p);
    Ok(id)
}

/// `p` with its group names as groups are stored (NFKC, case folded, like
/// user IDs), so "Staff" typed by an admin matches the group `staff`.
fn with_canonical_groups(p: &Policy) -> Result<Policy, PolicyError> {
    let mut groups = Vec::with_capacity(p.sspr_groups.len());
    for name in &p.sspr_groups {
        let canonical = Login::parse(name).map_err(|_| PolicyError::Invalid {
            field: "sspr_groups",
            message: format!("{name:?} is not a valid group name"),
        })?;
        let canonical = canonical.as_str().to_owned();
        if !groups.contains(&canonical) {
            groups.push(canonical);
        }
    }
    Ok(Policy {
        sspr_groups: groups,
        ..p.clone()
    })
}

fn read_policy(text: &str) -> Result<Policy, DomainError> {
    serde_json::from_str(text).map_err(|e| DomainError::Corrupt(format!("policy version: {e}")))
}

fn to_json<T: Serialize>(v: &T) -> Result<String, DomainError> {
    serde_json::to_string(v).map_err(|e| DomainError::Corrupt(e.to_string()))
}

/// The newest versions first, up to `limit`, older than `before` if given;
/// and the id of the newest overall (what a form bases its save on).
pub async fn history(
    db: &Db,
    before: Option<i64>,
    limit: i64,
) -> Result<(Vec<Version>, i64), DomainError> {
    // The rows first: read after them (each statement has its own snapshot
    // on PostgreSQL), the newest id is never older than a row listed.
    let rows = store::policy_versions::newest(db.pool(), before, limit).await?;
    let latest = store::policy_versions::latest_id(db.pool()).await?;
    let versions = rows
        .into_iter()
        .map(|r| {
            Ok(Version {
                id: r.id,
                saved_at: r.saved_at,
                saved_by: r.saved_by_name,
                restored_from: r.restored_from,
                changes: serde_json::from_str(&r.changes)
                    .map_err(|e| DomainError::Corrupt(format!("policy changes: {e}")))?,
            })
        })
        .collect::<Result<_, DomainError>>()?;
    Ok((versions, latest))
}

/// The policy in force and the version it is (0: never saved).
pub async fn current(db: &Db) -> Result<(Policy, i64), DomainError> {
    let mut tx = db.pool().begin().await?;
    let latest = store::policy_versions::latest_id(&mut *tx).await?;
    let p = match store::settings::get(&mut *tx, "policy").await? {
        Some(text) => read_policy(&text)?,
        None => Policy::default(),
    };
    tx.commit().await?;
    Ok((p, latest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_each_changed_field_with_both_values() {
        let before = Policy::default();
        let after = Policy {
            methods_required: 2,
            banned_words: vec!["contoso".into()],
            ..Policy::default()
        };
        let changes = diff(&before, &after).unwrap();
        assert_eq!(
            changes,
            vec![
                Change {
                    field: "banned_words".into(),
                    before: "[]".into(),
                    after: r#"["contoso"]"#.into()
                },
                Change {
                    field: "methods_required".into(),
                    before: "1".into(),
                    after: "2".into()
                },
            ]
        );
        assert!(diff(&after, &after).unwrap().is_empty());
    }
}
