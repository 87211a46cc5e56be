//! The organisation's directory (OpenLDAP, 389 DS, Active Directory, Samba
//! AD) as the home of accounts and passwords, when `[directory] kind` is
//! not `none`: sspr looks users up there, checks passwords by binding as
//! them, and writes resets and changes back, under the directory's own
//! password policy.
//!
//! - `config`: the `[directory]` section and its start-up checks.
//! - `client`: the LDAP operations (TLS always; a pool of service binds).
//! - `refusal`: the directory's reasons for refusing a password, as codes.
//! - `active_directory`: AD's encodings (`unicodePwd`, `objectGUID`, flags).
//! - `groups`: nested groups, resolved with a depth bound.
//! - `lockout`: sspr never makes the bind that would lock the account there.
//! - `accounts`: entries mirrored into `users` rows by their stable id.
//! - `sync`: every entry refreshed, rows of entries gone disabled.

pub mod accounts;
pub mod active_directory;
mod client;
pub mod config;
pub mod groups;
pub mod lockout;
pub mod refusal;
pub mod sync;

pub use client::{Bind, Directory, DirectoryError, Scan};
pub use config::{DirectoryConfig, DirectoryKind};
pub use refusal::Refusal;

/// A user as the directory describes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The stable id (`entryUUID`, or `objectGUID` as AD tools print it):
    /// it survives a rename or a move, so the security info stays with the
    /// person.
    pub id: String,
    pub dn: String,
    /// The value of the first login attribute (what sspr shows as the ID).
    pub login: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub preferred_language: Option<String>,
    /// Group DNs: its own `memberOf` values and the groups above them
    /// (`groups`).
    pub groups: Vec<String>,
    /// A member of one of `admin_groups`, directly or through nesting.
    pub admin: bool,
    /// Disabled in the directory (AD `userAccountControl`, 389 `nsAccountLock`).
    pub disabled: bool,
    /// Locked by the directory's password policy (ppolicy
    /// `pwdAccountLockedTime`, AD `lockoutTime`).
    pub locked: bool,
}

impl Entry {
    /// The groups as sspr names them: the value of each group DN's first
    /// RDN (`cn=staff,ou=groups,…` is `staff`), canonical like user IDs,
    /// sorted. SSPR scope "selected groups" names them so.
    pub fn group_names(&self) -> Vec<crate::identity::Login> {
        let mut names: Vec<_> = self
            .groups
            .iter()
            .filter_map(|dn| dn.split(',').next())
            .filter_map(|rdn| rdn.split_once('='))
            .filter_map(|(_, value)| crate::identity::Login::parse(value.trim()).ok())
            .collect();
        names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        names.dedup();
        names
    }
}
