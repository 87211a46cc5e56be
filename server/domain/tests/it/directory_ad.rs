//! sspr in front of a real Active Directory: the Samba AD domain controller
//! the test command starts (`.ci/ad-dc`), shared by these tests, each with
//! users of its own. The client's AD operations (`unicodePwd`, `objectGUID`,
//! `userAccountControl`, `lockoutTime`, the domain's refusals) and the whole
//! reset, change and unlock through sspr. docs/security.md #84.

use sspr_domain::auth::{SignInError, sign_in};
use sspr_domain::config::Config;
use sspr_domain::directory::{Bind, Directory, DirectoryConfig, DirectoryError, Refusal, accounts};
use sspr_domain::identity::Login;
use sspr_domain::methods::{self, NewMethod};
use sspr_domain::password_policy::Reason;
use sspr_domain::reset::{self, ResetError};
use sspr_domain::testkit::samba::{self, SambaDc};
use sspr_domain::testkit::{SignedInExt, TestDb, req};
use sspr_domain::users::Role;
use sspr_domain::{Services, both_backends};

use crate::directory_accounts::{change_journey, passed_flow_of};

/// Upper, lower, digits and symbols: the domain's complexity rule holds.
const OLD: &str = "Correct-Horse-Battery-9";
const NEW: &str = "Mauve-Tractor-Lighthouse-7";

fn client(dc: &SambaDc) -> Directory {
    Directory::new(&dc.config()).unwrap().unwrap()
}

/// A client without the lockout guard: it binds whatever the count, so it
/// sees the domain's own "locked" (`data 775`).
fn unguarded(dc: &SambaDc) -> Directory {
    Directory::new(&DirectoryConfig {
        lockout_threshold: 0,
        ..dc.config()
    })
    .unwrap()
    .unwrap()
}

#[tokio::test]
async fn an_ad_user_is_found_by_account_name_or_upn_and_signs_in_by_binding() {
    let dc = SambaDc::from_env();
    let name = SambaDc::unique("ann");
    let dn = dc.add_user(&name, OLD, "+15555550111");
    let d = client(&dc);
    let by_sam = d.find(&name).await.unwrap().expect("by sAMAccountName");
    let by_upn = d
        .find(&format!("{name}@example.test"))
        .await
        .unwrap()
        .expect("by userPrincipalName");
    assert_eq!(by_sam, by_upn);
    assert!(by_sam.dn.eq_ignore_ascii_case(&dn), "{}", by_sam.dn);
    assert_eq!(by_sam.login, name);
    assert_eq!(
        by_sam.email.as_deref(),
        Some(format!("{name}@example.test").as_str())
    );
    assert_eq!(by_sam.mobile.as_deref(), Some("+15555550111"));
    assert!(
        uuid::Uuid::parse_str(&by_sam.id).is_ok(),
        "objectGUID as AD tools print it: {}",
        by_sam.id
    );
    assert!(!by_sam.admin && !by_sam.disabled && !by_sam.locked);
    for attack in ["*", "*)(sAMAccountName=*", &format!("{name})(|(cn=*")] {
        assert_eq!(d.find(attack).await.unwrap(), None, "{attack}");
    }

    assert_eq!(d.check_password(&dn, OLD).await.unwrap(), Bind::Accepted);
    assert_eq!(
        d.check_password(&dn, "Wrong-Password-1").await.unwrap(),
        Bind::Rejected
    );
    assert_eq!(d.check_password(&dn, "").await.unwrap(), Bind::Rejected);
}

#[tokio::test]
async fn an_ad_reset_replaces_unicode_pwd_under_the_domain_policy() {
    let dc = SambaDc::from_env();
    let dn = dc.add_user(&SambaDc::unique("bea"), OLD, "+15555550112");
    let d = client(&dc);
    d.reset_password(&dn, NEW).await.unwrap();
    assert!(dc.can_bind(&dn, NEW), "the new password works elsewhere");
    assert!(!dc.can_bind(&dn, OLD), "the old one no longer does");

    let short = "Aa1-x";
    assert!(short.len() < samba::MIN_LENGTH);
    match d.reset_password(&dn, short).await {
        Err(DirectoryError::Refused(Refusal::TooShort)) => {}
        other => panic!("a too-short password: {other:?}"),
    }
    match d.reset_password(&dn, "onlylowercaseletters").await {
        Err(DirectoryError::Refused(Refusal::Quality)) => {}
        other => panic!("a password without complexity: {other:?}"),
    }
    // Non-ASCII goes through the UTF-16LE encoding intact.
    let unicode = "Pässwörd-密碼-1";
    d.reset_password(&dn, unicode).await.unwrap();
    assert!(dc.can_bind(&dn, unicode));
    assert!(
        !dc.can_bind(&dn, NEW),
        "refusals changed nothing until then"
    );
}

#[tokio::test]
async fn an_ad_change_is_made_as_the_user_with_the_current_password() {
    let dc = SambaDc::from_env();
    let dn = dc.add_user(&SambaDc::unique("cid"), OLD, "+15555550113");
    let d = client(&dc);
    assert!(matches!(
        d.change_password(&dn, "Not-My-Password-1", NEW).await,
        Err(DirectoryError::WrongPassword)
    ));
    match d.change_password(&dn, OLD, "nocomplexityhere").await {
        Err(DirectoryError::Refused(Refusal::Quality)) => {}
        other => panic!("{other:?}"),
    }
    d.change_password(&dn, OLD, NEW).await.unwrap();
    assert!(dc.can_bind(&dn, NEW));
    assert!(!dc.can_bind(&dn, OLD));
    // A user's own change keeps the domain's history.
    match d.change_password(&dn, NEW, OLD).await {
        Err(DirectoryError::Refused(Refusal::InHistory)) => {}
        other => panic!("back to a password in the history: {other:?}"),
    }
    assert!(dc.can_bind(&dn, NEW));
}

#[tokio::test]
async fn an_ad_lockout_is_seen_and_unlock_clears_it() {
    let dc = SambaDc::from_env();
    let name = SambaDc::unique("dee");
    let dn = dc.add_user(&name, OLD, "+15555550114");
    let d = unguarded(&dc);
    // Locked by guesses made through another application.
    for _ in 0..samba::LOCKOUT_THRESHOLD {
        assert!(!dc.can_bind(&dn, "Guess-Number-1"));
    }
    assert_eq!(
        d.check_password(&dn, OLD).await.unwrap(),
        Bind::Locked,
        "locked (data 775): the right password does not get in"
    );
    assert!(d.find(&name).await.unwrap().unwrap().locked, "lockoutTime");
    d.unlock(&dn).await.unwrap();
    assert!(!d.find(&name).await.unwrap().unwrap().locked);
    assert_eq!(d.check_password(&dn, OLD).await.unwrap(), Bind::Accepted);
    d.unlock(&dn).await.unwrap(); // not locked: nothing to do, no error
}

/// sspr reads `badPwdCount` and stops one failure short of the domain's
/// lockout threshold.
#[tokio::test]
async fn guessing_through_sspr_cannot_lock_the_ad_account() {
    let dc = SambaDc::from_env();
    let name = SambaDc::unique("kim");
    let dn = dc.add_user(&name, OLD, "+15555550116");
    let d = std::sync::Arc::new(client(&dc));
    let guesses: Vec<_> = (0..8)
        .map(|_| {
            let (d, dn) = (d.clone(), dn.clone());
            tokio::spawn(async move { d.check_password(&dn, "Guess-Number-1").await.unwrap() })
        })
        .collect();
    let mut answers = Vec::new();
    for g in guesses {
        answers.push(g.await.unwrap());
    }
    answers.sort_by_key(|b| *b != Bind::Rejected);
    let allowed = samba::LOCKOUT_THRESHOLD - 1;
    assert_eq!(
        answers,
        [
            vec![Bind::Rejected; allowed],
            vec![Bind::Locked; 8 - allowed]
        ]
        .concat(),
        "eight guesses at once: the binds stop one short"
    );
    assert!(!d.find(&name).await.unwrap().unwrap().locked, "lockoutTime");
    assert!(dc.can_bind(&dn, OLD), "the user signs in elsewhere");
    assert_eq!(d.check_password(&dn, OLD).await.unwrap(), Bind::Accepted);
}

#[tokio::test]
async fn ad_groups_flags_and_renames() {
    let dc = SambaDc::from_env();
    let name = SambaDc::unique("eve");
    let dn = dc.add_user(&name, OLD, "+15555550115");
    // The user is in a group that is in the admin group.
    let admins = dc.add_group(&SambaDc::unique("admins"));
    let team = dc.add_group(&SambaDc::unique("team"));
    dc.add_to_group(&team, &dn);
    dc.add_to_group(&admins, &team);
    let mut cfg = dc.config();
    cfg.admin_groups = vec![admins.to_lowercase()]; // as an admin might type it
    cfg.group_nesting_depth = 5;
    let d = Directory::new(&cfg).unwrap().unwrap();
    let before = d.find(&name).await.unwrap().unwrap();
    assert!(before.admin, "nested in an admin group: {before:?}");
    assert_eq!(before.groups.len(), 2);

    dc.set_account_control(&dn, 514);
    let disabled = d.find(&name).await.unwrap().unwrap();
    assert!(disabled.disabled, "userAccountControl ACCOUNTDISABLE");
    assert_eq!(d.check_password(&dn, OLD).await.unwrap(), Bind::Rejected);
    dc.set_account_control(&dn, 512);

    let renamed = SambaDc::unique("evelyn");
    dc.tools().modify(&format!(
        "dn: {dn}\nchangetype: modify\nreplace: sAMAccountName\nsAMAccountName: {renamed}\n\
         \ndn: {dn}\nchangetype: modrdn\nnewrdn: CN={renamed}\ndeleteoldrdn: 1\n"
    ));
    assert_eq!(d.find(&name).await.unwrap(), None);
    let after = d.find(&renamed).await.unwrap().unwrap();
    assert_eq!(after.id, before.id, "objectGUID survives the rename");
    assert_ne!(after.dn, before.dn);
}

both_backends!(
    a_reset_through_sspr_sets_the_domain_password_and_a_refusal_keeps_the_flow,
    a_change_through_sspr_is_made_as_the_ad_user,
    unlock_only_through_sspr_clears_the_ad_lockout,
);

fn services(t: &TestDb, dc: &SambaDc) -> Services {
    let config = Config {
        directory: dc.config(),
        ..Config::default()
    };
    sspr_domain::testkit::services(t.db.clone(), config).0
}

/// A new AD user with their directory mail registered as a reset method
/// (mirrored on that first lookup): the name, the mail, the DN and the row.
async fn ad_user(s: &Services, dc: &SambaDc, prefix: &str) -> (String, String, String, i64) {
    let name = SambaDc::unique(prefix);
    let dn = dc.add_user(&name, OLD, "+15555550120");
    let mail = format!("{name}@example.test");
    let login = Login::parse(&name).unwrap();
    let user = accounts::lookup(s, &login, s.now()).await.unwrap().unwrap();
    assert_eq!(user.role, Role::User);
    methods::upsert(s.db.pool(), user.id, &NewMethod::email(&mail), s.now())
        .await
        .unwrap();
    (name, mail, dn, user.id)
}

async fn a_reset_through_sspr_sets_the_domain_password_and_a_refusal_keeps_the_flow(t: &TestDb) {
    let dc = SambaDc::from_env();
    let s = services(t, &dc);
    let (name, mail, dn, id) = ad_user(&s, &dc, "fay").await;
    let flow = passed_flow_of(&s, &name, &mail).await;
    // sspr's rules accept a long passphrase; the domain wants complexity.
    let phrase = "mauve tractor under the lighthouse";
    match reset::set_password(&s, &flow, phrase, phrase, None, s.now()).await {
        Err(ResetError::Rejected(reasons, _)) => {
            assert_eq!(reasons, vec![Reason::DirectoryQuality]);
        }
        other => panic!("{other:?}"),
    }
    assert!(dc.can_bind(&dn, OLD), "a refusal changes nothing");
    reset::set_password(&s, &flow, NEW, NEW, None, s.now())
        .await
        .unwrap();
    assert!(dc.can_bind(&dn, NEW), "written to the domain");
    assert!(!dc.can_bind(&dn, OLD));
    assert!(matches!(
        reset::load(&s, &flow, s.now()).await,
        Err(ResetError::FlowExpired)
    ));
    let signed = sign_in(&s, req(&name, NEW), s.now())
        .await
        .unwrap()
        .signed_in();
    assert_eq!(signed.user_id, id);
    assert!(matches!(
        sign_in(&s, req(&name, OLD), s.now()).await,
        Err(SignInError::InvalidCredentials)
    ));
}

async fn a_change_through_sspr_is_made_as_the_ad_user(t: &TestDb) {
    let dc = SambaDc::from_env();
    let s = services(t, &dc);
    let (name, _, dn, _) = ad_user(&s, &dc, "gus").await;
    change_journey(&s, &name, OLD, NEW, |p| dc.can_bind(&dn, p)).await;
}

async fn unlock_only_through_sspr_clears_the_ad_lockout(t: &TestDb) {
    let dc = SambaDc::from_env();
    let s = services(t, &dc);
    let (name, mail, dn, _) = ad_user(&s, &dc, "hal").await;
    let elsewhere = unguarded(&dc);
    for _ in 0..samba::LOCKOUT_THRESHOLD {
        assert!(!dc.can_bind(&dn, "Guess-Number-1"));
    }
    assert_eq!(
        elsewhere.check_password(&dn, OLD).await.unwrap(),
        Bind::Locked
    );
    let flow = passed_flow_of(&s, &name, &mail).await;
    reset::unlock(&s, &flow, None, s.now()).await.unwrap();
    assert_eq!(
        elsewhere.check_password(&dn, OLD).await.unwrap(),
        Bind::Accepted,
        "lockoutTime cleared; the password unchanged"
    );
}
