//! A real SMTP server in the test process (mailin-embedded), and what the
//! tests read from the mail it receives.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// One received mail: its envelope recipients and its raw text.
pub type Received = (Vec<String>, String);

#[derive(Clone, Default)]
pub struct Inbox(pub Arc<Mutex<Vec<Received>>>);

impl Inbox {
    /// Every mail received so far.
    pub fn mails(&self) -> Vec<Received> {
        self.0.lock().unwrap().clone()
    }
}

#[derive(Clone)]
struct SmtpHandler {
    inbox: Inbox,
    to: Vec<String>,
    data: Vec<u8>,
    /// How long the server takes to accept each mail's data (a slow relay).
    delay: Duration,
}

impl mailin_embedded::Handler for SmtpHandler {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> mailin_embedded::Response {
        std::thread::sleep(self.delay);
        let text = String::from_utf8_lossy(&self.data).into_owned();
        self.inbox.0.lock().unwrap().push((self.to.clone(), text));
        mailin_embedded::response::OK
    }
}

/// Starts an SMTP server on a free loopback port; it lives until the test
/// process ends.
pub fn smtp_server() -> (u16, Inbox) {
    spawn_smtp("smtp.test", mailin_embedded::SslConfig::None)
}

/// The same, taking `delay` to accept each mail: a sender is caught in the
/// middle of sending.
pub fn slow_smtp_server(delay: Duration) -> (u16, Inbox) {
    start("smtp.test", mailin_embedded::SslConfig::None, delay)
}

pub fn spawn_smtp(name: &str, ssl: mailin_embedded::SslConfig) -> (u16, Inbox) {
    start(name, ssl, Duration::ZERO)
}

fn start(name: &str, ssl: mailin_embedded::SslConfig, delay: Duration) -> (u16, Inbox) {
    let inbox = Inbox::default();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handler = SmtpHandler {
        inbox: inbox.clone(),
        to: vec![],
        data: vec![],
        delay,
    };
    let mut server = mailin_embedded::Server::new(handler);
    server
        .with_name(name)
        .with_ssl(ssl)
        .unwrap()
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    (port, inbox)
}

/// Decodes RFC 2047 `=?utf-8?b?…?=` words in a header value.
pub fn decode_header(value: &str) -> String {
    let mut bytes = Vec::new();
    let mut plain = String::new();
    for word in value.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        if lower.starts_with("=?utf-8?b?") && lower.ends_with("?=") {
            bytes.extend(STANDARD.decode(&word[10..word.len() - 2]).unwrap());
        } else {
            plain.push_str(word);
        }
    }
    if bytes.is_empty() {
        plain
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

pub fn header(mail: &str, name: &str) -> String {
    let (head, _) = mail.split_once("\r\n\r\n").unwrap();
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_default()
}

pub fn body(mail: &str) -> String {
    let (_, b) = mail.split_once("\r\n\r\n").unwrap();
    let joined: String = b.lines().map(str::trim).collect();
    String::from_utf8(STANDARD.decode(joined.trim_end_matches('.')).unwrap()).unwrap()
}
