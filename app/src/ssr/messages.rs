//! Renders outbox messages in the recipient's language from the same
//! catalogs as the UI.

use sspr_domain::outbox::Template;

use crate::i18n::*;
use crate::locale::match_tag;

pub struct Rendered {
    pub subject: String,
    pub body: String,
}

pub fn render(template: &Template, locale: &str) -> Rendered {
    let l = match_tag(locale).unwrap_or_default();
    match template {
        Template::AccountLocked {
            display_name,
            minutes,
        } => Rendered {
            subject: td_string!(l, mail_account_locked_subject).to_string(),
            body: td_string!(
                l,
                mail_account_locked_body,
                name = display_name,
                minutes = minutes
            ),
        },
    }
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
        assert!(he.body.contains("נועה") && he.body.contains('1'));
        assert_eq!(he.subject, "החשבון שלך ננעל לאחר ניסיונות כניסה כושלים");
        let en = render(&t, "fr-FR");
        assert!(
            en.subject.starts_with("Your account was locked"),
            "unknown locales fall back to en"
        );
    }
}
