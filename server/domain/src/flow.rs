//! The one engine both wizards (reset and registration) run on.
//!
//! A flow is a `flows` row named by the SHA-256 of a random token that the
//! browser keeps in an HttpOnly cookie, so it survives reloads, the back
//! button and a second tab. Its state is the wizard's own type, stored as
//! JSON. Every change is a compare-and-swap on the row's `version`, made
//! in one transaction with its effects (the message it sends, its audit
//! row, the method it stores, the failure slot it gives back): a
//! submission is applied exactly once, or not at all, however many race.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::audit::{self, Event};
use crate::methods::{self, Verified};
use crate::outbox::{self, NewMessage};
use crate::rate::CounterKey;
use crate::secrets::{random_token, token_hash};
use crate::store::{self, Tx};
use crate::users::User;
use crate::{DomainError, Services, Timestamp};

/// Compare-and-swap rounds before giving up (only reached under heavy
/// contention on one flow, i.e. one user's own tabs).
const MAX_ROUNDS: usize = 32;

/// Which wizard a flow belongs to: its `kind` column and lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wizard {
    pub kind: &'static str,
    pub ttl_secs: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The flow was never there, expired, was consumed, or belongs to
    /// somebody else: the wizard says "start again".
    #[error("the flow expired")]
    Expired,
    #[error(transparent)]
    Internal(#[from] DomainError),
}

impl From<sqlx::Error> for FlowError {
    fn from(e: sqlx::Error) -> Self {
        FlowError::Internal(e.into())
    }
}

pub struct Flow<S> {
    pub token_hash: String,
    pub user_id: Option<i64>,
    pub state: S,
    pub version: i64,
    pub expires_at: Timestamp,
}

/// What a change does besides changing the state, inside its transaction.
#[derive(Debug)]
pub enum Effect {
    Send(NewMessage),
    /// A row that stands in for a message not sent (`outbox::enqueue_stand_in`).
    StandIn(NewMessage),
    Audit(Event),
    /// Gives back a failure slot reserved before a check that succeeded.
    Refund(String),
    /// Counts a hit on a counter (a failure streak).
    Count {
        key: String,
        window_secs: i64,
    },
    /// Deletes counters (streaks a success ended).
    Forget(Vec<String>),
    /// Stores a method the user proved, with its audit row and notices.
    AddMethod(Box<User>, Verified),
}

impl Effect {
    pub fn refund(key: CounterKey<'_>) -> Effect {
        Effect::Refund(key.to_string())
    }
}

/// The outcome of a change: whether to save the state, the effects to
/// apply with it, and what to answer.
pub struct Step<T, E> {
    pub save: bool,
    pub effects: Vec<Effect>,
    pub answer: Result<T, E>,
}

impl<T, E> Step<T, E> {
    /// Saves the state and answers `answer`.
    pub fn save(answer: Result<T, E>, effects: Vec<Effect>) -> Step<T, E> {
        Step {
            save: true,
            effects,
            answer,
        }
    }
    /// Changes nothing and answers `answer`.
    pub fn answer(answer: Result<T, E>) -> Step<T, E> {
        Step {
            save: false,
            effects: vec![],
            answer,
        }
    }
    pub fn refuse(e: E) -> Step<T, E> {
        Step::answer(Err(e))
    }
}

fn to_json<S: Serialize>(state: &S) -> Result<String, DomainError> {
    serde_json::to_string(state).map_err(|e| DomainError::Corrupt(e.to_string()))
}

impl Wizard {
    /// Opens a flow for `user_id` (none: a reset for an ID that names no
    /// account) and returns the token for the cookie.
    pub async fn create<S: Serialize>(
        &self,
        s: &Services,
        user_id: Option<i64>,
        state: &S,
        now: Timestamp,
    ) -> Result<String, DomainError> {
        let token = random_token();
        let new = store::flows::NewFlow {
            id_hash: &token_hash(&token),
            kind: self.kind,
            user_id,
            data: &to_json(state)?,
            expires_at: now.plus_secs(self.ttl_secs),
        };
        store::flows::insert(s.db.pool(), &new, now).await?;
        Ok(token)
    }

    /// The open flow behind `token`, unless it expired.
    pub async fn load<S: DeserializeOwned>(
        &self,
        s: &Services,
        token: &str,
        now: Timestamp,
    ) -> Result<Flow<S>, FlowError> {
        let row = store::flows::find_open(s.db.pool(), &token_hash(token), self.kind).await?;
        let Some(row) = row.filter(|r| r.expires_at > now) else {
            return Err(FlowError::Expired);
        };
        let state = serde_json::from_str(&row.data)
            .map_err(|e| DomainError::Corrupt(format!("{} flow state: {e}", self.kind)))?;
        Ok(Flow {
            token_hash: row.id_hash,
            user_id: row.user_id,
            state,
            version: row.version,
            expires_at: row.expires_at,
        })
    }

    /// Applies `change` to a copy of the flow's state and saves the result
    /// with a compare-and-swap, together with its effects. `flow` is the
    /// state the caller already loaded (it is used for the first round);
    /// under contention the flow is loaded again and the change recomputed
    /// on the fresh state.
    pub async fn transition<S, T, E>(
        &self,
        s: &Services,
        token: &str,
        flow: Flow<S>,
        now: Timestamp,
        mut change: impl FnMut(&Flow<S>, &mut S) -> Result<Step<T, E>, E>,
    ) -> Result<T, E>
    where
        S: Serialize + DeserializeOwned + Clone,
        E: From<FlowError>,
    {
        let mut flow = flow;
        for _ in 0..MAX_ROUNDS {
            let mut state = flow.state.clone();
            let step = change(&flow, &mut state)?;
            if !step.save {
                return step.answer;
            }
            if self.save(s, &flow, &state, step.effects, now).await? {
                return step.answer;
            }
            flow = self.load(s, token, now).await?;
        }
        Err(FlowError::Internal(DomainError::Contention("wizard flow")).into())
    }

    /// Saves `state` over `flow` with its effects; false when somebody
    /// changed the flow first (nothing was written then).
    async fn save<S: Serialize>(
        &self,
        s: &Services,
        flow: &Flow<S>,
        state: &S,
        effects: Vec<Effect>,
        now: Timestamp,
    ) -> Result<bool, FlowError> {
        let mut tx = s.db.pool().begin().await?;
        if !store::flows::save(&mut *tx, &flow.token_hash, flow.version, &to_json(state)?).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        apply(s, &mut tx, effects, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ends the flow with `outcome` if nobody changed it since it was
    /// loaded, and returns the open transaction so the caller commits its
    /// changes with the end: of many parallel final submissions one wins.
    pub async fn consume<S>(
        &self,
        s: &Services,
        flow: &Flow<S>,
        outcome: &str,
        now: Timestamp,
    ) -> Result<Tx, FlowError> {
        let mut tx = s.db.pool().begin().await?;
        if !store::flows::consume(&mut *tx, &flow.token_hash, flow.version, outcome, now).await? {
            tx.rollback().await?;
            return Err(FlowError::Expired);
        }
        Ok(tx)
    }
}

/// Applies effects inside the transaction that saves the state.
pub async fn apply(
    s: &Services,
    tx: &mut Tx,
    effects: Vec<Effect>,
    now: Timestamp,
) -> Result<(), DomainError> {
    for effect in effects {
        match effect {
            Effect::Send(m) => outbox::enqueue(&mut **tx, &s.key, &m, now).await?,
            Effect::StandIn(m) => outbox::enqueue_stand_in(&mut **tx, &s.key, &m, now).await?,
            Effect::Audit(e) => audit::record(&mut **tx, &e, now).await?,
            Effect::Refund(key) => store::counters::refund(&mut **tx, &key).await?,
            Effect::Count { key, window_secs } => {
                store::counters::hit(&mut **tx, &key, window_secs, now).await?;
            }
            Effect::Forget(keys) => store::counters::forget(&mut **tx, &keys).await?,
            Effect::AddMethod(user, m) => methods::add_verified(s, tx, &user, &m, now).await?,
        }
    }
    Ok(())
}
