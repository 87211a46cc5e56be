//! Property tests for every parser of user input in the domain: none
//! panics on any input, canonical forms are fixed points, and inputs a
//! person would consider the same parse the same (docs/security.md #78).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use sspr_domain::codes::normalize_input;
use sspr_domain::identity::{Login, valid_email};
use sspr_domain::methods::PhoneChannel;
use sspr_domain::phone;
use sspr_domain::policy::Policy;

/// Full-width forms of ASCII digits and letters (what an IME types).
fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap(),
            c => c,
        })
        .collect()
}

/// Text mixing any characters with those whose compatibility forms
/// carry spaces, expand when case-folded, or are full-width.
fn tricky_text() -> impl Strategy<Value = String> {
    let tricky = prop_oneof![
        3 => any::<char>(),
        1 => prop::sample::select(vec!['¨', '´', '¸', 'ﬃ', 'ẞ', 'ǅ', 'İ', 'ς', 'ᾼ', '\u{3000}', 'ｄ', ' ', 'a']),
    ];
    prop::collection::vec(tricky, 0..16).prop_map(|cs| cs.into_iter().collect())
}

fn regions() -> Vec<String> {
    ["IL", "US", "JP", "TW"].map(String::from).to_vec()
}

proptest! {
    #[test]
    fn a_user_id_parses_to_a_fixed_point(raw in tricky_text()) {
        if let Ok(login) = Login::parse(&raw) {
            let again = Login::parse(login.as_str());
            prop_assert_eq!(again.as_ref(), Ok(&login), "{:?}", raw);
            prop_assert!(login.as_str().len() <= sspr_domain::identity::MAX_LOGIN_BYTES);
        }
    }

    #[test]
    fn any_string_is_a_user_id_or_a_refusal(raw in any::<String>()) {
        let _ = Login::parse(&raw);
    }

    #[test]
    fn case_width_and_spaces_around_do_not_change_a_user_id(id in "[a-zA-Z0-9._@-]{1,30}") {
        let plain = Login::parse(&id).unwrap();
        prop_assert_eq!(Login::parse(&id.to_uppercase()).unwrap(), plain.clone());
        prop_assert_eq!(Login::parse(&full_width(&id)).unwrap(), plain.clone());
        prop_assert_eq!(Login::parse(&format!("  {id}\t")).unwrap(), plain);
    }

    #[test]
    fn a_code_is_its_digits_however_it_was_typed(
        digits in "[0-9]{6,10}",
        seps in proptest::collection::vec(prop_oneof![Just(" "), Just("-"), Just("\u{3000}"), Just("\u{2212}"), Just("")], 11),
        wide in any::<bool>(),
    ) {
        let mut typed = String::new();
        for (i, c) in digits.chars().enumerate() {
            typed.push_str(seps[i]);
            typed.push(c);
        }
        let typed = if wide { full_width(&typed) } else { typed };
        prop_assert_eq!(normalize_input(&typed, digits.len()), Ok(digits.clone()));
        // A canonical code is a fixed point.
        prop_assert_eq!(normalize_input(&digits, digits.len()), Ok(digits.clone()));
    }

    #[test]
    fn a_code_parser_takes_any_string(raw in any::<String>(), len in 0usize..12) {
        if let Ok(code) = normalize_input(&raw, len) {
            prop_assert_eq!(code.len(), len);
            prop_assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn a_phone_number_parses_to_a_fixed_point(
        raw in "[+]?[0-9 ()-.]{0,20}",
        region in prop_oneof![Just("IL"), Just("US"), Just("JP"), Just("TW"), Just("XX"), Just("")],
    ) {
        for channel in [PhoneChannel::Sms, PhoneChannel::Voice] {
            if let Ok(e164) = phone::parse(&raw, region, &regions(), channel) {
                prop_assert!(e164.number.starts_with('+'));
                // The stored form reads back as itself, from any region.
                for other in ["IL", "US"] {
                    let again = phone::parse(&e164.number, other, &regions(), channel).unwrap();
                    prop_assert_eq!(&again.number, &e164.number);
                }
            }
        }
    }

    #[test]
    fn a_phone_parser_takes_any_string(raw in any::<String>(), region in any::<String>()) {
        let _ = phone::parse(&raw, &region, &regions(), PhoneChannel::Sms);
        let _ = phone::mask(&raw);
    }

    #[test]
    fn an_email_check_takes_any_string_and_refuses_header_injection(
        local in "[a-z0-9.]{1,20}",
        domain in "[a-z0-9]{1,20}\\.[a-z]{2,6}",
        raw in any::<String>(),
        bad in prop_oneof![Just("\r\n"), Just("\n"), Just(" "), Just(","), Just("<"), Just("\"")],
    ) {
        let _ = valid_email(&raw);
        let good = format!("{local}@{domain}");
        prop_assert!(valid_email(&good));
        let injected = format!("{good}{bad}Bcc: x@y.test");
        prop_assert!(!valid_email(&injected), "{:?}", injected);
    }

    #[test]
    fn policy_json_never_panics_and_validation_never_panics(raw in any::<String>()) {
        if let Ok(p) = serde_json::from_str::<Policy>(&raw) {
            let _ = p.validate();
        }
    }

    #[test]
    fn every_policy_number_is_checked_not_trusted(
        code_len in any::<u8>(),
        ttl in any::<i64>(),
        attempts in any::<i64>(),
        cooldown in any::<i64>(),
        sends in any::<i64>(),
    ) {
        let p = Policy {
            email_code_length: code_len,
            code_ttl_secs: ttl,
            max_code_attempts: attempts,
            resend_cooldown_secs: cooldown,
            max_sends_per_destination_per_hour: sends,
            ..Policy::default()
        };
        let valid = p.validate().is_ok();
        let in_range = (6..=10).contains(&code_len)
            && (60..=3600).contains(&ttl)
            && (1..=10).contains(&attempts)
            && (10..=3600).contains(&cooldown)
            && (1..=100).contains(&sends);
        prop_assert_eq!(valid, in_range);
    }
}

/// Characters whose compatibility form starts or ends with a space (¨ is
/// " ̈" after NFKC), the case fold's expansions, and width forms: where a
/// canonical form could fail to be a fixed point.
#[test]
fn tricky_user_ids_are_fixed_points_too() {
    for raw in [
        "¨a",
        "a¨",
        "´x",
        "ﬃ",
        "ẞ",
        "İstanbul",
        "ǅ",
        "\u{3000}dana\u{3000}",
        "ｄａｎａ",
        "Σσς",
        "ᾼ",
    ] {
        if let Ok(login) = Login::parse(raw) {
            assert_eq!(
                Login::parse(login.as_str()),
                Ok(login.clone()),
                "{raw:?} -> {login:?}"
            );
        }
    }
}

/// One CSV field: a value a directory export might hold, or garbage, with
/// the characters that need quoting.
fn csv_field(good: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(good.to_owned()),
        2 => "[a-z0-9._-]{1,12}",
        1 => any::<String>(),
        1 => prop::sample::select(vec!["", " ", ",", "\"", "\n", "a;b", "admin", "user", "x@y.test"])
            .prop_map(str::to_owned),
    ]
}

fn csv_row() -> impl Strategy<Value = Vec<String>> {
    (
        csv_field("kim"),
        csv_field("Kim Doe"),
        csv_field("kim@contoso.example"),
        csv_field("user"),
        csv_field("staff;admins"),
        csv_field(""),
    )
        .prop_map(|(a, b, c, d, e, f)| vec![a, b, c, d, e, f])
}

/// CSV import (docs/security.md #78): whatever the rows hold, the import
/// answers (no panic, no error once the header is right), every row is
/// either created or rejected with its line, and importing the same file
/// again creates nothing.
#[test]
fn a_csv_import_accounts_for_every_row_and_is_idempotent() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = rt.block_on(sspr_domain::testkit::TestDb::sqlite());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let rows = prop::collection::vec(csv_row(), 0..8);
    let result = runner.run(&rows, |rows| {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "login",
            "display_name",
            "email",
            "role",
            "groups",
            "password_hash",
        ])
        .unwrap();
        for r in &rows {
            w.write_record(r).unwrap();
        }
        let file = w.into_inner().unwrap();
        let now = sspr_domain::Timestamp(1_800_000_000);
        let first = rt
            .block_on(sspr_domain::import::import_csv(
                &t.db,
                None,
                file.as_slice(),
                now,
            ))
            .unwrap();
        prop_assert_eq!(
            first.created + first.rejected.len(),
            rows.len(),
            "{:?}",
            first
        );
        prop_assert!(
            first.rejected.iter().all(|(line, _)| *line >= 2),
            "{:?}",
            first
        );
        let again = rt
            .block_on(sspr_domain::import::import_csv(
                &t.db,
                None,
                file.as_slice(),
                now,
            ))
            .unwrap();
        prop_assert_eq!(again.created, 0, "{:?}", again);
        Ok(())
    });
    rt.block_on(t.cleanup());
    result.unwrap();
}
