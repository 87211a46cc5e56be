//! Email over SMTP with lettre.

use std::time::Duration;

use lettre::message::header::ContentTransferEncoding;
use lettre::message::{Mailbox, SinglePart, header};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Mail, Tokio1Executor};
use sha2::{Digest, Sha256};
use sspr_domain::config::{SmtpConfig, SmtpSecurity};
use sspr_domain::outbox::Message;

use super::SetupError;

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(cfg: &SmtpConfig) -> Result<SmtpMailer, SetupError> {
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e| SetupError::Smtp(format!("from {:?}: {e}", cfg.from)))?;
        let tls = match cfg.security {
            SmtpSecurity::Starttls => Tls::Required(tls_parameters(cfg)?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters(cfg)?),
            SmtpSecurity::None => Tls::None,
        };
        // `builder_dangerous` only means "no TLS preset": TLS is set just
        // below, and only `security = "none"` leaves it off.
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host)
            .tls(tls)
            .port(cfg.port)
            .timeout(Some(Duration::from_secs(cfg.timeout_secs)));
        if let (Some(user), Some(pass)) = (&cfg.username, &cfg.password) {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            from,
        })
    }
}

/// Certificate checks for the relay: the public roots, plus the CAs of
/// `ca_file` when set. The hostname must match the certificate.
fn tls_parameters(cfg: &SmtpConfig) -> Result<TlsParameters, SetupError> {
    let mut builder = TlsParameters::builder(cfg.host.clone());
    if let Some(path) = &cfg.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| SetupError::Smtp(format!("ca_file {}: {e}", path.display())))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| SetupError::Smtp(format!("ca_file {}: {e}", path.display())))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build()
        .map_err(|e| SetupError::Smtp(format!("TLS: {e}")))
}

impl SmtpMailer {
    pub async fn send(&self, m: &Message, subject: &str, body: &str) -> Result<(), String> {
        // The stored address only, parsed as exactly one mailbox: never a
        // list, never anything the request supplied (docs/security.md #13).
        let to: Mailbox = m
            .recipient
            .parse()
            .map_err(|e| format!("recipient is not one address: {e}"))?;
        // Derived from the idempotency key, so a retried delivery carries the
        // same Message-ID and receivers can drop the duplicate.
        let key_hash = hex::encode(&Sha256::digest(m.idempotency_key.as_bytes())[..16]);
        let message_id = format!("<{key_hash}@{}>", self.from.email.domain());
        let mail = Mail::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(message_id))
            .singlepart(
                SinglePart::builder()
                    .header(header::ContentType::TEXT_PLAIN)
                    .header(ContentTransferEncoding::Base64)
                    .body(body.to_owned()),
            )
            .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(mail)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}
