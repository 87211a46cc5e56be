//! The reset wizard's phone gate (docs/security.md #12, #39): the user
//! types their full registered number, by text or call; any other number
//! gets the same answer and nothing is sent.

use sspr_domain::methods::{self, Kind, NewMethod, PhoneChannel};
use sspr_domain::outbox::Channel;
use sspr_domain::reset::{self, ResetError};
use sspr_domain::testkit::{TestDb, last_code};
use sspr_domain::users::Role;
use sspr_domain::{both_backends, users};

use super::{World, start, world};

both_backends!(
    the_phone_gate_sends_to_the_registered_number_by_text_or_call,
    another_number_gets_the_same_answer_and_nothing,
);

const MOBILE: &str = "+972502345678";

async fn with_phone(t: &TestDb, w: &World) {
    let user = users::find_by_login(
        t.db.pool(),
        &sspr_domain::identity::Login::parse("dana").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    methods::upsert(
        t.db.pool(),
        user.id,
        &NewMethod {
            kind: Kind::Phone,
            destination: MOBILE,
            phone_channel: Some(PhoneChannel::Sms),
            secret: None,
            last_step: 0,
            answers: None,
        },
        w.s.now(),
    )
    .await
    .unwrap();
}

async fn the_phone_gate_sends_to_the_registered_number_by_text_or_call(t: &TestDb) {
    let w = world(t, Role::User).await;
    with_phone(t, &w).await;
    for (channel, expected) in [
        (PhoneChannel::Sms, Channel::Sms),
        (PhoneChannel::Voice, Channel::Voice),
    ] {
        let flow = start(&w, "dana").await;
        // Typed nationally, as people do; matched to the stored E.164.
        reset::send_phone_code(&w.s, &flow, "IL", "050-234-5678", channel, w.s.now())
            .await
            .unwrap();
        let (code, sent_by) = last_code(&w.s, MOBILE).await;
        assert_eq!(sent_by, expected);
        assert_eq!(code.len(), 6, "phone codes are six digits by default");
        assert!(reset::verify(&w.s, &flow, &code, w.s.now()).await.unwrap());
    }
}

async fn another_number_gets_the_same_answer_and_nothing(t: &TestDb) {
    let w = world(t, Role::User).await;
    with_phone(t, &w).await;
    let flow = start(&w, "dana").await;
    reset::send_phone_code(
        &w.s,
        &flow,
        "IL",
        "+972 50 234 5679",
        PhoneChannel::Sms,
        w.s.now(),
    )
    .await
    .unwrap();
    let queued: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE channel <> 'email' AND recipient <> ''",
    )
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    assert_eq!(queued, 0, "nothing to a number the account does not have");
    assert!(matches!(
        reset::verify(&w.s, &flow, "123456", w.s.now()).await,
        Err(ResetError::WrongCode { .. })
    ));
    // A number that cannot take a text is refused before anything, for every ID.
    let unknown = start(&w, "nobody").await;
    for f in [&flow, &unknown] {
        assert!(matches!(
            reset::send_phone_code(&w.s, f, "IL", "02-623-4567", PhoneChannel::Sms, w.s.now())
                .await,
            Err(ResetError::InvalidPhone(_))
        ));
    }
}
