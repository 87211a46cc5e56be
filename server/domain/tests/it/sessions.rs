//! Sessions: docs/security.md #42 (hashed ids, fixation) and #43 (timeouts).

use sspr_domain::auth::{SignInRequest, current_user, sign_in, sign_out};
use sspr_domain::secrets::token_hash;
use sspr_domain::testkit::{PASSWORD, SignedInExt, TestDb, req, with_user};
use sspr_domain::{Clock, both_backends, sessions};

both_backends!(
    only_a_hash_of_the_session_id_is_stored,
    signing_in_again_kills_the_previous_id,
    idle_and_absolute_timeouts_end_sessions,
    sign_out_ends_the_session,
    expired_sessions_are_purged,
);

async fn only_a_hash_of_the_session_id_is_stored(t: &TestDb) {
    let (s, _clock, _) = with_user(t, "dana").await;
    let ok = sign_in(&s, req("dana", PASSWORD), s.now())
        .await
        .unwrap()
        .signed_in();
    assert!(ok.session_token.len() >= 43, "256-bit token");
    let stored: Vec<String> = sqlx::query_scalar("SELECT id_hash FROM sessions")
        .fetch_all(t.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, vec![token_hash(&ok.session_token)]);
    assert!(!stored[0].contains(&ok.session_token));
}

async fn signing_in_again_kills_the_previous_id(t: &TestDb) {
    let (s, _clock, id) = with_user(t, "dana").await;
    let first = sign_in(&s, req("dana", PASSWORD), s.now())
        .await
        .unwrap()
        .signed_in()
        .session_token;
    let second = sign_in(
        &s,
        SignInRequest {
            previous_session: Some(&first),
            ..req("dana", PASSWORD)
        },
        s.now(),
    )
    .await
    .unwrap()
    .signed_in()
    .session_token;
    assert_ne!(first, second);
    assert!(current_user(&s, &first, s.now()).await.unwrap().is_none());
    assert_eq!(
        current_user(&s, &second, s.now())
            .await
            .unwrap()
            .map(|u| u.id),
        Some(id)
    );
}

async fn idle_and_absolute_timeouts_end_sessions(t: &TestDb) {
    let (s, clock, _) = with_user(t, "dana").await;
    let token = sign_in(&s, req("dana", PASSWORD), s.now())
        .await
        .unwrap()
        .signed_in()
        .session_token;
    // Active every 29 minutes: alive until the 12-hour absolute limit.
    for _ in 0..24 {
        clock.advance(29 * 60);
        assert!(
            current_user(&s, &token, s.now()).await.unwrap().is_some(),
            "at {:?}",
            clock.now()
        );
    }
    clock.advance(29 * 60);
    assert!(
        current_user(&s, &token, s.now()).await.unwrap().is_none(),
        "past 12 h"
    );
    let idle = sign_in(&s, req("dana", PASSWORD), s.now())
        .await
        .unwrap()
        .signed_in()
        .session_token;
    clock.advance(30 * 60);
    assert!(
        current_user(&s, &idle, s.now()).await.unwrap().is_none(),
        "30 min idle"
    );
}

async fn sign_out_ends_the_session(t: &TestDb) {
    let (s, _clock, _) = with_user(t, "dana").await;
    let token = sign_in(&s, req("dana", PASSWORD), s.now())
        .await
        .unwrap()
        .signed_in()
        .session_token;
    sign_out(&s, &token, None, s.now()).await.unwrap();
    assert!(current_user(&s, &token, s.now()).await.unwrap().is_none());
    let events: Vec<String> = sqlx::query_scalar("SELECT event FROM audit_events ORDER BY id")
        .fetch_all(t.db.pool())
        .await
        .unwrap();
    assert_eq!(events, vec!["sign_in".to_owned(), "sign_out".to_owned()]);
}

async fn expired_sessions_are_purged(t: &TestDb) {
    let (s, clock, _) = with_user(t, "dana").await;
    sign_in(&s, req("dana", PASSWORD), s.now()).await.unwrap();
    assert_eq!(
        sessions::purge_expired(&t.db, &s.config.sessions, s.now(), 1000)
            .await
            .unwrap(),
        0
    );
    clock.advance(31 * 60);
    assert_eq!(
        sessions::purge_expired(&t.db, &s.config.sessions, s.now(), 1000)
            .await
            .unwrap(),
        1
    );
}
