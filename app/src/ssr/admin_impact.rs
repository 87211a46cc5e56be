//! The impact preview of a settings change: the proposal comes as the
//! settings form's query string (the preview page's URL, and the CSV's),
//! is checked like a save, and compared with the policy in force over
//! every account.

use sspr_domain::Services;
use sspr_domain::impact::{self, Impact};
use sspr_domain::policy::{Policy, PolicyError};
use sspr_domain::policy_history;
use sspr_proto::admin::{ImpactChangeView, ImpactView};

use super::admin::{PolicyForm, admin, change_view, policy_error};
use crate::error::AppError;

/// Accounts the page lists (the CSV lists them all).
pub const IMPACT_SHOWN: usize = 100;

/// What the impact preview compares: the proposal and the policy in force.
pub struct Compared {
    pub impact: Impact,
    pub current: Policy,
    pub proposed: Policy,
    /// The proposal was made from the version still in force.
    pub up_to_date: bool,
}

/// The proposal in `query` (refused like a save would refuse it) against
/// the policy in force, over every account.
pub async fn compare(s: &Services, query: &str) -> Result<Compared, PolicyError> {
    let form = PolicyForm::from_query(query);
    let proposed = policy_history::proposal(&form.policy()?)?;
    let (current, version) = policy_history::current(&s.db).await?;
    let impact = impact::preview(&s.db, &current, &proposed).await?;
    Ok(Compared {
        impact,
        current,
        proposed,
        up_to_date: version == form.version,
    })
}

pub async fn preview(query: String) -> Result<ImpactView, AppError> {
    let a = admin().await?;
    let Compared {
        impact,
        current,
        proposed,
        up_to_date,
    } = match compare(&a.st.services, &query).await {
        Ok(c) => c,
        Err(e) => return Err(policy_error(e).await),
    };
    let differences = policy_history::diff(&current, &proposed)?;
    Ok(ImpactView {
        users_losing: impact.users_losing as u64,
        admins_losing: impact.admins_losing as u64,
        losing_for_methods: impact.losing_for_methods as u64,
        gaining: impact.gaining as u64,
        total_changes: impact.changes.len() as u64,
        changes: impact
            .changes
            .into_iter()
            .take(IMPACT_SHOWN)
            .map(|c| ImpactChangeView {
                login: c.login_display,
                display_name: c.display_name,
                role: c.role.as_str().into(),
                before: c.before.as_str().into(),
                after: c.after.as_str().into(),
            })
            .collect(),
        differences: differences.into_iter().map(change_view).collect(),
        current: up_to_date,
        fresh_proof: a.fresh_proof(),
    })
}
