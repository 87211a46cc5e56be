//! What the gate pages show, projected from the flow by the domain itself
//! (one read of the policy, one of the flow): the same for every account
//! until a gate is passed.

use sspr_proto::MethodKind;
use sspr_proto::views::{AskedQuestion, ResetView};

use super::{Pending, ResetError, choices, hints};
use crate::questions::Question;
use crate::{Services, Timestamp, authenticator, phone, policy};

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// `place` names the phone picker's countries and picks its first one.
pub async fn view(
    s: &Services,
    token: &str,
    place: phone::Place<'_>,
    now: Timestamp,
) -> Result<ResetView, ResetError> {
    let flow = super::load(s, token, now).await?;
    let policy = policy::load(&s.db).await?;
    let offered = choices(s, &policy, &flow).await?;
    let hints = hints(s, &policy, &flow).await?;
    let questions = match &flow.state.pending {
        Some(Pending::Questions { questions }) => questions
            .iter()
            .map(|q| match q {
                Question::Predefined(id) => AskedQuestion {
                    predefined: true,
                    text: id.clone(),
                },
                Question::Custom(text) => AskedQuestion {
                    predefined: false,
                    text: text.clone(),
                },
            })
            .collect(),
        _ => Vec::new(),
    };
    let pending = flow.state.pending.as_ref().map(|p| match p {
        Pending::Code { kind, digits, .. } => (*kind, count(*digits)),
        Pending::Authenticator => (MethodKind::Authenticator, count(authenticator::DIGITS)),
        Pending::Questions { questions } => (MethodKind::Questions, count(questions.len())),
    });
    // Until a gate is passed, every account sees the gate count of an
    // ordinary user: an admin's second gate would otherwise tell anyone
    // who types an ID that it names an admin (docs/security.md #72).
    let gates_needed = if flow.state.passed.is_empty() {
        policy.required_for(false)
    } else {
        flow.state.gates_needed
    };
    Ok(ResetView {
        gates_needed: count(gates_needed),
        passed: count(flow.state.passed.len()),
        offered,
        questions,
        email_hint: hints.email,
        phone_hint: hints.phone,
        pending,
        sms: policy.allow_phone_sms,
        voice: policy.allow_phone_voice,
        phone_regions: phone::regions(&policy.phone_regions, place.locale),
        default_region: phone::default_region(&policy, place.browser_region),
        allow_unlock: policy.allow_unlock,
    })
}
