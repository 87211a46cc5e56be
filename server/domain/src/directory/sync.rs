//! `sspr directory sync` and the periodic job: every user entry is read
//! (paged) and mirrored, and the rows of entries no longer there are
//! disabled. Memory stays at one page whatever the directory's size.

use serde::Serialize;

use super::accounts::{self, Mirroring};
use super::{Directory, DirectoryError};
use crate::store::job_leases;
use crate::store::users as store;
use crate::{DomainError, Services, Timestamp};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// User entries read from the directory.
    pub seen: u64,
    /// Rows created or changed.
    pub written: u64,
    pub unchanged: u64,
    /// Entries without a stable id or a usable login.
    pub skipped: u64,
    /// Mirrored rows disabled because their entry is gone.
    pub gone: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("[directory] kind is \"none\": nothing to sync")]
    NoDirectory,
    /// The scan saw no entry at all while accounts are mirrored: most
    /// likely a wrong base_dn or filter. Nobody is disabled for it.
    #[error(
        "the directory listed no user under base_dn; {0} mirrored accounts were left as they are"
    )]
    EmptyScan(i64),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

pub async fn run(s: &Services, now: Timestamp) -> Result<SyncReport, SyncError> {
    let dir: &Directory = s.directory.as_deref().ok_or(SyncError::NoDirectory)?;
    let mut report = SyncReport::default();
    let mut scan = dir.scan().await?;
    while let Some(entry) = scan.next().await? {
        report.seen += 1;
        match accounts::mirror_reporting(&s.db, &entry, now).await? {
            Some((user, Mirroring::Unchanged)) => {
                store::touch_seen(s.db.pool(), user.id, now).await?;
                report.unchanged += 1;
            }
            Some((_, Mirroring::Written)) => report.written += 1,
            None => report.skipped += 1,
        }
    }
    report.skipped += scan.skipped;
    // Only a complete listing may say an entry is gone.
    scan.finish().await?;
    if report.seen == 0 {
        let mirrored = store::count_mirrored(s.db.pool()).await?;
        if mirrored > 0 {
            return Err(SyncError::EmptyScan(mirrored));
        }
    }
    report.gone = store::mark_gone(s.db.pool(), now).await?;
    Ok(report)
}

/// The job name in `job_leases`.
const SYNC_JOB: &str = "directory_sync";

/// The periodic sync of a server instance (`holder`, an id of its own):
/// runs when no other instance sharing the database has synced in the
/// last `every_secs`, and answers `None` when one has. A sync that fails
/// keeps the lease: the next try waits a whole interval, as it would after
/// a success.
pub async fn run_if_due(
    s: &Services,
    holder: &str,
    every_secs: u64,
    now: Timestamp,
) -> Result<Option<SyncReport>, SyncError> {
    let every = i64::try_from(every_secs).unwrap_or(i64::MAX);
    let until = now.plus_secs(every);
    if !job_leases::claim(s.db.pool(), SYNC_JOB, holder, now, until).await? {
        return Ok(None);
    }
    run(s, now).await.map(Some)
}
