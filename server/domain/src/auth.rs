//! Sign-in and sign-out.
//!
//! Every way a sign-in can fail — unknown user, wrong password, disabled
//! account, no password set, locked — produces the same error after the
//! same argon2 work (docs/security.md #8, #35), so the answer reveals nothing
//! about the account.

use std::net::IpAddr;

use crate::audit::{self, Event, Kind as AuditKind, Outcome};
use crate::directory::{self, Bind, Directory};
use crate::identity::Login;
use crate::lockout::{self, Reservation};
use crate::outbox;
use crate::password::{HashError, Normalized, Verified};
use crate::rate::{self, CounterKey, Network};
use crate::users::{self, User};
use crate::{DomainError, Services, Timestamp, methods, notices, policy, second_factor, sessions};

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown user, wrong password, disabled, locked: one answer for all.
    #[error("invalid user ID or password")]
    InvalidCredentials,
    #[error("the password is longer than the limit")]
    PasswordTooLong,
    #[error("server busy")]
    Busy { retry_after_secs: u64 },
    /// This client spent its budget of password checks (docs/security.md #75).
    #[error("too many password checks from this address")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] DomainError),
}

impl From<HashError> for SignInError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::TooLong => SignInError::PasswordTooLong,
            HashError::Busy { retry_after_secs } => SignInError::Busy { retry_after_secs },
            HashError::Internal(m) => SignInError::Internal(DomainError::Hashing(m)),
        }
    }
}

pub struct SignInRequest<'a> {
    pub login: &'a str,
    pub password: &'a str,
    pub ip: Option<IpAddr>,
    /// The session token the browser already had, if any: it is revoked.
    pub previous_session: Option<&'a str>,
    /// Where to go once signed in (a local path, checked by the caller);
    /// kept by the second factor's flow.
    pub next: &'a str,
}

/// What the right password leads to.
#[derive(Debug)]
pub enum SignInOutcome {
    /// A session: the password was enough for this account.
    SignedIn(SignedIn),
    /// No session yet: the account's sign-in asks for a second factor
    /// (docs/security.md #82); the token names its flow.
    SecondFactor { flow_token: String },
}

#[derive(Debug)]
pub struct SignedIn {
    pub user_id: i64,
    /// Goes into the session cookie; never logged.
    pub session_token: String,
}

pub(crate) fn throttle_key(login: &Login) -> String {
    format!("{}{login}", throttle_key_prefix())
}

/// What every sign-in throttle key starts with.
pub(crate) fn throttle_key_prefix() -> &'static str {
    "signin:"
}

pub async fn sign_in(
    s: &Services,
    req: SignInRequest<'_>,
    now: Timestamp,
) -> Result<SignInOutcome, SignInError> {
    let (login, user) = check_password(s, req.login, req.password, req.ip, now).await?;
    let policy = policy::load(&s.db).await?;
    let registered = methods::list(s.db.pool(), user.id).await?;
    if second_factor::asked_of(&policy, &user, &registered) {
        let flow_token = second_factor::begin(s, &user, &login, req.ip, req.next, now).await?;
        return Ok(SignInOutcome::SecondFactor { flow_token });
    }
    let token = sessions::create(
        &s.db,
        &s.config.sessions,
        user.id,
        req.previous_session,
        now,
    )
    .await?;
    record(s, &login, Some(&user), Outcome::Success, None, req.ip, now).await?;
    Ok(SignInOutcome::SignedIn(SignedIn {
        user_id: user.id,
        session_token: token,
    }))
}

/// Proves again that the person at the keyboard knows the password (before
/// security info changes; docs/security.md #51). Wrong passwords count toward
/// the same lockout as sign-in. Returns the session's new token: the
/// session is rotated (docs/security.md #69).
pub async fn reauthenticate(
    s: &Services,
    session_token: &str,
    password: &str,
    ip: Option<IpAddr>,
    now: Timestamp,
) -> Result<String, SignInError> {
    let Some(current) = current_user(s, session_token, now).await? else {
        return Err(SignInError::InvalidCredentials);
    };
    let (_, user) = check_password(s, current.login.as_str(), password, ip, now).await?;
    if user.id != current.id {
        return Err(SignInError::InvalidCredentials);
    }
    let mut tx = s.db.pool().begin().await.map_err(DomainError::from)?;
    let Some(fresh) = sessions::rotate(&mut *tx, session_token, now).await? else {
        tx.rollback().await.map_err(DomainError::from)?;
        return Err(SignInError::InvalidCredentials);
    };
    audit::record(
        &mut *tx,
        &Event::by_self(AuditKind::Reauthenticate, Outcome::Success, user.id).ip(ip),
        now,
    )
    .await?;
    tx.commit().await.map_err(DomainError::from)?;
    Ok(fresh)
}

/// The common core of sign-in, re-authentication and password change:
/// throttle, verify, rehash. Returns the account when the password is right.
pub(crate) async fn check_password(
    s: &Services,
    raw_login: &str,
    raw_password: &str,
    ip: Option<IpAddr>,
    now: Timestamp,
) -> Result<(Login, User), SignInError> {
    let password = Normalized::new(raw_password)?;
    let Ok(login) = Login::parse(raw_login) else {
        // A malformed ID cannot name an account; it says nothing about one.
        return Err(SignInError::InvalidCredentials);
    };
    spend_hashing_budget(s, ip, now).await?;
    // Waits for a hashing slot in this network's turn (docs/security.md #75).
    let client = Network::of(ip).to_string();
    let user = directory::accounts::lookup(s, &login, now).await?;
    let keys = LockoutKeys::of(&login, ip);
    let fingerprint = hex::encode(
        &s.key.keyed_hash(
            "sign-in-fingerprint",
            &[login.as_str().as_bytes(), password.as_str().as_bytes()],
        )[..16],
    );

    let just_locked = match keys.reserve(s, &fingerprint, now).await? {
        Ok(just_locked) => just_locked,
        Err(other) => {
            // Locked, or this wrong password was already counted: spend the
            // same hashing work as a real check, then answer the same way.
            // (With a directory nothing is sent to it: a locked-out guess
            // must not count toward the directory's own lockout.)
            if s.directory.is_none() {
                s.hasher.verify_for(&client, &password, None).await?;
            }
            let outcome = if matches!(other, Reservation::Locked { .. }) {
                "locked"
            } else {
                "repeated_password"
            };
            record(
                s,
                &login,
                user.as_ref(),
                Outcome::Failure,
                Some(outcome),
                ip,
                now,
            )
            .await?;
            return Err(SignInError::InvalidCredentials);
        }
    };

    let usable = user.as_ref().filter(|u| u.enabled);
    let verified = match &s.directory {
        Some(dir) => directory_bind(dir, usable, raw_password).await,
        None => {
            let stored = usable.and_then(|u| u.password_hash.as_deref());
            s.hasher
                .verify_for(&client, &password, stored)
                .await
                .map_err(SignInError::from)
        }
    };
    let verified = match verified {
        Ok(v) => v,
        Err(e) => {
            // Nothing was checked: do not let overload or an unreachable
            // directory count against the user.
            keys.refund(s).await?;
            return Err(e);
        }
    };

    match (usable, verified.ok) {
        (Some(user), true) => {
            keys.clear(s).await?;
            if verified.needs_rehash && s.directory.is_none() {
                upgrade_hash(s, user, &password).await;
            }
            Ok((login, user.clone()))
        }
        _ => {
            keys.remember_wrong(s, &fingerprint).await?;
            failed(s, &login, user.as_ref(), just_locked, ip, now).await?;
            Err(SignInError::InvalidCredentials)
        }
    }
}

/// Checks the password by binding as the user. For an unknown or disabled
/// account it binds to a DN no entry has, so both cost one bind and the
/// directory answers "invalid credentials" alike. The password goes as
/// typed: other applications bind with what users type, unnormalized.
async fn directory_bind(
    dir: &Directory,
    usable: Option<&User>,
    raw_password: &str,
) -> Result<Verified, SignInError> {
    let absent = format!("cn=sspr-no-such-entry,{}", dir.config().base_dn);
    let dn = usable
        .and_then(|u| u.directory_dn.as_deref())
        .unwrap_or(&absent);
    let bind = dir
        .check_password(dn, raw_password)
        .await
        .map_err(DomainError::from)?;
    Ok(Verified {
        ok: bind == Bind::Accepted,
        needs_rehash: false,
    })
}

/// Counts a password check against the client's budget before any
/// hashing: without it, a fresh user ID per request (never locked) keeps
/// every argon2 slot busy from one address (docs/security.md #75). Per
/// network (IPv4 address, IPv6 /64) and per IPv6 /48.
async fn spend_hashing_budget(
    s: &Services,
    ip: Option<IpAddr>,
    now: Timestamp,
) -> Result<(), SignInError> {
    const MINUTE: i64 = 60;
    let cfg = &s.config.password_hashing;
    let throttled = SignInError::Throttled {
        retry_after_secs: MINUTE as u64,
    };
    let key = CounterKey::PasswordChecks(Network::of(ip));
    if !rate::hit(s.db.pool(), key, MINUTE, cfg.per_address_per_minute, now).await? {
        return Err(throttled);
    }
    if let Some(site) = rate::ipv6_site(ip) {
        let key = CounterKey::PasswordChecksFromSite(&site);
        if !rate::hit(s.db.pool(), key, MINUTE, cfg.per_ipv6_48_per_minute, now).await? {
            return Err(throttled);
        }
    }
    Ok(())
}

/// The sign-in lockout's two counts for a typed ID: from the client's
/// network, and from everywhere (docs/security.md #74).
struct LockoutKeys {
    network: String,
    account: String,
}

impl LockoutKeys {
    fn of(login: &Login, ip: Option<IpAddr>) -> LockoutKeys {
        let account = throttle_key(login);
        LockoutKeys {
            network: lockout::from_network(&account, Network::of(ip)),
            account,
        }
    }

    /// Counts the attempt on both, network first. `Ok(just_locked)` when
    /// it may be checked (true when it is the one that locks either);
    /// `Err` with why not otherwise, having counted nothing.
    async fn reserve(
        &self,
        s: &Services,
        fingerprint: &str,
        now: Timestamp,
    ) -> Result<Result<bool, Reservation>, DomainError> {
        let cfg = &s.config.sign_in_lockout;
        let from_network =
            match lockout::reserve(&s.db, cfg, &self.network, fingerprint, now).await? {
                Reservation::Counted { failures } => failures,
                other => return Ok(Err(other)),
            };
        let wide = cfg.account_wide();
        match lockout::reserve(&s.db, &wide, &self.account, fingerprint, now).await? {
            Reservation::Counted { failures } => Ok(Ok(
                from_network == cfg.threshold || failures == wide.threshold
            )),
            other => {
                lockout::refund(&s.db, &self.network).await?;
                Ok(Err(other))
            }
        }
    }

    async fn refund(&self, s: &Services) -> Result<(), DomainError> {
        lockout::refund(&s.db, &self.network).await?;
        lockout::refund(&s.db, &self.account).await
    }

    async fn clear(&self, s: &Services) -> Result<(), DomainError> {
        lockout::clear(s.db.pool(), &self.network).await?;
        lockout::clear(s.db.pool(), &self.account).await
    }

    async fn remember_wrong(&self, s: &Services, fingerprint: &str) -> Result<(), DomainError> {
        lockout::remember_wrong(&s.db, &self.network, fingerprint).await?;
        lockout::remember_wrong(&s.db, &self.account, fingerprint).await
    }
}

/// Records a failed sign-in. When it is the one that locks the account,
/// the audit row and the owner's notification commit together.
async fn failed(
    s: &Services,
    login: &Login,
    user: Option<&User>,
    just_locked: bool,
    ip: Option<IpAddr>,
    now: Timestamp,
) -> Result<(), DomainError> {
    let mut tx = s.db.pool().begin().await?;
    let detail = if just_locked {
        "account_locked"
    } else {
        "wrong_password"
    };
    audit::record(
        &mut *tx,
        &event(s, login, user, Outcome::Failure, Some(detail), ip),
        now,
    )
    .await?;
    if just_locked && let Some(u) = user {
        let minutes = (s
            .config
            .sign_in_lockout
            .lockout_secs(s.config.sign_in_lockout.threshold)
            + 59)
            / 60;
        if let Some(message) = notices::account_locked(s, u, minutes, now) {
            outbox::enqueue(&mut *tx, &s.key, &message, now).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

fn event(
    s: &Services,
    login: &Login,
    user: Option<&User>,
    outcome: Outcome,
    detail: Option<&str>,
    ip: Option<IpAddr>,
) -> Event {
    Event {
        event: AuditKind::SignIn,
        outcome,
        actor_user_id: user.map(|u| u.id),
        subject_user_id: user.map(|u| u.id),
        subject_login: Some(audit::typed_login(&s.key, login, user.is_some())),
        ip,
        detail: detail.map(str::to_owned),
    }
}

async fn record(
    s: &Services,
    login: &Login,
    user: Option<&User>,
    outcome: Outcome,
    detail: Option<&str>,
    ip: Option<IpAddr>,
    now: Timestamp,
) -> Result<(), DomainError> {
    audit::record(
        s.db.pool(),
        &event(s, login, user, outcome, detail, ip),
        now,
    )
    .await
}

/// Rehashes with the configured parameters after a successful sign-in.
/// Failure here must not fail the sign-in: it is retried next time.
async fn upgrade_hash(s: &Services, user: &User, password: &Normalized) {
    let Some(old) = user.password_hash.as_deref() else {
        return;
    };
    match s.hasher.hash(password).await {
        Ok(new) => {
            if let Err(e) =
                crate::store::users::set_password_hash(s.db.pool(), user.id, Some(old), &new, None)
                    .await
            {
                tracing::warn!(user_id = user.id, error = %e, "password rehash not stored");
            }
        }
        Err(e) => tracing::warn!(user_id = user.id, error = %e, "password rehash skipped"),
    }
}

/// Ends the session behind `token`, if it is one.
pub async fn sign_out(
    s: &Services,
    token: &str,
    ip: Option<IpAddr>,
    now: Timestamp,
) -> Result<(), DomainError> {
    let user = sessions::lookup(&s.db, &s.config.sessions, token, now)
        .await?
        .map(|session| session.user_id);
    if sessions::revoke(&s.db, token).await? {
        audit::record(
            s.db.pool(),
            &Event {
                event: AuditKind::SignOut,
                outcome: Outcome::Success,
                actor_user_id: user,
                subject_user_id: user,
                ip,
                ..Event::default()
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// The live session behind a token and its user.
pub async fn current_session(
    s: &Services,
    token: &str,
    now: Timestamp,
) -> Result<Option<(sessions::Session, User)>, DomainError> {
    match sessions::lookup(&s.db, &s.config.sessions, token, now).await? {
        Some(session) => Ok(users::find_by_id(s.db.pool(), session.user_id)
            .await?
            .map(|u| (session, u))),
        None => Ok(None),
    }
}

/// The signed-in user behind a session token.
pub async fn current_user(
    s: &Services,
    token: &str,
    now: Timestamp,
) -> Result<Option<User>, DomainError> {
    match sessions::lookup(&s.db, &s.config.sessions, token, now).await? {
        Some(session) => users::find_by_id(s.db.pool(), session.user_id).await,
        None => Ok(None),
    }
}
