//! Model-based tests of the two wizards: random sequences of actions
//! (start, choose, send, resend, right and wrong codes, set password,
//! cancel, a second tab, a double click, time moving) run against the real
//! domain API on a real database, and after every action the system is
//! compared with a small reference model of what should be true.
//!
//! What the model holds is only what the product promises (the rules of
//! docs/security.md it cites): the answer of each step, the messages it
//! queues and to whom, the flows' state, and the counters behind the
//! limits, kept as fixed windows like `rate_counters` keeps them (a window
//! starts at its first hit and ends `window` seconds later; a refused hit
//! still counts). Besides comparing answers, every case checks invariants
//! that do not depend on the model: at most one successful end per flow,
//! nothing queued for a destination the account did not register (reset)
//! or was not registering (registration), no failure counter in the
//! database above its limit, no method registered twice.
//!
//! Every case runs on one database per backend with its own user, client
//! address and destinations, 40 days after the previous case, so that no
//! counter or window of an earlier case is still running.

use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use sspr_domain::config::Config;
use sspr_domain::methods::{self, Kind, NewMethod, PhoneChannel};
use sspr_domain::outbox::{self, Message, Template};
use sspr_domain::policy::{self, Policy};
use sspr_domain::registration::{self as reg, RegError};
use sspr_domain::reset::{
    self, FLOW_TTL_SECS, MAX_FAILURES_PER_HOUR, MAX_SENDS_PER_IDENTIFIER, MAX_STREAK_PER_ACCOUNT,
    MAX_STREAK_PER_NETWORK, ResetError, STREAK_SECS,
};
use sspr_domain::sends::{
    EMAIL_SENDS_PER_DAY, PHONE_SENDS_PER_DAY, PHONE_SENDS_PER_HOUR, SENDS_PER_ACCOUNT_PER_DAY,
};
use sspr_domain::testkit::{NEW_PASSWORD, TestDb, create_user, ip, services, wrong_code};
use sspr_domain::users::{self, NewUser, Role, User};
use sspr_domain::{ManualClock, Services, Timestamp, authenticator, both_backends};
use sspr_domain::{captcha, registration};

both_backends!(
    the_reset_wizard_follows_its_model,
    the_registration_wizard_follows_its_model,
);

/// Cases per backend: enough to reach every step many times in a few
/// seconds, not a search for rare interleavings (the parallel tests do
/// that).
const CASES: u32 = 32;
/// Actions per case, at most.
const MAX_ACTIONS: usize = 40;
/// Time between two cases: longer than every window (the failure streaks'
/// 30 days included), so cases never see each other's counters.
const CASE_GAP_SECS: i64 = 40 * 24 * 3600;
const HOUR: i64 = 3600;
const DAY: i64 = 24 * 3600;

/// The shared part of a backend's run: one set of services and one clock
/// for every case, and the admins created so far (an admin's reset tells
/// the other admins, who may belong to earlier cases).
struct World {
    s: Services,
    clock: ManualClock,
    next_case: AtomicI64,
    admins: Mutex<Vec<String>>,
}

impl World {
    fn new(t: &TestDb) -> World {
        let (s, clock) = services(t.db.clone(), Config::default());
        World {
            s,
            clock,
            next_case: AtomicI64::new(0),
            admins: Mutex::new(Vec::new()),
        }
    }

    /// A fresh case number, with the clock moved past every window of the
    /// previous case.
    fn next(&self) -> i64 {
        self.clock.advance(CASE_GAP_SECS);
        self.next_case.fetch_add(1, Ordering::SeqCst)
    }

    fn admins(&self) -> Vec<String> {
        self.admins.lock().unwrap().clone()
    }

    async fn policy(&self) -> Policy {
        policy::load(&self.s.db).await.unwrap()
    }

    async fn outbox_len(&self) -> i64 {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM outbox WHERE recipient <> ''")
            .fetch_one(self.s.db.pool())
            .await
            .unwrap()
    }

    /// The messages queued since the outbox held `before` rows (the
    /// actions run one at a time, so these are the last action's).
    async fn queued_since(&self, before: i64) -> Vec<Message> {
        let n = self.outbox_len().await - before;
        if n <= 0 {
            return vec![];
        }
        outbox::recent(self.s.db.pool(), &self.s.key, n)
            .await
            .unwrap()
    }
}

/// Runs `cases` on the proptest runner from inside the test's runtime: the
/// runner is synchronous, so it runs in `block_in_place` and drives each
/// case's async body on the same runtime.
fn run_cases<S, F>(strategy: S, case: impl Fn(S::Value) -> F)
where
    S: Strategy,
    S::Value: Debug,
    F: std::future::Future<Output = Result<(), String>>,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| {
        let mut runner = TestRunner::new(ProptestConfig {
            cases: CASES,
            // No regression file outside a temporary folder.
            failure_persistence: None,
            max_shrink_iters: 256,
            ..ProptestConfig::default()
        });
        let outcome = runner.run(&strategy, |value| {
            handle.block_on(case(value)).map_err(TestCaseError::fail)
        });
        if let Err(e) = outcome {
            panic!("{e}");
        }
    });
}

/// A fixed-window counter per key, as `rate_counters` keeps them.
#[derive(Default)]
struct Counters(HashMap<String, (i64, i64)>);

impl Counters {
    /// Counts a hit and returns the hits in the window, this one included.
    fn hit(&mut self, key: &str, window: i64, now: i64) -> i64 {
        let e = self.0.entry(key.to_owned()).or_insert((now, 0));
        if e.0 <= now - window {
            *e = (now, 0);
        }
        e.1 += 1;
        e.1
    }
    fn current(&self, key: &str, window: i64, now: i64) -> i64 {
        match self.0.get(key) {
            Some((start, hits)) if *start > now - window => *hits,
            _ => 0,
        }
    }
    fn refund(&mut self, key: &str) {
        if let Some(e) = self.0.get_mut(key) {
            e.1 = (e.1 - 1).max(0);
        }
    }
    fn forget(&mut self, key: &str) {
        self.0.remove(key);
    }
    /// Whether the window is still running with at least `limit` hits.
    fn reached(&self, key: &str, window: i64, limit: i64, now: i64) -> bool {
        self.0
            .get(key)
            .is_some_and(|(start, hits)| start + window > now && *hits >= limit)
    }
}

/// docs/security.md #34, #39, #77: the caps every send passes, per
/// destination (lower-cased). Both checks are counted when the hourly one
/// passes; the daily one is not reached otherwise. True when refused.
fn destination_refused(c: &mut Counters, p: &Policy, kind: Kind, to: &str, now: i64) -> bool {
    let (hourly, daily) = match kind {
        Kind::Phone => (
            p.max_sends_per_destination_per_hour
                .min(PHONE_SENDS_PER_HOUR),
            PHONE_SENDS_PER_DAY,
        ),
        _ => (p.max_sends_per_destination_per_hour, EMAIL_SENDS_PER_DAY),
    };
    let to = to.to_lowercase();
    if c.hit(&format!("dest:{to}"), HOUR, now) > hourly {
        return true;
    }
    c.hit(&format!("dest-day:{to}"), DAY, now) > daily
}

/// Seconds between two codes to one destination.
fn cooldown(p: &Policy, kind: Kind) -> i64 {
    match kind {
        Kind::Phone => p
            .resend_cooldown_secs
            .max(sspr_domain::sends::PHONE_COOLDOWN_SECS),
        _ => p.resend_cooldown_secs,
    }
}

/// Whether `input` is typed like a code of `digits` digits (the inputs
/// here are plain ASCII).
fn well_formed(input: &str, digits: usize) -> bool {
    input.len() == digits && input.bytes().all(|b| b.is_ascii_digit())
}

/// What a message is, for comparing: its recipient and template.
fn shape(m: &Message) -> (String, &'static str) {
    (m.recipient.clone(), m.template.name())
}

/// Notices carry an idempotency key made of the user, what changed, the
/// second and the recipient: the same notice twice in one second is one
/// message (the second is not queued).
fn notices(
    seen: &mut HashSet<String>,
    template: &'static str,
    what: &str,
    now: i64,
    to: impl IntoIterator<Item = String>,
) -> Vec<(String, &'static str)> {
    to.into_iter()
        .filter(|to| seen.insert(format!("{template}:{what}:{now}:{to}")))
        .map(|to| (to, template))
        .collect()
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// Picks a tab: `tab` counts back from the newest flow (0 is the tab the
/// user is in); none before the first start.
fn pick(tab: usize, flows: usize) -> Option<usize> {
    (flows > 0).then(|| flows - 1 - tab % flows)
}

/// The token of a tab, or one that names no flow.
fn token(tokens: &[String], tab: Option<usize>) -> String {
    tab.map_or_else(|| "no-such-flow".to_owned(), |i| tokens[i].clone())
}

/// Seconds the clock may move by: around the cooldowns, the code and flow
/// lifetimes, the hour and the day.
fn wait() -> impl Strategy<Value = i64> {
    // Mostly short moves, so that flows live long enough to reach their
    // later steps; now and then past a flow's or a window's end.
    prop_oneof![
        3 => Just(1),
        2 => Just(29),
        3 => Just(61),
        2 => Just(121),
        1 => Just(601),
        1 => Just(901),
        1 => Just(3601),
        1 => Just(DAY + 1),
    ]
}

fn check(ok: bool, log: &[String], what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("{}\nafter:\n  {}", what(), log.join("\n  ")))
    }
}

// ---------------------------------------------------------------- reset

#[derive(Clone, Debug)]
enum ResetAction {
    /// Step 1 in a new tab (or starting over): the account's user ID
    /// (upper-cased when `shout`), or one that names no account.
    Start {
        known: bool,
        shout: bool,
    },
    /// The email gate: the registered address (in another case when
    /// `shout`), or one the account never registered.
    SendEmail {
        tab: usize,
        right: bool,
        shout: bool,
    },
    SendPhone {
        tab: usize,
        right: bool,
    },
    ChooseApp {
        tab: usize,
    },
    Resend {
        tab: usize,
    },
    /// The code the model knows was sent (or the app's), when there is one.
    VerifyRight {
        tab: usize,
    },
    VerifyWrong {
        tab: usize,
    },
    VerifyGarbage {
        tab: usize,
    },
    SetPassword {
        tab: usize,
    },
    Unlock {
        tab: usize,
    },
    /// The last request once more, as typed (a double click, or the same
    /// form submitted from a second tab).
    Again,
    Wait(i64),
}

fn reset_action() -> impl Strategy<Value = ResetAction> {
    let tab = || 0usize..3;
    prop_oneof![
        3 => (prop::bool::weighted(0.85), any::<bool>())
            .prop_map(|(known, shout)| ResetAction::Start { known, shout }),
        4 => (tab(), prop::bool::weighted(0.7), any::<bool>())
            .prop_map(|(tab, right, shout)| ResetAction::SendEmail { tab, right, shout }),
        2 => (tab(), prop::bool::weighted(0.7))
            .prop_map(|(tab, right)| ResetAction::SendPhone { tab, right }),
        2 => tab().prop_map(|tab| ResetAction::ChooseApp { tab }),
        2 => tab().prop_map(|tab| ResetAction::Resend { tab }),
        5 => tab().prop_map(|tab| ResetAction::VerifyRight { tab }),
        5 => tab().prop_map(|tab| ResetAction::VerifyWrong { tab }),
        1 => tab().prop_map(|tab| ResetAction::VerifyGarbage { tab }),
        3 => tab().prop_map(|tab| ResetAction::SetPassword { tab }),
        1 => tab().prop_map(|tab| ResetAction::Unlock { tab }),
        2 => Just(ResetAction::Again),
        3 => wait().prop_map(ResetAction::Wait),
    ]
}

/// A request with everything typed into it.
#[derive(Clone, Debug)]
enum ResetCall {
    Start {
        login: String,
        known: bool,
    },
    Send {
        tab: Option<usize>,
        kind: Kind,
        to: String,
    },
    ChooseApp {
        tab: Option<usize>,
    },
    Resend {
        tab: Option<usize>,
    },
    Verify {
        tab: Option<usize>,
        input: String,
    },
    SetPassword {
        tab: Option<usize>,
    },
    Unlock {
        tab: Option<usize>,
    },
    Wait(i64),
}

/// One case's account: a user (or an admin) with an email address, a
/// phone and an authenticator app.
struct ResetCase {
    login: String,
    ip: String,
    admin: bool,
    home: String,
    phone: String,
    stranger: String,
    stranger_phone: String,
    secret: Vec<u8>,
    /// Where notices go: the directory address and the registered one.
    contacts: Vec<String>,
}

impl ResetCase {
    async fn create(w: &World, n: i64, admin: bool) -> ResetCase {
        let login = format!("rm{n}");
        let directory = format!("rm{n}@contoso.example");
        let home = format!("rm{n}.home@example.org");
        // Israeli mobile numbers, one pair per case.
        let phone = format!("+97250{}", 2_000_000 + 2 * n);
        let stranger_phone = format!("+97250{}", 2_000_001 + 2 * n);
        let now = w.s.now();
        let user = NewUser {
            login_display: login.clone(),
            display_name: "Dana Doe".into(),
            email: Some(directory.clone()),
            role: if admin { Role::Admin } else { Role::User },
            password_hash: None,
            locale: Some("en".into()),
        };
        let user_id = create_user(&w.s.db, &user, now).await;
        let pool = w.s.db.pool();
        methods::upsert(pool, user_id, &NewMethod::email(&home), now)
            .await
            .unwrap();
        let sms = NewMethod {
            kind: Kind::Phone,
            destination: &phone,
            phone_channel: Some(PhoneChannel::Sms),
            ..NewMethod::email("")
        };
        methods::upsert(pool, user_id, &sms, now).await.unwrap();
        let secret = authenticator::new_secret();
        let sealed = authenticator::encrypt(&w.s.key, user_id, &secret).unwrap();
        let app = NewMethod {
            kind: Kind::Authenticator,
            secret: Some(&sealed),
            ..NewMethod::email("")
        };
        methods::upsert(pool, user_id, &app, now).await.unwrap();
        if admin {
            w.admins.lock().unwrap().push(directory.clone());
        }
        ResetCase {
            login,
            ip: format!("10.{}.{}.1", n / 250, n % 250 + 1),
            admin,
            contacts: sorted(vec![directory, home.clone()]),
            home,
            phone,
            stranger: format!("stranger{n}@example.org"),
            stranger_phone,
            secret,
        }
    }

    fn registered(&self, kind: Kind) -> Option<&str> {
        match kind {
            Kind::Email => Some(&self.home),
            Kind::Phone => Some(&self.phone),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
enum ResetPending {
    Code {
        kind: Kind,
        typed: String,
        /// Sent to the account's own destination (so somebody has it).
        matched: bool,
        /// The code, read from the message when one was queued.
        code: Option<String>,
        digits: usize,
        sent_at: i64,
        expires_at: i64,
        attempts: i64,
    },
    App,
}

#[derive(Clone, Debug)]
struct ResetFlow {
    known: bool,
    expires_at: i64,
    consumed: bool,
    gates_needed: usize,
    passed: Vec<Kind>,
    pending: Option<ResetPending>,
    /// Successful ends (a new password or "unlock only") this flow gave.
    ends: usize,
}

impl ResetFlow {
    fn done(&self) -> bool {
        self.passed.len() >= self.gates_needed
    }
}

/// What should be true of one case's reset flows and counters.
struct ResetModel {
    policy: Policy,
    flows: Vec<ResetFlow>,
    counters: Counters,
    /// The authenticator's last accepted time step.
    last_step: i64,
    seen: HashSet<String>,
}

/// The answer a step should give, as [`reset_answer`] prints it.
fn done_answer(done: bool) -> String {
    format!("ok {done}")
}

fn reset_answer<T: Debug>(r: &Result<T, ResetError>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(ResetError::WrongCode { attempts_left }) => format!("wrong, {attempts_left} left"),
        Err(ResetError::ResendTooSoon { retry_after_secs }) => {
            format!("too soon, {retry_after_secs} s")
        }
        Err(ResetError::Throttled { .. }) => "throttled".into(),
        Err(ResetError::MethodBlocked { .. }) => "blocked".into(),
        Err(e) => format!("{e:?}"),
    }
}

/// The model's prediction for one request: its answer and the messages it
/// queues (recipient, template).
struct Predicted {
    answer: String,
    messages: Vec<(String, &'static str)>,
}

impl Predicted {
    fn answer(answer: impl Into<String>) -> Predicted {
        Predicted {
            answer: answer.into(),
            messages: vec![],
        }
    }
}

impl ResetModel {
    fn ident(known: bool) -> &'static str {
        if known { "user" } else { "ghost" }
    }

    fn live(&self, tab: Option<usize>, now: i64) -> Option<usize> {
        tab.filter(|&i| {
            let f = &self.flows[i];
            !f.consumed && f.expires_at > now
        })
    }

    /// docs/security.md #33, #66: the method is blocked for this network,
    /// or its streaks reached their caps.
    fn blocked(&self, known: bool, kind: Kind, now: i64) -> bool {
        let (id, k) = (Self::ident(known), kind.as_str());
        self.counters
            .reached(&format!("block:{id}:{k}"), DAY, 1, now)
            || self.counters.reached(
                &format!("streak:{id}:{k}"),
                STREAK_SECS,
                MAX_STREAK_PER_NETWORK,
                now,
            )
            || self.counters.reached(
                &format!("account-streak:{id}:{k}"),
                STREAK_SECS,
                MAX_STREAK_PER_ACCOUNT,
                now,
            )
    }

    /// docs/security.md #34: sends per typed user ID (the hourly count
    /// refuses before the others are counted), then the daily and the
    /// destination's caps, all counted. True when refused.
    fn send_refused(&mut self, known: bool, kind: Kind, to: &str, now: i64) -> bool {
        let id = Self::ident(known);
        if self.counters.hit(&format!("send:{id}"), HOUR, now) > MAX_SENDS_PER_IDENTIFIER {
            return true;
        }
        let daily =
            self.counters.hit(&format!("send-day:{id}"), DAY, now) > SENDS_PER_ACCOUNT_PER_DAY;
        let to = destination_refused(&mut self.counters, &self.policy, kind, to, now);
        daily || to
    }

    /// Stores a new code in the flow; queued only to the account's own
    /// destination (docs/security.md #12, #13).
    fn issue(
        &mut self,
        c: &ResetCase,
        i: usize,
        kind: Kind,
        to: &str,
        resend: bool,
        now: i64,
    ) -> Predicted {
        let f = &mut self.flows[i];
        let own = c
            .registered(kind)
            .filter(|r| f.known && r.eq_ignore_ascii_case(to));
        let attempts = match (&f.pending, resend) {
            (Some(ResetPending::Code { attempts, .. }), true) => *attempts,
            _ => 0,
        };
        f.pending = Some(ResetPending::Code {
            kind,
            typed: to.to_owned(),
            matched: own.is_some(),
            code: None,
            digits: self.policy.code_length(kind),
            sent_at: now,
            expires_at: now + self.policy.code_ttl_secs,
            attempts,
        });
        Predicted {
            answer: "ok ()".into(),
            messages: own
                .map(|to| (to.to_owned(), "reset_code"))
                .into_iter()
                .collect(),
        }
    }

    fn predict(
        &mut self,
        c: &ResetCase,
        admins: &[String],
        call: &ResetCall,
        now: i64,
    ) -> Predicted {
        match call {
            ResetCall::Start { known, .. } => {
                // docs/security.md #38: starts per address per hour.
                let limit = Config::default().reset.starts_per_address_per_hour;
                if self.counters.hit("start", HOUR, now) > limit {
                    return Predicted::answer("throttled");
                }
                self.flows.push(ResetFlow {
                    known: *known,
                    expires_at: now + FLOW_TTL_SECS,
                    consumed: false,
                    gates_needed: self.policy.required_for(*known && c.admin),
                    passed: vec![],
                    pending: None,
                    ends: 0,
                });
                Predicted::answer("ok")
            }
            ResetCall::Send { tab, kind, to } => {
                let Some(i) = self.live(*tab, now) else {
                    return Predicted::answer("FlowExpired");
                };
                let f = &self.flows[i];
                let known = f.known;
                // After a gate only the registered kinds not passed yet
                // are offered; this account registered all three.
                if f.passed.contains(kind) {
                    return Predicted::answer("MethodNotAllowed");
                }
                if self.blocked(f.known, *kind, now) {
                    return Predicted::answer("blocked");
                }
                if let Some(ResetPending::Code {
                    kind: k,
                    typed,
                    sent_at,
                    ..
                }) = &f.pending
                {
                    let wait = sent_at + cooldown(&self.policy, *kind) - now;
                    if k == kind && typed.eq_ignore_ascii_case(to) && wait > 0 {
                        return Predicted::answer(format!("too soon, {wait} s"));
                    }
                }
                if self.send_refused(known, *kind, to, now) {
                    return Predicted::answer("throttled");
                }
                self.issue(c, i, *kind, to, false, now)
            }
            ResetCall::Resend { tab } => {
                let Some(i) = self.live(*tab, now) else {
                    return Predicted::answer("FlowExpired");
                };
                let known = self.flows[i].known;
                let Some(ResetPending::Code {
                    kind,
                    typed,
                    sent_at,
                    ..
                }) = self.flows[i].pending.clone()
                else {
                    return Predicted::answer("NoPendingCode");
                };
                let wait = sent_at + cooldown(&self.policy, kind) - now;
                if wait > 0 {
                    return Predicted::answer(format!("too soon, {wait} s"));
                }
                if self.blocked(known, kind, now) {
                    return Predicted::answer("blocked");
                }
                if self.send_refused(known, kind, &typed, now) {
                    return Predicted::answer("throttled");
                }
                self.issue(c, i, kind, &typed, true, now)
            }
            ResetCall::ChooseApp { tab } => {
                let Some(i) = self.live(*tab, now) else {
                    return Predicted::answer("FlowExpired");
                };
                let f = &mut self.flows[i];
                if f.passed.contains(&Kind::Authenticator) {
                    return Predicted::answer("MethodNotAllowed");
                }
                // Choosing the app drops a code waiting in the flow.
                f.pending = Some(ResetPending::App);
                Predicted::answer("ok ()")
            }
            ResetCall::Verify { tab, input } => self.verify(c, *tab, input, now),
            ResetCall::SetPassword { tab } | ResetCall::Unlock { tab } => {
                let Some(i) = self.live(*tab, now) else {
                    return Predicted::answer("FlowExpired");
                };
                let f = &mut self.flows[i];
                if !f.done() {
                    return Predicted::answer("GatesIncomplete");
                }
                if !f.known {
                    return Predicted::answer("FlowExpired");
                }
                f.consumed = true;
                f.ends += 1;
                if matches!(call, ResetCall::Unlock { .. }) {
                    return Predicted::answer("ok ()");
                }
                // docs/security.md #19: every other open flow of the user
                // ends, everyone is told.
                for f in self.flows.iter_mut().filter(|f| f.known) {
                    f.consumed = true;
                }
                let seen = &mut self.seen;
                let mut messages = notices(seen, "password_changed", "", now, c.contacts.clone());
                if c.admin && self.policy.notify_admins_on_admin_reset {
                    let others = admins.iter().filter(|a| !c.contacts.contains(a)).cloned();
                    messages.extend(notices(seen, "admin_password_reset", "", now, others));
                }
                Predicted {
                    answer: "ok ()".into(),
                    messages,
                }
            }
            ResetCall::Wait(_) => Predicted::answer("ok"),
        }
    }

    /// A gate check (docs/security.md #25, #26, #33, #66, #67).
    fn verify(&mut self, c: &ResetCase, tab: Option<usize>, input: &str, now: i64) -> Predicted {
        let Some(i) = self.live(tab, now) else {
            return Predicted::answer("FlowExpired");
        };
        let f = self.flows[i].clone();
        let kind = match &f.pending {
            Some(ResetPending::Code { kind, .. }) => *kind,
            Some(ResetPending::App) => Kind::Authenticator,
            // A second submission after a pass answers like the first.
            None if !f.passed.is_empty() => return Predicted::answer(done_answer(f.done())),
            None => return Predicted::answer("NoPendingCode"),
        };
        if self.blocked(f.known, kind, now) {
            return Predicted::answer("blocked");
        }
        let (id, k) = (Self::ident(f.known), kind.as_str());
        let fail = format!("fail:{id}:{k}");
        if self.counters.hit(&fail, HOUR, now) > MAX_FAILURES_PER_HOUR {
            self.counters.refund(&fail);
            return Predicted::answer("TooManyAttempts");
        }
        let (right, at_the_account) = match &f.pending {
            Some(ResetPending::App) => {
                // Each time step is accepted once: the code of a step
                // already spent is a repeat, not a guess, and counts
                // nothing (the answer waits for a winner that never comes).
                let step = now / 30;
                let fits =
                    |s: i64| authenticator::code_at(&c.secret, Timestamp(s * 30)).unwrap() == input;
                let fresh = f.known
                    && well_formed(input, authenticator::DIGITS)
                    && (step - 1..=step + 1).any(|s| s > self.last_step && fits(s));
                if fresh {
                    self.last_step = (step - 1..=step + 1)
                        .find(|&s| s > self.last_step && fits(s))
                        .unwrap();
                } else if f.known && (step - 1..=step + 1).any(fits) {
                    self.counters.refund(&fail);
                    return Predicted::answer("TooManyAttempts");
                }
                (fresh, true)
            }
            Some(ResetPending::Code {
                code,
                matched,
                digits,
                expires_at,
                attempts,
                ..
            }) => {
                // Undecided checks give the failure slot back.
                if *attempts >= self.policy.max_code_attempts {
                    self.counters.refund(&fail);
                    return Predicted::answer("TooManyAttempts");
                }
                if *expires_at <= now {
                    self.counters.refund(&fail);
                    return Predicted::answer("CodeExpired");
                }
                if !well_formed(input, *digits) {
                    self.counters.refund(&fail);
                    return Predicted::answer(format!("CodeFormat {{ digits: {digits} }}"));
                }
                (code.as_deref() == Some(input), *matched)
            }
            None => unreachable!("a pending gate"),
        };
        let f = &mut self.flows[i];
        if right {
            f.pending = None;
            f.passed.push(kind);
            let done = f.done();
            self.counters.refund(&fail);
            self.counters.forget(&format!("streak:{id}:{k}"));
            self.counters.forget(&format!("told-net:{id}:{k}"));
            for any in Kind::ALL {
                self.counters
                    .forget(&format!("account-streak:{id}:{}", any.as_str()));
                self.counters
                    .forget(&format!("told-account:{id}:{}", any.as_str()));
            }
            return Predicted::answer(done_answer(done));
        }
        let code_left = match &mut f.pending {
            Some(ResetPending::Code { attempts, .. }) => {
                *attempts += 1;
                Some(self.policy.max_code_attempts - *attempts)
            }
            _ => None,
        };
        self.counters
            .hit(&format!("streak:{id}:{k}"), STREAK_SECS, now);
        if at_the_account {
            self.counters
                .hit(&format!("account-streak:{id}:{k}"), STREAK_SECS, now);
        }
        let hourly_left = MAX_FAILURES_PER_HOUR - self.counters.current(&fail, HOUR, now);
        let mut tell = false;
        if hourly_left <= 0 {
            tell = self.counters.hit(&format!("block:{id}:{k}"), DAY, now) == 1;
        }
        for (streak, cap, told) in [
            ("streak", MAX_STREAK_PER_NETWORK, "told-net"),
            ("account-streak", MAX_STREAK_PER_ACCOUNT, "told-account"),
        ] {
            if self
                .counters
                .reached(&format!("{streak}:{id}:{k}"), STREAK_SECS, cap, now)
                && self
                    .counters
                    .hit(&format!("{told}:{id}:{k}"), STREAK_SECS, now)
                    == 1
            {
                tell = true;
            }
        }
        let messages = if tell && self.flows[i].known {
            notices(&mut self.seen, "gate_blocked", k, now, c.contacts.clone())
        } else {
            vec![]
        };
        let left = code_left.map_or(hourly_left, |c| c.min(hourly_left));
        Predicted {
            answer: if left <= 0 {
                "TooManyAttempts".into()
            } else {
                format!("wrong, {left} left")
            },
            messages,
        }
    }

    /// Learns the code a send queued (the model cannot guess it).
    fn learn(&mut self, call: &ResetCall, queued: &[Message]) {
        let (ResetCall::Send { tab: Some(i), .. } | ResetCall::Resend { tab: Some(i) }) = call
        else {
            return;
        };
        if let Some(ResetPending::Code { code, .. }) = &mut self.flows[*i].pending {
            *code = queued
                .iter()
                .find_map(|m| m.template.code().map(str::to_owned));
        }
    }

    /// The request an action makes in the model's current state.
    fn call(&self, c: &ResetCase, a: &ResetAction, now: i64) -> ResetCall {
        let tab = |t: &usize| pick(*t, self.flows.len());
        match a {
            ResetAction::Start { known, shout } => {
                let login = if *known {
                    c.login.clone()
                } else {
                    format!("{}-ghost", c.login)
                };
                ResetCall::Start {
                    login: if *shout { login.to_uppercase() } else { login },
                    known: *known,
                }
            }
            ResetAction::SendEmail {
                tab: t,
                right,
                shout,
            } => {
                let to = if *right {
                    c.home.clone()
                } else {
                    c.stranger.clone()
                };
                ResetCall::Send {
                    tab: tab(t),
                    kind: Kind::Email,
                    to: if *shout { to.to_uppercase() } else { to },
                }
            }
            ResetAction::SendPhone { tab: t, right } => ResetCall::Send {
                tab: tab(t),
                kind: Kind::Phone,
                to: if *right {
                    c.phone.clone()
                } else {
                    c.stranger_phone.clone()
                },
            },
            ResetAction::ChooseApp { tab: t } => ResetCall::ChooseApp { tab: tab(t) },
            ResetAction::Resend { tab: t } => ResetCall::Resend { tab: tab(t) },
            ResetAction::VerifyRight { tab: t } | ResetAction::VerifyWrong { tab: t } => {
                let right = matches!(a, ResetAction::VerifyRight { .. });
                let tab = tab(t);
                let pending = tab.and_then(|i| self.flows[i].pending.clone());
                let input = match pending {
                    Some(ResetPending::App) => {
                        let code = authenticator::code_at(&c.secret, Timestamp(now)).unwrap();
                        if right {
                            code
                        } else {
                            not_the_totp(&c.secret, now)
                        }
                    }
                    Some(ResetPending::Code {
                        code: Some(code), ..
                    }) if right => code,
                    Some(ResetPending::Code {
                        code: Some(code), ..
                    }) => wrong_code(&code),
                    // Nobody received this code: any guess of its length.
                    Some(ResetPending::Code { digits, .. }) => "1".repeat(digits),
                    None => "12345678".into(),
                };
                ResetCall::Verify { tab, input }
            }
            ResetAction::VerifyGarbage { tab: t } => ResetCall::Verify {
                tab: tab(t),
                input: "12ab".into(),
            },
            ResetAction::SetPassword { tab: t } => ResetCall::SetPassword { tab: tab(t) },
            ResetAction::Unlock { tab: t } => ResetCall::Unlock { tab: tab(t) },
            ResetAction::Again | ResetAction::Wait(_) => unreachable!("resolved by the runner"),
        }
    }
}

/// A six-digit code the app accepts at none of the steps allowed now.
fn not_the_totp(secret: &[u8], now: i64) -> String {
    let near: Vec<String> = [now - 30, now, now + 30]
        .into_iter()
        .map(|at| authenticator::code_at(secret, Timestamp(at)).unwrap())
        .collect();
    (0..4)
        .map(|i| format!("{i:06}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

async fn do_reset(w: &World, c: &ResetCase, tokens: &mut Vec<String>, call: &ResetCall) -> String {
    let s = &w.s;
    let now = s.now();
    match call {
        ResetCall::Start { login, .. } => {
            let nonce = "n0nce123";
            let puzzle = captcha::issue(s, nonce, now).unwrap();
            let solution = captcha::solve(&puzzle).unwrap();
            let r = reset::start(s, login, &solution, nonce, ip(&c.ip), now).await;
            if let Ok(token) = &r {
                tokens.push(token.clone());
            }
            match r {
                Ok(_) => "ok".into(),
                Err(e) => reset_answer::<()>(&Err(e)),
            }
        }
        ResetCall::Send { tab, kind, to } => {
            let t = token(tokens, *tab);
            reset_answer(&match kind {
                Kind::Email => reset::send_email_code(s, &t, to, now).await,
                _ => reset::send_phone_code(s, &t, "IL", to, PhoneChannel::Sms, now).await,
            })
        }
        ResetCall::ChooseApp { tab } => {
            reset_answer(&reset::choose_authenticator(s, &token(tokens, *tab), now).await)
        }
        ResetCall::Resend { tab } => {
            reset_answer(&reset::resend(s, &token(tokens, *tab), now).await)
        }
        ResetCall::Verify { tab, input } => {
            reset_answer(&reset::verify(s, &token(tokens, *tab), input, now).await)
        }
        ResetCall::SetPassword { tab } => reset_answer(
            &reset::set_password(
                s,
                &token(tokens, *tab),
                NEW_PASSWORD,
                NEW_PASSWORD,
                ip(&c.ip),
                now,
            )
            .await,
        ),
        ResetCall::Unlock { tab } => {
            reset_answer(&reset::unlock(s, &token(tokens, *tab), ip(&c.ip), now).await)
        }
        ResetCall::Wait(secs) => {
            w.clock.advance(*secs);
            "ok".into()
        }
    }
}

/// Compares the real flows and counters with the model, and checks what
/// holds whatever the model says.
async fn compare_reset(
    w: &World,
    c: &ResetCase,
    m: &ResetModel,
    tokens: &[String],
    log: &[String],
) -> Result<(), String> {
    let now = w.s.now();
    for (i, (t, f)) in tokens.iter().zip(&m.flows).enumerate() {
        let real = reset::load(&w.s, t, now).await;
        let live = !f.consumed && f.expires_at > now.secs();
        check(real.is_ok() == live, log, || {
            format!(
                "tab {i}: the model says live={live}, the flow: {:?}",
                real.as_ref().err()
            )
        })?;
        let Ok(real) = real else { continue };
        let st = &real.state;
        check(
            sorted(st.passed.iter().map(|k| k.as_str()).collect())
                == sorted(f.passed.iter().map(|k| k.as_str()).collect())
                && st.gates_needed == f.gates_needed,
            log,
            || {
                format!(
                    "tab {i}: passed {:?} of {}, the model {f:?}",
                    st.passed, st.gates_needed
                )
            },
        )?;
        let same = match (&st.pending, &f.pending) {
            (None, None) | (Some(reset::Pending::Authenticator), Some(ResetPending::App)) => true,
            (
                Some(reset::Pending::Code {
                    kind,
                    destination,
                    attempts,
                    expires_at,
                    ..
                }),
                Some(ResetPending::Code {
                    kind: k,
                    typed,
                    attempts: a,
                    expires_at: e,
                    ..
                }),
            ) => kind == k && destination == typed && attempts == a && expires_at == e,
            _ => false,
        };
        check(same, log, || {
            format!(
                "tab {i}: pending {:?}, the model {:?}",
                st.pending, f.pending
            )
        })?;
        // docs/security.md #26: a code allows so many wrong tries.
        if let Some(reset::Pending::Code { attempts, .. }) = &st.pending {
            check(*attempts <= m.policy.max_code_attempts, log, || {
                format!("tab {i}: {attempts} wrong tries counted on one code")
            })?;
        }
        // docs/security.md #17: one end per flow.
        check(f.ends <= 1, log, || {
            format!("tab {i} ended {} times", f.ends)
        })?;
    }
    // docs/security.md #33, #66: the failure counters of this case's
    // network never pass their limits (a refused reservation is given back).
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT counter_key, hits FROM rate_counters WHERE counter_key LIKE $1")
            .bind(format!("reset-%@{}", c.ip))
            .fetch_all(w.s.db.pool())
            .await
            .unwrap();
    for (key, hits) in rows {
        let limit = if key.starts_with("reset-fail-") {
            MAX_FAILURES_PER_HOUR
        } else if key.starts_with("reset-streak-") {
            MAX_STREAK_PER_NETWORK
        } else {
            continue;
        };
        check(hits <= limit, log, || {
            format!("{key} holds {hits} hits, the limit is {limit}")
        })?;
    }
    Ok(())
}

async fn reset_case(w: &World, admin: bool, actions: Vec<ResetAction>) -> Result<(), String> {
    {
        let n = w.next();
        let c = ResetCase::create(w, n, admin).await;
        let mut m = ResetModel {
            policy: w.policy().await,
            flows: vec![],
            counters: Counters::default(),
            last_step: 0,
            seen: HashSet::new(),
        };
        let mut tokens: Vec<String> = vec![];
        let mut log: Vec<String> = vec![format!(
            "{} {}",
            if admin { "admin" } else { "user" },
            c.login
        )];
        // Every sequence begins in a started wizard, as a user would.
        let actions = std::iter::once(ResetAction::Start {
            known: true,
            shout: false,
        })
        .chain(actions);
        let mut last: Option<ResetCall> = None;
        // Inputs whose check passed a gate, per flow: a right code is
        // accepted once.
        let mut accepted: Vec<(usize, String)> = vec![];
        for a in actions {
            let now = w.s.now().secs();
            let call = match &a {
                ResetAction::Again => match &last {
                    Some(call) => call.clone(),
                    None => continue,
                },
                ResetAction::Wait(secs) => ResetCall::Wait(*secs),
                a => m.call(&c, a, now),
            };
            let before = w.outbox_len().await;
            let passed_before: Vec<usize> = m.flows.iter().map(|f| f.passed.len()).collect();
            let predicted = m.predict(&c, &w.admins(), &call, now);
            let answer = do_reset(w, &c, &mut tokens, &call).await;
            let queued = w.queued_since(before).await;
            log.push(format!("{call:?} -> {answer}"));
            check(answer == predicted.answer, &log, || {
                format!("the model expected {:?}", predicted.answer)
            })?;
            let got = sorted(queued.iter().map(shape).collect::<Vec<_>>());
            check(got == sorted(predicted.messages.clone()), &log, || {
                format!(
                    "queued {got:?}, the model expected {:?}",
                    predicted.messages
                )
            })?;
            // docs/security.md #12, #13: a code goes only to a destination
            // the account registered, and notices only to its addresses
            // (or, for an admin's reset, to the other admins).
            let admins = w.admins();
            for q in &queued {
                let ok = match &q.template {
                    Template::ResetCode { .. } => q.recipient == c.home || q.recipient == c.phone,
                    Template::AdminPasswordReset { .. } => admins.contains(&q.recipient),
                    _ => c.contacts.contains(&q.recipient),
                };
                check(ok, &log, || {
                    format!("{} queued for {}", q.template.name(), q.recipient)
                })?;
            }
            // A refused send leaves the code that was waiting.
            if answer == "ok ()" {
                m.learn(&call, &queued);
            }
            if let ResetCall::Verify {
                tab: Some(i),
                input,
            } = &call
                && m.flows[*i].passed.len() > passed_before[*i]
            {
                check(!accepted.contains(&(*i, input.clone())), &log, || {
                    format!("{input} passed a second gate in tab {i}")
                })?;
                accepted.push((*i, input.clone()));
            }
            compare_reset(w, &c, &m, &tokens, &log).await?;
            last = Some(call);
        }
        Ok(())
    }
}

async fn the_reset_wizard_follows_its_model(t: &TestDb) {
    let w = &World::new(t);
    let actions = prop::collection::vec(reset_action(), 1..MAX_ACTIONS);
    run_cases((any::<bool>(), actions), |(admin, actions)| {
        reset_case(w, admin, actions)
    });
}

// --------------------------------------------------------- registration

#[derive(Clone, Debug)]
enum RegAction {
    /// Opens the wizard: continues the newest flow, or a new tab.
    Start {
        new_tab: bool,
    },
    /// An address from the case's pool (one is another spelling of the
    /// first).
    SendEmail {
        tab: usize,
        address: usize,
    },
    SendPhone {
        tab: usize,
        number: usize,
        voice: bool,
    },
    Resend {
        tab: usize,
    },
    VerifyRight {
        tab: usize,
    },
    VerifyWrong {
        tab: usize,
    },
    VerifyGarbage {
        tab: usize,
    },
    Cancel {
        tab: usize,
    },
    /// Removes the n-th registered method (one that does not exist past
    /// the end).
    Remove {
        method: usize,
    },
    AskMeLater,
    Finish {
        tab: usize,
    },
    Again,
    Wait(i64),
}

fn reg_action() -> impl Strategy<Value = RegAction> {
    let tab = || 0usize..3;
    prop_oneof![
        2 => any::<bool>().prop_map(|new_tab| RegAction::Start { new_tab }),
        4 => (tab(), 0usize..3).prop_map(|(tab, address)| RegAction::SendEmail { tab, address }),
        3 => (tab(), 0usize..2, any::<bool>())
            .prop_map(|(tab, number, voice)| RegAction::SendPhone { tab, number, voice }),
        2 => tab().prop_map(|tab| RegAction::Resend { tab }),
        5 => tab().prop_map(|tab| RegAction::VerifyRight { tab }),
        3 => tab().prop_map(|tab| RegAction::VerifyWrong { tab }),
        1 => tab().prop_map(|tab| RegAction::VerifyGarbage { tab }),
        1 => tab().prop_map(|tab| RegAction::Cancel { tab }),
        2 => (0usize..4).prop_map(|method| RegAction::Remove { method }),
        1 => Just(RegAction::AskMeLater),
        1 => tab().prop_map(|tab| RegAction::Finish { tab }),
        2 => Just(RegAction::Again),
        3 => wait().prop_map(RegAction::Wait),
    ]
}

#[derive(Clone, Debug)]
enum RegCall {
    Start {
        tab: Option<usize>,
        new_tab: bool,
    },
    Send {
        tab: Option<usize>,
        kind: Kind,
        to: String,
        channel: Option<PhoneChannel>,
    },
    Resend {
        tab: Option<usize>,
    },
    Verify {
        tab: Option<usize>,
        input: String,
    },
    Cancel {
        tab: Option<usize>,
    },
    /// A method by its position in the list (past the end: no such id).
    Remove {
        method: usize,
    },
    AskMeLater,
    Finish {
        tab: Option<usize>,
    },
    Wait(i64),
}

struct RegCase {
    user: User,
    admin: bool,
    directory: String,
    addresses: [String; 3],
    numbers: [String; 2],
}

impl RegCase {
    async fn create(w: &World, n: i64, admin: bool) -> RegCase {
        let directory = format!("gm{n}@contoso.example");
        let new = NewUser {
            login_display: format!("gm{n}"),
            display_name: "Dana Doe".into(),
            email: Some(directory.clone()),
            role: if admin { Role::Admin } else { Role::User },
            password_hash: None,
            locale: Some("en".into()),
        };
        let id = create_user(&w.s.db, &new, w.s.now()).await;
        if admin {
            w.admins.lock().unwrap().push(directory.clone());
        }
        RegCase {
            user: users::find_by_id(w.s.db.pool(), id).await.unwrap().unwrap(),
            admin,
            directory,
            addresses: [
                format!("g{n}.a@example.org"),
                format!("g{n}.b@example.org"),
                format!("G{n}.A@example.org"),
            ],
            numbers: [
                format!("+97250{}", 3_000_000 + 2 * n),
                format!("+97250{}", 3_000_001 + 2 * n),
            ],
        }
    }
}

#[derive(Clone, Debug)]
struct RegPending {
    kind: Kind,
    to: String,
    channel: Option<PhoneChannel>,
    code: Option<String>,
    digits: usize,
    sent_at: i64,
    expires_at: i64,
    attempts: i64,
}

#[derive(Clone, Debug)]
struct RegFlow {
    expires_at: i64,
    consumed: bool,
    pending: Option<RegPending>,
    failures: i64,
}

/// What should be true of one case's registration.
struct RegModel {
    policy: Policy,
    flows: Vec<RegFlow>,
    /// Registered methods in the order they were first stored (ids grow).
    methods: Vec<(Kind, String, Option<PhoneChannel>)>,
    counters: Counters,
    skips: i64,
    seen: HashSet<String>,
}

fn reg_answer<T: Debug>(r: &Result<T, RegError>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(RegError::WrongCode { attempts_left }) => format!("wrong, {attempts_left} left"),
        Err(RegError::ResendTooSoon { retry_after_secs }) => {
            format!("too soon, {retry_after_secs} s")
        }
        Err(RegError::Throttled { .. }) => "throttled".into(),
        Err(e) => format!("{e:?}"),
    }
}

impl RegModel {
    fn live(&self, tab: Option<usize>, now: i64) -> Option<usize> {
        tab.filter(|&i| {
            let f = &self.flows[i];
            !f.consumed && f.expires_at > now
        })
    }

    fn need(&self, c: &RegCase) -> usize {
        self.policy.required_for(c.admin)
    }

    /// docs/security.md #31: distinct kinds; email counts once.
    fn have(&self) -> usize {
        let mut kinds: Vec<&str> = self.methods.iter().map(|m| m.0.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds.len()
    }

    /// Where notices go: the directory address and every registered one.
    fn contacts(&self, c: &RegCase) -> Vec<String> {
        let mut all = vec![c.directory.clone()];
        all.extend(
            self.methods
                .iter()
                .filter(|m| m.0 == Kind::Email)
                .map(|m| m.1.clone()),
        );
        all.sort();
        all.dedup();
        all
    }

    /// docs/security.md #34, #77: per destination, per account per hour
    /// and per day, all counted. True when refused.
    fn send_refused(&mut self, kind: Kind, to: &str, now: i64) -> bool {
        let dest = destination_refused(&mut self.counters, &self.policy, kind, to, now);
        let hourly =
            self.counters.hit("account", HOUR, now) > self.policy.max_sends_per_account_per_hour;
        let daily = self.counters.hit("account-day", DAY, now) > SENDS_PER_ACCOUNT_PER_DAY;
        dest || hourly || daily
    }

    fn code_message(p: &RegPending) -> Vec<(String, &'static str)> {
        vec![(p.to.clone(), "verification_code")]
    }

    fn predict(&mut self, c: &RegCase, call: &RegCall, now: i64) -> Predicted {
        match call {
            RegCall::Start { tab, new_tab } => {
                if !new_tab && self.live(*tab, now).is_some() {
                    return Predicted::answer("same");
                }
                self.flows.push(RegFlow {
                    expires_at: now + registration::FLOW_TTL_SECS,
                    consumed: false,
                    pending: None,
                    failures: 0,
                });
                Predicted::answer("new")
            }
            RegCall::Send {
                tab,
                kind,
                to,
                channel,
            } => {
                if self
                    .methods
                    .iter()
                    .any(|m| m.0 == *kind && &m.1 == to && m.2 == *channel)
                {
                    return Predicted::answer("AlreadyRegistered");
                }
                let Some(i) = self.live(*tab, now) else {
                    return Predicted::answer("FlowExpired");
                };
                if let Some(p) = &self.flows[i].pending {
                    let wait = p.sent_at + cooldown(&self.policy, *kind) - now;
                    if p.kind == *kind && p.to.eq_ignore_ascii_case(to) && wait > 0 {
                        return Predicted::answer(format!("too soon, {wait} s"));
                    }
                }
                if self.send_refused(*kind, to, now) {
                    return Predicted::answer("throttled");
                }
                let p = RegPending {
                    kind: *kind,
                    to: to.clone(),
                    channel: *channel,
                    code: None,
                    digits: self.policy.code_length(*kind),
                    sent_at: now,
                    expires_at: now + self.policy.code_ttl_secs,
                    attempts: 0,
                };
                let messages = Self::code_message(&p);
                self.flows[i].pending = Some(p);
                Predicted {
                    answer: "ok ()".into(),
                    messages,
                }
            }
            RegCall::Resend { tab } => {
                let Some(i) = self.live(*tab, now) else {
                    return Predicted::answer("FlowExpired");
                };
                let Some(p) = self.flows[i].pending.clone() else {
                    return Predicted::answer("NoPendingCode");
                };
                let wait = p.sent_at + cooldown(&self.policy, p.kind) - now;
                if wait > 0 {
                    return Predicted::answer(format!("too soon, {wait} s"));
                }
                if self.send_refused(p.kind, &p.to, now) {
                    return Predicted::answer("throttled");
                }
                let p = RegPending {
                    code: None,
                    sent_at: now,
                    expires_at: now + self.policy.code_ttl_secs,
                    ..p
                };
                let messages = Self::code_message(&p);
                self.flows[i].pending = Some(p);
                Predicted {
                    answer: "ok ()".into(),
                    messages,
                }
            }
            RegCall::Verify { tab, input } => self.verify(c, *tab, input, now),
            RegCall::Cancel { tab } => {
                let Some(i) = self.live(*tab, now) else {
                    return Predicted::answer("FlowExpired");
                };
                self.flows[i].pending = None;
                Predicted::answer("ok ()")
            }
            RegCall::Remove { method } => {
                if *method >= self.methods.len() {
                    return Predicted::answer("NoSuchMethod");
                }
                let removed = self.methods.remove(*method);
                if self.have() < self.need(c) {
                    self.methods.insert(*method, removed);
                    return Predicted::answer("LastMethod");
                }
                let what = format!("{}:removed", removed.0.as_str());
                let to = self.contacts(c);
                Predicted {
                    answer: "ok ()".into(),
                    messages: notices(&mut self.seen, "security_info_changed", &what, now, to),
                }
            }
            RegCall::AskMeLater => {
                // docs/security.md #51: only while registration is due,
                // never for admins, so many times.
                let may = self.policy.require_registration
                    && self.have() < self.need(c)
                    && !c.admin
                    && self.skips < i64::from(self.policy.max_registration_skips);
                if may {
                    self.skips += 1;
                }
                Predicted::answer(format!("ok {may}"))
            }
            RegCall::Finish { tab } => {
                let Some(i) = self.live(*tab, now) else {
                    return Predicted::answer("FlowExpired");
                };
                let (have, need) = (self.have(), self.need(c));
                if have < need {
                    return Predicted::answer(format!(
                        "NotEnoughMethods {{ have: {have}, need: {need} }}"
                    ));
                }
                self.flows[i].consumed = true;
                Predicted::answer("ok ()")
            }
            RegCall::Wait(_) => Predicted::answer("ok"),
        }
    }

    /// docs/security.md #25, #26, #28: a code is checked inside the flow's
    /// compare-and-swap; the right one stores the method once.
    fn verify(&mut self, c: &RegCase, tab: Option<usize>, input: &str, now: i64) -> Predicted {
        let Some(i) = self.live(tab, now) else {
            return Predicted::answer("FlowExpired");
        };
        let f = &mut self.flows[i];
        let Some(p) = f.pending.clone() else {
            return Predicted::answer("NoPendingCode");
        };
        if p.attempts >= self.policy.max_code_attempts
            || f.failures >= registration::MAX_FLOW_FAILURES
        {
            return Predicted::answer("TooManyAttempts");
        }
        if p.expires_at <= now {
            return Predicted::answer("CodeExpired");
        }
        if p.code.as_deref() == Some(input) {
            f.pending = None;
            match self
                .methods
                .iter_mut()
                .find(|m| m.0 == p.kind && m.1 == p.to)
            {
                Some(m) => m.2 = p.channel,
                None => self.methods.push((p.kind, p.to.clone(), p.channel)),
            }
            // The addresses other than the one just proven are told.
            let what = format!("{}:added", p.kind.as_str());
            let to = self.contacts(c).into_iter().filter(|a| *a != p.to);
            let messages = notices(&mut self.seen, "security_info_changed", &what, now, to);
            return Predicted {
                answer: format!("ok {:?}", p.kind),
                messages,
            };
        }
        // A malformed code counts like a wrong one: it is a guess too.
        if let Some(q) = &mut f.pending {
            q.attempts += 1;
        }
        f.failures += 1;
        let left = self.policy.max_code_attempts - p.attempts - 1;
        Predicted::answer(if !well_formed(input, p.digits) {
            format!("CodeFormat {{ digits: {} }}", p.digits)
        } else if left <= 0 {
            "TooManyAttempts".into()
        } else {
            format!("wrong, {left} left")
        })
    }

    fn learn(&mut self, call: &RegCall, queued: &[Message]) {
        let (RegCall::Send { tab: Some(i), .. } | RegCall::Resend { tab: Some(i) }) = call else {
            return;
        };
        if let Some(p) = &mut self.flows[*i].pending {
            p.code = queued
                .iter()
                .find_map(|m| m.template.code().map(str::to_owned));
        }
    }

    fn call(&self, c: &RegCase, a: &RegAction) -> RegCall {
        let tab = |t: &usize| pick(*t, self.flows.len());
        match a {
            RegAction::Start { new_tab } => RegCall::Start {
                tab: pick(0, self.flows.len()),
                new_tab: *new_tab,
            },
            RegAction::SendEmail { tab: t, address } => RegCall::Send {
                tab: tab(t),
                kind: Kind::Email,
                to: c.addresses[*address].clone(),
                channel: None,
            },
            RegAction::SendPhone {
                tab: t,
                number,
                voice,
            } => RegCall::Send {
                tab: tab(t),
                kind: Kind::Phone,
                to: c.numbers[*number].clone(),
                channel: Some(if *voice {
                    PhoneChannel::Voice
                } else {
                    PhoneChannel::Sms
                }),
            },
            RegAction::Resend { tab: t } => RegCall::Resend { tab: tab(t) },
            RegAction::VerifyRight { tab: t } | RegAction::VerifyWrong { tab: t } => {
                let tab = tab(t);
                let pending = tab.and_then(|i| self.flows[i].pending.clone());
                let input = match pending {
                    Some(RegPending {
                        code: Some(code), ..
                    }) if matches!(a, RegAction::VerifyRight { .. }) => code,
                    Some(RegPending {
                        code: Some(code), ..
                    }) => wrong_code(&code),
                    Some(p) => "1".repeat(p.digits),
                    None => "12345678".into(),
                };
                RegCall::Verify { tab, input }
            }
            RegAction::VerifyGarbage { tab: t } => RegCall::Verify {
                tab: tab(t),
                input: "12ab".into(),
            },
            RegAction::Cancel { tab: t } => RegCall::Cancel { tab: tab(t) },
            RegAction::Remove { method } => RegCall::Remove { method: *method },
            RegAction::AskMeLater => RegCall::AskMeLater,
            RegAction::Finish { tab: t } => RegCall::Finish { tab: tab(t) },
            RegAction::Again | RegAction::Wait(_) => unreachable!("resolved by the runner"),
        }
    }
}

async fn do_reg(w: &World, c: &RegCase, tokens: &mut Vec<String>, call: &RegCall) -> String {
    let (s, user) = (&w.s, &c.user);
    let now = s.now();
    match call {
        RegCall::Start { tab, new_tab } => {
            let existing = (!new_tab).then(|| token(tokens, *tab));
            match reg::start(s, user, existing.as_deref(), now).await {
                Ok(t) if Some(&t) == existing.as_ref() => "same".into(),
                Ok(t) => {
                    tokens.push(t);
                    "new".into()
                }
                Err(e) => reg_answer::<()>(&Err(e)),
            }
        }
        RegCall::Send {
            tab,
            kind,
            to,
            channel,
        } => {
            let t = token(tokens, *tab);
            reg_answer(&match (kind, channel) {
                (Kind::Phone, Some(ch)) => {
                    reg::send_phone_code(s, &t, user, "IL", to, *ch, now).await
                }
                _ => reg::send_email_code(s, &t, user, to, now).await,
            })
        }
        RegCall::Resend { tab } => {
            reg_answer(&reg::resend(s, &token(tokens, *tab), user, now).await)
        }
        RegCall::Verify { tab, input } => {
            reg_answer(&reg::verify_code(s, &token(tokens, *tab), user, input, now).await)
        }
        RegCall::Cancel { tab } => {
            reg_answer(&reg::cancel_pending(s, &token(tokens, *tab), user, now).await)
        }
        RegCall::Remove { method } => {
            let list = methods::list(s.db.pool(), user.id).await.unwrap();
            let id = list.get(*method).map_or(i64::MAX, |m| m.id);
            reg_answer(&reg::remove_method(s, user, id, now).await)
        }
        RegCall::AskMeLater => format!("ok {}", reg::skip(s, user, now).await.unwrap()),
        RegCall::Finish { tab } => {
            reg_answer(&reg::finish(s, &token(tokens, *tab), user, now).await)
        }
        RegCall::Wait(secs) => {
            w.clock.advance(*secs);
            "ok".into()
        }
    }
}

async fn compare_reg(
    w: &World,
    c: &RegCase,
    m: &RegModel,
    tokens: &[String],
    log: &[String],
) -> Result<(), String> {
    let now = w.s.now();
    for (i, (t, f)) in tokens.iter().zip(&m.flows).enumerate() {
        let real = reg::load(&w.s, t, c.user.id, now).await;
        let live = !f.consumed && f.expires_at > now.secs();
        check(real.is_ok() == live, log, || {
            format!(
                "tab {i}: the model says live={live}, the flow: {:?}",
                real.as_ref().err()
            )
        })?;
        let Ok(real) = real else { continue };
        let st = &real.state;
        let same = st.failures == f.failures
            && match (&st.pending, &f.pending) {
                (None, None) => true,
                (
                    Some(reg::Pending::Code {
                        method,
                        destination,
                        attempts,
                        channel,
                        ..
                    }),
                    Some(p),
                ) => {
                    *method == p.kind
                        && *destination == p.to
                        && *attempts == p.attempts
                        && *channel == p.channel
                }
                _ => false,
            };
        check(same, log, || format!("tab {i}: {st:?}, the model {f:?}"))?;
        // docs/security.md #26: 5 wrong tries per code, 10 per flow.
        if let Some(reg::Pending::Code { attempts, .. }) = &st.pending {
            check(*attempts <= m.policy.max_code_attempts, log, || {
                format!("tab {i}: {attempts} wrong tries on one code")
            })?;
        }
        check(st.failures <= registration::MAX_FLOW_FAILURES, log, || {
            format!("tab {i}: {} failures in one flow", st.failures)
        })?;
    }
    let real: Vec<_> = methods::list(w.s.db.pool(), c.user.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.kind, m.destination, m.phone_channel))
        .collect();
    check(real == m.methods, log, || {
        format!("methods {real:?}, the model {:?}", m.methods)
    })?;
    // One method per proven destination, however many tabs proved it.
    let mut keys: Vec<_> = real.iter().map(|m| (m.0.as_str(), m.1.clone())).collect();
    keys.sort();
    keys.dedup();
    check(keys.len() == real.len(), log, || {
        format!("a destination registered twice: {real:?}")
    })?;
    let st = reg::standing(&w.s, &c.user, now).await.unwrap();
    check(st.have == m.have() && st.need == m.need(c), log, || {
        format!("standing {st:?}")
    })?;
    Ok(())
}

async fn reg_case(w: &World, admin: bool, actions: Vec<RegAction>) -> Result<(), String> {
    {
        let n = w.next();
        let c = RegCase::create(w, n, admin).await;
        let mut m = RegModel {
            policy: w.policy().await,
            flows: vec![],
            methods: vec![],
            counters: Counters::default(),
            skips: 0,
            seen: HashSet::new(),
        };
        let mut tokens: Vec<String> = vec![];
        let mut log: Vec<String> = vec![format!("{} gm{n}", if admin { "admin" } else { "user" })];
        let actions = std::iter::once(RegAction::Start { new_tab: true }).chain(actions);
        let mut last: Option<RegCall> = None;
        // Every destination a code was asked for: nothing else may get one.
        let mut asked: Vec<String> = vec![];
        for a in actions {
            let now = w.s.now().secs();
            let call = match &a {
                RegAction::Again => match &last {
                    Some(call) => call.clone(),
                    None => continue,
                },
                RegAction::Wait(secs) => RegCall::Wait(*secs),
                a => m.call(&c, a),
            };
            if let RegCall::Send { to, .. } = &call {
                asked.push(to.clone());
            }
            let before = w.outbox_len().await;
            let contacts_before = m.contacts(&c);
            let predicted = m.predict(&c, &call, now);
            let answer = do_reg(w, &c, &mut tokens, &call).await;
            let queued = w.queued_since(before).await;
            log.push(format!("{call:?} -> {answer}"));
            check(answer == predicted.answer, &log, || {
                format!("the model expected {:?}", predicted.answer)
            })?;
            let got = sorted(queued.iter().map(shape).collect::<Vec<_>>());
            check(got == sorted(predicted.messages.clone()), &log, || {
                format!(
                    "queued {got:?}, the model expected {:?}",
                    predicted.messages
                )
            })?;
            // docs/security.md #30: a code goes only to the destination
            // being registered; notices only to the user's addresses.
            let contacts_after = m.contacts(&c);
            for q in &queued {
                let ok = match &q.template {
                    Template::VerificationCode { .. } => asked.contains(&q.recipient),
                    _ => {
                        contacts_before.contains(&q.recipient)
                            || contacts_after.contains(&q.recipient)
                    }
                };
                check(ok, &log, || {
                    format!("{} queued for {}", q.template.name(), q.recipient)
                })?;
            }
            if answer == "ok ()" {
                m.learn(&call, &queued);
            }
            compare_reg(w, &c, &m, &tokens, &log).await?;
            last = Some(call);
        }
        Ok(())
    }
}

async fn the_registration_wizard_follows_its_model(t: &TestDb) {
    let w = &World::new(t);
    let actions = prop::collection::vec(reg_action(), 1..MAX_ACTIONS);
    run_cases((any::<bool>(), actions), |(admin, actions)| {
        reg_case(w, admin, actions)
    });
}
