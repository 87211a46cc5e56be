//! The pages a first visit to `/reset` or `/sign-in` does not need, each in
//! a wasm chunk of its own (`cargo leptos build --split`): the browser loads
//! a page's chunk when the page is first shown, and the server names the
//! chunks of the page it renders so they load alongside the main module
//! (issue 12, the first-load budget).
//!
//! The sign-in page, the reset wizard's frame and its first step stay in the
//! main module. Splitting them too was measured and made both first loads
//! larger: what the two pages share went into dozens of small chunks, each
//! compressed on its own and each importing from the main module (/reset:
//! 191 KB main + 208 KB of chunks, against 277 KB in one module, brotli).
//!
//! On the server a lazy page is an ordinary async view.

use leptos::prelude::*;
use leptos_router::{Lazy, LazyRoute, lazy_route};

use crate::pages;

/// `Route => page component`: a unit type whose `LazyRoute` view is the page.
/// `#[lazy_route]` names the chunk after the type, so each type is a chunk.
macro_rules! lazy_pages {
    ($($route:ident => $page:path),+ $(,)?) => {
        $(
            #[doc = concat!("[`", stringify!($page), "`], loaded when first shown.")]
            pub struct $route;

            impl $route {
                /// The route's view, for `<Route view=…>`.
                pub fn route() -> Lazy<Self> {
                    Lazy::new()
                }
            }

            #[lazy_route]
            impl LazyRoute for $route {
                fn data() -> Self {
                    Self
                }

                fn view(_this: Self) -> AnyView {
                    $page().into_any()
                }
            }
        )+
    };
}

lazy_pages! {
    Account => pages::account::AccountPage,
    ChangePassword => pages::change_password::ChangePasswordPage,
    ChangePasswordDone => pages::change_password::ChangePasswordDonePage,
    DevOutbox => pages::dev_outbox::DevOutboxPage,
    ResetVerify => pages::reset::ResetVerifyPage,
    ResetCode => pages::reset::ResetCodePage,
    ResetQuestions => pages::reset::ResetQuestionsPage,
    ResetPassword => pages::reset::ResetPasswordPage,
    ResetUnlocked => pages::reset::ResetUnlockedPage,
    ResetDone => pages::reset::ResetDonePage,
    SecurityInfo => pages::security_info::SecurityInfoPage,
    Reauth => pages::security_info::ReauthPage,
    Setup => pages::setup::SetupPage,
    SetupEmail => pages::setup::SetupEmailPage,
    SetupPhone => pages::setup::SetupPhonePage,
    SetupVerify => pages::setup::SetupVerifyPage,
    SetupApp => pages::setup::SetupAppPage,
    SetupQuestions => pages::setup::SetupQuestionsPage,
    SignInVerify => pages::sign_in::SignInVerifyPage,
    SignInCode => pages::sign_in::SignInCodePage,
}
