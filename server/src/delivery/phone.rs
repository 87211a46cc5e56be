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
        let probe = fill(&cfg.body_template, "+10000000000", "text", "sms", "key");
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
            &m.recipient,
            text,
            m.channel.as_str(),
            &m.idempotency_key,
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

/// Replaces each placeholder with a JSON string literal, so values can
/// never break out of their place in the document.
fn fill(template: &str, to: &str, text: &str, channel: &str, key: &str) -> String {
    let json = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    template
        .replace("{{to}}", &json(to))
        .replace("{{text}}", &json(text))
        .replace("{{channel}}", &json(channel))
        .replace("{{idempotency_key}}", &json(key))
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn values_are_json_escaped() {
        let t = r#"{"to": {{to}}, "body": {{text}}, "kind": {{channel}}}"#;
        let out = fill(
            t,
            "+972501234567",
            "code \"1234\"\n}, \"evil\": {",
            "sms",
            "k",
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["body"], "code \"1234\"\n}, \"evil\": {");
        assert!(v.get("evil").is_none());
    }
}
