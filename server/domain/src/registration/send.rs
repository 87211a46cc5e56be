//! Sending a code to the email address or phone being registered.

use super::{Pending, RegError, State, WIZARD, allowed};
use crate::flow::{Effect, Step};
use crate::identity::valid_email;
use crate::methods::{self, Kind, PhoneChannel};
use crate::notices::{self, CodeFor};
use crate::policy::{self, Policy};
use crate::rate::{self, CounterKey};
use crate::secrets::token_hash;
use crate::users::User;
use crate::{Services, Timestamp, codes, phone, sends};

fn channel_allowed(policy: &Policy, c: PhoneChannel) -> bool {
    match c {
        PhoneChannel::Sms => policy.allow_phone_sms,
        PhoneChannel::Voice => policy.allow_phone_voice,
    }
}

/// Counts a send against the destination (shared with the reset wizard:
/// docs/security.md #77), the account, and for phones everyone's hourly
/// budget; refuses past any of them.
async fn check_send_limits(
    s: &Services,
    policy: &Policy,
    user: &User,
    kind: Kind,
    destination: &str,
    now: Timestamp,
) -> Result<(), RegError> {
    let to = sends::count_destination(s, policy, kind, &destination.to_lowercase(), now).await?;
    let per_account = rate::hit(
        s.db.pool(),
        CounterKey::SendsForAccount(user.id),
        3600,
        policy.max_sends_per_account_per_hour,
        now,
    )
    .await?;
    let account = if per_account { None } else { Some(3600) };
    let daily = sends::count_daily(s, CounterKey::SendsForAccountDaily(user.id), now).await?;
    let phone = match kind {
        Kind::Phone => sends::count_phone_budget(s, now).await?,
        _ => None,
    };
    match to.or(account).or(daily).or(phone) {
        Some(retry_after_secs) => Err(RegError::Throttled { retry_after_secs }),
        None => Ok(()),
    }
}

/// Starts proving an email address: sends a code to it.
pub async fn send_email_code(
    s: &Services,
    token: &str,
    user: &User,
    address: &str,
    now: Timestamp,
) -> Result<(), RegError> {
    let policy = policy::load(&s.db).await?;
    if !allowed(&policy, user, Kind::Email) {
        return Err(RegError::MethodNotAllowed);
    }
    let address = address.trim();
    if !valid_email(address) {
        return Err(RegError::InvalidEmail);
    }
    let to = To {
        kind: Kind::Email,
        destination: address.to_owned(),
        channel: None,
    };
    send_code(s, &policy, token, user, to, now).await
}

/// Starts proving a phone: parses the number (E.164, allowed regions) and
/// sends a code by text or call.
pub async fn send_phone_code(
    s: &Services,
    token: &str,
    user: &User,
    region: &str,
    number: &str,
    channel: PhoneChannel,
    now: Timestamp,
) -> Result<(), RegError> {
    let policy = policy::load(&s.db).await?;
    if !allowed(&policy, user, Kind::Phone) || !channel_allowed(&policy, channel) {
        return Err(RegError::MethodNotAllowed);
    }
    let e164 = phone::parse(number, region, &policy.phone_regions, channel)?;
    let to = To {
        kind: Kind::Phone,
        destination: e164.number,
        channel: Some(channel),
    };
    send_code(s, &policy, token, user, to, now).await
}

/// Where a code goes.
struct To {
    kind: Kind,
    destination: String,
    channel: Option<PhoneChannel>,
}

fn message(
    s: &Services,
    policy: &Policy,
    user: &User,
    to: &To,
    code: String,
    now: Timestamp,
) -> crate::outbox::NewMessage {
    let c = notices::Code {
        kind: to.kind,
        channel: to.channel,
        destination: &to.destination,
        code,
        purpose: CodeFor::Registration { user_id: user.id },
    };
    notices::code(s, policy, user, c, now)
}

async fn send_code(
    s: &Services,
    policy: &Policy,
    token: &str,
    user: &User,
    to: To,
    now: Timestamp,
) -> Result<(), RegError> {
    let existing = methods::list(s.db.pool(), user.id).await?;
    if existing.iter().any(|m| {
        m.kind == to.kind && m.destination == to.destination && m.phone_channel == to.channel
    }) {
        return Err(RegError::AlreadyRegistered);
    }
    // A live flow first: limits are not spent on a dead session.
    let flow = super::load(s, token, user.id, now).await?;
    // A double click must not replace the first code.
    let last = match &flow.state.pending {
        Some(Pending::Code {
            method,
            destination,
            sent_at,
            ..
        }) => Some((*method, destination.as_str(), *sent_at)),
        _ => None,
    };
    if let Some(retry_after_secs) = sends::wait(policy, to.kind, &to.destination, last, now) {
        return Err(RegError::ResendTooSoon { retry_after_secs });
    }
    check_send_limits(s, policy, user, to.kind, &to.destination, now).await?;
    let digits = policy.code_length(to.kind);
    WIZARD
        .transition(s, token, flow, now, |flow, state: &mut State| {
            let code = codes::generate(digits);
            let hash = codes::hash(
                &s.key,
                &flow.token_hash,
                to.kind.as_str(),
                &to.destination,
                &code,
            );
            let message = message(s, policy, user, &to, code, now);
            state.pending = Some(Pending::Code {
                method: to.kind,
                destination: to.destination.clone(),
                channel: to.channel,
                code_hash: hash,
                digits,
                sent_at: now.secs(),
                expires_at: now.plus_secs(policy.code_ttl_secs).secs(),
                attempts: 0,
                message_key: message.idempotency_key.clone(),
            });
            Ok(Step::save(Ok(()), vec![Effect::Send(message)]))
        })
        .await
}

/// Sends a new code for the pending destination, after the cooldown. The
/// old code stops working; the wrong-code count is kept
/// (docs/security.md #25).
pub async fn resend(
    s: &Services,
    token: &str,
    user: &User,
    now: Timestamp,
) -> Result<(), RegError> {
    let policy = policy::load(&s.db).await?;
    let flow = super::load(s, token, user.id, now).await?;
    let Some(Pending::Code {
        method,
        destination,
        sent_at,
        ..
    }) = &flow.state.pending
    else {
        return Err(RegError::NoPendingCode);
    };
    let cooldown = sends::cooldown(&policy, *method);
    let wait = sent_at + cooldown - now.secs();
    if wait > 0 {
        return Err(RegError::ResendTooSoon {
            retry_after_secs: wait,
        });
    }
    check_send_limits(s, &policy, user, *method, destination, now).await?;
    WIZARD
        .transition(s, token, flow, now, |_, state: &mut State| {
            let Some(Pending::Code {
                method,
                destination,
                channel,
                code_hash,
                digits,
                sent_at,
                expires_at,
                message_key,
                ..
            }) = state.pending.as_mut()
            else {
                return Ok(Step::refuse(RegError::NoPendingCode));
            };
            if *sent_at + cooldown > now.secs() {
                return Ok(Step::refuse(RegError::ResendTooSoon {
                    retry_after_secs: *sent_at + cooldown - now.secs(),
                }));
            }
            let code = codes::generate(*digits);
            *code_hash = codes::hash(
                &s.key,
                &token_hash(token),
                method.as_str(),
                destination,
                &code,
            );
            *sent_at = now.secs();
            *expires_at = now.plus_secs(policy.code_ttl_secs).secs();
            let to = To {
                kind: *method,
                destination: destination.clone(),
                channel: *channel,
            };
            let message = message(s, &policy, user, &to, code, now);
            *message_key = message.idempotency_key.clone();
            Ok(Step::save(Ok(()), vec![Effect::Send(message)]))
        })
        .await
}
