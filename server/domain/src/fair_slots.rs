//! A fixed number of slots (the argon2 hashing pool) handed out fairly.
//! When every slot is busy, the callers who wait are served one client at
//! a time in turn rather than first come, first served: a client with a
//! hundred checks queued does not make a client with one wait behind all
//! of them (docs/security.md #75). A "client" is whatever the caller says
//! it is — the password checks use the client's network.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

#[derive(Clone)]
pub struct FairSlots {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    free: usize,
    /// Each waiting client's callers, oldest first.
    waiting: HashMap<String, VecDeque<oneshot::Sender<Slot>>>,
    /// The clients with callers waiting, in the order they are served;
    /// a client served goes to the back if it still has callers waiting.
    turn: VecDeque<String>,
}

impl State {
    /// How many waiting callers would be served before a new caller of
    /// `client`, if all kept waiting. A round serves one caller of each
    /// waiting client, so with `k` of its own waiting the new caller is
    /// served in round `k + 1`: behind its own `k` and up to `k + 1` of
    /// every other client's. (Callers who gave up still count until their
    /// turn passes them over: an overestimate only while a flood gives up.)
    fn ahead_of(&self, client: &str) -> usize {
        let own = self.waiting.get(client).map_or(0, VecDeque::len);
        let others: usize = self
            .waiting
            .iter()
            .filter(|(c, _)| c.as_str() != client)
            .map(|(_, q)| q.len().min(own + 1))
            .sum();
        own + others
    }
}

/// One slot, given back when dropped.
pub struct Slot {
    state: Option<Arc<Mutex<State>>>,
}

/// The pool's lock. Nothing panics while holding it, so a poisoned lock
/// still holds consistent state.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FairSlots {
    pub fn new(slots: usize) -> FairSlots {
        FairSlots {
            state: Arc::new(Mutex::new(State {
                free: slots,
                ..State::default()
            })),
        }
    }

    /// Slots free right now.
    pub fn free(&self) -> usize {
        lock(&self.state).free
    }

    /// Callers waiting right now (including ones that gave up and have
    /// not been passed over yet).
    pub fn waiting(&self) -> usize {
        lock(&self.state).waiting.values().map(VecDeque::len).sum()
    }

    /// A slot for `client`, at once when one is free, else in its turn.
    /// Dropping the future gives up the place in the queue. `None` only if
    /// the pool is gone.
    pub async fn acquire(&self, client: &str) -> Option<Slot> {
        self.acquire_unless_crowded(client, usize::MAX)
            .await
            .unwrap_or(None)
    }

    /// The same, but refused at once with [`Crowded`] when at least
    /// `max_ahead` callers would be served before this one (see
    /// `State::ahead_of`). Such a caller would only wait
    /// out its timeout holding a connection; under a flood, refusing it at
    /// once keeps the queue as short as the slots can serve, and a client
    /// with few callers waiting is still served in its turn.
    pub async fn acquire_unless_crowded(
        &self,
        client: &str,
        max_ahead: usize,
    ) -> Result<Option<Slot>, Crowded> {
        let granted = {
            let mut state = lock(&self.state);
            if state.free > 0 {
                state.free -= 1;
                return Ok(Some(Slot {
                    state: Some(self.state.clone()),
                }));
            }
            if state.ahead_of(client) >= max_ahead {
                return Err(Crowded);
            }
            let (tx, rx) = oneshot::channel();
            let queue = state.waiting.entry(client.to_owned()).or_default();
            let first = queue.is_empty();
            queue.push_back(tx);
            if first {
                state.turn.push_back(client.to_owned());
            }
            rx
        };
        Ok(granted.await.ok())
    }
}

/// Too many callers are ahead for this one to be served in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crowded;

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(shared) = self.state.take() else {
            return;
        };
        let mut state = lock(&shared);
        // Hand the slot to the next client in turn, passing over callers
        // who stopped waiting; free it when nobody waits.
        while let Some(client) = state.turn.pop_front() {
            let Some(queue) = state.waiting.get_mut(&client) else {
                continue;
            };
            let next = queue.pop_front();
            if queue.is_empty() {
                state.waiting.remove(&client);
            } else {
                state.turn.push_back(client);
            }
            let Some(tx) = next else { continue };
            let slot = Slot {
                state: Some(shared.clone()),
            };
            match tx.send(slot) {
                Ok(()) => return,
                // The caller stopped waiting: defuse the slot it did not
                // take (its drop would re-enter this lock) and go on.
                Err(mut unused) => unused.state = None,
            }
        }
        state.free += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Queues `n` callers of `client` behind the held slots.
    fn queue(
        slots: &FairSlots,
        client: &'static str,
        n: usize,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        (0..n)
            .map(|_| {
                let pool = slots.clone();
                tokio::spawn(async move {
                    drop(pool.acquire(client).await);
                })
            })
            .collect()
    }

    #[tokio::test]
    async fn a_caller_too_far_back_is_refused_at_once_and_a_new_client_is_not() {
        let slots = FairSlots::new(1);
        let held = slots.acquire("x").await;
        let flood = queue(&slots, "flood", 4);
        while slots.waiting() < 4 {
            tokio::task::yield_now().await;
        }
        // The flood's fifth caller would wait behind its four (one client
        // waiting: four rounds); with at most three ahead it is refused.
        assert_eq!(
            slots.acquire_unless_crowded("flood", 3).await.err(),
            Some(Crowded)
        );
        // Another client is next in turn: one caller ahead of it.
        let pool = slots.clone();
        let other =
            tokio::spawn(async move { pool.acquire_unless_crowded("other", 3).await.is_ok() });
        while slots.waiting() < 5 {
            tokio::task::yield_now().await;
        }
        drop(held);
        assert!(other.await.unwrap(), "served in its turn");
        for f in flood {
            f.await.unwrap();
        }
        assert_eq!(slots.free(), 1);
    }

    /// Queues callers in order: `a` ten times, then `b` once, behind one
    /// held slot; returns the order in which they got it.
    async fn served_order(slots: &FairSlots, held: Slot) -> Vec<String> {
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for client in std::iter::repeat_n("a", 10).chain(["b"]) {
            let (pool, order) = (slots.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let slot = pool.acquire(client).await;
                order.lock().unwrap().push(client.to_owned());
                drop(slot);
            }));
            // Queue them one by one, in this order.
            while slots.waiting() < tasks.len() {
                tokio::task::yield_now().await;
            }
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        Arc::try_unwrap(order).unwrap().into_inner().unwrap()
    }

    #[tokio::test]
    async fn a_client_with_one_request_is_served_before_a_flood_from_another() {
        let slots = FairSlots::new(1);
        let held = slots.acquire("someone").await.unwrap();
        let order = served_order(&slots, held).await;
        // First come, first served would put b last (11th).
        assert_eq!(order[..2], ["a", "b"], "{order:?}");
        assert_eq!(order.len(), 11);
        assert_eq!(slots.free(), 1, "every slot came back");
        assert_eq!(slots.waiting(), 0);
    }

    #[tokio::test]
    async fn a_caller_who_stops_waiting_loses_no_slot() {
        let slots = FairSlots::new(1);
        let held = slots.acquire("x").await.unwrap();
        let gave_up = tokio::time::timeout(
            std::time::Duration::from_millis(10),
            slots.acquire("impatient"),
        )
        .await;
        assert!(gave_up.is_err());
        drop(held);
        assert_eq!(slots.free(), 1, "passed over, and the slot is free again");
        let again = slots.acquire("y").await;
        assert!(again.is_some());
        assert_eq!(slots.free(), 0);
    }
}
