//! Settings → Password reset: who may reset ("Self service password reset
//! enabled": None / Selected / All) and every other rule of the policy, in
//! groups, each field with its help and default. Saving needs a recent
//! proof of the password and makes a new version (see the history page).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use sspr_proto::admin::PolicyPageView;

use super::fields::{Section, SettingField, Shown};
use super::impact::HERE as PREVIEW;
use super::{AdminNav, ProofNotice, load_error};
use crate::api::admin::{AdminSavePolicy, admin_policy};
use crate::components::alert::ErrorAlert;
use crate::components::page::Page;
use crate::error::AppError;
use crate::format::number;
use crate::i18n::*;
use crate::plural::plural;
use crate::resource;

const HERE: &str = "/admin/password-reset";

#[component]
pub fn PolicyPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<AdminSavePolicy>::new();
    // Loaded again after each successful save, so the form carries the new
    // version; a refused save keeps what the admin typed.
    let saves = RwSignal::new(0_u32);
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            saves.update(|n| *n += 1);
        }
    });
    let view = resource::blocking(move || saves.get(), |_| admin_policy());
    view! {
        <Page title=move || t_str!(i18n, admin_policy_title).to_string() wide=true>
            <AdminNav current=HERE />
            <Suspense fallback=move || {
                view! { <p class="loading">{t_str!(i18n, loading)}</p> }
            }>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(v) => view! { <PolicyForm view=v action /> }.into_any(),
                        Err(e) => load_error(e, HERE),
                    }
                })}
            </Suspense>
        </Page>
    }
}

/// The clicked button's form as a query string, as the browser would
/// send it with `method=get`.
fn form_query(ev: &web_sys::MouseEvent) -> Option<String> {
    use wasm_bindgen::JsCast;
    let button: web_sys::HtmlButtonElement = ev.current_target()?.dyn_into().ok()?;
    let data = web_sys::FormData::new_with_form(&button.form()?).ok()?;
    let params = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).ok()?;
    Some(params.to_string().into())
}

#[component]
fn PolicyForm(view: PolicyPageView, action: ServerAction<AdminSavePolicy>) -> impl IntoView {
    let i18n = use_i18n();
    let navigate = leptos_router::hooks::use_navigate();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let invalid_field = Signal::derive(move || match error.get() {
        Some(AppError::InvalidSetting { field, .. }) => Some(field),
        _ => None,
    });
    // Without JavaScript the save's redirect says so in the URL.
    let query = use_query_map();
    let saved =
        move || matches!(action.value().get(), Some(Ok(()))) || query.read().get("saved").is_some();
    let PolicyPageView {
        version,
        settings,
        defaults,
        groups,
        config,
        fresh_proof,
    } = view;
    // Values typed before a refused save (or brought back from the
    // preview) come in the URL; after a save the stored ones are shown.
    // A draft made on another version is dropped: saving it would undo the
    // other admin's save (the form refuses it as `settings_changed` anyway).
    let typed = if matches!(action.value().get_untracked(), Some(Ok(()))) {
        None
    } else {
        Shown::typed(&query.read_untracked()).filter(|(v, _)| *v == version)
    };
    let unsaved = typed.is_some();
    let (version, shown) = typed.unwrap_or((version, Shown::Stored(Box::new(settings))));
    let scope = shown.text("sspr_scope");
    let scope_choice = move |value: &'static str, text: AnyView| {
        view! {
            <label class="choice">
                <input type="radio" name="sspr_scope" value=value checked=scope == value />
                {text}
            </label>
        }
    };
    let known_groups = if groups.is_empty() {
        t_str!(i18n, admin_no_local_groups).to_string()
    } else {
        groups.join(", ")
    };
    let groups_text = shown.text("sspr_groups");
    let second_factor = shown.text("sign_in_second_factor");
    let sections = Section::ALL
        .into_iter()
        .map(|section| {
            let shown = shown.clone();
            let defaults = defaults.clone();
            let fields = section
                .fields()
                .iter()
                .map(|f| {
                    view! { <SettingField field=f shown=shown.clone() defaults=defaults.clone() invalid_field /> }
                })
                .collect_view();
            let extra = match section {
                Section::SignIn => Some(
                    view! {
                        <div class="field">
                            <label for="sign_in_second_factor">
                                {t_str!(i18n, admin_field_sign_in_second_factor)}
                            </label>
                            <select
                                id="sign_in_second_factor"
                                name="sign_in_second_factor"
                                aria-describedby="sign_in_second_factor-hint"
                            >
                                <option value="admins" selected=second_factor == "admins">
                                    {t_str!(i18n, admin_second_factor_admins)}
                                </option>
                                <option value="everyone" selected=second_factor == "everyone">
                                    {t_str!(i18n, admin_second_factor_everyone)}
                                </option>
                            </select>
                            <p class="hint" id="sign_in_second_factor-hint">
                                {t_str!(i18n, admin_help_sign_in_second_factor)}
                            </p>
                        </div>
                        <ConfigFacts config=config.clone() />
                    }
                        .into_any(),
                ),
                _ => None,
            };
            view! {
                <fieldset>
                    <legend>{move || section.title(i18n.get_locale())}</legend>
                    {fields}
                    {extra}
                </fieldset>
            }
        })
        .collect_view();
    view! {
        <ProofNotice fresh=fresh_proof back_to=HERE />
        <div role="status">
            {move || {
                saved()
                    .then(|| {
                        view! {
                            <p class="notice" data-testid="saved">
                                {t_str!(i18n, admin_saved)}
                            </p>
                        }
                    })
            }}
        </div>
        {unsaved
            .then(|| {
                view! {
                    <p class="notice" data-testid="unsaved">
                        {t_str!(i18n, admin_settings_unsaved)}
                    </p>
                }
            })}
        <ErrorAlert error />
        <ActionForm action=action attr:class="settings">
            <input type="hidden" name="version" value=version />
            <fieldset>
                <legend>{t_str!(i18n, admin_section_properties)}</legend>
                <fieldset class="choices" aria-describedby="sspr_scope-hint">
                    <legend>{t_str!(i18n, admin_field_sspr_scope)}</legend>
                    {scope_choice("none", t_str!(i18n, admin_scope_none).into_any())}
                    {scope_choice("groups", t_str!(i18n, admin_scope_groups).into_any())}
                    {scope_choice("all", t_str!(i18n, admin_scope_all).into_any())}
                </fieldset>
                <p class="hint" id="sspr_scope-hint">
                    {t_str!(i18n, admin_help_sspr_scope)}
                </p>
                <div class="field">
                    <label for="sspr_groups">{t_str!(i18n, admin_field_sspr_groups)}</label>
                    <textarea
                        id="sspr_groups"
                        name="sspr_groups"
                        dir="ltr"
                        rows=3
                        spellcheck="false"
                        aria-describedby="sspr_groups-hint"
                        aria-invalid=move || {
                            (invalid_field.get().as_deref() == Some("sspr_groups"))
                                .then_some("true")
                        }
                    >
                        {groups_text}
                    </textarea>
                    <p class="hint" id="sspr_groups-hint">
                        {t_str!(i18n, admin_help_sspr_groups)}
                        " "
                        {t!(i18n, admin_known_groups, groups = move || known_groups.clone())}
                    </p>
                </div>
                <p class="notice" data-testid="admin-rule">
                    {t_str!(i18n, admin_rule_admins)}
                </p>
            </fieldset>
            {sections}
            <div class="actions">
                // Save first: Enter in a field submits with the first button.
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {t_str!(i18n, admin_save)}
                </button>
                // Without JavaScript the browser sends the form to the
                // preview page itself (`formaction`, GET); with it, the
                // click is turned into the same navigation before the save
                // form's own submit handler sees anything.
                <button
                    type="submit"
                    formaction=PREVIEW
                    formmethod="get"
                    formnovalidate=true
                    data-testid="preview"
                    on:click=move |ev| {
                        ev.prevent_default();
                        let query = form_query(&ev).unwrap_or_default();
                        navigate(&format!("{PREVIEW}?{query}"), Default::default());
                    }
                >
                    {t_str!(i18n, admin_preview)}
                </button>
            </div>
        </ActionForm>
    }
}

/// Settings that live in the configuration file, read-only here.
#[component]
fn ConfigFacts(config: sspr_proto::admin::ConfigFacts) -> impl IntoView {
    let i18n = use_i18n();
    let directory = config.directory.clone();
    let lockout_threshold = count(config.lockout_threshold);
    let lockout_account = count(config.lockout_account_threshold);
    let lockout_secs = count(config.lockout_base_secs);
    let idle_minutes = count(config.session_idle_secs / 60);
    let admin_idle_minutes = count(config.admin_session_idle_secs / 60);
    view! {
        <div class="config-facts">
            <p>{t_str!(i18n, admin_config_intro)}</p>
            <dl class="facts">
                <dt>{t_str!(i18n, admin_config_lockout)}</dt>
                <dd>
                    {move || {
                        let locale = i18n.get_locale();
                        let account = number(lockout_account, locale);
                        let text = t_str!(i18n, admin_config_lockout_value, account = account);
                        let text = plural(&text, locale, "threshold", lockout_threshold);
                        plural(&text, locale, "seconds", lockout_secs)
                    }}
                </dd>
                <dt>{t_str!(i18n, admin_config_sessions)}</dt>
                <dd>
                    {move || {
                        let locale = i18n.get_locale();
                        let admin_minutes = number(admin_idle_minutes, locale);
                        let text = t_str!(
                            i18n, admin_config_sessions_value, admin_minutes = admin_minutes
                        );
                        plural(&text, locale, "minutes", idle_minutes)
                    }}
                </dd>
                <dt>{t_str!(i18n, admin_config_directory)}</dt>
                <dd>
                    {move || {
                        if directory.is_empty() {
                            t_str!(i18n, admin_config_no_directory).to_string()
                        } else {
                            directory.clone()
                        }
                    }}
                </dd>
            </dl>
            <p class="hint">{t_str!(i18n, admin_config_where)}</p>
        </div>
    }
}

/// A setting's count for choosing a plural form; the configuration refuses
/// negative values, so 0 is never shown for a real one.
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
