//! How many guesses a gate allows (docs/security.md #33, #66).
//!
//! Three counts per typed user ID (its keyed hash, so an unknown ID counts
//! like a real one) and gate kind:
//! - failures in the hour from the network that started the flow: the
//!   failure that reaches [`MAX_FAILURES_PER_HOUR`] blocks that network
//!   for [`BLOCK_SECS`];
//! - consecutive failures from that network, across hours: at
//!   [`MAX_STREAK_PER_NETWORK`] it is stopped for good (until the streak's
//!   window ends), so paced guessing — always one under the hourly limit —
//!   ends after a fixed number of guesses instead of never;
//! - consecutive failures from everywhere: at [`MAX_STREAK_PER_ACCOUNT`]
//!   the gate is stopped for everyone, the last line against an attacker
//!   with many networks.
//!
//! An attacker who knows only the user ID therefore locks out their own
//! network, not the user's: the real user's network keeps its own count.
//! A pass resets the streaks (the method's, from this network; every
//! kind's account-wide one: a proof the attacker lacks lifts the
//! account-wide stop).
//!
//! A failure slot in the hour is reserved before each check, so parallel
//! guesses cannot exceed the limit; the check that passes, or that loses
//! the race to one that passed, gives it back.

use super::State;
use crate::flow::Effect;
use crate::methods::Kind;
use crate::rate::{self, CounterKey};
use crate::{Services, Timestamp, store};

use super::ResetError;

/// Failed checks per user ID, gate kind and network per hour (Entra: 5).
pub const MAX_FAILURES_PER_HOUR: i64 = 5;
/// How long a network stays blocked after the hour's failures.
pub const BLOCK_SECS: i64 = 24 * 3600;
/// Consecutive failures per user ID, gate kind and network, over any
/// number of hours. 4 an hour, under the hourly limit, reach it in five
/// hours.
pub const MAX_STREAK_PER_NETWORK: i64 = 20;
/// Consecutive failures per user ID and gate kind from all networks.
pub const MAX_STREAK_PER_ACCOUNT: i64 = 100;
/// A streak is forgotten this long after its first failure.
pub const STREAK_SECS: i64 = 30 * 24 * 3600;

/// The counters of one user ID and gate kind, as seen from one network.
pub(crate) struct Counts {
    identifier: String,
    kind: Kind,
    network: String,
}

impl Counts {
    pub(super) fn of(state: &State, kind: Kind) -> Counts {
        Counts::new(&state.identifier, &state.network(), kind)
    }

    /// The counts of `identifier` (see [`super::identifier`]) and `kind`
    /// from `network`.
    pub(crate) fn new(identifier: &str, network: &str, kind: Kind) -> Counts {
        Counts {
            identifier: identifier.to_owned(),
            kind,
            network: network.to_owned(),
        }
    }

    fn hourly(&self) -> CounterKey<'_> {
        CounterKey::ResetFailuresFrom {
            identifier: &self.identifier,
            kind: self.kind,
            network: &self.network,
        }
    }
    fn block(&self) -> CounterKey<'_> {
        CounterKey::ResetBlockFrom {
            identifier: &self.identifier,
            kind: self.kind,
            network: &self.network,
        }
    }
    fn streak(&self) -> CounterKey<'_> {
        CounterKey::ResetStreakFrom {
            identifier: &self.identifier,
            kind: self.kind,
            network: &self.network,
        }
    }
    /// The once-per-streak marks that the owner was told of a stop.
    fn told(&self, from_network: bool) -> CounterKey<'_> {
        CounterKey::ResetStreakTold {
            identifier: &self.identifier,
            kind: self.kind,
            network: from_network.then_some(self.network.as_str()),
        }
    }
    fn account_streak(&self, kind: Kind) -> CounterKey<'_> {
        CounterKey::ResetStreak {
            identifier: &self.identifier,
            kind,
        }
    }
    /// Blocks written by earlier versions, for the whole user ID: still
    /// honoured until they run out.
    fn account_block(&self) -> CounterKey<'_> {
        CounterKey::ResetBlock {
            identifier: &self.identifier,
            kind: self.kind,
        }
    }

    /// Refuses when the gate is blocked or stopped for this network. One
    /// statement.
    pub(crate) async fn ensure_open(&self, s: &Services, now: Timestamp) -> Result<(), ResetError> {
        let limits = [
            (self.block(), BLOCK_SECS, 1),
            (self.account_block(), BLOCK_SECS, 1),
            (self.streak(), STREAK_SECS, MAX_STREAK_PER_NETWORK),
            (
                self.account_streak(self.kind),
                STREAK_SECS,
                MAX_STREAK_PER_ACCOUNT,
            ),
        ];
        let keys: Vec<String> = limits.iter().map(|(k, ..)| k.to_string()).collect();
        let rows = store::counters::read(s.db.pool(), &keys).await?;
        let wait = limits
            .iter()
            .zip(&keys)
            .filter_map(|((_, window, limit), key)| {
                let (start, hits) = rows.get(key)?;
                let ends = start + window;
                (ends > now.secs() && *hits >= *limit).then_some(ends - now.secs())
            })
            .max();
        match wait {
            Some(retry_after_secs) => Err(ResetError::MethodBlocked { retry_after_secs }),
            None => Ok(()),
        }
    }

    /// Reserves one failure slot in the hour before a check. `Ok(None)`
    /// when the hour's slots are all taken by checks still in flight (the
    /// refused hit is given back at once: it checked nothing).
    pub(crate) async fn reserve(
        &self,
        s: &Services,
        now: Timestamp,
    ) -> Result<Option<Slot>, ResetError> {
        self.ensure_open(s, now).await?;
        let key = self.hourly();
        if rate::hit(s.db.pool(), key, 3600, MAX_FAILURES_PER_HOUR, now).await? {
            Ok(Some(Slot(key.to_string())))
        } else {
            rate::refund(s.db.pool(), key).await?;
            Ok(None)
        }
    }

    /// What a decided check writes with the flow's change: a pass gives
    /// the slot back and ends the streaks; a failure keeps the slot and
    /// lengthens the network's streak, and the account-wide one only when
    /// it was a guess at the account's own code (`at_the_account`): a
    /// code sent to an address the account never registered is nobody's,
    /// and guessing it must not stop the user's gate.
    pub(crate) fn decided(&self, right: bool, at_the_account: bool, slot: &Slot) -> Vec<Effect> {
        if right {
            let mut forget = vec![self.streak().to_string(), self.told(true).to_string()];
            for k in Kind::ALL {
                forget.push(self.account_streak(k).to_string());
                let told = CounterKey::ResetStreakTold {
                    identifier: &self.identifier,
                    kind: k,
                    network: None,
                };
                forget.push(told.to_string());
            }
            return vec![Effect::Refund(slot.0.clone()), Effect::Forget(forget)];
        }
        // A guess at nobody's code is counted apart, where it stops
        // nothing: the same write either way, so the two cannot be told
        // apart by their cost (docs/security.md #11).
        let account = if at_the_account {
            self.account_streak(self.kind)
        } else {
            CounterKey::ResetStreakElsewhere {
                identifier: &self.identifier,
                kind: self.kind,
            }
        };
        [self.streak(), account]
            .into_iter()
            .map(|key| Effect::Count {
                key: key.to_string(),
                window_secs: STREAK_SECS,
            })
            .collect()
    }

    /// After a failure: the failures left in the hour, blocking the
    /// network when none are. The second value is true for the one
    /// failure after which the owner is told: the one that started the
    /// block, or that brought a streak to its cap (each hit on a block or
    /// a "told" mark is atomic, so exactly one caller sees its first
    /// count). The streaks are read on every failure, so the work does not
    /// depend on the account.
    pub(crate) async fn left_after_failure(
        &self,
        s: &Services,
        now: Timestamp,
    ) -> Result<(i64, bool), ResetError> {
        let pool = s.db.pool();
        let used = rate::current(pool, self.hourly(), 3600, now).await?;
        let left = MAX_FAILURES_PER_HOUR - used;
        let mut tell = false;
        if left <= 0 {
            tell = rate::count(pool, self.block(), BLOCK_SECS, now).await? == 1;
        }
        let streaks = [
            (self.streak(), MAX_STREAK_PER_NETWORK, true),
            (
                self.account_streak(self.kind),
                MAX_STREAK_PER_ACCOUNT,
                false,
            ),
        ];
        let keys: Vec<String> = streaks.iter().map(|(k, ..)| k.to_string()).collect();
        let rows = store::counters::read(pool, &keys).await?;
        for ((_, cap, from_network), key) in streaks.iter().zip(&keys) {
            let at_cap = rows
                .get(key)
                .is_some_and(|(start, hits)| start + STREAK_SECS > now.secs() && hits >= cap);
            if at_cap && rate::count(pool, self.told(*from_network), STREAK_SECS, now).await? == 1 {
                tell = true;
            }
        }
        Ok((left, tell))
    }
}

/// A reserved failure slot.
pub(crate) struct Slot(String);

impl Slot {
    /// Gives the slot back outside a flow change (nothing was decided).
    pub(crate) async fn give_back(self, s: &Services) -> Result<(), ResetError> {
        Ok(store::counters::refund(s.db.pool(), &self.0).await?)
    }
}
