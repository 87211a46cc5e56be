//! The reset wizard: docs/security.md sections B–D as they apply to a reset.

use std::sync::Arc;

use sspr_domain::auth::{current_user, sign_in};
use sspr_domain::captcha::{self, CaptchaError};
use sspr_domain::config::Config;
use sspr_domain::identity::Login;
use sspr_domain::methods::{self, Kind, NewMethod};
use sspr_domain::outbox::{self, Template};
use sspr_domain::questions::Question;
use sspr_domain::reset::{self, Pending, ResetConfig, ResetError};
use sspr_domain::testkit::ip;
use sspr_domain::testkit::{
    NEW_PASSWORD, PASSWORD, SignedInExt, TestDb, create_user, dana, register_questions, req,
    with_password, wrong_code,
};
use sspr_domain::users::{self, NewUser, Role};
use sspr_domain::{Clock, Services, authenticator, both_backends, policy};

mod expiry;
mod guesses;
mod phone;

const HOME: &str = "dana.home@example.org";

struct World {
    s: Services,
    clock: sspr_domain::ManualClock,
    secret: Vec<u8>,
}

/// dana (a user with a home email and an authenticator app) and, when
/// `admin`, the same as an administrator.
async fn world(t: &TestDb, role: Role) -> World {
    let (s, clock) = sspr_domain::testkit::services(t.db.clone(), Default::default());
    let id = create_user(&t.db, &with_password(&s, dana(role)).await, clock.now()).await;
    methods::upsert(t.db.pool(), id, &NewMethod::email(HOME), clock.now())
        .await
        .unwrap();
    let secret = authenticator::new_secret();
    let sealed = authenticator::encrypt(&s.key, id, &secret).unwrap();
    methods::upsert(
        t.db.pool(),
        id,
        &NewMethod {
            kind: Kind::Authenticator,
            destination: "",
            phone_channel: None,
            secret: Some(&sealed),
            last_step: 0,
            answers: None,
        },
        clock.now(),
    )
    .await
    .unwrap();
    World { s, clock, secret }
}

/// Registers dana's security questions and sets a policy that asks for two
/// gates and allows questions.
async fn with_questions(t: &TestDb, w: &World) {
    let user = users::find_by_login(t.db.pool(), &Login::parse("dana").unwrap())
        .await
        .unwrap()
        .unwrap();
    register_questions(&w.s, user.id).await;
}

async fn pass_email(w: &World, flow: &str) {
    reset::send_email_code(&w.s, flow, HOME, w.s.now())
        .await
        .unwrap();
    let code = codes_sent(&w.s).await[0].1.clone();
    assert!(
        !reset::verify(&w.s, flow, &code, w.s.now()).await.unwrap(),
        "one of two"
    );
}

async fn choices(w: &World, flow: &str) -> Vec<Kind> {
    let p = policy::load(&w.s.db).await.unwrap();
    let f = reset::load(&w.s, flow, w.s.now()).await.unwrap();
    reset::choices(&w.s, &p, &f).await.unwrap()
}

async fn start(w: &World, login: &str) -> String {
    start_from(w, login, "192.0.2.1").await
}

/// Step 1 for `login` from the client address `from`.
async fn start_from(w: &World, login: &str, from: &str) -> String {
    let nonce = "n0nce123";
    let puzzle = captcha::issue(&w.s, nonce, w.s.now()).unwrap();
    let solution = captcha::solve(&puzzle).unwrap();
    reset::start(&w.s, login, &solution, nonce, ip(from), w.s.now())
        .await
        .unwrap()
}

async fn codes_sent(s: &Services) -> Vec<(String, String)> {
    outbox::recent(s.db.pool(), &s.key, 50)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m.template {
            Template::ResetCode { code, .. } => Some((m.recipient, code)),
            _ => None,
        })
        .collect()
}

both_backends!(
    one_gate_by_email_resets_and_ends_every_session,
    unknown_and_known_accounts_get_the_same_answers,
    the_sixth_wrong_code_in_an_hour_blocks_that_method_only,
    admins_need_two_different_gates,
    fifty_parallel_final_submissions_succeed_once,
    the_real_state_is_told_only_after_a_gate,
    captchas_are_single_use_bound_and_short_lived,
    twenty_starts_per_address_per_hour_by_default,
    the_per_address_ceilings_come_from_the_config,
    a_surge_of_starts_from_many_addresses_alerts_the_admins_once_an_hour,
    resend_waits_for_the_cooldown_and_keeps_the_failure_count,
    unlock_only_lifts_the_lockout_and_keeps_the_password,
    an_admin_resetting_their_password_tells_the_other_admins,
    security_questions_are_a_second_gate_only,
    admins_are_never_offered_security_questions,
    wrong_answers_block_the_questions_gate_after_five,
    masked_hints_are_opt_in_and_look_the_same_for_unknown_ids,
    housekeeping_forgets_only_what_decides_nothing,
    without_notify_users_on_reset_a_user_is_not_told,
);

/// Entra's "Notify users on password resets" switched off: no "your
/// password was changed" message for a user (admins are always told).
async fn without_notify_users_on_reset_a_user_is_not_told(t: &TestDb) {
    let w = world(t, Role::User).await;
    let mut p = policy::load(&w.s.db).await.unwrap();
    p.notify_users_on_reset = false;
    policy::save(&w.s.db, &p, w.s.now()).await.unwrap();
    let flow = start(&w, "dana").await;
    reset::send_email_code(&w.s, &flow, HOME, w.s.now())
        .await
        .unwrap();
    let code = codes_sent(&w.s).await[0].1.clone();
    assert!(reset::verify(&w.s, &flow, &code, w.s.now()).await.unwrap());
    reset::set_password(&w.s, &flow, NEW_PASSWORD, NEW_PASSWORD, None, w.s.now())
        .await
        .unwrap();
    let told = outbox::recent(t.db.pool(), &w.s.key, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| matches!(m.template, Template::PasswordChanged { .. }))
        .count();
    assert_eq!(told, 0);
}

async fn one_gate_by_email_resets_and_ends_every_session(t: &TestDb) {
    let w = world(t, Role::User).await;
    let old = sign_in(&w.s, req("dana", PASSWORD), w.s.now())
        .await
        .unwrap()
        .signed_in()
        .session_token;
    let flow = start(&w, "DANA").await;
    // The typed address matches case-insensitively.
    reset::send_email_code(&w.s, &flow, "Dana.Home@example.org", w.s.now())
        .await
        .unwrap();
    let sent = codes_sent(&w.s).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, HOME);
    assert!(matches!(
        reset::set_password(&w.s, &flow, NEW_PASSWORD, NEW_PASSWORD, None, w.s.now()).await,
        Err(ResetError::GatesIncomplete)
    ));
    assert!(
        reset::verify(&w.s, &flow, &sent[0].1, w.s.now())
            .await
            .unwrap(),
        "one gate is enough"
    );
    assert_eq!(
        reset::password_rules(&w.s, &flow, w.s.now())
            .await
            .unwrap()
            .min_length,
        15,
        "a user's sign-in asks for no second factor, so the password stands alone (docs/security.md #1)"
    );
    reset::set_password(
        &w.s,
        &flow,
        NEW_PASSWORD,
        NEW_PASSWORD,
        ip("192.0.2.1"),
        w.s.now(),
    )
    .await
    .unwrap();
    assert!(
        current_user(&w.s, &old, w.s.now()).await.unwrap().is_none(),
        "sessions revoked"
    );
    assert!(
        sign_in(&w.s, req("dana", PASSWORD), w.s.now())
            .await
            .is_err()
    );
    sign_in(&w.s, req("dana", NEW_PASSWORD), w.s.now())
        .await
        .unwrap();
    assert!(
        matches!(
            reset::load(&w.s, &flow, w.s.now()).await,
            Err(ResetError::FlowExpired)
        ),
        "consumed"
    );
    let notices = outbox::recent(t.db.pool(), &w.s.key, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| matches!(m.template, Template::PasswordChanged { .. }))
        .count();
    assert_eq!(notices, 2, "both addresses are told");
}

async fn unknown_and_known_accounts_get_the_same_answers(t: &TestDb) {
    let w = world(t, Role::User).await;
    let known = start(&w, "dana").await;
    let unknown = start(&w, "nobody").await;
    // A wrong address for the known account, any address for the unknown one.
    reset::send_email_code(&w.s, &known, "someone.else@example.org", w.s.now())
        .await
        .unwrap();
    reset::send_email_code(&w.s, &unknown, HOME, w.s.now())
        .await
        .unwrap();
    assert!(
        codes_sent(&w.s).await.is_empty(),
        "nothing leaves for a non-matching destination"
    );
    let a = reset::verify(&w.s, &known, "12345678", w.s.now()).await;
    let b = reset::verify(&w.s, &unknown, "12345678", w.s.now()).await;
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert!(
        matches!(a, Err(ResetError::WrongCode { attempts_left: 4 })),
        "{a:?}"
    );
    reset::choose_authenticator(&w.s, &known, w.s.now())
        .await
        .unwrap();
    reset::choose_authenticator(&w.s, &unknown, w.s.now())
        .await
        .unwrap();
    let a = reset::verify(&w.s, &known, "000000", w.s.now()).await;
    let b = reset::verify(&w.s, &unknown, "000000", w.s.now()).await;
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}

async fn the_sixth_wrong_code_in_an_hour_blocks_that_method_only(t: &TestDb) {
    let w = world(t, Role::User).await;
    for login in ["dana", "nobody"] {
        let flow = start(&w, login).await;
        let mut outcomes = vec![];
        for _ in 0..6 {
            reset::choose_authenticator(&w.s, &flow, w.s.now())
                .await
                .unwrap();
            outcomes.push(format!(
                "{:?}",
                reset::verify(&w.s, &flow, "000000", w.s.now()).await
            ));
            w.clock.advance(1);
        }
        assert!(
            outcomes[..4].iter().all(|o| o.contains("WrongCode")),
            "{login}: {outcomes:?}"
        );
        assert!(
            outcomes[4].contains("TooManyAttempts"),
            "{login}: {outcomes:?}"
        );
        assert!(
            outcomes[5].contains("MethodBlocked"),
            "{login}: {outcomes:?}"
        );
    }
    // Blocked for 24 h, not one: but email, another method, still works.
    w.clock.advance(3600);
    let flow = start(&w, "dana").await;
    reset::choose_authenticator(&w.s, &flow, w.s.now())
        .await
        .unwrap();
    let totp = authenticator::code_at(&w.secret, w.s.now()).unwrap();
    assert!(
        matches!(
            reset::verify(&w.s, &flow, &totp, w.s.now()).await,
            Err(ResetError::MethodBlocked { .. })
        ),
        "even the right code"
    );
    reset::send_email_code(&w.s, &flow, HOME, w.s.now())
        .await
        .unwrap();
    let code = codes_sent(&w.s).await[0].1.clone();
    assert!(reset::verify(&w.s, &flow, &code, w.s.now()).await.unwrap());
}

async fn admins_need_two_different_gates(t: &TestDb) {
    let w = world(t, Role::Admin).await;
    let flow = start(&w, "dana").await;
    reset::send_email_code(&w.s, &flow, HOME, w.s.now())
        .await
        .unwrap();
    let code = codes_sent(&w.s).await[0].1.clone();
    assert!(
        !reset::verify(&w.s, &flow, &code, w.s.now()).await.unwrap(),
        "one of two"
    );
    // Step 3 before the second gate: 409-like refusal, flow unchanged.
    let before = reset::load(&w.s, &flow, w.s.now()).await.unwrap().version;
    assert!(matches!(
        reset::set_password(&w.s, &flow, NEW_PASSWORD, NEW_PASSWORD, None, w.s.now()).await,
        Err(ResetError::GatesIncomplete)
    ));
    assert_eq!(
        reset::load(&w.s, &flow, w.s.now()).await.unwrap().version,
        before
    );
    // Email again is not a second gate.
    assert!(matches!(
        reset::send_email_code(&w.s, &flow, HOME, w.s.now()).await,
        Err(ResetError::MethodNotAllowed)
    ));
    reset::choose_authenticator(&w.s, &flow, w.s.now())
        .await
        .unwrap();
    let totp = authenticator::code_at(&w.secret, w.s.now()).unwrap();
    assert!(reset::verify(&w.s, &flow, &totp, w.s.now()).await.unwrap());
    reset::set_password(&w.s, &flow, NEW_PASSWORD, NEW_PASSWORD, None, w.s.now())
        .await
        .unwrap();
}

async fn fifty_parallel_final_submissions_succeed_once(t: &TestDb) {
    let w = world(t, Role::User).await;
    let flow = start(&w, "dana").await;
    reset::send_email_code(&w.s, &flow, HOME, w.s.now())
        .await
        .unwrap();
    let code = codes_sent(&w.s).await[0].1.clone();
    reset::verify(&w.s, &flow, &code, w.s.now()).await.unwrap();
    let s = Arc::new(w.s.clone());
    let now = w.s.now();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (s, flow) = (s.clone(), flow.clone());
            tokio::spawn(async move {
                reset::set_password(&s, &flow, NEW_PASSWORD, NEW_PASSWORD, None, now).await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        if task.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
}

async fn the_real_state_is_told_only_after_a_gate(t: &TestDb) {
    let w = world(t, Role::User).await;
    let mut p = policy::load(&t.db).await.unwrap();
    p.sspr_scope = policy::SsprScope::None;
    policy::save(&t.db, &p, w.s.now()).await.unwrap();
    let flow = start(&w, "dana").await;
    reset::send_email_code(&w.s, &flow, HOME, w.s.now())
        .await
        .unwrap();
    let code = codes_sent(&w.s).await[0].1.clone();
    assert!(matches!(
        reset::verify(&w.s, &flow, &wrong_code(&code), w.s.now()).await,
        Err(ResetError::WrongCode { .. })
    ));
    assert!(matches!(
        reset::verify(&w.s, &flow, &code, w.s.now()).await,
        Err(ResetError::NotEnabled)
    ));
}

async fn captchas_are_single_use_bound_and_short_lived(t: &TestDb) {
    let w = world(t, Role::User).await;
    let p = captcha::issue(&w.s, "mine1234", w.s.now()).unwrap();
    let solution = captcha::solve(&p).unwrap();
    assert_eq!(
        captcha::redeem(&w.s, &solution, "theirs12", w.s.now()).await,
        Err(CaptchaError::Invalid)
    );
    assert_eq!(
        captcha::redeem(&w.s, "{}", "mine1234", w.s.now()).await,
        Err(CaptchaError::Invalid)
    );
    assert_eq!(
        captcha::redeem(&w.s, &solution, "mine1234", w.s.now()).await,
        Ok(())
    );
    assert_eq!(
        captcha::redeem(&w.s, &solution, "mine1234", w.s.now()).await,
        Err(CaptchaError::Replayed)
    );
    let late = captcha::issue(&w.s, "mine1234", w.s.now()).unwrap();
    w.clock.advance(captcha::TTL_SECS + 1);
    assert_eq!(
        captcha::redeem(&w.s, &captcha::solve(&late).unwrap(), "mine1234", w.s.now()).await,
        Err(CaptchaError::Expired)
    );
    // Without a CAPTCHA (no JavaScript), three starts per address per hour.
    for _ in 0..3 {
        reset::start(&w.s, "dana", "", "", ip("198.51.100.7"), w.s.now())
            .await
            .unwrap();
    }
    assert!(matches!(
        reset::start(&w.s, "dana", "", "", ip("198.51.100.7"), w.s.now()).await,
        Err(ResetError::Throttled { .. })
    ));
}

async fn twenty_starts_per_address_per_hour_by_default(t: &TestDb) {
    // docs/security.md #38: <= 20 reset initiations per IP per hour.
    let w = world(t, Role::User).await;
    let with_captcha = |nonce: String| {
        let s = &w.s;
        async move {
            let p = captcha::issue(s, &nonce, s.now()).unwrap();
            let solution = captcha::solve(&p).unwrap();
            reset::start(s, "dana", &solution, &nonce, ip("2001:db8:7:7::1"), s.now()).await
        }
    };
    for i in 0..20 {
        with_captcha(format!("nonce{i:04}")).await.unwrap();
    }
    // The same /64 from another address is the same client.
    let r = reset::start(&w.s, "dana", "", "", ip("2001:db8:7:7::2"), w.s.now()).await;
    assert!(matches!(
        r,
        Err(ResetError::Throttled {
            retry_after_secs: 3600
        })
    ));
    assert!(matches!(
        with_captcha("nonce9999".into()).await,
        Err(ResetError::Throttled { .. })
    ));
    reset::start(&w.s, "dana", "", "", ip("2001:db8:7:8::1"), w.s.now())
        .await
        .unwrap();
    w.clock.advance(3600);
    with_captcha("nonce0000".into()).await.unwrap();
}

async fn the_per_address_ceilings_come_from_the_config(t: &TestDb) {
    let config = Config {
        reset: ResetConfig {
            starts_per_address_per_hour: 6,
            starts_without_captcha_per_address_per_hour: 5,
            ..ResetConfig::default()
        },
        ..Config::default()
    };
    let (s, _clock) = sspr_domain::testkit::services(t.db.clone(), config);
    let with_captcha = |addr: &'static str| {
        let s = &s;
        async move {
            let p = captcha::issue(s, "nonce1234", s.now()).unwrap();
            let solution = captcha::solve(&p).unwrap();
            reset::start(s, "nobody", &solution, "nonce1234", ip(addr), s.now()).await
        }
    };
    // Five without a CAPTCHA (the default would stop at three)…
    for _ in 0..5 {
        reset::start(&s, "nobody", "", "", ip("198.51.100.7"), s.now())
            .await
            .unwrap();
    }
    // …and the sixth start at all (the default would allow twenty).
    with_captcha("198.51.100.7").await.unwrap();
    assert!(matches!(
        with_captcha("198.51.100.7").await,
        Err(ResetError::Throttled { .. })
    ));
    for _ in 0..5 {
        reset::start(&s, "nobody", "", "", ip("198.51.100.8"), s.now())
            .await
            .unwrap();
    }
    let r = reset::start(&s, "nobody", "", "", ip("198.51.100.8"), s.now()).await;
    assert!(
        matches!(r, Err(ResetError::Throttled { .. })),
        "the sixth without a CAPTCHA"
    );
}

async fn a_surge_of_starts_from_many_addresses_alerts_the_admins_once_an_hour(t: &TestDb) {
    // docs/security.md #38: per-address ceilings + a global anomaly alert.
    let config = Config {
        reset: ResetConfig {
            alert_starts_per_hour: 3,
            ..ResetConfig::default()
        },
        ..Config::default()
    };
    let (s, clock) = sspr_domain::testkit::services(t.db.clone(), config);
    for (login, locale) in [("avery", "he-IL"), ("blair", "en")] {
        let admin = NewUser {
            login_display: login.into(),
            display_name: format!("{login} Admin"),
            email: Some(format!("{login}@contoso.example")),
            role: Role::Admin,
            password_hash: None,
            locale: Some(locale.into()),
        };
        create_user(&t.db, &admin, s.now()).await;
    }
    let key = s.key.clone();
    let alerts = |t: &TestDb| {
        let db = t.db.clone();
        let key = key.clone();
        async move {
            let audited: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE event = 'reset_surge'")
                    .fetch_one(db.pool())
                    .await
                    .unwrap();
            let mut mails: Vec<(String, String)> = outbox::recent(db.pool(), &key, 50)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| {
                    matches!(
                        m.template,
                        Template::ResetSurge {
                            starts: 4,
                            threshold: 3
                        }
                    )
                })
                .map(|m| (m.recipient, m.locale))
                .collect();
            mails.sort();
            (audited, mails)
        }
    };
    // Each from its own address: no per-address ceiling is reached.
    for i in 0..3 {
        reset::start(
            &s,
            "nobody",
            "",
            "",
            ip(&format!("198.51.100.{i}")),
            s.now(),
        )
        .await
        .unwrap();
    }
    assert_eq!(alerts(t).await, (0, vec![]), "up to the threshold, silence");
    for i in 3..8 {
        reset::start(
            &s,
            "nobody",
            "",
            "",
            ip(&format!("198.51.100.{i}")),
            s.now(),
        )
        .await
        .unwrap();
    }
    let once = (
        1,
        vec![
            ("avery@contoso.example".to_owned(), "he-IL".to_owned()),
            ("blair@contoso.example".to_owned(), "en".to_owned()),
        ],
    );
    assert_eq!(
        alerts(t).await,
        once,
        "every admin told once, in their language; nothing refused"
    );
    // The next hour counts afresh.
    clock.advance(3600);
    for i in 0..4 {
        reset::start(&s, "nobody", "", "", ip(&format!("203.0.113.{i}")), s.now())
            .await
            .unwrap();
    }
    assert_eq!(alerts(t).await.0, 2);
}

async fn resend_waits_for_the_cooldown_and_keeps_the_failure_count(t: &TestDb) {
    let w = world(t, Role::User).await;
    let flow = start(&w, "dana").await;
    reset::send_email_code(&w.s, &flow, HOME, w.s.now())
        .await
        .unwrap();
    let first = codes_sent(&w.s).await[0].1.clone();
    assert!(matches!(
        reset::verify(&w.s, &flow, &wrong_code(&first), w.s.now()).await,
        Err(ResetError::WrongCode { attempts_left: 4 })
    ));
    assert!(matches!(
        reset::resend(&w.s, &flow, w.s.now()).await,
        Err(ResetError::ResendTooSoon { .. })
    ));
    w.clock.advance(60);
    reset::resend(&w.s, &flow, w.s.now()).await.unwrap();
    let sent = codes_sent(&w.s).await;
    assert_eq!(sent.len(), 2);
    let second = sent[0].1.clone();
    if first != second {
        assert!(
            matches!(
                reset::verify(&w.s, &flow, &first, w.s.now()).await,
                Err(ResetError::WrongCode { attempts_left: 3 })
            ),
            "the old code is dead and the count goes on"
        );
    }
    assert!(
        reset::verify(&w.s, &flow, &second, w.s.now())
            .await
            .unwrap()
    );
}

async fn unlock_only_lifts_the_lockout_and_keeps_the_password(t: &TestDb) {
    let w = world(t, Role::User).await;
    for i in 0..10 {
        sign_in(&w.s, req("dana", &format!("wrong {i}")), w.s.now())
            .await
            .ok();
    }
    assert!(
        sign_in(&w.s, req("dana", PASSWORD), w.s.now())
            .await
            .is_err(),
        "locked"
    );
    let flow = start(&w, "dana").await;
    assert!(matches!(
        reset::unlock(&w.s, &flow, None, w.s.now()).await,
        Err(ResetError::GatesIncomplete)
    ));
    reset::send_email_code(&w.s, &flow, HOME, w.s.now())
        .await
        .unwrap();
    let code = codes_sent(&w.s).await[0].1.clone();
    reset::verify(&w.s, &flow, &code, w.s.now()).await.unwrap();
    reset::unlock(&w.s, &flow, None, w.s.now()).await.unwrap();
    sign_in(&w.s, req("dana", PASSWORD), w.s.now())
        .await
        .unwrap();
    assert!(
        matches!(
            reset::set_password(&w.s, &flow, NEW_PASSWORD, NEW_PASSWORD, None, w.s.now()).await,
            Err(ResetError::FlowExpired)
        ),
        "the flow is spent"
    );
    // The admin can turn it off.
    let mut p = policy::load(&t.db).await.unwrap();
    p.allow_unlock = false;
    policy::save(&t.db, &p, w.s.now()).await.unwrap();
    let flow = start(&w, "dana").await;
    assert!(matches!(
        reset::unlock(&w.s, &flow, None, w.s.now()).await,
        Err(ResetError::MethodNotAllowed)
    ));
}

async fn an_admin_resetting_their_password_tells_the_other_admins(t: &TestDb) {
    let w = world(t, Role::Admin).await;
    let avery = NewUser {
        login_display: "avery".into(),
        display_name: "Avery Admin".into(),
        email: Some("avery@contoso.example".into()),
        role: Role::Admin,
        password_hash: None,
        locale: Some("he-IL".into()),
    };
    create_user(&t.db, &avery, w.s.now()).await;
    let flow = start(&w, "dana").await;
    reset::send_email_code(&w.s, &flow, HOME, w.s.now())
        .await
        .unwrap();
    let code = codes_sent(&w.s).await[0].1.clone();
    reset::verify(&w.s, &flow, &code, w.s.now()).await.unwrap();
    reset::choose_authenticator(&w.s, &flow, w.s.now())
        .await
        .unwrap();
    reset::verify(
        &w.s,
        &flow,
        &authenticator::code_at(&w.secret, w.s.now()).unwrap(),
        w.s.now(),
    )
    .await
    .unwrap();
    reset::set_password(&w.s, &flow, NEW_PASSWORD, NEW_PASSWORD, None, w.s.now())
        .await
        .unwrap();
    let told: Vec<_> = outbox::recent(t.db.pool(), &w.s.key, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| {
            matches!(
                &m.template,
                Template::AdminPasswordReset { admin_login, .. } if admin_login == "dana"
            )
        })
        .collect();
    assert_eq!(told.len(), 1);
    assert_eq!(
        (told[0].recipient.as_str(), told[0].locale.as_str()),
        ("avery@contoso.example", "he-IL")
    );
}

async fn security_questions_are_a_second_gate_only(t: &TestDb) {
    let w = world(t, Role::User).await;
    with_questions(t, &w).await;
    let flow = start(&w, "dana").await;
    // Never a first gate: not offered, and refused when asked for.
    assert_eq!(
        choices(&w, &flow).await,
        vec![Kind::Email, Kind::Phone, Kind::Authenticator]
    );
    assert!(matches!(
        reset::choose_questions(&w.s, &flow, w.s.now()).await,
        Err(ResetError::MethodNotAllowed)
    ));
    pass_email(&w, &flow).await;
    // After a gate: what dana registered (no phone), questions included.
    assert_eq!(
        choices(&w, &flow).await,
        vec![Kind::Authenticator, Kind::Questions]
    );
    reset::choose_questions(&w.s, &flow, w.s.now())
        .await
        .unwrap();
    let pending = reset::load(&w.s, &flow, w.s.now())
        .await
        .unwrap()
        .state
        .pending;
    assert_eq!(
        pending,
        Some(Pending::Questions {
            questions: vec![
                Question::Predefined("first_pet".into()),
                Question::Predefined("birth_city".into())
            ]
        })
    );
    // A blank or missing answer hashes nothing and spends no attempt.
    let hashes = w.s.hasher.hash_count();
    for answers in [
        vec!["Rex".to_owned()],
        vec!["Rex".to_owned(), "  ".to_owned()],
    ] {
        assert!(matches!(
            reset::verify_answers(&w.s, &flow, &answers, w.s.now()).await,
            Err(ResetError::AnswersIncomplete { need: 2 })
        ));
    }
    assert_eq!(w.s.hasher.hash_count(), hashes);
    // One wrong answer of two: refused without saying which.
    let wrong = ["rex".to_owned(), "Haifa".to_owned()];
    assert!(matches!(
        reset::verify_answers(&w.s, &flow, &wrong, w.s.now()).await,
        Err(ResetError::WrongAnswers { attempts_left: 4 })
    ));
    // Case, width and spacing do not matter.
    let right = ["  REX ".to_owned(), "tel   aviv".to_owned()];
    assert!(
        reset::verify_answers(&w.s, &flow, &right, w.s.now())
            .await
            .unwrap(),
        "both gates passed"
    );
    reset::set_password(&w.s, &flow, NEW_PASSWORD, NEW_PASSWORD, None, w.s.now())
        .await
        .unwrap();
    sign_in(&w.s, req("dana", NEW_PASSWORD), w.s.now())
        .await
        .unwrap();
}

async fn admins_are_never_offered_security_questions(t: &TestDb) {
    let w = world(t, Role::Admin).await;
    // Even with answers stored (say, from before a promotion).
    with_questions(t, &w).await;
    let flow = start(&w, "dana").await;
    pass_email(&w, &flow).await;
    assert_eq!(choices(&w, &flow).await, vec![Kind::Authenticator]);
    assert!(matches!(
        reset::choose_questions(&w.s, &flow, w.s.now()).await,
        Err(ResetError::MethodNotAllowed)
    ));
}

async fn wrong_answers_block_the_questions_gate_after_five(t: &TestDb) {
    let w = world(t, Role::User).await;
    with_questions(t, &w).await;
    let flow = start(&w, "dana").await;
    pass_email(&w, &flow).await;
    reset::choose_questions(&w.s, &flow, w.s.now())
        .await
        .unwrap();
    let wrong = ["Fido".to_owned(), "Haifa".to_owned()];
    let mut outcomes = vec![];
    for _ in 0..6 {
        outcomes.push(format!(
            "{:?}",
            reset::verify_answers(&w.s, &flow, &wrong, w.s.now()).await
        ));
    }
    assert!(
        outcomes[..4].iter().all(|o| o.contains("WrongAnswers")),
        "{outcomes:?}"
    );
    assert!(outcomes[4].contains("TooManyAttempts"), "{outcomes:?}");
    assert!(outcomes[5].contains("MethodBlocked"), "{outcomes:?}");
    // Blocked means blocked, even for the right answers; the app still works.
    let right = ["Rex".to_owned(), "Tel Aviv".to_owned()];
    assert!(matches!(
        reset::verify_answers(&w.s, &flow, &right, w.s.now()).await,
        Err(ResetError::MethodBlocked { .. })
    ));
    reset::choose_authenticator(&w.s, &flow, w.s.now())
        .await
        .unwrap();
    let totp = authenticator::code_at(&w.secret, w.s.now()).unwrap();
    assert!(reset::verify(&w.s, &flow, &totp, w.s.now()).await.unwrap());
}

async fn masked_hints_are_opt_in_and_look_the_same_for_unknown_ids(t: &TestDb) {
    let w = world(t, Role::User).await;
    let hints = |flow: String| {
        let s = w.s.clone();
        async move {
            let p = policy::load(&s.db).await.unwrap();
            let f = reset::load(&s, &flow, s.now()).await.unwrap();
            reset::hints(&s, &p, &f).await.unwrap()
        }
    };
    // Off by default: no hints, and no sending without typing.
    let flow = start(&w, "dana").await;
    assert_eq!(hints(flow.clone()).await, reset::Hints::default());
    assert!(matches!(
        reset::send_email_code_to_hint(&w.s, &flow, w.s.now()).await,
        Err(ResetError::MethodNotAllowed)
    ));
    let mut p = policy::load(&t.db).await.unwrap();
    p.reset_show_hints = true;
    policy::save(&t.db, &p, w.s.now()).await.unwrap();
    let known = hints(flow.clone()).await;
    assert_eq!(known.email.as_deref(), Some("da***@example.org"));
    // dana has no phone: a stand-in, stable for the same ID.
    let phone = known.phone.clone().unwrap();
    assert!(phone.starts_with("*******") && phone.len() == 9, "{phone}");
    assert_eq!(hints(start(&w, "DANA").await).await, known);
    // An unknown ID gets stand-ins of the same shape, in the common domain.
    let nobody = start(&w, "nobody").await;
    let unknown = hints(nobody.clone()).await;
    let email = unknown.email.clone().unwrap();
    assert!(
        email.ends_with("***@example.org")
            && email.chars().count() == "da***@example.org".chars().count(),
        "{email}"
    );
    assert_eq!(unknown.phone.as_ref().map(String::len), Some(9));
    assert_eq!(hints(start(&w, "nobody").await).await, unknown);
    // "Send a code to da***@example.org": to the registered address only.
    reset::send_email_code_to_hint(&w.s, &nobody, w.s.now())
        .await
        .unwrap();
    assert!(codes_sent(&w.s).await.is_empty());
    reset::send_email_code_to_hint(&w.s, &flow, w.s.now())
        .await
        .unwrap();
    let sent = codes_sent(&w.s).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, HOME);
    assert!(
        reset::verify(&w.s, &flow, &sent[0].1, w.s.now())
            .await
            .unwrap()
    );
    // The common domain is computed once an hour, not per page: more
    // addresses elsewhere change it only after the hour.
    let other = users::create(
        &t.db,
        &Login::parse("erin").unwrap(),
        &NewUser {
            login_display: "erin".into(),
            ..dana(Role::User)
        },
        &[],
        w.s.now(),
    )
    .await
    .unwrap();
    for i in 0..3 {
        methods::upsert(
            t.db.pool(),
            other,
            &NewMethod::email(&format!("erin{i}@elsewhere.test")),
            w.s.now(),
        )
        .await
        .unwrap();
    }
    assert_eq!(hints(start(&w, "nobody").await).await, unknown, "cached");
    w.clock.advance(reset::HINT_DOMAIN_TTL_SECS);
    let later = hints(start(&w, "nobody").await).await.email.unwrap();
    assert!(later.ends_with("***@elsewhere.test"), "{later}");
}

async fn housekeeping_forgets_only_what_decides_nothing(t: &TestDb) {
    let w = world(t, Role::User).await;
    let nonce = "n0nce123";
    let puzzle = captcha::issue(&w.s, nonce, w.s.now()).unwrap();
    let solution = captcha::solve(&puzzle).unwrap();
    let flow = reset::start(&w.s, "dana", &solution, nonce, ip("192.0.2.1"), w.s.now())
        .await
        .unwrap();
    for _ in 0..6 {
        reset::choose_authenticator(&w.s, &flow, w.s.now())
            .await
            .unwrap();
        reset::verify(&w.s, &flow, "000000", w.s.now()).await.ok();
    }
    let count = |like: &'static str| {
        let db = t.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM rate_counters WHERE counter_key LIKE $1",
            )
            .bind(like)
            .fetch_one(db.pool())
            .await
            .unwrap()
        }
    };
    assert_eq!(count("altcha:%").await, 1);
    // Once the challenge has expired, its spent mark can go: a replay is
    // refused as expired anyway. The method block stays.
    w.clock.advance(captcha::TTL_SECS + 1);
    let cfg = (*w.s.config).clone();
    let purged = sspr_domain::housekeeping::purge(&t.db, &cfg, w.s.now())
        .await
        .unwrap();
    assert_eq!(purged.counters, 1);
    assert_eq!(count("altcha:%").await, 0);
    assert_eq!(
        captcha::redeem(&w.s, &solution, nonce, w.s.now()).await,
        Err(CaptchaError::Expired)
    );
    assert!(count("reset-block-%").await == 1);
    let again = start(&w, "dana").await;
    reset::choose_authenticator(&w.s, &again, w.s.now())
        .await
        .unwrap();
    let totp = authenticator::code_at(&w.secret, w.s.now()).unwrap();
    assert!(matches!(
        reset::verify(&w.s, &again, &totp, w.s.now()).await,
        Err(ResetError::MethodBlocked { .. })
    ));
    // A day later every counter has run out, and the flows are old.
    w.clock.advance(25 * 3600);
    let purged = sspr_domain::housekeeping::purge(&t.db, &cfg, w.s.now())
        .await
        .unwrap();
    assert!(purged.counters >= 3, "{purged:?}");
    assert_eq!(purged.flows, 2, "{purged:?}");
    // The streaks of failures count over 30 days: only they are left,
    // until then (a pass ends them sooner).
    assert_eq!(count("%").await, count("reset-streak-%").await);
    assert!(count("reset-streak-%").await > 0);
    w.clock.advance(reset::STREAK_SECS);
    sspr_domain::housekeeping::purge(&t.db, &cfg, w.s.now())
        .await
        .unwrap();
    assert_eq!(count("%").await, 0);
    let fresh = start(&w, "dana").await;
    reset::choose_authenticator(&w.s, &fresh, w.s.now())
        .await
        .unwrap();
    let totp = authenticator::code_at(&w.secret, w.s.now()).unwrap();
    assert!(reset::verify(&w.s, &fresh, &totp, w.s.now()).await.unwrap());
}
