//! Real delivery: SMTP to a real (in-process) SMTP server, text messages to
//! a local HTTP receiver. Retries and the idempotency key (docs/security.md #59).

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use axum::routing::post;
use http::{HeaderMap, StatusCode};
use sspr_domain::config::{DeliveryConfig, PhoneConfig, SmtpConfig, SmtpSecurity};
use sspr_domain::outbox::{self, Channel, DeliveryMode, NewMessage, Template};
use sspr_domain::testkit::{EPOCH, TestDb, key};
use sspr_domain::{Db, ManualClock, both_backends};
use sspr_server::delivery::LiveSender;

use crate::smtp::{Inbox, body, decode_header, header, smtp_server, spawn_smtp};

/// A private CA and a certificate it issued for `localhost`, as PEM files:
/// what an organisation with an internal mail relay has.
struct Pki {
    _dir: tempfile::TempDir,
    ca: std::path::PathBuf,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
}

fn pki() -> Pki {
    // mailin-embedded builds its rustls config with the process default.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let path = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    Pki {
        ca: path("ca.pem", ca.pem()),
        cert: path("cert.pem", leaf.pem()),
        key: path("key.pem", key.serialize_pem()),
        _dir: dir,
    }
}

/// An SMTP server offering STARTTLS with the PKI's certificate.
fn starttls_server(pki: &Pki) -> (u16, Inbox) {
    spawn_smtp(
        "localhost",
        mailin_embedded::SslConfig::SelfSigned {
            cert_path: pki.cert.display().to_string(),
            key_path: pki.key.display().to_string(),
        },
    )
}

/// Implicit TLS (port 465 style): a TLS front that forwards the decrypted
/// stream to a plain SMTP server.
async fn implicit_tls_server(pki: &Pki) -> (u16, Inbox) {
    use rustls::pki_types::pem::PemObject;
    let (plain_port, inbox) = smtp_server();
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(&pki.cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(&pki.key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(("127.0.0.1", plain_port)).await
                else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (port, inbox)
}

fn tls_config(port: u16, security: SmtpSecurity, ca: Option<&std::path::Path>) -> DeliveryConfig {
    let mut c = smtp_config(port);
    if let Some(smtp) = c.smtp.as_mut() {
        smtp.host = "localhost".into();
        smtp.security = security;
        smtp.ca_file = ca.map(std::path::Path::to_path_buf);
    }
    c
}

pub(crate) fn smtp_config(port: u16) -> DeliveryConfig {
    DeliveryConfig {
        mode: Some(DeliveryMode::Live),
        smtp: Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: "Password reset <sspr@contoso.example>".into(),
            ca_file: None,
            timeout_secs: 5,
        }),
        phone: None,
        voice: None,
        ..DeliveryConfig::default()
    }
}

fn locked(channel: Channel, recipient: &str, key: &str) -> NewMessage {
    NewMessage {
        channel,
        recipient: recipient.into(),
        locale: "he-IL".into(),
        template: Template::AccountLocked {
            display_name: "נועה לוי".into(),
            minutes: 1,
        },
        idempotency_key: key.into(),
        not_after: None,
    }
}

async fn state_of(db: &Db) -> (String, i64) {
    let m = &outbox::recent(db.pool(), key(), 1).await.unwrap()[0];
    (m.state.clone(), m.attempts)
}

#[derive(Clone, Default)]
struct Provider {
    calls: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    fail_first: Arc<Mutex<usize>>,
}

async fn provider() -> (String, Provider) {
    let p = Provider::default();
    let state = p.clone();
    let app = axum::Router::new().route(
        "/send",
        post(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                state.calls.lock().unwrap().push((headers, body));
                let mut fail = state.fail_first.lock().unwrap();
                if *fail > 0 {
                    *fail -= 1;
                    return StatusCode::BAD_GATEWAY;
                }
                StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, p)
}

fn phone_config(url: &str) -> DeliveryConfig {
    DeliveryConfig {
        mode: Some(DeliveryMode::Live),
        smtp: None,
        phone: Some(PhoneConfig {
            url: url.into(),
            auth_header: Some("Authorization: Bearer test-token".into()),
            body_template: r#"{"to": {{to}}, "body": {{text}}, "type": {{channel}}, "ref": {{idempotency_key}}}"#.into(),
            timeout_secs: 5,
        }),
        voice: None,
        ..DeliveryConfig::default()
    }
}

both_backends!(
    email_reaches_a_real_smtp_server_localized,
    email_goes_over_starttls_to_a_relay_with_an_internal_ca,
    email_goes_over_implicit_tls,
    an_unreachable_smtp_server_means_retry_later,
    a_recipient_list_is_never_mailed,
    text_messages_go_to_the_http_provider_with_retries,
    calls_go_to_the_voice_provider_when_one_is_configured,
    a_missing_channel_is_a_failure_not_a_silent_drop,
);

async fn email_reaches_a_real_smtp_server_localized(t: &TestDb) {
    let (port, inbox) = smtp_server();
    let sender = LiveSender::new(&smtp_config(port)).unwrap();
    outbox::enqueue(
        t.db.pool(),
        key(),
        &locked(Channel::Email, "noa@contoso.example", "k1"),
        EPOCH,
    )
    .await
    .unwrap();
    assert_eq!(
        outbox::deliver_due(&t.db, key(), &sender, &ManualClock::new(EPOCH))
            .await
            .unwrap(),
        1
    );
    let mails = inbox.0.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    let (to, mail) = &mails[0];
    assert_eq!(to, &vec!["noa@contoso.example".to_owned()]);
    assert_eq!(
        decode_header(&header(mail, "Subject")),
        "החשבון שלך ננעל לאחר ניסיונות כניסה כושלים"
    );
    assert!(header(mail, "From").contains("sspr@contoso.example"));
    assert!(header(mail, "Message-ID").ends_with("@contoso.example>"));
    let text = body(mail);
    // One minute, in words: Hebrew's `one` form.
    assert!(
        text.contains("נועה לוי") && text.contains("דקה אחת"),
        "{text}"
    );
    assert_eq!(state_of(&t.db).await, ("sent".to_owned(), 1));
}

async fn email_goes_over_starttls_to_a_relay_with_an_internal_ca(t: &TestDb) {
    let pki = pki();
    let (port, inbox) = starttls_server(&pki);
    // Without the CA the certificate is not trusted: nothing is sent in clear.
    let untrusting = LiveSender::new(&tls_config(port, SmtpSecurity::Starttls, None)).unwrap();
    outbox::enqueue(
        t.db.pool(),
        key(),
        &locked(Channel::Email, "noa@contoso.example", "k1"),
        EPOCH,
    )
    .await
    .unwrap();
    assert_eq!(
        outbox::deliver_due(&t.db, key(), &untrusting, &ManualClock::new(EPOCH))
            .await
            .unwrap(),
        0
    );
    assert!(inbox.0.lock().unwrap().is_empty());
    let (_, error): (String, Option<String>) =
        sqlx::query_as("SELECT state, last_error FROM outbox")
            .fetch_one(t.db.pool())
            .await
            .unwrap();
    assert!(
        error
            .unwrap_or_default()
            .to_lowercase()
            .contains("certificate"),
        "a certificate failure is recorded"
    );
    // With `ca_file`, the retry goes through over TLS.
    let sender = LiveSender::new(&tls_config(port, SmtpSecurity::Starttls, Some(&pki.ca))).unwrap();
    assert_eq!(
        outbox::deliver_due(
            &t.db,
            key(),
            &sender,
            &ManualClock::new(EPOCH.plus_secs(3600))
        )
        .await
        .unwrap(),
        1
    );
    let mails = inbox.0.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].0, vec!["noa@contoso.example".to_owned()]);
    assert_eq!(
        decode_header(&header(&mails[0].1, "Subject")),
        "החשבון שלך ננעל לאחר ניסיונות כניסה כושלים"
    );
}

async fn email_goes_over_implicit_tls(t: &TestDb) {
    let pki = pki();
    let (port, inbox) = implicit_tls_server(&pki).await;
    let sender = LiveSender::new(&tls_config(port, SmtpSecurity::Tls, Some(&pki.ca))).unwrap();
    outbox::enqueue(
        t.db.pool(),
        key(),
        &locked(Channel::Email, "noa@contoso.example", "k1"),
        EPOCH,
    )
    .await
    .unwrap();
    assert_eq!(
        outbox::deliver_due(&t.db, key(), &sender, &ManualClock::new(EPOCH))
            .await
            .unwrap(),
        1
    );
    let mails = inbox.0.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    assert!(body(&mails[0].1).contains("נועה לוי"));
    // A client that expects TLS never falls back to plain SMTP.
    let (plain_port, plain_inbox) = smtp_server();
    let sender =
        LiveSender::new(&tls_config(plain_port, SmtpSecurity::Tls, Some(&pki.ca))).unwrap();
    outbox::enqueue(
        t.db.pool(),
        key(),
        &locked(Channel::Email, "noa@contoso.example", "k2"),
        EPOCH,
    )
    .await
    .unwrap();
    assert_eq!(
        outbox::deliver_due(&t.db, key(), &sender, &ManualClock::new(EPOCH))
            .await
            .unwrap(),
        0
    );
    assert!(plain_inbox.0.lock().unwrap().is_empty());
}

async fn an_unreachable_smtp_server_means_retry_later(t: &TestDb) {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sender = LiveSender::new(&smtp_config(closed)).unwrap();
    outbox::enqueue(
        t.db.pool(),
        key(),
        &locked(Channel::Email, "noa@contoso.example", "k1"),
        EPOCH,
    )
    .await
    .unwrap();
    assert_eq!(
        outbox::deliver_due(&t.db, key(), &sender, &ManualClock::new(EPOCH))
            .await
            .unwrap(),
        0
    );
    assert_eq!(state_of(&t.db).await, ("pending".to_owned(), 1));
}

async fn a_recipient_list_is_never_mailed(t: &TestDb) {
    // docs/security.md #13: exactly one stored address, never a list.
    let (port, inbox) = smtp_server();
    let sender = LiveSender::new(&smtp_config(port)).unwrap();
    outbox::enqueue(
        t.db.pool(),
        key(),
        &locked(Channel::Email, "a@x.test, b@y.test", "k1"),
        EPOCH,
    )
    .await
    .unwrap();
    assert_eq!(
        outbox::deliver_due(&t.db, key(), &sender, &ManualClock::new(EPOCH))
            .await
            .unwrap(),
        0
    );
    assert!(inbox.0.lock().unwrap().is_empty());
}

async fn text_messages_go_to_the_http_provider_with_retries(t: &TestDb) {
    let (url, p) = provider().await;
    *p.fail_first.lock().unwrap() = 1;
    let sender = LiveSender::new(&phone_config(&url)).unwrap();
    outbox::enqueue(
        t.db.pool(),
        key(),
        &locked(Channel::Sms, "+972501234567", "sms-1"),
        EPOCH,
    )
    .await
    .unwrap();
    assert_eq!(
        outbox::deliver_due(&t.db, key(), &sender, &ManualClock::new(EPOCH))
            .await
            .unwrap(),
        0,
        "the provider failed once"
    );
    assert_eq!(
        outbox::deliver_due(
            &t.db,
            key(),
            &sender,
            &ManualClock::new(EPOCH.plus_secs(60))
        )
        .await
        .unwrap(),
        1
    );
    assert_eq!(
        outbox::deliver_due(
            &t.db,
            key(),
            &sender,
            &ManualClock::new(EPOCH.plus_secs(600))
        )
        .await
        .unwrap(),
        0
    );
    let calls = p.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2);
    for (headers, body) in &calls {
        assert_eq!(headers["authorization"], "Bearer test-token");
        assert_eq!(
            headers["idempotency-key"], "sms-1",
            "the same key on every attempt"
        );
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["to"], "+972501234567");
        assert_eq!(v["type"], "sms");
        assert_eq!(v["ref"], "sms-1");
        assert!(v["body"].as_str().unwrap().contains("נועה לוי"));
    }
    assert_eq!(state_of(&t.db).await, ("sent".to_owned(), 2));
}

async fn calls_go_to_the_voice_provider_when_one_is_configured(t: &TestDb) {
    let (sms_url, sms) = provider().await;
    let (voice_url, voice) = provider().await;
    let mut cfg = phone_config(&sms_url);
    // The documented Infobip voice shape (server/sspr.example.toml).
    cfg.voice = Some(PhoneConfig {
        url: voice_url,
        auth_header: Some("Authorization: App voice-key".into()),
        body_template: r#"{"messages": [{"destinations": [{"to": {{to}}}], "from": "SSPR", "text": {{text}}, "language": {{locale}}}]}"#.into(),
        timeout_secs: 5,
    });
    let sender = LiveSender::new(&cfg).unwrap();
    outbox::enqueue(
        t.db.pool(),
        key(),
        &locked(Channel::Voice, "+972501234567", "v1"),
        EPOCH,
    )
    .await
    .unwrap();
    outbox::enqueue(
        t.db.pool(),
        key(),
        &locked(Channel::Sms, "+972501234567", "s1"),
        EPOCH,
    )
    .await
    .unwrap();
    assert_eq!(
        outbox::deliver_due(&t.db, key(), &sender, &ManualClock::new(EPOCH))
            .await
            .unwrap(),
        2
    );
    let calls = voice.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0["authorization"], "App voice-key");
    let v: serde_json::Value = serde_json::from_str(&calls[0].1).unwrap();
    assert_eq!(v["messages"][0]["destinations"][0]["to"], "+972501234567");
    assert!(
        v["messages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("נועה לוי")
    );
    assert_eq!(v["messages"][0]["language"], "he-IL");
    let texts = sms.calls.lock().unwrap().clone();
    assert_eq!(texts.len(), 1);
    assert!(
        texts[0].1.contains(r#""type": "sms""#) || texts[0].1.contains(r#""type":"sms""#),
        "{}",
        texts[0].1
    );
}

async fn a_missing_channel_is_a_failure_not_a_silent_drop(t: &TestDb) {
    let (port, _inbox) = smtp_server();
    let sender = LiveSender::new(&smtp_config(port)).unwrap();
    outbox::enqueue(
        t.db.pool(),
        key(),
        &locked(Channel::Voice, "+972501234567", "v1"),
        EPOCH,
    )
    .await
    .unwrap();
    assert_eq!(
        outbox::deliver_due(&t.db, key(), &sender, &ManualClock::new(EPOCH))
            .await
            .unwrap(),
        0
    );
    let row: (String, Option<String>) = sqlx::query_as("SELECT state, last_error FROM outbox")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(row.0, "pending");
    assert!(row.1.unwrap().contains("provider"));
}

#[test]
fn bad_delivery_settings_are_refused_at_start() {
    let mut cfg = smtp_config(25);
    cfg.smtp.as_mut().unwrap().from = "not an address".into();
    assert!(LiveSender::new(&cfg).is_err());
    let mut cfg = phone_config("http://127.0.0.1:1/send");
    cfg.phone.as_mut().unwrap().body_template = "{\"to\": {{to}".into();
    assert!(LiveSender::new(&cfg).is_err());
}
