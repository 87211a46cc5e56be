//! Browser entry point: cargo-leptos builds this crate to wasm and the
//! server's `HydrationScripts` call `hydrate()` once the page has loaded.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // `hydrate_lazy`, not `hydrate_body`: most pages are lazy routes
    // (app/src/lazy_pages.rs), whose chunk is loaded before they hydrate.
    leptos::mount::hydrate_lazy(app::App);
}
