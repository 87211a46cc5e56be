//! The password reset settings as form fields: which fields there are, in
//! the groups an admin thinks in, what kind of input each is, its label
//! and help text in the page's language, and its value in a view.

use leptos::prelude::*;
use sspr_proto::admin::PolicySettings;

use crate::i18n::*;

/// What input a field is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A whole number within bounds (the server's `Policy::validate`).
    Number { min: i64, max: i64 },
    /// A checkbox.
    Flag,
    /// One line of text, left to right (codes, addresses).
    Text,
    /// One item per line.
    List,
}

pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
}

const fn number(name: &'static str, min: i64, max: i64) -> Field {
    Field {
        name,
        kind: Kind::Number { min, max },
    }
}
const fn flag(name: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Flag,
    }
}
const fn text(name: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Text,
    }
}
const fn list(name: &'static str) -> Field {
    Field {
        name,
        kind: Kind::List,
    }
}

/// A group of fields (a `fieldset`); "properties" (who may reset) has a
/// form of its own in the page, so it is not listed here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Methods,
    Registration,
    Notifications,
    Customization,
    PasswordPolicy,
    SignIn,
    Phone,
    Codes,
}

impl Section {
    pub const ALL: [Section; 8] = [
        Section::Methods,
        Section::Registration,
        Section::Notifications,
        Section::Customization,
        Section::PasswordPolicy,
        Section::SignIn,
        Section::Phone,
        Section::Codes,
    ];

    pub fn fields(self) -> &'static [Field] {
        const METHODS: &[Field] = &[
            number("methods_required", 1, 2),
            flag("allow_email"),
            flag("allow_phone_sms"),
            flag("allow_phone_voice"),
            flag("allow_authenticator"),
            flag("allow_questions"),
            number("questions_to_register", 1, 5),
        ];
        const REGISTRATION: &[Field] = &[
            flag("require_registration"),
            number("max_registration_skips", 0, 10),
            number("reconfirm_days", 0, 730),
        ];
        const NOTIFICATIONS: &[Field] = &[
            flag("notify_users_on_reset"),
            flag("notify_admins_on_admin_reset"),
        ];
        const CUSTOMIZATION: &[Field] = &[text("helpdesk_contact")];
        const PASSWORD_POLICY: &[Field] = &[
            number("single_factor_password_min_length", 8, 128),
            number("password_min_length", 8, 128),
            list("banned_words"),
        ];
        const SIGN_IN: &[Field] = &[];
        const PHONE: &[Field] = &[
            list("phone_regions"),
            text("default_phone_region"),
            number("max_sends_per_destination_per_hour", 1, 100),
            number("max_sends_per_account_per_hour", 1, 100),
        ];
        const CODES: &[Field] = &[
            number("email_code_length", 6, 10),
            number("phone_code_length", 6, 10),
            number("code_ttl_secs", 60, 3600),
            number("max_code_attempts", 1, 10),
            number("resend_cooldown_secs", 10, 3600),
            flag("allow_unlock"),
            flag("reset_show_hints"),
        ];
        match self {
            Section::Methods => METHODS,
            Section::Registration => REGISTRATION,
            Section::Notifications => NOTIFICATIONS,
            Section::Customization => CUSTOMIZATION,
            Section::PasswordPolicy => PASSWORD_POLICY,
            Section::SignIn => SIGN_IN,
            Section::Phone => PHONE,
            Section::Codes => CODES,
        }
    }

    pub fn title(self, l: Locale) -> String {
        match self {
            Section::Methods => td_str!(l, admin_section_methods),
            Section::Registration => td_str!(l, admin_section_registration),
            Section::Notifications => td_str!(l, admin_section_notifications),
            Section::Customization => td_str!(l, admin_section_customization),
            Section::PasswordPolicy => td_str!(l, admin_section_password_policy),
            Section::SignIn => td_str!(l, admin_section_sign_in),
            Section::Phone => td_str!(l, admin_section_phone),
            Section::Codes => td_str!(l, admin_section_codes),
        }
        .to_string()
    }
}

/// A field's label (also what an `invalid_setting` error names).
pub fn label(l: Locale, field: &str) -> String {
    match field {
        "sspr_scope" => td_str!(l, admin_field_sspr_scope),
        "sspr_groups" => td_str!(l, admin_field_sspr_groups),
        "groups" => td_str!(l, admin_field_user_groups),
        "methods_required" => td_str!(l, admin_field_methods_required),
        "allowed_methods" => td_str!(l, admin_field_allowed_methods),
        "allow_email" => td_str!(l, admin_field_allow_email),
        "allow_phone_sms" => td_str!(l, admin_field_allow_phone_sms),
        "allow_phone_voice" => td_str!(l, admin_field_allow_phone_voice),
        "allow_authenticator" => td_str!(l, admin_field_allow_authenticator),
        "allow_questions" => td_str!(l, admin_field_allow_questions),
        "questions_to_register" => td_str!(l, admin_field_questions_to_register),
        "require_registration" => td_str!(l, admin_field_require_registration),
        "max_registration_skips" => td_str!(l, admin_field_max_registration_skips),
        "reconfirm_days" => td_str!(l, admin_field_reconfirm_days),
        "notify_users_on_reset" => td_str!(l, admin_field_notify_users_on_reset),
        "notify_admins_on_admin_reset" => td_str!(l, admin_field_notify_admins_on_admin_reset),
        "helpdesk_contact" => td_str!(l, admin_field_helpdesk_contact),
        "password_min_length" => td_str!(l, admin_field_password_min_length),
        "single_factor_password_min_length" => {
            td_str!(l, admin_field_single_factor_password_min_length)
        }
        "banned_words" => td_str!(l, admin_field_banned_words),
        "phone_regions" => td_str!(l, admin_field_phone_regions),
        "default_phone_region" => td_str!(l, admin_field_default_phone_region),
        "max_sends_per_destination_per_hour" => {
            td_str!(l, admin_field_max_sends_per_destination_per_hour)
        }
        "max_sends_per_account_per_hour" => {
            td_str!(l, admin_field_max_sends_per_account_per_hour)
        }
        "allow_unlock" => td_str!(l, admin_field_allow_unlock),
        "reset_show_hints" => td_str!(l, admin_field_reset_show_hints),
        "sign_in_second_factor" => td_str!(l, admin_field_sign_in_second_factor),
        "email_code_length" => td_str!(l, admin_field_email_code_length),
        "phone_code_length" => td_str!(l, admin_field_phone_code_length),
        "code_ttl_secs" => td_str!(l, admin_field_code_ttl_secs),
        "max_code_attempts" => td_str!(l, admin_field_max_code_attempts),
        "resend_cooldown_secs" => td_str!(l, admin_field_resend_cooldown_secs),
        _ => return field.to_owned(),
    }
    .to_string()
}

/// A field's help text.
pub fn help(l: Locale, field: &str) -> String {
    match field {
        "sspr_groups" => td_str!(l, admin_help_sspr_groups),
        "methods_required" => td_str!(l, admin_help_methods_required),
        "allow_questions" => td_str!(l, admin_help_allow_questions),
        "questions_to_register" => td_str!(l, admin_help_questions_to_register),
        "require_registration" => td_str!(l, admin_help_require_registration),
        "max_registration_skips" => td_str!(l, admin_help_max_registration_skips),
        "reconfirm_days" => td_str!(l, admin_help_reconfirm_days),
        "notify_users_on_reset" => td_str!(l, admin_help_notify_users_on_reset),
        "notify_admins_on_admin_reset" => td_str!(l, admin_help_notify_admins_on_admin_reset),
        "helpdesk_contact" => td_str!(l, admin_help_helpdesk_contact),
        "password_min_length" => td_str!(l, admin_help_password_min_length),
        "single_factor_password_min_length" => {
            td_str!(l, admin_help_single_factor_password_min_length)
        }
        "banned_words" => td_str!(l, admin_help_banned_words),
        "phone_regions" => td_str!(l, admin_help_phone_regions),
        "default_phone_region" => td_str!(l, admin_help_default_phone_region),
        "max_sends_per_destination_per_hour" => {
            td_str!(l, admin_help_max_sends_per_destination_per_hour)
        }
        "max_sends_per_account_per_hour" => {
            td_str!(l, admin_help_max_sends_per_account_per_hour)
        }
        "allow_unlock" => td_str!(l, admin_help_allow_unlock),
        "reset_show_hints" => td_str!(l, admin_help_reset_show_hints),
        "sign_in_second_factor" => td_str!(l, admin_help_sign_in_second_factor),
        "email_code_length" | "phone_code_length" => td_str!(l, admin_help_code_length),
        "code_ttl_secs" => td_str!(l, admin_help_code_ttl_secs),
        "max_code_attempts" => td_str!(l, admin_help_max_code_attempts),
        "resend_cooldown_secs" => td_str!(l, admin_help_resend_cooldown_secs),
        _ => return String::new(),
    }
    .to_string()
}

/// A text or number field's value as the form shows it (lists one item
/// per line).
pub fn text_of(s: &PolicySettings, field: &str) -> String {
    match field {
        "sspr_scope" => s.sspr_scope.clone(),
        "sspr_groups" => s.sspr_groups.join("\n"),
        "methods_required" => s.methods_required.to_string(),
        "questions_to_register" => s.questions_to_register.to_string(),
        "max_registration_skips" => s.max_registration_skips.to_string(),
        "reconfirm_days" => s.reconfirm_days.to_string(),
        "helpdesk_contact" => s.helpdesk_contact.clone(),
        "password_min_length" => s.password_min_length.to_string(),
        "single_factor_password_min_length" => s.single_factor_password_min_length.to_string(),
        "banned_words" => s.banned_words.join("\n"),
        "phone_regions" => s.phone_regions.join("\n"),
        "default_phone_region" => s.default_phone_region.clone(),
        "max_sends_per_destination_per_hour" => s.max_sends_per_destination_per_hour.to_string(),
        "max_sends_per_account_per_hour" => s.max_sends_per_account_per_hour.to_string(),
        "sign_in_second_factor" => s.sign_in_second_factor.clone(),
        "email_code_length" => s.email_code_length.to_string(),
        "phone_code_length" => s.phone_code_length.to_string(),
        "code_ttl_secs" => s.code_ttl_secs.to_string(),
        "max_code_attempts" => s.max_code_attempts.to_string(),
        "resend_cooldown_secs" => s.resend_cooldown_secs.to_string(),
        _ => String::new(),
    }
}

/// What the form shows: the stored settings, or the values typed in it
/// and brought back in the page's URL (a save refused without JavaScript,
/// or "back to editing" from the impact preview), so an edit is not lost.
#[derive(Clone, Debug)]
pub enum Shown {
    Stored(Box<PolicySettings>),
    Typed(Vec<(String, String)>),
}

impl Shown {
    /// The form in `query`, with the version it was loaded with, when the
    /// query carries one (its hidden `version` field marks it).
    pub fn typed(query: &leptos_router::params::ParamsMap) -> Option<(i64, Shown)> {
        let version = query.get("version")?.parse().ok()?;
        let pairs = sspr_proto::admin::POLICY_FIELDS
            .iter()
            .filter_map(|f| query.get(f).map(|v| ((*f).to_owned(), v)))
            .collect();
        Some((version, Shown::Typed(pairs)))
    }

    /// A text, number or list field's value as the form shows it.
    pub fn text(&self, field: &str) -> String {
        match self {
            Shown::Stored(s) => text_of(s, field),
            Shown::Typed(pairs) => pairs
                .iter()
                .find(|(f, _)| f == field)
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
        }
    }

    /// A checkbox's state (a ticked box is posted, an unticked one not).
    pub fn flag(&self, field: &str) -> bool {
        match self {
            Shown::Stored(s) => flag_of(s, field),
            Shown::Typed(_) => !self.text(field).is_empty(),
        }
    }
}

/// A checkbox's state.
pub fn flag_of(s: &PolicySettings, field: &str) -> bool {
    match field {
        "allow_email" => s.allow_email,
        "allow_phone_sms" => s.allow_phone_sms,
        "allow_phone_voice" => s.allow_phone_voice,
        "allow_authenticator" => s.allow_authenticator,
        "allow_questions" => s.allow_questions,
        "require_registration" => s.require_registration,
        "notify_users_on_reset" => s.notify_users_on_reset,
        "notify_admins_on_admin_reset" => s.notify_admins_on_admin_reset,
        "allow_unlock" => s.allow_unlock,
        "reset_show_hints" => s.reset_show_hints,
        _ => false,
    }
}

/// One field: label, input, help text with the default, and the invalid
/// state while the last save named this field.
#[component]
pub fn SettingField(
    field: &'static Field,
    shown: Shown,
    defaults: PolicySettings,
    #[prop(into)] invalid_field: Signal<Option<String>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let name = field.name;
    let hint_id = format!("{name}-hint");
    // A refusal of the combination of methods marks every method's box.
    let method = matches!(
        name,
        "allow_email"
            | "allow_phone_sms"
            | "allow_phone_voice"
            | "allow_authenticator"
            | "allow_questions"
    );
    let invalid = move || {
        let named = invalid_field.get();
        named.as_deref() == Some(name) || (method && named.as_deref() == Some("allowed_methods"))
    };
    let help = move || help(i18n.get_locale(), name);
    let default = match field.kind {
        Kind::Flag => {
            if flag_of(&defaults, name) {
                td_str!(i18n.get_locale_untracked(), admin_default_on).to_string()
            } else {
                td_str!(i18n.get_locale_untracked(), admin_default_off).to_string()
            }
        }
        Kind::List if text_of(&defaults, name).is_empty() => {
            td_str!(i18n.get_locale_untracked(), admin_default_empty).to_string()
        }
        _ => text_of(&defaults, name).replace('\n', ", "),
    };
    let hint = view! {
        <p class="hint" id=hint_id.clone()>
            {help}
            " "
            {t!(i18n, admin_default, value = move || default.clone())}
        </p>
    };
    let label = move || label(i18n.get_locale(), name);
    match field.kind {
        Kind::Flag => view! {
            <div class="field">
                <label class="choice">
                    <input
                        type="checkbox"
                        name=name
                        value="on"
                        checked=shown.flag(name)
                        aria-describedby=hint_id
                        aria-invalid=move || invalid().then_some("true")
                    />
                    {label}
                </label>
                {hint}
            </div>
        }
        .into_any(),
        Kind::Number { min, max } => view! {
            <div class="field">
                <label for=name>{label}</label>
                <input
                    type="number"
                    id=name
                    name=name
                    inputmode="numeric"
                    min=min
                    max=max
                    required=true
                    value=shown.text(name)
                    aria-describedby=hint_id
                    aria-invalid=move || invalid().then_some("true")
                />
                {hint}
            </div>
        }
        .into_any(),
        Kind::Text => view! {
            <div class="field">
                <label for=name>{label}</label>
                <input
                    type="text"
                    id=name
                    name=name
                    dir="ltr"
                    spellcheck="false"
                    autocomplete="off"
                    maxlength=256
                    value=shown.text(name)
                    aria-describedby=hint_id
                    aria-invalid=move || invalid().then_some("true")
                />
                {hint}
            </div>
        }
        .into_any(),
        Kind::List => view! {
            <div class="field">
                <label for=name>{label}</label>
                <textarea
                    id=name
                    name=name
                    dir="ltr"
                    rows=4
                    spellcheck="false"
                    aria-describedby=hint_id
                    aria-invalid=move || invalid().then_some("true")
                >
                    {shown.text(name)}
                </textarea>
                {hint}
            </div>
        }
        .into_any(),
    }
}
