//! Checking the second factor, and starting the session.
//!
//! Counted like a reset gate ([`crate::reset::guesses`]): a failure slot
//! is reserved before each check, a wrong code keeps it, the failure that
//! reaches the hour's limit blocks the network and tells the owner (who
//! learns that someone knows their password). The right code ends the
//! flow and starts the session in one transaction, so one proof makes
//! one session however many submissions race.

use std::net::IpAddr;
use std::time::Duration;

use super::{Pending, State, WIZARD, load};
use crate::audit::{Event, Kind as AuditKind, Outcome};
use crate::auth::SignedIn;
use crate::flow::{self, Effect, Step};
use crate::methods::{self, Kind};
use crate::policy;
use crate::reset::ResetError;
use crate::reset::check::{SentCode, Totp, authenticator_check, tell_the_owner};
use crate::reset::guesses::Counts;
use crate::{DomainError, Services, Timestamp, sessions, users};

/// A proven second factor: the new session, and where to go.
#[derive(Debug)]
pub struct Verified {
    pub signed_in: SignedIn,
    /// The local path given at sign-in ("" for the default).
    pub next: String,
}

/// What the check's compare-and-swap decided.
enum Decided {
    /// Right, or wrong with the code's tries left.
    Checked { right: bool, left: i64 },
    /// The flow changed under the check (another tab chose another
    /// method): nothing was decided.
    Moved,
}

/// Checks the typed code for the pending method. Right: the flow ends and
/// the session starts (`previous_session`, the browser's old token, is
/// revoked with it).
pub async fn verify(
    s: &Services,
    token: &str,
    input: &str,
    previous_session: Option<&str>,
    ip: Option<IpAddr>,
    now: Timestamp,
) -> Result<Verified, ResetError> {
    let policy = policy::load(&s.db).await?;
    let flow = load(s, token, now).await?;
    let user_id = flow.user_id.ok_or(ResetError::FlowExpired)?;
    let Some(pending) = flow.state.pending.clone() else {
        return Err(ResetError::NoPendingCode);
    };
    let kind = pending.kind();
    let counts = Counts::new(&flow.state.identifier, &flow.state.network, kind);
    let Some(slot) = counts.reserve(s, now).await? else {
        return after_the_race(s, token, now).await;
    };
    let registered = methods::list(s.db.pool(), user_id).await?;
    let totp = match kind {
        Kind::Authenticator => {
            authenticator_check(s, Some(user_id), &registered, input, now).await?
        }
        _ => Totp::Wrong,
    };
    if totp == Totp::Spent {
        // The code of a step already used: a second submission of the
        // code that signed in (it made its session), or a replay. Not a
        // guess, and not a second session.
        slot.give_back(s).await?;
        return Err(ResetError::FlowExpired);
    }
    let checked = WIZARD
        .transition(s, token, flow, now, |flow, state: &mut State| {
            // Another code or method chosen meanwhile (a second tab): this
            // input was typed for something no longer asked. A parallel
            // wrong guess at the same code only changed its count.
            let Some(current) = state.pending.clone().filter(|p| p.same_ask(&pending)) else {
                return Ok(Step::answer(Ok(Decided::Moved)));
            };
            let right = match current {
                Pending::Authenticator { .. } => totp == Totp::Accepted,
                Pending::Code {
                    method_id,
                    kind,
                    code_hash,
                    digits,
                    expires_at,
                    attempts,
                    ..
                } => {
                    let sent = SentCode {
                        kind,
                        code_hash: &code_hash,
                        digits,
                        expires_at,
                        attempts,
                    };
                    let destinations = registered
                        .iter()
                        .filter(|m| m.id == method_id)
                        .map(|m| m.destination.as_str());
                    let ok = sent.check(s, &policy, &flow.token_hash, input, destinations, now)?;
                    if !ok && let Some(Pending::Code { attempts, .. }) = state.pending.as_mut() {
                        *attempts += 1;
                    }
                    ok
                }
            };
            let left = match &state.pending {
                Some(Pending::Code { attempts, .. }) => policy.max_code_attempts - attempts,
                _ => 0,
            };
            if right {
                // Ended below with the session; nothing more to save.
                return Ok(Step::answer(Ok(Decided::Checked { right, left })));
            }
            let mut effects = vec![Effect::Audit(failure(user_id, kind, ip))];
            effects.extend(counts.decided(false, true, &slot));
            Ok(Step::save(Ok(Decided::Checked { right, left }), effects))
        })
        .await;
    let left = match checked {
        Ok(Decided::Checked { right: true, .. }) => {
            return start_session(s, token, kind, &counts, slot, previous_session, ip, now).await;
        }
        Ok(Decided::Checked { right: false, left }) => left,
        Ok(Decided::Moved) => {
            slot.give_back(s).await?;
            return Err(ResetError::NoPendingCode);
        }
        Err(e) => {
            slot.give_back(s).await?;
            return Err(e);
        }
    };
    let (hourly_left, blocked) = counts.left_after_failure(s, now).await?;
    if blocked {
        tell_the_owner(s, user_id, kind, now).await?;
    }
    let left = if kind == Kind::Authenticator {
        hourly_left
    } else {
        left.min(hourly_left)
    };
    Err(if left <= 0 {
        ResetError::TooManyAttempts
    } else {
        ResetError::WrongCode {
            attempts_left: left,
        }
    })
}

/// The answer for a submission that found the hour's failure slots all
/// taken by checks still in flight. When one of them was the right code,
/// the flow ends in a moment (it made the session): "expired", like any
/// submission after the end. Otherwise the tries are spent.
async fn after_the_race(s: &Services, token: &str, now: Timestamp) -> Result<Verified, ResetError> {
    for _ in 0..RACE_LOOKS {
        if let Err(ResetError::FlowExpired) = load(s, token, now).await {
            return Err(ResetError::FlowExpired);
        }
        tokio::time::sleep(RACE_LOOK_EVERY).await;
    }
    Err(ResetError::TooManyAttempts)
}

/// How often, and how far apart, [`after_the_race`] looks.
const RACE_LOOKS: usize = 20;
const RACE_LOOK_EVERY: Duration = Duration::from_millis(25);

fn failure(user_id: i64, kind: Kind, ip: Option<IpAddr>) -> Event {
    Event {
        actor_user_id: Some(user_id),
        subject_user_id: Some(user_id),
        ..Event::new(AuditKind::SignInSecondFactor, Outcome::Failure)
            .detail(kind.as_str())
            .ip(ip)
    }
}

/// Ends the flow (if nobody did first) and starts the session, with the
/// audit rows and the pass's counter changes, in one transaction.
#[allow(clippy::too_many_arguments)] // the one caller names each
async fn start_session(
    s: &Services,
    token: &str,
    kind: Kind,
    counts: &Counts,
    slot: crate::reset::guesses::Slot,
    previous_session: Option<&str>,
    ip: Option<IpAddr>,
    now: Timestamp,
) -> Result<Verified, ResetError> {
    let flow = load(s, token, now).await?;
    let user_id = flow.user_id.ok_or(ResetError::FlowExpired)?;
    // Disabled or deleted since the password was checked: no session.
    let Some(user) = users::find_by_id(s.db.pool(), user_id)
        .await?
        .filter(|u| u.enabled)
    else {
        slot.give_back(s).await?;
        return Err(ResetError::FlowExpired);
    };
    let mut tx = match WIZARD.consume(s, &flow, "signed_in", now).await {
        Ok(tx) => tx,
        Err(e) => {
            // A parallel submission ended the flow first: it made the
            // session. This one is no guess either.
            slot.give_back(s).await?;
            return Err(e.into());
        }
    };
    let session_token =
        sessions::create_in(&mut tx, &s.config.sessions, user_id, previous_session, now).await?;
    let passed = Event {
        actor_user_id: Some(user_id),
        subject_user_id: Some(user_id),
        ..Event::new(AuditKind::SignInSecondFactor, Outcome::Success)
            .detail(kind.as_str())
            .ip(ip)
    };
    let signed_in = Event {
        actor_user_id: Some(user_id),
        subject_user_id: Some(user_id),
        subject_login: Some(user.login.as_str().to_owned()),
        ..Event::new(AuditKind::SignIn, Outcome::Success)
            .detail(format!("second_factor:{}", kind.as_str()))
            .ip(ip)
    };
    let mut effects = vec![Effect::Audit(passed), Effect::Audit(signed_in)];
    effects.extend(counts.decided(true, true, &slot));
    flow::apply(s, &mut tx, effects, now).await?;
    tx.commit().await.map_err(DomainError::from)?;
    Ok(Verified {
        signed_in: SignedIn {
            user_id,
            session_token,
        },
        next: flow.state.next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_the_method_and_the_account() {
        let e = failure(7, Kind::Email, None);
        assert_eq!(e.event, AuditKind::SignInSecondFactor);
        assert_eq!(e.outcome, Outcome::Failure);
        assert_eq!(e.detail.as_deref(), Some("email"));
        assert_eq!(e.subject_user_id, Some(7));
    }
}
