//! sspr in front of a real OpenLDAP directory: accounts mirrored by their
//! stable id, sign-in by binding, resets written to the directory under
//! its own policy, nothing half-done when it refuses or is down.
//! docs/security.md #84.

use sspr_domain::auth::{SignInError, sign_in};
use sspr_domain::captcha;
use sspr_domain::config::Config;
use sspr_domain::directory::{Bind, Directory, accounts};
use sspr_domain::identity::Login;
use sspr_domain::methods::{self, NewMethod};
use sspr_domain::outbox::{self, Template};
use sspr_domain::password_change::{self, ChangeError, ChangeRequest};
use sspr_domain::password_policy::Reason;
use sspr_domain::reset::{self, ResetError};
use sspr_domain::testkit::slapd::Slapd;
use sspr_domain::testkit::{NEW_PASSWORD, SignedInExt, TestDb, ip, req};
use sspr_domain::users::Role;
use sspr_domain::{Services, both_backends};

const OLD: &str = "correct horse battery staple";
const MAIL: &str = "alice@example.org";

both_backends!(
    sign_in_binds_as_the_directory_user_and_a_rename_keeps_the_methods,
    a_reset_is_written_to_the_directory_and_its_refusal_keeps_the_flow,
    the_directory_down_mid_reset_changes_nothing_and_the_flow_resumes,
    unlock_only_clears_the_directory_lockout,
    parallel_final_submissions_write_one_password,
    a_change_is_written_as_the_user_under_the_directory_policy,
    a_directory_outage_at_sign_in_is_a_retry_not_a_wrong_password,
    directory_groups_decide_the_sspr_scope,
    disabled_in_the_directory_is_disabled_here,
    a_sync_of_ten_thousand_entries_pages_and_disables_the_gone,
    a_write_left_behind_by_a_stopped_instance_is_taken_over_later,
    the_periodic_sync_runs_on_one_instance_an_interval,
);

fn services(t: &TestDb, slapd: &Slapd) -> Services {
    let config = Config {
        directory: slapd.config(),
        ..Config::default()
    };
    sspr_domain::testkit::services(t.db.clone(), config).0
}

/// alice in the directory, with her directory email registered as a reset
/// method in sspr (her row is mirrored on that first lookup).
async fn alice(s: &Services, slapd: &Slapd) -> (String, i64) {
    let dn = slapd.add_user("alice", OLD, MAIL, "+15555550101");
    let login = Login::parse("alice").unwrap();
    let user = accounts::lookup(s, &login, s.now()).await.unwrap().unwrap();
    methods::upsert(s.db.pool(), user.id, &NewMethod::email(MAIL), s.now())
        .await
        .unwrap();
    (dn, user.id)
}

/// Step 1 and the email code sent: the flow and the code.
async fn code_sent(s: &Services) -> (String, String) {
    code_sent_to(s, "alice", MAIL).await
}

/// Step 1 for `login` and the email code sent to `mail` (a registered
/// method): the flow and the code.
pub(crate) async fn code_sent_to(s: &Services, login: &str, mail: &str) -> (String, String) {
    let nonce = "n0nce123";
    let puzzle = captcha::issue(s, nonce, s.now()).unwrap();
    let solution = captcha::solve(&puzzle).unwrap();
    let flow = reset::start(s, login, &solution, nonce, ip("192.0.2.1"), s.now())
        .await
        .unwrap();
    reset::send_email_code(s, &flow, mail, s.now())
        .await
        .unwrap();
    let code = outbox::recent(s.db.pool(), &s.key, 10)
        .await
        .unwrap()
        .into_iter()
        .find_map(|m| match m.template {
            Template::ResetCode { code, .. } if m.recipient == mail => Some(code),
            _ => None,
        })
        .unwrap();
    (flow, code)
}

/// Step 1 and the email gate: the flow is ready for the new password.
async fn passed_flow(s: &Services) -> String {
    passed_flow_of(s, "alice", MAIL).await
}

pub(crate) async fn passed_flow_of(s: &Services, login: &str, mail: &str) -> String {
    let (flow, code) = code_sent_to(s, login, mail).await;
    assert!(reset::verify(s, &flow, &code, s.now()).await.unwrap());
    flow
}

async fn sign_in_binds_as_the_directory_user_and_a_rename_keeps_the_methods(t: &TestDb) {
    let slapd = Slapd::start();
    let s = services(t, &slapd);
    let (dn, id) = alice(&s, &slapd).await;
    let signed = sign_in(&s, req("alice", OLD), s.now())
        .await
        .unwrap()
        .signed_in();
    assert_eq!(signed.user_id, id);
    for (login, password) in [
        ("alice", "wrong password"),
        ("nobody", OLD),
        ("*", OLD),
        ("alice", ""),
    ] {
        assert!(
            matches!(
                sign_in(&s, req(login, password), s.now()).await,
                Err(SignInError::InvalidCredentials)
            ),
            "{login} / {password}"
        );
    }
    // The row follows the directory.
    let user = sspr_domain::users::find_by_id(s.db.pool(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.email.as_deref(), Some(MAIL));
    assert_eq!(user.role, Role::User);
    assert_eq!(
        user.password_hash, None,
        "no argon2 hash for a directory account"
    );
    assert_eq!(user.directory_dn.as_deref(), Some(dn.as_str()));

    // Renamed in the directory: the same row, the same methods.
    slapd.modify(&format!(
        "dn: {dn}\nchangetype: modrdn\nnewrdn: uid=alicia\ndeleteoldrdn: 1\n"
    ));
    let signed = sign_in(&s, req("alicia", OLD), s.now())
        .await
        .unwrap()
        .signed_in();
    assert_eq!(signed.user_id, id);
    assert_eq!(methods::list(s.db.pool(), id).await.unwrap().len(), 1);
    assert!(sign_in(&s, req("alice", OLD), s.now()).await.is_err());

    // An admin group member becomes an admin here.
    slapd.add_to_group(
        sspr_domain::testkit::slapd::ADMINS_GROUP,
        &format!("uid=alicia,{}", sspr_domain::testkit::slapd::PEOPLE),
    );
    let user = accounts::lookup(&s, &Login::parse("alicia").unwrap(), s.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((user.id, user.role), (id, Role::Admin));
}

async fn a_reset_is_written_to_the_directory_and_its_refusal_keeps_the_flow(t: &TestDb) {
    let slapd = Slapd::start();
    let s = services(t, &slapd);
    let (dn, _) = alice(&s, &slapd).await;
    let flow = passed_flow(&s).await;
    // sspr's policy accepts it; the directory's history does not.
    match reset::set_password(&s, &flow, OLD, OLD, None, s.now()).await {
        Err(ResetError::Rejected(reasons, _)) => {
            assert_eq!(reasons, vec![Reason::DirectoryHistory]);
        }
        other => panic!("{other:?}"),
    }
    let told = |s: &Services| {
        let s = s.clone();
        async move {
            outbox::recent(s.db.pool(), &s.key, 20)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| matches!(m.template, Template::PasswordChanged { .. }))
                .count()
        }
    };
    assert_eq!(told(&s).await, 0, "a refusal tells nobody");
    assert!(slapd.can_bind(&dn, OLD), "and changes nothing");

    reset::set_password(&s, &flow, NEW_PASSWORD, NEW_PASSWORD, None, s.now())
        .await
        .unwrap();
    assert!(
        slapd.can_bind(&dn, NEW_PASSWORD),
        "written to the directory"
    );
    assert!(!slapd.can_bind(&dn, OLD));
    assert_eq!(told(&s).await, 1, "told once");
    assert!(matches!(
        reset::load(&s, &flow, s.now()).await,
        Err(ResetError::FlowExpired)
    ));
    sign_in(&s, req("alice", NEW_PASSWORD), s.now())
        .await
        .unwrap();
}

async fn the_directory_down_mid_reset_changes_nothing_and_the_flow_resumes(t: &TestDb) {
    let mut slapd = Slapd::start();
    let s = services(t, &slapd);
    let (dn, _) = alice(&s, &slapd).await;
    let flow = passed_flow(&s).await;
    slapd.stop();
    match reset::set_password(&s, &flow, NEW_PASSWORD, NEW_PASSWORD, None, s.now()).await {
        Err(ResetError::Internal(e)) => assert!(e.is_transient(), "{e}"),
        other => panic!("{other:?}"),
    }
    slapd.restart();
    assert!(slapd.can_bind(&dn, OLD), "nothing changed");
    reset::set_password(&s, &flow, NEW_PASSWORD, NEW_PASSWORD, None, s.now())
        .await
        .unwrap();
    assert!(slapd.can_bind(&dn, NEW_PASSWORD));
}

async fn unlock_only_clears_the_directory_lockout(t: &TestDb) {
    let slapd = Slapd::start();
    let s = services(t, &slapd);
    let (dn, _) = alice(&s, &slapd).await;
    // Locked in the directory by guesses made elsewhere.
    // Binds whatever the count, so it sees the directory's own "locked".
    let other_app = Directory::new(&sspr_domain::directory::DirectoryConfig {
        lockout_threshold: 0,
        ..slapd.config()
    })
    .unwrap()
    .unwrap();
    for _ in 0..5 {
        assert!(!slapd.can_bind(&dn, "guess"));
    }
    assert_eq!(
        other_app.check_password(&dn, OLD).await.unwrap(),
        Bind::Locked
    );
    let flow = passed_flow(&s).await;
    reset::unlock(&s, &flow, None, s.now()).await.unwrap();
    assert_eq!(
        other_app.check_password(&dn, OLD).await.unwrap(),
        Bind::Accepted
    );
}

/// The flow is reserved before the directory is written: of ten parallel
/// submissions with ten different passwords one writes, and the directory
/// holds exactly the winner's.
async fn parallel_final_submissions_write_one_password(t: &TestDb) {
    let slapd = Slapd::start();
    let s = std::sync::Arc::new(services(t, &slapd));
    let (dn, _) = alice(&s, &slapd).await;
    let flow = passed_flow(&s).await;
    let now = s.now();
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (s, flow) = (s.clone(), flow.clone());
            tokio::spawn(async move {
                let password = format!("{NEW_PASSWORD} {i}");
                let r = reset::set_password(&s, &flow, &password, &password, None, now).await;
                (password, r.is_ok())
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (password, ok) = task.await.unwrap();
        if ok {
            winners.push(password);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert!(slapd.can_bind(&dn, &winners[0]));
    let told = outbox::recent(s.db.pool(), &s.key, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| matches!(m.template, Template::PasswordChanged { .. }))
        .count();
    assert_eq!(told, 1);
}

async fn a_change_is_written_as_the_user_under_the_directory_policy(t: &TestDb) {
    let slapd = Slapd::start();
    let s = services(t, &slapd);
    let (dn, _) = alice(&s, &slapd).await;
    change_journey(&s, "alice", OLD, NEW_PASSWORD, |p| slapd.can_bind(&dn, p)).await;
}

/// A change through sspr as `login`, whose password is `old`: a wrong
/// current password refused; `old` → `new` written (`binds` says which
/// password the directory takes now); back to `old`, which sspr's rules
/// accept, refused by the directory's history, and nothing written.
pub(crate) async fn change_journey(
    s: &Services,
    login: &str,
    old: &str,
    new: &str,
    binds: impl Fn(&str) -> bool,
) {
    let change = |session: String, current: String, new: String| {
        let s = s.clone();
        async move {
            password_change::change(
                &s,
                ChangeRequest {
                    session_token: &session,
                    current: &current,
                    new: &new,
                    confirm: &new,
                    sign_out_others: true,
                    ip: ip("192.0.2.1"),
                },
                s.now(),
            )
            .await
        }
    };
    let session = sign_in(s, req(login, old), s.now())
        .await
        .unwrap()
        .signed_in()
        .session_token;
    assert!(matches!(
        change(session.clone(), "Not-My-Password-1".into(), new.into()).await,
        Err(ChangeError::InvalidCredentials)
    ));
    let session = change(session, old.into(), new.into()).await.unwrap();
    assert!(binds(new), "written to the directory");
    assert!(!binds(old));
    match change(session, new.into(), old.into()).await {
        Err(ChangeError::Rejected(reasons, _)) => {
            assert_eq!(reasons, vec![Reason::DirectoryHistory])
        }
        other => panic!("{other:?}"),
    }
    assert!(binds(new));
}

async fn a_directory_outage_at_sign_in_is_a_retry_not_a_wrong_password(t: &TestDb) {
    let mut slapd = Slapd::start();
    let s = services(t, &slapd);
    alice(&s, &slapd).await;
    slapd.stop();
    for _ in 0..12 {
        match sign_in(&s, req("alice", OLD), s.now()).await {
            Err(SignInError::Internal(e)) => assert!(e.is_transient(), "{e}"),
            other => panic!("{other:?}"),
        }
    }
    slapd.restart();
    // Twelve tries during the outage counted nothing toward the lockout.
    sign_in(&s, req("alice", OLD), s.now()).await.unwrap();
}

/// SSPR for selected groups names directory groups: membership is read at
/// every lookup (step 1), so joining or leaving counts at once.
async fn directory_groups_decide_the_sspr_scope(t: &TestDb) {
    let slapd = Slapd::start();
    let s = services(t, &slapd);
    let (dn, id) = alice(&s, &slapd).await;
    let mut p = sspr_domain::policy::load(&s.db).await.unwrap();
    p.sspr_scope = sspr_domain::policy::SsprScope::Groups;
    p.sspr_groups = vec!["staff".into()];
    sspr_domain::policy::save(&s.db, &p, s.now()).await.unwrap();

    let (flow, code) = code_sent(&s).await;
    assert!(matches!(
        reset::verify(&s, &flow, &code, s.now()).await,
        Err(ResetError::NotEnabled)
    ));

    slapd.add_to_group(sspr_domain::testkit::slapd::STAFF_GROUP, &dn);
    passed_flow(&s).await; // step 1 reads the membership; the gate passes
    assert_eq!(
        sspr_domain::users::groups_of(s.db.pool(), id)
            .await
            .unwrap(),
        vec!["staff".to_owned()]
    );
    // The group is the directory's now: the portal shows it read-only, and
    // a local account cannot join it here (the sync owns its members).
    let groups = sspr_domain::store::groups::with_counts(s.db.pool(), 10)
        .await
        .unwrap();
    let staff = groups.iter().find(|g| g.name == "staff").unwrap();
    assert_eq!((staff.members, staff.directory_members), (1, 1));
    let local =
        sspr_domain::testkit::create_user(&s.db, &sspr_domain::testkit::dana(Role::User), s.now())
            .await;
    let by = sspr_domain::groups::Actor {
        user_id: local,
        ip: None,
    };
    assert!(matches!(
        sspr_domain::groups::set_member(&s.db, by, "staff", "dana", true, s.now()).await,
        Err(sspr_domain::groups::GroupError::FromDirectory)
    ));
    // A local group stays the admin's.
    sspr_domain::groups::create(&s.db, by, "lab", s.now())
        .await
        .unwrap();
    sspr_domain::groups::set_member(&s.db, by, "lab", "dana", true, s.now())
        .await
        .unwrap();
    let groups = sspr_domain::store::groups::with_counts(s.db.pool(), 10)
        .await
        .unwrap();
    let lab = groups.iter().find(|g| g.name == "lab").unwrap();
    assert_eq!((lab.members, lab.directory_members), (1, 0));
}

/// An admin lock in the directory (ppolicy's permanent lock) disables the
/// account here: no sign-in, no reset, and "unlock only" cannot lift it.
async fn disabled_in_the_directory_is_disabled_here(t: &TestDb) {
    let slapd = Slapd::start();
    let s = services(t, &slapd);
    let (dn, id) = alice(&s, &slapd).await;
    let flow = passed_flow(&s).await;
    slapd.modify(&format!(
        "dn: {dn}\nchangetype: modify\nreplace: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n"
    ));
    assert!(matches!(
        sign_in(&s, req("alice", OLD), s.now()).await,
        Err(SignInError::InvalidCredentials)
    ));
    let user = sspr_domain::users::find_by_id(s.db.pool(), id)
        .await
        .unwrap()
        .unwrap();
    assert!(!user.enabled, "mirrored as disabled");
    assert!(matches!(
        reset::unlock(&s, &flow, None, s.now()).await,
        Err(ResetError::AccountDisabled)
    ));
    assert_eq!(
        slapd.read(&dn, "pwdAccountLockedTime"),
        vec!["000001010000Z".to_owned()]
    );
}

/// slapd answers at most 500 entries to one plain search (its default
/// sizelimit), so 10 000 arrive only with paged results.
async fn a_sync_of_ten_thousand_entries_pages_and_disables_the_gone(t: &TestDb) {
    use sspr_domain::directory::sync;
    let slapd = Slapd::start_with(&sspr_domain::testkit::slapd::people_ldif(10_000));
    let s = services(t, &slapd);
    let first = sync::run(&s, s.now()).await.unwrap();
    assert_eq!(
        (first.seen, first.written, first.gone),
        (10_000, 10_000, 0),
        "{first:?}"
    );

    let people = sspr_domain::testkit::slapd::PEOPLE;
    slapd.modify(&format!("dn: uid=user00042,{people}\nchangetype: delete\n"));
    slapd.modify(&format!(
        "dn: uid=user00007,{people}\nchangetype: modify\nreplace: mail\nmail: seven@example.org\n"
    ));
    let later = s.now().plus_secs(3600);
    let second = sync::run(&s, later).await.unwrap();
    assert_eq!(
        (second.seen, second.written, second.unchanged, second.gone),
        (9_999, 1, 9_998, 1),
        "{second:?}"
    );
    let gone = sspr_domain::users::find_by_login(s.db.pool(), &Login::parse("user00042").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        !gone.enabled,
        "an entry gone from the directory cannot sign in or reset"
    );
    let moved = sspr_domain::users::find_by_login(s.db.pool(), &Login::parse("user00007").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.email.as_deref(), Some("seven@example.org"));
}

/// An instance that stops in the middle of writing the password (its task
/// is dropped while the directory hangs) leaves the flow reserved: another
/// submission is answered "try again later" (503), not written twice; once
/// the reservation is old it is taken over and the reset completes once.
async fn a_write_left_behind_by_a_stopped_instance_is_taken_over_later(t: &TestDb) {
    let slapd = Slapd::start();
    let config = Config {
        directory: slapd.config(),
        ..Config::default()
    };
    let (s, clock) = sspr_domain::testkit::services(t.db.clone(), config);
    let (dn, _) = alice(&s, &slapd).await;
    let flow = passed_flow(&s).await;
    slapd.pause();
    let stuck = {
        let (s, flow) = (s.clone(), flow.clone());
        tokio::spawn(async move {
            reset::set_password(&s, &flow, NEW_PASSWORD, NEW_PASSWORD, None, s.now()).await
        })
    };
    // Long enough for the reservation and the start of the write.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    stuck.abort();
    let _ = stuck.await;
    slapd.resume();
    match reset::set_password(&s, &flow, NEW_PASSWORD, NEW_PASSWORD, None, s.now()).await {
        Err(ResetError::Internal(e)) => assert!(e.is_transient(), "{e}"),
        other => panic!("a reserved flow: {other:?}"),
    }
    clock.advance(reset::WRITE_RESERVATION_SECS + 1);
    // Another password: the stopped instance's write may have landed, and
    // the directory's history would refuse the same one again.
    let second = "violet harbour under the evening tide";
    reset::set_password(&s, &flow, second, second, None, s.now())
        .await
        .unwrap();
    assert!(slapd.can_bind(&dn, second));
    let told = outbox::recent(s.db.pool(), &s.key, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| matches!(m.template, Template::PasswordChanged { .. }))
        .count();
    assert_eq!(told, 1, "the reset is committed once");
}

/// Instances sharing a database take turns: of ten racing for the periodic
/// sync, one runs it; nobody runs it again within the interval; after it,
/// another instance may (the first one may have stopped).
async fn the_periodic_sync_runs_on_one_instance_an_interval(t: &TestDb) {
    use sspr_domain::directory::sync;
    let slapd = Slapd::start_with(&sspr_domain::testkit::slapd::people_ldif(3));
    let s = std::sync::Arc::new(services(t, &slapd));
    let now = s.now();
    let racing: Vec<_> = (0..10)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                sync::run_if_due(&s, &format!("instance-{i}"), 3600, now)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut ran = Vec::new();
    for task in racing {
        if let Some(report) = task.await.unwrap() {
            ran.push(report);
        }
    }
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert_eq!(ran[0].seen, 3);
    assert!(
        sync::run_if_due(&s, "instance-late", 3600, now.plus_secs(3599))
            .await
            .unwrap()
            .is_none()
    );
    let next = sync::run_if_due(&s, "instance-late", 3600, now.plus_secs(3600))
        .await
        .unwrap()
        .expect("the interval is over");
    assert_eq!((next.seen, next.unchanged), (3, 3));
}
