//! A form that posts to a server function, for the two pages of the first
//! download (sign-in and the reset's first step). Without JavaScript the
//! browser posts it to the function's URL; with JavaScript the submit is
//! taken over and the action dispatched with arguments the page reads from
//! the form's fields by name.
//!
//! Why not Leptos's `ActionForm` there: it turns the fields into arguments
//! with serde_qs, whose parser and the B-tree maps it parses into were
//! ~20 KB of the first download after brotli, for two forms of three and
//! two strings (issue 12, the first-load budget). The pages loaded later
//! keep `ActionForm`; their chunks carry the parser.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use wasm_bindgen::JsCast;

/// The fields of a submitted form.
pub struct Fields(web_sys::FormData);

impl Fields {
    /// The named field's text; empty when the form has no such field, as
    /// the server's `#[server(default)]` arguments are without JavaScript.
    pub fn text(&self, name: &str) -> String {
        self.0.get(name).as_string().unwrap_or_default()
    }
}

/// `<form action=… method="post">` around `children`, dispatching `action`
/// with `read`'s arguments when JavaScript runs.
#[component]
pub fn ServerForm<S>(
    action: ServerAction<S>,
    /// The server function's arguments from the form's fields.
    read: fn(&Fields) -> S,
    children: Children,
) -> impl IntoView
where
    S: ServerFn + Send + Sync + Clone + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    let on_submit = move |ev: web_sys::SubmitEvent| {
        if ev.default_prevented() {
            return;
        }
        // Anything unexpected leaves the submit to the browser, which posts
        // the form as it does without JavaScript.
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
        else {
            return;
        };
        let Ok(data) = web_sys::FormData::new_with_form(&form) else {
            return;
        };
        ev.prevent_default();
        action.dispatch(read(&Fields(data)));
    };
    view! {
        <form action=S::url() method="post" on:submit=on_submit>
            {children()}
        </form>
    }
}
