use sspr_domain::audit::{self, Kind};
use sspr_domain::both_backends;
use sspr_domain::identity::Login;
use sspr_domain::import::{ImportError, KEPT_REJECTIONS, import_csv, stored_report};
use sspr_domain::methods::{self, Kind as MethodKind};
use sspr_domain::testkit::{EPOCH, TestDb};
use sspr_domain::users;

const CSV: &str = "login,display_name,email,role,groups\n\
alice,Alice A,alice@contoso.example,user,sales;emea\n\
bob,,bob@contoso.example,user,\n\
carol,Carol C,not-an-email,user,\n\
dave,Dave D,dave@contoso.example,superuser,\n\
ALICE,Alice again,alice2@contoso.example,user,ghost\n\
erin,Erin E,,admin,it\n\
\"zw\u{200B}j\",Zero Width,,user,\n";

both_backends!(
    bad_rows_are_reported_by_line_and_good_rows_kept,
    a_file_without_the_required_columns_is_refused,
    imported_hashes_must_be_argon2id,
    a_passwordless_account_gets_its_email_as_first_method_and_the_report_is_kept,
);

async fn bad_rows_are_reported_by_line_and_good_rows_kept(t: &TestDb) {
    let report = import_csv(&t.db, None, CSV.as_bytes(), EPOCH)
        .await
        .unwrap();
    assert_eq!(report.created, 2, "{report:?}");
    let lines: Vec<u64> = report.rejected.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 8], "{report:?}");
    let codes: Vec<&str> = report.rejected.iter().map(|(_, r)| r.code()).collect();
    assert_eq!(
        codes,
        [
            "invalid_display_name",
            "invalid_email",
            "invalid_role",
            "duplicate",
            "invalid_login"
        ]
    );
    // The CLI's sentences stay.
    assert!(report.rejected[0].1.to_string().contains("display_name"));
    assert!(report.rejected[3].1.to_string().contains("already exists"));
    let erin = users::find_by_login(t.db.pool(), &Login::parse("erin").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(erin.role, users::Role::Admin);
    assert!(erin.password_hash.is_none());
    let alice = users::find_by_login(t.db.pool(), &Login::parse("alice").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        users::groups_of(t.db.pool(), alice.id).await.unwrap(),
        vec!["emea".to_owned(), "sales".to_owned()]
    );
    assert!(
        !users::group_exists(t.db.pool(), &Login::parse("ghost").unwrap())
            .await
            .unwrap()
    );
}

async fn a_file_without_the_required_columns_is_refused(t: &TestDb) {
    let r = import_csv(&t.db, None, "name,mail\nx,y\n".as_bytes(), EPOCH).await;
    assert!(matches!(r, Err(ImportError::MissingColumns)));
    assert_eq!(users::count(t.db.pool()).await.unwrap(), 0);
}

async fn imported_hashes_must_be_argon2id(t: &TestDb) {
    let csv = "login,display_name,password_hash\nfay,Fay,$2b$12$abcdefghijklmnopqrstuv\n";
    let report = import_csv(&t.db, None, csv.as_bytes(), EPOCH)
        .await
        .unwrap();
    assert_eq!(report.created, 0);
    assert_eq!(report.rejected[0].0, 2);
    assert_eq!(report.rejected[0].1.code(), "invalid_password_hash");
    assert!(report.rejected[0].1.to_string().contains("password_hash"));
}

async fn a_passwordless_account_gets_its_email_as_first_method_and_the_report_is_kept(t: &TestDb) {
    // 1 account without a password, 1 with one, then more bad rows than
    // the audit row keeps.
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY";
    let mut csv = format!(
        "login,display_name,email,password_hash\n\
         gil,Gil G,gil@contoso.example,\n\
         hal,Hal H,hal@contoso.example,{hash}\n"
    );
    for i in 0..KEPT_REJECTIONS + 5 {
        csv.push_str(&format!("bad{i},,x@contoso.example,\n"));
    }
    let report = import_csv(&t.db, None, csv.as_bytes(), EPOCH)
        .await
        .unwrap();
    assert_eq!(report.created, 2, "{:?}", &report.rejected[..1]);

    let find = |login: &'static str| async move {
        users::find_by_login(t.db.pool(), &Login::parse(login).unwrap())
            .await
            .unwrap()
            .unwrap()
    };
    let gil = find("gil").await;
    let gil_methods = methods::list(t.db.pool(), gil.id).await.unwrap();
    assert_eq!(gil_methods.len(), 1);
    assert_eq!(gil_methods[0].kind, MethodKind::Email);
    assert_eq!(gil_methods[0].destination, "gil@contoso.example");
    let hal = find("hal").await;
    assert!(methods::list(t.db.pool(), hal.id).await.unwrap().is_empty());

    let created = audit::recent(t.db.pool(), 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.event == Kind::AccountCreated.as_str())
        .count();
    assert_eq!(created, 2);

    let kept = stored_report(&t.db, report.audit_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.by, None);
    assert_eq!(kept.report.created, 2);
    assert_eq!(kept.report.rejected, KEPT_REJECTIONS + 5);
    assert_eq!(kept.report.rows.len(), KEPT_REJECTIONS);
    assert_eq!(
        kept.report.rows[0],
        (4, "invalid_display_name".to_owned(), None)
    );
    // Another row's id is not a report.
    assert!(
        stored_report(&t.db, report.audit_id - 1)
            .await
            .unwrap()
            .is_none()
    );
}
