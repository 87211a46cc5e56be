//! Short links that lead to a page.

use leptos::prelude::*;
use leptos_router::components::Redirect;

/// The short registration link (like aka.ms/ssprsetup).
#[component]
pub fn SetupAlias() -> impl IntoView {
    view! { <Redirect path="/security-info/setup" /> }
}
