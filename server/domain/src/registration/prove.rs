//! Proving the method being set up — the code sent to it, the
//! authenticator app's code, or the security questions — which stores it
//! in the same transaction; and ending the wizard.

use super::{Flow, MAX_FLOW_FAILURES, Pending, RegError, State, WIZARD, allowed};
use crate::audit::{self, Event, Kind as AuditKind, Outcome};
use crate::flow::{Effect, FlowError, Step};
use crate::methods::{self, Kind, Verified};
use crate::policy::{self, Policy};
use crate::users::{Role, User};
use crate::{DomainError, Services, Timestamp, authenticator, codes, outbox, questions, store};

/// The audit row of a wrong code.
fn wrong_code(user: &User, kind: Kind) -> Effect {
    Effect::Audit(
        Event::by_self(AuditKind::SecurityInfoCode, Outcome::Failure, user.id)
            .detail(kind.as_str()),
    )
}

fn add(user: &User, m: Verified) -> Effect {
    Effect::AddMethod(Box::new(user.clone()), m)
}

/// Checks a typed code. The right code registers the method, once; a wrong
/// one is counted (5 per code, 10 per flow).
pub async fn verify_code(
    s: &Services,
    token: &str,
    user: &User,
    input: &str,
    now: Timestamp,
) -> Result<Kind, RegError> {
    let policy = policy::load(&s.db).await?;
    let flow = super::load(s, token, user.id, now).await?;
    WIZARD
        .transition(s, token, flow, now, |flow, state: &mut State| {
            let failures = state.failures;
            let Some(Pending::Code {
                method,
                destination,
                channel,
                code_hash,
                digits,
                expires_at,
                attempts,
                ..
            }) = state.pending.clone()
            else {
                return Ok(Step::refuse(RegError::NoPendingCode));
            };
            if attempts >= policy.max_code_attempts || failures >= MAX_FLOW_FAILURES {
                return Ok(Step::refuse(RegError::TooManyAttempts));
            }
            if expires_at <= now.secs() {
                return Ok(Step::refuse(RegError::CodeExpired));
            }
            let typed = codes::normalize_input(input, digits);
            let right = typed.as_ref().is_ok_and(|code| {
                codes::matches(
                    &s.key,
                    &code_hash,
                    &flow.token_hash,
                    method.as_str(),
                    &destination,
                    code,
                )
            });
            if right {
                state.pending = None;
                let verified = Verified {
                    kind: method,
                    destination,
                    phone_channel: channel,
                    secret: None,
                    last_step: 0,
                    answers: None,
                };
                return Ok(Step::save(Ok(method), vec![add(user, verified)]));
            }
            // Malformed input counts like a wrong code: it is a guess too.
            if let Some(Pending::Code { attempts, .. }) = state.pending.as_mut() {
                *attempts += 1;
            }
            state.failures += 1;
            let left = policy.max_code_attempts - attempts - 1;
            let answer = match typed {
                Err(_) => Err(RegError::CodeFormat { digits }),
                Ok(_) if left <= 0 => Err(RegError::TooManyAttempts),
                Ok(_) => Err(RegError::WrongCode {
                    attempts_left: left,
                }),
            };
            Ok(Step::save(answer, vec![wrong_code(user, method)]))
        })
        .await
}

/// Starts setting up an authenticator app; calling it again shows the same
/// secret. Returns the secret (for the QR code and the text key).
pub async fn begin_authenticator(
    s: &Services,
    token: &str,
    user: &User,
    now: Timestamp,
) -> Result<Vec<u8>, RegError> {
    let policy = policy::load(&s.db).await?;
    if !allowed(&policy, user, Kind::Authenticator) {
        return Err(RegError::MethodNotAllowed);
    }
    let flow = super::load(s, token, user.id, now).await?;
    if let Some(Pending::Authenticator { secret }) = &flow.state.pending {
        return Ok(authenticator::decrypt(&s.key, user.id, secret)?);
    }
    let secret = authenticator::new_secret();
    let sealed = authenticator::encrypt(&s.key, user.id, &secret)?;
    WIZARD
        .transition(s, token, flow, now, |_, state: &mut State| {
            state.pending = Some(Pending::Authenticator {
                secret: sealed.clone(),
            });
            Ok(Step::<(), RegError>::save(Ok(()), vec![]))
        })
        .await?;
    Ok(secret)
}

/// Activates the pending authenticator once the user types a valid code.
pub async fn verify_authenticator(
    s: &Services,
    token: &str,
    user: &User,
    input: &str,
    now: Timestamp,
) -> Result<(), RegError> {
    let policy = policy::load(&s.db).await?;
    let flow = super::load(s, token, user.id, now).await?;
    WIZARD
        .transition(s, token, flow, now, |_, state: &mut State| {
            let Some(Pending::Authenticator { secret }) = state.pending.clone() else {
                return Ok(Step::refuse(RegError::NoPendingCode));
            };
            if state.failures >= MAX_FLOW_FAILURES {
                return Ok(Step::refuse(RegError::TooManyAttempts));
            }
            let plain = authenticator::decrypt(&s.key, user.id, &secret)?;
            let step = match codes::normalize_input(input, authenticator::DIGITS) {
                Ok(code) => authenticator::verify(&plain, &code, now, 0)?,
                Err(_) => None,
            };
            match step {
                Some(step) => {
                    state.pending = None;
                    let verified = Verified {
                        kind: Kind::Authenticator,
                        destination: String::new(),
                        phone_channel: None,
                        secret: Some(secret),
                        last_step: step,
                        answers: None,
                    };
                    Ok(Step::save(Ok(()), vec![add(user, verified)]))
                }
                None => {
                    state.failures += 1;
                    let left = (MAX_FLOW_FAILURES - state.failures).min(policy.max_code_attempts);
                    let answer = Err(RegError::WrongCode {
                        attempts_left: left.max(0),
                    });
                    Ok(Step::save(
                        answer,
                        vec![wrong_code(user, Kind::Authenticator)],
                    ))
                }
            }
        })
        .await
}

/// How many questions this policy asks for.
pub fn questions_needed(policy: &Policy) -> usize {
    usize::from(policy.questions_to_register).clamp(1, questions::MAX_QUESTIONS)
}

/// Registers (or replaces) the user's security questions. Nothing is sent:
/// the answers are the proof. All rules are checked before any hashing, so
/// a refused set costs no argon2 work.
pub async fn register_questions(
    s: &Services,
    token: &str,
    user: &User,
    entries: &[questions::Entry],
    now: Timestamp,
) -> Result<(), RegError> {
    let policy = policy::load(&s.db).await?;
    if !allowed(&policy, user, Kind::Questions) {
        return Err(RegError::MethodNotAllowed);
    }
    let flow = super::load(s, token, user.id, now).await?;
    questions::validate(entries, questions_needed(&policy))?;
    let sealed = questions::seal(&s.hasher, entries).await?;
    WIZARD
        .transition(s, token, flow, now, |_, _: &mut State| {
            let verified = Verified {
                kind: Kind::Questions,
                destination: String::new(),
                phone_channel: None,
                secret: None,
                last_step: 0,
                answers: Some(sealed.clone()),
            };
            Ok(Step::save(Ok(()), vec![add(user, verified)]))
        })
        .await
}

/// Drops the method being set up; nothing of it was stored as a method.
pub async fn cancel_pending(
    s: &Services,
    token: &str,
    user: &User,
    now: Timestamp,
) -> Result<(), RegError> {
    let flow = super::load(s, token, user.id, now).await?;
    WIZARD
        .transition(s, token, flow, now, |_, state: &mut State| {
            let step = if state.pending.take().is_some() {
                Step::save(Ok(()), vec![])
            } else {
                Step::answer(Ok(()))
            };
            Ok(step)
        })
        .await
}

/// Ends the wizard: the user's info counts as confirmed now.
pub async fn finish(
    s: &Services,
    token: &str,
    user: &User,
    now: Timestamp,
) -> Result<(), RegError> {
    let policy = policy::load(&s.db).await?;
    let mut flow = super::load(s, token, user.id, now).await?;
    let have = methods::counted(&methods::list(s.db.pool(), user.id).await?);
    let need = policy.required_for(user.role == Role::Admin);
    if have < need {
        return Err(RegError::NotEnoughMethods { have, need });
    }
    // A change in another tab between the load and the end is not a
    // reason to refuse: end the flow as it is now.
    for _ in 0..8 {
        match WIZARD.consume(s, &flow, "done", now).await {
            Ok(mut tx) => {
                store::users::confirm_info(&mut *tx, user.id, true, now).await?;
                let event =
                    Event::by_self(AuditKind::SecurityInfoConfirmed, Outcome::Success, user.id);
                audit::record(&mut *tx, &event, now).await?;
                tx.commit().await.map_err(DomainError::from)?;
                return Ok(());
            }
            Err(FlowError::Expired) => flow = super::load(s, token, user.id, now).await?,
            Err(e) => return Err(e.into()),
        }
    }
    Err(DomainError::Contention("registration flow").into())
}

/// Whether the latest code of the pending method could not be delivered
/// (the channel failed, or the code expired undelivered): the wizard then
/// suggests another method.
pub async fn delivery_failed(s: &Services, flow: &Flow) -> Result<bool, DomainError> {
    let Some(Pending::Code { message_key, .. }) = &flow.state.pending else {
        return Ok(false);
    };
    if message_key.is_empty() {
        return Ok(false);
    }
    Ok(
        match outbox::delivery_state(s.db.pool(), message_key).await? {
            Some((state, attempts)) => {
                state == "failed" || state == "expired" || (state == "pending" && attempts > 0)
            }
            None => false,
        },
    )
}
