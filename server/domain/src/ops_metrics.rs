//! What an operator watches on `/metrics` (docs/capacity.md): the names,
//! labels and recording of every metric the domain keeps, in one place.
//! Recording goes through the `metrics` facade and costs next to nothing
//! until `sspr serve` installs the Prometheus recorder (`metrics_listen`),
//! so tests and the CLI record into nothing.

use std::time::Duration;

use metrics::{counter, gauge, histogram};

use crate::outbox::Channel;

/// Password checks waiting for a hashing slot right now.
pub const HASHING_WAITING: &str = "sspr_hashing_waiting";
/// argon2id hashes running right now (at most the slot count).
pub const HASHING_RUNNING: &str = "sspr_hashing_running";
/// How long each check waited for its slot (those that got one).
pub const HASHING_WAIT_SECONDS: &str = "sspr_hashing_wait_seconds";
/// Checks answered 503: refused at once because more callers were ahead
/// than the slots serve within the queue timeout, or after waiting it out.
pub const HASHING_REFUSED: &str = "sspr_hashing_refused_total";
/// Outbox messages by channel and what became of each attempt.
pub const OUTBOX_DELIVERIES: &str = "sspr_outbox_deliveries_total";
/// Messages waiting in the shared outbox (pending or being sent), by
/// channel: the same figure on every instance.
pub const OUTBOX_BACKLOG: &str = "sspr_outbox_backlog";
/// Age of the oldest message that is due and not sent yet, in seconds
/// (0 when none is): a stalled worker or provider shows here first.
pub const OUTBOX_OLDEST_DUE_SECONDS: &str = "sspr_outbox_oldest_due_seconds";

/// Counts its holder in gauge `name` while it lives: a caller waiting for
/// a slot, or a hash in progress. Dropping it, also when the caller gives
/// up (its future dropped), takes the holder out again.
pub struct Occupancy(&'static str);

impl Occupancy {
    pub fn enter(name: &'static str) -> Occupancy {
        gauge!(name).increment(1.0);
        Occupancy(name)
    }
}

impl Drop for Occupancy {
    fn drop(&mut self) {
        gauge!(self.0).decrement(1.0);
    }
}

pub fn hashing_waited(wait: Duration) {
    histogram!(HASHING_WAIT_SECONDS).record(wait.as_secs_f64());
}

pub fn hashing_refused() {
    counter!(HASHING_REFUSED).increment(1);
}

/// What became of one claimed message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The provider took it.
    Sent,
    /// The provider refused or did not answer; it will be tried again.
    Retry,
    /// Given up after the last attempt.
    Failed,
    /// Its code expired before it could be sent.
    Expired,
    /// Handed back untried by a worker that was stopping.
    HandedBack,
}

impl Delivery {
    fn as_str(self) -> &'static str {
        match self {
            Delivery::Sent => "sent",
            Delivery::Retry => "retry",
            Delivery::Failed => "failed",
            Delivery::Expired => "expired",
            Delivery::HandedBack => "handed_back",
        }
    }
}

pub fn delivery(channel: Channel, outcome: Delivery) {
    counter!(OUTBOX_DELIVERIES, "channel" => channel.as_str(), "outcome" => outcome.as_str())
        .increment(1);
}

/// Sets the backlog gauges from a count per channel (channels absent from
/// `per_channel` have none) and the oldest due message's age.
pub fn outbox_backlog(per_channel: &[(Channel, i64)], oldest_due_secs: i64) {
    for channel in [Channel::Email, Channel::Sms, Channel::Voice] {
        let n = per_channel
            .iter()
            .find(|(c, _)| *c == channel)
            .map_or(0, |(_, n)| *n);
        gauge!(OUTBOX_BACKLOG, "channel" => channel.as_str()).set(n as f64);
    }
    gauge!(OUTBOX_OLDEST_DUE_SECONDS).set(oldest_due_secs.max(0) as f64);
}
