//! The phone number fields shared by the registration wizard and the reset
//! gate: country, number, and text or call.

use leptos::prelude::*;
use sspr_proto::PhoneChannel;

use crate::components::field::{Input, TextField};
use crate::i18n::*;

/// Country, number and channel, posted as `region`, `number`, `channel`.
/// `children` is the number's label; `hint` (the reset's masked-hints mode)
/// is read out with the field.
#[component]
pub fn PhoneFields(
    regions: Vec<String>,
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
            <select id="region" name="region" autocomplete="country">
                {regions
                    .iter()
                    .map(|r| {
                        let selected = *r == default_region;
                        view! {
                            <option value=r.clone() selected=selected>
                                {region_name(r)}
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

/// Region codes are shown as themselves with the country calling code; the
/// browser's own country names would need a large table in the wasm.
fn region_name(r: &str) -> String {
    let code = match r {
        "US" => "+1",
        "IL" => "+972",
        "JP" => "+81",
        "TW" => "+886",
        "GB" => "+44",
        "DE" => "+49",
        "FR" => "+33",
        _ => "",
    };
    if code.is_empty() {
        r.to_owned()
    } else {
        format!("{r} ({code})")
    }
}
