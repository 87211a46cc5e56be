//! Choosing a gate and sending its code. What may be chosen is the same
//! for every account until a gate is passed; a code is queued only when
//! the typed destination is the account's registered one, and otherwise a
//! code nobody knows is stored in its place.

use super::{
    Flow, MAX_SENDS_PER_IDENTIFIER, Pending, ResetError, State, WIZARD, check_blocked, registered,
};
use crate::flow::{Effect, Step};
use crate::methods::{Kind, PhoneChannel};
use crate::notices::{self, CodeFor};
use crate::policy::{self, Policy};
use crate::questions;
use crate::rate::{self, CounterKey};
use crate::users::{self, Role};
use crate::{DomainError, Services, Timestamp, codes, phone, sends};

/// What the first gate offers: every kind the policy allows for a first
/// gate. The same for every account (it reveals nothing). Security
/// questions are never a first gate.
pub fn offered(policy: &Policy) -> Vec<Kind> {
    crate::eligibility::gate_kinds(policy)
}

/// What the gate page offers now. Before any gate: `offered`, the same for
/// everyone. After one (the person proved a method, so the account may
/// show through): only the kinds the account has registered and not passed
/// yet, plus its security questions when the policy allows them and the
/// account is not an admin's.
pub async fn choices(s: &Services, policy: &Policy, flow: &Flow) -> Result<Vec<Kind>, ResetError> {
    let mut kinds = offered(policy);
    if flow.state.passed.is_empty() {
        return Ok(kinds);
    }
    let registered = registered(s, flow.user_id).await?;
    let is_admin = match flow.user_id {
        Some(id) => users::find_by_id(s.db.pool(), id)
            .await?
            .is_some_and(|u| u.role == Role::Admin),
        None => false,
    };
    if policy.allow_questions && !is_admin {
        kinds.push(Kind::Questions);
    }
    kinds.retain(|k| !flow.state.passed.contains(k) && registered.iter().any(|m| m.kind == *k));
    Ok(kinds)
}

/// Counts a code send for the identifier and the typed destination,
/// whether or not either names an account's (docs/security.md #34, #77):
/// the answers stay the same for every account. Refuses past any limit.
pub(crate) async fn count_send(
    s: &Services,
    policy: &Policy,
    identifier: &str,
    kind: Kind,
    destination: &str,
    now: Timestamp,
) -> Result<(), ResetError> {
    let key = CounterKey::ResetSends { identifier };
    if !rate::hit(s.db.pool(), key, 3600, MAX_SENDS_PER_IDENTIFIER, now).await? {
        return Err(ResetError::Throttled {
            retry_after_secs: 3600,
        });
    }
    let daily = sends::count_daily(s, CounterKey::ResetSendsDaily { identifier }, now).await?;
    let to = sends::count_destination(s, policy, kind, &destination.to_lowercase(), now).await?;
    let phone = match kind {
        Kind::Phone => sends::count_phone_budget(s, now).await?,
        _ => None,
    };
    match daily.or(to).or(phone) {
        Some(retry_after_secs) => Err(ResetError::Throttled { retry_after_secs }),
        None => Ok(()),
    }
}

/// Refuses a second code to the destination of the pending one within the
/// cooldown: a double click must not replace the first code.
fn cooling_down(
    policy: &Policy,
    state: &State,
    kind: Kind,
    destination: &str,
    now: Timestamp,
) -> Result<(), ResetError> {
    let last = match &state.pending {
        Some(Pending::Code {
            kind,
            destination,
            sent_at,
            ..
        }) => Some((*kind, destination.as_str(), *sent_at)),
        _ => None,
    };
    match sends::wait(policy, kind, destination, last, now) {
        Some(retry_after_secs) => Err(ResetError::ResendTooSoon { retry_after_secs }),
        None => Ok(()),
    }
}

/// A code to send: where, how, and whether it replaces one (a resend keeps
/// the wrong-code count).
struct Send {
    kind: Kind,
    destination: String,
    channel: Option<PhoneChannel>,
    resend: bool,
}

/// Sends a code to `destination` if it is the account's registered address
/// or number of that kind; answers the same either way.
async fn send_code(
    s: &Services,
    token: &str,
    kind: Kind,
    destination: String,
    channel: Option<PhoneChannel>,
    now: Timestamp,
) -> Result<(), ResetError> {
    let policy = policy::load(&s.db).await?;
    let flow = super::load(s, token, now).await?;
    if !choices(s, &policy, &flow).await?.contains(&kind) {
        return Err(ResetError::MethodNotAllowed);
    }
    check_blocked(s, &flow.state, kind, now).await?;
    cooling_down(&policy, &flow.state, kind, &destination, now)?;
    count_send(s, &policy, &flow.state.identifier, kind, &destination, now).await?;
    let send = Send {
        kind,
        destination,
        channel,
        resend: false,
    };
    issue(s, &policy, token, flow, send, now).await
}

/// Stores a fresh code for the destination and queues it when the
/// destination is the account's.
async fn issue(
    s: &Services,
    policy: &Policy,
    token: &str,
    flow: Flow,
    send: Send,
    now: Timestamp,
) -> Result<(), ResetError> {
    let Send {
        kind,
        destination,
        channel,
        resend,
    } = send;
    // Both queries run for an unknown ID too: the same statements either way.
    let user = users::find_by_id(s.db.pool(), flow.user_id.unwrap_or(super::NO_ACCOUNT)).await?;
    let registered = registered(s, flow.user_id).await?;
    // The registered spelling of the destination, when the typed one is it.
    let matched: Option<String> = registered
        .iter()
        .find(|m| m.kind == kind && m.destination.eq_ignore_ascii_case(&destination))
        .map(|m| m.destination.clone());
    let digits = policy.code_length(kind);
    WIZARD
        .transition(s, token, flow, now, |flow, state: &mut State| {
            let code = codes::generate(digits);
            // A code is stored either way; when the destination does not
            // match, nobody receives it, so nobody can type it.
            let bound_to = matched.as_deref().unwrap_or(&destination);
            let hash = codes::hash(&s.key, &flow.token_hash, kind.as_str(), bound_to, &code);
            let attempts = match (&state.pending, resend) {
                (Some(Pending::Code { attempts, .. }), true) => *attempts,
                _ => 0,
            };
            state.pending = Some(Pending::Code {
                kind,
                destination: destination.clone(),
                channel,
                code_hash: hash,
                digits,
                sent_at: now.secs(),
                expires_at: now.plus_secs(policy.code_ttl_secs).secs(),
                attempts,
            });
            let message = notices::Code {
                kind,
                channel,
                destination: bound_to,
                code,
                purpose: CodeFor::Reset,
            };
            // Nobody's code still writes its (never sent) row: the same
            // statement and sealing as a real one, so the time of the
            // answer says nothing (docs/security.md #11).
            let effects = match (&user, &matched) {
                (Some(u), Some(_)) => vec![Effect::Send(notices::code(s, policy, u, message, now))],
                _ => {
                    let locale =
                        notices::flow_locale().unwrap_or_else(|| s.config.default_locale.clone());
                    vec![Effect::StandIn(notices::code_in(
                        policy, locale, message, now,
                    ))]
                }
            };
            Ok(Step::save(Ok(()), effects))
        })
        .await
}

/// "Send a new code": after the cooldown, to the same destination; the
/// old code stops working and the wrong-code count is kept
/// (docs/security.md #25).
pub async fn resend(s: &Services, token: &str, now: Timestamp) -> Result<(), ResetError> {
    let policy = policy::load(&s.db).await?;
    let flow = super::load(s, token, now).await?;
    let Some(Pending::Code {
        kind,
        destination,
        channel,
        sent_at,
        ..
    }) = flow.state.pending.clone()
    else {
        return Err(ResetError::NoPendingCode);
    };
    let wait = sent_at + sends::cooldown(&policy, kind) - now.secs();
    if wait > 0 {
        return Err(ResetError::ResendTooSoon {
            retry_after_secs: wait,
        });
    }
    check_blocked(s, &flow.state, kind, now).await?;
    count_send(s, &policy, &flow.state.identifier, kind, &destination, now).await?;
    let send = Send {
        kind,
        destination,
        channel,
        resend: true,
    };
    issue(s, &policy, token, flow, send, now).await
}

/// The email gate in hints mode: "send a code to da***@example.org",
/// nothing to type. The code goes to the registered address; without one,
/// a code nobody receives is stored, and the answer is the same.
pub async fn send_email_code_to_hint(
    s: &Services,
    token: &str,
    now: Timestamp,
) -> Result<(), ResetError> {
    let policy = policy::load(&s.db).await?;
    if !policy.reset_show_hints {
        return Err(ResetError::MethodNotAllowed);
    }
    let flow = super::load(s, token, now).await?;
    let destination = registered(s, flow.user_id)
        .await?
        .into_iter()
        .find(|m| m.kind == Kind::Email)
        .map(|m| m.destination)
        // Not an address, so it matches nothing and nothing is sent.
        .unwrap_or_else(|| format!("stand-in:{}", flow.state.identifier));
    send_code(s, token, Kind::Email, destination, None, now).await
}

/// The email gate: the user types their full registered address.
pub async fn send_email_code(
    s: &Services,
    token: &str,
    address: &str,
    now: Timestamp,
) -> Result<(), ResetError> {
    let address = address.trim();
    if !crate::identity::valid_email(address) {
        return Err(ResetError::InvalidEmail);
    }
    send_code(s, token, Kind::Email, address.to_owned(), None, now).await
}

/// The phone gate: the user types their full registered number.
pub async fn send_phone_code(
    s: &Services,
    token: &str,
    region: &str,
    number: &str,
    channel: PhoneChannel,
    now: Timestamp,
) -> Result<(), ResetError> {
    let policy = policy::load(&s.db).await?;
    let allowed = match channel {
        PhoneChannel::Sms => policy.allow_phone_sms,
        PhoneChannel::Voice => policy.allow_phone_voice,
    };
    if !allowed {
        return Err(ResetError::MethodNotAllowed);
    }
    let e164 = phone::parse(number, region, &policy.phone_regions, channel)?;
    send_code(s, token, Kind::Phone, e164.number, Some(channel), now).await
}

/// Sets the pending gate to one with nothing to send, if it is offered.
async fn choose(
    s: &Services,
    token: &str,
    kind: Kind,
    now: Timestamp,
    pending: impl AsyncFnOnce(&Flow) -> Result<Pending, ResetError>,
) -> Result<(), ResetError> {
    let policy = policy::load(&s.db).await?;
    let flow = super::load(s, token, now).await?;
    if !choices(s, &policy, &flow).await?.contains(&kind) {
        return Err(ResetError::MethodNotAllowed);
    }
    let next = pending(&flow).await?;
    WIZARD
        .transition(s, token, flow, now, |_, state: &mut State| {
            state.pending = Some(next.clone());
            Ok(Step::save(Ok(()), vec![]))
        })
        .await
}

/// The authenticator gate: the next page asks for the app's code.
pub async fn choose_authenticator(
    s: &Services,
    token: &str,
    now: Timestamp,
) -> Result<(), ResetError> {
    choose(s, token, Kind::Authenticator, now, async |_| {
        Ok(Pending::Authenticator)
    })
    .await
}

/// The security-questions gate (a second gate only, never for admins):
/// the next page asks the account's questions.
pub async fn choose_questions(s: &Services, token: &str, now: Timestamp) -> Result<(), ResetError> {
    choose(s, token, Kind::Questions, now, async |flow| {
        let questions = stored_answers(s, flow.user_id)
            .await?
            .as_deref()
            .and_then(questions::questions_of)
            .ok_or(ResetError::MethodNotAllowed)?;
        Ok(Pending::Questions { questions })
    })
    .await
}

/// The account's stored security answers (JSON), if it registered some.
pub(super) async fn stored_answers(
    s: &Services,
    user_id: Option<i64>,
) -> Result<Option<String>, DomainError> {
    Ok(registered(s, user_id)
        .await?
        .into_iter()
        .find(|m| m.kind == Kind::Questions)
        .and_then(|m| m.answers))
}
