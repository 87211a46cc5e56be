//! Fixed-window limits in the database, shared by all instances
//! (docs/security.md #34, #37, #39): "at most N sends to this destination
//! per hour". One atomic upsert per hit, so parallel requests cannot slip
//! past a limit. The keys are typed; each renders exactly the string
//! earlier versions stored, so an upgrade keeps everyone's counts.

use std::fmt;
use std::net::IpAddr;

use crate::methods::Kind;
use crate::store::{self, Exec};
use crate::{DomainError, Timestamp};

/// No limit counts over a longer window than this (the reset's 24-hour
/// method block is the longest), so older counters can be deleted
/// (`housekeeping`).
pub const LONGEST_WINDOW_SECS: i64 = 24 * 3600;

/// The unit per-address limits count: an IPv4 address, or the /64 an IPv6
/// address lies in (a subscriber is usually given a whole /64 and could
/// otherwise take a fresh address for every request). No address at all
/// is one shared bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    V4(std::net::Ipv4Addr),
    V6Prefix([u16; 4]),
    Unknown,
}

impl Network {
    pub fn of(ip: Option<IpAddr>) -> Network {
        match ip.map(|ip| ip.to_canonical()) {
            Some(IpAddr::V4(v4)) => Network::V4(v4),
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                Network::V6Prefix([s[0], s[1], s[2], s[3]])
            }
            None => Network::Unknown,
        }
    }
}

/// The /48 an IPv6 address lies in (a site's allocation), as counters
/// name it; `None` for IPv4 and for no address.
pub fn ipv6_site(ip: Option<IpAddr>) -> Option<String> {
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
        }
        _ => None,
    }
}

impl Network {
    /// Whether `s` is how `Display` writes some network.
    pub fn is_name(s: &str) -> bool {
        s == "unknown"
            || s.parse::<std::net::Ipv4Addr>().is_ok()
            || s.strip_suffix("::/64").is_some_and(|p| {
                let groups: Vec<&str> = p.split(':').collect();
                groups.len() == 4
                    && groups
                        .iter()
                        .all(|g| !g.is_empty() && u16::from_str_radix(g, 16).is_ok())
            })
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Network::V4(v4) => write!(f, "{v4}"),
            Network::V6Prefix([a, b, c, d]) => write!(f, "{a:x}:{b:x}:{c:x}:{d:x}::/64"),
            Network::Unknown => f.write_str("unknown"),
        }
    }
}

/// What a counter counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterKey<'a> {
    /// Reset wizards started from one network.
    ResetStarts(Network),
    /// Of those, started without a solved CAPTCHA.
    ResetStartsWithoutCaptcha(Network),
    /// Reset wizards started from everywhere (the surge alert).
    ResetStartsTotal,
    /// Failed checks of one gate kind for one typed user ID (its keyed hash).
    ResetFailures { identifier: &'a str, kind: Kind },
    /// The 24-hour block of one gate kind for one typed user ID (written
    /// by earlier versions; still honoured).
    ResetBlock { identifier: &'a str, kind: Kind },
    /// Failed checks of one gate kind for one typed user ID from one
    /// network (an IPv4 address or IPv6 /64, as [`Network`] renders it).
    ResetFailuresFrom {
        identifier: &'a str,
        kind: Kind,
        network: &'a str,
    },
    /// The 24-hour block of one gate kind for one typed user ID from one
    /// network.
    ResetBlockFrom {
        identifier: &'a str,
        kind: Kind,
        network: &'a str,
    },
    /// Consecutive failed checks of one gate kind for one typed user ID
    /// from one network, across hours.
    ResetStreakFrom {
        identifier: &'a str,
        kind: Kind,
        network: &'a str,
    },
    /// The same from every network.
    ResetStreak { identifier: &'a str, kind: Kind },
    /// Marks that the owner was told a streak reached its cap (from
    /// `network`, or from everywhere when `None`), so they are told once
    /// per streak.
    ResetStreakTold {
        identifier: &'a str,
        kind: Kind,
        network: Option<&'a str>,
    },
    /// Failed guesses at codes sent to destinations the account never
    /// registered: counted (the same write as a real guess) but stopping
    /// nothing.
    ResetStreakElsewhere { identifier: &'a str, kind: Kind },
    /// Reset codes sent for one typed user ID.
    ResetSends { identifier: &'a str },
    /// Codes sent to one destination, by either wizard, in an hour.
    SendsToDestination(&'a str),
    /// The same in a day.
    SendsToDestinationDaily(&'a str),
    /// Registration codes sent for one account.
    SendsForAccount(i64),
    /// The same in a day.
    SendsForAccountDaily(i64),
    /// Reset codes sent for one typed user ID in a day.
    ResetSendsDaily { identifier: &'a str },
    /// Text messages and calls of everyone in an hour.
    PhoneSendsTotal,
    /// A CAPTCHA solution already spent.
    CaptchaSpent(&'a str),
    /// Password checks caused by one network.
    PasswordChecks(Network),
    /// Password checks caused by one IPv6 /48 (see [`ipv6_site`]).
    PasswordChecksFromSite(&'a str),
}

/// The prefix of the streak keys ([`CounterKey::ResetStreak`],
/// [`CounterKey::ResetStreakFrom`]), kept longer than other counters.
pub const STREAK_PREFIX: &str = "reset-streak-";

/// The prefix of [`CounterKey::CaptchaSpent`] keys (housekeeping purges
/// them sooner than counters).
pub const CAPTCHA_MARK_PREFIX: &str = "altcha:";

impl fmt::Display for CounterKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CounterKey::ResetStarts(n) => write!(f, "reset-start:{n}"),
            CounterKey::ResetStartsWithoutCaptcha(n) => write!(f, "reset-nojs:{n}"),
            CounterKey::ResetStartsTotal => f.write_str("reset-starts-total"),
            CounterKey::ResetFailures { identifier, kind } => {
                write!(f, "reset-fail-{}:{identifier}", kind.as_str())
            }
            CounterKey::ResetBlock { identifier, kind } => {
                write!(f, "reset-block-{}:{identifier}", kind.as_str())
            }
            CounterKey::ResetFailuresFrom {
                identifier,
                kind,
                network,
            } => write!(f, "reset-fail-{}:{identifier}@{network}", kind.as_str()),
            CounterKey::ResetBlockFrom {
                identifier,
                kind,
                network,
            } => write!(f, "reset-block-{}:{identifier}@{network}", kind.as_str()),
            CounterKey::ResetStreakFrom {
                identifier,
                kind,
                network,
            } => write!(f, "{STREAK_PREFIX}{}:{identifier}@{network}", kind.as_str()),
            CounterKey::ResetStreak { identifier, kind } => {
                write!(f, "{STREAK_PREFIX}{}:{identifier}", kind.as_str())
            }
            CounterKey::ResetStreakTold {
                identifier,
                kind,
                network: Some(network),
            } => write!(
                f,
                "{STREAK_PREFIX}told-{}:{identifier}@{network}",
                kind.as_str()
            ),
            CounterKey::ResetStreakTold {
                identifier,
                kind,
                network: None,
            } => write!(f, "{STREAK_PREFIX}told-{}:{identifier}", kind.as_str()),
            CounterKey::ResetStreakElsewhere { identifier, kind } => {
                write!(f, "{STREAK_PREFIX}{}:{identifier}:elsewhere", kind.as_str())
            }
            CounterKey::ResetSends { identifier } => write!(f, "reset-send:{identifier}"),
            CounterKey::SendsToDestination(d) => write!(f, "send:dest:{d}"),
            CounterKey::SendsToDestinationDaily(d) => write!(f, "send:dest-day:{d}"),
            CounterKey::SendsForAccount(id) => write!(f, "send:user:{id}"),
            CounterKey::SendsForAccountDaily(id) => write!(f, "send:user-day:{id}"),
            CounterKey::ResetSendsDaily { identifier } => write!(f, "reset-send-day:{identifier}"),
            CounterKey::PhoneSendsTotal => f.write_str("phone-sends-total"),
            CounterKey::CaptchaSpent(sig) => write!(f, "{CAPTCHA_MARK_PREFIX}{sig}"),
            CounterKey::PasswordChecks(n) => write!(f, "pw-check:{n}"),
            CounterKey::PasswordChecksFromSite(site) => write!(f, "pw-check-site:{site}"),
        }
    }
}

/// Counts a hit on `key` and says whether it is within `limit` per
/// `window_secs`. A refused hit is still counted (fail closed).
pub async fn hit<'e>(
    exec: impl Exec<'e>,
    key: CounterKey<'_>,
    window_secs: i64,
    limit: i64,
    now: Timestamp,
) -> Result<bool, DomainError> {
    Ok(count(exec, key, window_secs, now).await? <= limit)
}

/// Counts a hit on `key` and returns the hits in the current window, this
/// one included. On a key nobody refunds, exactly one caller sees any
/// given count.
pub async fn count<'e>(
    exec: impl Exec<'e>,
    key: CounterKey<'_>,
    window_secs: i64,
    now: Timestamp,
) -> Result<i64, DomainError> {
    store::counters::hit(exec, &key.to_string(), window_secs, now).await
}

/// Hits counted in the current window (0 when none).
pub async fn current<'e>(
    exec: impl Exec<'e>,
    key: CounterKey<'_>,
    window_secs: i64,
    now: Timestamp,
) -> Result<i64, DomainError> {
    store::counters::current(exec, &key.to_string(), window_secs, now).await
}

/// Gives one hit back.
pub async fn refund<'e>(exec: impl Exec<'e>, key: CounterKey<'_>) -> Result<(), DomainError> {
    store::counters::refund(exec, &key.to_string()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> String {
        Network::of(s.parse().ok()).to_string()
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(net("198.51.100.7"), "198.51.100.7");
        assert_eq!(net("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(
            net("2001:db8:1:2:aaaa::1"),
            net("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_eq!(net("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_ne!(net("2001:db8:1:2::1"), net("2001:db8:1:3::1"));
        assert_eq!(Network::of(None).to_string(), "unknown");
        assert_eq!(
            ipv6_site("2001:db8:1:2:aaaa::1".parse().ok()).as_deref(),
            Some("2001:db8:1::/48")
        );
        assert_eq!(ipv6_site("192.0.2.1".parse().ok()), None);
        assert_eq!(net("not an address"), "unknown");
    }

    /// An upgrade must not reset anyone's throttles: every key renders the
    /// string earlier versions stored.
    #[test]
    fn keys_render_the_stored_strings() {
        let n = Network::of("192.0.2.1".parse().ok());
        let id = "00ff";
        let cases = [
            (CounterKey::ResetStarts(n), "reset-start:192.0.2.1"),
            (
                CounterKey::ResetStartsWithoutCaptcha(n),
                "reset-nojs:192.0.2.1",
            ),
            (CounterKey::ResetStartsTotal, "reset-starts-total"),
            (
                CounterKey::ResetFailures {
                    identifier: id,
                    kind: Kind::Authenticator,
                },
                "reset-fail-authenticator:00ff",
            ),
            (
                CounterKey::ResetBlock {
                    identifier: id,
                    kind: Kind::Email,
                },
                "reset-block-email:00ff",
            ),
            (CounterKey::ResetSends { identifier: id }, "reset-send:00ff"),
            (
                CounterKey::ResetFailuresFrom {
                    identifier: id,
                    kind: Kind::Phone,
                    network: "2001:db8:1:2::/64",
                },
                "reset-fail-phone:00ff@2001:db8:1:2::/64",
            ),
            (
                CounterKey::ResetBlockFrom {
                    identifier: id,
                    kind: Kind::Phone,
                    network: "192.0.2.1",
                },
                "reset-block-phone:00ff@192.0.2.1",
            ),
            (
                CounterKey::ResetStreakFrom {
                    identifier: id,
                    kind: Kind::Questions,
                    network: "unknown",
                },
                "reset-streak-questions:00ff@unknown",
            ),
            (
                CounterKey::ResetStreak {
                    identifier: id,
                    kind: Kind::Email,
                },
                "reset-streak-email:00ff",
            ),
            (
                CounterKey::ResetStreakElsewhere {
                    identifier: id,
                    kind: Kind::Email,
                },
                "reset-streak-email:00ff:elsewhere",
            ),
            (
                CounterKey::ResetStreakTold {
                    identifier: id,
                    kind: Kind::Email,
                    network: Some("192.0.2.1"),
                },
                "reset-streak-told-email:00ff@192.0.2.1",
            ),
            (
                CounterKey::ResetStreakTold {
                    identifier: id,
                    kind: Kind::Authenticator,
                    network: None,
                },
                "reset-streak-told-authenticator:00ff",
            ),
            (
                CounterKey::SendsToDestination("+15550100"),
                "send:dest:+15550100",
            ),
            (CounterKey::SendsForAccount(7), "send:user:7"),
            (
                CounterKey::SendsToDestinationDaily("+15550100"),
                "send:dest-day:+15550100",
            ),
            (CounterKey::SendsForAccountDaily(7), "send:user-day:7"),
            (
                CounterKey::ResetSendsDaily { identifier: id },
                "reset-send-day:00ff",
            ),
            (CounterKey::PhoneSendsTotal, "phone-sends-total"),
            (CounterKey::CaptchaSpent("sig"), "altcha:sig"),
            (CounterKey::PasswordChecks(n), "pw-check:192.0.2.1"),
            (
                CounterKey::PasswordChecksFromSite("2001:db8:1::/48"),
                "pw-check-site:2001:db8:1::/48",
            ),
        ];
        for (key, stored) in cases {
            assert_eq!(key.to_string(), stored);
        }
    }
}
