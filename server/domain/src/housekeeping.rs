//! Periodic clean-up of rows that no longer decide anything: expired
//! sessions, counters whose window has passed, spent CAPTCHA solutions,
//! flows long expired, sign-in failures already forgotten, finished outbox
//! rows and audit rows past their retention (docs/security.md #80). Every
//! table is worked off in bounded batches until nothing is left, each batch
//! its own statement, so a large backlog never means one long lock or one
//! huge transaction, and every predicate has its index.

use std::future::Future;

use serde::Deserialize;

use crate::config::Config;
use crate::{Db, DomainError, Timestamp, captcha, rate, reset, sessions, store};

/// Flows are kept this long after they expire (for support questions of
/// the "what happened to my reset?" kind), then deleted.
pub const FLOW_RETENTION_SECS: i64 = 24 * 3600;
/// Rows deleted per statement.
const BATCH: i64 = 5000;
const DAY: i64 = 24 * 3600;

/// Config `[retention]`: how long finished records are kept.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Audit rows, in days.
    pub audit_days: i64,
    /// Sent, failed and expired outbox rows, in days.
    pub outbox_days: i64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            audit_days: 400,
            outbox_days: 30,
        }
    }
}

/// What one round deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub counters: u64,
    pub flows: u64,
    pub sign_in_failures: u64,
    pub outbox: u64,
    pub audit: u64,
    /// Statements it took (each deletes at most one batch).
    pub batches: u64,
}

pub async fn purge(db: &Db, config: &Config, now: Timestamp) -> Result<Purged, DomainError> {
    let mut batches = 0;
    let pool = db.pool();
    let forgotten = now.minus_secs(config.sign_in_lockout.reset_after_secs);
    let outbox_before = now.minus_secs(config.retention.outbox_days * DAY);
    let audit_before = now.minus_secs(config.retention.audit_days * DAY);
    Ok(Purged {
        sessions: drain(&mut batches, || {
            sessions::purge_expired(db, &config.sessions, now, BATCH)
        })
        .await?,
        counters: drain(&mut batches, || purge_counters(db, now)).await?,
        flows: drain(&mut batches, || purge_flows(db, now)).await?,
        sign_in_failures: drain(&mut batches, || {
            store::lockouts::purge(pool, forgotten, BATCH)
        })
        .await?,
        outbox: drain(&mut batches, || {
            store::outbox::purge(pool, outbox_before, BATCH)
        })
        .await?,
        audit: drain(&mut batches, || {
            store::audit_events::purge(pool, audit_before, BATCH)
        })
        .await?,
        batches,
    })
}

/// Runs `delete_batch` until a batch comes back short; the total deleted.
async fn drain<F, Fut>(batches: &mut u64, mut delete_batch: F) -> Result<u64, DomainError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, DomainError>>,
{
    let mut total = 0;
    loop {
        let n = delete_batch().await?;
        *batches += 1;
        total += n;
        if n < BATCH.unsigned_abs() {
            return Ok(total);
        }
        // Let the requests waiting for the database in between.
        tokio::task::yield_now().await;
    }
}

/// A counter whose window started before the longest window any limit
/// uses counts as zero already (`rate::hit` restarts it), so deleting it
/// changes no decision. A spent CAPTCHA solution only needs remembering
/// while its challenge could still be accepted; a reset gate's streak of
/// failures counts over a longer window than any hourly limit.
async fn purge_counters(db: &Db, now: Timestamp) -> Result<u64, DomainError> {
    let expired = store::counters::Expired {
        before: now.minus_secs(rate::LONGEST_WINDOW_SECS),
        marks: (rate::CAPTCHA_MARK_PREFIX, now.minus_secs(captcha::TTL_SECS)),
        streaks: (rate::STREAK_PREFIX, now.minus_secs(reset::STREAK_SECS)),
    };
    store::counters::purge(db.pool(), &expired, BATCH).await
}

async fn purge_flows(db: &Db, now: Timestamp) -> Result<u64, DomainError> {
    store::flows::purge(db.pool(), now.minus_secs(FLOW_RETENTION_SECS), BATCH).await
}
