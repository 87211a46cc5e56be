//! The limits every code send passes, shared by the reset and the
//! registration wizards (docs/security.md #77): a cooldown between two
//! sends to one destination (a double click must not replace the first
//! code), hourly and daily caps per destination — tighter for phones,
//! which cost money — and one hourly budget of text messages and calls for
//! everyone together, a circuit breaker against SMS pumping that alerts
//! the admins once.

use crate::audit::{self, Event, Kind as AuditKind, Outcome};
use crate::methods::Kind;
use crate::outbox::Template;
use crate::policy::Policy;
use crate::rate::{self, CounterKey};
use crate::{DomainError, Services, Timestamp, notices};

/// Seconds between two codes to one phone, whatever the policy says.
pub const PHONE_COOLDOWN_SECS: i64 = 120;
/// Codes to one phone number in an hour, at most.
pub const PHONE_SENDS_PER_HOUR: i64 = 3;
/// Codes to one phone number in a day.
pub const PHONE_SENDS_PER_DAY: i64 = 10;
/// Codes to one email address in a day.
pub const EMAIL_SENDS_PER_DAY: i64 = 20;
/// Codes for one account (registration) or one typed user ID (reset) in
/// a day.
pub const SENDS_PER_ACCOUNT_PER_DAY: i64 = 20;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * 3600;

/// Seconds between two sends to one destination.
pub fn cooldown(policy: &Policy, kind: Kind) -> i64 {
    match kind {
        Kind::Phone => policy.resend_cooldown_secs.max(PHONE_COOLDOWN_SECS),
        _ => policy.resend_cooldown_secs,
    }
}

/// Seconds still to wait before another code to `destination`, when the
/// last one (`last`: kind, destination, sent at) went there.
pub fn wait(
    policy: &Policy,
    kind: Kind,
    destination: &str,
    last: Option<(Kind, &str, i64)>,
    now: Timestamp,
) -> Option<i64> {
    let (last_kind, last_destination, sent_at) = last?;
    if last_kind != kind || !last_destination.eq_ignore_ascii_case(destination) {
        return None;
    }
    let wait = sent_at + cooldown(policy, kind) - now.secs();
    (wait > 0).then_some(wait)
}

/// Counts a send to `destination` (lower-cased by the caller for email)
/// against its hourly and daily caps. `Some(retry_after)` when refused.
pub async fn count_destination(
    s: &Services,
    policy: &Policy,
    kind: Kind,
    destination: &str,
    now: Timestamp,
) -> Result<Option<i64>, DomainError> {
    let (hourly, daily) = match kind {
        Kind::Phone => (
            policy
                .max_sends_per_destination_per_hour
                .min(PHONE_SENDS_PER_HOUR),
            PHONE_SENDS_PER_DAY,
        ),
        _ => (
            policy.max_sends_per_destination_per_hour,
            EMAIL_SENDS_PER_DAY,
        ),
    };
    let pool = s.db.pool();
    if !rate::hit(
        pool,
        CounterKey::SendsToDestination(destination),
        HOUR,
        hourly,
        now,
    )
    .await?
    {
        return Ok(Some(HOUR));
    }
    let key = CounterKey::SendsToDestinationDaily(destination);
    if !rate::hit(pool, key, DAY, daily, now).await? {
        return Ok(Some(DAY));
    }
    Ok(None)
}

/// Counts a send against a daily cap per account or typed user ID.
pub async fn count_daily(
    s: &Services,
    key: CounterKey<'_>,
    now: Timestamp,
) -> Result<Option<i64>, DomainError> {
    let ok = rate::hit(s.db.pool(), key, DAY, SENDS_PER_ACCOUNT_PER_DAY, now).await?;
    Ok((!ok).then_some(DAY))
}

/// Counts a text message or call against everyone's hourly budget. The
/// one send that passes it (the count is atomic, so exactly one sees it)
/// alerts the admins: an audit row, an error in the log, an email.
pub async fn count_phone_budget(s: &Services, now: Timestamp) -> Result<Option<i64>, DomainError> {
    let budget = s.config.delivery.phone_sends_per_hour;
    let n = rate::count(s.db.pool(), CounterKey::PhoneSendsTotal, HOUR, now).await?;
    if n <= budget {
        return Ok(None);
    }
    if n == budget + 1 {
        tracing::error!(
            budget,
            "phone codes reached the hourly budget; refused until the hour ends"
        );
        if let Err(e) = alert_admins(s, budget, now).await {
            tracing::error!(error = %e, "could not alert the admins of the phone budget");
        }
    }
    Ok(Some(HOUR))
}

async fn alert_admins(s: &Services, budget: i64, now: Timestamp) -> Result<(), DomainError> {
    let mut tx = s.db.pool().begin().await?;
    let event =
        Event::new(AuditKind::PhoneBudget, Outcome::Alert).detail(format!("budget={budget}"));
    audit::record(&mut *tx, &event, now).await?;
    let template = Template::PhoneBudgetReached { budget };
    notices::email_admins(s, &mut tx, None, "phone-budget", &template, now).await?;
    tx.commit().await?;
    Ok(())
}
