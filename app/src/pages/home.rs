use leptos::prelude::*;
use leptos_router::components::Redirect;

/// `/` goes to "My account", which sends visitors who are not signed in
/// on to the sign-in page.
#[component]
pub fn HomePage() -> impl IntoView {
    view! { <Redirect path="/account" /> }
}
