//! The kinds of verification method, as stored, posted and sent to the
//! browser (`email`, `phone`, …).

use serde::{Deserialize, Serialize};

/// A kind of registered security info, and of reset gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MethodKind {
    Email,
    Phone,
    Authenticator,
    Questions,
}

impl MethodKind {
    pub const ALL: [MethodKind; 4] = [
        MethodKind::Email,
        MethodKind::Phone,
        MethodKind::Authenticator,
        MethodKind::Questions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MethodKind::Email => "email",
            MethodKind::Phone => "phone",
            MethodKind::Authenticator => "authenticator",
            MethodKind::Questions => "questions",
        }
    }
    pub fn parse(s: &str) -> Option<MethodKind> {
        match s {
            "email" => Some(MethodKind::Email),
            "phone" => Some(MethodKind::Phone),
            "authenticator" => Some(MethodKind::Authenticator),
            "questions" => Some(MethodKind::Questions),
            _ => None,
        }
    }
}

/// How a code reaches a phone: a text message or a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhoneChannel {
    Sms,
    Voice,
}

impl PhoneChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneChannel::Sms => "sms",
            PhoneChannel::Voice => "voice",
        }
    }
    pub fn parse(s: &str) -> Option<PhoneChannel> {
        match s {
            "sms" => Some(PhoneChannel::Sms),
            "voice" => Some(PhoneChannel::Voice),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in [
            MethodKind::Email,
            MethodKind::Phone,
            MethodKind::Authenticator,
            MethodKind::Questions,
        ] {
            assert_eq!(MethodKind::parse(k.as_str()), Some(k));
        }
        for c in [PhoneChannel::Sms, PhoneChannel::Voice] {
            assert_eq!(PhoneChannel::parse(c.as_str()), Some(c));
        }
        assert_eq!(MethodKind::parse("Email"), None);
        assert_eq!(PhoneChannel::parse(""), None);
    }

    #[test]
    fn the_wire_form_is_the_lowercase_name() {
        assert_eq!(
            serde_json::to_string(&MethodKind::Authenticator)
                .ok()
                .as_deref(),
            Some(r#""authenticator""#)
        );
        assert_eq!(
            serde_json::to_string(&PhoneChannel::Voice).ok().as_deref(),
            Some(r#""voice""#)
        );
        assert_eq!(
            serde_json::from_str::<MethodKind>(r#""questions""#).ok(),
            Some(MethodKind::Questions)
        );
        assert!(serde_json::from_str::<MethodKind>(r#""Questions""#).is_err());
    }
}
