//! The real Samba Active Directory domain controller of a test run.
//!
//! Samba's LDAP ports are fixed, so the test command starts one DC for the
//! whole run (`bash .ci/ad-dc start DIR`, then `source DIR/env`) and the
//! tests share it, each with users of its own (`unique`). Where it answers
//! comes from `SSPR_TEST_AD_URL`, `SSPR_TEST_AD_CA` and
//! `SSPR_TEST_AD_PASSWORD`; without them a test fails with a message naming
//! the command (tests never skip).

use std::path::PathBuf;

use base64::Engine as _;

use crate::directory::config::Secret;
use crate::directory::{DirectoryConfig, DirectoryKind, active_directory};
use crate::testkit::ldap_tools::LdapTools;

pub const USERS: &str = "CN=Users,DC=example,DC=test";
pub const ADMIN_DN: &str = "CN=Administrator,CN=Users,DC=example,DC=test";
/// The domain's minimum password length as provisioned.
pub const MIN_LENGTH: usize = 7;
/// Bad passwords before the domain locks an account (`.ci/ad-dc` sets it).
pub const LOCKOUT_THRESHOLD: usize = 5;

pub struct SambaDc {
    url: String,
    ca: PathBuf,
    password: String,
}

impl SambaDc {
    pub fn from_env() -> SambaDc {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!(
                    "{name} is not set: these tests need the Samba AD DC that `bash .ci/test` \
                     starts (by hand: `bash .ci/ad-dc start target/ad-dc && source target/ad-dc/env`)"
                )
            })
        };
        SambaDc {
            url: var("SSPR_TEST_AD_URL"),
            ca: PathBuf::from(var("SSPR_TEST_AD_CA")),
            password: var("SSPR_TEST_AD_PASSWORD"),
        }
    }

    pub fn tools(&self) -> LdapTools {
        LdapTools {
            url: self.url.clone(),
            ca: Some(self.ca.clone()),
            admin_dn: ADMIN_DN.into(),
            admin_password: self.password.clone(),
        }
    }

    /// `[directory]` for the DC: `active_directory`, LDAPS verified
    /// against the run's CA, the kind's usual filter and login attributes
    /// (`sAMAccountName`, `userPrincipalName`), `admins` (when a test adds
    /// it) as the admin group.
    pub fn config(&self) -> DirectoryConfig {
        DirectoryConfig {
            kind: DirectoryKind::ActiveDirectory,
            urls: vec![self.url.clone()],
            ca_file: Some(self.ca.clone()),
            bind_dn: ADMIN_DN.into(),
            bind_password: Secret(self.password.clone()),
            base_dn: USERS.into(),
            lockout_threshold: LOCKOUT_THRESHOLD as u32,
            // The provisioned lockoutObservationWindow: 30 minutes.
            lockout_window_secs: 1800,
            timeout_secs: 10,
            ..DirectoryConfig::default()
        }
    }

    /// `prefix` and six random hex digits: tests share the DC, and
    /// `sAMAccountName` allows 20 characters.
    pub fn unique(prefix: &str) -> String {
        format!("{prefix}{:06x}", rand::random::<u32>() & 0x00ff_ffff)
    }

    /// Adds an enabled user `name` (also `name@example.test`, its UPN and
    /// mail) and returns their DN.
    pub fn add_user(&self, name: &str, password: &str, mobile: &str) -> String {
        let dn = format!("CN={name},{USERS}");
        let pwd = base64::engine::general_purpose::STANDARD
            .encode(active_directory::unicode_pwd(password));
        self.tools().modify(&format!(
            "dn: {dn}\nchangetype: add\nobjectClass: user\nsAMAccountName: {name}\n\
             userPrincipalName: {name}@example.test\ndisplayName: {name} Example\n\
             mail: {name}@example.test\nmobile: {mobile}\npreferredLanguage: en\n\
             unicodePwd:: {pwd}\nuserAccountControl: 512\n"
        ));
        dn
    }

    /// Adds a (global security) group `name` and returns its DN.
    pub fn add_group(&self, name: &str) -> String {
        let dn = format!("CN={name},{USERS}");
        self.tools().modify(&format!(
            "dn: {dn}\nchangetype: add\nobjectClass: group\nsAMAccountName: {name}\n"
        ));
        dn
    }

    pub fn add_to_group(&self, group: &str, member: &str) {
        self.tools().modify(&format!(
            "dn: {group}\nchangetype: modify\nadd: member\nmember: {member}\n"
        ));
    }

    /// Sets `userAccountControl` (512 enabled, 514 disabled).
    pub fn set_account_control(&self, dn: &str, value: u32) {
        self.tools().modify(&format!(
            "dn: {dn}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: {value}\n"
        ));
    }

    pub fn can_bind(&self, dn: &str, password: &str) -> bool {
        self.tools().can_bind(dn, password)
    }
}
