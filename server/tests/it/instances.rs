//! Real `sspr serve` processes. Several instances on one PostgreSQL
//! database (docs/security.md #87): two processes, side by side as behind a
//! load balancer, share flows, sessions, lockouts, throttles, the policy and
//! the outbox. Each sends mail through an SMTP server of its own, so the
//! test sees which instance delivered what. One process: `/metrics`, and
//! pages under load without a panic.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use http::{HeaderMap, StatusCode, header};
use sspr_domain::captcha::{self, Puzzle};
use sspr_domain::config::Config;
use sspr_domain::methods::{self, NewMethod};
use sspr_domain::outbox::{self, Channel, NewMessage, Template};
use sspr_domain::secrets::ServerKey;
use sspr_domain::testkit::{NEW_PASSWORD, TestDb, create_user, with_password, wrong_code};
use sspr_domain::users::{NewUser, Role};
use sspr_domain::{Services, SystemClock, both_backends, policy};

use crate::harness::{ORIGIN, PASSWORD, enc, form};
use crate::smtp::{Inbox, body, header as mail_header, slow_smtp_server};

/// How long each SMTP server takes to accept a mail: long enough that a
/// stop signal finds a worker in the middle of its batch.
const SMTP_DELAY: Duration = Duration::from_millis(250);
/// Messages queued at once for the two outbox workers.
const BULK: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgresql_database_act_as_one() {
    let t = TestDb::postgres().await;
    sspr_domain::testkit::run(t, two_instances_act_as_one).await;
}

async fn two_instances_act_as_one(t: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let shared = Shared::new(t, dir.path());
    let a = Instance::start("A", 0, &shared);
    let b = Instance::start("B", 1, &shared);
    let mut instances = [a, b];
    let services = shared.services(t);
    let key = services.key.clone();
    let dana = add_user(&services, "dana", Some("dana@home.example")).await;
    add_user(&services, "erin", None).await;
    add_user(&services, "gus", Some("gus@home.example")).await;
    let [a, b] = &instances;

    // Sessions: signed in on A, recognised by B.
    let mut browser = Browser::new();
    let signed = browser
        .post(a, "/api/sign_in", &form("dana", PASSWORD))
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    let account = browser.get(b, "/account").await;
    assert_eq!(account.status, StatusCode::OK, "B knows A's session");
    assert!(account.body.contains("dana Display"));

    // Registration started on B, finished on A; the resend cooldown the
    // code on B started holds on A.
    let mut erin = Browser::new();
    let r = erin.post(b, "/api/sign_in", &form("erin", PASSWORD)).await;
    r.goes_to("/security-info/setup");
    assert_eq!(
        erin.get(b, "/security-info/setup").await.status,
        StatusCode::OK
    );
    let address = format!("address={}", enc("erin@home.example"));
    let sent = erin.post(b, "/api/setup_email", &address).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let again = erin.post(a, "/api/setup_email", &address).await;
    assert_eq!(
        again.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        again.body
    );
    assert!(
        again.body.contains(r#""code":"resend_too_soon""#),
        "{}",
        again.body
    );
    let code = shared.code_sent_to("erin@home.example").await;
    let ok = erin
        .post(a, "/api/setup_verify", &format!("code={code}"))
        .await;
    ok.goes_to("/security-info/setup");
    let done = erin.post(a, "/api/setup_finish", "").await;
    done.goes_to("/security-info");

    // Lockouts: failures on A and B add up (the instances run with a
    // threshold of 3), and the right password is then refused by either.
    let mut guesser = Browser::new();
    for (i, instance) in [a, b, a].into_iter().enumerate() {
        let wrong = guesser
            .post(
                instance,
                "/api/sign_in",
                &form("gus", &format!("wrong {i}")),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    }
    for instance in [b, a] {
        let locked = guesser
            .post(instance, "/api/sign_in", &form("gus", PASSWORD))
            .await;
        assert_eq!(
            (locked.status, locked.body.as_str()),
            (
                StatusCode::UNAUTHORIZED,
                r#"{"code":"invalid_credentials"}"#
            ),
            "locked on {}",
            instance.name
        );
    }

    // A policy change made with `sspr policy set` on the shared database is
    // what both instances show within a second (each reads the policy at
    // most once a second: policy::CACHED_FOR).
    let desk = "https://help.contoso.example/instance-desk";
    shared.set_policy(dir.path(), "helpdesk_contact", desk);
    let saved = Instant::now();
    for instance in [a, b] {
        loop {
            let page = Browser::new().get(instance, "/reset").await;
            if page.body.contains(desk) {
                break;
            }
            assert!(
                // The bound is a second; the slack is for a debug-build
                // page rendered on a busy machine.
                saved.elapsed() < policy::CACHED_FOR + Duration::from_secs(2),
                "{} still shows the old policy",
                instance.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // A reset started on A, its code proven on B.
    let mut resetter = Browser::new();
    resetter.start_reset(b, a, "dana").await;
    let sent = resetter
        .post(
            a,
            "/api/reset_email",
            &format!("address={}", enc("dana@home.example")),
        )
        .await;
    sent.goes_to("/reset/code");
    let code = shared.code_sent_to("dana@home.example").await;
    let ok = resetter
        .post(b, "/api/reset_verify", &format!("code={code}"))
        .await;
    ok.goes_to("/reset/password");

    // Both outbox workers at work on one queue; the instance that is
    // sending is stopped in the middle of it.
    // One transaction: both workers see the whole queue at once, so the
    // one that claims it holds a batch when it is stopped.
    let now = services.clock.now();
    let mut queue = t.db.pool().begin().await.unwrap();
    for i in 0..BULK {
        let m = NewMessage {
            channel: Channel::Email,
            recipient: format!("bulk{i}@contoso.example"),
            locale: "en".into(),
            template: Template::AccountLocked {
                display_name: format!("Bulk {i}"),
                minutes: 1,
            },
            idempotency_key: format!("instances-bulk-{i}"),
            not_after: None,
        };
        outbox::enqueue(&mut *queue, &key, &m, now).await.unwrap();
    }
    queue.commit().await.unwrap();
    let sending = wait_for(
        "a worker to start on the queue",
        Duration::from_secs(30),
        || (0..2).find(|&i| bulk_received(&shared.inboxes[i]) >= 3),
    );
    let stopped_at = Instant::now();
    instances[sending].terminate();
    instances[sending].logged("stopping: outbox batch handed back");
    let survivor = &instances[1 - sending];
    // The stopped instance's claims were handed back: the survivor sends
    // them well before the 60 s lease the stopped one took would run out.
    wait_for(
        "every message to be delivered",
        Duration::from_secs(45),
        || {
            let total: usize = shared.inboxes.iter().map(bulk_received).sum();
            (total >= BULK).then_some(())
        },
    );
    assert!(stopped_at.elapsed() < Duration::from_secs(outbox::LEASE_SECS as u64));
    // Whatever was still on its way would have arrived by now.
    tokio::time::sleep(SMTP_DELAY * 8).await;
    let mut ids: Vec<String> = Vec::new();
    for inbox in &shared.inboxes {
        ids.extend(
            inbox
                .mails()
                .iter()
                .map(|(_, m)| mail_header(m, "Message-ID")),
        );
    }
    let all = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all, "no message was sent twice");
    let received: usize = shared.inboxes.iter().map(bulk_received).sum();
    assert_eq!(received, BULK, "every message was sent once");
    assert!(
        bulk_received(&shared.inboxes[1 - sending]) > 0,
        "the survivor sent what the stopped instance left"
    );
    let unsent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state <> 'sent'")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(unsent, 0);

    // The reset started before the stop finishes on the survivor.
    let done = resetter
        .post(
            survivor,
            "/api/reset_password",
            &format!(
                "new_password={}&confirm_password={}",
                enc(NEW_PASSWORD),
                enc(NEW_PASSWORD)
            ),
        )
        .await;
    done.goes_to("/reset/done");
    let signed = Browser::new()
        .post(survivor, "/api/sign_in", &form("dana", NEW_PASSWORD))
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    assert_eq!(
        methods::list(t.db.pool(), dana).await.unwrap().len(),
        1,
        "dana's security info is untouched"
    );
}

both_backends!(one_instance_serves_metrics_on_its_own_listener_only);

/// `/metrics` (docs/security.md #88): on its own listener, never the
/// public one, with what the issue asks to watch.
async fn one_instance_serves_metrics_on_its_own_listener_only(t: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let shared = Shared::new(t, dir.path());
    let mut a = Instance::start("A", 0, &shared);
    let services = shared.services(t);
    add_user(&services, "dana", Some("dana@home.example")).await;
    let mut browser = Browser::new();
    let public = browser.get(&a, "/metrics").await;
    assert_eq!(public.status, StatusCode::NOT_FOUND);
    assert!(!public.body.contains(REQUEST_SECONDS));

    let wrong = browser
        .post(&a, "/api/sign_in", &form("dana", "not it"))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(browser.get(&a, "/reset").await.status, StatusCode::OK);
    browser.start_reset(&a, &a, "dana").await;
    let address = format!("address={}", enc("dana@home.example"));
    let sent = browser.post(&a, "/api/reset_email", &address).await;
    sent.goes_to("/reset/code");
    let code = shared.code_sent_to("dana@home.example").await;
    let bad = browser
        .post(
            &a,
            "/api/reset_verify",
            &format!("code={}", wrong_code(&code)),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);

    // The worker counts a delivery just after the SMTP server has it.
    let text = a
        .scrape_until(|m| {
            metric(m, DELIVERIES, &[("channel", "email"), ("outcome", "sent")]) >= 1.0
        })
        .await;
    let steps = |wizard, step, outcome| {
        metric(
            &text,
            WIZARD_STEPS,
            &[("wizard", wizard), ("step", step), ("outcome", outcome)],
        )
    };
    assert_eq!(
        steps("sign_in", "password", "invalid_credentials"),
        1.0,
        "{text}"
    );
    assert_eq!(steps("reset", "start", "ok"), 1.0, "{text}");
    assert_eq!(steps("reset", "email", "ok"), 1.0, "{text}");
    assert_eq!(steps("reset", "verify", "wrong_code"), 1.0, "{text}");
    let page = [("route", "/reset"), ("method", "GET"), ("status", "200")];
    assert!(
        metric(&text, &format!("{REQUEST_SECONDS}_count"), &page) >= 1.0,
        "{text}"
    );
    assert!(
        metric(&text, "sspr_hashing_wait_seconds_count", &[]) >= 1.0,
        "{text}"
    );
    assert_eq!(metric(&text, "sspr_hashing_waiting", &[]), 0.0, "{text}");
    assert_eq!(metric(&text, "sspr_hashing_running", &[]), 0.0, "{text}");
    assert_eq!(
        metric(&text, "sspr_outbox_backlog", &[("channel", "email")]),
        0.0,
        "{text}"
    );
    a.terminate();
}

both_backends!(pages_rendered_at_once_never_panic_the_server);

/// Many pages at once must not make the server panic, even where every
/// answer is right: leptos_i18n's locale effect, a task of its own on the
/// server, panicked when its run overlapped the end of its page (about one
/// page in a thousand under load; `locale::provide_server_context`). Such a
/// panic is in a detached task, so only the process's stderr shows it. The
/// check is statistical: before the fix it found one panic or more in about
/// two runs of three.
async fn pages_rendered_at_once_never_panic_the_server(t: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let shared = Shared::new(t, dir.path());
    let mut a = Instance::start("A", 0, &shared);
    // Each request on a connection of its own, read to its end: a client
    // that costs next to nothing keeps the server's workers busy. (Requests
    // pipelined on one connection did not show the panic.)
    let pages = [
        "/nope",
        "/sign-in",
        "/nope",
        "/reset",
        "/nope",
        "/sign-in?lang=he-IL",
    ];
    let host = a.base.trim_start_matches("http://").to_owned();
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..PAGE_CLIENTS {
        let host = host.clone();
        clients.spawn(async move {
            for i in 0..PAGES_EACH {
                let path = pages[(c + i) % pages.len()];
                let mut conn = tokio::net::TcpStream::connect(&host).await.unwrap();
                let request =
                    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
                conn.write_all(request.as_bytes()).await.unwrap();
                let mut answer = Vec::new();
                conn.read_to_end(&mut answer).await.unwrap();
                let answer = String::from_utf8_lossy(&answer);
                let want = if path == "/nope" {
                    "HTTP/1.1 404"
                } else {
                    "HTTP/1.1 200"
                };
                assert!(answer.starts_with(want), "{path}: {answer}");
                assert!(answer.contains("</html>"), "{path}: {answer}");
            }
        });
    }
    while let Some(done) = clients.join_next().await {
        done.unwrap();
    }
    a.terminate();
}

/// Clients loading pages at once, and pages each.
const PAGE_CLIENTS: usize = 16;
const PAGES_EACH: usize = 100;

const REQUEST_SECONDS: &str = "sspr_http_request_duration_seconds";
const WIZARD_STEPS: &str = "sspr_wizard_steps_total";
const DELIVERIES: &str = "sspr_outbox_deliveries_total";

/// The sum of the samples of `name` whose labels include `labels` (0 when
/// there is none).
fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(['{', ' ']))
        })
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A user with [`PASSWORD`] and, when given, a registered email address.
async fn add_user(s: &Services, login: &str, email: Option<&str>) -> i64 {
    let user = NewUser {
        login_display: login.into(),
        display_name: format!("{login} Display"),
        email: Some(format!("{login}@contoso.example")),
        role: Role::User,
        password_hash: None,
        locale: None,
    };
    let user = with_password(s, user).await;
    let id = create_user(&s.db, &user, s.clock.now()).await;
    if let Some(address) = email {
        methods::upsert(s.db.pool(), id, &NewMethod::email(address), s.clock.now())
            .await
            .unwrap();
    }
    id
}

fn bulk_received(inbox: &Inbox) -> usize {
    inbox
        .mails()
        .iter()
        .filter(|(to, _)| to.iter().any(|r| r.starts_with("bulk")))
        .count()
}

/// Polls `probe` every 50 ms until it yields, or fails the test after `limit`.
fn wait_for<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the instances share: the database, the key file, the settings.
struct Shared {
    database_url: String,
    key_file: PathBuf,
    site_root: PathBuf,
    /// The SMTP server each instance sends through, by index.
    inboxes: [Inbox; 2],
    smtp_ports: [u16; 2],
}

impl Shared {
    fn new(t: &TestDb, dir: &Path) -> Shared {
        let (port_a, inbox_a) = slow_smtp_server(SMTP_DELAY);
        let (port_b, inbox_b) = slow_smtp_server(SMTP_DELAY);
        let site_root = dir.join("site");
        std::fs::create_dir_all(site_root.join("pkg")).unwrap();
        Shared {
            database_url: t.url.clone(),
            key_file: dir.join("sspr.key"),
            site_root,
            inboxes: [inbox_a, inbox_b],
            smtp_ports: [port_a, port_b],
        }
    }

    /// `sspr` with the environment of instance `index` (nothing inherited
    /// but PATH: a developer's own SSPR_* or DATABASE_URL must not leak in).
    fn command(&self, index: usize) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sspr"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.database_url)
            .env("SSPR_KEY_FILE", &self.key_file)
            .env("SSPR_LISTEN", "127.0.0.1:0")
            .env("SSPR_PUBLIC_URL", ORIGIN)
            .env("SSPR_LOG_FORMAT", "json")
            .env("SSPR_METRICS_LISTEN", "127.0.0.1:0")
            .env("SSPR_SIGN_IN_LOCKOUT__THRESHOLD", "3")
            .env("SSPR_DELIVERY__MODE", "live")
            .env("SSPR_DELIVERY__SMTP__HOST", "127.0.0.1")
            .env(
                "SSPR_DELIVERY__SMTP__PORT",
                self.smtp_ports[index].to_string(),
            )
            .env("SSPR_DELIVERY__SMTP__SECURITY", "none")
            .env(
                "SSPR_DELIVERY__SMTP__FROM",
                "Password reset <sspr@contoso.example>",
            )
            .env("LEPTOS_OUTPUT_NAME", "sspr")
            .env("LEPTOS_SITE_ROOT", &self.site_root)
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("RUST_LOG", "info,sqlx=warn");
        c
    }

    /// The test's own handle on the shared database, with the key file the
    /// first instance made (an operator copies it to every instance; here
    /// they share the path).
    fn services(&self, t: &TestDb) -> Services {
        let key = ServerKey::open(&self.key_file, true).unwrap();
        Services::new(t.db.clone(), key, Config::default(), Arc::new(SystemClock)).unwrap()
    }

    /// Sets one key of the policy with `sspr policy show` and `sspr policy
    /// set`, as an operator would.
    fn set_policy(&self, dir: &Path, key: &str, value: &str) {
        let shown = self.command(0).args(["policy", "show"]).output().unwrap();
        assert!(
            shown.status.success(),
            "{}",
            String::from_utf8_lossy(&shown.stderr)
        );
        let mut policy: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
        policy[key] = serde_json::Value::from(value);
        let file = dir.join("policy.json");
        std::fs::write(&file, policy.to_string()).unwrap();
        let set = self
            .command(0)
            .args(["policy", "set"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            set.status.success(),
            "{}",
            String::from_utf8_lossy(&set.stderr)
        );
    }

    /// The one-time code in the mail to `to`, from either instance (the
    /// test asks each address for one code: no mail to tell apart by time).
    async fn code_sent_to(&self, to: &str) -> String {
        let mail = wait_for(
            &format!("a code mailed to {to}"),
            Duration::from_secs(20),
            || {
                self.inboxes
                    .iter()
                    .flat_map(Inbox::mails)
                    .rfind(|(rcpt, _)| rcpt.iter().any(|r| r == to))
            },
        );
        let text = body(&mail.1);
        text.split(|c: char| !c.is_ascii_digit())
            .find(|run| run.len() >= 6)
            .unwrap_or_else(|| panic!("no code in {text}"))
            .to_owned()
    }
}

/// One `sspr serve` process; killed when dropped (a failing test leaves no
/// server behind).
struct Instance {
    name: &'static str,
    child: Child,
    /// The public listener.
    base: String,
    /// The `/metrics` listener.
    metrics: String,
    log: Arc<Mutex<Vec<String>>>,
    /// What the process wrote to stderr (a panic's message goes there),
    /// complete once `stderr_done` has been joined.
    stderr: Arc<Mutex<Vec<String>>>,
    stderr_done: Option<std::thread::JoinHandle<()>>,
}

impl Instance {
    /// Starts `sspr serve` with the settings of instance `index` and waits
    /// until it listens.
    fn start(name: &'static str, index: usize, shared: &Shared) -> Instance {
        let mut child = shared
            .command(index)
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let pipe = child.stderr.take().unwrap();
        let kept = stderr.clone();
        // Passes stderr on (a failing test shows it) and keeps it.
        let stderr_done = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                eprintln!("[{name}] {line}");
                kept.lock().unwrap().push(line);
            }
        });
        let stdout = child.stdout.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = log.clone();
        // Reads the log to its end, so the process never blocks on a full
        // pipe; hands over the addresses the two listeners report.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                    && let (Some(message), Some(addr)) = (v["message"].as_str(), v["addr"].as_str())
                {
                    let _ = tx.send((message.to_owned(), addr.to_owned()));
                }
                lines.lock().unwrap().push(line);
            }
        });
        let listening = |what: &str| loop {
            let (message, addr) = rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| {
                    panic!("instance {name} did not start: {:?}", log.lock().unwrap())
                });
            if message == what {
                break format!("http://{addr}");
            }
        };
        // The metrics listener is bound first (serve.rs).
        let metrics = listening("metrics listening");
        let base = listening("listening");
        Instance {
            name,
            child,
            base,
            metrics,
            log,
            stderr,
            stderr_done: Some(stderr_done),
        }
    }

    /// Everything the process wrote to stderr, once it has exited.
    fn stderr_at_exit(&mut self) -> Vec<String> {
        assert!(self.child.try_wait().unwrap().is_some(), "still running");
        if let Some(reader) = self.stderr_done.take() {
            reader.join().unwrap();
        }
        self.stderr.lock().unwrap().clone()
    }

    /// `/metrics` from the metrics listener, scraped every 100 ms until
    /// `ready` holds (at most 10 s).
    async fn scrape_until(&self, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let res = reqwest::get(format!("{}/metrics", self.metrics))
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let text = res.text().await.unwrap();
            if ready(&text) {
                return text;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "{text}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits (at most 5 s: the log reader may lag the process) for a log
    /// line whose message is `message`.
    fn logged(&self, message: &str) {
        let wanted = format!("\"message\":\"{message}\"");
        wait_for(
            &format!("{} to log {message:?}", self.name),
            Duration::from_secs(5),
            || {
                self.log
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|l| l.contains(&wanted))
                    .then_some(())
            },
        );
    }

    /// SIGTERM, as an orchestrator stops an instance; it must exit cleanly,
    /// and must not have panicked on the way (not even in a detached task,
    /// whose panic no answer shows).
    fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let status = wait_for("the instance to exit", Duration::from_secs(20), || {
            self.child.try_wait().unwrap()
        });
        assert!(
            status.success(),
            "instance {} exited with {status}: {:?}",
            self.name,
            self.log.lock().unwrap()
        );
        let panics: Vec<String> = self
            .stderr_at_exit()
            .into_iter()
            .filter(|l| l.contains("panicked"))
            .collect();
        assert!(panics.is_empty(), "{} panicked: {panics:#?}", self.name);
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The step succeeded and leads to `path`.
    fn goes_to(&self, path: &str) {
        assert_eq!(self.header("location"), Some(path), "{}", self.body);
    }
}

/// A browser with its own cookies, talking to whichever instance the load
/// balancer picks (the test picks).
struct Browser {
    client: reqwest::Client,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new() -> Browser {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // No idle connection to an instance that is about to stop.
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Browser {
            client,
            cookies: Vec::new(),
        }
    }

    async fn get(&mut self, to: &Instance, path: &str) -> Reply {
        let req = self
            .client
            .get(format!("{}{path}", to.base))
            .header(header::ACCEPT, "text/html");
        self.send(req).await
    }

    /// A same-origin form post as the hydrated app sends it.
    async fn post(&mut self, to: &Instance, path: &str, form: &str) -> Reply {
        let req = self
            .client
            .post(format!("{}{path}", to.base))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header("sec-fetch-site", "same-origin")
            .header(header::ORIGIN, ORIGIN)
            .body(form.to_owned());
        self.send(req).await
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Reply {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let req = if cookie.is_empty() {
            req
        } else {
            req.header(header::COOKIE, cookie)
        };
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        for c in headers.get_all(header::SET_COOKIE) {
            let pair = c.to_str().unwrap_or("").split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.retain(|(name, _)| name != k);
                if !v.is_empty() {
                    self.cookies.push((k.to_owned(), v.to_owned()));
                }
            }
        }
        let body = res.text().await.unwrap();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Reset step 1: the CAPTCHA from `puzzle_from`, solved, posted to `to`.
    async fn start_reset(&mut self, puzzle_from: &Instance, to: &Instance, login: &str) {
        let challenge = self.post(puzzle_from, "/api/reset_challenge", "").await;
        assert_eq!(challenge.status, StatusCode::OK, "{}", challenge.body);
        let puzzle: Puzzle = serde_json::from_str(&challenge.body).unwrap();
        let solution = captcha::solve(&puzzle).unwrap();
        let form = format!("login={}&captcha={}", enc(login), enc(&solution));
        let r = self.post(to, "/api/reset_start", &form).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
}
