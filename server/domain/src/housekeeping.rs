//! Periodic clean-up of rows that no longer decide anything: expired
//! sessions, counters whose window has passed, spent CAPTCHA solutions and
//! flows long expired. Each delete is bounded, so a large backlog is worked
//! off over several rounds instead of in one long lock.

use crate::sessions::SessionConfig;
use crate::{Db, DomainError, Timestamp, captcha, rate, reset, sessions, store};

/// Flows are kept this long after they expire (for support questions of
/// the "what happened to my reset?" kind), then deleted.
pub const FLOW_RETENTION_SECS: i64 = 24 * 3600;
/// Rows deleted per table and round.
const BATCH: i64 = 1000;

/// What one round deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub counters: u64,
    pub flows: u64,
}

pub async fn purge(db: &Db, cfg: &SessionConfig, now: Timestamp) -> Result<Purged, DomainError> {
    Ok(Purged {
        sessions: sessions::purge_expired(db, cfg, now).await?,
        counters: purge_counters(db, now).await?,
        flows: purge_flows(db, now).await?,
    })
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
