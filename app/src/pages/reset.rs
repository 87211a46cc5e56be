//! The password reset wizard: user ID and CAPTCHA, one or two verification
//! gates, the new password, done. Each step is a plain form posting to a
//! server function that redirects to the next page.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::Outlet;
use sspr_proto::MethodKind;
use sspr_proto::views::{ResetPasswordView, ResetView};

use crate::api::reset::{
    ResetAnswers, ResetAuthenticator, ResetEmail, ResetEmailHint, ResetPassword, ResetPhone,
    ResetQuestions, ResetResend, ResetStart, ResetUnlock, ResetVerify, reset_new_password_view,
    reset_state,
};
use crate::components::alert::ErrorAlert;
use crate::components::captcha::Captcha;
use crate::components::field::{Input, TextField};
use crate::components::form::ServerForm;
use crate::components::loader::WithView;
use crate::components::method::{MethodLabel, QuestionText};
use crate::components::page::Page;
use crate::components::password::{NewPasswordFields, Preview};
use crate::components::phone::PhoneFields;
use crate::error::AppError;
use crate::i18n::*;
use crate::resource;

/// The frame of every reset page. Each step costs one server call, its own
/// view; the help desk contact comes with the document (`HelpdeskContact`).
#[component]
pub fn ResetWizard() -> impl IntoView {
    view! { <Outlet /> }
}

/// "Step 2 of 4": user ID, verification, new password, done.
#[component]
fn Step(current: u64) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="progress">{t!(i18n, reset_step, current = current, total = 4)}</p>
        <progress max=4 value=current aria-hidden="true"></progress>
    }
}

/// "Verification 1 of 2", on the gate pages.
#[component]
fn GateProgress(passed: u64, needed: u64) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="progress">
            {t!(i18n, reset_gate_progress, current = (passed + 1).min(needed), total = needed)}
        </p>
    }
}

/// The flow's view could not be loaded (often: it expired): say why and
/// offer to start again.
fn flow_error(e: AppError) -> AnyView {
    view! {
        <ErrorAlert error=Signal::derive(move || Some(e.clone())) />
        <StartOver />
    }
    .into_any()
}

#[component]
fn StartOver() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p>
            <a href="/reset">{t_str!(i18n, reset_start_over)}</a>
        </p>
    }
}

#[component]
pub fn ResetPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<ResetStart>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Page title=move || t_str!(i18n, reset_title).to_string() helpdesk=true>
            <Step current=1 />
            <p>{t_str!(i18n, reset_intro)}</p>
            <ErrorAlert error />
            <ServerForm
                action
                read=|f| ResetStart {
                    login: f.text("login"),
                    captcha: f.text("captcha"),
                }
            >
                <TextField id="login" input=Input::UserId maxlength=256 autofocus=true>
                    {t_str!(i18n, field_user_id)}
                </TextField>
                <Captcha />
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {t_str!(i18n, action_next)}
                </button>
            </ServerForm>
            <p>
                <a href="/sign-in">{t_str!(i18n, link_back_to_sign_in)}</a>
            </p>
        </Page>
    }
}

#[component]
pub fn ResetVerifyPage() -> impl IntoView {
    let i18n = use_i18n();
    let email = ServerAction::<ResetEmail>::new();
    let phone = ServerAction::<ResetPhone>::new();
    let email_hint = ServerAction::<ResetEmailHint>::new();
    let app = ServerAction::<ResetAuthenticator>::new();
    let questions = ServerAction::<ResetQuestions>::new();
    let error = Signal::derive(move || {
        email
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| email_hint.value().get().and_then(Result::err))
            .or_else(|| phone.value().get().and_then(Result::err))
            .or_else(|| app.value().get().and_then(Result::err))
            .or_else(|| questions.value().get().and_then(Result::err))
    });
    view! {
        <Page title=move || t_str!(i18n, reset_verify_title).to_string() helpdesk=true>
            <WithView
                load=reset_state
                error=flow_error
                page=move |v: ResetView| {
                    let offers = |k: MethodKind| v.offered.contains(&k);
                    view! {
                        <Step current=2 />
                        <GateProgress passed=v.passed needed=v.gates_needed />
                        <p>{t_str!(i18n, reset_choose_method)}</p>
                        <ErrorAlert error />
                        {offers(MethodKind::Email)
                            .then(|| {
                                view! {
                                    <section class="gate" aria-labelledby="gate-email">
                                        <h2 id="gate-email">
                                            <MethodLabel kind=MethodKind::Email />
                                        </h2>
                                        {match v.email_hint.clone() {
                                            Some(hint) => {
                                                // Hints mode: the masked address, nothing to type.
                                                view! {
                                                    <p data-testid="email-hint">
                                                        {t!(
                                                            i18n, reset_email_to_hint, hint = move || view! { <bdi dir="ltr">{hint.clone()}</bdi> }
                                                        )}
                                                    </p>
                                                    <ActionForm action=email_hint>
                                                        <button
                                                            type="submit"
                                                            class="primary"
                                                            disabled=move || email_hint.pending().get()
                                                        >
                                                            {t_str!(i18n, action_send_code)}
                                                        </button>
                                                    </ActionForm>
                                                }
                                                    .into_any()
                                            }
                                            None => {
                                                view! {
                                                    <ActionForm action=email>
                                                        <TextField id="address" input=Input::Email>
                                                            {t_str!(i18n, reset_email_label)}
                                                        </TextField>
                                                        <p class="hint">{t_str!(i18n, reset_email_hint)}</p>
                                                        <button
                                                            type="submit"
                                                            class="primary"
                                                            disabled=move || email.pending().get()
                                                        >
                                                            {t_str!(i18n, action_send_code)}
                                                        </button>
                                                    </ActionForm>
                                                }
                                                    .into_any()
                                            }
                                        }}
                                    </section>
                                }
                            })}
                        {offers(MethodKind::Phone)
                            .then(|| {
                                view! {
                                    <section class="gate" aria-labelledby="gate-phone">
                                        <h2 id="gate-phone">
                                            <MethodLabel kind=MethodKind::Phone />
                                        </h2>
                                        <ActionForm action=phone>
                                            <PhoneFields
                                                regions=v.phone_regions.clone()
                                                default_region=v.default_region.clone()
                                                sms=v.sms
                                                voice=v.voice
                                                hint=v.phone_hint.clone()
                                            >
                                                {t_str!(i18n, reset_phone_label)}
                                            </PhoneFields>
                                            <button
                                                type="submit"
                                                class="primary"
                                                disabled=move || phone.pending().get()
                                            >
                                                {t_str!(i18n, action_send_code)}
                                            </button>
                                        </ActionForm>
                                    </section>
                                }
                            })}
                        {offers(MethodKind::Authenticator)
                            .then(|| {
                                view! {
                                    <section class="gate" aria-labelledby="gate-app">
                                        <h2 id="gate-app">
                                            <MethodLabel kind=MethodKind::Authenticator />
                                        </h2>
                                        <p class="hint">{t_str!(i18n, reset_app_hint)}</p>
                                        <ActionForm action=app>
                                            <button
                                                type="submit"
                                                class="secondary"
                                                disabled=move || app.pending().get()
                                            >
                                                {t_str!(i18n, action_use_app)}
                                            </button>
                                        </ActionForm>
                                    </section>
                                }
                            })}
                        {offers(MethodKind::Questions)
                            .then(|| {
                                view! {
                                    <section class="gate" aria-labelledby="gate-questions">
                                        <h2 id="gate-questions">
                                            <MethodLabel kind=MethodKind::Questions />
                                        </h2>
                                        <p class="hint">{t_str!(i18n, reset_questions_hint)}</p>
                                        <ActionForm action=questions>
                                            <button
                                                type="submit"
                                                class="secondary"
                                                disabled=move || questions.pending().get()
                                            >
                                                {t_str!(i18n, action_answer_questions)}
                                            </button>
                                        </ActionForm>
                                    </section>
                                }
                            })}
                    }
                }
            />
        </Page>
    }
}

#[component]
pub fn ResetCodePage() -> impl IntoView {
    let i18n = use_i18n();
    let verify = ServerAction::<ResetVerify>::new();
    let resend = ServerAction::<ResetResend>::new();
    let error = Signal::derive(move || {
        verify
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| resend.value().get().and_then(Result::err))
    });
    view! {
        <Page title=move || t_str!(i18n, reset_code_title).to_string() helpdesk=true>
            <WithView
                load=reset_state
                error=flow_error
                page=move |v: ResetView| match v.pending {
                    Some((kind, digits)) if kind != MethodKind::Questions => {
                        let by_app = kind == MethodKind::Authenticator;
                        view! {
                            <Step current=2 />
                            <GateProgress passed=v.passed needed=v.gates_needed />
                            <p>
                                {if by_app {
                                    t_str!(i18n, reset_code_app).into_any()
                                } else {
                                    t_str!(i18n, reset_code_sent).into_any()
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
                            {(!by_app)
                                .then(|| {
                                    view! {
                                        <ActionForm action=resend>
                                            <button
                                                type="submit"
                                                class="secondary"
                                                disabled=move || resend.pending().get()
                                            >
                                                {t_str!(i18n, action_resend)}
                                            </button>
                                        </ActionForm>
                                    }
                                })}
                            <p>
                                <a href="/reset/verify">{t_str!(i18n, reset_other_method)}</a>
                            </p>
                        }
                            .into_any()
                    }
                    _ => {
                        view! {
                            <ErrorAlert error />
                            <p>{t_str!(i18n, error_no_pending_code)}</p>
                            <p>
                                <a href="/reset/verify">{t_str!(i18n, reset_other_method)}</a>
                            </p>
                        }
                            .into_any()
                    }
                }
            />
        </Page>
    }
}

/// The security-questions gate: every question of the account, one answer
/// each (`answers[i]`).
#[component]
pub fn ResetQuestionsPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<ResetAnswers>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Page title=move || t_str!(i18n, reset_questions_title).to_string() helpdesk=true>
            <WithView
                load=reset_state
                error=flow_error
                page=move |v: ResetView| {
                    if v.questions.is_empty() {
                        return view! {
                            <p>{t_str!(i18n, error_no_pending_code)}</p>
                            <p>
                                <a href="/reset/verify">{t_str!(i18n, reset_other_method)}</a>
                            </p>
                        }
                            .into_any();
                    }
                    view! {
                        <Step current=2 />
                        <GateProgress passed=v.passed needed=v.gates_needed />
                        <p>{t_str!(i18n, reset_questions_intro)}</p>
                        <ErrorAlert error />
                        <ActionForm action=action>
                            {v
                                .questions
                                .iter()
                                .enumerate()
                                .map(|(i, q)| {
                                    let label = if q.predefined {
                                        view! { <QuestionText id=q.text.clone() /> }.into_any()
                                    } else {
                                        view! { <bdi>{q.text.clone()}</bdi> }.into_any()
                                    };
                                    view! {
                                        <TextField
                                            id=format!("answer-{}", i + 1)
                                            name=format!("answers[{i}]")
                                            input=Input::Answer
                                            autofocus=i == 0
                                        >
                                            {label}
                                        </TextField>
                                    }
                                })
                                .collect_view()}
                            <button
                                type="submit"
                                class="primary"
                                disabled=move || action.pending().get()
                            >
                                {t_str!(i18n, action_verify)}
                            </button>
                        </ActionForm>
                        <p>
                            <a href="/reset/verify">{t_str!(i18n, reset_other_method)}</a>
                        </p>
                    }
                        .into_any()
                }
            />
        </Page>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<ResetPassword>::new();
    let unlock = ServerAction::<ResetUnlock>::new();
    let error = Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| unlock.value().get().and_then(Result::err))
    });
    let view = resource::blocking(|| (), |_| reset_new_password_view());
    view! {
        <Page title=move || t_str!(i18n, reset_password_title).to_string() helpdesk=true>
            <Step current=3 />
            <Suspense fallback=move || {
                view! { <p class="loading">{t_str!(i18n, loading)}</p> }
            }>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(ResetPasswordView { rules: r, allow_unlock }) => {
                            view! {
                                <ErrorAlert error />
                                <ActionForm action=action>
                                    <NewPasswordFields rules=r preview=Preview::Reset />
                                    <button
                                        type="submit"
                                        class="primary"
                                        disabled=move || action.pending().get()
                                    >
                                        {t_str!(i18n, action_reset_password)}
                                    </button>
                                </ActionForm>
                                {allow_unlock
                                    .then(|| {
                                        view! {
                                            <section class="unlock">
                                                <p>{t_str!(i18n, reset_unlock_intro)}</p>
                                                <ActionForm action=unlock>
                                                    <button
                                                        type="submit"
                                                        class="secondary"
                                                        disabled=move || unlock.pending().get()
                                                    >
                                                        {t_str!(i18n, action_unlock)}
                                                    </button>
                                                </ActionForm>
                                            </section>
                                        }
                                    })}
                            }
                                .into_any()
                        }
                        Err(e) => {
                            let start_over = matches!(
                                e,
                                AppError::FlowExpired | AppError::GatesIncomplete
                            );
                            view! {
                                <ErrorAlert error=Signal::derive(move || Some(e.clone())) />
                                {start_over.then(|| view! { <StartOver /> })}
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
pub fn ResetUnlockedPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Page title=move || t_str!(i18n, reset_unlocked_title).to_string()>
            <p role="status">{t_str!(i18n, reset_unlocked)}</p>
            <p>
                <a class="button primary" href="/sign-in">
                    {t_str!(i18n, action_sign_in)}
                </a>
            </p>
        </Page>
    }
}

#[component]
pub fn ResetDonePage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Page title=move || t_str!(i18n, reset_done_title).to_string()>
            <Step current=4 />
            <p role="status">{t_str!(i18n, reset_done)}</p>
            <p>
                <a class="button primary" href="/sign-in">
                    {t_str!(i18n, action_sign_in)}
                </a>
            </p>
        </Page>
    }
}
