//! The transactional outbox (docs/security.md #59). Actions write the messages
//! they cause into `outbox` inside their own transaction; a worker delivers
//! them later. No request ever waits on a mail or SMS provider, so delivery
//! latency cannot reveal whether an account exists (Keycloak #26625).
//!
//! Rows hold a template name and parameters, not rendered text: the
//! message is rendered in the recipient's language when it is delivered.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::ops_metrics::{self, Delivery as Outcome};
use crate::secrets::ServerKey;
use crate::store::{self, Exec};
use crate::{Clock, Db, DomainError, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Sms,
    Voice,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Voice => "voice",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            "voice" => Some(Channel::Voice),
            _ => None,
        }
    }
}

/// Every message the product sends, with what its template needs. No
/// secret other than a one-time code may appear here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", content = "params", rename_all = "snake_case")]
pub enum Template {
    /// The account was locked after repeated failed sign-ins.
    AccountLocked { display_name: String, minutes: i64 },
    /// A one-time code proving a destination while registering it (valid
    /// `minutes`).
    VerificationCode { code: String, minutes: i64 },
    /// A one-time code for a password reset: its own wording, since the
    /// code is a key to the account (docs/security.md #71).
    ResetCode { code: String, minutes: i64 },
    /// A one-time code for the second factor at sign-in: it says that
    /// whoever asked for it knows the password (docs/security.md #82).
    SignInCode { code: String, minutes: i64 },
    /// The user's security info changed (sent to their other addresses).
    SecurityInfoChanged {
        display_name: String,
        method: String,
        #[serde(default)]
        removed: bool,
    },
    /// The password was changed or reset (sent to every address).
    PasswordChanged { display_name: String },
    /// Wrong answers at a reset gate blocked a method for a network, or
    /// stopped it (sent to every address).
    GateBlocked {
        display_name: String,
        method: String,
    },
    /// An admin reset their own password (sent to the other admins).
    AdminPasswordReset {
        admin_name: String,
        admin_login: String,
    },
    /// Reset wizards were started more often than the alert threshold in
    /// an hour (sent to every admin).
    ResetSurge { starts: i64, threshold: i64 },
    /// Phone codes reached the hourly budget of all users together; phone
    /// sends are refused until the hour ends (sent to every admin).
    PhoneBudgetReached { budget: i64 },
    /// An admin changed the account (`change`: `disabled`, `enabled`,
    /// `unlocked`, `signed_out`, `security_info_cleared`), sent to every
    /// address the user has.
    AccountChangedByAdmin {
        display_name: String,
        change: String,
    },
    /// An admin invites the user to register their security info
    /// (`reset`: false) or to reset their password (true) at `link`, the
    /// product's public address: never a password, never a code.
    Invitation {
        display_name: String,
        link: String,
        reset: bool,
        /// A new account's invitation to set its first password: the
        /// user ID to type (nothing secret).
        #[serde(default)]
        welcome: Option<String>,
    },
}

impl Template {
    /// The same message with its one secret (a code) blanked, for rows
    /// already delivered by a real channel.
    pub fn scrubbed(&self) -> Option<Template> {
        match self {
            Template::VerificationCode { minutes, .. } => Some(Template::VerificationCode {
                code: String::new(),
                minutes: *minutes,
            }),
            Template::ResetCode { minutes, .. } => Some(Template::ResetCode {
                code: String::new(),
                minutes: *minutes,
            }),
            Template::SignInCode { minutes, .. } => Some(Template::SignInCode {
                code: String::new(),
                minutes: *minutes,
            }),
            _ => None,
        }
    }

    /// The one-time code this message carries, if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            Template::VerificationCode { code, .. }
            | Template::ResetCode { code, .. }
            | Template::SignInCode { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Template::AccountLocked { .. } => "account_locked",
            Template::VerificationCode { .. } => "verification_code",
            Template::ResetCode { .. } => "reset_code",
            Template::SignInCode { .. } => "sign_in_code",
            Template::SecurityInfoChanged { .. } => "security_info_changed",
            Template::PasswordChanged { .. } => "password_changed",
            Template::GateBlocked { .. } => "gate_blocked",
            Template::AdminPasswordReset { .. } => "admin_password_reset",
            Template::ResetSurge { .. } => "reset_surge",
            Template::PhoneBudgetReached { .. } => "phone_budget_reached",
            Template::AccountChangedByAdmin { .. } => "account_changed_by_admin",
            Template::Invitation { .. } => "invitation",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    pub channel: Channel,
    pub recipient: String,
    pub locale: String,
    pub template: Template,
    /// Deduplicates retries of the action that queued it.
    pub idempotency_key: String,
    /// Never deliver after this time (codes expire).
    pub not_after: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub id: i64,
    pub idempotency_key: String,
    pub created_at: Timestamp,
    pub channel: Channel,
    pub recipient: String,
    pub locale: String,
    pub template: Template,
    pub state: String,
    pub attempts: i64,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryMode {
    /// Development and demo: messages count as delivered at once and are
    /// listed on `/dev/outbox` for anyone who can reach it. Only on a
    /// loopback address and never behind https (`Config::validate`).
    Outbox,
    /// Queue messages and deliver nothing (no channel configured yet).
    /// The default: a forgotten `[delivery]` publishes nothing
    /// (docs/security.md #68).
    #[default]
    Hold,
    /// Deliver for real: email over SMTP, text and voice through the HTTP
    /// provider (`[delivery.smtp]`, `[delivery.phone]`).
    Live,
}

/// Most attempts before a message is marked failed.
pub const MAX_ATTEMPTS: i64 = 5;
/// A claimed message is retried by another worker after this lease.
pub const LEASE_SECS: i64 = 60;
/// The longest a provider call may take: half the lease. A worker renews
/// its lease just before each call and cuts the call off after this, so no
/// call outlives the lease and no other worker takes the row meanwhile
/// (docs/security.md #83).
pub const MAX_PROVIDER_TIMEOUT_SECS: u64 = (LEASE_SECS / 2) as u64;

/// How long a worker holds a message, and the longest a provider call may
/// take; the call must end well inside the lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    pub secs: i64,
    pub send_timeout: Duration,
}

impl Default for Lease {
    fn default() -> Lease {
        Lease {
            secs: LEASE_SECS,
            send_timeout: Duration::from_secs(MAX_PROVIDER_TIMEOUT_SECS),
        }
    }
}

/// Queues a message inside the caller's transaction, its parameters
/// sealed with `key`.
pub async fn enqueue<'e>(
    exec: impl Exec<'e>,
    key: &ServerKey,
    m: &NewMessage,
    now: Timestamp,
) -> Result<(), DomainError> {
    store::outbox::insert(exec, key, m, store::outbox::Standing::Queued, now).await
}

/// Writes a row that is never sent in place of `m` (its recipient blanked),
/// where a request that could have queued a message queues none: the
/// same statement and sealing, so the two take the same time
/// (docs/security.md #11).
pub async fn enqueue_stand_in<'e>(
    exec: impl Exec<'e>,
    key: &ServerKey,
    m: &NewMessage,
    now: Timestamp,
) -> Result<(), DomainError> {
    let stand_in = NewMessage {
        recipient: String::new(),
        ..m.clone()
    };
    store::outbox::insert(exec, key, &stand_in, store::outbox::Standing::StandIn, now).await
}

/// A message this worker holds until `lease_until`.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub message: Message,
    pub lease_until: Timestamp,
}

/// Claims up to `limit` due messages for this worker for the default
/// lease. Safe with several instances: each row is taken by a conditional
/// update.
pub async fn claim_due(
    db: &Db,
    key: &ServerKey,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<Claimed>, DomainError> {
    claim_for(db, key, now, limit, LEASE_SECS).await
}

async fn claim_for(
    db: &Db,
    key: &ServerKey,
    now: Timestamp,
    limit: i64,
    lease_secs: i64,
) -> Result<Vec<Claimed>, DomainError> {
    let mut claimed = Vec::new();
    for id in store::outbox::due_ids(db.pool(), now, limit).await? {
        let lease_until = now.plus_secs(lease_secs);
        match store::outbox::claim(db.pool(), key, id, lease_until, now).await {
            Ok(Some(message)) => claimed.push(Claimed {
                message,
                lease_until,
            }),
            Ok(None) => {}
            // A row that does not open (sealed under another server key,
            // or altered) can never be sent: it fails at once instead of
            // stopping every pass behind it.
            Err(DomainError::Corrupt(e)) => {
                tracing::error!(message_id = id, error = %e, "an outbox row does not open; given up");
                store::outbox::mark_failed(db.pool(), id, lease_until, "failed", now, &e).await?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(claimed)
}

/// Marks a claimed message sent. When the lease ran out meanwhile
/// (another worker may have taken it) nothing is changed and a warning is
/// logged: leases are renewed before each call and calls are cut off at
/// half the lease, so that this does not happen.
pub async fn mark_sent(db: &Db, c: &Claimed, now: Timestamp) -> Result<(), DomainError> {
    if !store::outbox::mark_sent(db.pool(), c.message.id, c.lease_until, now).await? {
        tracing::warn!(
            message_id = c.message.id,
            "delivered after its lease ran out"
        );
    }
    Ok(())
}

/// Ends every row whose `not_after` has passed, in batches: unsent ones
/// expire, and the code in each is blanked — a code never rests in the
/// outbox after it stopped working (docs/security.md #81). The dev outbox
/// shows a code until then.
pub async fn retire_expired(db: &Db, key: &ServerKey, now: Timestamp) -> Result<u64, DomainError> {
    let mut retired = 0;
    loop {
        let rows = store::outbox::past_not_after(db.pool(), key, now, 500).await?;
        let n = rows.len();
        for row in rows {
            match row {
                Ok(m) => {
                    let blank = m.template.scrubbed().unwrap_or_else(|| m.template.clone());
                    store::outbox::retire(db.pool(), key, &m, &blank).await?;
                    if matches!(m.state.as_str(), "pending" | "sending") {
                        ops_metrics::delivery(m.channel, Outcome::Expired);
                    }
                }
                Err(id) => store::outbox::retire_unreadable(db.pool(), id).await?,
            }
            retired += 1;
        }
        if n < 500 {
            return Ok(retired);
        }
    }
}

/// Records a failed attempt: retry with exponential backoff, or give up
/// after [`MAX_ATTEMPTS`]. Nothing changes when the lease ran out (the
/// row is another worker's now).
pub async fn mark_failed(
    db: &Db,
    key: &ServerKey,
    c: &Claimed,
    error: &str,
    now: Timestamp,
) -> Result<(), DomainError> {
    let m = &c.message;
    let (state, next) = if m.attempts >= MAX_ATTEMPTS {
        ("failed", now)
    } else {
        (
            "pending",
            now.plus_secs(10 * (1 << m.attempts.clamp(0, 10))),
        )
    };
    if !store::outbox::mark_failed(db.pool(), m.id, c.lease_until, state, next, error).await? {
        tracing::warn!(message_id = m.id, "failed after its lease ran out");
        return Ok(());
    }
    let outcome = if state == "failed" {
        Outcome::Failed
    } else {
        Outcome::Retry
    };
    ops_metrics::delivery(m.channel, outcome);
    // Given up: the code will never be sent, so it need not be kept.
    if state == "failed"
        && let Some(blank) = m.template.scrubbed()
    {
        store::outbox::replace_template(db.pool(), key, m, &blank).await?;
    }
    Ok(())
}

/// Sets the outbox gauges of `/metrics` from the shared queue: what waits
/// per channel, and how long the oldest due message has waited.
pub async fn observe_backlog(db: &Db, now: Timestamp) -> Result<(), DomainError> {
    let (per_channel, oldest_due) = store::outbox::backlog(db.pool()).await?;
    let waited = oldest_due.map_or(0, |due| now.secs() - due.secs());
    ops_metrics::outbox_backlog(&per_channel, waited);
    Ok(())
}

pub use store::outbox::{delivery_state, recent, stored_params};

/// Something that delivers a message: SMTP, an SMS provider, or the dev outbox.
pub trait Sender: Send + Sync + 'static {
    fn send(&self, m: &Message) -> impl Future<Output = Result<(), String>> + Send;

    /// Blank codes in delivered rows. The dev outbox keeps them: showing
    /// them is its job.
    fn scrub_after_send(&self) -> bool {
        false
    }
}

/// The development "channel": delivery is the row being visible on `/dev/outbox`.
#[derive(Clone, Copy, Debug, Default)]
pub struct DevOutbox;

impl Sender for DevOutbox {
    async fn send(&self, _m: &Message) -> Result<(), String> {
        Ok(())
    }
}

/// One pass of the worker with the default [`Lease`].
pub async fn deliver_due<S: Sender>(
    db: &Db,
    key: &ServerKey,
    sender: &S,
    clock: &dyn Clock,
) -> Result<usize, DomainError> {
    deliver_due_with(db, key, sender, clock, Lease::default()).await
}

/// One pass of the worker: retire expired codes, claim, deliver, record.
/// Email and phone messages go out side by side, so a slow provider on
/// one channel does not hold back the other. Returns how many messages
/// were delivered.
pub async fn deliver_due_with<S: Sender>(
    db: &Db,
    key: &ServerKey,
    sender: &S,
    clock: &dyn Clock,
    lease: Lease,
) -> Result<usize, DomainError> {
    let (_running, stop) = watch::channel(false);
    deliver_pass(db, key, sender, clock, lease, &stop).await
}

/// The same pass, watching `stop`: once it turns true, the message in
/// flight is finished and recorded, and the rest of the batch is handed
/// back due at once, so another instance sends it without waiting for the
/// lease to run out (docs/security.md #83).
async fn deliver_pass<S: Sender>(
    db: &Db,
    key: &ServerKey,
    sender: &S,
    clock: &dyn Clock,
    lease: Lease,
    stop: &watch::Receiver<bool>,
) -> Result<usize, DomainError> {
    let now = clock.now();
    retire_expired(db, key, now).await?;
    let (email, phone): (Vec<Claimed>, Vec<Claimed>) = claim_for(db, key, now, 50, lease.secs)
        .await?
        .into_iter()
        .partition(|c| c.message.channel == Channel::Email);
    let one = Delivery {
        db,
        key,
        sender,
        clock,
        lease,
        stop,
    };
    let (a, b) = tokio::join!(one.each(email), one.each(phone));
    Ok(a? + b?)
}

/// What delivering one channel's claimed messages needs.
struct Delivery<'a, S> {
    db: &'a Db,
    key: &'a ServerKey,
    sender: &'a S,
    clock: &'a dyn Clock,
    lease: Lease,
    stop: &'a watch::Receiver<bool>,
}

impl<S: Sender> Delivery<'_, S> {
    /// Delivers the messages one after the other. Each lease is renewed
    /// just before its call (the batch may take longer than the lease the
    /// claim took), and a message another worker took meanwhile is left
    /// to it: a slow provider never causes a second send. After a stop,
    /// what is left is handed back untried.
    async fn each(&self, claimed: Vec<Claimed>) -> Result<usize, DomainError> {
        let mut sent = 0;
        let mut handed_back = 0;
        for c in claimed {
            if *self.stop.borrow() {
                let (id, now) = (c.message.id, self.clock.now());
                if store::outbox::release(self.db.pool(), id, c.lease_until, now).await? {
                    ops_metrics::delivery(c.message.channel, Outcome::HandedBack);
                    handed_back += 1;
                }
                continue;
            }
            let until = self.clock.now().plus_secs(self.lease.secs);
            if !store::outbox::renew(self.db.pool(), c.message.id, c.lease_until, until).await? {
                tracing::info!(
                    message_id = c.message.id,
                    "left to the worker that took it over"
                );
                continue;
            }
            let c = Claimed {
                lease_until: until,
                ..c
            };
            let m = &c.message;
            let result = tokio::time::timeout(self.lease.send_timeout, self.sender.send(m))
                .await
                .unwrap_or_else(|_| Err("the provider did not answer in time".to_owned()));
            let now = self.clock.now();
            match result {
                Ok(()) => {
                    ops_metrics::delivery(m.channel, Outcome::Sent);
                    mark_sent(self.db, &c, now).await?;
                    if self.sender.scrub_after_send()
                        && let Some(blank) = m.template.scrubbed()
                    {
                        store::outbox::replace_template(self.db.pool(), self.key, m, &blank)
                            .await?;
                    }
                    sent += 1;
                }
                Err(e) => {
                    tracing::warn!(message_id = m.id, attempt = m.attempts, error = %e, "delivery failed");
                    mark_failed(self.db, self.key, &c, &e, now).await?;
                }
            }
        }
        if handed_back > 0 {
            tracing::info!(handed_back, "stopping: outbox batch handed back");
        }
        Ok(sent)
    }
}

/// Runs a pass every `interval` until `stop` turns true (or its sender is
/// gone). A stop in the middle of a pass ends it early: see
/// [`deliver_pass`]. Nothing claimed is left to a lease that no one renews.
pub async fn run_worker<S: Sender>(
    db: Db,
    key: ServerKey,
    clock: Arc<dyn Clock>,
    sender: S,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let lease = Lease::default();
    while !*stop.borrow() {
        if let Err(e) = deliver_pass(&db, &key, &sender, clock.as_ref(), lease, &stop).await {
            tracing::error!(error = %e, "outbox worker pass failed");
        }
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => break,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
