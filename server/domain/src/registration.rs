//! The security-info registration flow (the aka.ms/ssprsetup journey).
//!
//! State lives in a `flows` row (kind `register`) keyed by the SHA-256 of
//! a random token kept in an HttpOnly cookie, so it survives reloads, the
//! back button and a second tab. Every change is one compare-and-swap on
//! the row's `version`, made in the same transaction as its effects (the
//! method written, the code message queued, the audit row): a submission
//! is applied exactly once, or not at all, however many race.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::{self, Event};
use crate::identity::valid_email;
use crate::methods::{self, Kind, NewMethod, PhoneChannel};
use crate::outbox::{self, Channel, NewMessage, Template};
use crate::password::HashError;
use crate::phone::{self, PhoneError};
use crate::policy::{self, Policy};
use crate::questions::{self, QuestionError};
use crate::secrets::{random_token, token_hash};
use crate::users::{Role, User};
use crate::{DomainError, Services, Timestamp, authenticator, codes, rate};

pub const FLOW_KIND: &str = "register";
/// The whole wizard must be finished within this time.
pub const FLOW_TTL_SECS: i64 = 15 * 60;
/// Wrong codes tolerated in one flow, whatever the destination, so that
/// switching addresses does not buy fresh guesses.
pub const MAX_FLOW_FAILURES: i64 = 10;
/// Compare-and-swap rounds before giving up.
const MAX_ROUNDS: usize = 32;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub pending: Option<Pending>,
    pub failures: i64,
}

/// A method being set up, not yet proven.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pending {
    Code {
        method: Kind,
        destination: String,
        channel: Option<PhoneChannel>,
        code_hash: String,
        digits: usize,
        sent_at: i64,
        expires_at: i64,
        attempts: i64,
        /// The outbox row carrying the latest code, to tell the user when
        /// its delivery fails.
        #[serde(default)]
        message_key: String,
    },
    Authenticator {
        /// Encrypted like stored secrets.
        secret: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RegError {
    #[error("the registration session expired")]
    FlowExpired,
    #[error("this method is not allowed by the policy")]
    MethodNotAllowed,
    #[error("not an email address")]
    InvalidEmail,
    #[error("phone: {0}")]
    InvalidPhone(#[from] PhoneError),
    #[error("already registered")]
    AlreadyRegistered,
    #[error("too many codes sent; retry after {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    #[error("wait {retry_after_secs} s before asking for another code")]
    ResendTooSoon { retry_after_secs: i64 },
    #[error("no code is waiting to be entered")]
    NoPendingCode,
    #[error("the code must be {digits} digits")]
    CodeFormat { digits: usize },
    #[error("wrong code")]
    WrongCode { attempts_left: i64 },
    #[error("the code expired")]
    CodeExpired,
    #[error("too many wrong codes")]
    TooManyAttempts,
    #[error("need {need} methods, have {have}")]
    NotEnoughMethods { have: usize, need: usize },
    #[error("the policy needs this method")]
    LastMethod,
    #[error("no such method")]
    NoSuchMethod,
    #[error("security questions: {0}")]
    Questions(#[from] QuestionError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Internal(#[from] DomainError),
}

impl From<sqlx::Error> for RegError {
    fn from(e: sqlx::Error) -> Self {
        RegError::Internal(e.into())
    }
}

pub struct Flow {
    pub token_hash: String,
    pub user_id: i64,
    pub state: State,
    pub version: i64,
    pub expires_at: Timestamp,
}

/// Starts a flow for `user`, or continues the one `existing` names.
/// Returns the token for the cookie.
pub async fn start(
    s: &Services,
    user: &User,
    existing: Option<&str>,
    now: Timestamp,
) -> Result<String, RegError> {
    if let Some(token) = existing
        && load(s, token, user.id, now).await.is_ok()
    {
        return Ok(token.to_owned());
    }
    let token = random_token();
    sqlx::query(
        "INSERT INTO flows (id_hash, kind, user_id, state, data, attempts, version, created_at, expires_at) \
         VALUES ($1, $2, $3, 'open', $4, 0, 0, $5, $6)",
    )
    .bind(token_hash(&token))
    .bind(FLOW_KIND)
    .bind(user.id)
    .bind(to_json(&State::default())?)
    .bind(now.secs())
    .bind(now.plus_secs(FLOW_TTL_SECS).secs())
    .execute(s.db.pool())
    .await?;
    Ok(token)
}

pub async fn load(
    s: &Services,
    token: &str,
    user_id: i64,
    now: Timestamp,
) -> Result<Flow, RegError> {
    let row = sqlx::query(
        "SELECT id_hash, user_id, data, version, expires_at FROM flows \
         WHERE id_hash = $1 AND kind = $2 AND consumed_at IS NULL",
    )
    .bind(token_hash(token))
    .bind(FLOW_KIND)
    .fetch_optional(s.db.pool())
    .await?;
    let Some(row) = row else {
        return Err(RegError::FlowExpired);
    };
    let owner: Option<i64> = row.try_get("user_id")?;
    let expires_at = Timestamp(row.try_get("expires_at")?);
    // A flow belongs to the session's user; a token from another account is
    // treated as no flow at all.
    if owner != Some(user_id) || expires_at <= now {
        return Err(RegError::FlowExpired);
    }
    let data: String = row.try_get("data")?;
    Ok(Flow {
        token_hash: row.try_get("id_hash")?,
        user_id,
        state: serde_json::from_str(&data)
            .map_err(|e| DomainError::Corrupt(format!("flow state: {e}")))?,
        version: row.try_get("version")?,
        expires_at,
    })
}

fn to_json(state: &State) -> Result<String, DomainError> {
    serde_json::to_string(state).map_err(|e| DomainError::Corrupt(e.to_string()))
}

/// What a transition does besides changing the state, inside its transaction.
enum Effect {
    Send(NewMessage),
    AddMethod {
        kind: Kind,
        destination: String,
        channel: Option<PhoneChannel>,
        secret: Option<String>,
        last_step: i64,
        answers: Option<String>,
    },
    Audit {
        event: &'static str,
        outcome: &'static str,
        detail: String,
    },
}

/// The outcome of applying a change to the state: whether to save it, the
/// effects to apply with it, and what to answer.
struct Step<T> {
    save: bool,
    effects: Vec<Effect>,
    answer: Result<T, RegError>,
}

impl<T> Step<T> {
    fn refuse(e: RegError) -> Step<T> {
        Step {
            save: false,
            effects: vec![],
            answer: Err(e),
        }
    }
}

/// Loads the flow, applies `change` to a copy of its state, and saves the
/// result with a compare-and-swap on `version` together with its effects.
/// Under contention the change is recomputed on the fresh state.
async fn transition<T>(
    s: &Services,
    token: &str,
    user: &User,
    now: Timestamp,
    mut change: impl FnMut(&mut State) -> Result<Step<T>, RegError>,
) -> Result<T, RegError> {
    for _ in 0..MAX_ROUNDS {
        let flow = load(s, token, user.id, now).await?;
        let mut state = flow.state.clone();
        let step = change(&mut state)?;
        if !step.save {
            return step.answer;
        }
        let mut tx = s.db.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE flows SET data = $1, version = version + 1 WHERE id_hash = $2 AND version = $3 AND consumed_at IS NULL",
        )
        .bind(to_json(&state)?)
        .bind(&flow.token_hash)
        .bind(flow.version)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            tx.rollback().await?;
            continue;
        }
        for effect in step.effects {
            apply(s, &mut tx, user, effect, now).await?;
        }
        tx.commit().await?;
        return step.answer;
    }
    Err(DomainError::Contention("registration flow").into())
}

async fn apply(
    s: &Services,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &User,
    effect: Effect,
    now: Timestamp,
) -> Result<(), RegError> {
    match effect {
        Effect::Send(m) => outbox::enqueue(&mut **tx, &m, now).await?,
        Effect::AddMethod {
            kind,
            destination,
            channel,
            secret,
            last_step,
            answers,
        } => {
            let new = NewMethod {
                kind,
                destination: &destination,
                phone_channel: channel,
                secret: secret.as_deref(),
                last_step,
                answers: answers.as_deref(),
            };
            methods::upsert(&mut **tx, user.id, &new, now).await?;
            audit_self(
                &mut **tx,
                user,
                "security_info_added",
                "success",
                Some(kind.as_str()),
                now,
            )
            .await?;
            notify_change(s, tx, user, kind, &destination, false, now).await?;
        }
        Effect::Audit {
            event,
            outcome,
            detail,
        } => audit_self(&mut **tx, user, event, outcome, Some(&detail), now).await?,
    }
    Ok(())
}

/// Audits something the user did to their own security info.
async fn audit_self<'e, E>(
    exec: E,
    user: &User,
    event: &str,
    outcome: &str,
    detail: Option<&str>,
    now: Timestamp,
) -> Result<(), DomainError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let e = Event {
        event,
        outcome,
        actor_user_id: Some(user.id),
        subject_user_id: Some(user.id),
        detail,
        ..Event::default()
    };
    audit::record(exec, &e, now).await
}

/// Tells the user, at their addresses other than the one just added, that
/// their security info changed.
async fn notify_change(
    s: &Services,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &User,
    kind: Kind,
    new_destination: &str,
    removed: bool,
    now: Timestamp,
) -> Result<(), RegError> {
    let addresses = crate::users::contact_addresses(tx, user).await?;
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
        outbox::enqueue(&mut **tx, &m, now).await?;
    }
    Ok(())
}

fn locale_of(s: &Services, user: &User) -> String {
    user.locale
        .clone()
        .unwrap_or_else(|| s.config.default_locale.clone())
}

/// Methods the policy lets this user register.
pub fn allowed(policy: &Policy, user: &User, kind: Kind) -> bool {
    match kind {
        Kind::Email => policy.allow_email,
        Kind::Phone => policy.allow_phone_sms || policy.allow_phone_voice,
        Kind::Authenticator => policy.allow_authenticator,
        // Never for admins (Entra's two-gate policy; security.md #41).
        Kind::Questions => policy.allow_questions && user.role != Role::Admin,
    }
}

fn channel_allowed(policy: &Policy, c: PhoneChannel) -> bool {
    match c {
        PhoneChannel::Sms => policy.allow_phone_sms,
        PhoneChannel::Voice => policy.allow_phone_voice,
    }
}

/// Counts a send against the destination and the account; refuses past
/// either hourly limit.
async fn check_send_limits(
    s: &Services,
    policy: &Policy,
    user: &User,
    destination: &str,
    now: Timestamp,
) -> Result<(), RegError> {
    let per_destination = rate::hit(
        &s.db,
        &format!("send:dest:{destination}"),
        3600,
        policy.max_sends_per_destination_per_hour,
        now,
    )
    .await?;
    let per_account = rate::hit(
        &s.db,
        &format!("send:user:{}", user.id),
        3600,
        policy.max_sends_per_account_per_hour,
        now,
    )
    .await?;
    if per_destination && per_account {
        Ok(())
    } else {
        Err(RegError::Throttled {
            retry_after_secs: 3600,
        })
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
    send_code(
        s,
        &policy,
        token,
        user,
        Kind::Email,
        address.to_owned(),
        None,
        now,
    )
    .await
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
    let e164 = phone::parse(number, region, &policy.phone_regions)?;
    send_code(
        s,
        &policy,
        token,
        user,
        Kind::Phone,
        e164.number,
        Some(channel),
        now,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn send_code(
    s: &Services,
    policy: &Policy,
    token: &str,
    user: &User,
    kind: Kind,
    destination: String,
    channel: Option<PhoneChannel>,
    now: Timestamp,
) -> Result<(), RegError> {
    let existing = methods::list(&s.db, user.id).await?;
    if existing
        .iter()
        .any(|m| m.kind == kind && m.destination == destination && m.phone_channel == channel)
    {
        return Err(RegError::AlreadyRegistered);
    }
    // A live flow first: limits are not spent on a dead session.
    load(s, token, user.id, now).await?;
    check_send_limits(s, policy, user, &destination, now).await?;
    let digits = usize::from(if kind == Kind::Email {
        policy.email_code_length
    } else {
        policy.phone_code_length
    });
    transition(s, token, user, now, |state| {
        let code = codes::generate(digits);
        let flow_hash = token_hash(token);
        let hash = codes::hash(&s.key, &flow_hash, kind.as_str(), &destination, &code);
        let message = code_message(s, user, kind, &destination, channel, &code, policy, now);
        state.pending = Some(Pending::Code {
            method: kind,
            destination: destination.clone(),
            channel,
            code_hash: hash,
            digits,
            sent_at: now.secs(),
            expires_at: now.plus_secs(policy.code_ttl_secs).secs(),
            attempts: 0,
            message_key: message.idempotency_key.clone(),
        });
        Ok(Step {
            save: true,
            effects: vec![Effect::Send(message)],
            answer: Ok(()),
        })
    })
    .await
}

#[allow(clippy::too_many_arguments)]
fn code_message(
    s: &Services,
    user: &User,
    kind: Kind,
    destination: &str,
    channel: Option<PhoneChannel>,
    code: &str,
    policy: &Policy,
    now: Timestamp,
) -> NewMessage {
    NewMessage {
        channel: match (kind, channel) {
            (Kind::Phone, Some(PhoneChannel::Voice)) => Channel::Voice,
            (Kind::Phone, _) => Channel::Sms,
            _ => Channel::Email,
        },
        recipient: destination.to_owned(),
        locale: locale_of(s, user),
        template: Template::VerificationCode {
            code: code.to_owned(),
            minutes: (policy.code_ttl_secs + 59) / 60,
        },
        idempotency_key: format!("code:{}:{}", user.id, crate::secrets::random_token()),
        // Never delivered after it expires (security.md #59).
        not_after: Some(now.plus_secs(policy.code_ttl_secs)),
    }
}

/// Sends a new code for the pending destination, after the cooldown. The
/// old code stops working; the wrong-code count is kept (#25).
pub async fn resend(
    s: &Services,
    token: &str,
    user: &User,
    now: Timestamp,
) -> Result<(), RegError> {
    let policy = policy::load(&s.db).await?;
    let flow = load(s, token, user.id, now).await?;
    let Some(Pending::Code {
        destination,
        sent_at,
        ..
    }) = &flow.state.pending
    else {
        return Err(RegError::NoPendingCode);
    };
    let wait = sent_at + policy.resend_cooldown_secs - now.secs();
    if wait > 0 {
        return Err(RegError::ResendTooSoon {
            retry_after_secs: wait,
        });
    }
    check_send_limits(s, &policy, user, destination, now).await?;
    transition(s, token, user, now, |state| {
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
        if *sent_at + policy.resend_cooldown_secs > now.secs() {
            return Ok(Step::refuse(RegError::ResendTooSoon {
                retry_after_secs: *sent_at + policy.resend_cooldown_secs - now.secs(),
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
        let message = code_message(s, user, *method, destination, *channel, &code, &policy, now);
        *message_key = message.idempotency_key.clone();
        Ok(Step {
            save: true,
            effects: vec![Effect::Send(message)],
            answer: Ok(()),
        })
    })
    .await
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
    transition(s, token, user, now, |state| {
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
                &token_hash(token),
                method.as_str(),
                &destination,
                code,
            )
        });
        if right {
            state.pending = None;
            let add = Effect::AddMethod {
                kind: method,
                destination,
                channel,
                secret: None,
                last_step: 0,
                answers: None,
            };
            return Ok(Step {
                save: true,
                effects: vec![add],
                answer: Ok(method),
            });
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
        let audit = Effect::Audit {
            event: "security_info_code",
            outcome: "failure",
            detail: method.as_str().to_owned(),
        };
        Ok(Step {
            save: true,
            effects: vec![audit],
            answer,
        })
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
    let flow = load(s, token, user.id, now).await?;
    if let Some(Pending::Authenticator { secret }) = &flow.state.pending {
        return Ok(authenticator::decrypt(&s.key, user.id, secret)?);
    }
    let secret = authenticator::new_secret();
    let sealed = authenticator::encrypt(&s.key, user.id, &secret)?;
    transition(s, token, user, now, |state| {
        state.pending = Some(Pending::Authenticator {
            secret: sealed.clone(),
        });
        Ok(Step {
            save: true,
            effects: vec![],
            answer: Ok(()),
        })
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
    transition(s, token, user, now, |state| {
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
                let add = Effect::AddMethod {
                    kind: Kind::Authenticator,
                    destination: String::new(),
                    channel: None,
                    secret: Some(secret),
                    last_step: step,
                    answers: None,
                };
                Ok(Step {
                    save: true,
                    effects: vec![add],
                    answer: Ok(()),
                })
            }
            None => {
                state.failures += 1;
                let left = (MAX_FLOW_FAILURES - state.failures).min(policy.max_code_attempts);
                let audit = Effect::Audit {
                    event: "security_info_code",
                    outcome: "failure",
                    detail: "authenticator".into(),
                };
                Ok(Step {
                    save: true,
                    effects: vec![audit],
                    answer: Err(RegError::WrongCode {
                        attempts_left: left.max(0),
                    }),
                })
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
    load(s, token, user.id, now).await?;
    questions::validate(entries, questions_needed(&policy))?;
    let sealed = questions::seal(&s.hasher, entries).await?;
    transition(s, token, user, now, |_state| {
        let add = Effect::AddMethod {
            kind: Kind::Questions,
            destination: String::new(),
            channel: None,
            secret: None,
            last_step: 0,
            answers: Some(sealed.clone()),
        };
        Ok(Step {
            save: true,
            effects: vec![add],
            answer: Ok(()),
        })
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
    transition(s, token, user, now, |state| {
        let save = state.pending.take().is_some();
        Ok(Step {
            save,
            effects: vec![],
            answer: Ok(()),
        })
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
    let flow = load(s, token, user.id, now).await?;
    let have = methods::counted(&methods::list(&s.db, user.id).await?);
    let need = policy.required_for(user.role == Role::Admin);
    if have < need {
        return Err(RegError::NotEnoughMethods { have, need });
    }
    let mut tx = s.db.pool().begin().await?;
    let done = sqlx::query("UPDATE flows SET consumed_at = $1, state = 'done' WHERE id_hash = $2 AND consumed_at IS NULL")
        .bind(now.secs())
        .bind(&flow.token_hash)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() != 1 {
        tx.rollback().await?;
        return Err(RegError::FlowExpired);
    }
    sqlx::query("UPDATE users SET info_confirmed_at = $1, registration_skips = 0 WHERE id = $2")
        .bind(now.secs())
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    audit_self(
        &mut *tx,
        user,
        "security_info_confirmed",
        "success",
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Where the user stands against the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    pub have: usize,
    pub need: usize,
    /// Signing in should lead to the wizard.
    pub must_register: bool,
    /// The user may still postpone ("Ask me later").
    pub may_skip: bool,
    /// Enough methods, but the reconfirmation period has passed.
    pub must_reconfirm: bool,
}

pub async fn standing(s: &Services, user: &User, now: Timestamp) -> Result<Standing, DomainError> {
    let policy = policy::load(&s.db).await?;
    let have = methods::counted(&methods::list(&s.db, user.id).await?);
    let need = policy.required_for(user.role == Role::Admin);
    let row = sqlx::query("SELECT info_confirmed_at, registration_skips FROM users WHERE id = $1")
        .bind(user.id)
        .fetch_one(s.db.pool())
        .await?;
    let confirmed: Option<i64> = row.try_get("info_confirmed_at")?;
    let skips: i64 = row.try_get("registration_skips")?;
    let must_register = policy.require_registration && have < need;
    let must_reconfirm = !must_register
        && policy.reconfirm_days > 0
        && confirmed.is_some_and(|c| now.secs() - c >= i64::from(policy.reconfirm_days) * 86_400);
    Ok(Standing {
        have,
        need,
        must_register,
        // Admins may not postpone: their accounts need recovery most.
        may_skip: must_register
            && user.role != Role::Admin
            && skips < i64::from(policy.max_registration_skips),
        must_reconfirm,
    })
}

/// "Ask me later": counts a postponement, if one is left.
pub async fn skip(s: &Services, user: &User, now: Timestamp) -> Result<bool, DomainError> {
    let st = standing(s, user, now).await?;
    if !st.may_skip {
        return Ok(false);
    }
    sqlx::query("UPDATE users SET registration_skips = registration_skips + 1 WHERE id = $1")
        .bind(user.id)
        .execute(s.db.pool())
        .await?;
    Ok(true)
}

/// "Looks good": confirms the current info without changes.
pub async fn reconfirm(s: &Services, user: &User, now: Timestamp) -> Result<(), DomainError> {
    sqlx::query("UPDATE users SET info_confirmed_at = $1 WHERE id = $2")
        .bind(now.secs())
        .bind(user.id)
        .execute(s.db.pool())
        .await?;
    Ok(())
}

/// Removes a registered method, unless the policy still needs it: a user
/// never drops below the required count by deleting (Entra refuses too).
/// Audited, and notified to the user's addresses.
pub async fn remove_method(
    s: &Services,
    user: &User,
    method_id: i64,
    now: Timestamp,
) -> Result<(), RegError> {
    let policy = policy::load(&s.db).await?;
    let all = methods::list(&s.db, user.id).await?;
    let Some(target) = all.iter().find(|m| m.id == method_id) else {
        return Err(RegError::NoSuchMethod);
    };
    let remaining: Vec<_> = all.iter().filter(|m| m.id != method_id).cloned().collect();
    let need = policy.required_for(user.role == Role::Admin);
    if methods::counted(&remaining) < need {
        return Err(RegError::LastMethod);
    }
    if !methods::delete(&s.db, user.id, method_id).await? {
        return Err(RegError::NoSuchMethod);
    }
    let mut tx = s.db.pool().begin().await?;
    audit_self(
        &mut *tx,
        user,
        "security_info_removed",
        "success",
        Some(target.kind.as_str()),
        now,
    )
    .await?;
    notify_change(s, &mut tx, user, target.kind, "", true, now).await?;
    tx.commit().await?;
    Ok(())
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
    Ok(match outbox::delivery_state(&s.db, message_key).await? {
        Some((state, attempts)) => {
            state == "failed" || state == "expired" || (state == "pending" && attempts > 0)
        }
        None => false,
    })
}
