//! The frame every page repeats inside the layout's main landmark: the
//! document title, a card labelled by its heading, the heading, and on the
//! reset wizard's pages the help desk at the end.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::reset::reset_helpdesk;
use crate::error::AppError;
use crate::i18n::*;

/// The document's `title` and a card (`section.card`) labelled by the
/// page's `h1`, with `children` below the heading.
#[component]
pub fn Page(
    /// The document title and the heading, in the current locale.
    #[prop(into)]
    title: TextProp,
    /// The children render the heading themselves (a [`PageHeading`]),
    /// because it depends on what they load.
    #[prop(optional)]
    own_heading: bool,
    /// A card as wide as the page (tables).
    #[prop(optional)]
    wide: bool,
    /// "Need help?" with the organisation's help desk, after the children.
    #[prop(optional)]
    helpdesk: bool,
    children: Children,
) -> impl IntoView {
    let heading = title.clone();
    let class = if wide { "card wide" } else { "card" };
    // On the server the title is read now, while this request's reactive
    // arena is current: leptos_meta reads a reactive title again when it
    // writes `<head>`, outside the request's sandbox, and under concurrent
    // requests that read found another request's arena (a panic, a 500;
    // `http/it/pages.rs` `forty_pages_render_at_once_while_another_router_is_built`).
    #[cfg(feature = "ssr")]
    let title = TextProp::from(title.get().to_string());
    view! {
        <Title text=title />
        <section class=class aria-labelledby="page-title">
            {(!own_heading)
                .then(|| view! { <PageHeading>{move || heading.get().to_string()}</PageHeading> })}
            {children()}
            {helpdesk.then(|| view! { <Helpdesk /> })}
        </section>
    }
}

/// The page's `h1`, which labels its card.
#[component]
pub fn PageHeading(children: Children) -> impl IntoView {
    view! { <h1 id="page-title">{children()}</h1> }
}

/// The organisation's help desk contact, loaded once by the wizard that
/// shows it (`pages::reset::ResetWizard`).
#[derive(Clone, Copy)]
pub struct HelpdeskContact(pub Resource<Result<String, AppError>>);

/// "Need help?" with the organisation's help desk, when one is set.
#[component]
fn Helpdesk() -> impl IntoView {
    let i18n = use_i18n();
    let contact = use_context::<HelpdeskContact>()
        .map(|h| h.0)
        .unwrap_or_else(|| Resource::new_blocking(|| (), |_| reset_helpdesk()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let c = contact.await.unwrap_or_default();
                (!c.is_empty())
                    .then(|| {
                        let href = if c.contains('@') && !c.contains("://") {
                            format!("mailto:{c}")
                        } else {
                            c.clone()
                        };
                        view! {
                            <p class="helpdesk">
                                {t!(i18n, reset_helpdesk)} " " <a href=href dir="ltr">
                                    {c}
                                </a>
                            </p>
                        }
                    })
            })}
        </Suspense>
    }
}
