//! The admin portal's users (issue 13): the list's search, filters and
//! pages, the "can reset" filter against the one eligibility rule, the
//! impact preview's numbers, and the actions on an account.

use std::collections::BTreeSet;

use sspr_domain::account_actions::{self, ActionError, Invitation};
use sspr_domain::audit::Kind as AuditKind;
use sspr_domain::eligibility::{self, Account};
use sspr_domain::groups::Actor;
use sspr_domain::identity::Login;
use sspr_domain::lockout::{self, LockoutConfig};
use sspr_domain::methods::{Kind, NewMethod};
use sspr_domain::policy::{Policy, SsprScope};
use sspr_domain::store::users::Search;
use sspr_domain::testkit::{self, EPOCH, TestDb};
use sspr_domain::user_list::{self, Query};
use sspr_domain::users::{self, NewUser, Role};
use sspr_domain::{Clock, Services, both_backends, impact, outbox, store};

both_backends!(
    the_can_reset_filter_is_the_eligibility_rule,
    search_finds_user_ids_names_and_addresses_by_prefix_in_any_case,
    pages_follow_each_other_without_gaps_or_repeats,
    the_locked_filter_lists_accounts_locked_now,
    an_at_sign_in_a_user_id_keeps_two_accounts_lockouts_apart,
    the_impact_preview_counts_who_loses_and_who_gains,
    each_action_is_audited_and_told_to_the_user,
    an_admin_cannot_disable_or_clear_their_own_account,
);

/// One seeded account: its role, whether enabled, kinds, and whether in
/// the group `staff`.
struct Seed {
    login: String,
    role: Role,
    enabled: bool,
    kinds: Vec<Kind>,
    staff: bool,
}

fn method(kind: Kind, login: &str) -> NewMethod<'static> {
    let destination: &'static str = match kind {
        Kind::Email => Box::leak(format!("{login}@mail.example").into_boxed_str()),
        Kind::Phone => Box::leak(format!("+1202555{:04}", login.len()).into_boxed_str()),
        _ => "",
    };
    NewMethod {
        kind,
        destination,
        phone_channel: None,
        secret: None,
        last_step: 0,
        answers: (kind == Kind::Questions).then_some("[]"),
    }
}

/// Every combination of role, enabled, a set of kinds and `staff`.
async fn seed(t: &TestDb) -> Vec<Seed> {
    let kind_sets: Vec<Vec<Kind>> = vec![
        vec![],
        vec![Kind::Email],
        vec![Kind::Questions],
        vec![Kind::Email, Kind::Questions],
        vec![Kind::Email, Kind::Phone],
        vec![Kind::Phone, Kind::Authenticator],
        vec![Kind::Authenticator],
    ];
    let staff = Login::parse("staff").unwrap();
    let mut seeds = Vec::new();
    let mut n = 0;
    for role in [Role::User, Role::Admin] {
        for enabled in [true, false] {
            for kinds in &kind_sets {
                for in_staff in [false, true] {
                    n += 1;
                    let login = format!("u{n:03}");
                    let user = NewUser {
                        role,
                        ..crate::storage::new_user(&login)
                    };
                    let groups = if in_staff {
                        vec![staff.clone()]
                    } else {
                        vec![]
                    };
                    let id =
                        users::create(&t.db, &Login::parse(&login).unwrap(), &user, &groups, EPOCH)
                            .await
                            .unwrap();
                    if !enabled {
                        users::set_enabled(t.db.pool(), id, false).await.unwrap();
                    }
                    for k in kinds {
                        store::methods::upsert(t.db.pool(), id, &method(*k, &login), EPOCH)
                            .await
                            .unwrap();
                    }
                    seeds.push(Seed {
                        login,
                        role,
                        enabled,
                        kinds: kinds.clone(),
                        staff: in_staff,
                    });
                }
            }
        }
    }
    seeds
}

fn policies() -> Vec<Policy> {
    let staff = vec!["staff".to_owned()];
    vec![
        Policy::default(),
        Policy {
            methods_required: 2,
            ..Policy::default()
        },
        Policy {
            sspr_scope: SsprScope::None,
            ..Policy::default()
        },
        Policy {
            sspr_scope: SsprScope::Groups,
            sspr_groups: staff.clone(),
            ..Policy::default()
        },
        Policy {
            allow_questions: true,
            methods_required: 2,
            sspr_scope: SsprScope::Groups,
            sspr_groups: staff,
            ..Policy::default()
        },
        Policy {
            allow_phone_sms: false,
            allow_phone_voice: false,
            methods_required: 2,
            ..Policy::default()
        },
    ]
}

fn eligible(p: &Policy, s: &Seed) -> bool {
    let groups: Vec<String> = if s.staff {
        vec!["staff".into()]
    } else {
        vec![]
    };
    eligibility::assess(
        p,
        &Account {
            role: s.role,
            enabled: s.enabled,
            kinds: &s.kinds,
            groups: &groups,
        },
    )
    .is_eligible()
}

async fn listed(t: &TestDb, search: Search<'_>) -> BTreeSet<String> {
    store::users::search(t.db.pool(), &search)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.login)
        .collect()
}

fn all(limit: i64) -> Search<'static> {
    Search {
        prefix: None,
        role: None,
        registered: None,
        enabled: None,
        eligible: None,
        logins: None,
        after: None,
        limit,
    }
}

async fn the_can_reset_filter_is_the_eligibility_rule(t: &TestDb) {
    let seeds = seed(t).await;
    for (i, p) in policies().iter().enumerate() {
        for can in [true, false] {
            let got = listed(
                t,
                Search {
                    eligible: Some((can, p)),
                    ..all(1000)
                },
            )
            .await;
            let want: BTreeSet<String> = seeds
                .iter()
                .filter(|s| eligible(p, s) == can)
                .map(|s| s.login.clone())
                .collect();
            assert_eq!(got, want, "policy {i}, can reset = {can}");
        }
    }
}

async fn search_finds_user_ids_names_and_addresses_by_prefix_in_any_case(t: &TestDb) {
    let people = [
        ("zoe.a", "Zoë Ångström", "ANGSTROM@north.example"),
        ("bob", "Robert Zoeller", "bz@south.example"),
        ("ZEBRA_1", "Plain Name", "plain@x.example"),
    ];
    for (login, name, email) in people {
        let user = NewUser {
            display_name: name.into(),
            email: Some(email.into()),
            ..crate::storage::new_user(login)
        };
        users::create(&t.db, &Login::parse(login).unwrap(), &user, &[], EPOCH)
            .await
            .unwrap();
    }
    let find = |text: &str| {
        let prefix = sspr_domain::identity::fold(text);
        async move {
            listed(
                t,
                Search {
                    prefix: Some(&prefix),
                    ..all(100)
                },
            )
            .await
            .into_iter()
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(find("ZOË").await, ["zoe.a"], "a name, in another case");
    assert_eq!(find("angs").await, ["zoe.a"], "an address");
    assert_eq!(find("ROBERT z").await, ["bob"], "a name with a space");
    assert_eq!(find("zebra_").await, ["zebra_1"], "a user ID");
    assert_eq!(find("z").await, ["zebra_1", "zoe.a"], "several, by user ID");
    assert!(find("oe").await.is_empty(), "a prefix, not any substring");
    assert!(find("%").await.is_empty(), "no wildcard");
}

async fn pages_follow_each_other_without_gaps_or_repeats(t: &TestDb) {
    let (s, _) = testkit::services(t.db.clone(), Default::default());
    for i in 0..(2 * user_list::PAGE_SIZE + 7) {
        testkit::create_user(&t.db, &crate::storage::new_user(&format!("p{i:04}")), EPOCH).await;
    }
    let policy = Policy::default();
    let q = Query::default();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = user_list::page(&s, &policy, &q, after.as_deref())
            .await
            .unwrap();
        pages += 1;
        seen.extend(page.users.into_iter().map(|u| u.login));
        match page.next_after {
            Some(a) => after = Some(a),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "in order, no repeats");
    assert_eq!(seen.len() as i64, 2 * user_list::PAGE_SIZE + 7);
}

async fn the_locked_filter_lists_accounts_locked_now(t: &TestDb) {
    let (s, clock) = testkit::services(t.db.clone(), Default::default());
    for login in ["ann", "a@b.example", "free"] {
        testkit::create_user(&t.db, &crate::storage::new_user(login), EPOCH).await;
    }
    let cfg = LockoutConfig::default();
    let everywhere = cfg.account_wide();
    // ann: locked from one network; "a@b.example" (an '@' in the user ID)
    // locked from everywhere; free: failures below the threshold.
    for i in 0..cfg.threshold {
        let fp = format!("fp{i}");
        lockout::reserve(&t.db, &cfg, "signin:ann@192.0.2.1", &fp, clock.now())
            .await
            .unwrap();
    }
    for i in 0..cfg.account_threshold {
        let fp = format!("fp{i}");
        lockout::reserve(&t.db, &everywhere, "signin:a@b.example", &fp, clock.now())
            .await
            .unwrap();
    }
    lockout::reserve(&t.db, &cfg, "signin:free@192.0.2.1", "x", clock.now())
        .await
        .unwrap();
    let q = Query {
        locked: true,
        ..Query::default()
    };
    let page = user_list::page(&s, &Policy::default(), &q, None)
        .await
        .unwrap();
    let logins: Vec<String> = page.users.into_iter().map(|u| u.login).collect();
    assert_eq!(logins, ["a@b.example", "ann"]);
    // The detail says until when, and nothing once the lock is over.
    let ann = users::find_by_login(t.db.pool(), &Login::parse("ann").unwrap())
        .await
        .unwrap()
        .unwrap();
    let detail = user_list::detail(&s, &Policy::default(), ann.id)
        .await
        .unwrap()
        .unwrap();
    assert!(detail.locked_until.is_some_and(|u| u > clock.now()));
    clock.advance(cfg.max_lockout_secs + 1);
    let page = user_list::page(&s, &Policy::default(), &q, None)
        .await
        .unwrap();
    assert!(page.users.is_empty());
}

async fn the_impact_preview_counts_who_loses_and_who_gains(t: &TestDb) {
    let seeds = seed(t).await;
    let policies = policies();
    for (i, before) in policies.iter().enumerate() {
        for (j, after) in policies.iter().enumerate() {
            let got = impact::preview(&t.db, before, after).await.unwrap();
            let lose = |role: Role| {
                seeds
                    .iter()
                    .filter(|s| s.role == role && eligible(before, s) && !eligible(after, s))
                    .count()
            };
            let gain = seeds
                .iter()
                .filter(|s| !eligible(before, s) && eligible(after, s))
                .count();
            assert_eq!(got.users_losing, lose(Role::User), "{i} → {j}");
            assert_eq!(got.admins_losing, lose(Role::Admin), "{i} → {j}");
            assert_eq!(got.gaining, gain, "{i} → {j}");
            assert_eq!(
                got.changes.len(),
                lose(Role::User) + lose(Role::Admin) + gain
            );
        }
    }
    // All → Selected (staff): every enabled user outside staff who could
    // reset loses it, for being out of scope, not for lacking methods;
    // admins never lose it to the scope.
    let selected = &policies[3];
    let got = impact::preview(&t.db, &policies[0], selected)
        .await
        .unwrap();
    assert_eq!(got.admins_losing, 0);
    assert_eq!(got.losing_for_methods, 0);
    assert!(got.users_losing > 0);
    // One method → two: those with one usable kind lose it until they
    // register another.
    let got = impact::preview(&t.db, &policies[0], &policies[1])
        .await
        .unwrap();
    assert!(got.users_losing > 0);
    assert_eq!(got.losing_for_methods, got.users_losing);
}

/// An admin to act as, and dana (a user with an email method, a session).
async fn cast(t: &TestDb) -> (Services, Actor, i64) {
    let (s, _) = testkit::services(t.db.clone(), Default::default());
    let boss = NewUser {
        role: Role::Admin,
        ..crate::storage::new_user("boss")
    };
    let boss = testkit::create_user(&t.db, &boss, EPOCH).await;
    let dana = testkit::create_user(&t.db, &testkit::dana(Role::User), EPOCH).await;
    store::methods::upsert(
        t.db.pool(),
        dana,
        &NewMethod::email("dana.home@mail.example"),
        EPOCH,
    )
    .await
    .unwrap();
    let actor = Actor {
        user_id: boss,
        ip: testkit::ip("192.0.2.9"),
    };
    (s, actor, dana)
}

/// The newest audit row's event, and the templates queued for `to`.
async fn told(s: &Services, to: &str) -> Vec<String> {
    outbox::recent(s.db.pool(), &s.key, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == to)
        .map(|m| m.template.name().to_owned())
        .collect()
}

async fn last_event(s: &Services) -> String {
    store::audit_events::recent(s.db.pool(), 1).await.unwrap()[0]
        .event
        .clone()
}

async fn each_action_is_audited_and_told_to_the_user(t: &TestDb) {
    let (s, by, dana) = cast(t).await;
    let cfg = &s.config.sessions;
    let session = sspr_domain::sessions::create(&s.db, cfg, dana, None, EPOCH)
        .await
        .unwrap();
    account_actions::set_enabled(&s, by, dana, false, EPOCH)
        .await
        .unwrap();
    assert_eq!(last_event(&s).await, AuditKind::AccountDisabled.as_str());
    assert!(
        sspr_domain::sessions::lookup(&s.db, cfg, &session, EPOCH)
            .await
            .unwrap()
            .is_none(),
        "disabling ends every session"
    );
    // Both addresses: the directory's and the registered one.
    for to in ["dana@contoso.example", "dana.home@mail.example"] {
        assert_eq!(told(&s, to).await, ["account_changed_by_admin"], "{to}");
    }
    // Already disabled: nothing happens, nothing is audited.
    account_actions::set_enabled(&s, by, dana, false, EPOCH)
        .await
        .unwrap();
    assert_eq!(told(&s, "dana@contoso.example").await.len(), 1);
    account_actions::set_enabled(&s, by, dana, true, EPOCH)
        .await
        .unwrap();
    assert_eq!(last_event(&s).await, AuditKind::AccountEnabled.as_str());
    account_actions::unlock(&s, by, dana, EPOCH).await.unwrap();
    assert_eq!(last_event(&s).await, AuditKind::AccountUnlocked.as_str());
    account_actions::sign_out_everywhere(&s, by, dana, EPOCH)
        .await
        .unwrap();
    assert_eq!(last_event(&s).await, AuditKind::SessionsRevoked.as_str());
    account_actions::invite(&s, by, dana, Invitation::Register, EPOCH)
        .await
        .unwrap();
    assert_eq!(last_event(&s).await, AuditKind::InvitationSent.as_str());
    // Clearing needs the box ticked, then deletes every method and tells
    // the address that was registered.
    assert!(matches!(
        account_actions::clear_security_info(&s, by, dana, false, EPOCH).await,
        Err(ActionError::NotConfirmed)
    ));
    account_actions::clear_security_info(&s, by, dana, true, EPOCH)
        .await
        .unwrap();
    assert!(
        store::methods::list(t.db.pool(), dana)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        last_event(&s).await,
        AuditKind::SecurityInfoCleared.as_str()
    );
    let home = told(&s, "dana.home@mail.example").await;
    assert_eq!(home.len(), 6, "{home:?}");
    assert!(home.iter().any(|t| t == "invitation"));
    // Every row names the admin and the account.
    let entries = sspr_domain::audit::search(
        t.db.pool(),
        &sspr_domain::audit::Filter::default(),
        None,
        100,
    )
    .await
    .unwrap();
    assert_eq!(entries.len(), 6);
    assert!(
        entries
            .iter()
            .all(|e| e.actor.as_deref() == Some("boss") && e.subject.as_deref() == Some("dana"))
    );
    // No address at all: an invitation is refused, and nothing is audited.
    let nobody = NewUser {
        email: None,
        ..crate::storage::new_user("nobody")
    };
    let nobody = testkit::create_user(&t.db, &nobody, EPOCH).await;
    assert!(matches!(
        account_actions::invite(&s, by, nobody, Invitation::Reset, EPOCH).await,
        Err(ActionError::NoAddress)
    ));
    assert!(matches!(
        account_actions::unlock(&s, by, 999_999, EPOCH).await,
        Err(ActionError::NoSuchUser)
    ));
}

async fn an_admin_cannot_disable_or_clear_their_own_account(t: &TestDb) {
    let (s, by, _) = cast(t).await;
    assert!(matches!(
        account_actions::set_enabled(&s, by, by.user_id, false, EPOCH).await,
        Err(ActionError::OwnAccount)
    ));
    assert!(matches!(
        account_actions::clear_security_info(&s, by, by.user_id, true, EPOCH).await,
        Err(ActionError::OwnAccount)
    ));
}

/// "a" and "a@b.example" are two accounts: the first's rows from networks
/// are `signin:a@<network>`, which a LIKE on `signin:a@%` would confuse
/// with the second's own row.
async fn an_at_sign_in_a_user_id_keeps_two_accounts_lockouts_apart(t: &TestDb) {
    let (s, clock) = testkit::services(t.db.clone(), Default::default());
    let a = testkit::create_user(&t.db, &crate::storage::new_user("a"), EPOCH).await;
    testkit::create_user(&t.db, &crate::storage::new_user("a@b.example"), EPOCH).await;
    let cfg = LockoutConfig::default();
    for i in 0..cfg.threshold {
        let fp = format!("fp{i}");
        lockout::reserve(
            &t.db,
            &cfg.account_wide(),
            "signin:a@b.example",
            &fp,
            clock.now(),
        )
        .await
        .unwrap();
    }
    let detail = user_list::detail(&s, &Policy::default(), a)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        detail.locked_until, None,
        "the other account's failures are not a's"
    );
    let boss = NewUser {
        role: Role::Admin,
        ..crate::storage::new_user("boss")
    };
    let boss = testkit::create_user(&t.db, &boss, EPOCH).await;
    let by = Actor {
        user_id: boss,
        ip: None,
    };
    account_actions::unlock(&s, by, a, EPOCH).await.unwrap();
    let left = store::lockouts::find(t.db.pool(), "signin:a@b.example")
        .await
        .unwrap()
        .expect("the other account's count stays");
    assert_eq!(left.failures, cfg.threshold);
}
