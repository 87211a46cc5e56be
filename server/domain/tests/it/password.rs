//! Changing a password: docs/security.md #2–#5 (policy) and #9 (change).

use sspr_domain::auth::{current_user, sign_in};
use sspr_domain::outbox::{self, Template};
use sspr_domain::password_change::{self, ChangeError, ChangeRequest};
use sspr_domain::password_policy::{self, Reason};
use sspr_domain::testkit::ip;
use sspr_domain::testkit::{NEW_PASSWORD, PASSWORD, SignedInExt, TestDb, req, with_user};
use sspr_domain::{both_backends, policy, users};

fn change<'a>(token: &'a str, current: &'a str, new: &'a str) -> ChangeRequest<'a> {
    ChangeRequest {
        session_token: token,
        current,
        new,
        confirm: new,
        sign_out_others: true,
        ip: ip("127.0.0.1"),
    }
}

async fn refused(s: &sspr_domain::Services, token: &str, new: &str) -> Vec<Reason> {
    match password_change::change(s, change(token, PASSWORD, new), s.now()).await {
        Err(ChangeError::Rejected(reasons, _)) => reasons,
        other => panic!("{new:?} should be refused, got {other:?}"),
    }
}

#[test]
fn the_bundled_common_list_has_at_least_100k_entries() {
    assert!(password_policy::common_list_size() >= 100_000);
}

both_backends!(
    a_change_ends_other_sessions_and_notifies,
    keeping_other_sessions_is_a_choice,
    a_wrong_current_password_counts_as_a_failed_sign_in,
    each_refusal_names_its_reason_and_hashes_nothing,
    unicode_is_normalized_and_the_minimum_drops_with_a_second_factor_at_sign_in,
    the_preview_tells_the_browser_what_only_the_server_knows,
);

async fn a_change_ends_other_sessions_and_notifies(t: &TestDb) {
    let (s, _clock, id) = with_user(t, "dana").await;
    let here = sign_in(&s, req("dana", PASSWORD), s.now())
        .await
        .unwrap()
        .signed_in()
        .session_token;
    let elsewhere = sign_in(&s, req("dana", PASSWORD), s.now())
        .await
        .unwrap()
        .signed_in()
        .session_token;
    let rotated = password_change::change(&s, change(&here, PASSWORD, NEW_PASSWORD), s.now())
        .await
        .unwrap();
    assert!(
        current_user(&s, &rotated, s.now()).await.unwrap().is_some(),
        "this session stays, under a new id (docs/security.md #69)"
    );
    assert!(
        current_user(&s, &here, s.now()).await.unwrap().is_none(),
        "the old id is dead"
    );
    assert!(
        current_user(&s, &elsewhere, s.now())
            .await
            .unwrap()
            .is_none(),
        "the others end"
    );
    assert!(
        sign_in(&s, req("dana", PASSWORD), s.now()).await.is_err(),
        "the old password is gone"
    );
    sign_in(&s, req("dana", NEW_PASSWORD), s.now())
        .await
        .unwrap();
    let notices: Vec<_> = outbox::recent(t.db.pool(), &s.key, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| matches!(m.template, Template::PasswordChanged { .. }))
        .collect();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].recipient, "dana@contoso.example");
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events \
         WHERE event = 'password_changed' AND subject_user_id = $1",
    )
    .bind(id)
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

async fn keeping_other_sessions_is_a_choice(t: &TestDb) {
    let (s, _clock, _) = with_user(t, "dana").await;
    let here = sign_in(&s, req("dana", PASSWORD), s.now())
        .await
        .unwrap()
        .signed_in()
        .session_token;
    let elsewhere = sign_in(&s, req("dana", PASSWORD), s.now())
        .await
        .unwrap()
        .signed_in()
        .session_token;
    let mut r = change(&here, PASSWORD, NEW_PASSWORD);
    r.sign_out_others = false;
    password_change::change(&s, r, s.now()).await.unwrap();
    assert!(
        current_user(&s, &elsewhere, s.now())
            .await
            .unwrap()
            .is_some()
    );
}

async fn a_wrong_current_password_counts_as_a_failed_sign_in(t: &TestDb) {
    let (s, _clock, _) = with_user(t, "dana").await;
    let token = sign_in(&s, req("dana", PASSWORD), s.now())
        .await
        .unwrap()
        .signed_in()
        .session_token;
    for i in 0..10 {
        let wrong = format!("not the password {i}");
        let r = password_change::change(&s, change(&token, &wrong, NEW_PASSWORD), s.now()).await;
        assert!(matches!(r, Err(ChangeError::InvalidCredentials)), "{r:?}");
    }
    // Ten distinct failures lock the account (sign_in_lockout threshold).
    assert!(
        sign_in(&s, req("dana", PASSWORD), s.now()).await.is_err(),
        "locked"
    );
    let r = password_change::change(&s, change(&token, PASSWORD, NEW_PASSWORD), s.now()).await;
    assert!(
        matches!(r, Err(ChangeError::InvalidCredentials)),
        "locked accounts cannot change either"
    );
}

async fn each_refusal_names_its_reason_and_hashes_nothing(t: &TestDb) {
    let (s, _clock, _) = with_user(t, "dana").await;
    let token = sign_in(&s, req("dana", PASSWORD), s.now())
        .await
        .unwrap()
        .signed_in()
        .session_token;
    let mut p = policy::load(&t.db).await.unwrap();
    p.banned_words = vec!["contoso".into()];
    policy::save(&t.db, &p, s.now()).await.unwrap();
    let before = s.hasher.hash_count();
    // No other factor registered: 15 characters (NIST 800-63B-4).
    assert_eq!(
        refused(&s, &token, "short but ok!").await,
        vec![Reason::TooShort]
    );
    assert_eq!(
        refused(&s, &token, &"x".repeat(129)).await,
        vec![Reason::TooLong]
    );
    assert_eq!(
        refused(&s, &token, "pass\u{0}word and more words").await,
        vec![Reason::ControlCharacter]
    );
    assert_eq!(
        refused(&s, &token, "password123456789").await,
        vec![Reason::Common]
    );
    assert_eq!(
        refused(&s, &token, "we all love C0nt0s0 here").await,
        vec![Reason::Banned]
    );
    assert_eq!(
        refused(&s, &token, "dana dana dana dana").await,
        vec![Reason::PersonalInfo]
    );
    assert_eq!(
        refused(&s, &token, PASSWORD).await,
        vec![Reason::SameAsCurrent]
    );
    let mut mismatch = change(&token, PASSWORD, NEW_PASSWORD);
    mismatch.confirm = "mauve tractor under the lighthouse!";
    assert!(matches!(
        password_change::change(&s, mismatch, s.now()).await,
        Err(ChangeError::Rejected(r, _)) if r == vec![Reason::Mismatch]
    ));
    // A 1 MiB password is refused before normalization or hashing.
    let huge = "a".repeat(1 << 20);
    assert!(matches!(
        password_change::change(&s, change(&token, PASSWORD, &huge), s.now()).await,
        Err(ChangeError::PasswordTooLong)
    ));
    assert_eq!(
        s.hasher.hash_count(),
        before,
        "refusals cost no argon2 work"
    );
}

async fn unicode_is_normalized_and_the_minimum_drops_with_a_second_factor_at_sign_in(t: &TestDb) {
    let (s, _clock, id) = with_user(t, "dana").await;
    let token = sign_in(&s, req("dana", PASSWORD), s.now())
        .await
        .unwrap()
        .signed_in()
        .session_token;
    let user = users::find_by_id(t.db.pool(), id).await.unwrap().unwrap();
    assert_eq!(
        password_change::rules(&s, &user).await.unwrap().min_length,
        15
    );
    sspr_domain::methods::upsert(
        t.db.pool(),
        id,
        &sspr_domain::methods::NewMethod {
            kind: sspr_domain::methods::Kind::Phone,
            destination: "+972502345678",
            phone_channel: None,
            secret: None,
            last_step: 0,
            answers: None,
        },
        s.now(),
    )
    .await
    .unwrap();
    // A method that sign-in never asks for does not make the password
    // less alone (docs/security.md #1).
    assert_eq!(
        password_change::rules(&s, &user).await.unwrap().min_length,
        15
    );
    let mut p = sspr_domain::policy::load(&s.db).await.unwrap();
    p.sign_in_second_factor = sspr_domain::policy::SecondFactorScope::Everyone;
    sspr_domain::policy::save(&s.db, &p, s.now()).await.unwrap();
    assert_eq!(
        password_change::rules(&s, &user).await.unwrap().min_length,
        8
    );
    // U+212B ANGSTROM SIGN is stored as U+00C5 (NFKC): either signs in.
    password_change::change(&s, change(&token, PASSWORD, "\u{212B}ngström 🦀"), s.now())
        .await
        .unwrap();
    sign_in(&s, req("dana", "\u{00C5}ngström 🦀"), s.now())
        .await
        .unwrap();
}

async fn the_preview_tells_the_browser_what_only_the_server_knows(t: &TestDb) {
    let (s, _clock, id) = with_user(t, "dana").await;
    let user = users::find_by_id(t.db.pool(), id).await.unwrap().unwrap();
    let before = s.hasher.hash_count();
    assert_eq!(
        password_change::preview(&s, &user, "iloveyou1234567")
            .await
            .unwrap(),
        vec![Reason::Common]
    );
    assert!(
        password_change::preview(&s, &user, NEW_PASSWORD)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.hasher.hash_count(), before);
}
