//! `[directory]`: where accounts and passwords live when the organisation
//! has a directory. `kind = "none"` (the default) keeps sspr's own
//! accounts; every other key is checked at start-up, so a typo in a URL or
//! a missing password stops the server instead of failing at a user's
//! first sign-in.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use crate::config::ConfigError;

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryKind {
    /// sspr's own accounts (argon2 hashes in its database).
    #[default]
    None,
    /// OpenLDAP, 389 Directory Server and other RFC 4511 servers: RFC 3062
    /// Password Modify, ppolicy, `entryUUID`.
    Ldap,
    /// Active Directory and Samba AD: `unicodePwd`, `objectGUID`,
    /// `userAccountControl`, `lockoutTime`.
    ActiveDirectory,
}

/// A value that must never reach a log line: `Debug` prints a mask.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// Which directory attribute carries each thing sspr shows or sends to.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AttributeMap {
    pub display_name: String,
    pub email: String,
    pub mobile: String,
    pub preferred_language: String,
}

impl Default for AttributeMap {
    fn default() -> Self {
        AttributeMap {
            display_name: "displayName".into(),
            email: "mail".into(),
            mobile: "mobile".into(),
            preferred_language: "preferredLanguage".into(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryConfig {
    pub kind: DirectoryKind,
    /// Tried in order. `ldaps://host:636` (TLS from the first byte) or
    /// `ldap://host:389`, which is upgraded with StartTLS before anything
    /// is sent. Certificates and host names are always verified.
    pub urls: Vec<String>,
    /// PEM file of the CA certificates that issued the directory's
    /// certificate, for an internal CA. Without it, the public roots.
    pub ca_file: Option<PathBuf>,
    /// `ldap://` without StartTLS, for a directory on this machine only
    /// (loopback addresses). Passwords then cross the loopback interface
    /// in clear; never for a remote server.
    pub allow_plain_loopback: bool,
    /// The service account sspr searches and resets passwords as.
    pub bind_dn: String,
    /// Its password. Give it in the environment
    /// (`SSPR_DIRECTORY__BIND_PASSWORD`), not in this file.
    pub bind_password: Secret,
    /// Where users are searched (subtree).
    pub base_dn: String,
    /// Which entries are users, e.g. `(objectClass=inetOrgPerson)`. Empty:
    /// the kind's usual one.
    pub user_filter: String,
    /// Attributes a user may type as their ID (any one matches), e.g.
    /// `["uid", "mail"]` or `["sAMAccountName", "userPrincipalName"]`.
    /// Empty: the kind's usual ones.
    pub login_attributes: Vec<String>,
    pub attributes: AttributeMap,
    /// Members of these groups (DNs) are sspr admins (two methods, no
    /// security questions, a second factor at sign-in).
    pub admin_groups: Vec<String>,
    /// Levels of groups-in-groups followed above a user's own groups (for
    /// `admin_groups` and SSPR scope "selected groups"); 0 (the default)
    /// counts direct membership only. Above 0 a lookup reads the groups of
    /// groups it has not read in five minutes, which an unknown ID's lookup
    /// does not (docs/security.md #85).
    pub group_nesting_depth: u32,
    /// The directory's own lockout threshold (ppolicy `pwdMaxFailure`, AD
    /// `lockoutThreshold`): sspr does not make a bind that would bring the
    /// account's recent failures to it (`directory::lockout`). Set it to the
    /// directory's value; 0 only for a directory that never locks.
    pub lockout_threshold: u32,
    /// The directory's window for counting failures (ppolicy
    /// `pwdFailureCountInterval`, AD `lockoutObservationWindow`), in
    /// seconds; 0: failures are never forgotten.
    pub lockout_window_secs: u64,
    /// Seconds for connecting and for each operation.
    pub timeout_secs: u64,
    /// Service-account connections kept open between requests.
    pub pool_size: usize,
    /// Seconds between syncs of every entry by the server (`sspr directory
    /// sync` runs one now); 0 turns the periodic sync off. Sign-in and
    /// reset always read the entry they need anyway.
    pub sync_interval_secs: u64,
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        DirectoryConfig {
            kind: DirectoryKind::None,
            urls: Vec::new(),
            ca_file: None,
            allow_plain_loopback: false,
            bind_dn: String::new(),
            bind_password: Secret::default(),
            base_dn: String::new(),
            user_filter: String::new(),
            login_attributes: Vec::new(),
            attributes: AttributeMap::default(),
            admin_groups: Vec::new(),
            group_nesting_depth: 0,
            // Low on purpose: a forgotten setting stops sspr's binds early
            // rather than let it lock accounts.
            lockout_threshold: 5,
            lockout_window_secs: 1800,
            timeout_secs: 5,
            pool_size: 4,
            sync_interval_secs: 3600,
        }
    }
}

impl DirectoryConfig {
    /// The user filter in force: the configured one or the kind's usual one.
    pub fn user_filter(&self) -> &str {
        match (self.user_filter.trim(), self.kind) {
            ("", DirectoryKind::ActiveDirectory) => "(&(objectCategory=person)(objectClass=user))",
            ("", _) => "(objectClass=inetOrgPerson)",
            (f, _) => f,
        }
    }

    /// The login attributes in force.
    pub fn login_attributes(&self) -> Vec<&str> {
        match (self.login_attributes.is_empty(), self.kind) {
            (false, _) => self.login_attributes.iter().map(String::as_str).collect(),
            (true, DirectoryKind::ActiveDirectory) => vec!["sAMAccountName", "userPrincipalName"],
            (true, _) => vec!["uid"],
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.kind == DirectoryKind::None {
            return Ok(());
        }
        let invalid = |key: &'static str, reason: String| ConfigError::Invalid { key, reason };
        if self.urls.is_empty() {
            return Err(invalid(
                "directory.urls",
                "name at least one ldaps:// or ldap:// URL".into(),
            ));
        }
        for u in &self.urls {
            self.transport(u)
                .map_err(|reason| invalid("directory.urls", format!("{u}: {reason}")))?;
        }
        if self.bind_dn.trim().is_empty() || self.base_dn.trim().is_empty() {
            return Err(invalid(
                "directory",
                "bind_dn and base_dn are required".into(),
            ));
        }
        if self.bind_password.0.is_empty() {
            // An empty password would be an anonymous bind (RFC 4513 §5.1.2).
            return Err(invalid(
                "directory.bind_password",
                "required; set SSPR_DIRECTORY__BIND_PASSWORD".into(),
            ));
        }
        if ldap3::parse_filter(self.user_filter()).is_err() {
            return Err(invalid(
                "directory.user_filter",
                "not an LDAP filter such as (objectClass=inetOrgPerson)".into(),
            ));
        }
        let names = self.login_attributes().into_iter().chain([
            self.attributes.display_name.as_str(),
            self.attributes.email.as_str(),
            self.attributes.mobile.as_str(),
            self.attributes.preferred_language.as_str(),
        ]);
        for name in names {
            if !is_attribute_name(name) {
                return Err(invalid(
                    "directory.attributes",
                    format!("{name:?} is not an attribute name"),
                ));
            }
        }
        if self.group_nesting_depth > 16 {
            return Err(invalid(
                "directory.group_nesting_depth",
                "at most 16 (0 for direct membership only)".into(),
            ));
        }
        if !(1..=60).contains(&self.timeout_secs)
            || !(1..=64).contains(&self.pool_size)
            || (self.sync_interval_secs != 0 && self.sync_interval_secs < 60)
        {
            return Err(invalid(
                "directory",
                "need 1 <= timeout_secs <= 60, 1 <= pool_size <= 64 and sync_interval_secs 0 or >= 60"
                    .into(),
            ));
        }
        if let Some(ca) = &self.ca_file
            && !ca.is_file()
        {
            return Err(invalid(
                "directory.ca_file",
                format!("{} is not a readable file", ca.display()),
            ));
        }
        Ok(())
    }

    /// How a URL is reached, or why it may not be.
    pub fn transport(&self, url: &str) -> Result<Transport, String> {
        let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
        let host = parsed.host_str().ok_or("has no host")?.to_owned();
        if parsed.path().len() > 1 || parsed.query().is_some() {
            return Err("must be only scheme, host and port".into());
        }
        match parsed.scheme() {
            "ldaps" => Ok(Transport::Tls),
            "ldap" if !self.allow_plain_loopback => Ok(Transport::StartTls),
            "ldap" => {
                let loopback = host
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
                if loopback {
                    Ok(Transport::Plain)
                } else {
                    Err(
                        "allow_plain_loopback allows plain ldap:// to loopback addresses only"
                            .into(),
                    )
                }
            }
            _ => Err("must be ldaps:// or ldap://".into()),
        }
    }
}

/// How a connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tls,
    StartTls,
    Plain,
}

/// RFC 4512 §1.4 `descr` (letters, digits, hyphens, a letter first) or a
/// numeric OID: nothing that could change a filter or a search.
fn is_attribute_name(s: &str) -> bool {
    let descr = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let oid = !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    descr || oid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ldap(extra: &str) -> Result<(), ConfigError> {
        let text = format!(
            "kind = \"ldap\"\nbind_dn = \"cn=sspr,dc=example,dc=org\"\nbind_password = \"s\"\n\
             base_dn = \"dc=example,dc=org\"\n{extra}"
        );
        let cfg: DirectoryConfig = toml_section(&text);
        cfg.validate()
    }

    fn toml_section(text: &str) -> DirectoryConfig {
        use figment::providers::{Format, Toml};
        figment::Figment::from(Toml::string(text))
            .extract()
            .unwrap()
    }

    #[test]
    fn none_needs_nothing_and_is_the_default() {
        assert_eq!(DirectoryConfig::default().kind, DirectoryKind::None);
        assert!(DirectoryConfig::default().validate().is_ok());
    }

    #[test]
    fn urls_must_be_protected_unless_plain_loopback_is_asked_for() {
        assert!(ldap("urls = [\"ldaps://dc1.example.org\"]").is_ok());
        assert!(
            ldap("urls = [\"ldap://dc1.example.org\"]").is_ok(),
            "StartTLS"
        );
        assert!(ldap("urls = [\"http://dc1.example.org\"]").is_err());
        assert!(ldap("").is_err(), "no URL");
        assert!(
            ldap("urls = [\"ldap://dc1.example.org\"]\nallow_plain_loopback = true").is_err(),
            "plain to a remote host"
        );
        assert!(ldap("urls = [\"ldap://127.0.0.1:3890\"]\nallow_plain_loopback = true").is_ok());
        assert!(ldap("urls = [\"ldap://[::1]:3890\"]\nallow_plain_loopback = true").is_ok());
    }

    #[test]
    fn a_missing_password_or_a_bad_filter_or_attribute_is_refused() {
        let url = "urls = [\"ldaps://dc1.example.org\"]\n";
        let no_password: DirectoryConfig = toml_section(&format!(
            "kind = \"ldap\"\nbind_dn = \"cn=s\"\nbase_dn = \"dc=e\"\n{url}"
        ));
        assert!(no_password.validate().is_err());
        assert!(ldap(&format!("{url}user_filter = \"(objectClass=person\"")).is_err());
        assert!(ldap(&format!("{url}login_attributes = [\"uid)(x\"]")).is_err());
        assert!(ldap(&format!("{url}login_attributes = [\"uid\", \"mail\"]")).is_ok());
        assert!(ldap(&format!("{url}timeout_secs = 0")).is_err());
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let cfg = DirectoryConfig {
            bind_password: Secret("hunter2".into()),
            ..DirectoryConfig::default()
        };
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }
}
