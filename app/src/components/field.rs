//! A labelled text field: the label, the input with the attributes its kind
//! of content needs (type, `autocomplete`, keyboard, direction), an optional
//! hint that the input is described by, and the error state.

use leptos::prelude::*;

/// What a field holds. It decides the input's type, `autocomplete`,
/// `inputmode`, direction, spelling help and default length limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// A user ID: left to right, no spelling or capitals help.
    UserId,
    /// The password the user has now.
    CurrentPassword,
    /// A new password, and its confirmation.
    NewPassword,
    /// An email address.
    Email,
    /// A one-time code, from a message or an authenticator app.
    Code,
    /// A phone number, without the country.
    Tel,
    /// The answer to a security question.
    Answer,
}

struct Attrs {
    r#type: &'static str,
    autocomplete: &'static str,
    inputmode: Option<&'static str>,
    ltr: bool,
    spellcheck: Option<&'static str>,
    autocapitalize: Option<&'static str>,
    maxlength: Option<u32>,
}

impl Input {
    fn attrs(self) -> Attrs {
        let plain = |r#type, autocomplete| Attrs {
            r#type,
            autocomplete,
            inputmode: None,
            ltr: false,
            spellcheck: None,
            autocapitalize: None,
            maxlength: None,
        };
        match self {
            Input::UserId => Attrs {
                ltr: true,
                spellcheck: Some("false"),
                autocapitalize: Some("none"),
                ..plain("text", "username")
            },
            Input::CurrentPassword => plain("password", "current-password"),
            Input::NewPassword => Attrs {
                maxlength: Some(4096),
                ..plain("password", "new-password")
            },
            Input::Email => Attrs {
                inputmode: Some("email"),
                ltr: true,
                maxlength: Some(254),
                ..plain("email", "email")
            },
            Input::Code => Attrs {
                inputmode: Some("numeric"),
                ltr: true,
                spellcheck: Some("false"),
                maxlength: Some(32),
                ..plain("text", "one-time-code")
            },
            Input::Tel => Attrs {
                inputmode: Some("tel"),
                ltr: true,
                maxlength: Some(32),
                ..plain("tel", "tel-national")
            },
            Input::Answer => Attrs {
                spellcheck: Some("false"),
                maxlength: Some(40),
                ..plain("text", "off")
            },
        }
    }
}

/// A required text field in a `div.field`: `children` is the label. With a
/// `hint`, the input is described by it (`{id}-hint`); else by
/// `described_by`, when given.
#[component]
pub fn TextField(
    /// The input's `id` (and the label's `for`).
    #[prop(into)]
    id: String,
    /// The posted name; the `id` when not given.
    #[prop(optional, into)]
    name: Option<String>,
    input: Input,
    /// Another limit than the kind's.
    #[prop(optional)]
    maxlength: Option<u32>,
    /// Left to right whatever the page's direction.
    #[prop(optional)]
    ltr: bool,
    #[prop(optional)] autofocus: bool,
    /// The element that explains the input, when not the `hint`.
    #[prop(optional)]
    described_by: Option<&'static str>,
    /// Shown below the input (`p.hint#{id}-hint`).
    #[prop(default = None)]
    hint: Option<ViewFn>,
    /// The hint's `data-testid`.
    #[prop(optional)]
    hint_testid: Option<&'static str>,
    /// Marks the input invalid (`aria-invalid`) while true.
    #[prop(optional, into)]
    invalid: Option<Signal<bool>>,
    /// Called with the value on every keystroke.
    #[prop(optional, into)]
    on_input: Option<Callback<String>>,
    children: Children,
) -> impl IntoView {
    let a = input.attrs();
    let name = name.unwrap_or_else(|| id.clone());
    let hint_id = format!("{id}-hint");
    let described_by = match hint {
        Some(_) => Some(hint_id.clone()),
        None => described_by.map(str::to_owned),
    };
    let dir = (a.ltr || ltr).then_some("ltr");
    let maxlength = maxlength.or(a.maxlength);
    view! {
        <div class="field">
            <label for=id.clone()>{children()}</label>
            <input
                id=id
                name=name
                type=a.r#type
                autocomplete=a.autocomplete
                inputmode=a.inputmode
                dir=dir
                spellcheck=a.spellcheck
                autocapitalize=a.autocapitalize
                maxlength=maxlength
                required
                autofocus=autofocus
                aria-describedby=described_by
                aria-invalid=move || invalid.is_some_and(|i| i.get()).then_some("true")
                on:input=move |ev| {
                    if let Some(f) = on_input {
                        f.run(event_target_value(&ev));
                    }
                }
            />
            {hint
                .map(|h| {
                    view! {
                        <p class="hint" id=hint_id data-testid=hint_testid>
                            {h.run()}
                        </p>
                    }
                })}
        </div>
    }
}
