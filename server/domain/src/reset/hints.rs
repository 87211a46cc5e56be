//! The opt-in masked-hints mode (Entra style).

use super::{Flow, ResetError, registered};
use crate::methods::{self, Kind};
use crate::policy::Policy;
use crate::{DomainError, Services, store};

/// Entra-style masked hints, shown only when the policy's opt-in
/// `reset_show_hints` is on: `da***@example.org`, `*******78`. An account
/// without such a method, and an ID that names no account, get stand-ins
/// derived from a keyed hash of the typed ID (stable across visits, and in
/// the organisation's most common email domain), so the page still looks
/// the same for everyone. What the mode gives away is the hint itself, to
/// anyone who types the user ID: the reason it is off by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hints {
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// Stars before a phone hint's last two digits: fixed, so the hint does
/// not tell the number's length.
const PHONE_HINT_STARS: usize = 7;

pub async fn hints(s: &Services, policy: &Policy, flow: &Flow) -> Result<Hints, ResetError> {
    if !policy.reset_show_hints {
        return Ok(Hints::default());
    }
    let registered = registered(s, flow.user_id).await?;
    let real = |kind: Kind| {
        registered
            .iter()
            .find(|m| m.kind == kind)
            .map(|m| m.destination.clone())
    };
    let seed = s
        .key
        .keyed_hash("reset-standin", &[flow.state.identifier.as_bytes()]);
    let email = if policy.allow_email {
        // Looked up on both paths (from the hourly cache), so a stand-in
        // costs what a real hint costs (docs/security.md #11).
        let common = common_email_domain(s).await?;
        Some(match real(Kind::Email) {
            Some(address) => methods::mask_email(&address),
            None => {
                let letters: String = seed[..2]
                    .iter()
                    .map(|b| char::from(b'a' + b % 26))
                    .collect();
                format!("{letters}***@{common}")
            }
        })
    } else {
        None
    };
    let phone = if policy.allow_phone_sms || policy.allow_phone_voice {
        let last_two: String = match real(Kind::Phone) {
            Some(number) => {
                let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
                digits[digits.len().saturating_sub(2)..].iter().collect()
            }
            None => seed[2..4]
                .iter()
                .map(|b| char::from(b'0' + b % 10))
                .collect(),
        };
        Some(format!("{}{last_two}", "*".repeat(PHONE_HINT_STARS)))
    } else {
        None
    };
    Ok(Hints { email, phone })
}

/// How long the stand-in domain is reused before it is computed again.
pub const HINT_DOMAIN_TTL_SECS: i64 = 3600;

/// The domain most registered reset addresses use (the stand-in hint's),
/// or the site's own host when nobody registered one. Computed at most once
/// an hour per instance: it reads 500 rows, and every hints page needs it.
async fn common_email_domain(s: &Services) -> Result<String, DomainError> {
    let now = s.now();
    if let Ok(cached) = s.hint_domain.lock()
        && let Some((at, domain)) = cached.as_ref()
        && now.secs() - at.secs() < HINT_DOMAIN_TTL_SECS
    {
        return Ok(domain.clone());
    }
    let domain = compute_common_email_domain(s).await?;
    if let Ok(mut cached) = s.hint_domain.lock() {
        *cached = Some((now, domain.clone()));
    }
    Ok(domain)
}

async fn compute_common_email_domain(s: &Services) -> Result<String, DomainError> {
    let addresses = store::methods::recent_email_addresses(s.db.pool(), 500).await?;
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for address in addresses {
        if let Some((_, domain)) = address.rsplit_once('@') {
            *counts.entry(domain.to_ascii_lowercase()).or_default() += 1;
        }
    }
    Ok(counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(d, _)| d)
        .or_else(|| {
            url::Url::parse(&s.config.public_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
        })
        .unwrap_or_else(|| "example.com".into()))
}
