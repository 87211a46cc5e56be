//! A real OpenLDAP server for a test: its own temporary folder, loopback
//! ports, a private CA, the ppolicy and memberof overlays, and the service
//! account sspr uses. Started in ~50 ms; stopped (and reaped) on drop.
//! Needs Debian's `slapd` and `ldap-utils` (installed by `.ci/setup.sh`);
//! without them a test fails with a message naming the packages.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::directory::config::Secret;
use crate::directory::{DirectoryConfig, DirectoryKind};
use crate::testkit::ldap_tools::LdapTools;

pub const BASE: &str = "dc=example,dc=org";
pub const PEOPLE: &str = "ou=people,dc=example,dc=org";
pub const SERVICE_DN: &str = "cn=sspr,ou=services,dc=example,dc=org";
pub const SERVICE_PASSWORD: &str = "service-account-secret";
pub const ROOT_DN: &str = "cn=admin,dc=example,dc=org";
pub const ROOT_PASSWORD: &str = "root-secret";
pub const ADMINS_GROUP: &str = "cn=admins,ou=groups,dc=example,dc=org";
pub const STAFF_GROUP: &str = "cn=staff,ou=groups,dc=example,dc=org";
/// The ppolicy minimum length (`pwdMinLength`) of the seeded policy.
pub const PPOLICY_MIN_LENGTH: usize = 12;
/// Its `pwdMaxFailure`: failed binds that lock an account.
pub const PPOLICY_MAX_FAILURE: usize = 5;

pub struct Slapd {
    dir: tempfile::TempDir,
    child: Option<Child>,
    pub port: u16,
    pub tls_port: u16,
}

const SLAPD: &str = "/usr/sbin/slapd";

impl Slapd {
    /// A running server with the base entries, the policy, the service
    /// account and the two groups (no users; see `add_user`).
    pub fn start() -> Slapd {
        Self::start_with(&[])
    }

    /// Like `start`, with extra LDIF entries loaded offline (`slapadd -q`:
    /// fast for thousands of entries, but no overlay runs on them, so
    /// their passwords stay as given and memberOf is not kept).
    pub fn start_with(extra_ldif: &[String]) -> Slapd {
        assert!(
            Path::new(SLAPD).exists(),
            "{SLAPD} is missing: install Debian's slapd and ldap-utils (bash .ci/test does)"
        );
        let dir = tempfile::tempdir().expect("temporary folder");
        write_pki(dir.path());
        std::fs::create_dir(dir.path().join("db")).expect("db folder");
        std::fs::write(dir.path().join("slapd.conf"), slapd_conf(dir.path())).expect("conf");
        let mut seed = seed_ldif();
        for e in extra_ldif {
            seed.push('\n');
            seed.push_str(e.trim());
            seed.push('\n');
        }
        std::fs::write(dir.path().join("seed.ldif"), seed).expect("seed");
        let out = Command::new("/usr/sbin/slapadd")
            .args(["-q", "-f"])
            .arg(dir.path().join("slapd.conf"))
            .arg("-l")
            .arg(dir.path().join("seed.ldif"))
            .output()
            .expect("slapadd");
        assert!(
            out.status.success(),
            "slapadd: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut s = Slapd {
            dir,
            child: None,
            port: 0,
            tls_port: 0,
        };
        s.run();
        s
    }

    /// Starts slapd on new free ports (a port taken meanwhile by another
    /// test is retried with others).
    fn run(&mut self) {
        for _ in 0..5 {
            let (port, tls_port) = (free_port(), free_port());
            let mut child = self.spawn(port, tls_port);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if std::net::TcpStream::connect(("127.0.0.1", tls_port)).is_ok()
                    && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                {
                    self.child = Some(child);
                    self.port = port;
                    self.tls_port = tls_port;
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("slapd did not start:\n{}", self.log());
    }

    /// slapd in the foreground (`-d stats` logs one line per operation),
    /// its log appended to `slapd.log`.
    fn spawn(&self, port: u16, tls_port: u16) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("slapd.log"))
            .expect("log");
        Command::new(SLAPD)
            .args(["-d", "stats", "-f"])
            .arg(self.dir.path().join("slapd.conf"))
            .arg("-h")
            .arg(format!(
                "ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/"
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn slapd")
    }

    /// The server's log (`-d stats`: one line per operation and result).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("slapd.log")).unwrap_or_default()
    }

    /// Stops the server (the directory is down until `restart`).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections are accepted by the
    /// kernel but nothing answers, like a directory that hangs.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("slapd is running").id();
        let ok = Command::new("kill")
            .arg(sig)
            .arg(pid.to_string())
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill {sig} {pid}");
    }

    /// Starts it again on the same ports, with the same data.
    pub fn restart(&mut self) {
        self.stop();
        let (port, tls_port) = (self.port, self.tls_port);
        let child = self.spawn(port, tls_port);
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", tls_port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "slapd did not restart:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.tls_port)
    }

    pub fn ldap_url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// `[directory]` for this server: LDAPS, the private CA, `uid` or
    /// `mail` as the login, `cn=admins` as the admin group.
    pub fn config(&self) -> DirectoryConfig {
        DirectoryConfig {
            kind: DirectoryKind::Ldap,
            urls: vec![self.ldaps_url()],
            ca_file: Some(self.ca_file()),
            bind_dn: SERVICE_DN.into(),
            bind_password: Secret(SERVICE_PASSWORD.into()),
            base_dn: PEOPLE.into(),
            login_attributes: vec!["uid".into(), "mail".into()],
            admin_groups: vec![ADMINS_GROUP.into()],
            lockout_threshold: PPOLICY_MAX_FAILURE as u32,
            lockout_window_secs: 300,
            timeout_secs: 5,
            ..DirectoryConfig::default()
        }
    }

    /// The rootdn's tools, over the plain loopback port (overlays run:
    /// ppolicy hashes passwords, memberof keeps memberOf).
    pub fn tools(&self) -> LdapTools {
        LdapTools {
            url: self.ldap_url(),
            ca: None,
            admin_dn: ROOT_DN.into(),
            admin_password: ROOT_PASSWORD.into(),
        }
    }

    /// Runs an LDIF change as the rootdn.
    pub fn modify(&self, ldif: &str) {
        self.tools().modify(ldif);
    }

    /// Adds a person under `ou=people` and returns their DN.
    pub fn add_user(&self, uid: &str, password: &str, mail: &str, mobile: &str) -> String {
        let dn = format!("uid={uid},{PEOPLE}");
        self.modify(&format!(
            "dn: {dn}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\n\
             sn: {uid}\ndisplayName: {uid} Example\nmail: {mail}\nmobile: {mobile}\n\
             preferredLanguage: en\nuserPassword: {password}\n"
        ));
        dn
    }

    /// Adds a group under `ou=groups` with `member` as its first member
    /// (groupOfNames needs one) and returns its DN.
    pub fn add_group(&self, cn: &str, member: &str) -> String {
        let dn = format!("cn={cn},ou=groups,{BASE}");
        self.modify(&format!(
            "dn: {dn}\nchangetype: add\nobjectClass: groupOfNames\ncn: {cn}\nmember: {member}\n"
        ));
        dn
    }

    pub fn add_to_group(&self, group: &str, dn: &str) {
        self.modify(&format!(
            "dn: {group}\nchangetype: modify\nadd: member\nmember: {dn}\n"
        ));
    }

    /// True when a simple bind as `dn` with `password` succeeds.
    pub fn can_bind(&self, dn: &str, password: &str) -> bool {
        self.tools().can_bind(dn, password)
    }

    /// An attribute's values as the rootdn reads them.
    pub fn read(&self, dn: &str, attr: &str) -> Vec<String> {
        self.tools().read(dn, attr)
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("--- slapd log ---\n{}", self.log());
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A private CA and a certificate for 127.0.0.1 (libldap and rustls check
/// the IP address SAN).
fn write_pki(dir: &Path) {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sspr test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA");
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress(std::net::IpAddr::from([
            127, 0, 0, 1,
        ])));
    let leaf = params.signed_by(&key, &ca).expect("leaf");
    std::fs::write(dir.join("ca.crt"), ca.pem()).expect("ca");
    std::fs::write(dir.join("server.crt"), leaf.pem()).expect("cert");
    std::fs::write(dir.join("server.key"), key.serialize_pem()).expect("key");
}

fn slapd_conf(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
moduleload memberof
pidfile {d}/slapd.pid
TLSCACertificateFile {d}/ca.crt
TLSCertificateFile {d}/server.crt
TLSCertificateKeyFile {d}/server.key

database mdb
suffix \"{BASE}\"
rootdn \"{ROOT_DN}\"
rootpw {ROOT_PASSWORD}
directory {d}/db
maxsize 1073741824
dbnosync
index objectClass eq
index uid,mail,member,memberOf eq
# Plain searches stay capped at slapd's 500 entries; paged ones (a sync) may
# list everything. A directory sspr syncs needs this for its service account.
limits dn.exact=\"{SERVICE_DN}\" size.prtotal=unlimited
access to attrs=userPassword by dn.exact=\"{SERVICE_DN}\" write
  by self write by anonymous auth by * none
access to attrs=pwdAccountLockedTime,pwdFailureTime,pwdReset
  by dn.exact=\"{SERVICE_DN}\" manage by * read
access to * by dn.exact=\"{SERVICE_DN}\" write by * read
overlay memberof
memberof-refint TRUE
overlay ppolicy
ppolicy_default \"cn=default,ou=policies,{BASE}\"
ppolicy_use_lockout
ppolicy_hash_cleartext
"
    )
}

fn seed_ldif() -> String {
    let mut s = String::new();
    let mut entry = |text: &str| {
        let _ = writeln!(s, "{}\n", text.trim());
    };
    entry(&format!(
        "dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example"
    ));
    for ou in ["people", "services", "groups", "policies"] {
        entry(&format!(
            "dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}"
        ));
    }
    entry(&format!(
        "dn: cn=default,ou=policies,{BASE}\nobjectClass: organizationalRole\n\
         objectClass: pwdPolicy\ncn: default\npwdAttribute: userPassword\n\
         pwdMinLength: {PPOLICY_MIN_LENGTH}\npwdCheckQuality: 2\npwdInHistory: 3\npwdLockout: TRUE\n\
         pwdMaxFailure: {PPOLICY_MAX_FAILURE}\npwdFailureCountInterval: 300\npwdLockoutDuration: 900\n\
         pwdAllowUserChange: TRUE"
    ));
    entry(&format!(
        "dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n\
         cn: sspr\nuserPassword: {SERVICE_PASSWORD}"
    ));
    // groupOfNames needs a member: the service account stands in.
    for group in [ADMINS_GROUP, STAFF_GROUP] {
        let cn = group
            .split(',')
            .next()
            .and_then(|r| r.strip_prefix("cn="))
            .unwrap_or("group");
        entry(&format!(
            "dn: {group}\nobjectClass: groupOfNames\ncn: {cn}\nmember: {SERVICE_DN}"
        ));
    }
    s
}

/// `count` people `user00000`… with cleartext passwords, for `start_with`
/// (sync and paging tests).
pub fn people_ldif(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            format!(
                "dn: uid=user{i:05},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: user{i:05}\n\
                 cn: User {i}\nsn: {i}\nmail: user{i:05}@example.org\n"
            )
        })
        .collect()
}
