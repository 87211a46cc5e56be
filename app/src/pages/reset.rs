//! The password reset wizard: user ID and CAPTCHA, one or two verification
//! gates, the new password, done. Each step is a plain form posting to a
//! server function that redirects to the next page.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use sha2::{Digest, Sha256};
use sspr_proto::MethodKind;
use sspr_proto::views::{CaptchaPuzzle, ResetView};

use crate::api::reset::{
    ResetAnswers, ResetAuthenticator, ResetEmail, ResetEmailHint, ResetPassword, ResetPhone,
    ResetQuestions, ResetResend, ResetStart, ResetUnlock, ResetVerify, reset_challenge,
    reset_helpdesk, reset_password_rules, reset_state,
};
use crate::components::alert::ErrorAlert;
use crate::components::method::{MethodLabel, QuestionText};
use crate::components::password::{NewPasswordFields, Preview};
use crate::components::phone::PhoneFields;
use crate::error::AppError;
use crate::i18n::*;

/// "Step 2 of 4": user ID, verification, new password, done.
#[component]
fn Step(current: u64) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="progress">{t!(i18n, reset_step, current = current, total = 4)}</p>
        <progress max=4 value=current aria-hidden="true"></progress>
    }
}

/// "Need help?" with the organisation's help desk, when one is set.
#[component]
fn Helpdesk() -> impl IntoView {
    let i18n = use_i18n();
    let contact = Resource::new_blocking(|| (), |_| reset_helpdesk());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let c = contact.await.unwrap_or_default();
                (!c.is_empty()).then(|| {
                    let href = if c.contains('@') && !c.contains("://") {
                        format!("mailto:{c}")
                    } else {
                        c.clone()
                    };
                    view! {
                        <p class="helpdesk">
                            {t!(i18n, reset_helpdesk)}
                            " "
                            <a href=href dir="ltr">{c}</a>
                        </p>
                    }
                })
            })}
        </Suspense>
    }
}

/// Finds the number whose SHA-256 with the salt is the challenge (ALTCHA),
/// and returns the answer the server expects.
fn solve(p: &CaptchaPuzzle) -> Option<String> {
    if p.algorithm != "SHA-256" {
        return None;
    }
    (0..=p.maxnumber)
        .find(|n| {
            let digest = Sha256::new()
                .chain_update(p.salt.as_bytes())
                .chain_update(n.to_string().as_bytes())
                .finalize();
            hex::encode(digest) == p.challenge
        })
        .map(|number| {
            serde_json::json!({
                "algorithm": p.algorithm,
                "challenge": p.challenge,
                "number": number,
                "salt": p.salt,
                "signature": p.signature,
            })
            .to_string()
        })
}

#[component]
pub fn ResetPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<ResetStart>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let puzzle = Resource::new_blocking(|| (), |_| reset_challenge());
    let (solution, set_solution) = signal(String::new());
    let (hydrated, set_hydrated) = signal(false);
    // Runs in the browser only: solve the CAPTCHA in the background.
    Effect::new(move |_| {
        set_hydrated.set(true);
        if let Some(Ok(p)) = puzzle.get()
            && solution.get_untracked().is_empty()
            && let Some(answer) = solve(&p)
        {
            set_solution.set(answer);
        }
    });
    view! {
        <Title text=t_string!(i18n, reset_title).to_string()/>
        <section class="card" aria-labelledby="page-title">
            <h1 id="page-title">{t!(i18n, reset_title)}</h1>
            <Step current=1/>
            <p>{t!(i18n, reset_intro)}</p>
            <ErrorAlert error/>
            <ActionForm action=action>
                <div class="field">
                    <label for="login">{t!(i18n, field_user_id)}</label>
                    <input id="login" name="login" type="text" autocomplete="username" dir="ltr"
                        required autofocus maxlength="256" spellcheck="false" autocapitalize="none"/>
                </div>
                <input type="hidden" name="captcha" prop:value=move || solution.get()/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        puzzle.await.err().map(|e| view! { <ErrorAlert error=Signal::derive(move || Some(e.clone()))/> })
                    })}
                </Suspense>
                <p class="captcha-status" aria-live="polite" data-solved=move || (!solution.get().is_empty()).to_string()>
                    {move || if !hydrated.get() {
                        t_string!(i18n, reset_captcha_nojs).to_string()
                    } else if solution.get().is_empty() {
                        t_string!(i18n, reset_captcha_working).to_string()
                    } else {
                        t_string!(i18n, reset_captcha_done).to_string()
                    }}
                </p>
                <button type="submit" class="primary">{t!(i18n, action_next)}</button>
            </ActionForm>
            <p><a href="/sign-in">{t!(i18n, link_back_to_sign_in)}</a></p>
            <Helpdesk/>
        </section>
    }
}

/// Loads the flow's view and renders `page` with it; an expired or missing
/// flow offers to start again.
#[component]
fn WithReset<F, V>(page: F) -> impl IntoView
where
    F: Fn(ResetView) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let i18n = use_i18n();
    let state = Resource::new_blocking(|| (), |_| reset_state());
    view! {
        <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
            {
                let page = page.clone();
                move || {
                    let page = page.clone();
                    Suspend::new(async move {
                        match state.await {
                            Ok(v) => page(v).into_any(),
                            Err(e) => view! {
                                <ErrorAlert error=Signal::derive(move || Some(e.clone()))/>
                                <p><a href="/reset">{t!(i18n, reset_start_over)}</a></p>
                            }.into_any(),
                        }
                    })
                }
            }
        </Suspense>
        <Helpdesk/>
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
        <Title text=t_string!(i18n, reset_verify_title).to_string()/>
        <section class="card" aria-labelledby="page-title">
            <h1 id="page-title">{t!(i18n, reset_verify_title)}</h1>
            <WithReset page=move |v: ResetView| {
                let offers = |k: MethodKind| v.offered.contains(&k);
                view! {
                    <Step current=2/>
                    <p class="progress">{t!(i18n, reset_gate_progress, current = (v.passed + 1).min(v.gates_needed), total = v.gates_needed)}</p>
                    <p>{t!(i18n, reset_choose_method)}</p>
                    <ErrorAlert error/>
                    {offers(MethodKind::Email).then(|| view! {
                        <section class="gate" aria-labelledby="gate-email">
                            <h2 id="gate-email"><MethodLabel kind=MethodKind::Email/></h2>
                            {match v.email_hint.clone() {
                                // Hints mode: the masked address, nothing to type.
                                Some(hint) => view! {
                                    <p data-testid="email-hint">{t!(i18n, reset_email_to_hint, hint = move || view! { <bdi dir="ltr">{hint.clone()}</bdi> })}</p>
                                    <ActionForm action=email_hint>
                                        <button type="submit" class="primary">{t!(i18n, action_send_code)}</button>
                                    </ActionForm>
                                }.into_any(),
                                None => view! {
                                    <ActionForm action=email>
                                        <div class="field">
                                            <label for="address">{t!(i18n, reset_email_label)}</label>
                                            <input id="address" name="address" type="email" autocomplete="email" dir="ltr"
                                                inputmode="email" required maxlength="254"/>
                                        </div>
                                        <p class="hint">{t!(i18n, reset_email_hint)}</p>
                                        <button type="submit" class="primary">{t!(i18n, action_send_code)}</button>
                                    </ActionForm>
                                }.into_any(),
                            }}
                        </section>
                    })}
                    {offers(MethodKind::Phone).then(|| view! {
                        <section class="gate" aria-labelledby="gate-phone">
                            <h2 id="gate-phone"><MethodLabel kind=MethodKind::Phone/></h2>
                            <ActionForm action=phone>
                                <PhoneFields regions=v.phone_regions.clone() default_region=v.default_region.clone()
                                    sms=v.sms voice=v.voice hint=v.phone_hint.clone()>
                                    {t!(i18n, reset_phone_label)}
                                </PhoneFields>
                                <button type="submit" class="primary">{t!(i18n, action_send_code)}</button>
                            </ActionForm>
                        </section>
                    })}
                    {offers(MethodKind::Authenticator).then(|| view! {
                        <section class="gate" aria-labelledby="gate-app">
                            <h2 id="gate-app"><MethodLabel kind=MethodKind::Authenticator/></h2>
                            <p class="hint">{t!(i18n, reset_app_hint)}</p>
                            <ActionForm action=app>
                                <button type="submit" class="secondary">{t!(i18n, action_use_app)}</button>
                            </ActionForm>
                        </section>
                    })}
                    {offers(MethodKind::Questions).then(|| view! {
                        <section class="gate" aria-labelledby="gate-questions">
                            <h2 id="gate-questions"><MethodLabel kind=MethodKind::Questions/></h2>
                            <p class="hint">{t!(i18n, reset_questions_hint)}</p>
                            <ActionForm action=questions>
                                <button type="submit" class="secondary">{t!(i18n, action_answer_questions)}</button>
                            </ActionForm>
                        </section>
                    })}
                }
            }/>
        </section>
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
        <Title text=t_string!(i18n, reset_code_title).to_string()/>
        <section class="card" aria-labelledby="page-title">
            <h1 id="page-title">{t!(i18n, reset_code_title)}</h1>
            <WithReset page=move |v: ResetView| match v.pending {
                Some((kind, digits)) if kind != MethodKind::Questions => view! {
                    <Step current=2/>
                    <p class="progress">{t!(i18n, reset_gate_progress, current = (v.passed + 1).min(v.gates_needed), total = v.gates_needed)}</p>
                    <p>
                        {if kind == MethodKind::Authenticator {
                            t!(i18n, reset_code_app).into_any()
                        } else {
                            t!(i18n, reset_code_sent).into_any()
                        }}
                    </p>
                    <ErrorAlert error/>
                    <ActionForm action=verify>
                        <div class="field">
                            <label for="code">{t!(i18n, field_code, digits = digits)}</label>
                            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"
                                dir="ltr" required autofocus maxlength="32" spellcheck="false"/>
                        </div>
                        <button type="submit" class="primary">{t!(i18n, action_verify)}</button>
                    </ActionForm>
                    {(kind != MethodKind::Authenticator).then(|| view! {
                        <ActionForm action=resend>
                            <button type="submit" class="secondary">{t!(i18n, action_resend)}</button>
                        </ActionForm>
                    })}
                    <p><a href="/reset/verify">{t!(i18n, reset_other_method)}</a></p>
                }.into_any(),
                _ => view! {
                    <ErrorAlert error/>
                    <p>{t!(i18n, error_no_pending_code)}</p>
                    <p><a href="/reset/verify">{t!(i18n, reset_other_method)}</a></p>
                }.into_any(),
            }/>
        </section>
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
        <Title text=t_string!(i18n, reset_questions_title).to_string()/>
        <section class="card" aria-labelledby="page-title">
            <h1 id="page-title">{t!(i18n, reset_questions_title)}</h1>
            <WithReset page=move |v: ResetView| {
                if v.questions.is_empty() {
                    return view! {
                        <p>{t!(i18n, error_no_pending_code)}</p>
                        <p><a href="/reset/verify">{t!(i18n, reset_other_method)}</a></p>
                    }.into_any();
                }
                view! {
                    <Step current=2/>
                    <p class="progress">{t!(i18n, reset_gate_progress, current = (v.passed + 1).min(v.gates_needed), total = v.gates_needed)}</p>
                    <p>{t!(i18n, reset_questions_intro)}</p>
                    <ErrorAlert error/>
                    <ActionForm action=action>
                        {v.questions.iter().enumerate().map(|(i, q)| {
                            let id = format!("answer-{}", i + 1);
                            let label = if q.predefined {
                                view! { <QuestionText id=q.text.clone()/> }.into_any()
                            } else {
                                view! { <bdi>{q.text.clone()}</bdi> }.into_any()
                            };
                            view! {
                                <div class="field">
                                    <label for=id.clone()>{label}</label>
                                    <input id=id name=format!("answers[{i}]") type="text" autocomplete="off"
                                        spellcheck="false" required maxlength="40" autofocus={i == 0}/>
                                </div>
                            }
                        }).collect_view()}
                        <button type="submit" class="primary">{t!(i18n, action_verify)}</button>
                    </ActionForm>
                    <p><a href="/reset/verify">{t!(i18n, reset_other_method)}</a></p>
                }.into_any()
            }/>
        </section>
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
    let rules = Resource::new_blocking(|| (), |_| reset_password_rules());
    let view_state = Resource::new_blocking(|| (), |_| reset_state());
    view! {
        <Title text=t_string!(i18n, reset_password_title).to_string()/>
        <section class="card" aria-labelledby="page-title">
            <h1 id="page-title">{t!(i18n, reset_password_title)}</h1>
            <Step current=3/>
            <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    let allow_unlock = view_state.await.map(|v| v.allow_unlock).unwrap_or(false);
                    match rules.await {
                        Ok(r) => view! {
                            <ErrorAlert error/>
                            <ActionForm action=action>
                                <NewPasswordFields rules=r preview=Preview::Reset/>
                                <button type="submit" class="primary">{t!(i18n, action_reset_password)}</button>
                            </ActionForm>
                            {allow_unlock.then(|| view! {
                                <section class="unlock">
                                    <p>{t!(i18n, reset_unlock_intro)}</p>
                                    <ActionForm action=unlock>
                                        <button type="submit" class="secondary">{t!(i18n, action_unlock)}</button>
                                    </ActionForm>
                                </section>
                            })}
                        }.into_any(),
                        Err(e) => {
                            let start_over = matches!(e, AppError::FlowExpired | AppError::GatesIncomplete);
                            view! {
                                <ErrorAlert error=Signal::derive(move || Some(e.clone()))/>
                                {start_over.then(|| view! { <p><a href="/reset">{t!(i18n, reset_start_over)}</a></p> })}
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
            <Helpdesk/>
        </section>
    }
}

#[component]
pub fn ResetUnlockedPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, reset_unlocked_title).to_string()/>
        <section class="card" aria-labelledby="page-title">
            <h1 id="page-title">{t!(i18n, reset_unlocked_title)}</h1>
            <p role="status">{t!(i18n, reset_unlocked)}</p>
            <p><a class="button primary" href="/sign-in">{t!(i18n, action_sign_in)}</a></p>
        </section>
    }
}

#[component]
pub fn ResetDonePage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, reset_done_title).to_string()/>
        <section class="card" aria-labelledby="page-title">
            <h1 id="page-title">{t!(i18n, reset_done_title)}</h1>
            <Step current=4/>
            <p role="status">{t!(i18n, reset_done)}</p>
            <p><a class="button primary" href="/sign-in">{t!(i18n, action_sign_in)}</a></p>
        </section>
    }
}
