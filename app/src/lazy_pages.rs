//! The pages a first visit to `/reset` or `/sign-in` does not need, in one
//! wasm chunk per part of the product (`cargo leptos build --split`): the
//! browser loads a part's chunk when one of its pages is first shown, and
//! the server names the chunk of the page it renders so it loads alongside
//! the main module (issue 12, the first-load budget).
//!
//! One chunk per part rather than per page: every split point costs the
//! main module a loader and a preload function and costs the split loader
//! script an entry per chunk it imports from, while the pages of one part
//! share nearly all their code and are usually visited together. With a
//! chunk per page (20 split points, 110 chunks) the loader script alone was
//! 58 KB before compression.
//!
//! The sign-in page, the reset wizard's frame and its first step stay in the
//! main module. Splitting them too was measured and made both first loads
//! larger: what the two pages share went into dozens of small chunks, each
//! compressed on its own and each importing from the main module (/reset:
//! 191 KB main + 208 KB of chunks, against 277 KB in one module, brotli).
//!
//! On the server a lazy page is an ordinary async view.

use leptos::lazy;
use leptos::prelude::*;
use leptos_router::ChooseView;

use crate::pages::{
    account, admin, change_password, dev_outbox, reset, security_info, setup, sign_in,
};

/// A page loaded with its part's chunk, for `<Route view=…>`.
#[derive(Clone, Copy, Debug)]
pub enum LazyPage {
    SignIn(SignInPart),
    Account(AccountPart),
    Reset(ResetPart),
    SecurityInfo(SecurityInfoPart),
    Registration(RegistrationPart),
    Admin(AdminPart),
    DevOutbox,
}

/// The admin portal.
#[derive(Clone, Copy, Debug)]
pub enum AdminPart {
    Home,
    Policy,
    Impact,
    History,
    Users,
    User,
    AddUsers,
    Groups,
    GroupMembers,
    Audit,
}

/// The sign-in's second factor.
#[derive(Clone, Copy, Debug)]
pub enum SignInPart {
    Verify,
    Code,
}

/// My account and changing the password from it.
#[derive(Clone, Copy, Debug)]
pub enum AccountPart {
    Account,
    ChangePassword,
    ChangePasswordDone,
}

/// The reset wizard after its first step.
#[derive(Clone, Copy, Debug)]
pub enum ResetPart {
    Verify,
    Code,
    Questions,
    Password,
    Unlocked,
    Done,
}

/// My security info and the fresh proof it asks for.
#[derive(Clone, Copy, Debug)]
pub enum SecurityInfoPart {
    Overview,
    Reauth,
}

/// The registration wizard.
#[derive(Clone, Copy, Debug)]
pub enum RegistrationPart {
    Start,
    Email,
    Phone,
    Verify,
    App,
    Questions,
}

impl ChooseView for LazyPage {
    async fn choose(self) -> AnyView {
        match self {
            Self::SignIn(page) => sign_in_part(page).await,
            Self::Account(page) => account_part(page).await,
            Self::Reset(page) => reset_part(page).await,
            Self::SecurityInfo(page) => security_info_part(page).await,
            Self::Registration(page) => registration_part(page).await,
            Self::Admin(page) => admin_part(page).await,
            Self::DevOutbox => dev_outbox_part().await,
        }
    }

    async fn preload(&self) {
        // `#[lazy]` makes the preload functions only where it splits.
        #[cfg(feature = "hydrate")]
        match self {
            Self::SignIn(_) => __preload_sign_in_part().await,
            Self::Account(_) => __preload_account_part().await,
            Self::Reset(_) => __preload_reset_part().await,
            Self::SecurityInfo(_) => __preload_security_info_part().await,
            Self::Registration(_) => __preload_registration_part().await,
            Self::Admin(_) => __preload_admin_part().await,
            Self::DevOutbox => __preload_dev_outbox_part().await,
        }
    }
}

#[lazy]
fn sign_in_part(page: SignInPart) -> AnyView {
    match page {
        SignInPart::Verify => sign_in::SignInVerifyPage().into_any(),
        SignInPart::Code => sign_in::SignInCodePage().into_any(),
    }
}

#[lazy]
fn account_part(page: AccountPart) -> AnyView {
    match page {
        AccountPart::Account => account::AccountPage().into_any(),
        AccountPart::ChangePassword => change_password::ChangePasswordPage().into_any(),
        AccountPart::ChangePasswordDone => change_password::ChangePasswordDonePage().into_any(),
    }
}

#[lazy]
fn reset_part(page: ResetPart) -> AnyView {
    match page {
        ResetPart::Verify => reset::ResetVerifyPage().into_any(),
        ResetPart::Code => reset::ResetCodePage().into_any(),
        ResetPart::Questions => reset::ResetQuestionsPage().into_any(),
        ResetPart::Password => reset::ResetPasswordPage().into_any(),
        ResetPart::Unlocked => reset::ResetUnlockedPage().into_any(),
        ResetPart::Done => reset::ResetDonePage().into_any(),
    }
}

#[lazy]
fn security_info_part(page: SecurityInfoPart) -> AnyView {
    match page {
        SecurityInfoPart::Overview => security_info::SecurityInfoPage().into_any(),
        SecurityInfoPart::Reauth => security_info::ReauthPage().into_any(),
    }
}

#[lazy]
fn registration_part(page: RegistrationPart) -> AnyView {
    match page {
        RegistrationPart::Start => setup::SetupPage().into_any(),
        RegistrationPart::Email => setup::SetupEmailPage().into_any(),
        RegistrationPart::Phone => setup::SetupPhonePage().into_any(),
        RegistrationPart::Verify => setup::SetupVerifyPage().into_any(),
        RegistrationPart::App => setup::SetupAppPage().into_any(),
        RegistrationPart::Questions => setup::SetupQuestionsPage().into_any(),
    }
}

#[lazy]
fn admin_part(page: AdminPart) -> AnyView {
    match page {
        AdminPart::Home => admin::home::AdminHomePage().into_any(),
        AdminPart::Policy => admin::policy::PolicyPage().into_any(),
        AdminPart::Impact => admin::impact::ImpactPage().into_any(),
        AdminPart::History => admin::history::HistoryPage().into_any(),
        AdminPart::Users => admin::users::UsersPage().into_any(),
        AdminPart::User => admin::user::UserPage().into_any(),
        AdminPart::AddUsers => admin::add_users::AddUsersPage().into_any(),
        AdminPart::Groups => admin::groups::GroupsPage().into_any(),
        AdminPart::GroupMembers => admin::groups::GroupMembersPage().into_any(),
        AdminPart::Audit => admin::audit::AuditPage().into_any(),
    }
}

#[lazy]
fn dev_outbox_part() -> AnyView {
    dev_outbox::DevOutboxPage().into_any()
}
