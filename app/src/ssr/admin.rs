//! Server halves of the admin portal's server functions. Every one starts
//! with [`admin`]: the session must be an enabled admin's, whatever the
//! page showed (the server's `admin_only` layer checks the same before the
//! arguments are even read). Changes also need a recent proof of the
//! password ([`Admin::require_fresh_proof`]).

use sspr_domain::audit::{self, Filter, Kind, Outcome};
use sspr_domain::directory::config::DirectoryKind;
use sspr_domain::groups::{self, GroupError};
use sspr_domain::policy::{Policy, PolicyError, SecondFactorScope, SsprScope};
use sspr_domain::policy_history::{self, Editor};
use sspr_domain::users::{Role, User};
use sspr_domain::{Timestamp, auth, store};
use sspr_proto::admin::{
    AuditEntryView, AuditPageView, ConfigFacts, FieldChange, GroupMembersView, GroupSummary,
    GroupsView, MemberView, PolicyHistoryView, PolicyPageView, PolicySettings, PolicyVersionView,
};

use super::setup::REAUTH_WINDOW_SECS;
use super::{AppState, client_ip, request_locale, session_token};
use crate::error::AppError;
use crate::pages::admin::members_href;

/// Rows of the audit log and of the history per page.
pub const PAGE_SIZE: i64 = 50;

pub struct Admin {
    pub st: AppState,
    pub user: User,
    authenticated_at: Timestamp,
}

/// The signed-in admin, or `admin_only` (also without a session: the
/// answer says nothing about why).
pub async fn admin() -> Result<Admin, AppError> {
    let st = super::state()?;
    let Some(token) = session_token(&st.cookies).await else {
        return Err(AppError::AdminOnly);
    };
    let s = &st.services;
    match auth::current_session(s, &token, s.now()).await? {
        Some((session, user)) if user.role == Role::Admin && user.enabled => Ok(Admin {
            authenticated_at: session.authenticated_at,
            user,
            st,
        }),
        _ => Err(AppError::AdminOnly),
    }
}

/// A password proven at `at` still allows changes at `now` (within the
/// last ten minutes; docs/security.md #89).
pub fn proof_is_fresh(at: Timestamp, now: Timestamp) -> bool {
    now.secs() - at.secs() <= REAUTH_WINDOW_SECS
}

impl Admin {
    pub fn now(&self) -> Timestamp {
        self.st.services.now()
    }

    /// The password was proven within the last ten minutes (at sign-in,
    /// which for admins includes the second factor, or on the reauth page).
    pub fn fresh_proof(&self) -> bool {
        proof_is_fresh(self.authenticated_at, self.now())
    }

    pub fn require_fresh_proof(&self) -> Result<(), AppError> {
        if self.fresh_proof() {
            Ok(())
        } else {
            Err(AppError::ReauthenticationRequired)
        }
    }

    pub async fn actor(&self) -> groups::Actor {
        groups::Actor {
            user_id: self.user.id,
            ip: client_ip().await,
        }
    }

    async fn editor(&self) -> Editor {
        Editor::admin(self.user.id, &self.user.login_display, client_ip().await)
    }
}

fn scope_name(s: SsprScope) -> &'static str {
    match s {
        SsprScope::All => "all",
        SsprScope::None => "none",
        SsprScope::Groups => "groups",
    }
}

pub fn settings_of(p: &Policy) -> PolicySettings {
    PolicySettings {
        sspr_scope: scope_name(p.sspr_scope).into(),
        sspr_groups: p.sspr_groups.clone(),
        methods_required: p.methods_required,
        allow_email: p.allow_email,
        allow_phone_sms: p.allow_phone_sms,
        allow_phone_voice: p.allow_phone_voice,
        allow_authenticator: p.allow_authenticator,
        allow_questions: p.allow_questions,
        questions_to_register: p.questions_to_register,
        require_registration: p.require_registration,
        max_registration_skips: p.max_registration_skips,
        reconfirm_days: p.reconfirm_days,
        notify_users_on_reset: p.notify_users_on_reset,
        notify_admins_on_admin_reset: p.notify_admins_on_admin_reset,
        helpdesk_contact: p.helpdesk_contact.clone(),
        password_min_length: p.password_min_length,
        single_factor_password_min_length: p.single_factor_password_min_length,
        banned_words: p.banned_words.clone(),
        phone_regions: p.phone_regions.clone(),
        default_phone_region: p.default_phone_region.clone(),
        max_sends_per_destination_per_hour: p.max_sends_per_destination_per_hour,
        max_sends_per_account_per_hour: p.max_sends_per_account_per_hour,
        allow_unlock: p.allow_unlock,
        reset_show_hints: p.reset_show_hints,
        sign_in_second_factor: match p.sign_in_second_factor {
            SecondFactorScope::Admins => "admins".into(),
            SecondFactorScope::Everyone => "everyone".into(),
        },
        email_code_length: p.email_code_length,
        phone_code_length: p.phone_code_length,
        code_ttl_secs: p.code_ttl_secs,
        max_code_attempts: p.max_code_attempts,
        resend_cooldown_secs: p.resend_cooldown_secs,
    }
}

pub async fn policy_page() -> Result<PolicyPageView, AppError> {
    let a = admin().await?;
    let s = &a.st.services;
    let (policy, version) = policy_history::current(&s.db).await?;
    let groups = store::groups::names(s.db.pool(), 1000).await?;
    let c = &s.config;
    Ok(PolicyPageView {
        version,
        settings: settings_of(&policy),
        defaults: settings_of(&Policy::default()),
        groups,
        config: ConfigFacts {
            lockout_threshold: c.sign_in_lockout.threshold,
            lockout_account_threshold: c.sign_in_lockout.account_threshold,
            lockout_base_secs: c.sign_in_lockout.base_lockout_secs,
            session_idle_secs: c.sessions.idle_timeout_secs,
            admin_session_idle_secs: c
                .sessions
                .admin_idle_timeout_secs
                .min(c.sessions.idle_timeout_secs),
            directory: match c.directory.kind {
                DirectoryKind::None => String::new(),
                DirectoryKind::Ldap => "ldap".into(),
                DirectoryKind::ActiveDirectory => "active_directory".into(),
            },
        },
        fresh_proof: a.fresh_proof(),
    })
}

/// The settings form as posted: text, parsed here field by field so a bad
/// value is refused naming its field.
pub struct PolicyForm {
    pub version: i64,
    pub fields: Vec<(&'static str, String)>,
}

impl PolicyForm {
    /// The form as a query string carries it (the preview's URL).
    pub fn from_query(query: &str) -> PolicyForm {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| pairs.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
        PolicyForm {
            version: get("version").and_then(|v| v.parse().ok()).unwrap_or(-1),
            fields: sspr_proto::admin::POLICY_FIELDS
                .iter()
                .map(|f| (*f, get(f).unwrap_or_default()))
                .collect(),
        }
    }

    fn text(&self, field: &str) -> &str {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.trim())
            .unwrap_or_default()
    }

    /// A checkbox: present when ticked.
    fn flag(&self, field: &str) -> bool {
        !self.text(field).is_empty()
    }

    fn number<T: std::str::FromStr>(&self, field: &'static str) -> Result<T, PolicyError> {
        self.text(field).parse().map_err(|_| PolicyError::Invalid {
            field,
            message: format!("{field} must be a whole number"),
        })
    }

    /// A list typed one item per line (commas also separate).
    fn list(&self, field: &str) -> Vec<String> {
        self.text(field)
            .split(['\n', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub fn policy(&self) -> Result<Policy, PolicyError> {
        let bad = |field: &'static str| PolicyError::Invalid {
            field,
            message: format!("{field}: not one of the choices"),
        };
        Ok(Policy {
            sspr_scope: match self.text("sspr_scope") {
                "all" => SsprScope::All,
                "none" => SsprScope::None,
                "groups" => SsprScope::Groups,
                _ => return Err(bad("sspr_scope")),
            },
            sspr_groups: self.list("sspr_groups"),
            methods_required: self.number("methods_required")?,
            allow_email: self.flag("allow_email"),
            allow_phone_sms: self.flag("allow_phone_sms"),
            allow_phone_voice: self.flag("allow_phone_voice"),
            allow_authenticator: self.flag("allow_authenticator"),
            allow_questions: self.flag("allow_questions"),
            questions_to_register: self.number("questions_to_register")?,
            require_registration: self.flag("require_registration"),
            max_registration_skips: self.number("max_registration_skips")?,
            reconfirm_days: self.number("reconfirm_days")?,
            notify_users_on_reset: self.flag("notify_users_on_reset"),
            notify_admins_on_admin_reset: self.flag("notify_admins_on_admin_reset"),
            helpdesk_contact: self.text("helpdesk_contact").to_owned(),
            password_min_length: self.number("password_min_length")?,
            single_factor_password_min_length: self.number("single_factor_password_min_length")?,
            banned_words: self.list("banned_words"),
            phone_regions: self
                .list("phone_regions")
                .into_iter()
                .map(|r| r.to_ascii_uppercase())
                .collect(),
            default_phone_region: self.text("default_phone_region").to_ascii_uppercase(),
            max_sends_per_destination_per_hour: self
                .number("max_sends_per_destination_per_hour")?,
            max_sends_per_account_per_hour: self.number("max_sends_per_account_per_hour")?,
            allow_unlock: self.flag("allow_unlock"),
            reset_show_hints: self.flag("reset_show_hints"),
            sign_in_second_factor: match self.text("sign_in_second_factor") {
                "admins" => SecondFactorScope::Admins,
                "everyone" => SecondFactorScope::Everyone,
                _ => return Err(bad("sign_in_second_factor")),
            },
            email_code_length: self.number("email_code_length")?,
            phone_code_length: self.number("phone_code_length")?,
            code_ttl_secs: self.number("code_ttl_secs")?,
            max_code_attempts: self.number("max_code_attempts")?,
            resend_cooldown_secs: self.number("resend_cooldown_secs")?,
        })
    }
}

/// A refused policy, in the request's language.
pub async fn policy_error(e: PolicyError) -> AppError {
    match e {
        PolicyError::Invalid { field, .. } => AppError::InvalidSetting {
            field: field.to_owned(),
            label: crate::pages::admin::fields::label(request_locale().await, field),
        },
        PolicyError::Conflict(_) => AppError::SettingsChanged,
        PolicyError::NoSuchVersion(_) => AppError::NotFound,
        PolicyError::Internal(e) => e.into(),
    }
}

/// The settings page, where a refused save without JavaScript returns.
pub const SETTINGS_PAGE: &str = "/admin/password-reset";

pub async fn save_policy(form: PolicyForm) -> Result<(), AppError> {
    let a = admin().await?;
    let saved = save_checked(&a, &form).await;
    match &saved {
        Ok(()) => leptos_axum::redirect("/admin/password-reset?saved=1"),
        Err(e) => {
            let version = form.version.to_string();
            let typed: Vec<(&str, &str)> = std::iter::once(("version", version.as_str()))
                .chain(form.fields.iter().map(|(f, v)| (*f, v.as_str())))
                .collect();
            super::typed_back::keep_typed_values(
                SETTINGS_PAGE,
                <crate::api::admin::AdminSavePolicy as leptos::server_fn::ServerFn>::PATH,
                &typed,
                e,
            );
        }
    }
    saved
}

async fn save_checked(a: &Admin, form: &PolicyForm) -> Result<(), AppError> {
    a.require_fresh_proof()?;
    let s = &a.st.services;
    let saved = match form.policy() {
        Ok(p) => {
            policy_history::save(&s.db, &p, &a.editor().await, Some(form.version), a.now()).await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(()),
        Err(e) => Err(policy_error(e).await),
    }
}

/// One field a version (or a proposal) changes, as the pages show it.
pub fn change_view(c: policy_history::Change) -> FieldChange {
    FieldChange {
        field: c.field,
        before: c.before,
        after: c.after,
    }
}

pub async fn policy_history(before: Option<i64>) -> Result<PolicyHistoryView, AppError> {
    let a = admin().await?;
    let s = &a.st.services;
    let (versions, latest) = policy_history::history(&s.db, before, PAGE_SIZE + 1).await?;
    let more = versions.len() > PAGE_SIZE as usize;
    let versions: Vec<PolicyVersionView> = versions
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|v| PolicyVersionView {
            id: v.id,
            saved_at: v.saved_at.secs(),
            saved_by: v.saved_by,
            restored_from: v.restored_from,
            changes: v.changes.into_iter().map(change_view).collect(),
        })
        .collect();
    Ok(PolicyHistoryView {
        latest,
        next_before: if more {
            versions.last().map(|v| v.id)
        } else {
            None
        },
        versions,
        fresh_proof: a.fresh_proof(),
    })
}

pub async fn restore_policy(version: i64, based_on: i64) -> Result<(), AppError> {
    let a = admin().await?;
    a.require_fresh_proof()?;
    let s = &a.st.services;
    match policy_history::restore(&s.db, version, &a.editor().await, Some(based_on), a.now()).await
    {
        Ok(_) => {
            leptos_axum::redirect("/admin/password-reset/history?restored=1");
            Ok(())
        }
        Err(e) => Err(policy_error(e).await),
    }
}

/// The audit log's filter as the page's query string gives it; a value
/// that does not parse is a bad request, not an empty filter.
pub struct AuditQuery {
    pub user: String,
    pub event: String,
    pub outcome: String,
    /// `YYYY-MM-DD`, UTC, inclusive.
    pub from: String,
    /// `YYYY-MM-DD`, UTC, inclusive.
    pub to: String,
}

impl AuditQuery {
    /// The filter, the user ID resolved to its account when there is one.
    pub async fn filter(&self, s: &sspr_domain::Services) -> Result<Filter, AppError> {
        let opt = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
        let day = |s: &str| -> Result<Option<i64>, AppError> {
            match opt(s) {
                None => Ok(None),
                Some(d) => day_start(&d).map(Some).ok_or(AppError::BadRequest),
            }
        };
        let user = match opt(&self.user) {
            Some(u) => {
                let login =
                    sspr_domain::identity::Login::parse(&u).map_err(|_| AppError::InvalidLogin)?;
                let account = store::users::find_by_login(s.db.pool(), &login).await?;
                Some(audit::UserFilter::new(
                    &s.key,
                    &login,
                    account.map(|a| a.id),
                ))
            }
            None => None,
        };
        Ok(Filter {
            user,
            event: match opt(&self.event) {
                Some(e) => Some(Kind::parse(&e).ok_or(AppError::BadRequest)?),
                None => None,
            },
            outcome: match opt(&self.outcome) {
                Some(o) => Some(Outcome::parse(&o).ok_or(AppError::BadRequest)?),
                None => None,
            },
            since: day(&self.from)?.map(Timestamp),
            until: day(&self.to)?.map(|d| Timestamp(d + 86_400)),
        })
    }
}

impl AuditQuery {
    /// The filter in words for the export's own audit row (the user ID as
    /// the log would record it: typed IDs are not kept in clear).
    pub fn summary(&self, f: &Filter) -> String {
        let mut parts = Vec::new();
        if let Some(u) = &f.user {
            let shown = if u.user_id.is_some() {
                &u.recorded_as[0]
            } else {
                &u.recorded_as[1]
            };
            parts.push(format!("user={shown}"));
        }
        for (k, v) in [
            ("event", &self.event),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !v.trim().is_empty() {
                parts.push(format!("{k}={}", v.trim()));
            }
        }
        parts.join(" ")
    }
}

/// Unix seconds at 00:00 UTC of `YYYY-MM-DD`.
pub fn day_start(date: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(date, &format).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp())
}

pub fn entry_view(e: audit::Entry) -> AuditEntryView {
    AuditEntryView {
        id: e.id,
        at: e.at.secs(),
        event: e.event,
        outcome: e.outcome,
        actor: e.actor,
        subject: e.subject,
        ip: e.ip,
        detail: e.detail,
    }
}

pub async fn audit_page(q: AuditQuery, before: Option<i64>) -> Result<AuditPageView, AppError> {
    let a = admin().await?;
    let s = &a.st.services;
    let filter = q.filter(s).await?;
    let mut entries = audit::search(s.db.pool(), &filter, before, PAGE_SIZE + 1).await?;
    let more = entries.len() > PAGE_SIZE as usize;
    entries.truncate(PAGE_SIZE as usize);
    Ok(AuditPageView {
        next_before: if more {
            entries.last().map(|e| e.id)
        } else {
            None
        },
        entries: entries.into_iter().map(entry_view).collect(),
        events: Kind::ALL.iter().map(|k| k.as_str().to_owned()).collect(),
    })
}

impl From<GroupError> for AppError {
    fn from(e: GroupError) -> Self {
        match e {
            GroupError::InvalidName => AppError::BadRequest,
            GroupError::NoSuchGroup => AppError::NotFound,
            GroupError::NoSuchUser => AppError::NoSuchAccount,
            GroupError::FromDirectory => AppError::DirectoryManaged,
            GroupError::Exists => AppError::GroupExists,
            GroupError::InUse => AppError::GroupInUse,
            GroupError::Internal(e) => e.into(),
        }
    }
}

/// Groups shown at most (a page of them; an organisation with more manages
/// them in its directory).
const GROUPS_SHOWN: i64 = 1000;

pub async fn groups_page() -> Result<GroupsView, AppError> {
    let a = admin().await?;
    let s = &a.st.services;
    let groups = store::groups::with_counts(s.db.pool(), GROUPS_SHOWN).await?;
    let (policy, _) = policy_history::current(&s.db).await?;
    Ok(GroupsView {
        groups: groups
            .into_iter()
            .map(|g| GroupSummary {
                name: g.name,
                members: g.members,
                from_directory: g.directory_members > 0,
            })
            .collect(),
        selected: policy.sspr_groups,
        fresh_proof: a.fresh_proof(),
    })
}

pub async fn group_members(group: String) -> Result<GroupMembersView, AppError> {
    let a = admin().await?;
    let s = &a.st.services;
    let name = sspr_domain::identity::Login::parse(&group).map_err(|_| AppError::NotFound)?;
    if !store::groups::exists(s.db.pool(), &name).await? {
        return Err(AppError::NotFound);
    }
    let members = store::groups::members(s.db.pool(), &name, GROUPS_SHOWN).await?;
    // Any directory member makes it the directory's (not only those shown).
    let from_directory = store::groups::has_directory_members(s.db.pool(), &name).await?;
    Ok(GroupMembersView {
        group: name.as_str().to_owned(),
        from_directory,
        members: members
            .into_iter()
            .map(|m| MemberView {
                login: m.login,
                display_name: m.display_name,
                from_directory: m.from_directory,
            })
            .collect(),
        fresh_proof: a.fresh_proof(),
    })
}

pub async fn create_group(name: String) -> Result<(), AppError> {
    let a = admin().await?;
    a.require_fresh_proof()?;
    groups::create(&a.st.services.db, a.actor().await, &name, a.now()).await?;
    let canonical = sspr_domain::identity::Login::parse(&name).map_err(|_| AppError::BadRequest)?;
    leptos_axum::redirect(&members_href(canonical.as_str()));
    Ok(())
}

pub async fn set_member(group: String, login: String, add: bool) -> Result<(), AppError> {
    let a = admin().await?;
    a.require_fresh_proof()?;
    groups::set_member(
        &a.st.services.db,
        a.actor().await,
        &group,
        &login,
        add,
        a.now(),
    )
    .await?;
    leptos_axum::redirect(&members_href(&group));
    Ok(())
}

pub async fn rename_group(group: String, name: String) -> Result<(), AppError> {
    let a = admin().await?;
    a.require_fresh_proof()?;
    groups::rename(&a.st.services.db, a.actor().await, &group, &name, a.now()).await?;
    let canonical = sspr_domain::identity::Login::parse(&name).map_err(|_| AppError::BadRequest)?;
    leptos_axum::redirect(&members_href(canonical.as_str()));
    Ok(())
}

pub async fn delete_group(group: String, confirm: bool) -> Result<(), AppError> {
    let a = admin().await?;
    a.require_fresh_proof()?;
    if !confirm {
        return Err(AppError::ConfirmationRequired);
    }
    groups::delete(&a.st.services.db, a.actor().await, &group, a.now()).await?;
    leptos_axum::redirect("/admin/groups?deleted=1");
    Ok(())
}
