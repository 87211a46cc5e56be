//! The LDAP conversation with the directory: find a user, check a password
//! by binding as them, set or change a password, clear a lockout. Always
//! over TLS (or StartTLS), certificates verified; plain only to loopback
//! when the configuration asks for it (`Transport::Plain`).

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::controls::RawControl;
use ldap3::exop::PasswordModify;
use ldap3::{
    Ldap, LdapConnAsync, LdapConnSettings, LdapError, LdapResult, Mod, Scope, SearchEntry,
};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::config::{DirectoryConfig, DirectoryKind, Transport};
use super::groups::{self, GroupTree};
use super::lockout;
use super::refusal::{self, CONSTRAINT_VIOLATION, PPOLICY_OID, Refusal};
use super::{Entry, active_directory};

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Not reachable, TLS failed, timed out, busy or shutting down: the
    /// user is told to try again later (503), never "wrong password".
    #[error("the directory cannot be reached: {0}")]
    Unavailable(String),
    /// The directory refused the new password for this reason.
    #[error("the directory refused the password ({})", .0.as_str())]
    Refused(Refusal),
    /// The old password given for a change was wrong.
    #[error("the directory did not accept the current password")]
    WrongPassword,
    /// Anything else the directory answered (insufficient rights, no such
    /// entry, …): a configuration problem for the admin.
    #[error("the directory answered {rc}: {text}")]
    Failed { rc: u32, text: String },
    #[error("directory setup: {0}")]
    Setup(String),
}

impl From<LdapError> for DirectoryError {
    fn from(e: LdapError) -> Self {
        match e {
            LdapError::LdapResult { result } => DirectoryError::from_result(&result),
            // Connection, TLS, timeouts, a closed stream: transport faults.
            other => DirectoryError::Unavailable(other.to_string()),
        }
    }
}

impl DirectoryError {
    fn from_result(r: &LdapResult) -> Self {
        match r.rc {
            // busy, unavailable, timeLimitExceeded, other connection-level ends
            51 | 52 | 3 | 80 => DirectoryError::Unavailable(format!("{}: {}", r.rc, r.text)),
            rc => DirectoryError::Failed {
                rc,
                text: r.text.clone(),
            },
        }
    }
}

/// What binding as a user with a password showed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bind {
    Accepted,
    Rejected,
    /// The directory's own lockout holds the account (ppolicy
    /// `accountLocked`, AD `data 775`): the password was not checked.
    Locked,
}

/// LDAP_SERVER_POLICY_HINTS_OID: an AD reset with it applies the password
/// history like a user's own change does (MS-ADTS 3.1.1.3.4.1.43);
/// value `SEQUENCE { INTEGER 1 }`.
const AD_POLICY_HINTS_OID: &str = "1.2.840.113556.1.4.2239";

/// `pwdAccountLockedTime` set to this locks the account until an admin
/// clears it (draft-behera-ldap-password-policy §5.3.3).
const PERMANENT_LOCK: &str = "000001010000Z";

pub struct Directory {
    cfg: DirectoryConfig,
    tls: Arc<rustls::ClientConfig>,
    /// Bound service-account connections, reused between requests.
    pool: tokio::sync::Mutex<Vec<Ldap>>,
    /// Groups of groups read by lookups, and since when: kept for
    /// [`GROUP_CACHE`]. Locked only to copy or merge, never during a read.
    groups: std::sync::Mutex<(std::time::Instant, GroupTree)>,
    /// One turn per DN for password checks (`check_password`).
    turns: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// How long lookups reuse the groups of groups they have read.
const GROUP_CACHE: Duration = Duration::from_secs(300);

impl Directory {
    /// `None` for `kind = "none"`.
    pub fn new(cfg: &DirectoryConfig) -> Result<Option<Directory>, DirectoryError> {
        if cfg.kind == DirectoryKind::None {
            return Ok(None);
        }
        Ok(Some(Directory {
            cfg: cfg.clone(),
            tls: tls_config(cfg)?,
            pool: tokio::sync::Mutex::new(Vec::new()),
            groups: std::sync::Mutex::new((std::time::Instant::now(), GroupTree::default())),
            turns: std::sync::Mutex::new(std::collections::HashMap::new()),
        }))
    }

    pub fn config(&self) -> &DirectoryConfig {
        &self.cfg
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.cfg.timeout_secs)
    }

    fn is_ad(&self) -> bool {
        self.cfg.kind == DirectoryKind::ActiveDirectory
    }

    /// A connection to the first URL that answers, not yet bound.
    async fn open(&self) -> Result<Ldap, DirectoryError> {
        let mut last = String::from("no URL configured");
        for url in &self.cfg.urls {
            let transport = self.cfg.transport(url).map_err(DirectoryError::Setup)?;
            let settings = LdapConnSettings::new()
                .set_conn_timeout(self.timeout())
                .set_config(self.tls.clone())
                .set_starttls(transport == Transport::StartTls);
            match LdapConnAsync::with_settings(settings, url).await {
                Ok((conn, ldap)) => {
                    tokio::spawn(async move {
                        if let Err(e) = conn.drive().await {
                            tracing::debug!(error = %e, "directory connection ended");
                        }
                    });
                    return Ok(ldap);
                }
                Err(e) => {
                    tracing::warn!(url, error = %e, "directory URL does not answer");
                    last = e.to_string();
                }
            }
        }
        Err(DirectoryError::Unavailable(last))
    }

    /// A fresh connection bound as `dn`, or how the bind went.
    async fn bind_as(&self, dn: &str, password: &str) -> Result<(Ldap, Bind), DirectoryError> {
        let mut ldap = self.open().await?;
        // An empty password is an unauthenticated bind, which some servers
        // answer with success (RFC 4513 §5.1.2): never send one.
        if password.is_empty() || dn.is_empty() {
            return Ok((ldap, Bind::Rejected));
        }
        let r = ldap
            .with_timeout(self.timeout())
            .with_controls(RawControl {
                ctype: PPOLICY_OID.into(),
                crit: false,
                val: None,
            })
            .simple_bind(dn, password)
            .await?;
        let bind = match r.rc {
            0 => Bind::Accepted,
            49 if self.is_ad() && r.text.contains("data 775") => Bind::Locked,
            49 if ppolicy_of(&r) == Some(1) => Bind::Locked,
            49 => Bind::Rejected,
            _ => return Err(DirectoryError::from_result(&r)),
        };
        Ok((ldap, bind))
    }

    /// Runs `op` on a service-account connection from the pool (or a new
    /// one). A pooled connection the server has closed meanwhile fails
    /// with `Unavailable`; the operation is then tried once on a new one.
    async fn as_service<T, F, Fut>(&self, op: F) -> Result<T, DirectoryError>
    where
        F: Fn(Ldap) -> Fut,
        Fut: Future<Output = Result<T, DirectoryError>>,
    {
        let pooled = self.pool.lock().await.pop();
        if let Some(ldap) = pooled {
            match op(ldap.clone()).await {
                Err(DirectoryError::Unavailable(_)) => {}
                other => {
                    self.put_back(ldap).await;
                    return other;
                }
            }
        }
        let (ldap, bind) = self
            .bind_as(&self.cfg.bind_dn, &self.cfg.bind_password.0)
            .await?;
        if bind != Bind::Accepted {
            return Err(DirectoryError::Setup(
                "the directory refused the service account's bind_dn and bind_password".into(),
            ));
        }
        let out = op(ldap.clone()).await;
        if !matches!(out, Err(DirectoryError::Unavailable(_))) {
            self.put_back(ldap).await;
        }
        out
    }

    async fn put_back(&self, ldap: Ldap) {
        let mut pool = self.pool.lock().await;
        if pool.len() < self.cfg.pool_size {
            pool.push(ldap);
        }
    }

    /// The service account binds and the root DSE answers (`/healthz`,
    /// `sspr directory test`).
    pub async fn ping(&self) -> Result<(), DirectoryError> {
        let t = self.timeout();
        self.as_service(|mut ldap| async move {
            ldap.with_timeout(t)
                .search("", Scope::Base, "(objectClass=*)", vec!["1.1"])
                .await?
                .success()?;
            Ok(())
        })
        .await
    }

    /// The one user whose login attribute equals `login`. The value is
    /// escaped (RFC 4515), so `*)(uid=*` is looked for literally; more
    /// than one match finds nobody (an ambiguous login must not pick one).
    pub async fn find(&self, login: &str) -> Result<Option<Entry>, DirectoryError> {
        let login = login.trim();
        let filter = self.filter_for(login);
        let attrs = self.requested_attributes();
        let base = self.cfg.base_dn.clone();
        let t = self.timeout();
        let (entries, _) = self
            .as_service(|mut ldap| {
                let (filter, attrs, base) = (filter.clone(), attrs.clone(), base.clone());
                async move {
                    let r = ldap
                        .with_timeout(t)
                        .with_search_options(ldap3::SearchOptions::new().sizelimit(2))
                        .search(&base, Scope::Subtree, &filter, attrs)
                        .await?;
                    // sizeLimitExceeded (4) with two entries: ambiguous.
                    if r.1.rc != 0 && r.1.rc != 4 {
                        return Err(DirectoryError::from_result(&r.1));
                    }
                    Ok((r.0, r.1.rc))
                }
            })
            .await?;
        let mut found: Vec<Entry> = entries
            .into_iter()
            .map(|e| self.entry_of(SearchEntry::construct(e)))
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        if found.len() > 1 {
            tracing::warn!("a login matches more than one directory entry; nobody is signed in");
            return Ok(None);
        }
        let Some(entry) = found.pop() else {
            return Ok(None);
        };
        if self.cfg.group_nesting_depth == 0 {
            return Ok(Some(entry));
        }
        let mut tree = {
            let mut cache = self
                .groups
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if cache.0.elapsed() > GROUP_CACHE {
                *cache = (std::time::Instant::now(), GroupTree::default());
            }
            cache.1.clone()
        };
        let entry = self.with_nested_groups(entry, &mut tree).await?;
        self.groups
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .1
            .absorb(tree);
        Ok(Some(entry))
    }

    /// `entry` with the groups above its own (`groups` module) and its
    /// admin flag from all of them.
    async fn with_nested_groups(
        &self,
        mut entry: Entry,
        tree: &mut GroupTree,
    ) -> Result<Entry, DirectoryError> {
        let direct = std::mem::take(&mut entry.groups);
        entry.groups = tree
            .expand(direct, self.cfg.group_nesting_depth, |g| self.parents_of(g))
            .await?;
        entry.admin = self.is_admin(&entry.groups);
        Ok(entry)
    }

    fn is_admin(&self, groups: &[String]) -> bool {
        groups
            .iter()
            .any(|g| self.cfg.admin_groups.iter().any(|a| dn_eq(a, g)))
    }

    /// The groups `group` is a member of (its own `memberOf`); none when
    /// the entry is gone.
    async fn parents_of(&self, group: String) -> Result<Vec<String>, DirectoryError> {
        let t = self.timeout();
        self.as_service(|mut ldap| {
            let group = group.clone();
            async move {
                let ldap3::SearchResult(entries, r) = ldap
                    .with_timeout(t)
                    .search(&group, Scope::Base, "(objectClass=*)", vec!["memberOf"])
                    .await?;
                match r.rc {
                    0 => {}
                    // noSuchObject: a stale memberOf value.
                    32 => return Ok(Vec::new()),
                    _ => return Err(DirectoryError::from_result(&r)),
                }
                Ok(entries
                    .into_iter()
                    .flat_map(|e| {
                        SearchEntry::construct(e)
                            .attrs
                            .into_iter()
                            .filter(|(k, _)| k.eq_ignore_ascii_case("memberOf"))
                            .flat_map(|(_, v)| v)
                    })
                    .collect())
            }
        })
        .await
    }

    fn filter_for(&self, login: &str) -> String {
        let value = ldap3::ldap_escape(login);
        let alternatives: String = self
            .cfg
            .login_attributes()
            .iter()
            .map(|a| format!("({a}={value})"))
            .collect();
        format!("(&{}(|{alternatives}))", self.cfg.user_filter())
    }

    fn requested_attributes(&self) -> Vec<String> {
        let a = &self.cfg.attributes;
        let mut attrs: Vec<String> = self
            .cfg
            .login_attributes()
            .into_iter()
            .chain([
                a.display_name.as_str(),
                a.email.as_str(),
                a.mobile.as_str(),
                a.preferred_language.as_str(),
                "memberOf",
            ])
            .map(str::to_owned)
            .collect();
        let own: &[&str] = if self.is_ad() {
            &["objectGUID", "userAccountControl", "lockoutTime"]
        } else {
            &["entryUUID", "nsAccountLock", "pwdAccountLockedTime"]
        };
        attrs.extend(own.iter().map(|s| (*s).to_owned()));
        attrs
    }

    /// An entry without a stable id is skipped: sspr could not keep its
    /// security info across a rename.
    fn entry_of(&self, e: SearchEntry) -> Option<Entry> {
        let first = |name: &str| {
            e.attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.first().cloned())
        };
        let id = if self.is_ad() {
            e.bin_attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("objectGUID"))
                .and_then(|(_, v)| v.first())
                .and_then(|b| active_directory::guid_string(b))?
        } else {
            first("entryUUID")?.to_ascii_lowercase()
        };
        let login = self.cfg.login_attributes().iter().find_map(|a| first(a))?;
        let a = &self.cfg.attributes;
        let groups = e
            .attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("memberOf"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let (disabled, locked) = if self.is_ad() {
            (
                active_directory::is_disabled(first("userAccountControl").as_deref()),
                active_directory::is_locked(first("lockoutTime").as_deref()),
            )
        } else {
            // ppolicy's "locked until an admin unlocks" value is how
            // OpenLDAP admins disable an account; 389 DS has nsAccountLock.
            let locked_time = first("pwdAccountLockedTime");
            let admin_locked = locked_time.as_deref() == Some(PERMANENT_LOCK);
            (
                admin_locked
                    || first("nsAccountLock").is_some_and(|v| v.eq_ignore_ascii_case("true")),
                locked_time.is_some() && !admin_locked,
            )
        };
        let admin = self.is_admin(&groups);
        Some(Entry {
            id,
            dn: e.dn.clone(),
            login,
            display_name: first(&a.display_name),
            email: first(&a.email),
            mobile: first(&a.mobile),
            preferred_language: first(&a.preferred_language),
            groups,
            admin,
            disabled,
            locked,
        })
    }

    /// Every user entry under `base_dn`, a page of 500 at a time (RFC 2696
    /// paged results), on a service connection of its own: a sync of
    /// 100 000 entries holds one page in memory, not the directory.
    pub async fn scan(&self) -> Result<Scan<'_>, DirectoryError> {
        let (mut ldap, bind) = self
            .bind_as(&self.cfg.bind_dn, &self.cfg.bind_password.0)
            .await?;
        if bind != Bind::Accepted {
            return Err(DirectoryError::Setup(
                "the directory refused the service account's bind_dn and bind_password".into(),
            ));
        }
        let adapters: Vec<Box<dyn Adapter<'static, String, Vec<String>>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(SCAN_PAGE)),
        ];
        let stream = ldap
            .streaming_search_with(
                adapters,
                &self.cfg.base_dn,
                Scope::Subtree,
                self.cfg.user_filter(),
                self.requested_attributes(),
            )
            .await?;
        Ok(Scan {
            dir: self,
            stream,
            tree: GroupTree::default(),
            skipped: 0,
        })
    }

    /// Checks a password by binding as the user on a connection of its own.
    /// When the account's recent failures in the directory are one short
    /// of its lockout threshold, the bind goes to a DN no entry has instead
    /// (the same work, nothing counted) and the answer is `Locked`: a failed
    /// bind from sspr would lock the account for every application
    /// (`lockout`). Checks of one DN take turns in this instance, so
    /// parallel guesses cannot all read the same count and all bind.
    pub async fn check_password(&self, dn: &str, password: &str) -> Result<Bind, DirectoryError> {
        if self.cfg.lockout_threshold == 0 || password.is_empty() {
            return self.bind_once(dn, password).await;
        }
        let turn = self.turn_for(dn);
        let _turn = turn.lock().await;
        let failures = self.recent_failures(dn).await?;
        let out = if lockout::bind_allowed(failures, self.cfg.lockout_threshold) {
            self.bind_once(dn, password).await
        } else {
            tracing::warn!(
                failures,
                threshold = self.cfg.lockout_threshold,
                "no bind: one more failure would lock the account in the directory"
            );
            let absent = format!("cn=sspr-no-such-entry,{}", self.cfg.base_dn);
            self.bind_once(&absent, password)
                .await
                .map(|_| Bind::Locked)
        };
        drop(_turn);
        self.end_turn(dn, turn);
        out
    }

    async fn bind_once(&self, dn: &str, password: &str) -> Result<Bind, DirectoryError> {
        let (mut ldap, bind) = self.bind_as(dn, password).await?;
        let _ = ldap.unbind().await;
        Ok(bind)
    }

    /// The lock checks of `dn` take turns on.
    fn turn_for(&self, dn: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut turns = self
            .turns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        turns.entry(groups::normalize_dn(dn)).or_default().clone()
    }

    /// Forgets `dn`'s turn when nobody else waits for it.
    fn end_turn(&self, dn: &str, turn: Arc<tokio::sync::Mutex<()>>) {
        let mut turns = self
            .turns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Ours and the map's: nobody else holds or waits for it.
        if Arc::strong_count(&turn) == 2 {
            turns.remove(&groups::normalize_dn(dn));
        }
    }

    /// The failed binds the directory holds against `dn` within its
    /// window, read as the service account.
    async fn recent_failures(&self, dn: &str) -> Result<u32, DirectoryError> {
        let t = self.timeout();
        let ad = self.is_ad();
        let window = self.cfg.lockout_window_secs;
        let attrs: Vec<&'static str> = if ad {
            vec!["badPwdCount", "badPasswordTime"]
        } else {
            vec!["pwdFailureTime"]
        };
        let dn = dn.to_owned();
        let values = self
            .as_service(|mut ldap| {
                let (dn, attrs) = (dn.clone(), attrs.clone());
                async move {
                    let ldap3::SearchResult(entries, r) = ldap
                        .with_timeout(t)
                        .search(&dn, Scope::Base, "(objectClass=*)", attrs)
                        .await?;
                    match r.rc {
                        0 => {}
                        // noSuchObject: the DN an unknown ID binds to (the
                        // same work as a known one's), or a user just gone.
                        32 => return Ok(std::collections::HashMap::new()),
                        _ => return Err(DirectoryError::from_result(&r)),
                    }
                    Ok(entries
                        .into_iter()
                        .next()
                        .map(|e| SearchEntry::construct(e).attrs)
                        .unwrap_or_default())
                }
            })
            .await?;
        let get = |name: &str| {
            values
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Ok(if ad {
            lockout::ad_failures(
                get("badPwdCount").first().map(String::as_str),
                get("badPasswordTime").first().map(String::as_str),
                now,
                window,
            )
        } else {
            lockout::ppolicy_failures(&get("pwdFailureTime"), now, window)
        })
    }

    /// A reset: the service account sets the password. The directory's own
    /// policy still applies (ppolicy for the service DN; AD with the
    /// policy-hints control, so history counts).
    pub async fn reset_password(&self, dn: &str, new: &str) -> Result<(), DirectoryError> {
        let t = self.timeout();
        if self.is_ad() {
            let (dn, new) = (dn.to_owned(), new.to_owned());
            return self
                .as_service(|mut ldap| {
                    let (dn, new) = (dn.clone(), new.clone());
                    async move {
                        let r = ldap
                            .with_timeout(t)
                            .with_controls(RawControl {
                                ctype: AD_POLICY_HINTS_OID.into(),
                                crit: false,
                                val: Some(vec![0x30, 0x03, 0x02, 0x01, 0x01]),
                            })
                            .modify(
                                &dn,
                                vec![Mod::Replace(
                                    b"unicodePwd".to_vec(),
                                    HashSet::from([active_directory::unicode_pwd(&new)]),
                                )],
                            )
                            .await?;
                        ad_outcome(&r)
                    }
                })
                .await;
        }
        let (dn, new) = (dn.to_owned(), new.to_owned());
        self.as_service(|mut ldap| {
            let (dn, new) = (dn.clone(), new.clone());
            async move {
                let r = ldap
                    .with_timeout(t)
                    .with_controls(ppolicy_request())
                    .extended(PasswordModify {
                        user_id: Some(&dn),
                        old_pass: None,
                        new_pass: Some(&new),
                    })
                    .await?;
                openldap_outcome(&r.1)
            }
        })
        .await
    }

    /// A change by the user: bound as them, with the old password.
    pub async fn change_password(
        &self,
        dn: &str,
        old: &str,
        new: &str,
    ) -> Result<(), DirectoryError> {
        let (mut ldap, bind) = self.bind_as(dn, old).await?;
        match bind {
            Bind::Accepted => {}
            Bind::Rejected => return Err(DirectoryError::WrongPassword),
            Bind::Locked => {
                return Err(DirectoryError::Failed {
                    rc: 49,
                    text: "the account is locked in the directory".into(),
                });
            }
        }
        let t = self.timeout();
        let out = if self.is_ad() {
            let r = ldap
                .with_timeout(t)
                .modify(
                    dn,
                    vec![
                        Mod::Delete(
                            b"unicodePwd".to_vec(),
                            HashSet::from([active_directory::unicode_pwd(old)]),
                        ),
                        Mod::Add(
                            b"unicodePwd".to_vec(),
                            HashSet::from([active_directory::unicode_pwd(new)]),
                        ),
                    ],
                )
                .await?;
            ad_outcome(&r)
        } else {
            let r = ldap
                .with_timeout(t)
                .with_controls(ppolicy_request())
                .extended(PasswordModify {
                    user_id: None,
                    old_pass: Some(old),
                    new_pass: Some(new),
                })
                .await?;
            openldap_outcome(&r.1)
        };
        let _ = ldap.unbind().await;
        out
    }

    /// Clears the directory's lockout of the account (the unlock-only
    /// path). Not locked is not an error.
    pub async fn unlock(&self, dn: &str) -> Result<(), DirectoryError> {
        let t = self.timeout();
        let ad = self.is_ad();
        let dn = dn.to_owned();
        self.as_service(|mut ldap| {
            let dn = dn.clone();
            async move {
                let change = if ad {
                    Mod::Replace(b"lockoutTime".to_vec(), HashSet::from([b"0".to_vec()]))
                } else {
                    Mod::Delete(b"pwdAccountLockedTime".to_vec(), HashSet::new())
                };
                let r = ldap.with_timeout(t).modify(&dn, vec![change]).await?;
                match r.rc {
                    // noSuchAttribute: there was no lock to clear.
                    0 | 16 => Ok(()),
                    _ => Err(DirectoryError::from_result(&r)),
                }
            }
        })
        .await
    }
}

/// Entries per page of a scan.
const SCAN_PAGE: i32 = 500;

/// A scan of every user entry in progress (`Directory::scan`).
pub struct Scan<'d> {
    dir: &'d Directory,
    stream: ldap3::SearchStream<'static, String, Vec<String>>,
    /// Groups of groups, read once for the whole scan.
    tree: GroupTree,
    /// Entries without a stable id or a login, passed over.
    pub skipped: u64,
}

impl Scan<'_> {
    /// The next user entry, or `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Entry>, DirectoryError> {
        while let Some(raw) = self.stream.next().await? {
            match self.dir.entry_of(SearchEntry::construct(raw)) {
                Some(entry) => {
                    return Ok(Some(
                        self.dir.with_nested_groups(entry, &mut self.tree).await?,
                    ));
                }
                None => self.skipped += 1,
            }
        }
        Ok(None)
    }

    /// Whether the whole result arrived: only then may a sync conclude
    /// that an entry it did not see is gone.
    pub async fn finish(mut self) -> Result<(), DirectoryError> {
        let r = self.stream.finish().await;
        match r.rc {
            0 => Ok(()),
            // sizeLimitExceeded: the directory caps what the service
            // account may list even page by page.
            4 => Err(DirectoryError::Setup(
                "the directory stopped the listing at its size limit: let the service account \
                 list every entry (OpenLDAP: limits dn.exact=\"<bind_dn>\" size.prtotal=unlimited)"
                    .into(),
            )),
            _ => Err(DirectoryError::from_result(&r)),
        }
    }
}

fn ppolicy_request() -> RawControl {
    RawControl {
        ctype: PPOLICY_OID.into(),
        crit: false,
        val: None,
    }
}

/// The ppolicy response control's error number, if the server sent one.
fn ppolicy_of(r: &LdapResult) -> Option<u8> {
    r.ctrls
        .iter()
        .find(|c| c.1.ctype == PPOLICY_OID)
        .and_then(|c| c.1.val.as_deref())
        .and_then(refusal::ppolicy_error)
}

fn openldap_outcome(r: &LdapResult) -> Result<(), DirectoryError> {
    match r.rc {
        0 => Ok(()),
        CONSTRAINT_VIOLATION => Err(DirectoryError::Refused(refusal::from_openldap(
            ppolicy_of(r),
            &r.text,
        ))),
        // unwillingToPerform with a wrong old password (`-a`).
        53 if r.text.contains("old password") => Err(DirectoryError::WrongPassword),
        _ => Err(DirectoryError::from_result(r)),
    }
}

fn ad_outcome(r: &LdapResult) -> Result<(), DirectoryError> {
    match r.rc {
        0 => Ok(()),
        CONSTRAINT_VIOLATION if refusal::is_wrong_old_password_ad(&r.text) => {
            Err(DirectoryError::WrongPassword)
        }
        // AD says a refused value with 19, or with 53 and the 0000052D code.
        CONSTRAINT_VIOLATION => Err(DirectoryError::Refused(refusal::from_active_directory(
            &r.text,
        ))),
        53 if r.text.starts_with("0000052D") => Err(DirectoryError::Refused(
            refusal::from_active_directory(&r.text),
        )),
        _ => Err(DirectoryError::from_result(r)),
    }
}

/// Two DNs name the same entry when they match ignoring case and spaces
/// around separators (enough for group DNs as admins type them).
fn dn_eq(a: &str, b: &str) -> bool {
    groups::normalize_dn(a) == groups::normalize_dn(b)
}

/// The public roots plus `ca_file`; ring, like the rest of the server.
fn tls_config(cfg: &DirectoryConfig) -> Result<Arc<rustls::ClientConfig>, DirectoryError> {
    let setup = |e: String| DirectoryError::Setup(e);
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &cfg.ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| setup(format!("ca_file {}: {e}", path.display())))?;
        for cert in certs {
            let cert = cert.map_err(|e| setup(format!("ca_file {}: {e}", path.display())))?;
            roots
                .add(cert)
                .map_err(|e| setup(format!("ca_file {}: {e}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| setup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_dns_compare_without_case_or_spaces() {
        assert!(dn_eq(
            "cn=Admins, ou=Groups,dc=example,dc=org",
            "CN=admins,OU=groups,DC=example,DC=org"
        ));
        assert!(!dn_eq(
            "cn=admins,dc=example,dc=org",
            "cn=staff,dc=example,dc=org"
        ));
    }

    #[test]
    fn a_login_is_escaped_into_the_filter() {
        let cfg = DirectoryConfig {
            kind: DirectoryKind::Ldap,
            login_attributes: vec!["uid".into(), "mail".into()],
            ..DirectoryConfig::default()
        };
        let d = Directory::new(&cfg).unwrap().unwrap();
        assert_eq!(
            d.filter_for("*)(uid=*"),
            "(&(objectClass=inetOrgPerson)(|(uid=\\2a\\29\\28uid=\\2a)(mail=\\2a\\29\\28uid=\\2a)))"
        );
        assert!(ldap3::parse_filter(d.filter_for("a\\b\0c(")).is_ok());
    }
}
