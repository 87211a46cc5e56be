//! Renders outbox messages in the recipient's language from the same
//! catalogs as the UI.

use sspr_domain::outbox::Template;

use crate::format::number;
use crate::i18n::*;
use crate::locale::match_tag;
use crate::plural::plural;

pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// The localized name of a method kind (`email`, `phone`, …).
pub fn method_name(l: Locale, kind: &str) -> String {
    match kind {
        "email" => td_str!(l, method_email),
        "phone" => td_str!(l, method_phone),
        "authenticator" => td_str!(l, method_authenticator),
        _ => td_str!(l, method_questions),
    }
    .to_string()
}

pub fn render(template: &Template, locale: &str) -> Rendered {
    let l = match_tag(locale).unwrap_or_default();
    match template {
        Template::AccountLocked {
            display_name,
            minutes,
        } => Rendered {
            subject: td_str!(l, mail_account_locked_subject).to_string(),
            body: plural(
                &td_str!(l, mail_account_locked_body, name = display_name),
                l,
                "minutes",
                whole(*minutes),
            ),
        },
        Template::VerificationCode { code, minutes } => Rendered {
            subject: td_str!(l, mail_code_subject).to_string(),
            body: plural(
                &td_str!(l, mail_code_body, code = code),
                l,
                "minutes",
                whole(*minutes),
            ),
        },
        Template::ResetCode { code, minutes } => Rendered {
            subject: td_str!(l, mail_reset_code_subject).to_string(),
            body: plural(
                &td_str!(l, mail_reset_code_body, code = code),
                l,
                "minutes",
                whole(*minutes),
            ),
        },
        Template::SignInCode { code, minutes } => Rendered {
            subject: td_str!(l, mail_sign_in_code_subject).to_string(),
            body: plural(
                &td_str!(l, mail_sign_in_code_body, code = code),
                l,
                "minutes",
                whole(*minutes),
            ),
        },
        Template::SecurityInfoChanged {
            display_name,
            method,
            removed,
        } => Rendered {
            subject: td_str!(l, mail_info_changed_subject).to_string(),
            body: if *removed {
                td_str!(
                    l,
                    mail_info_removed_body,
                    name = display_name,
                    method = method_name(l, method)
                )
            } else {
                td_str!(
                    l,
                    mail_info_changed_body,
                    name = display_name,
                    method = method_name(l, method)
                )
            },
        },
        Template::AdminPasswordReset {
            admin_name,
            admin_login,
        } => Rendered {
            subject: td_str!(l, mail_admin_reset_subject).to_string(),
            body: td_str!(
                l,
                mail_admin_reset_body,
                name = admin_name,
                login = admin_login
            ),
        },
        Template::ResetSurge { starts, threshold } => Rendered {
            subject: td_str!(l, mail_reset_surge_subject).to_string(),
            body: td_str!(
                l,
                mail_reset_surge_body,
                starts = count(*starts, l),
                threshold = count(*threshold, l)
            ),
        },
        Template::PasswordChanged { display_name } => Rendered {
            subject: td_str!(l, mail_password_changed_subject).to_string(),
            body: td_str!(l, mail_password_changed_body, name = display_name),
        },
        Template::PhoneBudgetReached { budget } => Rendered {
            subject: td_str!(l, mail_phone_budget_subject).to_string(),
            body: td_str!(l, mail_phone_budget_body, budget = count(*budget, l)),
        },
        Template::AccountChangedByAdmin {
            display_name,
            change,
        } => Rendered {
            subject: td_str!(l, mail_admin_change_subject).to_string(),
            body: match change.as_str() {
                "disabled" => td_str!(l, mail_admin_disabled_body, name = display_name),
                "enabled" => td_str!(l, mail_admin_enabled_body, name = display_name),
                "unlocked" => td_str!(l, mail_admin_unlocked_body, name = display_name),
                "signed_out" => td_str!(l, mail_admin_signed_out_body, name = display_name),
                _ => td_str!(l, mail_admin_cleared_body, name = display_name),
            },
        },
        Template::Invitation {
            display_name,
            link,
            reset,
            welcome,
        } => {
            if let Some(login) = welcome {
                Rendered {
                    subject: td_str!(l, mail_welcome_subject).to_string(),
                    body: td_str!(
                        l,
                        mail_welcome_body,
                        name = display_name,
                        login = login,
                        link = link
                    ),
                }
            } else if *reset {
                Rendered {
                    subject: td_str!(l, mail_invite_reset_subject).to_string(),
                    body: td_str!(l, mail_invite_reset_body, name = display_name, link = link),
                }
            } else {
                Rendered {
                    subject: td_str!(l, mail_invite_register_subject).to_string(),
                    body: td_str!(
                        l,
                        mail_invite_register_body,
                        name = display_name,
                        link = link
                    ),
                }
            }
        }
        Template::GateBlocked {
            display_name,
            method,
        } => Rendered {
            subject: td_str!(l, mail_gate_blocked_subject).to_string(),
            body: td_str!(
                l,
                mail_gate_blocked_body,
                name = display_name,
                method = method_name(l, method)
            ),
        },
    }
}

/// A count (of minutes, starts) as the plural rules take it (never
/// negative).
fn whole(minutes: i64) -> u64 {
    u64::try_from(minutes).unwrap_or(0)
}

/// A count from the domain as the language writes it.
fn count(n: i64, l: Locale) -> String {
    number(whole(n), l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_locked_is_rendered_in_the_recipients_language() {
        let t = Template::AccountLocked {
            display_name: "נועה".into(),
            minutes: 1,
        };
        let he = render(&t, "he-IL");
        assert!(he.body.contains("נועה") && he.body.contains("דקה אחת"));
        assert_eq!(he.subject, "החשבון שלך ננעל לאחר ניסיונות כניסה כושלים");
        let fr = render(&t, "fr-FR");
        assert!(
            fr.subject.starts_with("Votre compte"),
            "a regional tag finds its language: {}",
            fr.subject
        );
        let en = render(&t, "nl-NL");
        assert!(
            en.subject.starts_with("Your account was locked"),
            "unknown locales fall back to en"
        );
    }

    /// Each language's CLDR plural form (`{minutes, plural, …}`), and a
    /// display name with braces cannot disturb the choice.
    #[test]
    fn counts_take_the_plural_form_of_the_recipients_language() {
        let code = |minutes, locale| {
            render(
                &Template::VerificationCode {
                    code: "01234567".into(),
                    minutes,
                },
                locale,
            )
            .body
        };
        assert!(code(1, "en").contains("It expires in 1 minute."));
        assert!(code(5, "en").contains("It expires in 5 minutes."));
        assert!(
            code(2, "he-IL").contains("שתי דקות"),
            "{}",
            code(2, "he-IL")
        );
        assert!(code(2, "ar").contains("دقيقتين"), "{}", code(2, "ar"));
        assert!(code(3, "ar").contains("3 دقائق"), "{}", code(3, "ar"));
        assert!(code(11, "ar").contains("11 دقيقة"), "{}", code(11, "ar"));
        for tag in ["en", "ja-JP", "ar", "fr", "en-XA"] {
            assert!(!code(1, tag).contains("plural"), "{tag}");
        }
        let locked = render(
            &Template::AccountLocked {
                display_name: "Bo} {minutes, plural, other {x}".into(),
                minutes: 1,
            },
            "en",
        );
        assert!(
            locked.body.contains("locked for 1 minute after"),
            "{}",
            locked.body
        );
    }

    #[test]
    fn the_surge_alert_carries_its_numbers_in_each_language() {
        let t = Template::ResetSurge {
            starts: 501,
            threshold: 500,
        };
        let en = render(&t, "en");
        assert!(en.body.contains("501 times") && en.body.contains("threshold of 500"));
        let he = render(&t, "he-IL");
        assert!(he.body.contains("501") && he.body.contains("500"));
        assert_ne!(he.subject, en.subject);
    }

    #[test]
    fn codes_and_change_notices_carry_their_values() {
        let code = render(
            &Template::VerificationCode {
                code: "01234567".into(),
                minutes: 10,
            },
            "en",
        );
        assert!(code.body.contains("01234567") && code.body.contains("10 minutes"));
        // A reset code is a key to the account: never called harmless, and
        // the reader is told nobody will ask for it (docs/security.md #71).
        for locale in ["en", "he-IL"] {
            let reset = render(
                &Template::ResetCode {
                    code: "01234567".into(),
                    minutes: 10,
                },
                locale,
            );
            let registration = render(
                &Template::VerificationCode {
                    code: "01234567".into(),
                    minutes: 10,
                },
                locale,
            );
            assert!(reset.body.contains("01234567"), "{locale}");
            assert_ne!(reset.subject, registration.subject, "{locale}");
            assert_ne!(reset.body, registration.body, "{locale}");
        }
        let reset = render(
            &Template::ResetCode {
                code: "01234567".into(),
                minutes: 10,
            },
            "en",
        );
        assert!(reset.body.contains("reset the password"), "{}", reset.body);
        assert!(
            reset.body.contains("Never share this code"),
            "{}",
            reset.body
        );
        assert!(
            reset.body.contains("will never ask you for it"),
            "{}",
            reset.body
        );
        assert!(
            !reset.body.contains("without your password"),
            "{}",
            reset.body
        );
        let changed = render(
            &Template::SecurityInfoChanged {
                display_name: "Dana".into(),
                method: "phone".into(),
                removed: false,
            },
            "he-IL",
        );
        assert!(changed.body.contains("Dana") && changed.body.contains("טלפון"));
    }
}
