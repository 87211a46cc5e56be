//! The registration flow: docs/security.md #22–#28, #31, #51.

use std::sync::Arc;

use sspr_domain::config::Config;
use sspr_domain::methods::{self, Kind, PhoneChannel};
use sspr_domain::outbox::{self, Channel, Template};
use sspr_domain::phone::PhoneError;
use sspr_domain::questions::{self, Question, QuestionError};
use sspr_domain::registration::{self as reg, RegError};
use sspr_domain::testkit::{TestDb, create_user, dana, last_code, services, wrong_code};
use sspr_domain::users::{self, Role, User};
use sspr_domain::{Clock, ManualClock, Services, authenticator, both_backends, policy};

async fn setup(t: &TestDb, role: Role) -> (Services, ManualClock, User) {
    let (s, clock) = services(t.db.clone(), Config::default());
    let id = create_user(&t.db, &dana(role), clock.now()).await;
    let user = users::find_by_id(t.db.pool(), id).await.unwrap().unwrap();
    (s, clock, user)
}

both_backends!(
    email_is_registered_with_the_mailed_code,
    wrong_codes_are_counted_and_resend_does_not_reset_them,
    an_old_code_dies_on_resend_and_any_code_after_ten_minutes,
    ime_digits_and_separators_are_the_same_code,
    twenty_parallel_submissions_register_once,
    a_flow_is_bound_to_its_user_and_expires,
    a_code_from_another_flow_does_not_work,
    bad_destinations_are_refused_before_anything_is_sent,
    sends_are_capped_per_destination_per_hour,
    authenticator_app_activates_only_with_a_valid_code,
    cancel_leaves_nothing_half_registered,
    admins_need_two_kinds_and_two_emails_are_one,
    additions_are_notified_to_the_other_addresses,
    registration_is_required_skippable_three_times_and_reconfirmed,
    removing_a_method_is_refused_below_the_policy_and_notified_otherwise,
    two_removals_in_parallel_never_go_below_the_policy,
    ask_me_later_in_parallel_is_spent_once_per_click_allowed,
    a_failed_delivery_is_reported_to_the_wizard,
);

async fn email_is_registered_with_the_mailed_code(t: &TestDb) {
    let (s, _c, user) = setup(t, Role::User).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    reg::send_email_code(&s, &flow, &user, " dana.home@example.org ", s.now())
        .await
        .unwrap();
    let (code, channel) = last_code(&s, "dana.home@example.org").await;
    assert_eq!((code.len(), channel), (8, Channel::Email));
    assert_eq!(
        reg::verify_code(&s, &flow, &user, &code, s.now())
            .await
            .unwrap(),
        Kind::Email
    );
    let list = methods::list(t.db.pool(), user.id).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].destination, "dana.home@example.org");
    assert!(list[0].is_default);
    // The code is single use.
    assert!(matches!(
        reg::verify_code(&s, &flow, &user, &code, s.now()).await,
        Err(RegError::NoPendingCode)
    ));
    reg::finish(&s, &flow, &user, s.now()).await.unwrap();
    assert!(matches!(
        reg::load(&s, &flow, user.id, s.now()).await,
        Err(RegError::FlowExpired)
    ));
    // Only the code's hash is in the flow row.
    let data: String = sqlx::query_scalar("SELECT data FROM flows")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert!(!data.contains(&code));
}

async fn wrong_codes_are_counted_and_resend_does_not_reset_them(t: &TestDb) {
    let (s, clock, user) = setup(t, Role::User).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    reg::send_email_code(&s, &flow, &user, "d@example.org", s.now())
        .await
        .unwrap();
    let (first, _) = last_code(&s, "d@example.org").await;
    for left in [4, 3, 2, 1] {
        let r = reg::verify_code(&s, &flow, &user, &wrong_code(&first), s.now()).await;
        assert!(
            matches!(r, Err(RegError::WrongCode { attempts_left }) if attempts_left == left),
            "{r:?}"
        );
    }
    assert!(matches!(
        reg::resend(&s, &flow, &user, s.now()).await,
        Err(RegError::ResendTooSoon { .. })
    ));
    clock.advance(61);
    reg::resend(&s, &flow, &user, s.now()).await.unwrap();
    let (second, _) = last_code(&s, "d@example.org").await;
    assert_ne!(first, second);
    // docs/security.md #25: 4 wrong, resend, 1 wrong -> locked.
    assert!(matches!(
        reg::verify_code(&s, &flow, &user, &wrong_code(&second), s.now()).await,
        Err(RegError::TooManyAttempts)
    ));
    assert!(matches!(
        reg::verify_code(&s, &flow, &user, &second, s.now()).await,
        Err(RegError::TooManyAttempts)
    ));
    assert!(
        methods::list(t.db.pool(), user.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn an_old_code_dies_on_resend_and_any_code_after_ten_minutes(t: &TestDb) {
    let (s, clock, user) = setup(t, Role::User).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    reg::send_email_code(&s, &flow, &user, "d@example.org", s.now())
        .await
        .unwrap();
    let (old, _) = last_code(&s, "d@example.org").await;
    clock.advance(61);
    reg::resend(&s, &flow, &user, s.now()).await.unwrap();
    assert!(matches!(
        reg::verify_code(&s, &flow, &user, &old, s.now()).await,
        Err(RegError::WrongCode { .. })
    ));
    let (new, _) = last_code(&s, "d@example.org").await;
    clock.advance(601);
    assert!(matches!(
        reg::verify_code(&s, &flow, &user, &new, s.now()).await,
        Err(RegError::CodeExpired)
    ));
}

async fn ime_digits_and_separators_are_the_same_code(t: &TestDb) {
    let (s, _c, user) = setup(t, Role::User).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    reg::send_phone_code(
        &s,
        &flow,
        &user,
        "IL",
        "050-234-5678",
        PhoneChannel::Sms,
        s.now(),
    )
    .await
    .unwrap();
    let (code, channel) = last_code(&s, "+972502345678").await;
    assert_eq!((code.len(), channel), (6, Channel::Sms));
    let fullwidth: String = code
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap())
        .collect();
    let typed = format!("{} {}", &fullwidth[..9], &fullwidth[9..]);
    assert!(matches!(
        reg::verify_code(&s, &flow, &user, "12a456", s.now()).await,
        Err(RegError::CodeFormat { digits: 6 })
    ));
    assert_eq!(
        reg::verify_code(&s, &flow, &user, &typed, s.now())
            .await
            .unwrap(),
        Kind::Phone
    );
    let m = &methods::list(t.db.pool(), user.id).await.unwrap()[0];
    assert_eq!(
        (m.destination.as_str(), m.phone_channel),
        ("+972502345678", Some(PhoneChannel::Sms))
    );
    assert_eq!(m.masked_destination(), "***********78");
}

async fn twenty_parallel_submissions_register_once(t: &TestDb) {
    let (s, _c, user) = setup(t, Role::User).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    reg::send_email_code(&s, &flow, &user, "d@example.org", s.now())
        .await
        .unwrap();
    let (code, _) = last_code(&s, "d@example.org").await;
    let s = Arc::new(s);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (s, flow, user, code) = (s.clone(), flow.clone(), user.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            reg::verify_code(&s, &flow, &user, &code, s.now())
                .await
                .is_ok()
        }));
    }
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap());
    }
    assert_eq!(wins, 1);
    assert_eq!(methods::list(t.db.pool(), user.id).await.unwrap().len(), 1);
    let added: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE event = 'security_info_added'")
            .fetch_one(t.db.pool())
            .await
            .unwrap();
    assert_eq!(added, 1);
}

async fn a_flow_is_bound_to_its_user_and_expires(t: &TestDb) {
    let (s, clock, user) = setup(t, Role::User).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    let mut other = user.clone();
    other.id += 1000;
    assert!(matches!(
        reg::send_email_code(&s, &flow, &other, "x@example.org", s.now()).await,
        Err(RegError::FlowExpired)
    ));
    // A second start with the live token continues the same flow.
    assert_eq!(
        reg::start(&s, &user, Some(&flow), s.now()).await.unwrap(),
        flow
    );
    clock.advance(15 * 60 + 1);
    assert!(matches!(
        reg::load(&s, &flow, user.id, s.now()).await,
        Err(RegError::FlowExpired)
    ));
    assert_ne!(
        reg::start(&s, &user, Some(&flow), s.now()).await.unwrap(),
        flow
    );
}

async fn a_code_from_another_flow_does_not_work(t: &TestDb) {
    let (s, _c, user) = setup(t, Role::User).await;
    let a = reg::start(&s, &user, None, s.now()).await.unwrap();
    let b = reg::start(&s, &user, Some("not-a-token"), s.now())
        .await
        .unwrap();
    reg::send_email_code(&s, &a, &user, "d@example.org", s.now())
        .await
        .unwrap();
    let (code_a, _) = last_code(&s, "d@example.org").await;
    reg::send_email_code(&s, &b, &user, "d@example.org", s.now())
        .await
        .unwrap();
    let (code_b, _) = last_code(&s, "d@example.org").await;
    if code_a != code_b {
        assert!(matches!(
            reg::verify_code(&s, &b, &user, &code_a, s.now()).await,
            Err(RegError::WrongCode { .. })
        ));
    }
    assert!(
        reg::verify_code(&s, &b, &user, &code_b, s.now())
            .await
            .is_ok()
    );
}

async fn bad_destinations_are_refused_before_anything_is_sent(t: &TestDb) {
    let (s, _c, user) = setup(t, Role::User).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    for bad in [
        "a@b,c@d.example",
        "a@x.test\r\nBcc: b@y.test",
        "no-at-sign",
        &format!("{}@x.test", "a".repeat(65)),
    ] {
        assert!(
            matches!(
                reg::send_email_code(&s, &flow, &user, bad, s.now()).await,
                Err(RegError::InvalidEmail)
            ),
            "{bad:?}"
        );
    }
    let phone = |n: &'static str| {
        reg::send_phone_code(&s, &flow, &user, "IL", n, PhoneChannel::Sms, s.now())
    };
    assert!(matches!(
        phone("05O-CALL-NOW").await,
        Err(RegError::InvalidPhone(PhoneError::Invalid))
    ));
    assert!(matches!(
        phone("+882 1234 5678 90").await,
        Err(RegError::InvalidPhone(PhoneError::RegionNotAllowed))
    ));
    assert!(matches!(
        phone("+44 7400 123456").await,
        Err(RegError::InvalidPhone(PhoneError::RegionNotAllowed))
    ));
    assert!(
        outbox::recent(t.db.pool(), &s.key, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn sends_are_capped_per_destination_per_hour(t: &TestDb) {
    let (s, clock, user) = setup(t, Role::User).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    for _ in 0..5 {
        reg::send_email_code(&s, &flow, &user, "d@example.org", s.now())
            .await
            .unwrap();
        // The cooldown between two sends to one address (docs/security.md #77).
        clock.advance(60);
    }
    assert!(matches!(
        reg::send_email_code(&s, &flow, &user, "d@example.org", s.now()).await,
        Err(RegError::Throttled { .. })
    ));
    clock.advance(3601);
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    reg::send_email_code(&s, &flow, &user, "d@example.org", s.now())
        .await
        .unwrap();
}

async fn authenticator_app_activates_only_with_a_valid_code(t: &TestDb) {
    let (s, _c, user) = setup(t, Role::User).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    let secret = reg::begin_authenticator(&s, &flow, &user, s.now())
        .await
        .unwrap();
    assert_eq!(secret.len(), 20, "160-bit secret");
    assert_eq!(
        reg::begin_authenticator(&s, &flow, &user, s.now())
            .await
            .unwrap(),
        secret,
        "a reload shows the same key"
    );
    assert!(matches!(
        reg::verify_authenticator(&s, &flow, &user, "000000", s.now()).await,
        Err(RegError::WrongCode { .. })
    ));
    assert!(
        methods::list(t.db.pool(), user.id)
            .await
            .unwrap()
            .is_empty(),
        "inactive until proven"
    );
    let code = authenticator::code_at(&secret, s.now()).unwrap();
    reg::verify_authenticator(&s, &flow, &user, &code, s.now())
        .await
        .unwrap();
    let m = &methods::list(t.db.pool(), user.id).await.unwrap()[0];
    assert_eq!(m.kind, Kind::Authenticator);
    let stored = m.secret.clone().unwrap();
    assert!(
        !stored.contains(&authenticator::secret_text(&secret)),
        "encrypted at rest"
    );
    assert_eq!(
        authenticator::decrypt(&s.key, user.id, &stored).unwrap(),
        secret
    );
    assert!(m.last_step > 0);
}

async fn cancel_leaves_nothing_half_registered(t: &TestDb) {
    let (s, _c, user) = setup(t, Role::User).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    reg::send_email_code(&s, &flow, &user, "d@example.org", s.now())
        .await
        .unwrap();
    let (code, _) = last_code(&s, "d@example.org").await;
    reg::cancel_pending(&s, &flow, &user, s.now())
        .await
        .unwrap();
    assert!(matches!(
        reg::verify_code(&s, &flow, &user, &code, s.now()).await,
        Err(RegError::NoPendingCode)
    ));
    assert!(
        methods::list(t.db.pool(), user.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        reg::finish(&s, &flow, &user, s.now()).await,
        Err(RegError::NotEnoughMethods { have: 0, need: 1 })
    ));
}

async fn admins_need_two_kinds_and_two_emails_are_one(t: &TestDb) {
    let (s, clock, admin) = setup(t, Role::Admin).await;
    let flow = reg::start(&s, &admin, None, s.now()).await.unwrap();
    for address in ["a@example.org", "b@example.org"] {
        reg::send_email_code(&s, &flow, &admin, address, s.now())
            .await
            .unwrap();
        let (code, _) = last_code(&s, address).await;
        reg::verify_code(&s, &flow, &admin, &code, s.now())
            .await
            .unwrap();
        clock.advance(1);
    }
    // docs/security.md #31: email + second email is not two methods.
    assert!(matches!(
        reg::finish(&s, &flow, &admin, s.now()).await,
        Err(RegError::NotEnoughMethods { have: 1, need: 2 })
    ));
    let secret = reg::begin_authenticator(&s, &flow, &admin, s.now())
        .await
        .unwrap();
    reg::verify_authenticator(
        &s,
        &flow,
        &admin,
        &authenticator::code_at(&secret, s.now()).unwrap(),
        s.now(),
    )
    .await
    .unwrap();
    reg::finish(&s, &flow, &admin, s.now()).await.unwrap();
    // Questions are never offered to admins.
    let mut p = policy::load(&t.db).await.unwrap();
    p.allow_questions = true;
    assert!(!reg::allowed(&p, &admin, Kind::Questions));
}

async fn additions_are_notified_to_the_other_addresses(t: &TestDb) {
    let (s, _c, user) = setup(t, Role::User).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    reg::send_phone_code(
        &s,
        &flow,
        &user,
        "US",
        "+1 201 555 0123",
        PhoneChannel::Voice,
        s.now(),
    )
    .await
    .unwrap();
    let (code, channel) = last_code(&s, "+12015550123").await;
    assert_eq!(channel, Channel::Voice);
    reg::verify_code(&s, &flow, &user, &code, s.now())
        .await
        .unwrap();
    let notices: Vec<_> = outbox::recent(t.db.pool(), &s.key, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| {
            matches!(
                &m.template,
                Template::SecurityInfoChanged { method, removed: false, .. } if method == "phone"
            )
        })
        .collect();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].recipient, "dana@contoso.example");
}

async fn registration_is_required_skippable_three_times_and_reconfirmed(t: &TestDb) {
    let (s, clock, user) = setup(t, Role::User).await;
    let st = reg::standing(&s, &user, s.now()).await.unwrap();
    assert!(st.must_register && st.may_skip && !st.must_reconfirm);
    for _ in 0..3 {
        assert!(reg::skip(&s, &user, s.now()).await.unwrap());
    }
    assert!(
        !reg::skip(&s, &user, s.now()).await.unwrap(),
        "the fourth postponement is refused"
    );
    assert!(!reg::standing(&s, &user, s.now()).await.unwrap().may_skip);
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    let secret = reg::begin_authenticator(&s, &flow, &user, s.now())
        .await
        .unwrap();
    reg::verify_authenticator(
        &s,
        &flow,
        &user,
        &authenticator::code_at(&secret, s.now()).unwrap(),
        s.now(),
    )
    .await
    .unwrap();
    reg::finish(&s, &flow, &user, s.now()).await.unwrap();
    assert!(
        !reg::standing(&s, &user, s.now())
            .await
            .unwrap()
            .must_register
    );
    clock.advance(180 * 86_400);
    assert!(
        reg::standing(&s, &user, s.now())
            .await
            .unwrap()
            .must_reconfirm
    );
    reg::reconfirm(&s, &user, s.now()).await.unwrap();
    assert!(
        !reg::standing(&s, &user, s.now())
            .await
            .unwrap()
            .must_reconfirm
    );
}

/// Two tabs each remove a different method of a user with two: without
/// the account lock both saw the other's method still there and left
/// none (docs/security.md #27).
async fn two_removals_in_parallel_never_go_below_the_policy(t: &TestDb) {
    let (s, _clock, user) = setup(t, Role::User).await;
    for round in 0..5 {
        methods::upsert(
            t.db.pool(),
            user.id,
            &methods::NewMethod::email("a@example.org"),
            s.now(),
        )
        .await
        .unwrap();
        let phone = methods::NewMethod {
            kind: Kind::Phone,
            destination: "+15555550100",
            phone_channel: Some(PhoneChannel::Sms),
            secret: None,
            last_step: 0,
            answers: None,
        };
        methods::upsert(t.db.pool(), user.id, &phone, s.now())
            .await
            .unwrap();
        let list = methods::list(t.db.pool(), user.id).await.unwrap();
        assert_eq!(methods::counted(&list), 2, "round {round}");
        let (a, b) = tokio::join!(
            reg::remove_method(&s, &user, list[0].id, s.now()),
            reg::remove_method(&s, &user, list[1].id, s.now()),
        );
        assert!(
            a.is_ok() != b.is_ok(),
            "round {round}: exactly one: {a:?} / {b:?}"
        );
        let failed = if a.is_ok() { b } else { a };
        assert!(matches!(failed, Err(RegError::LastMethod)), "{failed:?}");
        let left = methods::list(t.db.pool(), user.id).await.unwrap();
        assert_eq!(methods::counted(&left), 1, "round {round}");
    }
}

/// Parallel "Ask me later" clicks spend no more postponements than the
/// policy allows.
async fn ask_me_later_in_parallel_is_spent_once_per_click_allowed(t: &TestDb) {
    let (s, _clock, user) = setup(t, Role::User).await;
    let allowed = policy::load(&s.db).await.unwrap().max_registration_skips;
    let clicks = futures::future::join_all((0..10).map(|_| reg::skip(&s, &user, s.now()))).await;
    let spent = clicks.iter().filter(|c| matches!(c, Ok(true))).count();
    assert_eq!(spent, usize::from(allowed), "{clicks:?}");
    assert!(clicks.iter().all(|c| c.is_ok()), "{clicks:?}");
}

async fn removing_a_method_is_refused_below_the_policy_and_notified_otherwise(t: &TestDb) {
    let (s, clock, user) = setup(t, Role::User).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    for address in ["a@example.org", "b@example.org"] {
        reg::send_email_code(&s, &flow, &user, address, s.now())
            .await
            .unwrap();
        let (code, _) = last_code(&s, address).await;
        reg::verify_code(&s, &flow, &user, &code, s.now())
            .await
            .unwrap();
        clock.advance(1);
    }
    let list = methods::list(t.db.pool(), user.id).await.unwrap();
    assert!(list[0].is_default && !list[1].is_default);
    assert!(
        methods::set_default(&t.db, user.id, list[1].id)
            .await
            .unwrap()
    );
    reg::remove_method(&s, &user, list[1].id, s.now())
        .await
        .unwrap();
    let left = methods::list(t.db.pool(), user.id).await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(
        left[0].is_default,
        "the remaining method became the default"
    );
    assert!(matches!(
        reg::remove_method(&s, &user, left[0].id, s.now()).await,
        Err(RegError::LastMethod)
    ));
    assert!(matches!(
        reg::remove_method(&s, &user, 999_999, s.now()).await,
        Err(RegError::NoSuchMethod)
    ));
    let mut removed: Vec<_> = outbox::recent(t.db.pool(), &s.key, 20)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| {
            matches!(
                &m.template,
                Template::SecurityInfoChanged { removed: true, .. }
            )
        })
        .map(|m| m.recipient)
        .collect();
    removed.sort();
    assert_eq!(
        removed,
        vec![
            "a@example.org".to_owned(),
            "dana@contoso.example".to_owned()
        ]
    );
}

async fn a_failed_delivery_is_reported_to_the_wizard(t: &TestDb) {
    struct Down;
    impl outbox::Sender for Down {
        async fn send(&self, _m: &outbox::Message) -> Result<(), String> {
            Err("provider down".into())
        }
    }
    let (s, _c, user) = setup(t, Role::User).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    reg::send_phone_code(
        &s,
        &flow,
        &user,
        "IL",
        "050-234-5678",
        PhoneChannel::Sms,
        s.now(),
    )
    .await
    .unwrap();
    let loaded = reg::load(&s, &flow, user.id, s.now()).await.unwrap();
    assert!(
        !reg::delivery_failed(&s, &loaded).await.unwrap(),
        "not tried yet"
    );
    outbox::deliver_due(&t.db, &s.key, &Down, s.clock.as_ref())
        .await
        .unwrap();
    assert!(reg::delivery_failed(&s, &loaded).await.unwrap());
}

fn questions_entries(answers: [&str; 3]) -> Vec<questions::Entry> {
    let qs = [
        Question::Predefined("first_pet".into()),
        Question::Predefined("birth_city".into()),
        Question::Custom("What was the name of my first street?".into()),
    ];
    qs.into_iter()
        .zip(answers)
        .map(|(question, answer)| questions::Entry {
            question,
            answer: answer.into(),
        })
        .collect()
}

async fn allow_questions(t: &TestDb, now: sspr_domain::Timestamp) {
    let mut p = policy::load(&t.db).await.unwrap();
    p.allow_questions = true;
    policy::save(&t.db, &p, now).await.unwrap();
}

both_backends!(
    questions_are_off_by_default_and_never_for_admins,
    questions_are_hashed_normalized_and_never_the_only_method,
    bad_question_sets_are_refused_before_any_hashing,
);

async fn questions_are_off_by_default_and_never_for_admins(t: &TestDb) {
    let (s, _c, user) = setup(t, Role::User).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    let set = questions_entries(["Rex", "Haifa", "Herzl"]);
    assert!(matches!(
        reg::register_questions(&s, &flow, &user, &set, s.now()).await,
        Err(RegError::MethodNotAllowed)
    ));
    allow_questions(t, s.now()).await;
    sqlx::query("UPDATE users SET role = 'admin' WHERE id = $1")
        .bind(user.id)
        .execute(t.db.pool())
        .await
        .unwrap();
    let admin = users::find_by_id(t.db.pool(), user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(admin.role, Role::Admin);
    assert!(matches!(
        reg::register_questions(&s, &flow, &admin, &set, s.now()).await,
        Err(RegError::MethodNotAllowed)
    ));
    assert!(
        methods::list(t.db.pool(), admin.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn questions_are_hashed_normalized_and_never_the_only_method(t: &TestDb) {
    let (s, _c, user) = setup(t, Role::User).await;
    allow_questions(t, s.now()).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    reg::register_questions(
        &s,
        &flow,
        &user,
        &questions_entries(["Rex", "Haifa", "Herzl Street"]),
        s.now(),
    )
    .await
    .unwrap();
    let list = methods::list(t.db.pool(), user.id).await.unwrap();
    assert_eq!(list.len(), 1);
    let stored = list[0].answers.clone().unwrap();
    assert!(
        !stored.contains("Rex") && !stored.to_lowercase().contains("haifa"),
        "answers are stored hashed only"
    );
    assert!(stored.contains("$argon2id$"));
    // Questions alone count for nothing (never the only method).
    assert_eq!(methods::counted(&list), 0);
    assert!(matches!(
        reg::finish(&s, &flow, &user, s.now()).await,
        Err(RegError::NotEnoughMethods { have: 0, need: 1 })
    ));
    // Normalized: case, width and spacing do not matter; any wrong answer fails.
    let right = vec![
        "  REX".to_owned(),
        "ＨＡＩＦＡ".to_owned(),
        "herzl   street".to_owned(),
    ];
    assert!(questions::check(&s.hasher, &stored, &right).await.unwrap());
    let wrong = vec!["rex".to_owned(), "haifa".to_owned(), "herzl".to_owned()];
    assert!(!questions::check(&s.hasher, &stored, &wrong).await.unwrap());
    // With another method they count, and then they cannot be removed
    // leaving questions alone.
    reg::send_email_code(&s, &flow, &user, "dana.home@example.org", s.now())
        .await
        .unwrap();
    let (code, _) = last_code(&s, "dana.home@example.org").await;
    reg::verify_code(&s, &flow, &user, &code, s.now())
        .await
        .unwrap();
    let list = methods::list(t.db.pool(), user.id).await.unwrap();
    assert_eq!(methods::counted(&list), 2);
    let email = list.iter().find(|m| m.kind == Kind::Email).unwrap();
    assert!(matches!(
        reg::remove_method(&s, &user, email.id, s.now()).await,
        Err(RegError::LastMethod)
    ));
    reg::finish(&s, &flow, &user, s.now()).await.unwrap();
}

async fn bad_question_sets_are_refused_before_any_hashing(t: &TestDb) {
    let (s, _c, user) = setup(t, Role::User).await;
    allow_questions(t, s.now()).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    let before = s.hasher.hash_count();
    let cases: Vec<(Vec<questions::Entry>, QuestionError)> = vec![
        (
            questions_entries(["Rex", "Haifa", "Herzl"])[..2].to_vec(),
            QuestionError::WrongCount { got: 2, need: 3 },
        ),
        (
            questions_entries(["Rex", "rex ", "Herzl"]),
            QuestionError::RepeatedAnswer { index: 2 },
        ),
        (
            questions_entries(["Rex", "Haifa", "no"]),
            QuestionError::AnswerLength {
                index: 3,
                min: 3,
                max: 40,
            },
        ),
    ];
    for (set, expected) in cases {
        match reg::register_questions(&s, &flow, &user, &set, s.now()).await {
            Err(RegError::Questions(e)) => assert_eq!(e, expected),
            other => panic!("expected {expected:?}, got {other:?}"),
        }
    }
    let mut repeated = questions_entries(["Rex", "Haifa", "Herzl"]);
    repeated[1].question = Question::Predefined("first_pet".into());
    assert!(matches!(
        reg::register_questions(&s, &flow, &user, &repeated, s.now()).await,
        Err(RegError::Questions(QuestionError::RepeatedQuestion {
            index: 2
        }))
    ));
    assert_eq!(
        s.hasher.hash_count(),
        before,
        "a refused set costs no argon2 work"
    );
    assert!(
        methods::list(t.db.pool(), user.id)
            .await
            .unwrap()
            .is_empty(),
        "nothing half-written"
    );
    // A dead flow registers nothing either.
    assert!(matches!(
        reg::register_questions(
            &s,
            "not-a-flow",
            &user,
            &questions_entries(["Rex", "Haifa", "Herzl"]),
            s.now()
        )
        .await,
        Err(RegError::FlowExpired)
    ));
}
