//! Text messages and voice calls through an HTTP provider: one JSON POST
//! per message, the body built from a template in the configuration.

use std::time::Duration;

use http::{HeaderName, HeaderValue};
use sspr_domain::config::PhoneConfig;
use sspr_domain::outbox::Message;

use super::SetupError;

pub struct HttpPhone {
    client: reqwest::Client,
    url: String,
    auth: Option<(HeaderName, HeaderValue)>,
    template: String,
}

impl HttpPhone {
    pub fn new(cfg: &PhoneConfig) -> Result<HttpPhone, SetupError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(cfg.timeout_secs))
            // A provider never needs to send us elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SetupError::Phone(e.to_string()))?;
        let auth = match &cfg.auth_header {
            None => None,
            Some(h) => {
                let (name, value) = h
                    .split_once(':')
                    .ok_or_else(|| SetupError::Phone("auth_header needs `Name: value`".into()))?;
                let name = HeaderName::try_from(name.trim())
                    .map_err(|e| SetupError::Phone(e.to_string()))?;
                let mut value = HeaderValue::try_from(value.trim())
                    .map_err(|e| SetupError::Phone(e.to_string()))?;
                value.set_sensitive(true);
                Some((name, value))
            }
        };
        // The template must be JSON once the placeholders are filled.
        let probe = fill(
            &cfg.body_template,
            &Fields {
                to: "+10000000000",
                text: "text",
                channel: "sms",
                key: "key",
                locale: "en",
            },
        );
        serde_json::from_str::<serde_json::Value>(&probe).map_err(|e| {
            SetupError::Phone(format!("body_template is not JSON after substitution: {e}"))
        })?;
        Ok(HttpPhone {
            client,
            url: cfg.url.clone(),
            auth,
            template: cfg.body_template.clone(),
        })
    }

    pub async fn send(&self, m: &Message, text: &str) -> Result<(), String> {
        let body = fill(
            &self.template,
            &Fields {
                to: &m.recipient,
                text,
                channel: m.channel.as_str(),
                key: &m.idempotency_key,
                locale: &m.locale,
            },
        );
        let mut req = self
            .client
            .post(&self.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", &m.idempotency_key)
            .body(body);
        if let Some((name, value)) = &self.auth {
            req = req.header(name.clone(), value.clone());
        }
        let res = req
            .send()
            .await
            .map_err(|e| format!("provider unreachable: {}", e.without_url()))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(format!("provider answered {}", res.status()))
        }
    }
}

/// What a message fills into the provider's template.
struct Fields<'a> {
    to: &'a str,
    text: &'a str,
    channel: &'a str,
    key: &'a str,
    locale: &'a str,
}

/// Replaces each placeholder with a JSON string literal, so values can
/// never break out of their place in the document. One pass over the
/// template: a value that itself contains `{{…}}` (a display name, say)
/// is never substituted again.
fn fill(template: &str, f: &Fields<'_>) -> String {
    let json = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    let mut out = String::with_capacity(template.len() + f.text.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let value = after.find("}}").and_then(|end| {
            let v = match &after[..end] {
                "to" => f.to,
                "text" => f.text,
                "channel" => f.channel,
                "idempotency_key" => f.key,
                "locale" => f.locale,
                _ => return None,
            };
            Some((json(v), end))
        });
        match value {
            Some((v, end)) => {
                out.push_str(&v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{Fields, fill};

    fn fields<'a>(text: &'a str) -> Fields<'a> {
        Fields {
            to: "+972501234567",
            text,
            channel: "sms",
            key: "k",
            locale: "he-IL",
        }
    }

    #[test]
    fn values_are_json_escaped() {
        let t = r#"{"to": {{to}}, "body": {{text}}, "kind": {{channel}}}"#;
        let out = fill(t, &fields("code \"1234\"\n}, \"evil\": {"));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["body"], "code \"1234\"\n}, \"evil\": {");
        assert!(v.get("evil").is_none());
    }

    proptest::proptest! {
        /// Whatever a message holds (docs/security.md #78), each value
        /// lands whole inside its own JSON string and adds no key.
        #[test]
        fn any_values_stay_inside_their_json_strings(
            to in proptest::prelude::any::<String>(),
            text in proptest::prelude::any::<String>(),
            locale in proptest::prelude::any::<String>(),
        ) {
            let t = r#"{"to": {{to}}, "body": {{text}}, "kind": {{channel}}, "lang": {{locale}}, "key": {{idempotency_key}}}"#;
            let f = Fields { to: &to, text: &text, channel: "sms", key: "k", locale: &locale };
            let v: serde_json::Value = serde_json::from_str(&fill(t, &f)).unwrap();
            proptest::prop_assert_eq!(v.as_object().map(|o| o.len()), Some(5));
            proptest::prop_assert_eq!(v["to"].as_str(), Some(to.as_str()));
            proptest::prop_assert_eq!(v["body"].as_str(), Some(text.as_str()));
            proptest::prop_assert_eq!(v["lang"].as_str(), Some(locale.as_str()));
        }

        /// Any template (an admin's typo included) is filled without a
        /// panic; the configuration check refuses what is not JSON.
        #[test]
        fn any_template_is_filled_without_panicking(
            template in proptest::prelude::any::<String>(),
            text in proptest::prelude::any::<String>(),
        ) {
            let _ = fill(&template, &fields(&text));
        }
    }

    #[test]
    fn placeholders_inside_values_stay_literal() {
        let t =
            r#"{"text": {{text}}, "kind": {{channel}}, "lang": {{locale}}, "x": "{{unknown}}"}"#;
        let out = fill(t, &fields("Hello {{channel}} {{to}}"));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["text"], "Hello {{channel}} {{to}}");
        assert_eq!(v["kind"], "sms");
        assert_eq!(v["lang"], "he-IL");
        assert_eq!(v["x"], "{{unknown}}");
    }
}
