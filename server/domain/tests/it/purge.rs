//! Housekeeping works off any backlog in bounded batches, on both
//! backends (docs/security.md #80).

use sspr_domain::config::Config;
use sspr_domain::testkit::{TestDb, services};
use sspr_domain::{both_backends, housekeeping};

both_backends!(a_million_old_audit_rows_are_purged_in_bounded_batches,);

const DAY: i64 = 24 * 3600;

async fn count(t: &TestDb, table: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(t.db.pool())
        .await
        .unwrap()
}

/// `n` rows made by `insert` (which takes `$1` = the row's number and
/// `$2` = a timestamp), in one statement on either backend.
async fn generate(t: &TestDb, n: i64, at: i64, insert: &str) {
    let sql = format!(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) {insert}"
    );
    sqlx::query(&sql)
        .bind(at)
        .execute(t.db.pool())
        .await
        .unwrap();
}

async fn a_million_old_audit_rows_are_purged_in_bounded_batches(t: &TestDb) {
    let config = Config::default();
    let (s, _clock) = services(t.db.clone(), config.clone());
    let now = s.now();
    let old = now
        .minus_secs((config.retention.audit_days + 1) * DAY)
        .secs();
    generate(
        t,
        1_000_000,
        old,
        "INSERT INTO audit_events (at, event, outcome) SELECT $1, 'sign_in', 'failure' FROM c",
    )
    .await;
    generate(
        t,
        1_000,
        now.secs(),
        "INSERT INTO audit_events (at, event, outcome) SELECT $1, 'sign_in', 'success' FROM c",
    )
    .await;
    let outbox_old = now
        .minus_secs((config.retention.outbox_days + 1) * DAY)
        .secs();
    generate(
        t,
        10_000,
        outbox_old,
        "INSERT INTO outbox (idempotency_key, created_at, channel, recipient, locale, template, \
         params, state, next_attempt_at) SELECT 'k' || x, $1, 'email', 'a@b.test', 'en', \
         'password_changed', '{}', 'sent', $1 FROM c",
    )
    .await;
    generate(
        t,
        100,
        outbox_old,
        "INSERT INTO outbox (idempotency_key, created_at, channel, recipient, locale, template, \
         params, state, next_attempt_at) SELECT 'p' || x, $1, 'email', 'a@b.test', 'en', \
         'password_changed', '{}', 'pending', $1 FROM c",
    )
    .await;
    generate(
        t,
        10_000,
        old,
        "INSERT INTO throttle (throttle_key, failures, last_failure_at) SELECT 'signin:u' || x, 3, $1 FROM c",
    )
    .await;

    let purged = housekeeping::purge(&t.db, &config, now).await.unwrap();
    assert_eq!(purged.audit, 1_000_000, "{purged:?}");
    assert_eq!(purged.outbox, 10_000, "{purged:?}");
    assert_eq!(purged.sign_in_failures, 10_000, "{purged:?}");
    // Never one statement over everything: at least one per 5 000 rows.
    assert!(purged.batches >= 1_020_000 / 5_000, "{purged:?}");
    assert_eq!(
        count(t, "audit_events").await,
        1_000,
        "the recent rows stay"
    );
    assert_eq!(
        count(t, "outbox").await,
        100,
        "pending rows are never purged"
    );
    assert_eq!(count(t, "throttle").await, 0);
    // Done: a second round finds nothing.
    let again = housekeeping::purge(&t.db, &config, now).await.unwrap();
    assert_eq!(
        (again.audit, again.outbox, again.sign_in_failures),
        (0, 0, 0)
    );
}
