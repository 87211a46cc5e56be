//! The admin portal over HTTP (issue 13): who may call its functions, the
//! settings' save path (fresh proof, versions, conflicts, field errors,
//! restore), the settings' effect on the reset wizard, the shorter admin
//! idle timeout, and the audit log with its CSV export.

use http::{Request, StatusCode, header};
use sspr_domain::audit::{self, Filter, Kind};
use sspr_domain::identity::Login;
use sspr_domain::policy::{self, SsprScope};
use sspr_domain::testkit::TestDb;
use sspr_domain::users::Role;
use sspr_domain::{Clock, both_backends, policy_history, store};

use crate::harness::{ORIGIN, Reply, TestApp, enc, form};
use crate::reset::{add_registered_user, email_code};

both_backends!(
    every_admin_function_answers_only_an_admin,
    saving_needs_a_fresh_proof_and_makes_an_audited_version,
    a_form_loaded_before_another_save_is_refused,
    a_refused_value_names_its_field,
    restoring_brings_a_version_back_as_a_new_one,
    selected_groups_refuse_a_non_member_only_after_the_first_gate,
    admin_sessions_idle_out_sooner_than_users,
    groups_are_managed_with_audit_and_refusals,
    the_audit_log_filters_pages_and_exports_csv,
    a_non_admin_posting_the_form_without_javascript_is_sent_to_sign_in,
    users_are_listed_searched_and_acted_on,
    the_impact_preview_lists_who_loses_reset_and_exports_csv,
    groups_are_renamed_and_deleted_unless_the_settings_name_them,
    the_users_csv_lists_every_match,
    a_directory_group_is_shown_read_only,
    a_refused_form_without_javascript_keeps_what_was_typed,
);

/// The settings form as the page posts it: the defaults, `version`, and
/// `changes` over them.
fn policy_form(version: i64, changes: &[(&str, &str)]) -> String {
    let mut fields: Vec<(String, String)> = vec![
        ("sspr_scope", "all"),
        ("sspr_groups", ""),
        ("methods_required", "1"),
        ("allow_email", "on"),
        ("allow_phone_sms", "on"),
        ("allow_phone_voice", "on"),
        ("allow_authenticator", "on"),
        ("questions_to_register", "3"),
        ("require_registration", "on"),
        ("max_registration_skips", "3"),
        ("reconfirm_days", "180"),
        ("notify_users_on_reset", "on"),
        ("notify_admins_on_admin_reset", "on"),
        ("helpdesk_contact", ""),
        ("password_min_length", "8"),
        ("single_factor_password_min_length", "15"),
        ("banned_words", ""),
        ("phone_regions", "US\nIL\nJP\nTW"),
        ("default_phone_region", "US"),
        ("max_sends_per_destination_per_hour", "5"),
        ("max_sends_per_account_per_hour", "10"),
        ("allow_unlock", "on"),
        ("sign_in_second_factor", "admins"),
        ("email_code_length", "8"),
        ("phone_code_length", "6"),
        ("code_ttl_secs", "600"),
        ("max_code_attempts", "5"),
        ("resend_cooldown_secs", "60"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in changes {
        fields.retain(|(f, _)| f != k);
        // An unticked checkbox is absent from the post.
        if !v.is_empty() || !k.starts_with("allow_") {
            fields.push(((*k).to_owned(), (*v).to_owned()));
        }
    }
    let mut body = format!("version={version}");
    for (k, v) in fields {
        body.push_str(&format!("&{k}={}", enc(&v)));
    }
    body
}

fn code_of(r: &Reply) -> String {
    serde_json::from_str::<serde_json::Value>(&r.body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Every server function under `/api/admin_` (the prefix the `admin_only`
/// layer guards) answers `admin_only` without a session and with a user's,
/// and lets an admin's through. Listed from the registry, so a function
/// added later is tried too.
async fn every_admin_function_answers_only_an_admin(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let user = format!(
        "sspr_session={}",
        app.sign_in("dana").await.session().unwrap()
    );
    let admin = app.admin_session("boss").await;
    let mut paths: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .filter(|p| p.starts_with("/api/admin_"))
        .collect();
    paths.sort_unstable();
    paths.dedup();
    for expected in [
        "/api/admin_add_member",
        "/api/admin_create_group",
        "/api/admin_group_members",
        "/api/admin_groups",
        "/api/admin_remove_member",
        "/api/admin_audit",
        "/api/admin_policy",
        "/api/admin_policy_history",
        "/api/admin_restore_policy",
        "/api/admin_save_policy",
        "/api/admin_preview_policy",
        "/api/admin_users",
        "/api/admin_user",
        "/api/admin_user_action",
        "/api/admin_rename_group",
        "/api/admin_delete_group",
        "/api/admin_add_users",
        "/api/admin_create_user",
    ] {
        assert!(paths.contains(&expected), "{expected} in {paths:?}");
    }
    for path in &paths {
        for cookie in [None, Some(user.as_str())] {
            let r = app.post_js(path, "", cookie).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} {cookie:?}");
            assert_eq!(code_of(&r), "admin_only", "{path} {cookie:?}");
        }
        let r = app.post_js(path, "", Some(&admin)).await;
        assert_ne!(code_of(&r), "admin_only", "{path}: {}", r.body);
        assert!(
            !matches!(r.status.as_u16(), 401 | 403) && !r.status.is_server_error(),
            "{path}: {} {}",
            r.status,
            r.body
        );
    }
    // The download too.
    for cookie in [None, Some(user.as_str())] {
        let r = app.get("/admin/audit.csv", cookie).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{cookie:?}");
    }
    assert_eq!(
        app.get("/admin/audit.csv", Some(&admin)).await.status,
        StatusCode::OK
    );
}

async fn saving_needs_a_fresh_proof_and_makes_an_audited_version(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    let body = policy_form(
        0,
        &[("sspr_scope", "groups"), ("sspr_groups", "staff\nfaculty")],
    );
    let r = app
        .post_js("/api/admin_save_policy", &body, Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = policy::load(&app.services.db).await.unwrap();
    assert_eq!(p.sspr_scope, SsprScope::Groups);
    assert_eq!(p.sspr_groups, ["staff", "faculty"]);
    let (versions, latest) = policy_history::history(&app.services.db, None, 10)
        .await
        .unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].id, latest);
    assert_eq!(versions[0].saved_by, "boss");
    let fields: Vec<&str> = versions[0]
        .changes
        .iter()
        .map(|c| c.field.as_str())
        .collect();
    assert_eq!(fields, ["sspr_groups", "sspr_scope"]);
    let rows = audit::search(
        app.services.db.pool(),
        &Filter {
            event: Some(Kind::PolicyChanged),
            ..Filter::default()
        },
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].actor.as_deref(), Some("boss"));
    let detail = rows[0].detail.as_deref().unwrap_or_default();
    assert!(
        detail.contains("sspr_scope") && !detail.contains("faculty"),
        "{detail}"
    );

    // Eleven minutes later the session lives (admins idle out after 15),
    // but a change needs the password again.
    app.clock.advance(11 * 60);
    let body = policy_form(latest, &[("sspr_scope", "none")]);
    let r = app
        .post_js("/api/admin_save_policy", &body, Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(code_of(&r), "reauthentication_required");
    let r = app.post_js("/api/admin_policy", "", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK, "reading needs no fresh proof");
    assert!(r.body.contains(r#""fresh_proof":false"#), "{}", r.body);
    assert_eq!(
        policy::load(&app.services.db).await.unwrap().sspr_scope,
        SsprScope::Groups
    );
}

async fn a_form_loaded_before_another_save_is_refused(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    let first = policy_form(0, &[("reconfirm_days", "90")]);
    let r = app
        .post_js("/api/admin_save_policy", &first, Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A second tab still holds version 0.
    let stale = policy_form(0, &[("reconfirm_days", "30")]);
    let r = app
        .post_js("/api/admin_save_policy", &stale, Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(code_of(&r), "settings_changed");
    assert_eq!(
        policy::load(&app.services.db).await.unwrap().reconfirm_days,
        90
    );
}

async fn a_refused_value_names_its_field(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    for (changes, field) in [
        (vec![("reconfirm_days", "731")], "reconfirm_days"),
        (vec![("reconfirm_days", "soon")], "reconfirm_days"),
        (
            vec![
                ("methods_required", "2"),
                ("allow_phone_sms", ""),
                ("allow_phone_voice", ""),
                ("allow_authenticator", ""),
            ],
            "allowed_methods",
        ),
        (vec![("methods_required", "3")], "methods_required"),
        (
            vec![
                ("allow_email", ""),
                ("allow_phone_sms", ""),
                ("allow_phone_voice", ""),
                ("allow_authenticator", ""),
                ("allow_questions", "on"),
            ],
            "allowed_methods",
        ),
        (vec![("sspr_scope", "groups")], "sspr_groups"),
        (vec![("sspr_scope", "some")], "sspr_scope"),
        (vec![("default_phone_region", "FR")], "default_phone_region"),
        (
            vec![("helpdesk_contact", "javascript:alert(1)")],
            "helpdesk_contact",
        ),
    ] {
        let r = app
            .post_js(
                "/api/admin_save_policy",
                &policy_form(0, &changes),
                Some(&admin),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{changes:?}: {}",
            r.body
        );
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["code"], "invalid_setting", "{changes:?}");
        assert_eq!(v["field"], field, "{changes:?}");
        assert!(!v["label"].as_str().unwrap_or_default().is_empty());
    }
    // In Hebrew, the label is Hebrew.
    let r = app
        .post_js(
            "/api/admin_save_policy",
            &policy_form(0, &[("reconfirm_days", "731")]),
            Some(&format!("{admin}; i18n_pref_locale=he-IL")),
        )
        .await;
    assert!(r.body.contains("ימים"), "{}", r.body);
    let (versions, _) = policy_history::history(&app.services.db, None, 10)
        .await
        .unwrap();
    assert!(versions.is_empty(), "nothing was saved");
}

async fn restoring_brings_a_version_back_as_a_new_one(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    let r = app
        .post_js(
            "/api/admin_save_policy",
            &policy_form(0, &[("sspr_scope", "all"), ("reconfirm_days", "90")]),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (_, first) = policy_history::history(&app.services.db, None, 1)
        .await
        .unwrap();
    // The CLI saves through the same path.
    let mut p = policy::load(&app.services.db).await.unwrap();
    p.sspr_scope = SsprScope::None;
    let second = policy::save(&app.services.db, &p, app.clock.now())
        .await
        .unwrap();
    let r = app
        .post_js(
            "/api/admin_restore_policy",
            &format!("version={first}&based_on={second}"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = policy::load(&app.services.db).await.unwrap();
    assert_eq!((p.sspr_scope, p.reconfirm_days), (SsprScope::All, 90));
    let (versions, latest) = policy_history::history(&app.services.db, None, 10)
        .await
        .unwrap();
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[0].id, latest);
    assert_eq!(versions[0].restored_from, Some(first));
    assert_eq!(versions[1].saved_by, "sspr policy set");
    let fields: Vec<&str> = versions[0]
        .changes
        .iter()
        .map(|c| c.field.as_str())
        .collect();
    assert_eq!(fields, ["sspr_scope"]);
    // A version that does not exist.
    let r = app
        .post_js(
            "/api/admin_restore_policy",
            &format!("version=999&based_on={latest}"),
            Some(&admin),
        )
        .await;
    assert_eq!(code_of(&r), "not_found", "{}", r.body);
    // The history page renders it for the admin.
    let page = app.get("/admin/password-reset/history", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!("data-version=\"{latest}\"")),
        "{}",
        page.body
    );
}

/// Issue 13's path at the HTTP level: the admin saves "Selected" with a
/// group; a user outside it passes the first gate and only then is told;
/// added to the group, the same user can go on.
async fn selected_groups_refuse_a_non_member_only_after_the_first_gate(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    let dana = add_registered_user(&app, "dana").await;
    let r = app
        .post_js(
            "/api/admin_save_policy",
            &policy_form(0, &[("sspr_scope", "groups"), ("sspr_groups", "Staff")]),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let refused = through_the_first_gate(&app, "dana").await;
    assert_eq!(code_of(&refused), "reset_not_enabled", "{}", refused.body);

    // The admin creates the group and adds dana, in the portal.
    let r = app
        .post_js("/api/admin_create_group", "name=Staff", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post_js(
            "/api/admin_add_member",
            "group=staff&login=DANA",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let staff = Login::parse("staff").unwrap();
    let members = store::groups::members(app.services.db.pool(), &staff, 10)
        .await
        .unwrap();
    assert_eq!(
        members.iter().map(|m| m.user_id).collect::<Vec<_>>(),
        [dana]
    );
    app.clock.advance(120);
    let allowed = through_the_first_gate(&app, "dana").await;
    assert_eq!(
        allowed.header("location"),
        Some("/reset/password"),
        "{}",
        allowed.body
    );
}

async fn groups_are_managed_with_audit_and_refusals(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    app.add_user("dana", Role::User).await;
    let post = |path: &'static str, body: &'static str| app.post_js(path, body, Some(&admin));
    assert_eq!(
        post("/api/admin_create_group", "name=staff").await.status,
        StatusCode::OK
    );
    assert_eq!(
        post("/api/admin_add_member", "group=staff&login=dana")
            .await
            .status,
        StatusCode::OK
    );
    let r = post("/api/admin_add_member", "group=staff&login=nobody").await;
    assert_eq!(code_of(&r), "no_such_account", "{}", r.body);
    let r = post("/api/admin_add_member", "group=nogroup&login=dana").await;
    assert_eq!(code_of(&r), "not_found", "{}", r.body);
    let r = post("/api/admin_groups", "").await;
    let groups: sspr_proto::admin::GroupsView = serde_json::from_str(&r.body).unwrap();
    assert_eq!(groups.groups.len(), 1);
    assert_eq!(
        (groups.groups[0].name.as_str(), groups.groups[0].members),
        ("staff", 1)
    );
    let page = app
        .get("/admin/groups/members?group=staff", Some(&admin))
        .await;
    assert!(page.body.contains("data-member=\"dana\""), "{}", page.body);
    assert_eq!(
        post("/api/admin_remove_member", "group=staff&login=dana")
            .await
            .status,
        StatusCode::OK
    );
    let kinds: Vec<String> = audit::search(app.services.db.pool(), &Filter::default(), None, 20)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .filter(|e| e.starts_with("group_"))
        .collect();
    assert_eq!(
        kinds,
        [
            "group_member_removed",
            "group_member_added",
            "group_created"
        ]
    );
    // Changes need a fresh proof.
    app.clock.advance(11 * 60);
    let r = post("/api/admin_add_member", "group=staff&login=dana").await;
    assert_eq!(code_of(&r), "reauthentication_required", "{}", r.body);
}

/// A reset by `login` through the email gate; the answer to the code.
async fn through_the_first_gate(app: &TestApp, login: &str) -> Reply {
    let (cookies, code) = email_code(app, login).await;
    app.post_js("/api/reset_verify", &format!("code={code}"), Some(&cookies))
        .await
}

async fn admin_sessions_idle_out_sooner_than_users(t: &TestDb) {
    let app = TestApp::new(t).await;
    app.add_user("dana", Role::User).await;
    let user = format!(
        "sspr_session={}",
        app.sign_in("dana").await.session().unwrap()
    );
    let admin = app.admin_session("boss").await;
    app.clock.advance(16 * 60);
    let r = app.post_js("/api/admin_policy", "", Some(&admin)).await;
    assert_eq!(code_of(&r), "admin_only", "{}", r.body);
    let r = app.post_js("/api/current_account", "", Some(&admin)).await;
    assert_eq!(r.body, "null", "the admin's session is gone");
    let r = app.post_js("/api/current_account", "", Some(&user)).await;
    assert!(r.body.contains("\"login\":\"dana\""), "{}", r.body);
}

async fn the_audit_log_filters_pages_and_exports_csv(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    app.add_user("dana", Role::User).await;
    // 60 failed sign-ins by a typed ID that reads as a formula, and some of dana's.
    for i in 0..3 {
        app.post_js("/api/sign_in", &form("dana", &format!("wrong {i}")), None)
            .await;
    }
    for i in 0..60 {
        // Within the per-address hashing budget (60 a minute).
        if i == 30 {
            app.clock.advance(61);
        }
        app.post_js("/api/sign_in", &form("=cmd", &format!("x{i}")), None)
            .await;
    }
    let r = app
        .post_js(
            "/api/admin_audit",
            "user=DANA&outcome=failure",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let page: sspr_proto::admin::AuditPageView = serde_json::from_str(&r.body).unwrap();
    assert_eq!(page.entries.len(), 3);
    assert!(
        page.entries
            .iter()
            .all(|e| e.subject.as_deref() == Some("dana"))
    );
    assert_eq!(page.next_before, None);
    // An ID that names no account is recorded as its keyed hash; the
    // filter finds it by the ID typed.
    let r = app
        .post_js("/api/admin_audit", "user=%3Dcmd", Some(&admin))
        .await;
    let typed: sspr_proto::admin::AuditPageView = serde_json::from_str(&r.body).unwrap();
    assert_eq!(typed.entries.len(), 50, "{}", r.body);
    assert!(typed.next_before.is_some());
    assert!(typed.entries.iter().all(|e| {
        e.subject
            .as_deref()
            .is_some_and(|s| s.starts_with("unknown:"))
    }));
    // Paging: 50, then the rest, no row twice.
    let r = app
        .post_js("/api/admin_audit", "event=sign_in", Some(&admin))
        .await;
    let first: sspr_proto::admin::AuditPageView = serde_json::from_str(&r.body).unwrap();
    assert_eq!(first.entries.len(), 50);
    let before = first.next_before.unwrap();
    let r = app
        .post_js(
            "/api/admin_audit",
            &format!("event=sign_in&before={before}"),
            Some(&admin),
        )
        .await;
    let second: sspr_proto::admin::AuditPageView = serde_json::from_str(&r.body).unwrap();
    let all = first.entries.len() + second.entries.len();
    assert!(all >= 64, "{all}: 63 failures and the admin's sign-in");
    assert!(second.entries.iter().all(|e| e.id < before));
    // Bad filters are refused, not ignored.
    for bad in ["event=no_such", "from=yesterday", "outcome=maybe"] {
        let r = app.post_js("/api/admin_audit", bad, Some(&admin)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // The export: every matching row, formulas defused, the export audited.
    let req = Request::get("/admin/audit.csv?event=sign_in&outcome=failure")
        .header(header::COOKIE, &admin)
        .header(header::ORIGIN, ORIGIN)
        .body(axum::body::Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let lines: Vec<&str> = r.body.lines().collect();
    assert_eq!(
        lines[0],
        "id,time_utc,event,outcome,actor,subject,client_address,detail"
    );
    assert_eq!(lines.len(), 1 + 63, "{}", r.body);
    assert!(
        lines.iter().all(|l| !l.contains(",=")),
        "no cell starts with '='"
    );
    let exported = audit::search(
        app.services.db.pool(),
        &Filter {
            event: Some(Kind::AuditExported),
            ..Filter::default()
        },
        None,
        5,
    )
    .await
    .unwrap();
    assert_eq!(exported.len(), 1);
    // The page renders the rows for the admin, with a caption.
    let page = app.get("/admin/audit?user=dana", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<caption>"), "{}", page.body);
    assert_eq!(page.body.matches("data-event=\"sign_in\"").count(), 3);
}

async fn a_non_admin_posting_the_form_without_javascript_is_sent_to_sign_in(t: &TestDb) {
    let app = TestApp::new(t).await;
    let r = app
        .post_html(
            "/api/admin_save_policy",
            &policy_form(0, &[("sspr_scope", "none")]),
            "/admin/password-reset",
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location"), Some("/sign-in?next=%2Fadmin"));
    assert_eq!(
        policy::load(&app.services.db).await.unwrap().sspr_scope,
        SsprScope::All
    );
    // And the admin page itself says what it is for.
    let page = app.get("/admin/password-reset", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("data-code=\"admin_only\""),
        "{}",
        page.body
    );
}

/// docs/security.md #95: a save refused without JavaScript comes back to
/// the form with what was typed in the URL, and the page shows it; from
/// any other page, or with JavaScript, the answer is leptos' own.
async fn a_refused_form_without_javascript_keeps_what_was_typed(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    let typed = [
        ("reconfirm_days", "731"),
        ("helpdesk_contact", "https://help.example/desk"),
        ("allow_phone_voice", ""),
    ];
    let r = app
        .post_html_with_cookie(
            "/api/admin_save_policy",
            &policy_form(0, &typed),
            "/admin/password-reset",
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    let to = r.header("location").unwrap_or_default().to_owned();
    assert!(to.starts_with("/admin/password-reset?version=0&"), "{to}");
    assert!(to.contains("&reconfirm_days=731&"), "{to}");
    assert!(to.contains("&__path=") && to.contains("&__err="), "{to}");
    let page = app.get(&to, Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    let b = &page.body;
    assert!(b.contains("data-testid=\"unsaved\""), "{b}");
    assert!(
        b.contains("value=\"731\""),
        "the typed number is shown: {b}"
    );
    assert!(b.contains("value=\"https://help.example/desk\""), "{b}");
    assert!(b.contains("data-code=\"invalid_setting\""), "{b}");
    assert!(ticked_in(b, "allow_phone_sms"));
    assert!(
        !ticked_in(b, "allow_phone_voice"),
        "the unticked box stays unticked"
    );
    let (versions, _) = policy_history::history(&app.services.db, None, 10)
        .await
        .unwrap();
    assert!(versions.is_empty(), "nothing was saved");
    // The stored settings are what the page shows without the query.
    let page = app.get("/admin/password-reset", Some(&admin)).await;
    assert!(page.body.contains("value=\"180\""), "{}", page.body);
    assert!(!page.body.contains("data-testid=\"unsaved\""));

    // The preview page's own save comes back to the preview (its URL
    // already holds the values), and the hydrated app gets only the error.
    let r = app
        .post_html_with_cookie(
            "/api/admin_save_policy",
            &policy_form(0, &typed),
            "/admin/password-reset/preview?version=0",
            &admin,
        )
        .await;
    let to = r.header("location").unwrap_or_default();
    assert!(
        to.contains("/admin/password-reset/preview?version=0&__path="),
        "{to}"
    );
    assert!(!to.contains("reconfirm_days"), "{to}");
    let r = app
        .post_js(
            "/api/admin_save_policy",
            &policy_form(0, &typed),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.header("location"), None);

    // The new-account form likewise: an email address that is no address.
    let r = app
        .post_html_with_cookie(
            "/api/admin_create_user",
            "login=new.hire&display_name=New%20Hire&email=not-an-address&role=admin&groups=",
            "/admin/users/add",
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    let to = r.header("location").unwrap_or_default().to_owned();
    assert!(to.starts_with("/admin/users/add?login=new.hire&"), "{to}");
    let page = app.get(&to, Some(&admin)).await;
    let b = &page.body;
    assert!(b.contains("data-code=\"invalid_email\""), "{b}");
    assert!(b.contains("value=\"not-an-address\""), "{b}");
    assert!(b.contains("value=\"New Hire\""), "{b}");
    assert!(b.contains("value=\"admin\" selected"), "{b}");
    assert!(
        !ticked_in(b, "welcome"),
        "the welcome box was left unticked"
    );
    assert!(
        store::users::find_by_login(app.services.db.pool(), &Login::parse("new.hire").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    // A bare link fills nothing in, and a draft of another version is
    // dropped (saving it would undo that version).
    let page = app
        .get(
            "/admin/users/add?login=x&role=admin&email=mallory%40evil.example",
            Some(&admin),
        )
        .await;
    assert!(!page.body.contains("mallory@evil.example"), "{}", page.body);
    let page = app
        .get(
            "/admin/password-reset?version=99&reconfirm_days=731",
            Some(&admin),
        )
        .await;
    assert!(!page.body.contains("value=\"731\""), "{}", page.body);
    assert!(!page.body.contains("data-testid=\"unsaved\""));
}

/// Whether the checkbox `name` in page `b` is ticked.
fn ticked_in(b: &str, name: &str) -> bool {
    let at = b.find(&format!("name=\"{name}\"")).expect(name);
    b[at..at + b[at..].find('>').unwrap_or(0)].contains("checked")
}

async fn users_are_listed_searched_and_acted_on(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    let dana = app.add_user("dana", Role::User).await;
    app.add_user("dan.b", Role::User).await;
    app.add_user("erin", Role::User).await;
    // The list as a page, without JavaScript, searched by the start of a
    // name in another case.
    let page = app.get("/admin/users?q=DAN", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("data-user=\"dana\""), "{}", page.body);
    assert!(page.body.contains("data-user=\"dan.b\""));
    assert!(!page.body.contains("data-user=\"erin\""));
    // Filters: admins only; a value that is no choice is refused.
    let r = app
        .post_js("/api/admin_users", "role=admin", Some(&admin))
        .await;
    let list: sspr_proto::admin::UsersPageView = serde_json::from_str(&r.body).unwrap();
    let logins: Vec<&str> = list.users.iter().map(|u| u.login.as_str()).collect();
    assert_eq!(logins, ["boss"]);
    let r = app
        .post_js("/api/admin_users", "role=root", Some(&admin))
        .await;
    assert_eq!(code_of(&r), "bad_request", "{}", r.body);
    // The detail: dana has no method, so cannot reset yet.
    let r = app
        .post_js("/api/admin_user", &format!("id={dana}"), Some(&admin))
        .await;
    let detail: sspr_proto::admin::UserDetailView = serde_json::from_str(&r.body).unwrap();
    assert_eq!(detail.standing, "needs_methods");
    assert_eq!((detail.have, detail.need), (0, 1));
    assert!(detail.enabled && !detail.is_self);
    // Disable without JavaScript: back to the detail, which says so.
    let r = app
        .post_html_with_cookie(
            "/api/admin_user_action",
            &format!("id={dana}&action=disable"),
            "/admin/users/detail",
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    let to = r.header("location").unwrap_or_default().to_owned();
    assert_eq!(to, format!("/admin/users/detail?id={dana}&done=disable"));
    let page = app.get(&to, Some(&admin)).await;
    assert!(page.body.contains("data-testid=\"done\""), "{}", page.body);
    assert!(page.body.contains("data-standing=\"disabled\""));
    // The user is told, and cannot sign in.
    let r = app
        .post_js(
            "/api/sign_in",
            &form("dana", sspr_domain::testkit::PASSWORD),
            None,
        )
        .await;
    assert_ne!(r.status, StatusCode::OK);
    // Refusals: clearing without the box, the admin's own account, an
    // unknown action, an unknown account.
    let r = app
        .post_js(
            "/api/admin_user_action",
            &format!("id={dana}&action=clear_security_info"),
            Some(&admin),
        )
        .await;
    assert_eq!(code_of(&r), "confirmation_required", "{}", r.body);
    let boss = store::users::find_by_login(app.services.db.pool(), &Login::parse("boss").unwrap())
        .await
        .unwrap()
        .unwrap();
    let r = app
        .post_js(
            "/api/admin_user_action",
            &format!("id={}&action=disable", boss.id),
            Some(&admin),
        )
        .await;
    assert_eq!(code_of(&r), "own_account", "{}", r.body);
    let r = app
        .post_js(
            "/api/admin_user_action",
            &format!("id={dana}&action=explode"),
            Some(&admin),
        )
        .await;
    assert_eq!(code_of(&r), "bad_request", "{}", r.body);
    let r = app
        .post_js(
            "/api/admin_user_action",
            "id=999999&action=unlock",
            Some(&admin),
        )
        .await;
    assert_eq!(code_of(&r), "not_found", "{}", r.body);
    let r = app
        .post_js(
            "/api/admin_user_action",
            &format!("id={dana}&action=clear_security_info&confirm=on"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Actions need a fresh proof.
    app.clock.advance(11 * 60);
    let r = app
        .post_js(
            "/api/admin_user_action",
            &format!("id={dana}&action=enable"),
            Some(&admin),
        )
        .await;
    assert_eq!(code_of(&r), "reauthentication_required", "{}", r.body);
    let events: Vec<String> = audit::search(app.services.db.pool(), &Filter::default(), None, 5)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    // Newest first: the clearing, the refused sign-in, the disabling.
    assert_eq!(
        events[..3],
        ["security_info_cleared", "sign_in", "account_disabled"]
    );
}

async fn the_impact_preview_lists_who_loses_reset_and_exports_csv(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    // Three users with one email method each: they can reset with one.
    for login in ["ann", "=cmd", "carl"] {
        let id = app.add_user(login, Role::User).await;
        let address = format!("{}@home.example", login.trim_start_matches('='));
        store::methods::upsert(
            app.services.db.pool(),
            id,
            &sspr_domain::methods::NewMethod::email(&address),
            app.clock.now(),
        )
        .await
        .unwrap();
    }
    let (_, version) = policy_history::current(&app.services.db).await.unwrap();
    let proposal = policy_form(version, &[("methods_required", "2")]);
    let page = app
        .get(
            &format!("/admin/password-reset/preview?{proposal}"),
            Some(&admin),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("data-testid=\"users-losing\" data-count=\"3\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-change=\"ann\""));
    // The boss has one method too, and admins need two anyway.
    let r = app
        .post_js(
            "/api/admin_preview_policy",
            &format!("query={}", enc(&proposal)),
            Some(&admin),
        )
        .await;
    let view: sspr_proto::admin::ImpactView = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (
            view.users_losing,
            view.admins_losing,
            view.losing_for_methods,
            view.gaining
        ),
        (3, 0, 3, 0)
    );
    assert!(view.current);
    assert_eq!(view.differences.len(), 1);
    assert_eq!(view.differences[0].field, "methods_required");
    // A proposal the save would refuse is refused here too, naming the field.
    let bad = policy_form(version, &[("reconfirm_days", "9999")]);
    let r = app
        .post_js(
            "/api/admin_preview_policy",
            &format!("query={}", enc(&bad)),
            Some(&admin),
        )
        .await;
    assert_eq!(code_of(&r), "invalid_setting", "{}", r.body);
    // The CSV: every account, formulas defused, and the export audited.
    let csv = app
        .get(
            &format!("/admin/password-reset/impact.csv?{proposal}"),
            Some(&admin),
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert_eq!(csv.header("cache-control"), Some("no-store"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "user_id,name,role,before,after");
    assert_eq!(lines.len(), 4, "{}", csv.body);
    assert!(csv.body.contains("'=cmd"), "{}", csv.body);
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.ends_with(",eligible,needs_methods"))
    );
    let last = audit::search(app.services.db.pool(), &Filter::default(), None, 1)
        .await
        .unwrap();
    assert_eq!(last[0].event, Kind::ImpactExported.as_str());
    // Nothing was saved by any of this.
    assert_eq!(
        policy_history::current(&app.services.db).await.unwrap().1,
        version
    );
    let user = app.sign_in("ann").await.session().unwrap();
    let r = app
        .get(
            &format!("/admin/password-reset/impact.csv?{proposal}"),
            Some(&format!("sspr_session={user}")),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn groups_are_renamed_and_deleted_unless_the_settings_name_them(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    app.add_user("dana", Role::User).await;
    for (path, body) in [
        ("/api/admin_create_group", "name=staff"),
        ("/api/admin_create_group", "name=other"),
        ("/api/admin_add_member", "group=staff&login=dana"),
    ] {
        let r = app.post_js(path, body, Some(&admin)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    // Renamed: the members stay.
    let r = app
        .post_js(
            "/api/admin_rename_group",
            "group=staff&name=Team",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post_js("/api/admin_group_members", "group=team", Some(&admin))
        .await;
    let members: sspr_proto::admin::GroupMembersView = serde_json::from_str(&r.body).unwrap();
    assert_eq!(members.members.len(), 1);
    // A taken name, an unknown group, a missing confirmation.
    let r = app
        .post_js(
            "/api/admin_rename_group",
            "group=team&name=other",
            Some(&admin),
        )
        .await;
    assert_eq!(code_of(&r), "group_exists", "{}", r.body);
    let r = app
        .post_js("/api/admin_rename_group", "group=nope&name=x", Some(&admin))
        .await;
    assert_eq!(code_of(&r), "not_found", "{}", r.body);
    let r = app
        .post_js("/api/admin_delete_group", "group=team", Some(&admin))
        .await;
    assert_eq!(code_of(&r), "confirmation_required", "{}", r.body);
    // Named by the settings: neither renamed nor deleted.
    let (_, version) = policy_history::current(&app.services.db).await.unwrap();
    let body = policy_form(
        version,
        &[("sspr_scope", "groups"), ("sspr_groups", "team")],
    );
    let r = app
        .post_js("/api/admin_save_policy", &body, Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post_js(
            "/api/admin_rename_group",
            "group=team&name=crew",
            Some(&admin),
        )
        .await;
    assert_eq!(code_of(&r), "group_in_use", "{}", r.body);
    let r = app
        .post_js(
            "/api/admin_delete_group",
            "group=team&confirm=on",
            Some(&admin),
        )
        .await;
    assert_eq!(code_of(&r), "group_in_use", "{}", r.body);
    // Nor may another group take a name the settings use.
    let r = app
        .post_js(
            "/api/admin_rename_group",
            "group=other&name=team2",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let body = policy_form(
        version + 1,
        &[("sspr_scope", "groups"), ("sspr_groups", "team\nlater")],
    );
    let r = app
        .post_js("/api/admin_save_policy", &body, Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post_js(
            "/api/admin_rename_group",
            "group=team2&name=later",
            Some(&admin),
        )
        .await;
    assert_eq!(code_of(&r), "group_in_use", "{}", r.body);
    let r = app
        .post_js(
            "/api/admin_rename_group",
            "group=team2&name=other",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Not named: deleted, without JavaScript, back to the list.
    let r = app
        .post_html_with_cookie(
            "/api/admin_delete_group",
            "group=other&confirm=on",
            "/admin/groups/members",
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    assert_eq!(r.header("location"), Some("/admin/groups?deleted=1"));
    let kinds: Vec<String> = audit::search(app.services.db.pool(), &Filter::default(), None, 3)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(kinds, ["group_deleted", "group_renamed", "policy_changed"]);
    let page = app.get("/admin/groups?deleted=1", Some(&admin)).await;
    assert!(
        page.body.contains("data-testid=\"deleted\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains("data-group=\"other\""));
}

async fn the_users_csv_lists_every_match(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    // More than one batch of the export.
    let db = app.services.db.clone();
    let now = app.clock.now();
    for i in 0..1205 {
        let user = sspr_domain::users::NewUser {
            login_display: format!("bulk{i:04}"),
            display_name: if i == 7 {
                "=HYPERLINK()".into()
            } else {
                format!("Bulk {i}")
            },
            email: None,
            role: Role::User,
            password_hash: None,
            locale: None,
        };
        sspr_domain::testkit::create_user(&db, &user, now).await;
    }
    let csv = app.get("/admin/users.csv?q=BULK", Some(&admin)).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "user_id,name,email,role,enabled,from_directory,methods"
    );
    assert_eq!(lines.len(), 1206);
    assert_eq!(lines[1], "bulk0000,Bulk 0,,user,true,false,0");
    assert!(
        lines[8].starts_with("bulk0007,'=HYPERLINK()"),
        "{}",
        lines[8]
    );
    let r = app.get("/admin/users.csv?role=root", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let last = audit::search(app.services.db.pool(), &Filter::default(), None, 1)
        .await
        .unwrap();
    assert_eq!(last[0].event, Kind::UsersExported.as_str());
    assert_eq!(last[0].detail.as_deref(), Some("q"));
}

/// A group the directory's sync fills (a member mirrored from the
/// directory) is listed as the directory's, and its page offers no form
/// to change it; the domain refuses a local account joining it.
async fn a_directory_group_is_shown_read_only(t: &TestDb) {
    let app = TestApp::new(t).await;
    let admin = app.admin_session("boss").await;
    let carol = app.add_user("carol", Role::User).await;
    app.add_user("dana", Role::User).await;
    for (group, login) in [("engineering", "carol"), ("lab", "dana")] {
        let r = app
            .post_js(
                "/api/admin_create_group",
                &format!("name={group}"),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = app
            .post_js(
                "/api/admin_add_member",
                &format!("group={group}&login={login}"),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    // What a sync leaves: carol mirrored from the directory, with her
    // groups (`directory::accounts` writes these two columns).
    sqlx::query(
        "UPDATE users SET directory_id = 'uuid-carol', \
         directory_dn = 'uid=carol,ou=people,dc=example,dc=org' WHERE id = $1",
    )
    .bind(carol)
    .execute(app.services.db.pool())
    .await
    .unwrap();
    let page = app.get("/admin/groups", Some(&admin)).await;
    assert!(
        page.body
            .contains("data-group=\"engineering\" data-source=\"directory\""),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("data-group=\"lab\" data-source=\"local\"")
    );
    let page = app
        .get("/admin/groups/members?group=engineering", Some(&admin))
        .await;
    assert!(
        page.body.contains("data-testid=\"directory-group\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains("/api/admin_add_member"));
    assert!(!page.body.contains("/api/admin_rename_group"));
    let page = app
        .get("/admin/groups/members?group=lab", Some(&admin))
        .await;
    assert!(!page.body.contains("data-testid=\"directory-group\""));
    assert!(page.body.contains("/api/admin_add_member"));
    // Posted anyway: refused, with the stable code.
    let r = app
        .post_js(
            "/api/admin_add_member",
            "group=engineering&login=dana",
            Some(&admin),
        )
        .await;
    assert_eq!(code_of(&r), "directory_managed", "{}", r.body);
}
