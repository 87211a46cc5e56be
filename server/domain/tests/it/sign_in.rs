//! Sign-in rules: docs/security.md #8 (uniform answers), #35 (lockout),
//! #36 (atomic counters), #37 (persistent counters), #6 (rehash).

use std::sync::Arc;

use sspr_domain::auth::{SignInError, SignInRequest, sign_in};
use sspr_domain::config::Config;
use sspr_domain::testkit::{PASSWORD, SignedInExt, TestDb, ip, req, services, with_user};
use sspr_domain::users;
use sspr_domain::{Services, both_backends, outbox};

async fn attempt(s: &Services, login: &str, password: &str) -> Result<i64, String> {
    sign_in(s, req(login, password), s.now())
        .await
        .map(|ok| ok.signed_in().user_id)
        .map_err(|e| format!("{e:?}"))
}

both_backends!(
    correct_password_signs_in_with_any_case_or_width,
    every_failure_gives_the_same_error_after_the_same_work,
    an_over_long_password_hashes_nothing,
    ten_failures_lock_then_the_lock_ends_and_grows,
    the_same_wrong_password_counts_once,
    lockout_applies_to_unknown_ids_too,
    parallel_guesses_never_exceed_the_threshold,
    the_lock_survives_a_restart,
    the_locking_failure_notifies_the_owner_once_in_their_language,
    raised_argon2_parameters_rehash_on_sign_in,
    an_attacker_locks_out_their_own_network_not_the_user,
    many_networks_lock_the_account_everywhere_until_a_reset,
    one_address_cannot_keep_the_hasher_busy,
);

/// 200 sign-ins at once with fresh user IDs (never locked) from one
/// address: only the address's budget reaches the hasher, counted not
/// timed, and a user elsewhere still gets a hashing slot
/// (docs/security.md #75).
async fn one_address_cannot_keep_the_hasher_busy(t: &TestDb) {
    let mut cfg = Config::default();
    // Cheap hashes and a patient queue: this counts, it does not time.
    cfg.password_hashing.memory_kib = 64;
    cfg.password_hashing.iterations = 1;
    cfg.password_hashing.queue_timeout_ms = 120_000;
    let (s, _clock) = services(t.db.clone(), cfg);
    let s = Arc::new(s);
    let id = sspr_domain::testkit::create_user(
        &t.db,
        &sspr_domain::testkit::with_password(&s, sspr_domain::testkit::dana(users::Role::User))
            .await,
        s.now(),
    )
    .await;
    let before = s.hasher.hash_count();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            attempt_from(&s, &format!("nobody{i}"), "guess", "203.0.113.9").await
        }));
    }
    let mut throttled = 0;
    for task in tasks {
        match task.await.unwrap() {
            Err(e) if e.starts_with("Throttled") => throttled += 1,
            Err(e) => assert_eq!(e, "InvalidCredentials"),
            Ok(_) => panic!("no unknown ID signs in"),
        }
    }
    let budget = s.config.password_hashing.per_address_per_minute;
    assert_eq!(s.hasher.hash_count() - before, budget as u64);
    assert_eq!(throttled, 200 - budget);
    assert_eq!(
        attempt_from(&s, "dana", PASSWORD, "198.51.100.7").await,
        Ok(id)
    );
}

/// A sign-in attempt from `from`.
async fn attempt_from(
    s: &Services,
    login: &str,
    password: &str,
    from: &str,
) -> Result<i64, String> {
    let r = SignInRequest {
        ip: ip(from),
        ..req(login, password)
    };
    sign_in(s, r, s.now())
        .await
        .map(|ok| ok.signed_in().user_id)
        .map_err(|e| format!("{e:?}"))
}

/// Knowing the user ID, an attacker fails 10 times a minute, all day: the
/// lock is theirs; the user signs in from their own network all along
/// (docs/security.md #74).
async fn an_attacker_locks_out_their_own_network_not_the_user(t: &TestDb) {
    let (s, clock, id) = with_user(t, "dana").await;
    for minute in 0..60 {
        for i in 0..10 {
            attempt_from(&s, "dana", &format!("guess {minute} {i}"), "203.0.113.9")
                .await
                .ok();
        }
        assert_eq!(
            attempt_from(&s, "dana", PASSWORD, "203.0.113.9").await,
            Err("InvalidCredentials".into()),
            "minute {minute}: the attacker's network is locked, even for the right password"
        );
        assert_eq!(
            attempt_from(&s, "dana", PASSWORD, "198.51.100.7").await,
            Ok(id),
            "minute {minute}: the user's is not"
        );
        clock.advance(60);
    }
}

/// Ten networks of ten failures each reach the account-wide threshold:
/// locked everywhere (the user's network too) until it runs out or the
/// user resets or unlocks through the gates.
async fn many_networks_lock_the_account_everywhere_until_a_reset(t: &TestDb) {
    let (s, _clock, _id) = with_user(t, "dana").await;
    let networks = s.config.sign_in_lockout.account_threshold / s.config.sign_in_lockout.threshold;
    for n in 0..networks {
        for i in 0..s.config.sign_in_lockout.threshold {
            attempt_from(
                &s,
                "dana",
                &format!("guess {n} {i}"),
                &format!("203.0.113.{n}"),
            )
            .await
            .ok();
        }
    }
    assert_eq!(
        attempt_from(&s, "dana", PASSWORD, "198.51.100.7").await,
        Err("InvalidCredentials".into())
    );
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM throttle")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(
        rows,
        networks + 2,
        "one per network, the user's, and the account's"
    );
}

async fn correct_password_signs_in_with_any_case_or_width(t: &TestDb) {
    let (s, _clock, id) = with_user(t, "dana").await;
    assert_eq!(attempt(&s, "DANA", PASSWORD).await, Ok(id));
    assert_eq!(attempt(&s, "ｄａｎａ", PASSWORD).await, Ok(id));
}

async fn every_failure_gives_the_same_error_after_the_same_work(t: &TestDb) {
    let (s, _clock, id) = with_user(t, "dana").await;
    let invalid = Err("InvalidCredentials".to_owned());
    let before = s.hasher.hash_count();
    assert_eq!(attempt(&s, "dana", "wrong password").await, invalid);
    assert_eq!(attempt(&s, "nobody", "wrong password").await, invalid);
    users::set_enabled(t.db.pool(), id, false).await.unwrap();
    assert_eq!(
        attempt(&s, "dana", PASSWORD).await,
        invalid,
        "a disabled account answers like a wrong password"
    );
    // One argon2 verification per attempt, known account or not (docs/security.md #8).
    assert_eq!(s.hasher.hash_count() - before, 3);
}

async fn an_over_long_password_hashes_nothing(t: &TestDb) {
    let (s, _clock, _) = with_user(t, "dana").await;
    let before = s.hasher.hash_count();
    let long = "a".repeat(4097);
    let r = sign_in(&s, req("dana", &long), s.now()).await;
    assert!(matches!(r, Err(SignInError::PasswordTooLong)));
    assert_eq!(s.hasher.hash_count(), before);
}

async fn ten_failures_lock_then_the_lock_ends_and_grows(t: &TestDb) {
    let (s, clock, id) = with_user(t, "dana").await;
    for i in 0..10 {
        assert!(attempt(&s, "dana", &format!("wrong {i}")).await.is_err());
    }
    // Locked: even the right password gets the generic answer (docs/security.md #35).
    assert_eq!(
        attempt(&s, "dana", PASSWORD).await,
        Err("InvalidCredentials".into())
    );
    clock.advance(59);
    assert!(attempt(&s, "dana", PASSWORD).await.is_err());
    clock.advance(2);
    // After 1 minute one more wrong guess locks again, for 2 minutes.
    assert!(attempt(&s, "dana", "wrong 11").await.is_err());
    clock.advance(61);
    assert!(
        attempt(&s, "dana", PASSWORD).await.is_err(),
        "second lockout must be longer than the first"
    );
    clock.advance(60);
    assert_eq!(attempt(&s, "dana", PASSWORD).await, Ok(id));
    // Success cleared the counter: nine more failures do not lock.
    for i in 0..9 {
        assert!(attempt(&s, "dana", &format!("again {i}")).await.is_err());
    }
    assert_eq!(attempt(&s, "dana", PASSWORD).await, Ok(id));
}

async fn the_same_wrong_password_counts_once(t: &TestDb) {
    let (s, _clock, id) = with_user(t, "dana").await;
    for _ in 0..30 {
        assert!(attempt(&s, "dana", "Summer2026!").await.is_err());
    }
    assert_eq!(attempt(&s, "dana", PASSWORD).await, Ok(id));
}

async fn lockout_applies_to_unknown_ids_too(t: &TestDb) {
    // Throttling keyed on the typed ID whether or not it exists, so the
    // lock itself is no oracle.
    let (s, _clock, _) = with_user(t, "dana").await;
    for i in 0..11 {
        assert_eq!(
            attempt(&s, "ghost", &format!("w{i}")).await,
            Err("InvalidCredentials".into())
        );
    }
    let audit = sspr_domain::audit::recent(t.db.pool(), 1).await.unwrap();
    assert_eq!(audit[0].outcome, "failure");
    // An unknown ID is recorded as a keyed hash, never as typed (people
    // type passwords there); the same ID gives the same hash, so repeats
    // still show (docs/security.md #73). A known one is recorded as is.
    let ghost = audit[0].subject_login.clone().unwrap_or_default();
    assert!(
        ghost.starts_with("unknown:") && !ghost.contains("ghost"),
        "{ghost}"
    );
    let same = sspr_domain::audit::typed_login(
        &s.key,
        &sspr_domain::identity::Login::parse("ghost").unwrap(),
        false,
    );
    assert_eq!(ghost, same, "the same ID, the same hash");
    attempt(&s, "hunter2-summer", "w").await.ok();
    attempt(&s, "dana", "w").await.ok();
    let audit = sspr_domain::audit::recent(t.db.pool(), 2).await.unwrap();
    let logins: Vec<String> = audit
        .iter()
        .map(|e| e.subject_login.clone().unwrap_or_default())
        .collect();
    assert_eq!(logins[0], "dana", "{logins:?}");
    assert!(
        logins[1].starts_with("unknown:") && logins[1] != ghost && !logins[1].contains("hunter2"),
        "{logins:?}"
    );
}

async fn parallel_guesses_never_exceed_the_threshold(t: &TestDb) {
    // CVE-2024-4629: 40 different wrong passwords at once; exactly 10
    // may be checked, the rest must be refused as locked.
    let (s, _clock, _) = with_user(t, "dana").await;
    // No attempt may time out waiting for a hashing slot in this test.
    let mut cfg = (*s.config).clone();
    cfg.password_hashing.queue_timeout_ms = 120_000;
    let s = Arc::new(Services::new(t.db.clone(), s.key.clone(), cfg, s.clock.clone()).unwrap());
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            attempt(&s, "dana", &format!("parallel {i}")).await
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().is_err());
    }
    let rows = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_events \
         WHERE event = 'sign_in' AND detail IN ('wrong_password', 'account_locked')",
    )
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    assert_eq!(rows, 10);
    let locked =
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_events WHERE detail = 'locked'")
            .fetch_one(t.db.pool())
            .await
            .unwrap();
    assert_eq!(locked, 30);
}

async fn the_lock_survives_a_restart(t: &TestDb) {
    let (s, _clock, _) = with_user(t, "dana").await;
    for i in 0..10 {
        assert!(attempt(&s, "dana", &format!("w{i}")).await.is_err());
    }
    // A second instance on the same database (docs/security.md #37).
    let db2 = sspr_domain::Db::open(&t.url).await.unwrap();
    let (s2, clock2) = services(db2.clone(), Config::default());
    clock2.set(s.now());
    let s2 = Services {
        key: s.key.clone(),
        ..s2
    };
    assert!(attempt(&s2, "dana", PASSWORD).await.is_err());
    db2.close().await;
}

async fn the_locking_failure_notifies_the_owner_once_in_their_language(t: &TestDb) {
    let (s, _clock, _) = with_user(t, "dana").await;
    for i in 0..15 {
        let _ = attempt(&s, "dana", &format!("w{i}")).await;
    }
    let messages = outbox::recent(t.db.pool(), &s.key, 10).await.unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let m = &messages[0];
    assert_eq!(m.recipient, "dana@contoso.example");
    assert_eq!(m.locale, "he-IL");
    assert_eq!(
        m.template,
        outbox::Template::AccountLocked {
            display_name: "Dana Doe".into(),
            minutes: 1
        }
    );
    let audit = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_events WHERE detail = 'account_locked'",
    )
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    assert_eq!(audit, 1);
}

async fn raised_argon2_parameters_rehash_on_sign_in(t: &TestDb) {
    let (s, clock, id) = with_user(t, "dana").await;
    let mut stronger = Config::default();
    stronger.password_hashing.memory_kib = 19456 * 2;
    let s2 = Services::new(
        t.db.clone(),
        s.key.clone(),
        stronger,
        Arc::new(clock.clone()),
    )
    .unwrap();
    assert_eq!(attempt(&s2, "dana", PASSWORD).await, Ok(id));
    let user = users::find_by_id(t.db.pool(), id).await.unwrap().unwrap();
    assert!(
        user.password_hash
            .unwrap()
            .starts_with("$argon2id$v=19$m=38912,t=2,p=1$")
    );
    assert_eq!(
        attempt(&s, "dana", PASSWORD).await,
        Ok(id),
        "the new hash still verifies"
    );
}
