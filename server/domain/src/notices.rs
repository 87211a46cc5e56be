//! Every message the product sends is built here: who receives it, in
//! which language (the user's saved one, else the organisation's default —
//! decided once, in [`locale_of`]; a code asked for on a page, in that
//! page's language before the default: [`code_locale_of`]), with which
//! template and idempotency key. The
//! messages are queued in the caller's transaction, so a notice leaves if
//! and only if the change it tells of commits.

use crate::methods::{Kind, PhoneChannel};
use crate::outbox::{self, Channel, NewMessage, Template};
use crate::policy::Policy;
use crate::secrets::random_token;
use crate::users::{self, User};
use crate::{DomainError, Services, Timestamp, store};

tokio::task_local! {
    /// The language of the request being served, set around each request
    /// by the server's locale middleware. Work outside a request (jobs, the
    /// CLI) has none.
    pub static FLOW_LOCALE: String;
}

/// The language to write to `user` in: theirs, else the organisation's.
/// Not the page's: most notices are caused by someone else (an attacker's
/// wrong passwords lock the account, an admin disables it), whose page
/// language must not choose the words of a security notice.
pub fn locale_of(s: &Services, user: &User) -> String {
    user.locale
        .clone()
        .unwrap_or_else(|| s.config.default_locale.clone())
}

/// The language of a code `user` asked for on the page being served: theirs,
/// else that page's (they are reading it), else the organisation's.
pub fn code_locale_of(s: &Services, user: &User) -> String {
    match &user.locale {
        Some(saved) => saved.clone(),
        None => flow_locale().unwrap_or_else(|| s.config.default_locale.clone()),
    }
}

/// The language of the request being served, if any (see [`FLOW_LOCALE`]).
pub fn flow_locale() -> Option<String> {
    FLOW_LOCALE.try_with(Clone::clone).ok()
}

/// Who a verification code is for, which decides its idempotency key.
pub enum CodeFor {
    /// A reset gate (the account is not named in the key).
    Reset,
    /// Registering a method for this account.
    Registration { user_id: i64 },
    /// The second factor at sign-in.
    SignIn { user_id: i64 },
}

/// A one-time code to send.
pub struct Code<'a> {
    pub kind: Kind,
    pub channel: Option<PhoneChannel>,
    pub destination: &'a str,
    pub code: String,
    pub purpose: CodeFor,
}

/// A one-time code for its destination, never delivered after it expires
/// (docs/security.md #59).
pub fn code(s: &Services, policy: &Policy, user: &User, c: Code<'_>, now: Timestamp) -> NewMessage {
    code_in(policy, code_locale_of(s, user), c, now)
}

/// The code message in `locale`: `code` without an account, for the
/// stand-in row of a code nobody receives (`outbox::enqueue_stand_in`).
pub fn code_in(policy: &Policy, locale: String, c: Code<'_>, now: Timestamp) -> NewMessage {
    let Code {
        kind,
        channel,
        destination,
        code,
        purpose,
    } = c;
    let minutes = (policy.code_ttl_secs + 59) / 60;
    NewMessage {
        channel: match (kind, channel) {
            (Kind::Phone, Some(PhoneChannel::Voice)) => Channel::Voice,
            (Kind::Phone, _) => Channel::Sms,
            _ => Channel::Email,
        },
        recipient: destination.to_owned(),
        locale,
        template: match purpose {
            CodeFor::Reset => Template::ResetCode { code, minutes },
            CodeFor::Registration { .. } => Template::VerificationCode { code, minutes },
            CodeFor::SignIn { .. } => Template::SignInCode { code, minutes },
        },
        idempotency_key: match purpose {
            CodeFor::Reset => format!("reset-code:{}", random_token()),
            CodeFor::Registration { user_id } => format!("code:{user_id}:{}", random_token()),
            CodeFor::SignIn { user_id } => format!("sign-in-code:{user_id}:{}", random_token()),
        },
        not_after: Some(now.plus_secs(policy.code_ttl_secs)),
    }
}

/// "Your password was changed", to every address the user has.
pub async fn password_changed(
    s: &Services,
    conn: &mut sqlx::AnyConnection,
    user: &User,
    now: Timestamp,
) -> Result<(), DomainError> {
    for to in users::contact_addresses(&mut *conn, user).await? {
        let m = NewMessage {
            channel: Channel::Email,
            idempotency_key: format!("password-changed:{}:{}:{to}", user.id, now.secs()),
            recipient: to,
            locale: locale_of(s, user),
            template: Template::PasswordChanged {
                display_name: user.display_name.clone(),
            },
            not_after: None,
        };
        outbox::enqueue(&mut *conn, &s.key, &m, now).await?;
    }
    Ok(())
}

/// "Someone entered wrong codes for your <method> too often", to every
/// address the user has: the block may be an attack, and the user should
/// know why the method is refused (docs/security.md #66).
pub async fn gate_blocked(
    s: &Services,
    conn: &mut sqlx::AnyConnection,
    user: &User,
    kind: Kind,
    now: Timestamp,
) -> Result<(), DomainError> {
    for to in users::contact_addresses(&mut *conn, user).await? {
        let m = NewMessage {
            channel: Channel::Email,
            idempotency_key: format!(
                "gate-blocked:{}:{}:{}:{to}",
                user.id,
                kind.as_str(),
                now.secs()
            ),
            recipient: to,
            locale: locale_of(s, user),
            template: Template::GateBlocked {
                display_name: user.display_name.clone(),
                method: kind.as_str().to_owned(),
            },
            not_after: None,
        };
        outbox::enqueue(&mut *conn, &s.key, &m, now).await?;
    }
    Ok(())
}

/// "Your security info changed", to the user's addresses other than the
/// one just added.
pub async fn security_info_changed(
    s: &Services,
    conn: &mut sqlx::AnyConnection,
    user: &User,
    kind: Kind,
    new_destination: &str,
    removed: bool,
    now: Timestamp,
) -> Result<(), DomainError> {
    let addresses = users::contact_addresses(&mut *conn, user).await?;
    for to in addresses.into_iter().filter(|a| a != new_destination) {
        let m = NewMessage {
            channel: Channel::Email,
            idempotency_key: format!(
                "info-changed:{}:{}:{}:{removed}:{to}",
                user.id,
                kind.as_str(),
                now.secs()
            ),
            recipient: to,
            locale: locale_of(s, user),
            template: Template::SecurityInfoChanged {
                display_name: user.display_name.clone(),
                method: kind.as_str().into(),
                removed,
            },
            not_after: None,
        };
        outbox::enqueue(&mut *conn, &s.key, &m, now).await?;
    }
    Ok(())
}

/// Queues `template` to every address the user has (`contact_addresses`),
/// in their language; `topic` keeps the idempotency keys apart. Returns
/// how many messages were queued (0: the user has no address).
pub async fn email_user(
    s: &Services,
    conn: &mut sqlx::AnyConnection,
    user: &User,
    topic: &str,
    template: &Template,
    now: Timestamp,
) -> Result<usize, DomainError> {
    let addresses = users::contact_addresses(&mut *conn, user).await?;
    for to in &addresses {
        let m = NewMessage {
            channel: Channel::Email,
            idempotency_key: format!("{topic}:{}:{}:{to}", user.id, now.secs()),
            recipient: to.clone(),
            locale: locale_of(s, user),
            template: template.clone(),
            not_after: None,
        };
        outbox::enqueue(&mut *conn, &s.key, &m, now).await?;
    }
    Ok(addresses.len())
}

/// "Your account was locked", to the directory address, if there is one.
pub fn account_locked(
    s: &Services,
    user: &User,
    minutes: i64,
    now: Timestamp,
) -> Option<NewMessage> {
    let email = user.email.as_deref()?;
    Some(NewMessage {
        channel: Channel::Email,
        recipient: email.to_owned(),
        locale: locale_of(s, user),
        template: Template::AccountLocked {
            display_name: user.display_name.clone(),
            minutes,
        },
        idempotency_key: format!("account_locked:{}:{}", user.id, now.secs()),
        not_after: None,
    })
}

/// Queues `template` to every enabled admin with an email address, in
/// their language, but `except`; `topic` keeps each message's
/// idempotency key apart from other notices.
pub async fn email_admins(
    s: &Services,
    conn: &mut sqlx::AnyConnection,
    except: Option<i64>,
    topic: &str,
    template: &Template,
    now: Timestamp,
) -> Result<(), DomainError> {
    for (to, locale) in store::users::admin_addresses(&mut *conn, except).await? {
        let m = NewMessage {
            channel: Channel::Email,
            idempotency_key: format!("{topic}:{}:{to}", now.secs()),
            recipient: to,
            locale: locale.unwrap_or_else(|| s.config.default_locale.clone()),
            template: template.clone(),
            not_after: None,
        };
        outbox::enqueue(&mut *conn, &s.key, &m, now).await?;
    }
    Ok(())
}
