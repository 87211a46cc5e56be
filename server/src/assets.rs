//! The built front end under `/pkg`: JavaScript, wasm (and its lazily loaded
//! chunks) and CSS, as `cargo leptos build --release --precompress
//! --split` leaves them in the site root.
//!
//! - **Compressed once, at build time.** The build writes `name.br` and
//!   `name.gz` beside each file; a browser that accepts brotli (or gzip) gets
//!   those bytes with `Content-Encoding`, others the plain file. Nothing is
//!   compressed per request, so serving the wasm costs a file read.
//! - **Cached for a year when the name says what is inside.** With
//!   `hash-files` every file name carries the MD5 of its content
//!   (`sspr.<22 characters>.wasm`): a new build is a new URL, so the old one
//!   can be `immutable`. A name without a hash is revalidated (`no-cache`).
//! - HTML pages are never served from here and never compressed: they carry
//!   a CSP nonce and text the visitor typed, the BREACH pairing
//!   (docs/security.md #86).

use std::path::PathBuf;

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use leptos::prelude::LeptosOptions;
use tower_http::services::ServeDir;

use app::locale::CATALOG_PREFIX;

/// Where the built assets are served from.
pub const PKG_PREFIX: &str = "/pkg/";

/// How long a browser may keep a file whose name carries its content hash.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The `/pkg` files of the site root in `options`, precompressed variants
/// first.
pub fn pkg_router<S: Clone + Send + Sync + 'static>(options: &LeptosOptions) -> Router<S> {
    let dir = PathBuf::from(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        // A directory listing or an index file is never what a browser wants here.
        .append_index_html_on_directories(false);
    Router::new()
        .nest_service(PKG_PREFIX.trim_end_matches('/'), files)
        .layer(axum::middleware::from_fn(vary_on_encoding))
}

#[derive(Debug, thiserror::Error)]
pub enum AssetsError {
    #[error(
        "LEPTOS_HASH_FILES is on but {0} is missing: build with `cargo leptos build --release` \
         (it writes the file beside the sspr binary) or turn LEPTOS_HASH_FILES off"
    )]
    MissingHashFile(PathBuf),
}

/// With `hash-files` on, Leptos reads the hashed names from a file beside the
/// executable while rendering the first page, and panics if it cannot:
/// refuse to start instead.
pub fn check_hash_file(options: &LeptosOptions) -> Result<(), AssetsError> {
    if !options.hash_files {
        return Ok(());
    }
    let path = app::hash_file_path(options);
    if path.is_file() {
        Ok(())
    } else {
        Err(AssetsError::MissingHashFile(path))
    }
}

/// The same URL answers with brotli, gzip or plain bytes: caches must keep
/// them apart.
async fn vary_on_encoding(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}

/// `Cache-Control` for a response to `path` (see `middleware::headers`):
/// pages and API answers are never stored; a hashed asset is kept for a
/// year; any other static file is revalidated.
pub fn cache_control(path: &str, status: StatusCode) -> HeaderValue {
    let value = if !is_static(path) {
        "no-store"
    } else if (status.is_success() || status == StatusCode::NOT_MODIFIED) && is_hashed(path) {
        IMMUTABLE
    } else {
        "no-cache"
    };
    HeaderValue::from_static(value)
}

/// Whether `cache_control` gave a build file under a hashed name: bytes
/// fixed at build time, never a document.
pub fn is_immutable(cache_control: &HeaderValue) -> bool {
    cache_control.as_bytes() == IMMUTABLE.as_bytes()
}

fn is_static(path: &str) -> bool {
    path.starts_with(PKG_PREFIX) || path.starts_with(CATALOG_PREFIX) || path == "/favicon.svg"
}

/// Whether the file name carries a content hash as cargo-leptos writes it:
/// a 22-character unpadded base64url MD5 between dots. wasm-bindgen's
/// `snippets/` keep their names (the wasm imports them by name), so they are
/// never taken as hashed.
fn is_hashed(path: &str) -> bool {
    let Some(rest) = path
        .strip_prefix(PKG_PREFIX)
        .or_else(|| path.strip_prefix(CATALOG_PREFIX))
    else {
        return false;
    };
    if rest.starts_with("snippets/") || rest.contains('/') {
        return false;
    }
    let mut parts = rest.split('.');
    let _stem = parts.next();
    let mut middle: Vec<&str> = parts.collect();
    // The last part is the extension; a hash sits between stem and extension.
    middle.pop();
    middle.iter().any(|p| {
        p.len() == 22
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const HASH: &str = "AbCdEfGhIjKlMnOpQrSt_-";

    fn options(hash_files: bool, hash_file: &str) -> LeptosOptions {
        LeptosOptions::builder()
            .output_name("sspr")
            .hash_files(hash_files)
            .hash_file(std::sync::Arc::<str>::from(hash_file))
            .build()
    }

    #[test]
    fn serve_refuses_hashed_names_without_the_hash_file() {
        let name = format!("hash-{}.txt", uuid::Uuid::new_v4());
        let err = check_hash_file(&options(true, &name)).unwrap_err();
        assert!(err.to_string().contains(&name), "{err}");
        assert!(
            check_hash_file(&options(false, &name)).is_ok(),
            "no hashed names, no file needed"
        );
        let beside_exe = std::env::current_exe()
            .unwrap()
            .parent()
            .unwrap()
            .join(&name);
        std::fs::write(&beside_exe, "js: x\nwasm: y\ncss: z\n").unwrap();
        let found = check_hash_file(&options(true, &name));
        std::fs::remove_file(&beside_exe).unwrap();
        assert!(found.is_ok(), "{found:?}");
    }

    #[test]
    fn only_a_hashed_name_under_pkg_is_immutable() {
        let ok = StatusCode::OK;
        for path in [
            format!("/pkg/sspr.{HASH}.wasm"),
            format!("/pkg/sspr.{HASH}.js"),
            format!("/pkg/__wasm_split.{HASH}.js"),
        ] {
            assert_eq!(cache_control(&path, ok), IMMUTABLE, "{path}");
            assert_eq!(
                cache_control(&path, StatusCode::NOT_MODIFIED),
                IMMUTABLE,
                "{path}"
            );
        }
        for path in [
            "/pkg/sspr.wasm".to_owned(),
            "/pkg/sspr_bg.wasm".to_owned(),
            format!("/pkg/snippets/leptos-{HASH}/inline0.js"),
            format!("/pkg/{HASH}"),
            "/favicon.svg".to_owned(),
        ] {
            assert_eq!(cache_control(&path, ok), "no-cache", "{path}");
        }
        assert_eq!(
            cache_control(&format!("/pkg/sspr.{HASH}.wasm"), StatusCode::NOT_FOUND),
            "no-cache",
            "a missing file may appear with the next deployment"
        );
        for path in ["/reset", "/api/reset_start", "/", "/pkgx/a.b.c"] {
            assert_eq!(cache_control(path, ok), "no-store", "{path}");
        }
    }
}
