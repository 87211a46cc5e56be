//! Server configuration: a TOML file plus `SSPR_*` environment variables
//! (nested keys joined by `__`, e.g. `SSPR_SESSIONS__IDLE_TIMEOUT_SECS`),
//! plus `DATABASE_URL`. Unknown keys are errors, so a typo never silently
//! falls back to a default. `server/sspr.example.toml` documents every key.
//!
//! Longer than the ~450 lines a domain file aims at, on purpose: every
//! section's type, default and validation stays in one place next to the
//! unit tests that pin them (a quarter of the file), so a key cannot gain
//! a default without its check.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use ipnet::IpNet;
use serde::Deserialize;

use crate::directory::DirectoryConfig;
use crate::housekeeping::RetentionConfig;
use crate::lockout::LockoutConfig;
use crate::outbox::DeliveryMode;
use crate::password::HashingConfig;
use crate::reset::ResetConfig;
use crate::sessions::SessionConfig;

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The one origin used in every link the product builds (mail, redirects)
    /// and the origin the CSRF guard accepts. Never derived from `Host`.
    pub public_url: String,
    /// Address the HTTP server listens on.
    pub listen: String,
    /// Seconds a client has to send a request's headers before the
    /// connection is closed (slow-header clients).
    pub header_read_timeout_secs: u64,
    /// Connections served at once; further clients wait.
    pub max_connections: usize,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For`
    /// is believed. From any other peer the header is ignored, so nobody
    /// chooses the address their requests are counted under.
    pub trusted_proxies: Vec<String>,
    /// `sqlite://path` (default, file created when missing) or `postgres://…`.
    pub database_url: String,
    /// File holding the 32-byte server key (created on first start, mode 0600).
    /// Keep it out of database backups.
    pub key_file: PathBuf,
    /// Locale used when neither the user nor the browser names one we ship.
    pub default_locale: String,
    /// Demo mode: seed a demo organisation into an empty database and print
    /// its passwords once. Never enable it in production.
    pub demo: bool,
    /// `pretty` for a terminal, `json` for log collectors.
    pub log_format: LogFormat,
    /// Address of the Prometheus `/metrics` listener, apart from `listen`
    /// so the public side never serves it. Empty (the default): no metrics.
    pub metrics_listen: String,
    pub delivery: DeliveryConfig,
    pub password_hashing: HashingConfig,
    pub sessions: SessionConfig,
    pub sign_in_lockout: LockoutConfig,
    pub reset: ResetConfig,
    pub retention: RetentionConfig,
    pub directory: DirectoryConfig,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// `outbox`: messages are shown on /dev/outbox (the demo's default;
    /// loopback `listen` and http `public_url` only).
    /// `hold`: messages are queued and nothing is sent (the default).
    /// `live`: email through `smtp`, text and voice through `phone`.
    /// Read it through [`Config::delivery_mode`]: unset means `hold`, or
    /// `outbox` in demo mode.
    pub mode: Option<DeliveryMode>,
    pub smtp: Option<SmtpConfig>,
    pub phone: Option<PhoneConfig>,
    /// Voice calls go here instead of `phone` when set: most providers
    /// have one API for text messages and another for calls.
    pub voice: Option<PhoneConfig>,
    /// Text messages and calls all users together may cause in an hour;
    /// past it, phone codes are refused for the rest of the hour and the
    /// admins are alerted once (an SMS-pumping circuit breaker).
    pub phone_sends_per_hour: i64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            mode: None,
            smtp: None,
            phone: None,
            voice: None,
            phone_sends_per_hour: 500,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// `starttls` (default), `tls` (implicit TLS, usually port 465) or
    /// `none` (only for a relay on the same machine).
    #[serde(default)]
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender, e.g. `Password reset <sspr@contoso.example>`.
    pub from: String,
    /// A PEM file of CA certificates to trust besides the public ones, for
    /// a relay whose certificate an internal CA issued. Hostnames are
    /// always verified.
    pub ca_file: Option<std::path::PathBuf>,
    #[serde(default = "default_delivery_timeout")]
    pub timeout_secs: u64,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    #[default]
    Starttls,
    Tls,
    None,
}

/// An HTTP text/voice provider: one JSON POST per message.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PhoneConfig {
    /// Where to POST, e.g. the provider's "send message" endpoint.
    pub url: String,
    /// One header carrying the credentials, e.g. `Authorization: Bearer …`.
    pub auth_header: Option<String>,
    /// JSON body with placeholders `{{to}}` (E.164), `{{text}}`,
    /// `{{channel}}` (`sms` or `voice`), `{{locale}}` and `{{idempotency_key}}`; each is
    /// replaced by a JSON string (quotes included).
    pub body_template: String,
    #[serde(default = "default_delivery_timeout")]
    pub timeout_secs: u64,
}

fn default_smtp_port() -> u16 {
    587
}

fn default_delivery_timeout() -> u64 {
    10
}

/// Where the server key lives unless `key_file` says otherwise: apart
/// from the database's folder (`data/`), so a copy of that folder is not
/// also a copy of the key (docs/security.md #70).
pub const DEFAULT_KEY_FILE: &str = "keys/sspr.key";
/// Where earlier versions kept it by default, still read when the new
/// default path is empty.
pub const LEGACY_KEY_FILE: &str = "data/sspr.key";

impl Default for Config {
    fn default() -> Self {
        Config {
            public_url: "http://127.0.0.1:3000".into(),
            listen: "127.0.0.1:3000".into(),
            header_read_timeout_secs: 10,
            max_connections: 1024,
            trusted_proxies: Vec::new(),
            database_url: "sqlite://data/sspr.db".into(),
            key_file: PathBuf::from(DEFAULT_KEY_FILE),
            default_locale: "en".into(),
            demo: false,
            log_format: LogFormat::Pretty,
            metrics_listen: String::new(),
            delivery: DeliveryConfig::default(),
            password_hashing: HashingConfig::default(),
            sessions: SessionConfig::default(),
            sign_in_lockout: LockoutConfig::default(),
            reset: ResetConfig::default(),
            retention: RetentionConfig::default(),
            directory: DirectoryConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration: {key}: {reason}")]
    Invalid { key: &'static str, reason: String },
}

/// Where `public_url` points, split for the CSRF guard and cookie choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicOrigin {
    /// `scheme://host[:port]`, exactly as browsers send it in `Origin`.
    pub origin: String,
    pub https: bool,
}

impl Config {
    /// Layers: built-in defaults < `file` (if given) < `SSPR_*` env < `DATABASE_URL`.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_from(
            file,
            // SSPR_TEST_* belong to the test suite (its PostgreSQL, its AD
            // DC), never to the server: a test run's environment must not
            // make the server it starts refuse its configuration.
            Env::prefixed("SSPR_")
                .split("__")
                .ignore(&["config"])
                .filter(|k| !k.starts_with("test_")),
            Env::raw().only(&["DATABASE_URL"]),
        )
    }

    fn load_from(file: Option<&Path>, env: Env, db_env: Env) -> Result<Config, ConfigError> {
        let mut fig = Figment::new();
        if let Some(f) = file {
            fig = fig.merge(Toml::file_exact(f));
        }
        let cfg: Config = fig.merge(env).merge(db_env).extract().map_err(Box::new)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parses a TOML document on its own (no environment): `sspr check-config` and tests.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = Figment::from(Toml::string(text))
            .extract()
            .map_err(Box::new)?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.public_origin()?;
        self.trusted_proxy_nets()?;
        self.metrics_address()?;
        crate::db::Backend::of_url(&self.database_url).map_err(|e| ConfigError::Invalid {
            key: "database_url",
            reason: e.to_string(),
        })?;
        let h = &self.password_hashing;
        // OWASP Password Storage Cheat Sheet minimum (docs/security.md #6).
        if h.memory_kib < 19456 || h.iterations < 2 || h.parallelism < 1 {
            return Err(ConfigError::Invalid {
                key: "password_hashing",
                reason: "argon2id needs memory_kib >= 19456, iterations >= 2, parallelism >= 1"
                    .into(),
            });
        }
        if !(1..=100_000).contains(&h.per_address_per_minute)
            || !(h.per_address_per_minute..=1_000_000).contains(&h.per_ipv6_48_per_minute)
        {
            return Err(ConfigError::Invalid {
                key: "password_hashing",
                reason: "need 1 <= per_address_per_minute <= per_ipv6_48_per_minute <= 1000000 (per_address_per_minute <= 100000)"
                    .into(),
            });
        }
        let s = &self.sessions;
        if s.idle_timeout_secs <= 0
            || s.admin_idle_timeout_secs < 60
            || s.absolute_timeout_secs < s.idle_timeout_secs
            || s.absolute_timeout_secs > 12 * 3600
        {
            return Err(ConfigError::Invalid {
                key: "sessions",
                reason: "need 0 < idle_timeout_secs <= absolute_timeout_secs <= 43200 (12 h) \
                         and admin_idle_timeout_secs >= 60"
                    .into(),
            });
        }
        let l = &self.sign_in_lockout;
        if l.threshold < 1
            || l.threshold > 100
            || l.account_threshold < l.threshold
            || l.account_threshold > 10_000
            || l.base_lockout_secs < 1
            || l.max_lockout_secs < l.base_lockout_secs
        {
            return Err(ConfigError::Invalid {
                key: "sign_in_lockout",
                reason: "need 1 <= threshold <= 100, threshold <= account_threshold <= 10000 and 1 <= base_lockout_secs <= max_lockout_secs"
                    .into(),
            });
        }
        let r = &self.reset;
        if r.starts_without_captcha_per_address_per_hour < 1
            || r.starts_per_address_per_hour < r.starts_without_captcha_per_address_per_hour
            || r.starts_per_address_per_hour > 10_000
            || !(1..=100_000_000).contains(&r.alert_starts_per_hour)
        {
            return Err(ConfigError::Invalid {
                key: "reset",
                reason: "need 1 <= starts_without_captcha_per_address_per_hour <= starts_per_address_per_hour <= 10000 and 1 <= alert_starts_per_hour <= 100000000"
                    .into(),
            });
        }
        if !(1..=300).contains(&self.header_read_timeout_secs)
            || !(1..=100_000).contains(&self.max_connections)
        {
            return Err(ConfigError::Invalid {
                key: "header_read_timeout_secs",
                reason:
                    "need 1 <= header_read_timeout_secs <= 300 and 1 <= max_connections <= 100000"
                        .into(),
            });
        }
        let r = &self.retention;
        if !(1..=3650).contains(&r.audit_days) || !(1..=365).contains(&r.outbox_days) {
            return Err(ConfigError::Invalid {
                key: "retention",
                reason: "need 1 <= audit_days <= 3650 and 1 <= outbox_days <= 365".into(),
            });
        }
        self.check_dev_outbox()?;
        self.directory.validate()?;
        let d = &self.delivery;
        let timeouts = [
            d.smtp.as_ref().map(|c| c.timeout_secs),
            d.phone.as_ref().map(|c| c.timeout_secs),
            d.voice.as_ref().map(|c| c.timeout_secs),
        ];
        let max = crate::outbox::MAX_PROVIDER_TIMEOUT_SECS;
        if timeouts
            .into_iter()
            .flatten()
            .any(|t| !(1..=max).contains(&t))
        {
            return Err(ConfigError::Invalid {
                key: "delivery",
                reason: format!(
                    "timeout_secs must be 1 to {max}: a delivery must end well within the \
                     outbox lease, or another worker could send the message again"
                ),
            });
        }
        if !(1..=1_000_000).contains(&d.phone_sends_per_hour) {
            return Err(ConfigError::Invalid {
                key: "delivery.phone_sends_per_hour",
                reason: "need 1 to 1000000".into(),
            });
        }
        if d.mode == Some(DeliveryMode::Live) && d.smtp.is_none() {
            return Err(ConfigError::Invalid {
                key: "delivery",
                reason: "mode = \"live\" needs a [delivery.smtp] section".into(),
            });
        }
        for (provider, url_key, header_key) in [
            (&d.phone, "delivery.phone.url", "delivery.phone.auth_header"),
            (&d.voice, "delivery.voice.url", "delivery.voice.auth_header"),
        ] {
            let Some(provider) = provider else { continue };
            if !(provider.url.starts_with("https://") || provider.url.starts_with("http://")) {
                return Err(ConfigError::Invalid {
                    key: url_key,
                    reason: "must be an http(s) URL".into(),
                });
            }
            if let Some(h) = &provider.auth_header
                && !h.contains(':')
            {
                return Err(ConfigError::Invalid {
                    key: header_key,
                    reason: "must look like `Name: value`".into(),
                });
            }
        }
        if self.default_locale.trim().is_empty() {
            return Err(ConfigError::Invalid {
                key: "default_locale",
                reason: "must name a locale".into(),
            });
        }
        Ok(())
    }

    /// `trusted_proxies` parsed: a bare address stands for itself (/32, /128).
    pub fn trusted_proxy_nets(&self) -> Result<Vec<IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                let p = p.trim();
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                    .map(ipv4_if_mapped)
                    .map_err(|_| ConfigError::Invalid {
                        key: "trusted_proxies",
                        reason: format!("{p:?} is neither an address nor a CIDR range"),
                    })
            })
            .collect()
    }

    /// How messages leave: as configured, else the demo's dev outbox, else
    /// held (a forgotten setting publishes nothing).
    pub fn delivery_mode(&self) -> DeliveryMode {
        match self.delivery.mode {
            Some(mode) => mode,
            None if self.demo => DeliveryMode::Outbox,
            None => DeliveryMode::Hold,
        }
    }

    /// Where `/metrics` is served, if anywhere: never on the public
    /// listener's address (docs/security.md #88).
    pub fn metrics_address(&self) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        if self.metrics_listen.is_empty() {
            return Ok(None);
        }
        let invalid = |reason: &str| ConfigError::Invalid {
            key: "metrics_listen",
            reason: reason.into(),
        };
        let addr: std::net::SocketAddr = self
            .metrics_listen
            .parse()
            .map_err(|_| invalid("an address and port, such as 127.0.0.1:9464"))?;
        // Port 0 (the system picks one) never collides.
        if addr.port() != 0 && self.listen.parse() == Ok(addr) {
            return Err(invalid(
                "must differ from listen: /metrics is not for the public",
            ));
        }
        Ok(Some(addr))
    }

    /// The dev outbox shows every code and address to whoever reaches it:
    /// only on a loopback address, never for an https site (which means a
    /// real deployment) (docs/security.md #68).
    pub fn check_dev_outbox(&self) -> Result<(), ConfigError> {
        if self.delivery_mode() != DeliveryMode::Outbox {
            return Ok(());
        }
        let invalid = |reason: &str| ConfigError::Invalid {
            key: "delivery.mode",
            reason: reason.into(),
        };
        if self.public_origin()?.https {
            return Err(invalid(
                "the dev outbox publishes every code; it is refused when public_url is https",
            ));
        }
        let loopback = self
            .listen
            .parse::<std::net::SocketAddr>()
            .is_ok_and(|a| a.ip().is_loopback());
        if !loopback {
            return Err(invalid(
                "the dev outbox publishes every code; it needs a loopback listen address such as 127.0.0.1:3000",
            ));
        }
        Ok(())
    }

    pub fn public_origin(&self) -> Result<PublicOrigin, ConfigError> {
        let invalid = |reason: &str| ConfigError::Invalid {
            key: "public_url",
            reason: reason.into(),
        };
        let url = url::Url::parse(&self.public_url).map_err(|e| invalid(&e.to_string()))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(invalid("must be an http:// or https:// URL")),
        };
        if url.host_str().is_none()
            || url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(invalid(
                "must be an origin such as https://sspr.example.org (no path)",
            ));
        }
        Ok(PublicOrigin {
            origin: url.origin().ascii_serialization(),
            https,
        })
    }
}

/// `::ffff:10.0.0.0/104` is `10.0.0.0/8`: clients reached over IPv6 with
/// a mapped IPv4 address are compared as IPv4 (`client_addr`).
fn ipv4_if_mapped(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => v6
            .addr()
            .to_ipv4_mapped()
            .and_then(|v4| ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).ok())
            .map_or(net, IpNet::V4),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_is_valid_and_states_the_defaults() {
        let text = include_str!("../../sspr.example.toml");
        assert_eq!(Config::from_toml(text).unwrap(), Config::default());
    }

    /// docs/security.md #81.
    #[test]
    fn a_provider_timeout_stays_within_half_the_outbox_lease() {
        let smtp = |timeout: u64| {
            Config::from_toml(&format!(
                "[delivery]\nmode = \"live\"\n[delivery.smtp]\nhost = \"h\"\nfrom = \"a@b.test\"\ntimeout_secs = {timeout}"
            ))
        };
        assert!(smtp(30).is_ok());
        let err = smtp(31).unwrap_err().to_string();
        assert!(err.contains("timeout_secs"), "{err}");
        assert!(smtp(0).is_err());
    }

    /// docs/security.md #68.
    #[test]
    fn the_dev_outbox_is_never_a_default_and_never_public() {
        let c = Config::from_toml("").unwrap();
        assert_eq!(c.delivery_mode(), DeliveryMode::Hold, "no [delivery]");
        let demo = Config::from_toml("demo = true").unwrap();
        assert_eq!(demo.delivery_mode(), DeliveryMode::Outbox);
        let held = Config::from_toml("demo = true\n[delivery]\nmode = \"hold\"").unwrap();
        assert_eq!(held.delivery_mode(), DeliveryMode::Hold, "explicit wins");
        for refused in [
            "demo = true\npublic_url = \"https://sspr.example.org\"",
            "public_url = \"https://sspr.example.org\"\n[delivery]\nmode = \"outbox\"",
            "listen = \"0.0.0.0:3000\"\n[delivery]\nmode = \"outbox\"",
            "demo = true\nlisten = \"192.0.2.1:3000\"",
        ] {
            let err = Config::from_toml(refused).unwrap_err().to_string();
            assert!(err.contains("delivery.mode"), "{refused}: {err}");
        }
        let local = Config::from_toml("listen = \"[::1]:3000\"\n[delivery]\nmode = \"outbox\"");
        assert!(local.is_ok(), "{local:?}");
        // The flag given on the command line is checked too (`serve`).
        let mut c = Config::from_toml("listen = \"0.0.0.0:3000\"").unwrap();
        c.demo = true;
        assert!(c.check_dev_outbox().is_err());
    }

    /// docs/security.md #88.
    #[test]
    fn metrics_are_off_unless_given_an_address_of_their_own() {
        assert_eq!(Config::default().metrics_address().unwrap(), None);
        let on = Config::from_toml("metrics_listen = \"127.0.0.1:9464\"").unwrap();
        assert_eq!(
            on.metrics_address().unwrap(),
            Some("127.0.0.1:9464".parse().unwrap())
        );
        for refused in [
            "metrics_listen = \"127.0.0.1:3000\"",
            "metrics_listen = \"localhost\"",
        ] {
            let err = Config::from_toml(refused).unwrap_err().to_string();
            assert!(err.contains("metrics_listen"), "{refused}: {err}");
        }
    }

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let err = Config::from_toml("public_url = \"http://x.test\"\npubic_url = 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("pubic_url"), "{err}");
        let err = Config::from_toml("[sessions]\nidle_timeout = 5")
            .unwrap_err()
            .to_string();
        assert!(err.contains("idle_timeout"), "{err}");
    }

    #[test]
    fn trusted_proxies_take_addresses_and_ranges() {
        let cfg =
            Config::from_toml(r#"trusted_proxies = ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]"#)
                .unwrap();
        let nets = cfg.trusted_proxy_nets().unwrap();
        assert_eq!(nets.len(), 3);
        assert!(nets[1].contains(&"192.0.2.7".parse::<IpAddr>().unwrap()));
        assert!(!nets[1].contains(&"192.0.2.8".parse::<IpAddr>().unwrap()));
        let mapped = Config::from_toml(r#"trusted_proxies = ["::ffff:10.0.0.0/104"]"#).unwrap();
        assert_eq!(
            mapped.trusted_proxy_nets().unwrap(),
            ["10.0.0.0/8".parse::<IpNet>().unwrap()]
        );
        let err = Config::from_toml(r#"trusted_proxies = ["10.0.0.0/33"]"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("trusted_proxies"), "{err}");
        let err = Config::from_toml(r#"trusted_proxies = ["proxy.internal"]"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("trusted_proxies"), "{err}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = Config::from_toml("public_url = \"https://x.test/path\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("public_url"), "{err}");
        let err = Config::from_toml("[password_hashing]\nmemory_kib = 1024")
            .unwrap_err()
            .to_string();
        assert!(err.contains("password_hashing"), "{err}");
        let err = Config::from_toml("database_url = \"mysql://x\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("database_url"), "{err}");
        let err = Config::from_toml("[delivery]\nmode = \"carrier-pigeon\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("carrier-pigeon") || err.contains("mode"),
            "{err}"
        );
    }

    #[test]
    fn public_origin_is_normalized() {
        let c = Config::from_toml("public_url = \"HTTPS://SSPR.Example.org/\"").unwrap();
        assert_eq!(
            c.public_origin().unwrap(),
            PublicOrigin {
                origin: "https://sspr.example.org".into(),
                https: true
            }
        );
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the error type
    fn environment_overrides_file_and_nested_keys_use_double_underscore() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "sspr.toml",
                "public_url = \"http://file.test\"\n[sessions]\nidle_timeout_secs = 600",
            )?;
            jail.set_env("SSPR_PUBLIC_URL", "https://env.test");
            jail.set_env("SSPR_SESSIONS__IDLE_TIMEOUT_SECS", "900");
            jail.set_env("SSPR_CONFIG", "sspr.toml");
            jail.set_env("DATABASE_URL", "postgres://u@127.0.0.1/db");
            let c = Config::load(Some(Path::new("sspr.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.public_url, "https://env.test");
            assert_eq!(c.sessions.idle_timeout_secs, 900);
            assert_eq!(c.database_url, "postgres://u@127.0.0.1/db");
            jail.set_env("SSPR_TEST_POSTGRES_URL", "postgres://the-suite's");
            jail.set_env("SSPR_TEST_AD_URL", "ldaps://127.0.0.1:636");
            Config::load(None).map_err(|e| e.to_string())?;
            jail.set_env("SSPR_TYPO", "1");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("typo"), "{err}");
            Ok(())
        });
    }
}
