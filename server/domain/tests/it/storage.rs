use sspr_domain::both_backends;
use sspr_domain::identity::Login;
use sspr_domain::testkit::{EPOCH, TestDb};
use sspr_domain::users::{self, CreateUserError, NewUser, Role};

pub fn new_user(login: &str) -> NewUser {
    NewUser {
        login_display: login.to_owned(),
        display_name: format!("{login} display"),
        email: Some(format!("{}@contoso.example", login.to_lowercase())),
        role: Role::User,
        password_hash: None,
        locale: None,
    }
}

both_backends!(
    migrations_are_idempotent,
    width_and_case_variants_find_one_account,
    a_failed_create_leaves_no_group_behind,
);

async fn migrations_are_idempotent(t: &TestDb) {
    t.db.migrate().await.unwrap();
    t.db.migrate().await.unwrap();
    assert_eq!(users::count(t.db.pool()).await.unwrap(), 0);
}

async fn width_and_case_variants_find_one_account(t: &TestDb) {
    let login = Login::parse("JDoe").unwrap();
    let id = users::create(&t.db, &login, &new_user("JDoe"), &[], EPOCH)
        .await
        .unwrap();
    let found = users::find_by_login(t.db.pool(), &Login::parse(" ｊｄｏｅ ").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, id);
    assert_eq!(found.login_display, "JDoe");
    assert_eq!(found.role, Role::User);
    assert!(found.enabled);
    let dup = users::create(
        &t.db,
        &Login::parse("jdoe").unwrap(),
        &new_user("jdoe"),
        &[],
        EPOCH,
    )
    .await;
    assert!(matches!(dup, Err(CreateUserError::Duplicate)));
    assert_eq!(users::count(t.db.pool()).await.unwrap(), 1);
}

async fn a_failed_create_leaves_no_group_behind(t: &TestDb) {
    let sales = Login::parse("Sales").unwrap();
    users::create(
        &t.db,
        &Login::parse("ann").unwrap(),
        &new_user("ann"),
        std::slice::from_ref(&sales),
        EPOCH,
    )
    .await
    .unwrap();
    let ghost = Login::parse("ghost").unwrap();
    let dup = users::create(
        &t.db,
        &Login::parse("ANN").unwrap(),
        &new_user("ANN"),
        std::slice::from_ref(&ghost),
        EPOCH,
    )
    .await;
    assert!(matches!(dup, Err(CreateUserError::Duplicate)));
    assert!(users::group_exists(t.db.pool(), &sales).await.unwrap());
    assert!(
        !users::group_exists(t.db.pool(), &ghost).await.unwrap(),
        "the rolled-back row created a group"
    );
    let ann = users::find_by_login(t.db.pool(), &Login::parse("ann").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        users::groups_of(t.db.pool(), ann.id).await.unwrap(),
        vec!["sales".to_owned()]
    );
}
