//! Choosing a method and sending its code. The code is bound to the flow,
//! the method and its destination; sends pass the limits every code send
//! passes ([`crate::sends`], via the reset gates' per-ID count).

use super::{Flow, Pending, State, WIZARD, choices, load};
use crate::flow::{Effect, Step};
use crate::methods::{Kind, Method};
use crate::notices::{self, CodeFor};
use crate::policy::{self, Policy};
use crate::reset::ResetError;
use crate::reset::gates::count_send;
use crate::reset::guesses::Counts;
use crate::users;
use crate::{Services, Timestamp, codes, sends};

/// Chooses the registered method `method_id`: sends its code, or (for the
/// authenticator) waits for the app's code.
pub async fn choose(
    s: &Services,
    token: &str,
    method_id: i64,
    now: Timestamp,
) -> Result<(), ResetError> {
    let policy = policy::load(&s.db).await?;
    let flow = load(s, token, now).await?;
    let method = usable(s, &policy, &flow, method_id, now).await?;
    if method.kind == Kind::Authenticator {
        return WIZARD
            .transition(s, token, flow, now, |_, state: &mut State| {
                state.pending = Some(Pending::Authenticator { method_id });
                Ok(Step::save(Ok(()), vec![]))
            })
            .await;
    }
    send(s, &policy, token, flow, &method, false, now).await
}

/// "Send a new code" to the pending method, after the cooldown; the
/// wrong-code count is kept.
pub async fn resend(s: &Services, token: &str, now: Timestamp) -> Result<(), ResetError> {
    let policy = policy::load(&s.db).await?;
    let flow = load(s, token, now).await?;
    let Some(Pending::Code { method_id, .. }) = flow.state.pending else {
        return Err(ResetError::NoPendingCode);
    };
    let method = usable(s, &policy, &flow, method_id, now).await?;
    send(s, &policy, token, flow, &method, true, now).await
}

/// The account's method `method_id`, when it may prove the second factor
/// now: the policy allows it and this network is not blocked from it.
async fn usable(
    s: &Services,
    policy: &Policy,
    flow: &Flow,
    method_id: i64,
    now: Timestamp,
) -> Result<Method, ResetError> {
    let method = choices(s, policy, flow)
        .await?
        .into_iter()
        .find(|m| m.id == method_id)
        .ok_or(ResetError::MethodNotAllowed)?;
    Counts::new(&flow.state.identifier, &flow.state.network, method.kind)
        .ensure_open(s, now)
        .await?;
    Ok(method)
}

/// Sends a fresh code to `method` unless the cooldown or a send limit
/// refuses it. A double click within the cooldown keeps the first code.
async fn send(
    s: &Services,
    policy: &Policy,
    token: &str,
    flow: Flow,
    method: &Method,
    resend: bool,
    now: Timestamp,
) -> Result<(), ResetError> {
    let kind = method.kind;
    let last = match &flow.state.pending {
        Some(Pending::Code {
            method_id, sent_at, ..
        }) if *method_id == method.id => Some((kind, method.destination.as_str(), *sent_at)),
        _ => None,
    };
    if let Some(retry_after_secs) = sends::wait(policy, kind, &method.destination, last, now) {
        return Err(ResetError::ResendTooSoon { retry_after_secs });
    }
    count_send(
        s,
        policy,
        &flow.state.identifier,
        kind,
        &method.destination,
        now,
    )
    .await?;
    let user_id = flow.user_id.ok_or(ResetError::FlowExpired)?;
    let user = users::find_by_id(s.db.pool(), user_id)
        .await?
        .ok_or(ResetError::FlowExpired)?;
    let digits = policy.code_length(kind);
    WIZARD
        .transition(s, token, flow, now, |flow, state: &mut State| {
            let code = codes::generate(digits);
            let hash = codes::hash(
                &s.key,
                &flow.token_hash,
                kind.as_str(),
                &method.destination,
                &code,
            );
            let attempts = match &state.pending {
                Some(Pending::Code {
                    method_id,
                    attempts,
                    ..
                }) if resend && *method_id == method.id => *attempts,
                _ => 0,
            };
            state.pending = Some(Pending::Code {
                method_id: method.id,
                kind,
                code_hash: hash,
                digits,
                sent_at: now.secs(),
                expires_at: now.plus_secs(policy.code_ttl_secs).secs(),
                attempts,
            });
            let message = notices::Code {
                kind,
                channel: method.phone_channel,
                destination: &method.destination,
                code,
                purpose: CodeFor::SignIn { user_id },
            };
            let effects = vec![Effect::Send(notices::code(s, policy, &user, message, now))];
            Ok(Step::save(Ok(()), effects))
        })
        .await
}
