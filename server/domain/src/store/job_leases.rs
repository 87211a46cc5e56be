//! `job_leases`: one instance at a time for periodic jobs several
//! instances share a database for (the directory sync).

use super::Exec;
use crate::{DomainError, Timestamp};

/// Takes `job` for `holder` until `until` when nobody holds it at `now`
/// (or `holder` already does). True when this call took it. One atomic
/// statement: of instances racing at the same moment, one wins.
pub async fn claim<'e>(
    exec: impl Exec<'e>,
    job: &str,
    holder: &str,
    now: Timestamp,
    until: Timestamp,
) -> Result<bool, DomainError> {
    let r = sqlx::query(
        "INSERT INTO job_leases (job, holder, held_until) VALUES ($1, $2, $3) \
         ON CONFLICT (job) DO UPDATE SET holder = $2, held_until = $3 \
         WHERE job_leases.held_until <= $4 OR job_leases.holder = $2",
    )
    .bind(job)
    .bind(holder)
    .bind(until.secs())
    .bind(now.secs())
    .execute(exec)
    .await?;
    Ok(r.rows_affected() == 1)
}
