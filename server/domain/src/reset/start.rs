//! Step 1: the user ID and the CAPTCHA. Always creates a flow, so the
//! answer is the same for every ID; the per-address ceilings and the
//! surge alert stand in front.

use std::net::IpAddr;

use super::{ResetError, State, WIZARD};
use crate::audit::{self, Event, Kind as AuditKind, Outcome};
use crate::identity::Login;
use crate::outbox::Template;
use crate::policy::{self, Policy};
use crate::rate::{self, CounterKey, Network};
use crate::users::{Role, User};
use crate::{DomainError, Services, Timestamp, captcha, notices};

/// Step 1. `captcha` is the solved puzzle, or empty without JavaScript
/// (then the stricter per-address limit applies). Returns the flow token.
pub async fn start(
    s: &Services,
    raw_login: &str,
    captcha: &str,
    nonce: &str,
    ip: Option<IpAddr>,
    now: Timestamp,
) -> Result<String, ResetError> {
    let network = Network::of(ip);
    let per_address = s.config.reset.starts_per_address_per_hour;
    if !rate::hit(
        s.db.pool(),
        CounterKey::ResetStarts(network),
        3600,
        per_address,
        now,
    )
    .await?
    {
        return Err(ResetError::Throttled {
            retry_after_secs: 3600,
        });
    }
    if captcha.is_empty() {
        let key = CounterKey::ResetStartsWithoutCaptcha(network);
        let limit = s.config.reset.starts_without_captcha_per_address_per_hour;
        if !rate::hit(s.db.pool(), key, 3600, limit, now).await? {
            return Err(ResetError::Throttled {
                retry_after_secs: 3600,
            });
        }
    } else {
        captcha::redeem(s, captcha, nonce, now).await?;
    }
    let login = Login::parse(raw_login).map_err(|_| ResetError::InvalidLogin)?;
    // Only starts that passed every check above count: refused requests
    // from one address must not spend the hour's one alert.
    watch_for_a_surge(s, now).await?;
    let policy = policy::load(&s.db).await?;
    let user = crate::directory::accounts::lookup(s, &login, now).await?;
    let state = State {
        identifier: identifier(s, &login),
        gates_needed: gates_for(&policy, user.as_ref()),
        passed: vec![],
        pending: None,
        network: network.to_string(),
        writing_since: None,
    };
    let user_id = user.as_ref().map(|u| u.id);
    let token = WIZARD.create(s, user_id, &state, now).await?;
    let event = Event {
        subject_user_id: user_id,
        subject_login: Some(audit::typed_login(&s.key, &login, user_id.is_some())),
        ip,
        ..Event::new(AuditKind::ResetStarted, Outcome::Success)
    };
    audit::record(s.db.pool(), &event, now).await?;
    Ok(token)
}

/// The keyed hash of a typed user ID that the gates' throttles are keyed
/// on, whether or not it names an account. The sign-in's second factor
/// counts on the same keys: a guess at a user's code is one guess,
/// whichever page it was typed into.
pub(crate) fn identifier(s: &Services, login: &Login) -> String {
    hex::encode(
        &s.key
            .keyed_hash("reset-identifier", &[login.as_str().as_bytes()])[..16],
    )
}

/// Gates this account needs: admins always two.
fn gates_for(policy: &Policy, user: Option<&User>) -> usize {
    policy.required_for(user.is_some_and(|u| u.role == Role::Admin))
}

/// Counts the starts accepted from every address together; the one start
/// that passes the alert threshold in the counter's hour (the count is
/// atomic, so exactly one sees it) tells the admins: an audit row, a
/// warning in the log and an email to each admin. Nothing is refused here
/// (the per-ID and per-address limits do that), and a failed alert is
/// logged but does not fail the user's start.
async fn watch_for_a_surge(s: &Services, now: Timestamp) -> Result<(), DomainError> {
    let threshold = s.config.reset.alert_starts_per_hour;
    let starts = rate::count(s.db.pool(), CounterKey::ResetStartsTotal, 3600, now).await?;
    if starts != threshold.saturating_add(1) {
        return Ok(());
    }
    tracing::warn!(
        starts,
        threshold,
        "reset starts passed the hourly alert threshold"
    );
    if let Err(e) = alert_admins_of_a_surge(s, starts, threshold, now).await {
        tracing::error!(error = %e, "could not alert the admins of a reset surge");
    }
    Ok(())
}

async fn alert_admins_of_a_surge(
    s: &Services,
    starts: i64,
    threshold: i64,
    now: Timestamp,
) -> Result<(), DomainError> {
    let mut tx = s.db.pool().begin().await?;
    let event = Event::new(AuditKind::ResetSurge, Outcome::Alert)
        .detail(format!("starts={starts} threshold={threshold}"));
    audit::record(&mut *tx, &event, now).await?;
    let template = Template::ResetSurge { starts, threshold };
    notices::email_admins(s, &mut tx, None, "reset-surge", &template, now).await?;
    tx.commit().await?;
    Ok(())
}
