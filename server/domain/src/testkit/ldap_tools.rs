//! Another LDAP client than sspr's (Debian's ldap-utils) for directory
//! tests: entries are set up, and what the directory holds afterwards is
//! read, by tools that share no code with the client under test.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Where a test directory answers and who administers it.
pub struct LdapTools {
    pub url: String,
    /// The CA `ldaps://` certificates are verified against (libldap's
    /// `LDAPTLS_CACERT`); `None` for a plain loopback URL.
    pub ca: Option<PathBuf>,
    pub admin_dn: String,
    pub admin_password: String,
}

impl LdapTools {
    /// `program` (an ldap-utils tool) with this server's CA, bound as `dn`.
    fn command(&self, program: &str, dn: &str, password: &str) -> Command {
        let mut c = Command::new(program);
        if let Some(ca) = &self.ca {
            c.env("LDAPTLS_CACERT", ca).env("LDAPTLS_REQCERT", "demand");
        }
        c.args(["-x", "-H", &self.url, "-D", dn, "-w", password]);
        c
    }

    fn as_admin(&self, program: &str) -> Command {
        self.command(program, &self.admin_dn, &self.admin_password)
    }

    /// Runs an LDIF change as the administrator with `ldapmodify`.
    pub fn modify(&self, ldif: &str) {
        let mut child = self
            .as_admin("ldapmodify")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ldapmodify (Debian's ldap-utils)");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(ldif.as_bytes())
            .expect("write ldif");
        let out = child.wait_with_output().expect("ldapmodify");
        assert!(
            out.status.success(),
            "ldapmodify: {}\n{ldif}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// True when a simple bind as `dn` with `password` succeeds (checked
    /// with a base search of the root DSE: Active Directory has no
    /// "who am I" operation).
    pub fn can_bind(&self, dn: &str, password: &str) -> bool {
        self.command("ldapsearch", dn, password)
            .args(["-s", "base", "-b", "", "1.1"])
            .output()
            .expect("ldapsearch (Debian's ldap-utils)")
            .status
            .success()
    }

    /// An attribute's text values as the administrator reads them.
    pub fn read(&self, dn: &str, attr: &str) -> Vec<String> {
        let out = self
            .as_admin("ldapsearch")
            .args(["-LLL", "-o", "ldif-wrap=no", "-s", "base", "-b", dn, attr])
            .output()
            .expect("ldapsearch (Debian's ldap-utils)");
        let prefix = format!("{attr}: ");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
            .collect()
    }
}
