//! The frame every page repeats inside the layout's main landmark: the
//! document title, a card labelled by its heading, the heading, and on the
//! reset wizard's pages the help desk at the end.

use leptos::prelude::*;
use leptos_meta::Title;

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

/// The organisation's help desk contact ("" = none), the same on the server
/// and in the browser without a request or a resource: the server reads it
/// from the policy before each page (`server/src/middleware/page_settings.rs`)
/// and writes it into the document's head (`shell`), where the browser reads
/// it once when it starts (`from_document`). Every reset page shows it, and
/// the first download of `/reset` carries no loading code for it (issue 12).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HelpdeskContact(pub String);

impl HelpdeskContact {
    /// The name of the `<meta>` that carries it.
    pub const META_NAME: &'static str = "sspr-helpdesk";

    /// In the browser: what the server wrote into the document, or none. A
    /// document open while the contact changes keeps the one it came with
    /// until the next full page load.
    #[cfg(feature = "hydrate")]
    pub fn from_document() -> HelpdeskContact {
        let content = document()
            .query_selector(&format!("meta[name={}]", Self::META_NAME))
            .ok()
            .flatten()
            .and_then(|meta| meta.get_attribute("content"));
        HelpdeskContact(content.unwrap_or_default())
    }
}

/// "Need help?" with the organisation's help desk, when one is set.
#[component]
fn Helpdesk() -> impl IntoView {
    let i18n = use_i18n();
    let contact = use_context::<HelpdeskContact>().unwrap_or_default().0;
    (!contact.is_empty()).then(|| {
        let href = if contact.contains('@') && !contact.contains("://") {
            format!("mailto:{contact}")
        } else {
            contact.clone()
        };
        view! {
            <p class="helpdesk">
                {t_str!(i18n, reset_helpdesk)} " " <a href=href dir="ltr">
                    {contact}
                </a>
            </p>
        }
    })
}
