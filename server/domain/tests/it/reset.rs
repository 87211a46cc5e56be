//! The reset wizard: security.md sections B–D as they apply to a reset.

use std::sync::Arc;

use sspr_domain::auth::{current_user, sign_in};
use sspr_domain::captcha::{self, CaptchaError};
use sspr_domain::identity::Login;
use sspr_domain::methods::{self, Kind, NewMethod};
use sspr_domain::outbox::{self, Template};
use sspr_domain::password::Normalized;
use sspr_domain::reset::{self, ResetError};
use sspr_domain::testkit::TestDb;
use sspr_domain::users::{self, NewUser, Role};
use sspr_domain::{Clock, Services, authenticator, both_backends, policy};

use crate::sign_in::{PASSWORD, req};

const NEW: &str = "mauve tractor under the lighthouse";
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
    let hash = s
        .hasher
        .hash(&Normalized::new(PASSWORD).unwrap())
        .await
        .unwrap();
    let id = users::create(
        &t.db,
        &Login::parse("dana").unwrap(),
        &NewUser {
            login_display: "dana".into(),
            display_name: "Dana Doe".into(),
            email: Some("dana@contoso.example".into()),
            role,
            password_hash: Some(hash),
            locale: Some("en".into()),
        },
        &[],
        clock.now(),
    )
    .await
    .unwrap();
    methods::upsert(
        t.db.pool(),
        id,
        &NewMethod {
            kind: Kind::Email,
            destination: HOME,
            phone_channel: None,
            secret: None,
            last_step: 0,
            answers: None,
        },
        clock.now(),
    )
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

async fn start(w: &World, login: &str) -> String {
    let nonce = "n0nce123";
    let puzzle = captcha::issue(&w.s, nonce, w.s.now()).unwrap();
    let solution = captcha::solve(&puzzle).unwrap();
    reset::start(&w.s, login, &solution, nonce, Some("192.0.2.1"), w.s.now())
        .await
        .unwrap()
}

async fn codes_sent(t: &TestDb) -> Vec<(String, String)> {
    outbox::recent(&t.db, 50)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m.template {
            Template::VerificationCode { code, .. } => Some((m.recipient, code)),
            _ => None,
        })
        .collect()
}

fn wrong(code: &str) -> String {
    code.chars()
        .map(|c| {
            if c == '9' {
                '0'
            } else {
                char::from(c as u8 + 1)
            }
        })
        .collect()
}

both_backends! {
    async fn one_gate_by_email_resets_and_ends_every_session(t: &TestDb) {
        let w = world(t, Role::User).await;
        let old = sign_in(&w.s, req("dana", PASSWORD), w.s.now()).await.unwrap().session_token;
        let flow = start(&w, "DANA").await;
        // The typed address matches case-insensitively.
        reset::send_email_code(&w.s, &flow, "Dana.Home@example.org", w.s.now()).await.unwrap();
        let sent = codes_sent(t).await;
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, HOME);
        assert!(matches!(reset::set_password(&w.s, &flow, NEW, NEW, None, w.s.now()).await, Err(ResetError::GatesIncomplete)));
        assert!(reset::verify(&w.s, &flow, &sent[0].1, w.s.now()).await.unwrap(), "one gate is enough");
        assert_eq!(reset::password_rules(&w.s, &flow, w.s.now()).await.unwrap().min_length, 8, "another factor is registered");
        reset::set_password(&w.s, &flow, NEW, NEW, Some("192.0.2.1"), w.s.now()).await.unwrap();
        assert!(current_user(&w.s, &old, w.s.now()).await.unwrap().is_none(), "sessions revoked");
        assert!(sign_in(&w.s, req("dana", PASSWORD), w.s.now()).await.is_err());
        sign_in(&w.s, req("dana", NEW), w.s.now()).await.unwrap();
        assert!(matches!(reset::load(&w.s, &flow, w.s.now()).await, Err(ResetError::FlowExpired)), "consumed");
        let notices = outbox::recent(&t.db, 50).await.unwrap().into_iter().filter(|m| matches!(m.template, Template::PasswordChanged { .. })).count();
        assert_eq!(notices, 2, "both addresses are told");
    }

    async fn unknown_and_known_accounts_get_the_same_answers(t: &TestDb) {
        let w = world(t, Role::User).await;
        let known = start(&w, "dana").await;
        let unknown = start(&w, "nobody").await;
        // A wrong address for the known account, any address for the unknown one.
        reset::send_email_code(&w.s, &known, "someone.else@example.org", w.s.now()).await.unwrap();
        reset::send_email_code(&w.s, &unknown, HOME, w.s.now()).await.unwrap();
        assert!(codes_sent(t).await.is_empty(), "nothing leaves for a non-matching destination");
        let a = reset::verify(&w.s, &known, "12345678", w.s.now()).await;
        let b = reset::verify(&w.s, &unknown, "12345678", w.s.now()).await;
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert!(matches!(a, Err(ResetError::WrongCode { attempts_left: 4 })), "{a:?}");
        reset::choose_authenticator(&w.s, &known, w.s.now()).await.unwrap();
        reset::choose_authenticator(&w.s, &unknown, w.s.now()).await.unwrap();
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
                reset::choose_authenticator(&w.s, &flow, w.s.now()).await.unwrap();
                outcomes.push(format!("{:?}", reset::verify(&w.s, &flow, "000000", w.s.now()).await));
                w.clock.advance(1);
            }
            assert!(outcomes[..4].iter().all(|o| o.contains("WrongCode")), "{login}: {outcomes:?}");
            assert!(outcomes[4].contains("TooManyAttempts"), "{login}: {outcomes:?}");
            assert!(outcomes[5].contains("MethodBlocked"), "{login}: {outcomes:?}");
        }
        // Blocked for 24 h, not one: but email, another method, still works.
        w.clock.advance(3600);
        let flow = start(&w, "dana").await;
        reset::choose_authenticator(&w.s, &flow, w.s.now()).await.unwrap();
        let totp = authenticator::code_at(&w.secret, w.s.now()).unwrap();
        assert!(matches!(reset::verify(&w.s, &flow, &totp, w.s.now()).await, Err(ResetError::MethodBlocked { .. })), "even the right code");
        reset::send_email_code(&w.s, &flow, HOME, w.s.now()).await.unwrap();
        let code = codes_sent(t).await[0].1.clone();
        assert!(reset::verify(&w.s, &flow, &code, w.s.now()).await.unwrap());
    }

    async fn admins_need_two_different_gates(t: &TestDb) {
        let w = world(t, Role::Admin).await;
        let flow = start(&w, "dana").await;
        reset::send_email_code(&w.s, &flow, HOME, w.s.now()).await.unwrap();
        let code = codes_sent(t).await[0].1.clone();
        assert!(!reset::verify(&w.s, &flow, &code, w.s.now()).await.unwrap(), "one of two");
        // Step 3 before the second gate: 409-like refusal, flow unchanged.
        let before = reset::load(&w.s, &flow, w.s.now()).await.unwrap().version;
        assert!(matches!(reset::set_password(&w.s, &flow, NEW, NEW, None, w.s.now()).await, Err(ResetError::GatesIncomplete)));
        assert_eq!(reset::load(&w.s, &flow, w.s.now()).await.unwrap().version, before);
        // Email again is not a second gate.
        assert!(matches!(reset::send_email_code(&w.s, &flow, HOME, w.s.now()).await, Err(ResetError::MethodNotAllowed)));
        reset::choose_authenticator(&w.s, &flow, w.s.now()).await.unwrap();
        let totp = authenticator::code_at(&w.secret, w.s.now()).unwrap();
        assert!(reset::verify(&w.s, &flow, &totp, w.s.now()).await.unwrap());
        reset::set_password(&w.s, &flow, NEW, NEW, None, w.s.now()).await.unwrap();
    }

    async fn fifty_parallel_final_submissions_succeed_once(t: &TestDb) {
        let w = world(t, Role::User).await;
        let flow = start(&w, "dana").await;
        reset::send_email_code(&w.s, &flow, HOME, w.s.now()).await.unwrap();
        let code = codes_sent(t).await[0].1.clone();
        reset::verify(&w.s, &flow, &code, w.s.now()).await.unwrap();
        let s = Arc::new(w.s.clone());
        let now = w.s.now();
        let tasks: Vec<_> = (0..50).map(|_| {
            let (s, flow) = (s.clone(), flow.clone());
            tokio::spawn(async move { reset::set_password(&s, &flow, NEW, NEW, None, now).await })
        }).collect();
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
        p.sspr_scope = "none".into();
        policy::save(&t.db, &p, w.s.now()).await.unwrap();
        let flow = start(&w, "dana").await;
        reset::send_email_code(&w.s, &flow, HOME, w.s.now()).await.unwrap();
        let code = codes_sent(t).await[0].1.clone();
        assert!(matches!(reset::verify(&w.s, &flow, &wrong(&code), w.s.now()).await, Err(ResetError::WrongCode { .. })));
        assert!(matches!(reset::verify(&w.s, &flow, &code, w.s.now()).await, Err(ResetError::NotEnabled)));
    }

    async fn captchas_are_single_use_bound_and_short_lived(t: &TestDb) {
        let w = world(t, Role::User).await;
        let p = captcha::issue(&w.s, "mine1234", w.s.now()).unwrap();
        let solution = captcha::solve(&p).unwrap();
        assert_eq!(captcha::redeem(&w.s, &solution, "theirs12", w.s.now()).await, Err(CaptchaError::Invalid));
        assert_eq!(captcha::redeem(&w.s, "{}", "mine1234", w.s.now()).await, Err(CaptchaError::Invalid));
        assert_eq!(captcha::redeem(&w.s, &solution, "mine1234", w.s.now()).await, Ok(()));
        assert_eq!(captcha::redeem(&w.s, &solution, "mine1234", w.s.now()).await, Err(CaptchaError::Replayed));
        let late = captcha::issue(&w.s, "mine1234", w.s.now()).unwrap();
        w.clock.advance(captcha::TTL_SECS + 1);
        assert_eq!(captcha::redeem(&w.s, &captcha::solve(&late).unwrap(), "mine1234", w.s.now()).await, Err(CaptchaError::Expired));
        // Without a CAPTCHA (no JavaScript), three starts per address per hour.
        for _ in 0..3 {
            reset::start(&w.s, "dana", "", "", Some("198.51.100.7"), w.s.now()).await.unwrap();
        }
        assert!(matches!(reset::start(&w.s, "dana", "", "", Some("198.51.100.7"), w.s.now()).await, Err(ResetError::Throttled { .. })));

    }

    async fn resend_waits_for_the_cooldown_and_keeps_the_failure_count(t: &TestDb) {
        let w = world(t, Role::User).await;
        let flow = start(&w, "dana").await;
        reset::send_email_code(&w.s, &flow, HOME, w.s.now()).await.unwrap();
        let first = codes_sent(t).await[0].1.clone();
        assert!(matches!(reset::verify(&w.s, &flow, &wrong(&first), w.s.now()).await, Err(ResetError::WrongCode { attempts_left: 4 })));
        assert!(matches!(reset::resend(&w.s, &flow, w.s.now()).await, Err(ResetError::ResendTooSoon { .. })));
        w.clock.advance(60);
        reset::resend(&w.s, &flow, w.s.now()).await.unwrap();
        let sent = codes_sent(t).await;
        assert_eq!(sent.len(), 2);
        let second = sent[0].1.clone();
        if first != second {
            assert!(matches!(reset::verify(&w.s, &flow, &first, w.s.now()).await, Err(ResetError::WrongCode { attempts_left: 3 })), "the old code is dead and the count goes on");
        }
        assert!(reset::verify(&w.s, &flow, &second, w.s.now()).await.unwrap());
    }

    async fn unlock_only_lifts_the_lockout_and_keeps_the_password(t: &TestDb) {
        let w = world(t, Role::User).await;
        for i in 0..10 {
            sign_in(&w.s, req("dana", &format!("wrong {i}")), w.s.now()).await.ok();
        }
        assert!(sign_in(&w.s, req("dana", PASSWORD), w.s.now()).await.is_err(), "locked");
        let flow = start(&w, "dana").await;
        assert!(matches!(reset::unlock(&w.s, &flow, None, w.s.now()).await, Err(ResetError::GatesIncomplete)));
        reset::send_email_code(&w.s, &flow, HOME, w.s.now()).await.unwrap();
        let code = codes_sent(t).await[0].1.clone();
        reset::verify(&w.s, &flow, &code, w.s.now()).await.unwrap();
        reset::unlock(&w.s, &flow, None, w.s.now()).await.unwrap();
        sign_in(&w.s, req("dana", PASSWORD), w.s.now()).await.unwrap();
        assert!(matches!(reset::set_password(&w.s, &flow, NEW, NEW, None, w.s.now()).await, Err(ResetError::FlowExpired)), "the flow is spent");
        // The admin can turn it off.
        let mut p = policy::load(&t.db).await.unwrap();
        p.allow_unlock = false;
        policy::save(&t.db, &p, w.s.now()).await.unwrap();
        let flow = start(&w, "dana").await;
        assert!(matches!(reset::unlock(&w.s, &flow, None, w.s.now()).await, Err(ResetError::MethodNotAllowed)));
    }

    async fn an_admin_resetting_their_password_tells_the_other_admins(t: &TestDb) {
        let w = world(t, Role::Admin).await;
        users::create(&t.db, &Login::parse("avery").unwrap(), &NewUser {
            login_display: "avery".into(),
            display_name: "Avery Admin".into(),
            email: Some("avery@contoso.example".into()),
            role: Role::Admin,
            password_hash: None,
            locale: Some("he-IL".into()),
        }, &[], w.s.now()).await.unwrap();
        let flow = start(&w, "dana").await;
        reset::send_email_code(&w.s, &flow, HOME, w.s.now()).await.unwrap();
        let code = codes_sent(t).await[0].1.clone();
        reset::verify(&w.s, &flow, &code, w.s.now()).await.unwrap();
        reset::choose_authenticator(&w.s, &flow, w.s.now()).await.unwrap();
        reset::verify(&w.s, &flow, &authenticator::code_at(&w.secret, w.s.now()).unwrap(), w.s.now()).await.unwrap();
        reset::set_password(&w.s, &flow, NEW, NEW, None, w.s.now()).await.unwrap();
        let told: Vec<_> = outbox::recent(&t.db, 50).await.unwrap().into_iter()
            .filter(|m| matches!(&m.template, Template::AdminPasswordReset { admin_login, .. } if admin_login == "dana"))
            .collect();
        assert_eq!(told.len(), 1);
        assert_eq!((told[0].recipient.as_str(), told[0].locale.as_str()), ("avery@contoso.example", "he-IL"));
    }
}
