//! Server halves of the portal's users pages: the list, one account's
//! detail, the actions on it, and adding accounts (each change needs a
//! recent proof of the password, like every change in the portal).

use sspr_domain::account_actions::{self, ActionError, CreateError, Invitation};
use sspr_domain::eligibility::Standing;
use sspr_domain::import::{self, Fields, PORTAL_MAX_BYTES, PORTAL_MAX_ROWS, Rejected};
use sspr_domain::policy_history;
use sspr_domain::user_list::{self, Query};
use sspr_domain::users::Role;
use sspr_proto::admin::{
    AddUsersView, AdminMethodView, ImportRejectView, ImportReportView, UserDetailView, UserRowView,
    UsersPageView,
};

use super::admin::admin;
use super::request_locale;
use crate::error::AppError;

impl From<ActionError> for AppError {
    fn from(e: ActionError) -> Self {
        match e {
            ActionError::NoSuchUser => AppError::NotFound,
            ActionError::FromDirectory => AppError::DirectoryManaged,
            ActionError::OwnAccount => AppError::OwnAccount,
            ActionError::NotConfirmed => AppError::ConfirmationRequired,
            ActionError::NoAddress => AppError::NoEmailAddress,
            ActionError::Internal(e) => e.into(),
        }
    }
}

impl From<CreateError> for AppError {
    fn from(e: CreateError) -> Self {
        match e {
            CreateError::Invalid(r) => match r {
                Rejected::Login(_) => AppError::InvalidLogin,
                Rejected::DisplayName => AppError::InvalidDisplayName,
                Rejected::Email(_) => AppError::InvalidEmail,
                Rejected::Duplicate(_) => AppError::AccountExists,
                // `create_user` names the field in the reader's language.
                Rejected::Group(..) => AppError::InvalidSetting {
                    field: "groups".into(),
                    label: "groups".into(),
                },
                // A form's role is one of two choices, and it has no hash.
                Rejected::Role(_) | Rejected::PasswordHash | Rejected::Unreadable(_) => {
                    AppError::BadRequest
                }
            },
            CreateError::Internal(e) => e.into(),
        }
    }
}

/// The list's filters as the page's query string gives them; a value
/// that is not one of the choices is a bad request, not "any".
pub struct UsersQuery {
    pub text: String,
    /// `user`, `admin` or empty.
    pub role: String,
    /// `yes`, `no` or empty.
    pub registered: String,
    pub can_reset: String,
    /// `enabled`, `disabled`, `locked` or empty.
    pub status: String,
}

fn yes_no(v: &str) -> Result<Option<bool>, AppError> {
    match v.trim() {
        "" => Ok(None),
        "yes" => Ok(Some(true)),
        "no" => Ok(Some(false)),
        _ => Err(AppError::BadRequest),
    }
}

impl UsersQuery {
    pub fn query(&self) -> Result<Query, AppError> {
        let (enabled, locked) = match self.status.trim() {
            "" => (None, false),
            "enabled" => (Some(true), false),
            "disabled" => (Some(false), false),
            "locked" => (None, true),
            _ => return Err(AppError::BadRequest),
        };
        if self.text.len() > 256 {
            return Err(AppError::BadRequest);
        }
        Ok(Query {
            text: self.text.clone(),
            role: match self.role.trim() {
                "" => None,
                "user" => Some(Role::User),
                "admin" => Some(Role::Admin),
                _ => return Err(AppError::BadRequest),
            },
            registered: yes_no(&self.registered)?,
            can_reset: yes_no(&self.can_reset)?,
            enabled,
            locked,
        })
    }
}

pub async fn users_page(q: UsersQuery, after: Option<String>) -> Result<UsersPageView, AppError> {
    let a = admin().await?;
    let s = &a.st.services;
    let query = q.query()?;
    let (policy, _) = policy_history::current(&s.db).await?;
    let page = user_list::page(s, &policy, &query, after.as_deref()).await?;
    Ok(UsersPageView {
        users: page
            .users
            .into_iter()
            .map(|u| UserRowView {
                id: u.id,
                login: u.login_display,
                display_name: u.display_name,
                email: u.email,
                role: u.role.as_str().into(),
                enabled: u.enabled,
                from_directory: u.from_directory,
                methods: u.methods,
            })
            .collect(),
        next_after: page.next_after,
    })
}

pub async fn user_detail(id: i64) -> Result<UserDetailView, AppError> {
    let a = admin().await?;
    let s = &a.st.services;
    let (policy, _) = policy_history::current(&s.db).await?;
    let d = user_list::detail(s, &policy, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (have, need) = match d.standing {
        Standing::NeedsMethods { have, need } => (have as u32, need as u32),
        _ => (0, 0),
    };
    Ok(UserDetailView {
        id: d.user.id,
        login: d.user.login_display.clone(),
        display_name: d.user.display_name.clone(),
        email: d.user.email.clone(),
        role: d.user.role.as_str().into(),
        enabled: d.user.enabled,
        from_directory: d.from_directory,
        created_at: d.dates.created_at.secs(),
        password_changed_at: d.dates.password_changed_at.map(|t| t.secs()),
        info_confirmed_at: d.dates.info_confirmed_at.map(|t| t.secs()),
        last_sign_in: d.last_sign_in.map(|t| t.secs()),
        last_reset: d.last_reset.map(|t| t.secs()),
        locked_until: d.locked_until.map(|t| t.secs()),
        groups: d.groups,
        methods: d
            .methods
            .iter()
            .map(|m| AdminMethodView {
                kind: m.kind.as_str().into(),
                destination: m.masked_destination(),
                verified_at: m.verified_at.secs(),
                is_default: m.is_default,
            })
            .collect(),
        standing: d.standing.as_str().into(),
        have,
        need,
        is_self: d.user.id == a.user.id,
        fresh_proof: a.fresh_proof(),
    })
}

/// The detail page of account `id`, with what was just done.
pub fn user_href(id: i64, done: Option<&str>) -> String {
    match done {
        Some(d) => format!("/admin/users/detail?id={id}&done={d}"),
        None => format!("/admin/users/detail?id={id}"),
    }
}

/// One of the detail page's actions on account `id`.
pub async fn user_action(id: i64, action: String, confirm: bool) -> Result<(), AppError> {
    let a = admin().await?;
    a.require_fresh_proof()?;
    let s = &a.st.services;
    let by = a.actor().await;
    let now = a.now();
    match action.as_str() {
        "disable" => account_actions::set_enabled(s, by, id, false, now).await?,
        "enable" => account_actions::set_enabled(s, by, id, true, now).await?,
        "unlock" => account_actions::unlock(s, by, id, now).await?,
        "sign_out" => account_actions::sign_out_everywhere(s, by, id, now).await?,
        "clear_security_info" => {
            account_actions::clear_security_info(s, by, id, confirm, now).await?
        }
        "invite_register" => account_actions::invite(s, by, id, Invitation::Register, now).await?,
        "invite_reset" => account_actions::invite(s, by, id, Invitation::Reset, now).await?,
        _ => return Err(AppError::BadRequest),
    }
    leptos_axum::redirect(&user_href(id, Some(&action)));
    Ok(())
}

/// The new-account form as posted.
pub struct NewAccountForm {
    pub login: String,
    pub display_name: String,
    pub email: String,
    /// `user`, `admin` or empty (`user`).
    pub role: String,
    /// `;`- or `,`-separated (people type either).
    pub groups: String,
}

/// Where accounts are added, and where a refused form without JavaScript
/// returns.
pub const ADD_USERS_PAGE: &str = "/admin/users/add";

/// Creates the account and goes to its page.
pub async fn create_user(form: NewAccountForm, welcome: bool) -> Result<(), AppError> {
    let a = admin().await?;
    let created = create_checked(&a, &form, welcome).await;
    match &created {
        Ok(id) => leptos_axum::redirect(&user_href(*id, Some("created"))),
        Err(e) => {
            let typed = [
                ("login", form.login.as_str()),
                ("display_name", form.display_name.as_str()),
                ("email", form.email.as_str()),
                ("role", form.role.as_str()),
                ("groups", form.groups.as_str()),
                ("welcome", if welcome { "on" } else { "" }),
            ];
            super::typed_back::keep_typed_values(
                ADD_USERS_PAGE,
                <crate::api::admin::AdminCreateUser as leptos::server_fn::ServerFn>::PATH,
                &typed,
                e,
            );
        }
    }
    created.map(|_| ())
}

async fn create_checked(
    a: &super::admin::Admin,
    form: &NewAccountForm,
    welcome: bool,
) -> Result<i64, AppError> {
    a.require_fresh_proof()?;
    let s = &a.st.services;
    let groups = form.groups.replace(',', ";");
    let fields = Fields {
        login: &form.login,
        display_name: &form.display_name,
        email: &form.email,
        role: &form.role,
        groups: &groups,
        password_hash: "",
    };
    match account_actions::create(s, a.actor().await, &fields, welcome, a.now()).await {
        Ok(id) => Ok(id),
        Err(CreateError::Invalid(Rejected::Group(..))) => Err(AppError::InvalidSetting {
            field: "groups".into(),
            label: crate::pages::admin::fields::label(request_locale().await, "groups"),
        }),
        Err(e) => Err(e.into()),
    }
}

/// The add-accounts page, with the report of import `report`.
pub async fn add_users(report: Option<i64>) -> Result<AddUsersView, AppError> {
    let a = admin().await?;
    let db = &a.st.services.db;
    let report = match report {
        None => None,
        Some(id) => {
            let kept = import::stored_report(db, id)
                .await?
                .ok_or(AppError::NotFound)?;
            let by = match kept.by {
                Some(id) => sspr_domain::users::find_by_id(db.pool(), id)
                    .await?
                    .map(|u| u.login_display),
                None => None,
            };
            Some(ImportReportView {
                at: kept.at.secs(),
                by,
                created: kept.report.created as u32,
                rejected: kept.report.rejected as u32,
                rows: kept
                    .report
                    .rows
                    .into_iter()
                    .map(|(line, code, value)| ImportRejectView { line, code, value })
                    .collect(),
            })
        }
    };
    Ok(AddUsersView {
        fresh_proof: a.fresh_proof(),
        max_kib: (PORTAL_MAX_BYTES / 1024) as u32,
        max_rows: PORTAL_MAX_ROWS as u32,
        report,
    })
}
