use leptos::form::ActionForm;
use leptos::prelude::*;

use sspr_proto::views::MethodView;
use sspr_proto::{MethodKind, PhoneChannel};

use crate::api::setup::{SecurityInfoDefault, SecurityInfoDelete};
use crate::components::alert::ErrorAlert;
use crate::i18n::*;

/// The localized name of a method kind.
#[component]
pub fn MethodLabel(kind: MethodKind) -> impl IntoView {
    let i18n = use_i18n();
    move || match kind {
        MethodKind::Email => t_str!(i18n, method_email).into_any(),
        MethodKind::Phone => t_str!(i18n, method_phone).into_any(),
        MethodKind::Authenticator => t_str!(i18n, method_authenticator).into_any(),
        MethodKind::Questions => t_str!(i18n, method_questions).into_any(),
    }
}

/// The localized wording of a predefined security question.
#[component]
pub fn QuestionText(id: String) -> impl IntoView {
    let i18n = use_i18n();
    move || match id.as_str() {
        "birth_city" => t_str!(i18n, question_birth_city).into_any(),
        "first_pet" => t_str!(i18n, question_first_pet).into_any(),
        "first_school" => t_str!(i18n, question_first_school).into_any(),
        "childhood_friend" => t_str!(i18n, question_childhood_friend).into_any(),
        "first_job" => t_str!(i18n, question_first_job).into_any(),
        "favorite_teacher" => t_str!(i18n, question_favorite_teacher).into_any(),
        "first_concert" => t_str!(i18n, question_first_concert).into_any(),
        "parents_met" => t_str!(i18n, question_parents_met).into_any(),
        other => other.to_owned().into_any(),
    }
}

/// The actions that change the list; the page owns them so it can reload
/// its data when one completes.
#[derive(Clone, Copy)]
pub struct MethodActions {
    pub delete: ServerAction<SecurityInfoDelete>,
    pub make_default: ServerAction<SecurityInfoDefault>,
}

impl MethodActions {
    pub fn new() -> MethodActions {
        MethodActions {
            delete: ServerAction::new(),
            make_default: ServerAction::new(),
        }
    }

    /// Changes whenever one of the actions completes.
    pub fn version(&self) -> (usize, usize) {
        (
            self.delete.version().get(),
            self.make_default.version().get(),
        )
    }
}

/// Registered methods with masked destinations; with `actions`, each row
/// can be made the default or deleted.
#[component]
pub fn MethodList(
    methods: Vec<MethodView>,
    #[prop(optional)] actions: Option<MethodActions>,
) -> impl IntoView {
    let i18n = use_i18n();
    let manage = actions.is_some();
    let MethodActions {
        delete,
        make_default,
    } = actions.unwrap_or_else(MethodActions::new);
    let error = Signal::derive(move || {
        delete
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| make_default.value().get().and_then(Result::err))
    });
    if methods.is_empty() {
        return view! { <p class="empty">{t_str!(i18n, security_info_none)}</p> }.into_any();
    }
    view! {
        <ErrorAlert error />
        <ul class="methods">
            {methods
                .into_iter()
                .map(|m| {
                    let id = m.id;
                    let channel = m.channel;
                    view! {
                        <li data-kind=m.kind.as_str()>
                            <span class="method-name">
                                <MethodLabel kind=m.kind />
                            </span>
                            {(!m.masked_destination.is_empty())
                                .then(|| {
                                    view! {
                                        <span class="destination" dir="ltr">
                                            {m.masked_destination.clone()}
                                        </span>
                                    }
                                })}
                            {channel
                                .map(|c| {
                                    view! {
                                        <span class="channel">
                                            {move || match c {
                                                PhoneChannel::Voice => {
                                                    t_str!(i18n, channel_voice).into_any()
                                                }
                                                PhoneChannel::Sms => t_str!(i18n, channel_sms).into_any(),
                                            }}
                                        </span>
                                    }
                                })}
                            {m
                                .is_default
                                .then(|| {
                                    view! {
                                        <span class="badge">
                                            {t_str!(i18n, security_info_default)}
                                        </span>
                                    }
                                })}
                            <span class="verified">
                                {t!(i18n, security_info_verified, when = m.verified_at.clone())}
                            </span>
                            {manage
                                .then(|| {
                                    view! {
                                        <div class="row-actions">
                                            {(!m.is_default)
                                                .then(|| {
                                                    view! {
                                                        <ActionForm action=make_default>
                                                            <input type="hidden" name="id" value=id />
                                                            <button type="submit" class="link">
                                                                {t_str!(i18n, action_make_default)}
                                                            </button>
                                                        </ActionForm>
                                                    }
                                                })} <ActionForm action=delete>
                                                <input type="hidden" name="id" value=id />
                                                <button type="submit" class="link danger">
                                                    {t_str!(i18n, action_delete)}
                                                </button>
                                            </ActionForm>
                                        </div>
                                    }
                                })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
