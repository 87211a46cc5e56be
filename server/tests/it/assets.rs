//! The built front end under /pkg (docs/security.md #86): the precompressed
//! copy the browser accepts, hashed names cached for a year, nothing else.

use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use sspr_domain::testkit::{self, TestDb};
use tower::ServiceExt;

use crate::harness::router_with;

const HASH: &str = "q1W2e3R4t5Y6u7I8o9P0a-";

struct Served {
    status: StatusCode,
    encoding: Option<String>,
    cache: Option<String>,
    vary: Option<String>,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

async fn fetch(router: &axum::Router, path: &str, accept: Option<&str>) -> Served {
    let mut b = Request::get(path);
    if let Some(a) = accept {
        b = b.header(header::ACCEPT_ENCODING, a);
    }
    let res = router
        .clone()
        .oneshot(b.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let h = |n: header::HeaderName| res.headers().get(n).map(|v| v.to_str().unwrap().to_owned());
    let (encoding, cache, vary) = (
        h(header::CONTENT_ENCODING),
        h(header::CACHE_CONTROL),
        h(header::VARY),
    );
    Served {
        status: res.status(),
        encoding,
        cache,
        vary,
        headers: res.headers().clone(),
        body: res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkg_files_are_sent_precompressed_and_hashed_names_cached_for_a_year() {
    testkit::run(TestDb::sqlite().await, async |t: &TestDb| {
        let site = tempfile::tempdir().unwrap();
        let pkg = site.path().join("pkg");
        std::fs::create_dir_all(pkg.join("snippets/leptos-x")).unwrap();
        let wasm = format!("sspr.{HASH}.wasm");
        // Different bytes per variant, so the test sees which one was sent.
        std::fs::write(pkg.join(&wasm), b"plain wasm").unwrap();
        std::fs::write(pkg.join(format!("{wasm}.br")), b"brotli wasm").unwrap();
        std::fs::write(pkg.join(format!("{wasm}.gz")), b"gzip wasm").unwrap();
        std::fs::write(pkg.join("sspr.js"), b"unhashed js").unwrap();
        std::fs::write(pkg.join("snippets/leptos-x/inline0.js"), b"snippet").unwrap();
        let options = LeptosOptions::builder()
            .output_name("sspr")
            .site_root(site.path().to_str().unwrap())
            .site_pkg_dir("pkg")
            .build();
        let (services, _clock) = testkit::services(t.db.clone(), Default::default());
        let router = router_with(&services, options);
        let path = format!("/pkg/{wasm}");

        let br = fetch(&router, &path, Some("gzip, deflate, br, zstd")).await;
        assert_eq!(br.status, StatusCode::OK);
        assert_eq!(br.body, b"brotli wasm");
        assert_eq!(br.encoding.as_deref(), Some("br"));
        assert_eq!(
            br.cache.as_deref(),
            Some("public, max-age=31536000, immutable")
        );
        assert!(
            br.vary
                .as_deref()
                .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
            "{:?}",
            br.vary
        );

        // A build file is never a document: the headers that act on a
        // subresource, not the document ones (docs/security.md #48).
        assert_eq!(br.headers["x-content-type-options"], "nosniff");
        assert_eq!(br.headers["cross-origin-resource-policy"], "same-origin");
        for document_only in [
            "content-security-policy",
            "x-frame-options",
            "referrer-policy",
            "cross-origin-opener-policy",
            "permissions-policy",
        ] {
            assert!(!br.headers.contains_key(document_only), "{document_only}");
        }

        let gz = fetch(&router, &path, Some("gzip")).await;
        assert_eq!(
            (gz.body.as_slice(), gz.encoding.as_deref()),
            (&b"gzip wasm"[..], Some("gzip"))
        );

        let plain = fetch(&router, &path, None).await;
        assert_eq!(
            (plain.body.as_slice(), plain.encoding.as_deref()),
            (&b"plain wasm"[..], None)
        );

        // A name without a hash may change in place: revalidate it.
        let js = fetch(&router, "/pkg/sspr.js", Some("br")).await;
        assert_eq!(js.status, StatusCode::OK);
        assert_eq!(js.encoding, None, "no .br beside it: sent as it is");
        assert_eq!(js.cache.as_deref(), Some("no-cache"));
        assert!(
            js.headers.contains_key("content-security-policy"),
            "a file that may change in place keeps the whole set"
        );
        let snippet = fetch(&router, "/pkg/snippets/leptos-x/inline0.js", None).await;
        assert_eq!(snippet.body, b"snippet");
        assert_eq!(snippet.cache.as_deref(), Some("no-cache"));

        // A file of the next deployment is not there yet: not cached.
        let missing = fetch(&router, &format!("/pkg/sspr.{HASH}.js"), Some("br")).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(missing.cache.as_deref(), Some("no-cache"));

        // No way out of the folder, and no listing of it.
        for p in [
            "/pkg/../Cargo.toml",
            "/pkg/%2e%2e/Cargo.toml",
            "/pkg/",
            "/pkg/snippets/",
        ] {
            let r = fetch(&router, p, None).await;
            assert!(
                r.status == StatusCode::NOT_FOUND || r.status == StatusCode::BAD_REQUEST,
                "{p}: {}",
                r.status
            );
        }

        // Pages are never cached; compressed per request only for a visitor
        // without state (#86; pages.rs tests that rule).
        let page = fetch(&router, "/sign-in", Some("gzip, br")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.encoding.as_deref(), Some("br"));
        assert_eq!(page.cache.as_deref(), Some("no-store"));
    })
    .await;
}
