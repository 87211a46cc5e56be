use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use sspr_domain::config::Config;
pub use sspr_domain::testkit::PASSWORD;
use sspr_domain::testkit::{TestDb, create_user, services, with_password};
use sspr_domain::users::{NewUser, Role};
use sspr_domain::{Clock, ManualClock, Services};
use tower::ServiceExt;

pub const ORIGIN: &str = "http://127.0.0.1:3000";

pub struct TestApp {
    pub router: Router,
    pub services: Services,
    pub clock: ManualClock,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }
    /// The value this reply sets for cookie `name`, if it sets one.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .iter()
            .find_map(|c| {
                c.strip_prefix(name)
                    .and_then(|r| r.strip_prefix('='))
                    .map(|r| r.split(';').next().unwrap_or("").to_owned())
            })
            .filter(|v| !v.is_empty())
    }
    /// The value of the session cookie this reply sets, if any.
    pub fn session(&self) -> Option<String> {
        self.cookie("sspr_session")
    }
    /// Headers without the per-response CSP nonce, for equality checks.
    pub fn comparable_headers(&self) -> BTreeMap<String, String> {
        self.headers
            .iter()
            .filter(|(k, _)| *k != header::CONTENT_SECURITY_POLICY)
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect()
    }
}

impl TestApp {
    pub async fn new(t: &TestDb) -> TestApp {
        Self::with_config(t, Config::default()).await
    }

    pub async fn with_config(t: &TestDb, config: Config) -> TestApp {
        Self::over(t.db.clone(), config).await
    }

    /// The application over `db` (e.g. a connection through a proxy the
    /// test can cut).
    pub async fn over(db: sspr_domain::Db, config: Config) -> TestApp {
        let (services, clock) = services(db, config);
        let router = router_over(&services);
        TestApp {
            router,
            services,
            clock,
        }
    }

    /// `login` with [`PASSWORD`], "`login` Display" and `login`@contoso.example.
    pub async fn add_user(&self, login: &str, role: Role) -> i64 {
        let user = NewUser {
            login_display: login.into(),
            display_name: format!("{login} Display"),
            email: Some(format!("{login}@contoso.example")),
            role,
            password_hash: None,
            locale: None,
        };
        let user = with_password(&self.services, user).await;
        create_user(&self.services.db, &user, self.clock.now()).await
    }

    /// Signs `login` in with [`PASSWORD`] from the hydrated app; the reply
    /// must be a success.
    pub async fn sign_in(&self, login: &str) -> Reply {
        let r = self
            .post_js("/api/sign_in", &form(login, PASSWORD), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r
    }

    /// Adds admin `login` with a registered email address and signs in as
    /// an admin does (password, then the emailed code); returns the
    /// session's cookie header.
    pub async fn admin_session(&self, login: &str) -> String {
        use sspr_domain::methods::{self, NewMethod};
        let id = self.add_user(login, Role::Admin).await;
        let address = format!("{login}@home.example");
        let db = self.services.db.pool();
        methods::upsert(db, id, &NewMethod::email(&address), self.clock.now())
            .await
            .unwrap();
        let method = methods::list(db, id).await.unwrap()[0].id;
        let r = self
            .post_js("/api/sign_in", &form(login, PASSWORD), None)
            .await;
        let flow = r
            .cookie("sspr_signin")
            .expect("the second factor's flow cookie");
        let cookie = format!("sspr_signin={flow}");
        let r = self
            .post_js(
                "/api/sign_in_choose",
                &format!("method={method}"),
                Some(&cookie),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let (code, _) = sspr_domain::testkit::last_code(&self.services, &address).await;
        let r = self
            .post_js(
                "/api/sign_in_verify",
                &format!("code={code}"),
                Some(&cookie),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        format!("sspr_session={}", r.session().expect("a session"))
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut b = Request::get(path).header(header::ACCEPT, "text/html");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    /// A same-origin form post as the hydrated app sends it (fetch, JSON answer).
    pub async fn post_js(&self, path: &str, form: &str, cookie: Option<&str>) -> Reply {
        let mut b = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header("sec-fetch-site", "same-origin")
            .header(header::ORIGIN, ORIGIN);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::from(form.to_owned())).unwrap())
            .await
    }

    /// A same-origin form post as a browser without JavaScript sends it.
    pub async fn post_html(&self, path: &str, form: &str, referer: &str) -> Reply {
        self.post_html_with_cookie(path, form, referer, "").await
    }

    /// The same, from a browser that holds cookies.
    pub async fn post_html_with_cookie(
        &self,
        path: &str,
        form: &str,
        referer: &str,
        cookie: &str,
    ) -> Reply {
        let mut b = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header("sec-fetch-site", "same-origin")
            .header(header::ORIGIN, ORIGIN)
            .header(header::REFERER, format!("{ORIGIN}{referer}"));
        if !cookie.is_empty() {
            b = b.header(header::COOKIE, cookie);
        }
        self.send(b.body(Body::from(form.to_owned())).unwrap())
            .await
    }
}

/// A router over `services`, as `sspr serve` builds it.
pub fn router_over(services: &Services) -> Router {
    router_with(
        services,
        LeptosOptions::builder().output_name("sspr").build(),
    )
}

/// The same with other Leptos options (e.g. a site root of the test's own).
pub fn router_with(services: &Services, options: LeptosOptions) -> Router {
    let state = sspr_server::router::app_state(options, services.clone()).unwrap();
    sspr_server::router::build(state).unwrap()
}

pub fn form(login: &str, password: &str) -> String {
    format!("login={}&password={}", enc(login), enc(password))
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
