//! Data a page loads on the server before its first byte, handed to the
//! browser inside the page and read back there when it hydrates.
//!
//! Read back with the same JSON reader the server functions use for their
//! answers (`serde_json::from_slice`). Leptos's default codec for resources
//! reads with `from_str`: a second reader type, so every view type got a
//! second copy of its deserializer in the wasm (twiggy: 30 such functions,
//! 79 KB before optimisation, in pairs) — bytes every first visit paid for
//! (issue 12). The text is the same JSON either way.

use std::future::Future;

use leptos::prelude::Resource;
use leptos::server::codee::{Decoder, Encoder};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON written as text, read as bytes (see the module).
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(text.as_bytes())
    }
}

/// A blocking resource (the page waits for it before sending anything) read
/// with [`Json`]: what `Resource::new_blocking` is, with this codec.
#[track_caller]
pub fn blocking<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, Json>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: Send + Sync + Clone + PartialEq + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, true)
}

#[cfg(test)]
mod tests {
    use super::Json;
    use leptos::server::codee::{Decoder, Encoder};

    /// What the server writes into the page is what the browser reads back,
    /// for the shape every loaded view has: a result with an error inside.
    #[test]
    fn a_value_written_is_read_back_the_same() {
        let value: Result<Vec<String>, (u64, String)> = Ok(vec!["א".into(), "b\"c".into()]);
        let text = <Json as Encoder<_>>::encode(&value).expect("encodes");
        let back: Result<Vec<String>, (u64, String)> =
            <Json as Decoder<_>>::decode(&text).expect("decodes");
        assert_eq!(back, value);
        let error: Result<Vec<String>, (u64, String)> = Err((7, "x".into()));
        let text = <Json as Encoder<_>>::encode(&error).expect("encodes");
        assert_eq!(<Json as Decoder<_>>::decode(&text).ok(), Some(error));
    }
}
