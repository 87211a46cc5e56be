//! Reset codes and reset flows run out (docs/security.md #23, #16).

use sspr_domain::policy;
use sspr_domain::reset::{self, FLOW_TTL_SECS, ResetError};
use sspr_domain::testkit::TestDb;
use sspr_domain::users::Role;
use sspr_domain::{authenticator, both_backends};

use super::{HOME, codes_sent, start, world};

/// An English page from a browser that names no country.
const ENGLISH: sspr_domain::phone::Place<'static> = sspr_domain::phone::Place {
    locale: "en",
    browser_region: None,
};

both_backends!(
    an_expired_reset_code_is_refused_and_costs_no_try,
    a_reset_flow_ends_after_fifteen_minutes,
);

async fn an_expired_reset_code_is_refused_and_costs_no_try(t: &TestDb) {
    let w = world(t, Role::User).await;
    let ttl = policy::load(&w.s.db).await.unwrap().code_ttl_secs;
    let flow = start(&w, "dana").await;
    reset::send_email_code(&w.s, &flow, HOME, w.s.now())
        .await
        .unwrap();
    let old = codes_sent(&w.s).await[0].1.clone();
    w.clock.advance(ttl - 1);
    let early = reset::load(&w.s, &flow, w.s.now()).await.unwrap();
    assert!(
        early.state.pending.is_some(),
        "still waiting a second before"
    );
    w.clock.advance(1);
    assert!(matches!(
        reset::verify(&w.s, &flow, &old, w.s.now()).await,
        Err(ResetError::CodeExpired)
    ));
    let fails: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM rate_counters WHERE counter_key LIKE 'reset-fail-%' AND hits > 0",
    )
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    assert_eq!(fails, 0, "an expired code is no guess");
    // A new code works; the old one never again.
    reset::resend(&w.s, &flow, w.s.now()).await.unwrap();
    let new = codes_sent(&w.s).await[0].1.clone();
    if new != old {
        assert!(reset::verify(&w.s, &flow, &old, w.s.now()).await.is_err());
    }
    assert!(reset::verify(&w.s, &flow, &new, w.s.now()).await.unwrap());
}

async fn a_reset_flow_ends_after_fifteen_minutes(t: &TestDb) {
    let w = world(t, Role::User).await;
    let flow = start(&w, "dana").await;
    reset::choose_authenticator(&w.s, &flow, w.s.now())
        .await
        .unwrap();
    w.clock.advance(FLOW_TTL_SECS);
    let code = authenticator::code_at(&w.secret, w.s.now()).unwrap();
    assert!(matches!(
        reset::verify(&w.s, &flow, &code, w.s.now()).await,
        Err(ResetError::FlowExpired)
    ));
    assert!(matches!(
        reset::view(&w.s, &flow, ENGLISH, w.s.now()).await,
        Err(ResetError::FlowExpired)
    ));
    assert!(matches!(
        reset::send_email_code(&w.s, &flow, HOME, w.s.now()).await,
        Err(ResetError::FlowExpired)
    ));
    // A new start works as ever.
    let again = start(&w, "dana").await;
    reset::choose_authenticator(&w.s, &again, w.s.now())
        .await
        .unwrap();
    assert!(reset::verify(&w.s, &again, &code, w.s.now()).await.unwrap());
}
