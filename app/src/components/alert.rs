use leptos::prelude::*;

use crate::error::AppError;
use crate::i18n::*;

/// An error message, announced by screen readers when it appears. The live
/// region is always in the page so that a new message is read out.
#[component]
pub fn ErrorAlert(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="alert-region" role="alert" aria-live="assertive">
            {move || {
                error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="alert alert-error" data-code=e.code()>
                                {e.message(i18n.get_locale())}
                            </p>
                        }
                    })
            }}
        </div>
    }
}
