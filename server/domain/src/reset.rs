//! The password reset wizard ("Can't access your account?").
//!
//! Step 1 takes a user ID and a CAPTCHA and always answers the same way:
//! a flow is created whether or not the ID names an account that may reset,
//! and every later step behaves identically for an account that does not
//! exist, is disabled, or has nothing registered — codes are "sent" (only
//! real ones leave, through the outbox) and typed codes are checked against
//! a code nobody knows. The account's real state is revealed only once a
//! gate has been passed, i.e. to someone who proved control of a method.
//!
//! Like registration, the flow is a `flows` row (kind `reset`) named by the
//! SHA-256 of a cookie token, and every change is a compare-and-swap on its
//! `version`, committed with its effects.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::{self, Event};
use crate::identity::Login;
use crate::methods::{self, Kind, Method, PhoneChannel};
use crate::outbox::{self, Channel, NewMessage, Template};
use crate::password::{HashError, Normalized};
use crate::password_policy::{self, Reason, Rules};
use crate::phone::{self, PhoneError};
use crate::policy::{self, Policy};
use crate::questions::{self, Question};
use crate::secrets::{random_token, token_hash};
use crate::users::{self, Role, User};
use crate::{DomainError, Services, Timestamp, authenticator, codes, password_change, rate};

pub const FLOW_KIND: &str = "reset";
pub const FLOW_TTL_SECS: i64 = 15 * 60;
/// Failed verifications per account and method per hour (Entra: 5).
pub const MAX_FAILURES_PER_HOUR: i64 = 5;
/// How long a method stays blocked after too many failures.
pub const BLOCK_SECS: i64 = 24 * 3600;
// Housekeeping deletes counters older than the longest window.
const _: () = assert!(BLOCK_SECS <= rate::LONGEST_WINDOW_SECS);
/// Code sends per identifier per hour, whether or not it names an account.
pub const MAX_SENDS_PER_IDENTIFIER: i64 = 5;

/// Config `[reset]`: step 1's ceilings per client address (an IPv4 address
/// or an IPv6 /64), the second line of defence behind the per-ID limits,
/// and the threshold of the surge alert over all addresses.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ResetConfig {
    /// Wizards started per address per hour (security.md #38: 20).
    pub starts_per_address_per_hour: i64,
    /// Of those, started without a solved CAPTCHA (no JavaScript).
    pub starts_without_captcha_per_address_per_hour: i64,
    /// Starts from all addresses together in an hour above which the admins
    /// are alerted, once that hour (security.md #38: a flood spread over
    /// many addresses passes every per-address ceiling).
    pub alert_starts_per_hour: i64,
}

impl Default for ResetConfig {
    fn default() -> Self {
        ResetConfig {
            starts_per_address_per_hour: 20,
            starts_without_captcha_per_address_per_hour: 3,
            alert_starts_per_hour: 500,
        }
    }
}

const MAX_ROUNDS: usize = 32;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Keyed hash of the canonical user ID: throttles are keyed on it
    /// whether or not it names an account.
    pub identifier: String,
    pub gates_needed: usize,
    /// Kinds proven so far (never two of one kind).
    pub passed: Vec<Kind>,
    pub pending: Option<Pending>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Pending {
    /// A code was (or, for a non-matching destination, was not) sent.
    Code {
        kind: Kind,
        /// What the user typed (for "send a new code").
        destination: String,
        channel: Option<PhoneChannel>,
        code_hash: String,
        digits: usize,
        sent_at: i64,
        expires_at: i64,
        attempts: i64,
    },
    /// The user will type the authenticator app's current code.
    Authenticator,
    /// The user will answer their security questions (only ever a second
    /// gate, so only someone who already proved a method sees them).
    Questions { questions: Vec<Question> },
}

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("the reset session expired")]
    FlowExpired,
    #[error("captcha: {0}")]
    Captcha(#[from] crate::captcha::CaptchaError),
    #[error("the user ID is not valid")]
    InvalidLogin,
    #[error("too many attempts; retry after {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    #[error("this method is blocked for {retry_after_secs} s")]
    MethodBlocked { retry_after_secs: i64 },
    #[error("this method is not offered")]
    MethodNotAllowed,
    #[error("not an email address")]
    InvalidEmail,
    #[error("phone: {0}")]
    InvalidPhone(#[from] PhoneError),
    #[error("no code is waiting")]
    NoPendingCode,
    #[error("the code must be {digits} digits")]
    CodeFormat { digits: usize },
    #[error("wrong code")]
    WrongCode { attempts_left: i64 },
    #[error("all {need} questions must be answered")]
    AnswersIncomplete { need: usize },
    #[error("wrong answers")]
    WrongAnswers { attempts_left: i64 },
    #[error("the code expired")]
    CodeExpired,
    #[error("too many wrong codes")]
    TooManyAttempts,
    #[error("wait {retry_after_secs} s before asking for another code")]
    ResendTooSoon { retry_after_secs: i64 },
    #[error("SSPR is not enabled for this account")]
    NotEnabled,
    #[error("not enough methods registered: {have} of {need}")]
    NotEnoughMethods { have: usize, need: usize },
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("the verification steps are not complete")]
    GatesIncomplete,
    #[error("the new password is refused: {0:?}")]
    Rejected(Vec<Reason>, Rules),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Internal(#[from] DomainError),
}

impl From<sqlx::Error> for ResetError {
    fn from(e: sqlx::Error) -> Self {
        ResetError::Internal(e.into())
    }
}

pub struct Flow {
    pub token_hash: String,
    pub user_id: Option<i64>,
    pub state: State,
    pub version: i64,
}

/// Step 1. `captcha` is the solved puzzle, or empty without JavaScript
/// (then the stricter per-address limit applies). Returns the flow token.
pub async fn start(
    s: &Services,
    raw_login: &str,
    captcha: &str,
    nonce: &str,
    ip: Option<&str>,
    now: Timestamp,
) -> Result<String, ResetError> {
    let network = rate::address_key(ip);
    if !rate::hit(
        &s.db,
        &format!("reset-start:{network}"),
        3600,
        s.config.reset.starts_per_address_per_hour,
        now,
    )
    .await?
    {
        return Err(ResetError::Throttled {
            retry_after_secs: 3600,
        });
    }
    if captcha.is_empty() {
        if !rate::hit(
            &s.db,
            &format!("reset-nojs:{network}"),
            3600,
            s.config.reset.starts_without_captcha_per_address_per_hour,
            now,
        )
        .await?
        {
            return Err(ResetError::Throttled {
                retry_after_secs: 3600,
            });
        }
    } else {
        crate::captcha::redeem(s, captcha, nonce, now).await?;
    }
    let login = Login::parse(raw_login).map_err(|_| ResetError::InvalidLogin)?;
    // Only starts that passed every check above count: refused requests
    // from one address must not spend the hour's one alert.
    watch_for_a_surge(s, now).await?;
    let policy = policy::load(&s.db).await?;
    let user = users::find_by_login(&s.db, &login).await?;
    let state = State {
        identifier: hex::encode(
            &s.key
                .keyed_hash("reset-identifier", &[login.as_str().as_bytes()])[..16],
        ),
        gates_needed: gates_for(&policy, user.as_ref()),
        passed: vec![],
        pending: None,
    };
    let token = random_token();
    sqlx::query(
        "INSERT INTO flows (id_hash, kind, user_id, state, data, attempts, version, created_at, expires_at) \
         VALUES ($1, $2, $3, 'open', $4, 0, 0, $5, $6)",
    )
    .bind(token_hash(&token))
    .bind(FLOW_KIND)
    .bind(user.as_ref().map(|u| u.id))
    .bind(to_json(&state)?)
    .bind(now.secs())
    .bind(now.plus_secs(FLOW_TTL_SECS).secs())
    .execute(s.db.pool())
    .await?;
    audit::record(
        s.db.pool(),
        &Event {
            event: "reset_started",
            outcome: "success",
            subject_user_id: user.as_ref().map(|u| u.id),
            subject_login: Some(login.as_str()),
            ip,
            ..Event::default()
        },
        now,
    )
    .await?;
    Ok(token)
}

/// Counts the starts accepted from every address together; the one start
/// that passes the alert threshold in the counter's hour (the count is
/// atomic, so exactly one sees it) tells the admins: an audit row, a
/// warning in the log and an email to each admin. Nothing is refused here
/// (the per-ID and per-address limits do that), and a failed alert is
/// logged but does not fail the user's start.
async fn watch_for_a_surge(s: &Services, now: Timestamp) -> Result<(), DomainError> {
    let threshold = s.config.reset.alert_starts_per_hour;
    let starts = rate::count(&s.db, "reset-starts-total", 3600, now).await?;
    if starts != threshold.saturating_add(1) {
        return Ok(());
    }
    tracing::warn!(
        starts,
        threshold,
        "reset starts passed the hourly alert threshold"
    );
    if let Err(e) = alert_admins_of_a_surge(s, starts, threshold, now).await {
        tracing::error!(error = %e, "could not alert the admins of a reset surge");
    }
    Ok(())
}

async fn alert_admins_of_a_surge(
    s: &Services,
    starts: i64,
    threshold: i64,
    now: Timestamp,
) -> Result<(), DomainError> {
    let mut tx = s.db.pool().begin().await?;
    let detail = format!("starts={starts} threshold={threshold}");
    audit::record(
        &mut *tx,
        &Event {
            event: "reset_surge",
            outcome: "alert",
            detail: Some(&detail),
            ..Event::default()
        },
        now,
    )
    .await?;
    let template = Template::ResetSurge { starts, threshold };
    email_admins(s, &mut tx, None, "reset-surge", &template, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Queues `template` to every enabled admin with an email address, in
/// their language, but `except`; `topic` keeps each message's
/// idempotency key apart from other notices.
async fn email_admins(
    s: &Services,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    except: Option<i64>,
    topic: &str,
    template: &Template,
    now: Timestamp,
) -> Result<(), DomainError> {
    let rows = sqlx::query(
        "SELECT email, locale FROM users WHERE role = 'admin' AND id <> $1 AND enabled = 1 AND email IS NOT NULL",
    )
    .bind(except.unwrap_or(0)) // row ids start at 1
    .fetch_all(&mut **tx)
    .await?;
    for r in rows {
        let to: String = r.try_get("email")?;
        let locale: Option<String> = r.try_get("locale")?;
        let m = NewMessage {
            channel: Channel::Email,
            idempotency_key: format!("{topic}:{}:{to}", now.secs()),
            recipient: to,
            locale: locale.unwrap_or_else(|| s.config.default_locale.clone()),
            template: template.clone(),
            not_after: None,
        };
        outbox::enqueue(&mut **tx, &m, now).await?;
    }
    Ok(())
}

/// Gates this account needs: admins always two.
fn gates_for(policy: &Policy, user: Option<&User>) -> usize {
    policy.required_for(user.is_some_and(|u| u.role == Role::Admin))
}

pub async fn load(s: &Services, token: &str, now: Timestamp) -> Result<Flow, ResetError> {
    let row = sqlx::query(
        "SELECT id_hash, user_id, data, version, expires_at FROM flows \
         WHERE id_hash = $1 AND kind = $2 AND consumed_at IS NULL",
    )
    .bind(token_hash(token))
    .bind(FLOW_KIND)
    .fetch_optional(s.db.pool())
    .await?;
    let Some(row) = row else {
        return Err(ResetError::FlowExpired);
    };
    if row.try_get::<i64, _>("expires_at")? <= now.secs() {
        return Err(ResetError::FlowExpired);
    }
    let data: String = row.try_get("data")?;
    Ok(Flow {
        token_hash: row.try_get("id_hash")?,
        user_id: row.try_get("user_id")?,
        state: serde_json::from_str(&data)
            .map_err(|e| DomainError::Corrupt(format!("reset state: {e}")))?,
        version: row.try_get("version")?,
    })
}

fn to_json(state: &State) -> Result<String, DomainError> {
    serde_json::to_string(state).map_err(|e| DomainError::Corrupt(e.to_string()))
}

/// Loads the flow, lets `change` edit a copy of its state and saves it with
/// a compare-and-swap, together with `message` when there is one.
async fn transition<T>(
    s: &Services,
    token: &str,
    now: Timestamp,
    mut change: impl FnMut(&Flow, &mut State) -> Result<(T, Option<NewMessage>), ResetError>,
) -> Result<T, ResetError> {
    for _ in 0..MAX_ROUNDS {
        let flow = load(s, token, now).await?;
        let mut state = flow.state.clone();
        let (answer, message) = change(&flow, &mut state)?;
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
        if let Some(m) = message {
            outbox::enqueue(&mut *tx, &m, now).await?;
        }
        tx.commit().await?;
        return Ok(answer);
    }
    Err(DomainError::Contention("reset flow").into())
}

/// What the first gate offers: every kind the policy allows for a first
/// gate. The same for every account (it reveals nothing). Security
/// questions are never a first gate.
pub fn offered(policy: &Policy) -> Vec<Kind> {
    let mut kinds = Vec::new();
    if policy.allow_email {
        kinds.push(Kind::Email);
    }
    if policy.allow_phone_sms || policy.allow_phone_voice {
        kinds.push(Kind::Phone);
    }
    if policy.allow_authenticator {
        kinds.push(Kind::Authenticator);
    }
    kinds
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
        Some(id) => users::find_by_id(&s.db, id)
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

async fn registered(s: &Services, user_id: Option<i64>) -> Result<Vec<Method>, DomainError> {
    match user_id {
        Some(id) => methods::list(&s.db, id).await,
        None => Ok(vec![]),
    }
}

fn identifier_key(state: &State, what: &str) -> String {
    format!("reset-{what}:{}", state.identifier)
}

/// Refuses when this method is blocked for the identifier.
async fn check_blocked(
    s: &Services,
    state: &State,
    kind: Kind,
    now: Timestamp,
) -> Result<(), ResetError> {
    let key = identifier_key(state, &format!("block-{}", kind.as_str()));
    if rate::current(&s.db, &key, BLOCK_SECS, now).await? > 0 {
        return Err(ResetError::MethodBlocked {
            retry_after_secs: BLOCK_SECS,
        });
    }
    Ok(())
}

/// Counts a code send for the identifier, whether or not it names an
/// account (#37); refuses past the hourly limit.
async fn count_send(s: &Services, state: &State, now: Timestamp) -> Result<(), ResetError> {
    if rate::hit(
        &s.db,
        &identifier_key(state, "send"),
        3600,
        MAX_SENDS_PER_IDENTIFIER,
        now,
    )
    .await?
    {
        Ok(())
    } else {
        Err(ResetError::Throttled {
            retry_after_secs: 3600,
        })
    }
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
    let flow = load(s, token, now).await?;
    if !choices(s, &policy, &flow).await?.contains(&kind) {
        return Err(ResetError::MethodNotAllowed);
    }
    check_blocked(s, &flow.state, kind, now).await?;
    count_send(s, &flow.state, now).await?;
    issue(
        s,
        &policy,
        token,
        flow.user_id,
        kind,
        destination,
        channel,
        false,
        now,
    )
    .await
}

/// Stores a fresh code for `destination` and queues it when the
/// destination is the account's. A resend keeps the wrong-code count.
#[allow(clippy::too_many_arguments)]
async fn issue(
    s: &Services,
    policy: &Policy,
    token: &str,
    user_id: Option<i64>,
    kind: Kind,
    destination: String,
    channel: Option<PhoneChannel>,
    resend: bool,
    now: Timestamp,
) -> Result<(), ResetError> {
    let user = match user_id {
        Some(id) => users::find_by_id(&s.db, id).await?,
        None => None,
    };
    let registered = registered(s, user_id).await?;
    // The registered spelling of the destination, when the typed one is it.
    let matched: Option<String> = registered
        .iter()
        .find(|m| m.kind == kind && m.destination.eq_ignore_ascii_case(&destination))
        .map(|m| m.destination.clone());
    let digits = usize::from(if kind == Kind::Email {
        policy.email_code_length
    } else {
        policy.phone_code_length
    });
    transition(s, token, now, |flow, state| {
        let code = codes::generate(digits);
        // A code is stored either way; when the destination does not match,
        // nobody receives it, so nobody can type it.
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
        let message = match (&user, &matched) {
            (Some(u), Some(to)) => Some(NewMessage {
                channel: match (kind, channel) {
                    (Kind::Phone, Some(PhoneChannel::Voice)) => Channel::Voice,
                    (Kind::Phone, _) => Channel::Sms,
                    _ => Channel::Email,
                },
                recipient: to.clone(),
                locale: u
                    .locale
                    .clone()
                    .unwrap_or_else(|| s.config.default_locale.clone()),
                template: Template::VerificationCode {
                    code,
                    minutes: (policy.code_ttl_secs + 59) / 60,
                },
                idempotency_key: format!("reset-code:{}", random_token()),
                not_after: Some(now.plus_secs(policy.code_ttl_secs)),
            }),
            _ => None,
        };
        Ok(((), message))
    })
    .await
}

/// "Send a new code": after the cooldown, to the same destination; the
/// old code stops working and the wrong-code count is kept (#25).
pub async fn resend(s: &Services, token: &str, now: Timestamp) -> Result<(), ResetError> {
    let policy = policy::load(&s.db).await?;
    let flow = load(s, token, now).await?;
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
    let wait = sent_at + policy.resend_cooldown_secs - now.secs();
    if wait > 0 {
        return Err(ResetError::ResendTooSoon {
            retry_after_secs: wait,
        });
    }
    check_blocked(s, &flow.state, kind, now).await?;
    count_send(s, &flow.state, now).await?;
    issue(
        s,
        &policy,
        token,
        flow.user_id,
        kind,
        destination,
        channel,
        true,
        now,
    )
    .await
}

/// Entra-style masked hints, shown only when the policy's opt-in
/// `reset_show_hints` is on: `da***@example.org`, `*******78`. An account
/// without such a method, and an ID that names no account, get stand-ins
/// derived from a keyed hash of the typed ID (stable across visits, and in
/// the organisation's most common email domain), so the page still looks
/// the same for everyone. What the mode gives away is the hint itself, to
/// anyone who types the user ID: the reason it is off by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hints {
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// Stars before a phone hint's last two digits: fixed, so the hint does
/// not tell the number's length.
const PHONE_HINT_STARS: usize = 7;

pub async fn hints(s: &Services, policy: &Policy, flow: &Flow) -> Result<Hints, ResetError> {
    if !policy.reset_show_hints {
        return Ok(Hints::default());
    }
    let registered = registered(s, flow.user_id).await?;
    let real = |kind: Kind| {
        registered
            .iter()
            .find(|m| m.kind == kind)
            .map(|m| m.destination.clone())
    };
    let seed = s
        .key
        .keyed_hash("reset-standin", &[flow.state.identifier.as_bytes()]);
    let email = if policy.allow_email {
        Some(match real(Kind::Email) {
            Some(address) => methods::mask_email(&address),
            None => {
                let letters: String = seed[..2]
                    .iter()
                    .map(|b| char::from(b'a' + b % 26))
                    .collect();
                format!("{letters}***@{}", common_email_domain(s).await?)
            }
        })
    } else {
        None
    };
    let phone = if policy.allow_phone_sms || policy.allow_phone_voice {
        let last_two: String = match real(Kind::Phone) {
            Some(number) => {
                let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
                digits[digits.len().saturating_sub(2)..].iter().collect()
            }
            None => seed[2..4]
                .iter()
                .map(|b| char::from(b'0' + b % 10))
                .collect(),
        };
        Some(format!("{}{last_two}", "*".repeat(PHONE_HINT_STARS)))
    } else {
        None
    };
    Ok(Hints { email, phone })
}

/// The domain most registered reset addresses use (the stand-in hint's),
/// or the site's own host when nobody registered one.
async fn common_email_domain(s: &Services) -> Result<String, DomainError> {
    let rows = sqlx::query(
        "SELECT destination FROM security_methods WHERE kind = 'email' ORDER BY id DESC LIMIT 500",
    )
    .fetch_all(s.db.pool())
    .await?;
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for r in rows {
        let address: String = r.try_get("destination")?;
        if let Some((_, domain)) = address.rsplit_once('@') {
            *counts.entry(domain.to_ascii_lowercase()).or_default() += 1;
        }
    }
    Ok(counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(d, _)| d)
        .or_else(|| {
            url::Url::parse(&s.config.public_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
        })
        .unwrap_or_else(|| "example.com".into()))
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
    let flow = load(s, token, now).await?;
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
    let e164 = phone::parse(number, region, &policy.phone_regions)?;
    send_code(s, token, Kind::Phone, e164.number, Some(channel), now).await
}

/// The authenticator gate: the next page asks for the app's code.
pub async fn choose_authenticator(
    s: &Services,
    token: &str,
    now: Timestamp,
) -> Result<(), ResetError> {
    let policy = policy::load(&s.db).await?;
    let flow = load(s, token, now).await?;
    if !choices(s, &policy, &flow)
        .await?
        .contains(&Kind::Authenticator)
    {
        return Err(ResetError::MethodNotAllowed);
    }
    transition(s, token, now, |_, state| {
        state.pending = Some(Pending::Authenticator);
        Ok(((), None))
    })
    .await
}

/// The security-questions gate (a second gate only, never for admins):
/// the next page asks the account's questions.
pub async fn choose_questions(s: &Services, token: &str, now: Timestamp) -> Result<(), ResetError> {
    let policy = policy::load(&s.db).await?;
    let flow = load(s, token, now).await?;
    if !choices(s, &policy, &flow).await?.contains(&Kind::Questions) {
        return Err(ResetError::MethodNotAllowed);
    }
    let asked = stored_answers(s, flow.user_id)
        .await?
        .as_deref()
        .and_then(questions::questions_of)
        .ok_or(ResetError::MethodNotAllowed)?;
    transition(s, token, now, |_, state| {
        state.pending = Some(Pending::Questions {
            questions: asked.clone(),
        });
        Ok(((), None))
    })
    .await
}

/// The account's stored security answers (JSON), if it registered some.
async fn stored_answers(s: &Services, user_id: Option<i64>) -> Result<Option<String>, DomainError> {
    Ok(registered(s, user_id)
        .await?
        .into_iter()
        .find(|m| m.kind == Kind::Questions)
        .and_then(|m| m.answers))
}

/// Checks the answers to the pending questions. Throttled like codes: a
/// failure slot is reserved first (5 per hour, then the gate is blocked for
/// a day), every answer is hashed whether or not an earlier one was wrong,
/// and a wrong set never says which answer was wrong.
pub async fn verify_answers(
    s: &Services,
    token: &str,
    answers: &[String],
    now: Timestamp,
) -> Result<bool, ResetError> {
    let policy = policy::load(&s.db).await?;
    let flow = load(s, token, now).await?;
    let Some(Pending::Questions { questions: asked }) = &flow.state.pending else {
        return Err(ResetError::NoPendingCode);
    };
    // A blank or missing answer spends no failure slot and hashes nothing.
    if answers.len() != asked.len() || answers.iter().any(|a| a.trim().is_empty()) {
        return Err(ResetError::AnswersIncomplete { need: asked.len() });
    }
    let slot = reserve_attempt(s, &flow.state, Kind::Questions, now).await?;
    let right = match stored_answers(s, flow.user_id).await? {
        Some(stored) => match questions::check(&s.hasher, &stored, answers).await {
            Ok(right) => right,
            // Nothing was decided (e.g. the hashing pool is full): give
            // the slot back.
            Err(e) => {
                refund(s, &slot).await?;
                return Err(e.into());
            }
        },
        None => false,
    };
    let done = transition(s, token, now, |_, state| {
        if !matches!(state.pending, Some(Pending::Questions { .. })) {
            return Err(ResetError::NoPendingCode);
        }
        if right {
            state.pending = None;
            if !state.passed.contains(&Kind::Questions) {
                state.passed.push(Kind::Questions);
            }
        }
        Ok((state.passed.len() >= state.gates_needed, None))
    })
    .await?;
    let outcome = Outcome {
        kind: Kind::Questions,
        right,
        code_left: None,
    };
    settle(s, &policy, &flow, &slot, outcome, now).await?;
    Ok(done)
}

/// What one gate check decided, for [`settle`].
struct Outcome {
    kind: Kind,
    right: bool,
    /// Tries left on the pending code (codes have their own budget besides
    /// the hourly one); `None` for gates without one.
    code_left: Option<i64>,
}

/// The end every gate check shares: audit the outcome; a wrong answer keeps
/// its failure slot and says how many tries are left (the smaller of the
/// code's and the hour's); a right one gives the slot back and only then
/// learns the account's real state, so only someone who proved a method
/// is told it.
async fn settle(
    s: &Services,
    policy: &Policy,
    flow: &Flow,
    slot: &str,
    outcome: Outcome,
    now: Timestamp,
) -> Result<(), ResetError> {
    let Outcome {
        kind,
        right,
        code_left,
    } = outcome;
    audit_gate(s, flow, kind, right, now).await?;
    if !right {
        let hourly_left = MAX_FAILURES_PER_HOUR - rate::current(&s.db, slot, 3600, now).await?;
        let left = code_left.map_or(hourly_left, |c| c.min(hourly_left));
        return Err(if left <= 0 {
            ResetError::TooManyAttempts
        } else if kind == Kind::Questions {
            ResetError::WrongAnswers {
                attempts_left: left,
            }
        } else {
            ResetError::WrongCode {
                attempts_left: left,
            }
        });
    }
    refund(s, slot).await?;
    eligibility(s, policy, flow.user_id, flow.state.gates_needed).await?;
    Ok(())
}

async fn audit_gate(
    s: &Services,
    flow: &Flow,
    kind: Kind,
    right: bool,
    now: Timestamp,
) -> Result<(), DomainError> {
    audit::record(
        s.db.pool(),
        &Event {
            event: "reset_gate",
            outcome: if right { "success" } else { "failure" },
            subject_user_id: flow.user_id,
            detail: Some(kind.as_str()),
            ..Event::default()
        },
        now,
    )
    .await
}

/// Reserves one failed-verification slot for the identifier and method
/// before checking (so parallel guesses cannot exceed the limit); the slot
/// is given back when the code is right.
async fn reserve_attempt(
    s: &Services,
    state: &State,
    kind: Kind,
    now: Timestamp,
) -> Result<String, ResetError> {
    check_blocked(s, state, kind, now).await?;
    let key = identifier_key(state, &format!("fail-{}", kind.as_str()));
    if !rate::hit(&s.db, &key, 3600, MAX_FAILURES_PER_HOUR, now).await? {
        // The sixth failure in an hour blocks the method for a day.
        rate::hit(
            &s.db,
            &identifier_key(state, &format!("block-{}", kind.as_str())),
            BLOCK_SECS,
            i64::MAX,
            now,
        )
        .await?;
        return Err(ResetError::MethodBlocked {
            retry_after_secs: BLOCK_SECS,
        });
    }
    Ok(key)
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
    let flow = load(s, token, now).await?;
    let kind = match &flow.state.pending {
        Some(Pending::Code { kind, .. }) => *kind,
        Some(Pending::Authenticator) => Kind::Authenticator,
        Some(Pending::Questions { .. }) | None => return Err(ResetError::NoPendingCode),
    };
    let slot = reserve_attempt(s, &flow.state, kind, now).await?;
    let registered = registered(s, flow.user_id).await?;
    // The authenticator's accepted time step, decided outside the CAS loop
    // (each step is accepted once: methods::advance_totp_step).
    let mut totp_ok = false;
    if kind == Kind::Authenticator {
        let digits = authenticator::DIGITS;
        if let Ok(code) = codes::normalize_input(input, digits) {
            for m in registered.iter().filter(|m| m.kind == Kind::Authenticator) {
                let Some(sealed) = m.secret.as_deref() else {
                    continue;
                };
                let Some(user_id) = flow.user_id else {
                    continue;
                };
                let secret = authenticator::decrypt(&s.key, user_id, sealed)?;
                if let Some(step) = authenticator::verify(&secret, &code, now, m.last_step)?
                    && methods::advance_totp_step(&s.db, m.id, step).await?
                {
                    totp_ok = true;
                    break;
                }
            }
        }
    }
    let checked = transition(s, token, now, |flow, state| {
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
            state.pending = None;
            if !state.passed.contains(&kind) {
                state.passed.push(kind);
            }
        }
        let left = match &state.pending {
            Some(Pending::Code { attempts, .. }) => policy.max_code_attempts - attempts,
            _ => 0,
        };
        Ok((
            (right, left, state.passed.len() >= state.gates_needed),
            None,
        ))
    })
    .await;
    let (right, left, done) = match checked {
        Ok(v) => v,
        // Malformed input and expired codes spend no failure slot.
        Err(e @ (ResetError::CodeFormat { .. } | ResetError::CodeExpired)) => {
            refund(s, &slot).await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let outcome = Outcome {
        kind,
        right,
        code_left: (kind != Kind::Authenticator).then_some(left),
    };
    settle(s, &policy, &flow, &slot, outcome, now).await?;
    Ok(done)
}

async fn refund(s: &Services, key: &str) -> Result<(), DomainError> {
    sqlx::query("UPDATE rate_counters SET hits = hits - 1 WHERE counter_key = $1 AND hits > 0")
        .bind(key)
        .execute(s.db.pool())
        .await?;
    Ok(())
}

/// Whether the account may reset now; told only after a passed gate.
async fn eligibility(
    s: &Services,
    policy: &Policy,
    user_id: Option<i64>,
    need: usize,
) -> Result<User, ResetError> {
    let user = match user_id {
        Some(id) => users::find_by_id(&s.db, id).await?,
        None => None,
    };
    let Some(user) = user else {
        return Err(ResetError::FlowExpired);
    };
    if !user.enabled {
        return Err(ResetError::AccountDisabled);
    }
    if !enabled_for(s, policy, &user).await? {
        return Err(ResetError::NotEnabled);
    }
    let have = methods::counted(&methods::list(&s.db, user.id).await?);
    if have < need {
        return Err(ResetError::NotEnoughMethods { have, need });
    }
    Ok(user)
}

/// SSPR scope: everyone, nobody, or members of the listed groups. Admins
/// are always in scope.
async fn enabled_for(s: &Services, policy: &Policy, user: &User) -> Result<bool, DomainError> {
    if user.role == Role::Admin {
        return Ok(true);
    }
    Ok(match policy.sspr_scope.as_str() {
        "none" => false,
        "groups" => {
            let groups = users::groups_of(&s.db, user.id).await?;
            groups.iter().any(|g| policy.sspr_groups.contains(g))
        }
        _ => true,
    })
}

/// The rules for the new password of a flow that passed every gate.
pub async fn password_rules(
    s: &Services,
    token: &str,
    now: Timestamp,
) -> Result<Rules, ResetError> {
    let (_, user) = ready(s, token, now).await?;
    Ok(password_change::rules(s, &user).await?)
}

/// The flow and its user, once every gate is passed.
async fn ready(s: &Services, token: &str, now: Timestamp) -> Result<(Flow, User), ResetError> {
    let policy = policy::load(&s.db).await?;
    let flow = load(s, token, now).await?;
    if flow.state.passed.len() < flow.state.gates_needed {
        return Err(ResetError::GatesIncomplete);
    }
    let user = eligibility(s, &policy, flow.user_id, flow.state.gates_needed).await?;
    Ok((flow, user))
}

/// The server's verdict on a candidate new password (live checklist).
pub async fn preview(
    s: &Services,
    token: &str,
    candidate: &str,
    now: Timestamp,
) -> Result<Vec<Reason>, ResetError> {
    let (_, user) = ready(s, token, now).await?;
    let policy = policy::load(&s.db).await?;
    let rules = password_change::rules(s, &user).await?;
    let new = Normalized::new(candidate)?;
    Ok(password_policy::evaluate(
        &policy,
        &rules,
        new.as_str(),
        None,
        None,
    ))
}

/// Opens the last step's transaction by consuming the flow with a
/// conditional update: of many parallel submissions exactly one gets here.
async fn consume(
    s: &Services,
    flow: &Flow,
    outcome: &str,
    now: Timestamp,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, ResetError> {
    let mut tx = s.db.pool().begin().await?;
    let consumed = sqlx::query(
        "UPDATE flows SET consumed_at = $1, state = $2 WHERE id_hash = $3 AND version = $4 AND consumed_at IS NULL",
    )
    .bind(now.secs())
    .bind(outcome)
    .bind(&flow.token_hash)
    .bind(flow.version)
    .execute(&mut *tx)
    .await?;
    if consumed.rows_affected() != 1 {
        tx.rollback().await?;
        return Err(ResetError::FlowExpired);
    }
    Ok(tx)
}

/// Ends the account's sign-in lockout, inside the caller's transaction.
async fn lift_lockout(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user: &User,
) -> Result<(), DomainError> {
    sqlx::query("DELETE FROM throttle WHERE throttle_key = $1")
        .bind(crate::auth::throttle_key(&user.login))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Step 3: sets the new password. One transaction: the flow is consumed by
/// a conditional update (so of many parallel submissions one wins), the
/// hash replaced, every session and every other open flow of the user
/// ended, the sign-in lockout lifted, the change audited and notified.
/// Nobody is signed in by a reset.
pub async fn set_password(
    s: &Services,
    token: &str,
    new: &str,
    confirm: &str,
    ip: Option<&str>,
    now: Timestamp,
) -> Result<(), ResetError> {
    let new = Normalized::new(new)?;
    let confirm = Normalized::new(confirm)?;
    let (flow, user) = ready(s, token, now).await?;
    let policy = policy::load(&s.db).await?;
    let rules = password_change::rules(s, &user).await?;
    let reasons =
        password_policy::evaluate(&policy, &rules, new.as_str(), Some(confirm.as_str()), None);
    if !reasons.is_empty() {
        return Err(ResetError::Rejected(reasons, rules));
    }
    let hash = s.hasher.hash(&new).await?;
    let mut tx = consume(s, &flow, "done", now).await?;
    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
        .bind(&hash)
        .bind(now.secs())
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    crate::sessions::revoke_all(&mut *tx, user.id).await?;
    sqlx::query("UPDATE flows SET consumed_at = $1 WHERE user_id = $2 AND consumed_at IS NULL")
        .bind(now.secs())
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    // A reset also lifts a sign-in lockout.
    lift_lockout(&mut tx, &user).await?;
    audit::record(
        &mut *tx,
        &Event {
            event: "password_reset",
            outcome: "success",
            actor_user_id: Some(user.id),
            subject_user_id: Some(user.id),
            ip,
            detail: Some(&format!("gates={}", flow.state.passed.len())),
            ..Event::default()
        },
        now,
    )
    .await?;
    password_change::notify_password_changed(s, &mut tx, &user, now).await?;
    if user.role == Role::Admin && policy.notify_admins_on_admin_reset {
        notify_other_admins(s, &mut tx, &user, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An admin reset their own password: every other admin is told, so a
/// takeover of an admin account does not go unnoticed.
async fn notify_other_admins(
    s: &Services,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    admin: &User,
    now: Timestamp,
) -> Result<(), DomainError> {
    let template = Template::AdminPasswordReset {
        admin_name: admin.display_name.clone(),
        admin_login: admin.login_display.clone(),
    };
    let topic = format!("admin-reset:{}", admin.id);
    email_admins(s, tx, Some(admin.id), &topic, &template, now).await
}

/// "Unlock only": a user locked out by sign-in throttling who still knows
/// the password passes the same gates and lifts the lockout without
/// changing the password (when the policy allows it).
pub async fn unlock(
    s: &Services,
    token: &str,
    ip: Option<&str>,
    now: Timestamp,
) -> Result<(), ResetError> {
    let policy = policy::load(&s.db).await?;
    if !policy.allow_unlock {
        return Err(ResetError::MethodNotAllowed);
    }
    let (flow, user) = ready(s, token, now).await?;
    let mut tx = consume(s, &flow, "unlocked", now).await?;
    lift_lockout(&mut tx, &user).await?;
    audit::record(
        &mut *tx,
        &Event {
            event: "account_unlocked",
            outcome: "success",
            actor_user_id: Some(user.id),
            subject_user_id: Some(user.id),
            ip,
            ..Event::default()
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
