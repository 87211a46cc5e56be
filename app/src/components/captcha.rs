//! The reset wizard's CAPTCHA: an ALTCHA proof of work the browser solves
//! in the background. Without JavaScript the field stays empty and the
//! server accepts the step without it (step 1 is uniform either way).
//!
//! The puzzle is asked for by the browser once the page has hydrated, not
//! rendered into the page: only a browser that runs this code can use it,
//! so the server renders `/reset` without making one, and the first
//! download carries no resource for it (issue 12).

use leptos::prelude::*;
use leptos::task::spawn_local;
use sha2::{Digest, Sha256};
use sspr_proto::views::CaptchaPuzzle;

use crate::api::reset::reset_challenge;
use crate::components::alert::ErrorAlert;
use crate::error::AppError;
use crate::i18n::*;

/// The solution, posted as `captcha`, and a status line saying where the
/// solving stands. Goes inside the step's form.
#[component]
pub fn Captcha() -> impl IntoView {
    let i18n = use_i18n();
    let (solution, set_solution) = signal(String::new());
    let (hydrated, set_hydrated) = signal(false);
    let (failed, set_failed) = signal(None::<AppError>);
    // Runs in the browser only, once: fetch the puzzle and solve it.
    Effect::new(move |_| {
        set_hydrated.set(true);
        spawn_local(async move {
            match reset_challenge().await {
                Ok(p) => {
                    if let Some(answer) = solve(&p) {
                        set_solution.set(answer);
                    }
                }
                Err(e) => set_failed.set(Some(e)),
            }
        });
    });
    view! {
        <input type="hidden" name="captcha" prop:value=move || solution.get() />
        // Only when the puzzle could not be had (an alert is announced as
        // it appears).
        {move || {
            failed
                .get()
                .map(|e| view! { <ErrorAlert error=Signal::derive(move || Some(e.clone())) /> })
        }}
        <p
            class="captcha-status"
            aria-live="polite"
            data-solved=move || (!solution.get().is_empty()).to_string()
        >
            {move || {
                if !hydrated.get() {
                    t_str!(i18n, reset_captcha_nojs).to_string()
                } else if solution.get().is_empty() {
                    t_str!(i18n, reset_captcha_working).to_string()
                } else {
                    t_str!(i18n, reset_captcha_done).to_string()
                }
            }}
        </p>
    }
}

/// Finds the number whose SHA-256 with the salt is the challenge (ALTCHA),
/// and returns the answer the server expects.
fn solve(p: &CaptchaPuzzle) -> Option<String> {
    if p.algorithm != "SHA-256" {
        return None;
    }
    (0..=p.maxnumber)
        .find(|n| {
            let digest = Sha256::new()
                .chain_update(p.salt.as_bytes())
                .chain_update(n.to_string().as_bytes())
                .finalize();
            hex::encode(digest) == p.challenge
        })
        .and_then(|number| {
            serde_json::to_string(&Answer {
                algorithm: &p.algorithm,
                challenge: &p.challenge,
                number,
                salt: &p.salt,
                signature: &p.signature,
            })
            .ok()
        })
}

/// The solved puzzle as ALTCHA posts it. A typed struct rather than
/// `serde_json::json!`, which brought the `Value` type and its writer into
/// the first download for this one message (issue 12).
#[derive(serde::Serialize)]
struct Answer<'a> {
    algorithm: &'a str,
    challenge: &'a str,
    number: u64,
    salt: &'a str,
    signature: &'a str,
}
