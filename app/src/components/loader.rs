//! Pages that show a view loaded from the server: loaded before the first
//! byte is sent, because a browser without JavaScript cannot swap in
//! streamed fragments.

use std::future::Future;

use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::i18n::*;
use crate::resource;

/// Loads a view with `load` and renders `page` with it, or `error` with
/// what went wrong ("loading…" meanwhile, once hydrated).
#[component]
pub fn WithView<T, L, Fut, F, V>(load: L, page: F, error: fn(AppError) -> AnyView) -> impl IntoView
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    L: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let i18n = use_i18n();
    let state = resource::blocking(|| (), move |_| load());
    view! {
        <Suspense fallback=move || {
            view! { <p class="loading">{t_str!(i18n, loading)}</p> }
        }>
            {
                let page = page.clone();
                move || {
                    let page = page.clone();
                    Suspend::new(async move {
                        match state.await {
                            Ok(v) => page(v).into_any(),
                            Err(e) => error(e),
                        }
                    })
                }
            }
        </Suspense>
    }
}
