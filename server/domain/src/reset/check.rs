//! Checking a gate: a typed code, the authenticator app's code, or the
//! answers to the security questions.
//!
//! Throttled per typed user ID, method and network whether or not the ID
//! names an account ([`super::guesses`]). A submission that loses the race
//! to a right one in the same flow (a double click, a second tab) is not a
//! guess: it gets the winner's answer and counts nothing
//! (docs/security.md #67).

use std::time::Duration;

use super::finish::eligibility;
use super::guesses::{Counts, Slot};
use super::{Flow, Pending, ResetError, State, WIZARD, registered};
use crate::audit::{Event, Kind as AuditKind, Outcome};
use crate::flow::{Effect, Step};
use crate::methods::{self, Kind, Method};
use crate::policy::{self, Policy};
use crate::users;
use crate::{DomainError, Services, Timestamp, authenticator, codes, notices, questions};

/// What one check decided, for its effects.
struct Decision<'a> {
    kind: Kind,
    right: bool,
    /// The guess was at the account's own secret: its authenticator or
    /// answers, or a code sent to a destination it registered.
    at_the_account: bool,
    slot: &'a Slot,
}

/// The effects of a decided check: its audit row and the counters.
fn decided(flow: &Flow, counts: &Counts, d: Decision<'_>) -> Vec<Effect> {
    let audit = Event {
        subject_user_id: flow.user_id,
        ..Event::new(AuditKind::ResetGate, Outcome::of(d.right)).detail(d.kind.as_str())
    };
    let mut effects = vec![Effect::Audit(audit)];
    effects.extend(counts.decided(d.right, d.at_the_account, d.slot));
    effects
}

/// What the authenticator made of a typed code.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Totp {
    /// A time step not accepted before: the gate is passed.
    Accepted,
    /// The code of a step already accepted: a second submission of a right
    /// code (or a replay), not a guess.
    Spent,
    Wrong,
}

/// The authenticator's verdict on `input` for the account's apps. Each
/// step is accepted once (`methods::advance_totp_step`), so this is
/// decided outside the flow's compare-and-swap.
pub(crate) async fn authenticator_check(
    s: &Services,
    user_id: Option<i64>,
    registered: &[Method],
    input: &str,
    now: Timestamp,
) -> Result<Totp, ResetError> {
    let Ok(code) = codes::normalize_input(input, authenticator::DIGITS) else {
        return Ok(Totp::Wrong);
    };
    let has_app = registered
        .iter()
        .any(|m| m.kind == Kind::Authenticator && m.secret.is_some());
    let (Some(user_id), true) = (user_id, has_app) else {
        // No app to check: the same opening and checks on a stand-in
        // secret, so the answer takes as long as for an account with one
        // (docs/security.md #11).
        let sealed = authenticator::encrypt(&s.key, 0, &[0; 20])?;
        let secret = authenticator::decrypt(&s.key, 0, &sealed)?;
        let _ = authenticator::verify(&secret, &code, now, 0)?;
        let _ = authenticator::verify(&secret, &code, now, -1)?;
        return Ok(Totp::Wrong);
    };
    for m in registered.iter().filter(|m| m.kind == Kind::Authenticator) {
        let Some(sealed) = m.secret.as_deref() else {
            continue;
        };
        let secret = authenticator::decrypt(&s.key, user_id, sealed)?;
        if let Some(step) = authenticator::verify(&secret, &code, now, m.last_step)? {
            if methods::advance_totp_step(s.db.pool(), m.id, step).await? {
                return Ok(Totp::Accepted);
            }
            // Another submission took this step a moment ago.
            return Ok(Totp::Spent);
        }
        if authenticator::verify(&secret, &code, now, -1)?.is_some() {
            return Ok(Totp::Spent);
        }
    }
    Ok(Totp::Wrong)
}

/// A code waiting in a flow, as the reset gates and the sign-in's second
/// factor both keep it.
pub(crate) struct SentCode<'a> {
    pub kind: Kind,
    pub code_hash: &'a str,
    pub digits: usize,
    pub expires_at: i64,
    pub attempts: i64,
}

impl SentCode<'_> {
    /// Whether `input` is this code, sent in the flow `flow_hash` to one
    /// of `destinations`. Refused without deciding anything (no failure is
    /// counted) when the code is out of tries or expired, or `input` is
    /// not a code of its length.
    pub(crate) fn check<'d>(
        &self,
        s: &Services,
        policy: &Policy,
        flow_hash: &str,
        input: &str,
        mut destinations: impl Iterator<Item = &'d str>,
        now: Timestamp,
    ) -> Result<bool, ResetError> {
        if self.attempts >= policy.max_code_attempts {
            return Err(ResetError::TooManyAttempts);
        }
        if self.expires_at <= now.secs() {
            return Err(ResetError::CodeExpired);
        }
        let digits = self.digits;
        let typed =
            codes::normalize_input(input, digits).map_err(|_| ResetError::CodeFormat { digits })?;
        Ok(destinations.any(|to| {
            codes::matches(
                &s.key,
                self.code_hash,
                flow_hash,
                self.kind.as_str(),
                to,
                &typed,
            )
        }))
    }
}

/// How often, and how far apart, a submission that found the gate taken
/// by a parallel one looks for that one's result.
const RACE_LOOKS: usize = 20;
const RACE_LOOK_EVERY: Duration = Duration::from_millis(25);

/// The answer for a submission that lost the race to another one in the
/// same flow: the winner's ("done" or "next gate") once the flow shows
/// `kind` passed. The winner may still be committing (it took the slot or
/// the time step a moment ago), so this looks a few times; when the flow
/// never shows the pass, the parallel submissions were not a right one
/// and this one is refused without counting.
async fn answer_like_the_winner(
    s: &Services,
    token: &str,
    kind: Kind,
    now: Timestamp,
) -> Result<bool, ResetError> {
    for _ in 0..RACE_LOOKS {
        let flow = super::load(s, token, now).await?;
        if flow.state.passed.contains(&kind) {
            return Ok(flow.state.done());
        }
        tokio::time::sleep(RACE_LOOK_EVERY).await;
    }
    Err(ResetError::TooManyAttempts)
}

/// True when the flow no longer waits for `kind` because it was passed
/// (by a parallel submission).
fn passed_meanwhile(state: &State, kind: Kind) -> bool {
    state.passed.contains(&kind)
}

/// What a check's compare-and-swap decided.
enum Decided {
    /// `right`, the code's tries left, and whether every gate is passed.
    Checked { right: bool, left: i64, done: bool },
    /// A parallel submission passed this gate first.
    AlreadyPassed { done: bool },
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
        // A second submission of the code that just passed a gate.
        None if !flow.state.passed.is_empty() => return Ok(flow.state.done()),
        Some(Pending::Questions { .. }) | None => return Err(ResetError::NoPendingCode),
    };
    let counts = Counts::of(&flow.state, kind);
    let Some(slot) = counts.reserve(s, now).await? else {
        return answer_like_the_winner(s, token, kind, now).await;
    };
    let registered = registered(s, flow.user_id).await?;
    let totp = match kind {
        Kind::Authenticator => {
            authenticator_check(s, flow.user_id, &registered, input, now).await?
        }
        _ => Totp::Wrong,
    };
    if totp == Totp::Spent {
        slot.give_back(s).await?;
        return answer_like_the_winner(s, token, kind, now).await;
    }
    let (user_id, gates_needed) = (flow.user_id, flow.state.gates_needed);
    let checked = WIZARD
        .transition(s, token, flow, now, |flow, state: &mut State| {
            if passed_meanwhile(state, kind) {
                return Ok(Step::answer(Ok(Decided::AlreadyPassed {
                    done: state.done(),
                })));
            }
            // The authenticator gate counts alike for every ID (an
            // unknown one included: no difference to observe); a code
            // only when it went to a destination the account registered.
            let mut at_the_account = true;
            let right = match state.pending.clone() {
                Some(Pending::Authenticator) => totp == Totp::Accepted,
                Some(Pending::Code {
                    kind,
                    destination,
                    code_hash,
                    digits,
                    expires_at,
                    attempts,
                    ..
                }) => {
                    at_the_account &= registered.iter().any(|m| {
                        m.kind == kind && m.destination.eq_ignore_ascii_case(&destination)
                    });
                    let sent = SentCode {
                        kind,
                        code_hash: &code_hash,
                        digits,
                        expires_at,
                        attempts,
                    };
                    let destinations = registered
                        .iter()
                        .filter(|m| m.kind == kind)
                        .map(|m| m.destination.as_str());
                    let ok = sent.check(s, &policy, &flow.token_hash, input, destinations, now)?;
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
            let decision = Decision {
                kind,
                right,
                at_the_account,
                slot: &slot,
            };
            let effects = decided(flow, &counts, decision);
            let done = state.done();
            Ok(Step::save(
                Ok(Decided::Checked { right, left, done }),
                effects,
            ))
        })
        .await;
    let (right, left, done) = match checked {
        Ok(Decided::Checked { right, left, done }) => (right, left, done),
        Ok(Decided::AlreadyPassed { done }) => {
            slot.give_back(s).await?;
            return Ok(done);
        }
        // Nothing was decided: malformed input, an expired code, a code
        // already out of tries, a flow moved on. No failure slot is spent.
        Err(e) => {
            slot.give_back(s).await?;
            return Err(e);
        }
    };
    let outcome = Checked {
        kind,
        right,
        code_left: (kind != Kind::Authenticator).then_some(left),
    };
    conclude(
        s,
        &policy,
        user_id,
        gates_needed,
        &registered,
        &counts,
        outcome,
        now,
    )
    .await?;
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
    let asked = match &flow.state.pending {
        Some(Pending::Questions { questions }) => questions,
        // A second submission of the answers that just passed the gate.
        None if flow.state.passed.contains(&Kind::Questions) => return Ok(flow.state.done()),
        _ => return Err(ResetError::NoPendingCode),
    };
    // A blank or missing answer spends no failure slot and hashes nothing.
    if answers.len() != asked.len() || answers.iter().any(|a| a.trim().is_empty()) {
        return Err(ResetError::AnswersIncomplete { need: asked.len() });
    }
    let counts = Counts::of(&flow.state, Kind::Questions);
    let Some(slot) = counts.reserve(s, now).await? else {
        return answer_like_the_winner(s, token, Kind::Questions, now).await;
    };
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
                slot.give_back(s).await?;
                return Err(e.into());
            }
        },
        None => false,
    };
    let (user_id, gates_needed) = (flow.user_id, flow.state.gates_needed);
    let checked = WIZARD
        .transition(s, token, flow, now, |flow, state: &mut State| {
            if passed_meanwhile(state, Kind::Questions) {
                return Ok(Step::answer(Ok(Decided::AlreadyPassed {
                    done: state.done(),
                })));
            }
            if !matches!(state.pending, Some(Pending::Questions { .. })) {
                return Err(ResetError::NoPendingCode);
            }
            if right {
                state.pass(Kind::Questions);
            }
            let decision = Decision {
                kind: Kind::Questions,
                right,
                at_the_account: true,
                slot: &slot,
            };
            let effects = decided(flow, &counts, decision);
            let done = state.done();
            Ok(Step::save(
                Ok(Decided::Checked {
                    right,
                    left: 0,
                    done,
                }),
                effects,
            ))
        })
        .await;
    let done = match checked {
        Ok(Decided::Checked { done, .. }) => done,
        Ok(Decided::AlreadyPassed { done }) => {
            slot.give_back(s).await?;
            return Ok(done);
        }
        Err(e) => {
            slot.give_back(s).await?;
            return Err(e);
        }
    };
    let outcome = Checked {
        kind: Kind::Questions,
        right,
        code_left: None,
    };
    conclude(
        s,
        &policy,
        user_id,
        gates_needed,
        &registered,
        &counts,
        outcome,
        now,
    )
    .await?;
    Ok(done)
}

/// Tells the account's owner that wrong answers blocked `kind` for a
/// network (docs/security.md #66). Unknown IDs have nobody to tell.
pub(crate) async fn tell_the_owner(
    s: &Services,
    user_id: i64,
    kind: Kind,
    now: Timestamp,
) -> Result<(), ResetError> {
    let Some(user) = users::find_by_id(s.db.pool(), user_id).await? else {
        return Ok(());
    };
    let mut tx = s.db.pool().begin().await.map_err(DomainError::from)?;
    notices::gate_blocked(s, &mut tx, &user, kind, now).await?;
    tx.commit().await.map_err(DomainError::from)?;
    Ok(())
}

/// What one gate check decided, for [`conclude`].
struct Checked {
    kind: Kind,
    right: bool,
    /// Tries left on the pending code (codes have their own budget besides
    /// the hourly one); `None` for gates without one.
    code_left: Option<i64>,
}

/// The answer every gate check shares: a wrong answer says how many tries
/// are left (the smaller of the code's and the hour's) and blocks the
/// network when none are; a right one only then learns the account's real
/// state, so only someone who proved a method is told it.
#[allow(clippy::too_many_arguments)] // one call site per gate kind, all named
async fn conclude(
    s: &Services,
    policy: &Policy,
    user_id: Option<i64>,
    gates_needed: usize,
    registered: &[Method],
    counts: &Counts,
    checked: Checked,
    now: Timestamp,
) -> Result<(), ResetError> {
    if !checked.right {
        let (hourly_left, blocked) = counts.left_after_failure(s, now).await?;
        if blocked && let Some(id) = user_id {
            tell_the_owner(s, id, checked.kind, now).await?;
        }
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
