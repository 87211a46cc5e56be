//! The new-password fields with the policy as a live checklist. The
//! checklist runs the same rules as the server (`sspr_proto`) on
//! every keystroke and asks the server, after a pause, about the rest
//! (common and banned passwords). Without JavaScript it is a plain list of
//! the requirements and the server's answer explains any refusal.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use sspr_proto::{Reason, Rules};

use crate::api::password::password_preview;
use crate::api::reset::reset_password_preview;
use crate::components::field::{Input, TextField};
use crate::error::reason_text;
use crate::i18n::*;

/// How long typing must pause before the server is asked.
const PREVIEW_DELAY: Duration = Duration::from_millis(400);

/// Which server function judges the candidate: the signed-in account's or
/// the reset flow's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Preview {
    Change,
    Reset,
}

/// Where a rule stands while the user types.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing typed yet (and the state without JavaScript).
    Unknown,
    Met,
    Unmet,
}

#[component]
pub fn NewPasswordFields(rules: Rules, preview: Preview) -> impl IntoView {
    let i18n = use_i18n();
    let (typed, set_typed) = signal(String::new());
    let (confirm, set_confirm) = signal(String::new());
    // The server's verdict and the password it was given for.
    let (server, set_server) = signal(None::<(String, Vec<Reason>)>);
    let local = {
        let rules = rules.clone();
        Memo::new(move |_| sspr_proto::check(&typed.get(), &rules))
    };

    // Debounced: each keystroke cancels the pending request.
    let pending = StoredValue::new(None::<TimeoutHandle>);
    Effect::new(move |_| {
        let password = typed.get();
        if let Some(h) = pending.get_value() {
            h.clear();
        }
        if password.is_empty() {
            return;
        }
        let handle = set_timeout_with_handle(
            move || {
                spawn_local(async move {
                    let verdict = match preview {
                        Preview::Change => password_preview(password.clone()).await,
                        Preview::Reset => reset_password_preview(password.clone()).await,
                    };
                    if let Ok(reasons) = verdict {
                        set_server.set(Some((password, reasons)));
                    }
                });
            },
            PREVIEW_DELAY,
        );
        pending.set_value(handle.ok());
    });

    let state_of = move |reason: Reason| -> State {
        let password = typed.get();
        if password.is_empty() {
            return State::Unknown;
        }
        match reason {
            Reason::Mismatch => {
                if confirm.get().is_empty() {
                    State::Unknown
                } else if confirm.get() == password {
                    State::Met
                } else {
                    State::Unmet
                }
            }
            Reason::Common | Reason::Banned => match server.get() {
                Some((checked, reasons)) if checked == password => {
                    if reasons.contains(&reason) {
                        State::Unmet
                    } else {
                        State::Met
                    }
                }
                _ => State::Unknown,
            },
            _ => {
                if local.get().contains(&reason) {
                    State::Unmet
                } else {
                    State::Met
                }
            }
        }
    };
    let (min, max) = (rules.min_length as u64, rules.max_length as u64);
    let checklist = [
        Reason::TooShort,
        Reason::TooLong,
        Reason::PersonalInfo,
        Reason::Common,
        Reason::Banned,
        Reason::Mismatch,
    ];

    view! {
        <TextField
            id="new_password"
            input=Input::NewPassword
            described_by="password-rules"
            on_input=move |v: String| set_typed.set(v)
        >
            {t_str!(i18n, field_new_password)}
        </TextField>
        <TextField
            id="confirm_password"
            input=Input::NewPassword
            on_input=move |v: String| set_confirm.set(v)
        >
            {t_str!(i18n, field_confirm_password)}
        </TextField>
        <div id="password-rules" class="rules">
            <p>{t_str!(i18n, password_rules_heading)}</p>
            <ul class="checklist" aria-live="polite">
                {checklist
                    .into_iter()
                    .map(|reason| {
                        let state = move || state_of(reason);
                        view! {
                            <li
                                data-rule=reason.code()
                                data-state=move || match state() {
                                    State::Unknown => "unknown",
                                    State::Met => "met",
                                    State::Unmet => "unmet",
                                }
                            >
                                <span class="mark" aria-hidden="true">
                                    {move || match state() {
                                        State::Unknown => "•",
                                        State::Met => "✓",
                                        State::Unmet => "✗",
                                    }}
                                </span>
                                " "
                                {move || reason_text(i18n.get_locale(), reason, min, max)}
                                <span class="visually-hidden">
                                    {move || match state() {
                                        State::Unknown => String::new(),
                                        State::Met => {
                                            format!(" {}", t_str!(i18n, password_rule_met))
                                        }
                                        State::Unmet => {
                                            format!(" {}", t_str!(i18n, password_rule_unmet))
                                        }
                                    }}
                                </span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <p class="hint">{t_str!(i18n, password_rules_hint)}</p>
        </div>
    }
}
