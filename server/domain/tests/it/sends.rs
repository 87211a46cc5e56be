//! The limits every code send passes, in both wizards (docs/security.md
//! #77): the cooldown, the caps per phone number and per day, and the
//! hourly budget of text messages and calls for everyone.

use sspr_domain::config::Config;
use sspr_domain::methods::{Kind, NewMethod, PhoneChannel};
use sspr_domain::outbox::{self, Template};
use sspr_domain::registration::{self as reg, RegError};
use sspr_domain::reset::{self, ResetError};
use sspr_domain::testkit::{TestDb, create_user, dana, ip, last_code, services};
use sspr_domain::users::{self, NewUser, Role, User};
use sspr_domain::{Clock, ManualClock, Services, both_backends, captcha, methods, sends};

both_backends!(
    a_double_click_keeps_the_first_code_in_both_wizards,
    a_phone_number_gets_at_most_three_codes_an_hour_two_minutes_apart,
    an_address_gets_at_most_twenty_codes_a_day,
    the_hourly_phone_budget_stops_phone_codes_and_alerts_the_admins_once,
);

const MOBILE: &str = "+972502345678";

async fn setup(t: &TestDb, config: Config) -> (Services, ManualClock, User) {
    let (s, clock) = services(t.db.clone(), config);
    let id = create_user(&t.db, &dana(Role::User), clock.now()).await;
    let user = users::find_by_id(t.db.pool(), id).await.unwrap().unwrap();
    (s, clock, user)
}

async fn reset_flow(s: &Services, login: &str) -> String {
    let nonce = "n0nce123";
    let puzzle = captcha::issue(s, nonce, s.now()).unwrap();
    let solution = captcha::solve(&puzzle).unwrap();
    reset::start(s, login, &solution, nonce, ip("192.0.2.1"), s.now())
        .await
        .unwrap()
}

async fn a_double_click_keeps_the_first_code_in_both_wizards(t: &TestDb) {
    let (s, _clock, user) = setup(t, Config::default()).await;
    // Registration.
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    reg::send_email_code(&s, &flow, &user, "d@example.org", s.now())
        .await
        .unwrap();
    let (first, _) = last_code(&s, "d@example.org").await;
    assert!(matches!(
        reg::send_email_code(&s, &flow, &user, "d@example.org", s.now()).await,
        Err(RegError::ResendTooSoon { .. })
    ));
    reg::verify_code(&s, &flow, &user, &first, s.now())
        .await
        .unwrap();
    // Reset, with the address just registered.
    let flow = reset_flow(&s, "dana").await;
    reset::send_email_code(&s, &flow, "d@example.org", s.now())
        .await
        .unwrap();
    let (first, _) = last_code(&s, "d@example.org").await;
    assert!(matches!(
        reset::send_email_code(&s, &flow, "D@example.org", s.now()).await,
        Err(ResetError::ResendTooSoon { .. })
    ));
    assert!(reset::verify(&s, &flow, &first, s.now()).await.unwrap());
}

async fn a_phone_number_gets_at_most_three_codes_an_hour_two_minutes_apart(t: &TestDb) {
    let (s, clock, user) = setup(t, Config::default()).await;
    let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
    let send = || reg::send_phone_code(&s, &flow, &user, "IL", MOBILE, PhoneChannel::Sms, s.now());
    send().await.unwrap();
    clock.advance(sends::PHONE_COOLDOWN_SECS - 1);
    assert!(matches!(send().await, Err(RegError::ResendTooSoon { .. })));
    clock.advance(1);
    send().await.unwrap();
    clock.advance(sends::PHONE_COOLDOWN_SECS);
    send().await.unwrap();
    clock.advance(sends::PHONE_COOLDOWN_SECS);
    assert!(
        matches!(send().await, Err(RegError::Throttled { .. })),
        "three an hour"
    );
    // The reset wizard counts the same number: its fourth is refused too.
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
        s.now(),
    )
    .await
    .unwrap();
    let flow = reset_flow(&s, "dana").await;
    assert!(matches!(
        reset::send_phone_code(&s, &flow, "IL", MOBILE, PhoneChannel::Sms, s.now()).await,
        Err(ResetError::Throttled { .. })
    ));
}

async fn an_address_gets_at_most_twenty_codes_a_day(t: &TestDb) {
    let (s, clock, user) = setup(t, Config::default()).await;
    let mut sent = 0;
    let refused = loop {
        let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
        match reg::send_email_code(&s, &flow, &user, "d@example.org", s.now()).await {
            Ok(()) => sent += 1,
            Err(e) => break e,
        }
        // Under every hourly limit: 4 an hour.
        clock.advance(900);
        assert!(sent <= sends::EMAIL_SENDS_PER_DAY, "never more");
    };
    assert_eq!(sent, sends::EMAIL_SENDS_PER_DAY);
    assert!(
        matches!(refused, RegError::Throttled { retry_after_secs } if retry_after_secs == 86_400),
        "{refused:?}"
    );
}

async fn the_hourly_phone_budget_stops_phone_codes_and_alerts_the_admins_once(t: &TestDb) {
    let mut config = Config::default();
    config.delivery.phone_sends_per_hour = 2;
    let (s, _clock, _) = setup(t, config).await;
    create_user(
        &t.db,
        &NewUser {
            login_display: "boss".into(),
            email: Some("boss@contoso.example".into()),
            ..dana(Role::Admin)
        },
        s.now(),
    )
    .await;
    let mut answers = Vec::new();
    for i in 0..4 {
        let id = create_user(
            &t.db,
            &NewUser {
                login_display: format!("user{i}"),
                email: Some(format!("user{i}@contoso.example")),
                ..dana(Role::User)
            },
            s.now(),
        )
        .await;
        let user = users::find_by_id(t.db.pool(), id).await.unwrap().unwrap();
        let flow = reg::start(&s, &user, None, s.now()).await.unwrap();
        let number = format!("+97250234567{i}");
        answers.push(
            reg::send_phone_code(&s, &flow, &user, "IL", &number, PhoneChannel::Sms, s.now()).await,
        );
        // Email is not phone: it keeps working.
        reg::send_email_code(&s, &flow, &user, &format!("u{i}@example.org"), s.now())
            .await
            .unwrap();
    }
    assert!(answers[0].is_ok() && answers[1].is_ok(), "{answers:?}");
    assert!(
        answers[2..]
            .iter()
            .all(|a| matches!(a, Err(RegError::Throttled { .. }))),
        "{answers:?}"
    );
    let alerts: Vec<String> = outbox::recent(t.db.pool(), &s.key, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| matches!(m.template, Template::PhoneBudgetReached { .. }))
        .map(|m| m.recipient)
        .collect();
    assert_eq!(alerts, vec!["boss@contoso.example".to_owned()], "once");
}
