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
