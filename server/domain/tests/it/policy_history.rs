//! Every policy save is a version (issue 13): concurrent saves of one
//! version, and what a version records.

use sspr_domain::both_backends;
use sspr_domain::identity::Login;
use sspr_domain::policy::{self, Policy, PolicyError};
use sspr_domain::policy_history::{self, Editor};
use sspr_domain::testkit::{EPOCH, TestDb};
use sspr_domain::users::{self, NewUser, Role};

/// An admin account to save as.
async fn boss(t: &TestDb) -> Editor {
    let user = NewUser {
        role: Role::Admin,
        ..crate::storage::new_user("boss")
    };
    let id = users::create(&t.db, &Login::parse("boss").unwrap(), &user, &[], EPOCH)
        .await
        .unwrap();
    Editor::admin(id, "boss", None)
}

both_backends!(
    of_two_saves_based_on_one_version_exactly_one_lands,
    the_cli_and_the_portal_share_one_history,
);

async fn of_two_saves_based_on_one_version_exactly_one_lands(t: &TestDb) {
    let by = boss(t).await;
    for round in 0..5 {
        let (_, base) = policy_history::current(&t.db).await.unwrap();
        let a = Policy {
            reconfirm_days: 10 + round,
            ..Policy::default()
        };
        let b = Policy {
            reconfirm_days: 100 + round,
            ..Policy::default()
        };
        let (ra, rb) = tokio::join!(
            policy_history::save(&t.db, &a, &by, Some(base), EPOCH),
            policy_history::save(&t.db, &b, &by, Some(base), EPOCH),
        );
        let landed: Vec<&Policy> = [(&ra, &a), (&rb, &b)]
            .into_iter()
            .filter(|(r, _)| r.is_ok())
            .map(|(_, p)| p)
            .collect();
        assert_eq!(landed.len(), 1, "round {round}: {ra:?} {rb:?}");
        let lost = if ra.is_ok() { &rb } else { &ra };
        assert!(matches!(lost, Err(PolicyError::Conflict(_))), "{lost:?}");
        policy::load(&t.db).await.unwrap();
        let (in_force, latest) = policy_history::current(&t.db).await.unwrap();
        assert_eq!(&in_force, landed[0]);
        assert_eq!(latest, *ra.as_ref().or(rb.as_ref()).unwrap());
    }
    let (versions, _) = policy_history::history(&t.db, None, 100).await.unwrap();
    assert_eq!(versions.len(), 5);
}

async fn the_cli_and_the_portal_share_one_history(t: &TestDb) {
    let p = Policy {
        methods_required: 2,
        ..Policy::default()
    };
    let first = policy::save(&t.db, &p, EPOCH).await.unwrap();
    let invalid = Policy {
        reconfirm_days: 731,
        ..p.clone()
    };
    match policy::save(&t.db, &invalid, EPOCH).await {
        Err(PolicyError::Invalid { field, .. }) => assert_eq!(field, "reconfirm_days"),
        other => panic!("{other:?}"),
    }
    let by = boss(t).await;
    let second = policy_history::restore(&t.db, first, &by, None, EPOCH)
        .await
        .unwrap();
    let (versions, latest) = policy_history::history(&t.db, None, 10).await.unwrap();
    assert_eq!(latest, second);
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].saved_by, "sspr policy set");
    assert_eq!(versions[1].changes.len(), 1);
    assert_eq!(versions[1].changes[0].field, "methods_required");
    // Restoring what is in force changes nothing, and says so.
    assert!(versions[0].changes.is_empty());
    assert_eq!(versions[0].restored_from, Some(first));
    // Paging.
    let (older, _) = policy_history::history(&t.db, Some(second), 10)
        .await
        .unwrap();
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].id, first);
}
