//! The transactional outbox: docs/security.md #59.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sspr_domain::outbox::{self, Channel, Lease, Message, NewMessage, Sender, Template};
use sspr_domain::secrets::ServerKey;
use sspr_domain::testkit::{EPOCH, TestDb, key};
use sspr_domain::{Clock, ManualClock, SystemClock, Timestamp, both_backends};

fn message(key: &str, not_after: Option<Timestamp>) -> NewMessage {
    NewMessage {
        channel: Channel::Email,
        recipient: "dana@contoso.example".into(),
        locale: "en".into(),
        template: Template::AccountLocked {
            display_name: "Dana".into(),
            minutes: 1,
        },
        idempotency_key: key.into(),
        not_after,
    }
}

/// Fails the first `fail` deliveries, then succeeds.
struct Flaky {
    fail: usize,
    calls: AtomicUsize,
    delivered: Mutex<Vec<String>>,
}

impl Sender for Flaky {
    async fn send(&self, m: &Message) -> Result<(), String> {
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.fail {
            return Err("provider unavailable".into());
        }
        self.delivered
            .lock()
            .unwrap()
            .push(m.idempotency_key.clone());
        Ok(())
    }
}

both_backends!(
    enqueue_is_idempotent,
    failures_back_off_then_deliver_exactly_once,
    gives_up_after_five_attempts,
    never_delivers_after_not_after,
    a_claimed_message_is_not_taken_twice,
    a_code_does_not_rest_in_the_outbox_once_it_is_dead,
    a_slow_email_provider_does_not_hold_back_texts,
    a_lost_lease_is_not_recorded_as_sent,
    codes_rest_sealed_and_bound_to_their_row,
    a_row_that_does_not_open_fails_without_stopping_the_others,
    two_workers_and_a_provider_slower_than_the_lease_send_each_message_once,
    a_stand_in_row_is_never_sent_never_listed_and_purged,
);

async fn enqueue_is_idempotent(t: &TestDb) {
    outbox::enqueue(t.db.pool(), key(), &message("k1", None), EPOCH)
        .await
        .unwrap();
    outbox::enqueue(t.db.pool(), key(), &message("k1", None), EPOCH)
        .await
        .unwrap();
    assert_eq!(
        outbox::recent(t.db.pool(), key(), 10).await.unwrap().len(),
        1
    );
}

async fn failures_back_off_then_deliver_exactly_once(t: &TestDb) {
    outbox::enqueue(t.db.pool(), key(), &message("k1", None), EPOCH)
        .await
        .unwrap();
    let flaky = Flaky {
        fail: 2,
        calls: AtomicUsize::new(0),
        delivered: Mutex::new(vec![]),
    };
    assert_eq!(
        outbox::deliver_due(&t.db, key(), &flaky, &ManualClock::new(EPOCH))
            .await
            .unwrap(),
        0
    );
    // Backoff: not due again one second later.
    assert_eq!(
        outbox::deliver_due(&t.db, key(), &flaky, &ManualClock::new(EPOCH.plus_secs(1)))
            .await
            .unwrap(),
        0
    );
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        outbox::deliver_due(&t.db, key(), &flaky, &ManualClock::new(EPOCH.plus_secs(20)))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        outbox::deliver_due(
            &t.db,
            key(),
            &flaky,
            &ManualClock::new(EPOCH.plus_secs(100))
        )
        .await
        .unwrap(),
        1
    );
    assert_eq!(
        outbox::deliver_due(
            &t.db,
            key(),
            &flaky,
            &ManualClock::new(EPOCH.plus_secs(1000))
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(*flaky.delivered.lock().unwrap(), vec!["k1".to_owned()]);
    let m = &outbox::recent(t.db.pool(), key(), 1).await.unwrap()[0];
    assert_eq!((m.state.as_str(), m.attempts), ("sent", 3));
}

async fn gives_up_after_five_attempts(t: &TestDb) {
    outbox::enqueue(t.db.pool(), key(), &message("k1", None), EPOCH)
        .await
        .unwrap();
    let never = Flaky {
        fail: usize::MAX,
        calls: AtomicUsize::new(0),
        delivered: Mutex::new(vec![]),
    };
    for hour in 0..10 {
        outbox::deliver_due(
            &t.db,
            key(),
            &never,
            &ManualClock::new(EPOCH.plus_secs(hour * 3600)),
        )
        .await
        .unwrap();
    }
    assert_eq!(never.calls.load(Ordering::SeqCst), 5);
    assert_eq!(
        outbox::recent(t.db.pool(), key(), 1).await.unwrap()[0].state,
        "failed"
    );
}

async fn never_delivers_after_not_after(t: &TestDb) {
    outbox::enqueue(
        t.db.pool(),
        key(),
        &message("code", Some(EPOCH.plus_secs(600))),
        EPOCH,
    )
    .await
    .unwrap();
    let ok = Flaky {
        fail: 0,
        calls: AtomicUsize::new(0),
        delivered: Mutex::new(vec![]),
    };
    assert_eq!(
        outbox::deliver_due(&t.db, key(), &ok, &ManualClock::new(EPOCH.plus_secs(601)))
            .await
            .unwrap(),
        0
    );
    assert_eq!(ok.calls.load(Ordering::SeqCst), 0);
    assert_eq!(
        outbox::recent(t.db.pool(), key(), 1).await.unwrap()[0].state,
        "expired"
    );
}

async fn a_claimed_message_is_not_taken_twice(t: &TestDb) {
    outbox::enqueue(t.db.pool(), key(), &message("k1", None), EPOCH)
        .await
        .unwrap();
    let first = outbox::claim_due(&t.db, key(), EPOCH, 10).await.unwrap();
    let second = outbox::claim_due(&t.db, key(), EPOCH, 10).await.unwrap();
    assert_eq!((first.len(), second.len()), (1, 0));
    // A worker that died: its lease runs out and another takes over.
    assert_eq!(
        outbox::claim_due(&t.db, key(), EPOCH.plus_secs(61), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// A code message to dana (the template whose parameter is a secret).
fn code_message(key: &str, channel: Channel, not_after: Option<Timestamp>) -> NewMessage {
    NewMessage {
        channel,
        template: Template::ResetCode {
            code: "12345678".into(),
            minutes: 10,
        },
        ..message(key, not_after)
    }
}

fn code_of(m: &Message) -> &str {
    m.template.code().unwrap_or_default()
}

/// docs/security.md #81: a code is blanked once it can no longer be used
/// or sent — given up, or expired (sent by the dev outbox or not).
async fn a_code_does_not_rest_in_the_outbox_once_it_is_dead(t: &TestDb) {
    let never = Flaky {
        fail: usize::MAX,
        calls: AtomicUsize::new(0),
        delivered: Mutex::new(vec![]),
    };
    outbox::enqueue(
        t.db.pool(),
        key(),
        &code_message("failing", Channel::Email, None),
        EPOCH,
    )
    .await
    .unwrap();
    for hour in 0..10 {
        outbox::deliver_due(
            &t.db,
            key(),
            &never,
            &ManualClock::new(EPOCH.plus_secs(hour * 3600)),
        )
        .await
        .unwrap();
    }
    let failed = outbox::recent(t.db.pool(), key(), 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!((failed.state.as_str(), code_of(&failed)), ("failed", ""));

    let later = EPOCH.plus_secs(20 * 3600);
    let expires = later.plus_secs(600);
    outbox::enqueue(
        t.db.pool(),
        key(),
        &code_message("shown", Channel::Email, Some(expires)),
        later,
    )
    .await
    .unwrap();
    outbox::deliver_due(&t.db, key(), &outbox::DevOutbox, &ManualClock::new(later))
        .await
        .unwrap();
    let shown = outbox::recent(t.db.pool(), key(), 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (shown.state.as_str(), code_of(&shown)),
        ("sent", "12345678"),
        "readable while it works"
    );
    outbox::enqueue(
        t.db.pool(),
        key(),
        &code_message("late", Channel::Sms, Some(expires)),
        later,
    )
    .await
    .unwrap();
    outbox::deliver_due(
        &t.db,
        key(),
        &never,
        &ManualClock::new(expires.plus_secs(1)),
    )
    .await
    .unwrap();
    for m in outbox::recent(t.db.pool(), key(), 2).await.unwrap() {
        assert_eq!(code_of(&m), "", "{} ({})", m.idempotency_key, m.state);
    }
    let late = outbox::recent(t.db.pool(), key(), 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(late.state, "expired");
}

/// An email provider that waits until a text was sent: delivered one
/// after the other, the text would wait behind the email forever.
struct EmailWaitsForText {
    text_sent: tokio::sync::Notify,
    order: Mutex<Vec<Channel>>,
}

impl Sender for EmailWaitsForText {
    async fn send(&self, m: &Message) -> Result<(), String> {
        if m.channel == Channel::Email {
            self.text_sent.notified().await;
        } else {
            self.text_sent.notify_one();
        }
        self.order.lock().unwrap().push(m.channel);
        Ok(())
    }
}

/// docs/security.md #81: one slow channel does not hold back the others.
async fn a_slow_email_provider_does_not_hold_back_texts(t: &TestDb) {
    outbox::enqueue(
        t.db.pool(),
        key(),
        &code_message("email", Channel::Email, None),
        EPOCH,
    )
    .await
    .unwrap();
    outbox::enqueue(
        t.db.pool(),
        key(),
        &code_message("text", Channel::Sms, None),
        EPOCH,
    )
    .await
    .unwrap();
    let sender = EmailWaitsForText {
        text_sent: tokio::sync::Notify::new(),
        order: Mutex::new(vec![]),
    };
    let sent = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        outbox::deliver_due(&t.db, key(), &sender, &ManualClock::new(EPOCH)),
    )
    .await
    .expect("the text is not stuck behind the email")
    .unwrap();
    assert_eq!(sent, 2);
    assert_eq!(
        *sender.order.lock().unwrap(),
        [Channel::Sms, Channel::Email]
    );
}

/// A worker whose lease ran out does not mark the row sent over the
/// worker that took it over.
async fn a_lost_lease_is_not_recorded_as_sent(t: &TestDb) {
    outbox::enqueue(t.db.pool(), key(), &message("k1", None), EPOCH)
        .await
        .unwrap();
    let first = outbox::claim_due(&t.db, key(), EPOCH, 10)
        .await
        .unwrap()
        .remove(0);
    let later = EPOCH.plus_secs(outbox::LEASE_SECS + 1);
    let second = outbox::claim_due(&t.db, key(), later, 10)
        .await
        .unwrap()
        .remove(0);
    outbox::mark_sent(&t.db, &first, later).await.unwrap();
    assert_eq!(
        outbox::recent(t.db.pool(), key(), 1).await.unwrap()[0].state,
        "sending",
        "the first worker's late answer changes nothing"
    );
    outbox::mark_sent(&t.db, &second, later).await.unwrap();
    assert_eq!(
        outbox::recent(t.db.pool(), key(), 1).await.unwrap()[0].state,
        "sent"
    );
}

/// docs/security.md #83: the parameters (a code) rest encrypted under a
/// key derived from the server key, bound to the row's recipient.
async fn codes_rest_sealed_and_bound_to_their_row(t: &TestDb) {
    for (id, to) in [
        ("to-dana", "dana@contoso.example"),
        ("to-eve", "eve@evil.example"),
    ] {
        let m = NewMessage {
            recipient: to.into(),
            ..code_message(id, Channel::Email, None)
        };
        outbox::enqueue(t.db.pool(), key(), &m, EPOCH)
            .await
            .unwrap();
    }
    let stored = outbox::stored_params(t.db.pool(), "to-dana")
        .await
        .unwrap()
        .unwrap();
    assert!(
        !stored.contains("12345678") && !stored.contains("minutes"),
        "{stored}"
    );
    let shown = outbox::recent(t.db.pool(), key(), 10).await.unwrap();
    assert!(shown.iter().all(|m| code_of(m) == "12345678"), "{shown:?}");
    assert!(
        outbox::recent(t.db.pool(), &ServerKey::random(), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing opens with another key"
    );
    // Someone who can write to the database moves dana's sealed code to
    // their own row: it does not open there.
    sqlx::query("UPDATE outbox SET params = $1 WHERE idempotency_key = 'to-eve'")
        .bind(&stored)
        .execute(t.db.pool())
        .await
        .unwrap();
    let shown: Vec<_> = outbox::recent(t.db.pool(), key(), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.idempotency_key)
        .collect();
    assert_eq!(shown, ["to-dana"], "eve's row does not open");
    // Rows queued in clear by an earlier version are still read.
    sqlx::query(
        "UPDATE outbox SET params = '{\"code\":\"87654321\",\"minutes\":10}' WHERE idempotency_key = 'to-eve'",
    )
    .execute(t.db.pool())
    .await
    .unwrap();
    let legacy = outbox::recent(t.db.pool(), key(), 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(code_of(&legacy), "87654321");
}

/// A row that does not open with this server key (restored from another
/// installation, or altered) is given up at once; the rows after it go out.
async fn a_row_that_does_not_open_fails_without_stopping_the_others(t: &TestDb) {
    let other = ServerKey::random();
    outbox::enqueue(t.db.pool(), &other, &message("foreign", None), EPOCH)
        .await
        .unwrap();
    // Past its expiry too: retiring it does not need to open it.
    let dead = EPOCH.minus_secs(1);
    outbox::enqueue(
        t.db.pool(),
        &other,
        &code_message("foreign-dead", Channel::Sms, Some(dead)),
        EPOCH,
    )
    .await
    .unwrap();
    outbox::enqueue(t.db.pool(), key(), &message("ours", None), EPOCH)
        .await
        .unwrap();
    let ok = Flaky {
        fail: 0,
        calls: AtomicUsize::new(0),
        delivered: Mutex::new(vec![]),
    };
    let sent = outbox::deliver_due(&t.db, key(), &ok, &ManualClock::new(EPOCH))
        .await
        .unwrap();
    assert_eq!(sent, 1);
    assert_eq!(*ok.delivered.lock().unwrap(), ["ours"]);
    assert_eq!(
        outbox::delivery_state(t.db.pool(), "foreign")
            .await
            .unwrap(),
        Some(("failed".to_owned(), 1))
    );
    assert_eq!(
        outbox::delivery_state(t.db.pool(), "foreign-dead")
            .await
            .unwrap(),
        Some(("failed".to_owned(), 0))
    );
}

/// Takes `slow` far longer than the lease for the message `slow_key`,
/// `each` for the others, and counts the calls per message.
struct Slow {
    slow_key: &'static str,
    slow: Duration,
    each: Duration,
    calls: Mutex<HashMap<String, usize>>,
}

impl Sender for Slow {
    async fn send(&self, m: &Message) -> Result<(), String> {
        *self
            .calls
            .lock()
            .unwrap()
            .entry(m.idempotency_key.clone())
            .or_default() += 1;
        let pause = if m.idempotency_key == self.slow_key {
            self.slow
        } else {
            self.each
        };
        tokio::time::sleep(pause).await;
        Ok(())
    }
}

/// docs/security.md #83: two workers share the outbox while the provider
/// sleeps past the lease on one message, and a batch takes longer than
/// the lease the claim took. No message is handed to the provider twice;
/// the slow call is cut off (a failed attempt, retried later), and the
/// text message is not held back.
///
/// Real time, with a 3-second lease: the call limit (1 s) is what keeps
/// a call inside its lease, and a manual clock cannot make a call slow.
async fn two_workers_and_a_provider_slower_than_the_lease_send_each_message_once(t: &TestDb) {
    let start = SystemClock.now();
    outbox::enqueue(t.db.pool(), key(), &message("slow", None), start)
        .await
        .unwrap();
    for i in 0..6 {
        outbox::enqueue(
            t.db.pool(),
            key(),
            &message(&format!("mail-{i}"), None),
            start,
        )
        .await
        .unwrap();
    }
    outbox::enqueue(
        t.db.pool(),
        key(),
        &code_message("text", Channel::Sms, None),
        start,
    )
    .await
    .unwrap();
    let sender = Arc::new(Slow {
        slow_key: "slow",
        slow: Duration::from_secs(8),
        each: Duration::from_millis(700),
        calls: Mutex::new(HashMap::new()),
    });
    let lease = Lease {
        secs: 3,
        send_timeout: Duration::from_secs(1),
    };
    let worker = |pause: Duration| {
        let (db, sender) = (t.db.clone(), sender.clone());
        async move {
            tokio::time::sleep(pause).await;
            let mut sent = 0;
            // Passes for about ten seconds: long enough for every lease
            // the first pass took to run out while it still works.
            for _ in 0..40 {
                sent += outbox::deliver_due_with(&db, key(), sender.as_ref(), &SystemClock, lease)
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            sent
        }
    };
    let (a, b) = tokio::join!(worker(Duration::ZERO), worker(Duration::from_millis(100)));
    let calls = sender.calls.lock().unwrap().clone();
    assert!(calls.values().all(|&n| n == 1), "{calls:?}");
    assert_eq!(calls.len(), 8, "every message was handed over: {calls:?}");
    assert_eq!(a + b, 7, "all but the slow one count as sent");
    assert_eq!(
        outbox::delivery_state(t.db.pool(), "slow").await.unwrap(),
        Some(("pending".to_owned(), 1)),
        "cut off and left for a later retry"
    );
    // Sent; a row the second worker took over counts two claims (one
    // call, checked above).
    for k in ["text", "mail-0", "mail-5"] {
        let state = outbox::delivery_state(t.db.pool(), k).await.unwrap();
        assert_eq!(state.map(|(s, _)| s).as_deref(), Some("sent"), "{k}");
    }
}

/// docs/security.md #11: the row a code to nobody writes costs what a real
/// one costs, and is nobody's message.
async fn a_stand_in_row_is_never_sent_never_listed_and_purged(t: &TestDb) {
    let m = code_message("stand-in", Channel::Email, Some(EPOCH.plus_secs(600)));
    outbox::enqueue_stand_in(t.db.pool(), key(), &m, EPOCH)
        .await
        .unwrap();
    let (recipient, state): (String, String) =
        sqlx::query_as("SELECT recipient, state FROM outbox WHERE idempotency_key = 'stand-in'")
            .fetch_one(t.db.pool())
            .await
            .unwrap();
    assert_eq!((recipient.as_str(), state.as_str()), ("", "expired"));
    let stored = sspr_domain::store::outbox::stored_params(t.db.pool(), "stand-in")
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.contains("12345678"), "sealed like a real one");
    let sent = outbox::deliver_due(&t.db, key(), &outbox::DevOutbox, &ManualClock::new(EPOCH))
        .await
        .unwrap();
    assert_eq!(sent, 0, "never delivered");
    assert!(
        outbox::recent(t.db.pool(), key(), 10)
            .await
            .unwrap()
            .is_empty(),
        "never listed"
    );
    let later = EPOCH.plus_secs(31 * 86_400);
    sspr_domain::housekeeping::purge(&t.db, &sspr_domain::config::Config::default(), later)
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(left, 0, "purged with the finished rows");
}
