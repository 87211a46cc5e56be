use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use sspr_proto::views::{FactorChoice, SecondFactorView};
use sspr_proto::{MethodKind, PhoneChannel};

use crate::api::{SignIn, SignInChoose, SignInResend, SignInVerify, sign_in_factors};
use crate::components::alert::ErrorAlert;
use crate::components::field::{Input, TextField};
use crate::components::form::ServerForm;
use crate::components::loader::WithView;
use crate::components::page::Page;
use crate::error::AppError;
use crate::i18n::*;

#[component]
pub fn SignInPage() -> impl IntoView {
    let i18n = use_i18n();
    // Created under <Routes>, so an error carried back in the URL after a
    // no-JavaScript post becomes the action's initial value.
    let action = ServerAction::<SignIn>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    // Where to go after signing in (the server accepts local paths only).
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let invalid = Signal::derive(move || error.get().is_some());
    view! {
        <Page title=move || t_str!(i18n, sign_in_title).to_string()>
            <p>{t_str!(i18n, sign_in_intro)}</p>
            <ErrorAlert error />
            <ServerForm
                action
                read=|f| SignIn {
                    login: f.text("login"),
                    password: f.text("password"),
                    next: f.text("next"),
                }
            >
                <input type="hidden" name="next" value=next />
                <TextField id="login" input=Input::UserId autofocus=true invalid>
                    {t_str!(i18n, field_user_id)}
                </TextField>
                <TextField id="password" input=Input::CurrentPassword ltr=true invalid>
                    {t_str!(i18n, field_password)}
                </TextField>
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {t_str!(i18n, action_sign_in)}
                </button>
            </ServerForm>
            <ul class="links">
                <li>
                    <a href="/reset">{t_str!(i18n, link_forgot_password)}</a>
                </li>
                <li>
                    <a href="/security-info/setup">{t_str!(i18n, link_register_security_info)}</a>
                </li>
            </ul>
        </Page>
    }
}

/// The second factor's flow could not be loaded (usually: it expired):
/// say so and offer the sign-in page again.
fn factor_error(e: AppError) -> AnyView {
    view! {
        <ErrorAlert error=Signal::derive(move || Some(e.clone())) />
        <SignInAgain />
    }
    .into_any()
}

#[component]
fn SignInAgain() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p>
            <a href="/sign-in">{t_str!(i18n, second_factor_start_over)}</a>
        </p>
    }
}

/// What a method's button says: "Email a code to da***@example.org".
#[component]
fn ChoiceLabel(choice: FactorChoice) -> impl IntoView {
    let i18n = use_i18n();
    let m = choice.masked;
    match (choice.kind, choice.channel) {
        (MethodKind::Email, _) => t!(
            i18n,
            second_factor_by_email,
            to = move || view! { <bdi dir="ltr">{m.clone()}</bdi> }
        )
        .into_any(),
        (MethodKind::Phone, Some(PhoneChannel::Voice)) => t!(
            i18n,
            second_factor_by_call,
            to = move || view! { <bdi dir="ltr">{m.clone()}</bdi> }
        )
        .into_any(),
        (MethodKind::Phone, _) => t!(
            i18n,
            second_factor_by_text,
            to = move || view! { <bdi dir="ltr">{m.clone()}</bdi> }
        )
        .into_any(),
        _ => t_str!(i18n, second_factor_by_app).into_any(),
    }
}

/// After the right password, for accounts whose sign-in asks for more:
/// one button per registered method.
#[component]
pub fn SignInVerifyPage() -> impl IntoView {
    let i18n = use_i18n();
    let choose = ServerAction::<SignInChoose>::new();
    let error = Signal::derive(move || choose.value().get().and_then(Result::err));
    view! {
        <Page title=move || t_str!(i18n, second_factor_title).to_string()>
            <WithView
                load=sign_in_factors
                error=factor_error
                page=move |v: SecondFactorView| {
                    view! {
                        <p>{t_str!(i18n, second_factor_intro)}</p>
                        <ErrorAlert error />
                        <ul class="choices">
                            {v
                                .choices
                                .into_iter()
                                .enumerate()
                                .map(|(i, c)| {
                                    let id = c.id.to_string();
                                    let class = if i == 0 { "primary" } else { "secondary" };
                                    view! {
                                        <li>
                                            <ActionForm action=choose>
                                                <input type="hidden" name="method" value=id />
                                                <button
                                                    type="submit"
                                                    class=class
                                                    disabled=move || choose.pending().get()
                                                >
                                                    <ChoiceLabel choice=c />
                                                </button>
                                            </ActionForm>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                        <SignInAgain />
                    }
                }
            />
        </Page>
    }
}

/// The code of the chosen method.
#[component]
pub fn SignInCodePage() -> impl IntoView {
    let i18n = use_i18n();
    let verify = ServerAction::<SignInVerify>::new();
    let resend = ServerAction::<SignInResend>::new();
    let error = Signal::derive(move || {
        verify
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| resend.value().get().and_then(Result::err))
    });
    view! {
        <Page title=move || t_str!(i18n, second_factor_code_title).to_string()>
            <WithView
                load=sign_in_factors
                error=factor_error
                page=move |v: SecondFactorView| match v.pending {
                    Some((choice, digits)) => {
                        let by_app = choice.kind == MethodKind::Authenticator;
                        view! {
                            <p>
                                {if by_app {
                                    t_str!(i18n, reset_code_app).into_any()
                                } else {
                                    let m = choice.masked.clone();
                                    t!(
                                        i18n, second_factor_code_sent, to = move || view! { <bdi dir="ltr">{m.clone()}</bdi> }
                                    )
                                        .into_any()
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
                                <a href="/sign-in/verify">{t_str!(i18n, reset_other_method)}</a>
                            </p>
                        }
                            .into_any()
                    }
                    None => {
                        view! {
                            <ErrorAlert error />
                            <p>{t_str!(i18n, error_no_pending_code)}</p>
                            <p>
                                <a href="/sign-in/verify">{t_str!(i18n, reset_other_method)}</a>
                            </p>
                        }
                            .into_any()
                    }
                }
            />
        </Page>
    }
}
