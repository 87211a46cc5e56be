//! The phone number fields shared by the registration wizard and the reset
//! gate: country, number, and text or call.

use leptos::prelude::*;
use sspr_proto::PhoneChannel;
use sspr_proto::views::PhoneRegion;

use crate::components::field::{Input, TextField};
use crate::i18n::*;

/// Country, number and channel, posted as `region`, `number`, `channel`.
/// `children` is the number's label; `hint` (the reset's masked-hints mode)
/// is read out with the field.
#[component]
pub fn PhoneFields(
    regions: Vec<PhoneRegion>,
    default_region: String,
    sms: bool,
    voice: bool,
    #[prop(optional)] autofocus: bool,
    #[prop(default = None)] hint: Option<String>,
    children: Children,
) -> impl IntoView {
    let i18n = use_i18n();
    let hint = hint.map(|hint| {
        ViewFn::from(move || {
            let hint = hint.clone();
            t!(
                i18n,
                reset_phone_ends_with,
                hint = move || view! { <bdi dir="ltr">{hint.clone()}</bdi> }
            )
        })
    });
    view! {
        <div class="field">
            <label for="region">{t_str!(i18n, field_country)}</label>
            // Names from CLDR in the page's language, made by the server
            // (no country table in the wasm); `data-locale-data` tells the
            // pseudo-locale gate they are not catalog text.
            <select id="region" name="region" autocomplete="country" data-locale-data="">
                {regions
                    .into_iter()
                    .map(|r| {
                        let selected = r.code == default_region;
                        view! {
                            <option value=r.code selected=selected>
                                {region_label(&r.name, r.calling_code)}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
        <TextField id="number" input=Input::Tel autofocus hint hint_testid="phone-hint">
            {children()}
        </TextField>
        <fieldset class="field">
            <legend>{t_str!(i18n, field_phone_channel)}</legend>
            {sms
                .then(|| {
                    view! {
                        <label class="choice">
                            <input
                                type="radio"
                                name="channel"
                                value=PhoneChannel::Sms.as_str()
                                checked=true
                            />
                            {t_str!(i18n, channel_sms)}
                        </label>
                    }
                })}
            {voice
                .then(|| {
                    view! {
                        <label class="choice">
                            <input
                                type="radio"
                                name="channel"
                                value=PhoneChannel::Voice.as_str()
                                checked=!sms
                            />
                            {t_str!(i18n, channel_voice)}
                        </label>
                    }
                })}
        </fieldset>
    }
}

/// `Japan (+81)`. The calling code is a left-to-right isolate (U+2066 …
/// U+2069), so a right-to-left page shows `(+81)`, not `(81+)`; an option
/// holds text only, no `<bdi>`.
fn region_label(name: &str, calling_code: u16) -> String {
    format!("{name} (\u{2066}+{calling_code}\u{2069})")
}
