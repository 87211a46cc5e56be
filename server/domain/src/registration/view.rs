//! What the registration wizard's pages show, projected from the flow, the
//! account's standing and its methods by the domain itself.

use sspr_proto::MethodKind;
use sspr_proto::views::{Allowed, MethodView, PendingView, SetupView};

use super::{Pending, RegError, allowed, delivery_failed, questions_needed, standing};
use crate::users::User;
use crate::{Services, Timestamp, methods, phone, policy, questions};

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// `2026-01-31 09:05 UTC`.
fn fmt_time(t: Timestamp) -> String {
    chrono::DateTime::from_timestamp(t.secs(), 0)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// `place` names the phone picker's countries and picks its first one.
pub async fn view(
    s: &Services,
    token: &str,
    user: &User,
    place: phone::Place<'_>,
    now: Timestamp,
) -> Result<SetupView, RegError> {
    let policy = policy::load(&s.db).await?;
    let flow = super::load(s, token, user.id, now).await?;
    let standing = standing(s, user, now).await?;
    let list = methods::list(s.db.pool(), user.id).await?;
    let failed = delivery_failed(s, &flow).await?;
    let pending = flow.state.pending.map(|p| match p {
        Pending::Code {
            method,
            destination,
            channel,
            digits,
            ..
        } => PendingView::Code {
            kind: method,
            destination,
            channel,
            digits: count(digits),
            delivery_failed: failed,
        },
        Pending::Authenticator { .. } => PendingView::Authenticator,
    });
    let methods = list
        .iter()
        .map(|m| MethodView {
            id: m.id,
            kind: m.kind,
            masked_destination: m.masked_destination(),
            channel: m.phone_channel,
            is_default: m.is_default,
            verified_at: fmt_time(m.verified_at),
        })
        .collect();
    Ok(SetupView {
        display_name: user.display_name.clone(),
        have: count(standing.have),
        need: count(standing.need),
        methods,
        allowed: Allowed {
            email: allowed(&policy, user, MethodKind::Email),
            sms: policy.allow_phone_sms,
            voice: policy.allow_phone_voice,
            authenticator: allowed(&policy, user, MethodKind::Authenticator),
            questions: allowed(&policy, user, MethodKind::Questions),
        },
        pending,
        must_register: standing.must_register,
        may_skip: standing.may_skip,
        must_reconfirm: standing.must_reconfirm,
        phone_regions: phone::regions(&policy.phone_regions, place.locale),
        default_region: phone::default_region(&policy, place.browser_region),
        questions_needed: count(questions_needed(&policy)),
        predefined_questions: questions::PREDEFINED
            .iter()
            .map(|q| (*q).to_owned())
            .collect(),
    })
}
