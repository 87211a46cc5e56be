//! The transactional outbox: docs/security.md #59.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use sspr_domain::outbox::{self, Channel, Message, NewMessage, Sender, Template};
use sspr_domain::testkit::{EPOCH, TestDb};
use sspr_domain::{Timestamp, both_backends};

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
);

async fn enqueue_is_idempotent(t: &TestDb) {
    outbox::enqueue(t.db.pool(), &message("k1", None), EPOCH)
        .await
        .unwrap();
    outbox::enqueue(t.db.pool(), &message("k1", None), EPOCH)
        .await
        .unwrap();
    assert_eq!(outbox::recent(t.db.pool(), 10).await.unwrap().len(), 1);
}

async fn failures_back_off_then_deliver_exactly_once(t: &TestDb) {
    outbox::enqueue(t.db.pool(), &message("k1", None), EPOCH)
        .await
        .unwrap();
    let flaky = Flaky {
        fail: 2,
        calls: AtomicUsize::new(0),
        delivered: Mutex::new(vec![]),
    };
    assert_eq!(outbox::deliver_due(&t.db, &flaky, EPOCH).await.unwrap(), 0);
    // Backoff: not due again one second later.
    assert_eq!(
        outbox::deliver_due(&t.db, &flaky, EPOCH.plus_secs(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        outbox::deliver_due(&t.db, &flaky, EPOCH.plus_secs(20))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        outbox::deliver_due(&t.db, &flaky, EPOCH.plus_secs(100))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        outbox::deliver_due(&t.db, &flaky, EPOCH.plus_secs(1000))
            .await
            .unwrap(),
        0
    );
    assert_eq!(*flaky.delivered.lock().unwrap(), vec!["k1".to_owned()]);
    let m = &outbox::recent(t.db.pool(), 1).await.unwrap()[0];
    assert_eq!((m.state.as_str(), m.attempts), ("sent", 3));
}

async fn gives_up_after_five_attempts(t: &TestDb) {
    outbox::enqueue(t.db.pool(), &message("k1", None), EPOCH)
        .await
        .unwrap();
    let never = Flaky {
        fail: usize::MAX,
        calls: AtomicUsize::new(0),
        delivered: Mutex::new(vec![]),
    };
    for hour in 0..10 {
        outbox::deliver_due(&t.db, &never, EPOCH.plus_secs(hour * 3600))
            .await
            .unwrap();
    }
    assert_eq!(never.calls.load(Ordering::SeqCst), 5);
    assert_eq!(
        outbox::recent(t.db.pool(), 1).await.unwrap()[0].state,
        "failed"
    );
}

async fn never_delivers_after_not_after(t: &TestDb) {
    outbox::enqueue(
        t.db.pool(),
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
        outbox::deliver_due(&t.db, &ok, EPOCH.plus_secs(601))
            .await
            .unwrap(),
        0
    );
    assert_eq!(ok.calls.load(Ordering::SeqCst), 0);
    assert_eq!(
        outbox::recent(t.db.pool(), 1).await.unwrap()[0].state,
        "expired"
    );
}

async fn a_claimed_message_is_not_taken_twice(t: &TestDb) {
    outbox::enqueue(t.db.pool(), &message("k1", None), EPOCH)
        .await
        .unwrap();
    let first = outbox::claim_due(&t.db, EPOCH, 10).await.unwrap();
    let second = outbox::claim_due(&t.db, EPOCH, 10).await.unwrap();
    assert_eq!((first.len(), second.len()), (1, 0));
    // A worker that died: its lease runs out and another takes over.
    assert_eq!(
        outbox::claim_due(&t.db, EPOCH.plus_secs(61), 10)
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
        &code_message("failing", Channel::Email, None),
        EPOCH,
    )
    .await
    .unwrap();
    for hour in 0..10 {
        outbox::deliver_due(&t.db, &never, EPOCH.plus_secs(hour * 3600))
            .await
            .unwrap();
    }
    let failed = outbox::recent(t.db.pool(), 1).await.unwrap().remove(0);
    assert_eq!((failed.state.as_str(), code_of(&failed)), ("failed", ""));

    let later = EPOCH.plus_secs(20 * 3600);
    let expires = later.plus_secs(600);
    outbox::enqueue(
        t.db.pool(),
        &code_message("shown", Channel::Email, Some(expires)),
        later,
    )
    .await
    .unwrap();
    outbox::deliver_due(&t.db, &outbox::DevOutbox, later)
        .await
        .unwrap();
    let shown = outbox::recent(t.db.pool(), 1).await.unwrap().remove(0);
    assert_eq!(
        (shown.state.as_str(), code_of(&shown)),
        ("sent", "12345678"),
        "readable while it works"
    );
    outbox::enqueue(
        t.db.pool(),
        &code_message("late", Channel::Sms, Some(expires)),
        later,
    )
    .await
    .unwrap();
    outbox::deliver_due(&t.db, &never, expires.plus_secs(1))
        .await
        .unwrap();
    for m in outbox::recent(t.db.pool(), 2).await.unwrap() {
        assert_eq!(code_of(&m), "", "{} ({})", m.idempotency_key, m.state);
    }
    let late = outbox::recent(t.db.pool(), 1).await.unwrap().remove(0);
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
        &code_message("email", Channel::Email, None),
        EPOCH,
    )
    .await
    .unwrap();
    outbox::enqueue(
        t.db.pool(),
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
        outbox::deliver_due(&t.db, &sender, EPOCH),
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
    outbox::enqueue(t.db.pool(), &message("k1", None), EPOCH)
        .await
        .unwrap();
    let first = outbox::claim_due(&t.db, EPOCH, 10).await.unwrap().remove(0);
    let later = EPOCH.plus_secs(outbox::LEASE_SECS + 1);
    let second = outbox::claim_due(&t.db, later, 10).await.unwrap().remove(0);
    outbox::mark_sent(&t.db, &first, later).await.unwrap();
    assert_eq!(
        outbox::recent(t.db.pool(), 1).await.unwrap()[0].state,
        "sending",
        "the first worker's late answer changes nothing"
    );
    outbox::mark_sent(&t.db, &second, later).await.unwrap();
    assert_eq!(
        outbox::recent(t.db.pool(), 1).await.unwrap()[0].state,
        "sent"
    );
}
