//! Checking a gate: a typed code, the authenticator app's code, or the
//! answers to the security questions.
//!
//! Throttled per typed user ID and method whether or not the ID names an
//! account: a failure slot is reserved before each check (so parallel
//! guesses cannot exceed the limit) and given back, in the transaction
//! that records the pass, when the check succeeds. Five failures in an
//! hour block the method for a day.

use super::finish::eligibility;
use super::{
    BLOCK_SECS, Flow, MAX_FAILURES_PER_HOUR, Pending, ResetError, State, WIZARD, check_blocked,
    registered,
};
use crate::audit::{Event, Kind as AuditKind, Outcome};
use crate::flow::{Effect, Step};
use crate::methods::{self, Kind, Method};
use crate::policy::{self, Policy};
use crate::rate;
use crate::{Services, Timestamp, authenticator, codes, questions};

/// Reserves one failed-verification slot for the identifier and method
/// before checking; returns the counter's key for the refund.
async fn reserve_attempt(
    s: &Services,
    state: &State,
    kind: Kind,
    now: Timestamp,
) -> Result<String, ResetError> {
    check_blocked(s, state, kind, now).await?;
    let key = state.failures_key(kind);
    if !rate::hit(s.db.pool(), key, 3600, MAX_FAILURES_PER_HOUR, now).await? {
        // The sixth failure in an hour blocks the method for a day.
        rate::hit(
            s.db.pool(),
            state.block_key(kind),
            BLOCK_SECS,
            i64::MAX,
            now,
        )
        .await?;
        return Err(ResetError::MethodBlocked {
            retry_after_secs: BLOCK_SECS,
        });
    }
    Ok(key.to_string())
}

/// The effects of a decided check: its audit row, and for a pass the
/// failure slot given back.
fn decided(flow: &Flow, kind: Kind, right: bool, slot: &str) -> Vec<Effect> {
    let audit = Event {
        subject_user_id: flow.user_id,
        ..Event::new(AuditKind::ResetGate, Outcome::of(right)).detail(kind.as_str())
    };
    let mut effects = vec![Effect::Audit(audit)];
    if right {
        effects.push(Effect::Refund(slot.to_owned()));
    }
    effects
}

/// The authenticator's accepted time step for `input`, if any of the
/// account's apps shows it now. Each step is accepted once
/// (`methods::advance_totp_step`), so this is decided outside the flow's
/// compare-and-swap.
async fn authenticator_accepts(
    s: &Services,
    user_id: Option<i64>,
    registered: &[Method],
    input: &str,
    now: Timestamp,
) -> Result<bool, ResetError> {
    let (Some(user_id), Ok(code)) = (
        user_id,
        codes::normalize_input(input, authenticator::DIGITS),
    ) else {
        return Ok(false);
    };
    for m in registered.iter().filter(|m| m.kind == Kind::Authenticator) {
        let Some(sealed) = m.secret.as_deref() else {
            continue;
        };
        let secret = authenticator::decrypt(&s.key, user_id, sealed)?;
        if let Some(step) = authenticator::verify(&secret, &code, now, m.last_step)?
            && methods::advance_totp_step(s.db.pool(), m.id, step).await?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Checks the typed code for the pending gate. Returns whether every gate
/// is now passed. Once one is passed, the account's real situation (not
/// enabled, disabled, not enough methods) is told.
pub async fn verify(
    s: &Services,
    token: &str,
    input: &str,
    now: Timestamp,
) -> Result<bool, ResetError> {
    let policy = policy::load(&s.db).await?;
    let flow = super::load(s, token, now).await?;
    let kind = match &flow.state.pending {
        Some(Pending::Code { kind, .. }) => *kind,
        Some(Pending::Authenticator) => Kind::Authenticator,
        Some(Pending::Questions { .. }) | None => return Err(ResetError::NoPendingCode),
    };
    let slot = reserve_attempt(s, &flow.state, kind, now).await?;
    let registered = registered(s, flow.user_id).await?;
    let totp_ok = kind == Kind::Authenticator
        && authenticator_accepts(s, flow.user_id, &registered, input, now).await?;
    let (user_id, gates_needed) = (flow.user_id, flow.state.gates_needed);
    let checked = WIZARD
        .transition(s, token, flow, now, |flow, state: &mut State| {
            let right = match state.pending.clone() {
                Some(Pending::Authenticator) => totp_ok,
                Some(Pending::Code {
                    kind,
                    code_hash,
                    digits,
                    expires_at,
                    attempts,
                    ..
                }) => {
                    if attempts >= policy.max_code_attempts {
                        return Err(ResetError::TooManyAttempts);
                    }
                    if expires_at <= now.secs() {
                        return Err(ResetError::CodeExpired);
                    }
                    let typed = codes::normalize_input(input, digits)
                        .map_err(|_| ResetError::CodeFormat { digits })?;
                    let ok = registered.iter().any(|m| {
                        m.kind == kind
                            && codes::matches(
                                &s.key,
                                &code_hash,
                                &flow.token_hash,
                                kind.as_str(),
                                &m.destination,
                                &typed,
                            )
                    });
                    if !ok && let Some(Pending::Code { attempts, .. }) = state.pending.as_mut() {
                        *attempts += 1;
                    }
                    ok
                }
                Some(Pending::Questions { .. }) | None => return Err(ResetError::NoPendingCode),
            };
            if right {
                state.pass(kind);
            }
            let left = match &state.pending {
                Some(Pending::Code { attempts, .. }) => policy.max_code_attempts - attempts,
                _ => 0,
            };
            let effects = decided(flow, kind, right, &slot);
            Ok(Step::save(Ok((right, left, state.done())), effects))
        })
        .await;
    let (right, left, done) = match checked {
        Ok(v) => v,
        // Malformed input and expired codes spend no failure slot.
        Err(e @ (ResetError::CodeFormat { .. } | ResetError::CodeExpired)) => {
            crate::store::counters::refund(s.db.pool(), &slot).await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let outcome = Checked {
        kind,
        right,
        code_left: (kind != Kind::Authenticator).then_some(left),
        slot: &slot,
    };
    conclude(s, &policy, user_id, gates_needed, &registered, outcome, now).await?;
    Ok(done)
}

/// Checks the answers to the pending questions. Throttled like codes, and
/// every answer is hashed whether or not an earlier one was wrong; a wrong
/// set never says which answer was wrong.
pub async fn verify_answers(
    s: &Services,
    token: &str,
    answers: &[String],
    now: Timestamp,
) -> Result<bool, ResetError> {
    let policy = policy::load(&s.db).await?;
    let flow = super::load(s, token, now).await?;
    let Some(Pending::Questions { questions: asked }) = &flow.state.pending else {
        return Err(ResetError::NoPendingCode);
    };
    // A blank or missing answer spends no failure slot and hashes nothing.
    if answers.len() != asked.len() || answers.iter().any(|a| a.trim().is_empty()) {
        return Err(ResetError::AnswersIncomplete { need: asked.len() });
    }
    let slot = reserve_attempt(s, &flow.state, Kind::Questions, now).await?;
    let registered = registered(s, flow.user_id).await?;
    let stored = registered
        .iter()
        .find(|m| m.kind == Kind::Questions)
        .and_then(|m| m.answers.as_deref());
    let right = match stored {
        Some(stored) => match questions::check(&s.hasher, stored, answers).await {
            Ok(right) => right,
            // Nothing was decided (e.g. the hashing pool is full): give
            // the slot back.
            Err(e) => {
                crate::store::counters::refund(s.db.pool(), &slot).await?;
                return Err(e.into());
            }
        },
        None => false,
    };
    let (user_id, gates_needed) = (flow.user_id, flow.state.gates_needed);
    let done = WIZARD
        .transition(s, token, flow, now, |flow, state: &mut State| {
            if !matches!(state.pending, Some(Pending::Questions { .. })) {
                return Err(ResetError::NoPendingCode);
            }
            if right {
                state.pass(Kind::Questions);
            }
            let effects = decided(flow, Kind::Questions, right, &slot);
            Ok(Step::save(Ok(state.done()), effects))
        })
        .await?;
    let outcome = Checked {
        kind: Kind::Questions,
        right,
        code_left: None,
        slot: &slot,
    };
    conclude(s, &policy, user_id, gates_needed, &registered, outcome, now).await?;
    Ok(done)
}

/// What one gate check decided, for [`conclude`].
struct Checked<'a> {
    kind: Kind,
    right: bool,
    /// Tries left on the pending code (codes have their own budget besides
    /// the hourly one); `None` for gates without one.
    code_left: Option<i64>,
    slot: &'a str,
}

/// The answer every gate check shares: a wrong answer says how many tries
/// are left (the smaller of the code's and the hour's); a right one only
/// then learns the account's real state, so only someone who proved a
/// method is told it.
async fn conclude(
    s: &Services,
    policy: &Policy,
    user_id: Option<i64>,
    gates_needed: usize,
    registered: &[Method],
    checked: Checked<'_>,
    now: Timestamp,
) -> Result<(), ResetError> {
    if !checked.right {
        let used = crate::store::counters::current(s.db.pool(), checked.slot, 3600, now).await?;
        let hourly_left = MAX_FAILURES_PER_HOUR - used;
        let left = checked
            .code_left
            .map_or(hourly_left, |c| c.min(hourly_left));
        return Err(if left <= 0 {
            ResetError::TooManyAttempts
        } else if checked.kind == Kind::Questions {
            ResetError::WrongAnswers {
                attempts_left: left,
            }
        } else {
            ResetError::WrongCode {
                attempts_left: left,
            }
        });
    }
    eligibility(s, policy, user_id, gates_needed, Some(registered)).await?;
    Ok(())
}
