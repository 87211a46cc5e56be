//! The directory client against a real OpenLDAP `slapd` (ppolicy, memberof,
//! TLS from a private CA): lookups, binds, resets and changes under the
//! directory's own policy, lockouts, outages. docs/security.md #84.

use sspr_domain::directory::{Bind, Directory, DirectoryConfig, DirectoryError, Refusal};
use sspr_domain::testkit::slapd::{self, Slapd};

const OLD: &str = "correct horse battery staple";
const NEW: &str = "mauve tractor under the lighthouse";

fn client(s: &Slapd) -> Directory {
    Directory::new(&s.config()).unwrap().unwrap()
}

#[tokio::test]
async fn a_user_is_found_by_any_login_attribute_and_signs_in_by_binding() {
    let s = Slapd::start();
    let dn = s.add_user("alice", OLD, "alice@example.org", "+15555550101");
    let d = client(&s);
    let by_uid = d.find("alice").await.unwrap().expect("found by uid");
    let by_mail = d.find("alice@example.org").await.unwrap().expect("by mail");
    assert_eq!(by_uid, by_mail);
    assert_eq!(by_uid.dn, dn);
    assert_eq!(by_uid.login, "alice");
    assert_eq!(by_uid.email.as_deref(), Some("alice@example.org"));
    assert_eq!(by_uid.mobile.as_deref(), Some("+15555550101"));
    assert_eq!(by_uid.preferred_language.as_deref(), Some("en"));
    assert!(uuid::Uuid::parse_str(&by_uid.id).is_ok(), "{}", by_uid.id);
    assert!(!by_uid.admin && !by_uid.disabled && !by_uid.locked);
    assert_eq!(d.find("nobody").await.unwrap(), None);

    assert_eq!(d.check_password(&dn, OLD).await.unwrap(), Bind::Accepted);
    assert_eq!(
        d.check_password(&dn, "wrong").await.unwrap(),
        Bind::Rejected
    );
    // An empty password would be an anonymous bind that "succeeds".
    assert_eq!(d.check_password(&dn, "").await.unwrap(), Bind::Rejected);
}

/// RFC 4515: the login is a value, never filter syntax.
#[tokio::test]
async fn filter_injection_finds_nobody() {
    let s = Slapd::start();
    s.add_user("alice", OLD, "alice@example.org", "+15555550101");
    s.add_user("bob", OLD, "bob@example.org", "+15555550102");
    let d = client(&s);
    for attack in [
        "*",
        "*)(uid=*",
        "alice)(|(uid=*",
        "a*",
        "*)(objectClass=*))(&(uid=x",
        "\\2a",
    ] {
        assert_eq!(d.find(attack).await.unwrap(), None, "{attack}");
    }
    assert!(d.find("alice").await.unwrap().is_some());
}

#[tokio::test]
async fn a_reset_writes_the_password_and_the_directory_policy_still_applies() {
    let s = Slapd::start();
    let dn = s.add_user("carol", OLD, "carol@example.org", "+15555550103");
    let d = client(&s);
    d.reset_password(&dn, NEW).await.unwrap();
    assert!(s.can_bind(&dn, NEW), "the new password works elsewhere");
    assert!(!s.can_bind(&dn, OLD), "the old one no longer does");

    // The service account holds no right that skips ppolicy.
    let short = "x".repeat(slapd::PPOLICY_MIN_LENGTH - 1);
    match d.reset_password(&dn, &short).await {
        Err(DirectoryError::Refused(Refusal::TooShort)) => {}
        other => panic!("a too-short password: {other:?}"),
    }
    match d.reset_password(&dn, OLD).await {
        Err(DirectoryError::Refused(Refusal::InHistory)) => {}
        other => panic!("a password in the history: {other:?}"),
    }
    assert!(s.can_bind(&dn, NEW), "a refusal changed nothing");
}

#[tokio::test]
async fn a_change_as_the_user_needs_the_current_password() {
    let s = Slapd::start();
    let dn = s.add_user("dave", OLD, "dave@example.org", "+15555550104");
    let d = client(&s);
    assert!(matches!(
        d.change_password(&dn, "not my password", NEW).await,
        Err(DirectoryError::WrongPassword)
    ));
    match d.change_password(&dn, OLD, "short").await {
        Err(DirectoryError::Refused(Refusal::TooShort)) => {}
        other => panic!("{other:?}"),
    }
    d.change_password(&dn, OLD, NEW).await.unwrap();
    assert!(s.can_bind(&dn, NEW));
    assert!(!s.can_bind(&dn, OLD));
}

#[tokio::test]
async fn unlock_clears_the_directory_lockout() {
    let s = Slapd::start();
    let dn = s.add_user("erin", OLD, "erin@example.org", "+15555550105");
    // This client binds whatever the count (no lockout guard), so the
    // directory's own "locked" answer is what it sees.
    let d = Directory::new(&DirectoryConfig {
        lockout_threshold: 0,
        ..s.config()
    })
    .unwrap()
    .unwrap();
    // Locked by guesses made through another application.
    for _ in 0..5 {
        assert!(!s.can_bind(&dn, "wrong"));
    }
    assert!(d.find("erin").await.unwrap().unwrap().locked);
    assert_eq!(
        d.check_password(&dn, OLD).await.unwrap(),
        Bind::Locked,
        "locked: the right password is not even checked"
    );
    d.unlock(&dn).await.unwrap();
    assert!(!d.find("erin").await.unwrap().unwrap().locked);
    assert_eq!(d.check_password(&dn, OLD).await.unwrap(), Bind::Accepted);
    d.unlock(&dn).await.unwrap(); // not locked: nothing to do, no error
}

#[tokio::test]
async fn admins_come_from_the_admin_groups_and_a_rename_keeps_the_id() {
    let s = Slapd::start();
    let dn = s.add_user("frank", OLD, "frank@example.org", "+15555550106");
    s.add_to_group(slapd::ADMINS_GROUP, &dn);
    let d = client(&s);
    let before = d.find("frank").await.unwrap().unwrap();
    assert!(before.admin, "{before:?}");
    s.modify(&format!(
        "dn: {dn}\nchangetype: modrdn\nnewrdn: uid=francis\ndeleteoldrdn: 1\n"
    ));
    assert_eq!(d.find("frank").await.unwrap(), None);
    let after = d.find("francis").await.unwrap().unwrap();
    assert_eq!(after.id, before.id, "entryUUID survives the rename");
    assert_ne!(after.dn, before.dn);
}

#[tokio::test]
async fn the_directory_down_is_unavailable_never_a_wrong_password() {
    let mut s = Slapd::start();
    let dn = s.add_user("gina", OLD, "gina@example.org", "+15555550107");
    let d = client(&s);
    assert!(d.find("gina").await.unwrap().is_some(), "fills the pool");
    s.stop();
    assert!(matches!(
        d.find("gina").await,
        Err(DirectoryError::Unavailable(_))
    ));
    assert!(matches!(
        d.check_password(&dn, OLD).await,
        Err(DirectoryError::Unavailable(_))
    ));
    assert!(matches!(
        d.reset_password(&dn, NEW).await,
        Err(DirectoryError::Unavailable(_))
    ));
    s.restart();
    assert!(
        s.can_bind(&dn, OLD),
        "nothing was written while it was down"
    );
    d.reset_password(&dn, NEW).await.unwrap();
    assert!(s.can_bind(&dn, NEW));
    d.ping().await.unwrap();
}

#[tokio::test]
async fn tls_is_verified_and_starttls_works() {
    let s = Slapd::start();
    let dn = s.add_user("hugo", OLD, "hugo@example.org", "+15555550108");
    let mut cfg = s.config();
    cfg.urls = vec![s.ldap_url()]; // ldap:// means StartTLS
    let d = Directory::new(&cfg).unwrap().unwrap();
    assert_eq!(d.check_password(&dn, OLD).await.unwrap(), Bind::Accepted);

    // Without the private CA the certificate is not trusted: no bind at all.
    let mut untrusted = s.config();
    untrusted.ca_file = None;
    let d = Directory::new(&untrusted).unwrap().unwrap();
    assert!(matches!(
        d.check_password(&dn, OLD).await,
        Err(DirectoryError::Unavailable(_))
    ));

    // The service account's password wrong: a setup error, not "no user".
    let mut wrong = s.config();
    wrong.bind_password.0 = "not it".into();
    let d = Directory::new(&wrong).unwrap().unwrap();
    assert!(matches!(
        d.find("hugo").await,
        Err(DirectoryError::Setup(_))
    ));
}

/// Groups in groups count, up to the configured depth; a cycle ends.
#[tokio::test]
async fn nested_groups_count_up_to_the_depth() {
    let s = Slapd::start();
    let dn = s.add_user("ivy", OLD, "ivy@example.org", "+15555550109");
    let ops = s.add_group("it-ops", &dn);
    s.add_to_group(slapd::STAFF_GROUP, &ops);
    s.add_to_group(slapd::ADMINS_GROUP, slapd::STAFF_GROUP);
    let names = |e: &sspr_domain::directory::Entry| -> Vec<String> {
        e.group_names()
            .iter()
            .map(|l| l.as_str().to_owned())
            .collect()
    };

    let nested = |depth: u32| {
        Directory::new(&DirectoryConfig {
            group_nesting_depth: depth,
            ..s.config()
        })
        .unwrap()
        .unwrap()
    };
    let ivy = nested(5).find("ivy").await.unwrap().unwrap();
    assert!(ivy.admin, "admins ⊃ staff ⊃ it-ops ∋ ivy");
    assert_eq!(names(&ivy), ["admins", "it-ops", "staff"]);

    let ivy = nested(1).find("ivy").await.unwrap().unwrap();
    assert!(!ivy.admin, "two levels up: beyond a depth of 1");
    assert_eq!(names(&ivy), ["it-ops", "staff"]);

    // admins ∈ it-ops closes a cycle: each group once, and the lookup ends.
    s.add_to_group(&ops, slapd::ADMINS_GROUP);
    let ivy = nested(5).find("ivy").await.unwrap().unwrap();
    assert_eq!(names(&ivy), ["admins", "it-ops", "staff"]);
    assert_eq!(ivy.groups.len(), 3);

    let direct = client(&s).find("ivy").await.unwrap().unwrap();
    assert_eq!(names(&direct), ["it-ops"], "depth 0, the default");
}

/// sspr's binds stop one failure short of the directory's lockout: ten
/// wrong guesses at once through sspr leave the account unlocked for
/// everyone (checks of one DN take turns, so they cannot all read the same
/// count).
#[tokio::test]
async fn guessing_through_sspr_cannot_lock_the_directory_account() {
    let s = Slapd::start();
    let dn = s.add_user("jay", OLD, "jay@example.org", "+15555550110");
    let d = std::sync::Arc::new(client(&s));
    let guesses: Vec<_> = (0..10)
        .map(|_| {
            let (d, dn) = (d.clone(), dn.clone());
            tokio::spawn(async move { d.check_password(&dn, "wrong guess").await.unwrap() })
        })
        .collect();
    let mut rejected = 0;
    for g in guesses {
        match g.await.unwrap() {
            Bind::Rejected => rejected += 1,
            Bind::Locked => {}
            Bind::Accepted => panic!("a wrong guess accepted"),
        }
    }
    assert_eq!(rejected, slapd::PPOLICY_MAX_FAILURE - 1, "binds made");
    assert!(
        s.read(&dn, "pwdAccountLockedTime").is_empty(),
        "not locked in the directory"
    );
    assert!(s.can_bind(&dn, OLD), "the user signs in elsewhere");
    // That success cleared the directory's count: sspr binds again.
    assert_eq!(d.check_password(&dn, OLD).await.unwrap(), Bind::Accepted);
}
