//! The browser's copy of each language's catalog (`app::locale::
//! CatalogScript`): `/i18n/<tag>.<hash>.js`, one file per language, so a
//! page's first download carries its own language only and a browser
//! fetches it once (the name changes with the content: `immutable`, as
//! `assets::cache_control` gives any hashed build file). Each is compressed
//! with brotli once per process, when its language is first asked for
//! (~50 KB, tens of milliseconds at the best quality); the plain bytes for a
//! browser that does not take brotli.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use app::locale::{CATALOG_PREFIX, catalog_scripts};

/// A catalog script and, once asked for, its brotli bytes.
struct Compressed {
    path: &'static str,
    plain: &'static str,
    brotli: OnceLock<Vec<u8>>,
}

impl Compressed {
    fn brotli(&self) -> &[u8] {
        self.brotli.get_or_init(|| brotli_of(self.plain.as_bytes()))
    }
}

fn compressed() -> &'static [Compressed] {
    static ALL: OnceLock<Vec<Compressed>> = OnceLock::new();
    ALL.get_or_init(|| {
        catalog_scripts()
            .iter()
            .map(|s| Compressed {
                path: &s.path,
                plain: &s.text,
                brotli: OnceLock::new(),
            })
            .collect()
    })
}

fn brotli_of(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    let mut input = bytes;
    match brotli::BrotliCompress(&mut input, &mut out, &params) {
        Ok(_) => out,
        // In-memory compression has no I/O to fail; should it fail anyway,
        // the plain bytes are served (an empty brotli body never is).
        Err(_) => Vec::new(),
    }
}

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(&format!("{CATALOG_PREFIX}{{file}}"), get(serve))
}

async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("{CATALOG_PREFIX}{file}");
    let Some(script) = compressed().iter().find(|c| c.path == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let takes_brotli = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
            });
            name.eq_ignore_ascii_case("br") && !refused
        });
    let packed = if takes_brotli { script.brotli() } else { &[] };
    let mut res = if !packed.is_empty() {
        let mut res = packed.to_vec().into_response();
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        res
    } else {
        script.plain.into_response()
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}
