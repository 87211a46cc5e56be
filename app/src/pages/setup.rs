//! The security-info registration wizard: intro and progress, then one
//! page per step. Every step is a plain form posting to a server function
//! that redirects to the next page, so the wizard needs no JavaScript.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use sspr_proto::views::{CUSTOM_QUESTION, PendingView, SetupView};
use sspr_proto::{MethodKind, PhoneChannel};

use crate::api::setup::{
    SetupAuthenticatorVerify, SetupCancel, SetupEmail, SetupFinish, SetupPhone, SetupQuestions,
    SetupReconfirm, SetupResend, SetupSkip, SetupVerify, setup_authenticator_key, setup_state,
};
use crate::components::alert::ErrorAlert;
use crate::components::field::{Input, TextField};
use crate::components::loader::WithView;
use crate::components::method::{MethodLabel, MethodList, QuestionText};
use crate::components::page::{Page, PageHeading};
use crate::components::phone::PhoneFields;
use crate::error::AppError;
use crate::i18n::*;
use crate::plural::plural;
use crate::resource;

const SIGN_IN: &str = "/sign-in?next=%2Fsecurity-info%2Fsetup";

/// The wizard's state could not be loaded: visitors who are not signed in
/// (or not recently enough) go to sign-in and come back here.
fn setup_error(e: AppError) -> AnyView {
    match e {
        AppError::NotSignedIn => view! { <Redirect path=SIGN_IN /> }.into_any(),
        AppError::ReauthenticationRequired => {
            view! { <Redirect path="/security-info/reauth?next=%2Fsecurity-info%2Fsetup" /> }
                .into_any()
        }
        e => view! { <ErrorAlert error=Signal::derive(move || Some(e.clone())) /> }.into_any(),
    }
}

/// "Step 2 of 3": one step per required method, then the summary.
#[component]
fn Progress(have: u64, need: u64) -> impl IntoView {
    let i18n = use_i18n();
    let total = need + 1;
    let current = (have + 1).min(total);
    view! {
        <p class="progress" aria-live="polite">
            {t!(i18n, setup_progress, current = current, total = total)}
        </p>
        <progress max=total value=current aria-hidden="true"></progress>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Page title=move || t_str!(i18n, setup_title).to_string() own_heading=true>
            <WithView
                load=setup_state
                error=setup_error
                page=|v: SetupView| view! { <SetupOverview v /> }
            />
        </Page>
    }
}

#[component]
fn SetupOverview(v: SetupView) -> impl IntoView {
    let i18n = use_i18n();
    let finish = ServerAction::<SetupFinish>::new();
    let skip = ServerAction::<SetupSkip>::new();
    let reconfirm = ServerAction::<SetupReconfirm>::new();
    let error = Signal::derive(move || {
        finish
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| skip.value().get().and_then(Result::err))
            .or_else(|| reconfirm.value().get().and_then(Result::err))
    });
    let enough = v.have >= v.need;
    let (need, have) = (v.need, v.have);
    let pending = v.pending.is_some();
    let allowed = v.allowed.clone();
    view! {
        <PageHeading>
            {if v.must_register {
                t_str!(i18n, setup_more_info_title).into_any()
            } else if v.must_reconfirm {
                t_str!(i18n, setup_reconfirm_title).into_any()
            } else {
                t_str!(i18n, setup_title).into_any()
            }}
        </PageHeading>
        <Progress have=v.have need=v.need />
        <p>{t!(i18n, setup_intro, need = need)}</p>
        <ErrorAlert error />
        {pending
            .then(|| {
                view! {
                    <p class="notice">
                        <a href="/security-info/setup/verify">
                            {t_str!(i18n, setup_continue_pending)}
                        </a>
                    </p>
                }
            })}
        <h2>{t!(i18n, setup_registered_heading, have = have)}</h2>
        <MethodList methods=v.methods.clone() />
        <h2>{t_str!(i18n, setup_add_heading)}</h2>
        <ul class="choices">
            {[
                (allowed.authenticator, "/security-info/setup/app", MethodKind::Authenticator),
                (allowed.sms || allowed.voice, "/security-info/setup/phone", MethodKind::Phone),
                (allowed.email, "/security-info/setup/email", MethodKind::Email),
                (allowed.questions, "/security-info/setup/questions", MethodKind::Questions),
            ]
                .into_iter()
                .filter(|(offered, _, _)| *offered)
                .map(|(_, href, kind)| {
                    view! {
                        <li>
                            <a href=href>
                                <MethodLabel kind=kind />
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        <div class="actions">
            {enough
                .then(|| {
                    view! {
                        <ActionForm action=finish>
                            <button
                                type="submit"
                                class="primary"
                                disabled=move || finish.pending().get()
                            >
                                {t_str!(i18n, action_finish)}
                            </button>
                        </ActionForm>
                    }
                })}
            {(v.must_reconfirm && enough)
                .then(|| {
                    view! {
                        <ActionForm action=reconfirm>
                            <button
                                type="submit"
                                class="secondary"
                                disabled=move || reconfirm.pending().get()
                            >
                                {t_str!(i18n, action_looks_good)}
                            </button>
                        </ActionForm>
                    }
                })}
            {v
                .may_skip
                .then(|| {
                    view! {
                        <ActionForm action=skip>
                            <button
                                type="submit"
                                class="secondary"
                                disabled=move || skip.pending().get()
                            >
                                {t_str!(i18n, action_ask_later)}
                            </button>
                        </ActionForm>
                    }
                })}
        </div>
    }
}

#[component]
pub fn SetupEmailPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<SetupEmail>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Page title=move || t_str!(i18n, setup_email_title).to_string() own_heading=true>
            <WithView
                load=setup_state
                error=setup_error
                page=move |v: SetupView| {
                    view! {
                        <PageHeading>{t_str!(i18n, setup_email_title)}</PageHeading>
                        <Progress have=v.have need=v.need />
                        <p>{t_str!(i18n, setup_email_intro)}</p>
                        <ErrorAlert error />
                        <ActionForm action=action>
                            <TextField id="address" input=Input::Email autofocus=true>
                                {t_str!(i18n, field_email)}
                            </TextField>
                            <button
                                type="submit"
                                class="primary"
                                disabled=move || action.pending().get()
                            >
                                {t_str!(i18n, action_send_code)}
                            </button>
                        </ActionForm>
                        <p>
                            <a href="/security-info/setup">{t_str!(i18n, action_back)}</a>
                        </p>
                    }
                }
            />
        </Page>
    }
}

#[component]
pub fn SetupPhonePage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<SetupPhone>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Page title=move || t_str!(i18n, setup_phone_title).to_string() own_heading=true>
            <WithView
                load=setup_state
                error=setup_error
                page=move |v: SetupView| {
                    view! {
                        <PageHeading>{t_str!(i18n, setup_phone_title)}</PageHeading>
                        <Progress have=v.have need=v.need />
                        <p>{t_str!(i18n, setup_phone_intro)}</p>
                        <ErrorAlert error />
                        <ActionForm action=action>
                            <PhoneFields
                                regions=v.phone_regions.clone()
                                default_region=v.default_region.clone()
                                sms=v.allowed.sms
                                voice=v.allowed.voice
                                autofocus=true
                            >
                                {t_str!(i18n, field_phone)}
                            </PhoneFields>
                            <button
                                type="submit"
                                class="primary"
                                disabled=move || action.pending().get()
                            >
                                {t_str!(i18n, action_send_code)}
                            </button>
                        </ActionForm>
                        <p>
                            <a href="/security-info/setup">{t_str!(i18n, action_back)}</a>
                        </p>
                    }
                }
            />
        </Page>
    }
}

#[component]
pub fn SetupVerifyPage() -> impl IntoView {
    let i18n = use_i18n();
    let verify = ServerAction::<SetupVerify>::new();
    let resend = ServerAction::<SetupResend>::new();
    let cancel = ServerAction::<SetupCancel>::new();
    let error = Signal::derive(move || {
        verify
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| resend.value().get().and_then(Result::err))
            .or_else(|| cancel.value().get().and_then(Result::err))
    });
    view! {
        <Page title=move || t_str!(i18n, setup_verify_title).to_string() own_heading=true>
            <WithView
                load=setup_state
                error=setup_error
                page=move |v: SetupView| match v.pending.clone() {
                    Some(
                        PendingView::Code { destination, digits, channel, delivery_failed, .. },
                    ) => {
                        view! {
                            <PageHeading>{t_str!(i18n, setup_verify_title)}</PageHeading>
                            <Progress have=v.have need=v.need />
                            {delivery_failed
                                .then(|| {
                                    view! {
                                        <p
                                            class="alert alert-error"
                                            role="status"
                                            data-code="delivery_failed"
                                        >
                                            {t_str!(i18n, setup_delivery_failed)}
                                            " "
                                            <a href="/security-info/setup">
                                                {t_str!(i18n, setup_choose_another)}
                                            </a>
                                        </p>
                                    }
                                })}
                            <p>
                                {match channel {
                                    Some(PhoneChannel::Voice) => {
                                        t!(
                                            i18n, setup_verify_sent_voice, destination = move || view! { <bdi dir="ltr">{destination.clone()}</bdi> }
                                        )
                                            .into_any()
                                    }
                                    Some(PhoneChannel::Sms) | None => {
                                        t!(
                                            i18n, setup_verify_sent, destination = move || view! { <bdi dir="ltr">{destination.clone()}</bdi> }
                                        )
                                            .into_any()
                                    }
                                }}
                            </p>
                            <ErrorAlert error />
                            <ActionForm action=verify>
                                <TextField id="code" input=Input::Code autofocus=true>
                                    {t!(i18n, field_code, digits = digits)}
                                </TextField>
                                <button
                                    type="submit"
                                    class="primary"
                                    disabled=move || verify.pending().get()
                                >
                                    {t_str!(i18n, action_verify)}
                                </button>
                            </ActionForm>
                            <div class="actions">
                                <ActionForm action=resend>
                                    <button
                                        type="submit"
                                        class="secondary"
                                        disabled=move || resend.pending().get()
                                    >
                                        {t_str!(i18n, action_resend)}
                                    </button>
                                </ActionForm>
                                <ActionForm action=cancel>
                                    <button
                                        type="submit"
                                        class="secondary"
                                        disabled=move || cancel.pending().get()
                                    >
                                        {t_str!(i18n, action_cancel)}
                                    </button>
                                </ActionForm>
                            </div>
                        }
                            .into_any()
                    }
                    _ => {
                        view! {
                            <PageHeading>{t_str!(i18n, setup_verify_title)}</PageHeading>
                            <ErrorAlert error />
                            <p>{t_str!(i18n, error_no_pending_code)}</p>
                            <p>
                                <a href="/security-info/setup">{t_str!(i18n, action_back)}</a>
                            </p>
                        }
                            .into_any()
                    }
                }
            />
        </Page>
    }
}

#[component]
pub fn SetupAppPage() -> impl IntoView {
    let i18n = use_i18n();
    let verify = ServerAction::<SetupAuthenticatorVerify>::new();
    let cancel = ServerAction::<SetupCancel>::new();
    let error = Signal::derive(move || {
        verify
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| cancel.value().get().and_then(Result::err))
    });
    let key = resource::blocking(|| (), |_| setup_authenticator_key());
    view! {
        <Page title=move || t_str!(i18n, setup_app_title).to_string() own_heading=true>
            <WithView
                load=setup_state
                error=setup_error
                page=move |v: SetupView| {
                    view! {
                        <PageHeading>{t_str!(i18n, setup_app_title)}</PageHeading>
                        <Progress have=v.have need=v.need />
                        <ol class="steps">
                            <li>{t_str!(i18n, setup_app_step_install)}</li>
                            <li>{t_str!(i18n, setup_app_step_scan)}</li>
                            <li>{t_str!(i18n, setup_app_step_code)}</li>
                        </ol>
                        <Suspense fallback=move || {
                            view! { <p class="loading">{t_str!(i18n, loading)}</p> }
                        }>
                            {move || Suspend::new(async move {
                                match key.await {
                                    Ok(k) => {
                                        view! {
                                            <figure class="qr">
                                                <div
                                                    class="qr-code"
                                                    role="img"
                                                    aria-label=t_str!(i18n, setup_app_qr_label).to_string()
                                                    inner_html=k.qr_svg.clone()
                                                ></div>
                                                <figcaption>
                                                    {t_str!(i18n, setup_app_key_label)} " "
                                                    <code dir="ltr" data-testid="totp-key">
                                                        {k.secret_text.clone()}
                                                    </code>
                                                </figcaption>
                                            </figure>
                                        }
                                            .into_any()
                                    }
                                    Err(e) => {
                                        view! {
                                            <ErrorAlert error=Signal::derive(move || Some(e.clone())) />
                                        }
                                            .into_any()
                                    }
                                }
                            })}
                        </Suspense>
                        <ErrorAlert error />
                        <ActionForm action=verify>
                            <TextField id="code" input=Input::Code>
                                {t!(i18n, field_code, digits = 6)}
                            </TextField>
                            <button
                                type="submit"
                                class="primary"
                                disabled=move || verify.pending().get()
                            >
                                {t_str!(i18n, action_verify)}
                            </button>
                        </ActionForm>
                        <ActionForm action=cancel>
                            <button
                                type="submit"
                                class="secondary"
                                disabled=move || cancel.pending().get()
                            >
                                {t_str!(i18n, action_cancel)}
                            </button>
                        </ActionForm>
                    }
                }
            />
        </Page>
    }
}

#[component]
pub fn SetupQuestionsPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<SetupQuestions>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Page title=move || t_str!(i18n, setup_questions_title).to_string() own_heading=true>
            <WithView
                load=setup_state
                error=setup_error
                page=move |v: SetupView| {
                    let count = v.questions_needed;
                    let predefined = v.predefined_questions.clone();
                    view! {
                        <PageHeading>{t_str!(i18n, setup_questions_title)}</PageHeading>
                        <Progress have=v.have need=v.need />
                        <p>
                            {plural(
                                t_str!(i18n, setup_questions_intro),
                                i18n.get_locale_untracked(),
                                "count",
                                count,
                            )}
                        </p>
                        <p class="notice">{t_str!(i18n, setup_questions_not_alone)}</p>
                        <ErrorAlert error />
                        <ActionForm action=action>
                            {(0..count as usize)
                                .map(|i| {
                                    let n = i + 1;
                                    let preselected = predefined
                                        .get(i)
                                        .cloned()
                                        .unwrap_or_default();
                                    // Each row starts on a different question, so the
                                    // defaults never repeat.
                                    view! {
                                        <fieldset class="field question">
                                            <legend id=format!(
                                                "q{n}-legend",
                                            )>{t!(i18n, setup_questions_question, n = n)}</legend>
                                            <select
                                                id=format!("q{n}-choice")
                                                name=format!("entries[{i}][choice]")
                                                aria-labelledby=format!("q{n}-legend")
                                            >
                                                {predefined
                                                    .iter()
                                                    .map(|id| {
                                                        let selected = *id == preselected;
                                                        view! {
                                                            <option value=id.clone() selected=selected>
                                                                <QuestionText id=id.clone() />
                                                            </option>
                                                        }
                                                    })
                                                    .collect_view()}
                                                <option value=CUSTOM_QUESTION>
                                                    {t_str!(i18n, setup_questions_custom_option)}
                                                </option>
                                            </select>
                                            <label for=format!(
                                                "q{n}-custom",
                                            )>{t_str!(i18n, setup_questions_custom_label)}</label>
                                            <input
                                                id=format!("q{n}-custom")
                                                name=format!("entries[{i}][custom]")
                                                type="text"
                                                autocomplete="off"
                                                maxlength="200"
                                            />
                                            <label for=format!(
                                                "q{n}-answer",
                                            )>{t_str!(i18n, setup_questions_answer)}</label>
                                            <input
                                                id=format!("q{n}-answer")
                                                name=format!("entries[{i}][answer]")
                                                type="text"
                                                autocomplete="off"
                                                spellcheck="false"
                                                required
                                                maxlength="40"
                                            />
                                        </fieldset>
                                    }
                                })
                                .collect_view()}
                            <button
                                type="submit"
                                class="primary"
                                disabled=move || action.pending().get()
                            >
                                {t_str!(i18n, action_save)}
                            </button>
                        </ActionForm>
                        <p>
                            <a href="/security-info/setup">{t_str!(i18n, action_back)}</a>
                        </p>
                    }
                }
            />
        </Page>
    }
}
