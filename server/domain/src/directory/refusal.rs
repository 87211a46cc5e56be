//! Why a directory refused a new password, in words the password page can
//! show. OpenLDAP's ppolicy says it in a response control (and partly in
//! the diagnostic text); Active Directory only in the diagnostic text of a
//! constraint violation. Both map to the same stable codes.

use serde::Serialize;

/// A directory's reason for refusing a password. The code (`as_str`) is
/// stable and has a catalog entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Refusal {
    TooShort,
    /// Complexity or quality rules (character classes, the account name).
    Quality,
    InHistory,
    /// Changed too recently (minimum age).
    TooYoung,
    /// Any other refusal of the value (an unknown constraint).
    Other,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::TooShort => "directory_too_short",
            Refusal::Quality => "directory_quality",
            Refusal::InHistory => "directory_history",
            Refusal::TooYoung => "directory_too_young",
            Refusal::Other => "directory_refused",
        }
    }
}

impl From<Refusal> for sspr_proto::password_rules::Reason {
    fn from(r: Refusal) -> Self {
        use sspr_proto::password_rules::Reason;
        match r {
            Refusal::TooShort => Reason::DirectoryTooShort,
            Refusal::Quality => Reason::DirectoryQuality,
            Refusal::InHistory => Reason::DirectoryHistory,
            Refusal::TooYoung => Reason::DirectoryTooYoung,
            Refusal::Other => Reason::DirectoryRefused,
        }
    }
}

/// LDAP result code 19, constraintViolation: the value was refused.
pub const CONSTRAINT_VIOLATION: u32 = 19;

/// The ppolicy response control (draft-behera-ldap-password-policy).
pub const PPOLICY_OID: &str = "1.3.6.1.4.1.42.2.27.8.5.1";

/// What the ppolicy control's `error` field says, when it is present.
/// `PasswordPolicyResponseValue ::= SEQUENCE { warning [0] … OPTIONAL,
/// error [1] ENUMERATED … OPTIONAL }`; read by hand because it is three
/// TLVs and a malformed one must give `None`, never a panic.
pub fn ppolicy_error(value: &[u8]) -> Option<u8> {
    let (tag, body, _) = tlv(value)?;
    if tag != 0x30 {
        return None;
    }
    let mut rest = body;
    while !rest.is_empty() {
        let (tag, body, next) = tlv(rest)?;
        if tag == 0x81 && body.len() == 1 {
            return Some(body[0]);
        }
        rest = next;
    }
    None
}

/// One BER tag-length-value: (tag, value, what follows). Short and long
/// definite lengths; anything else is `None`.
fn tlv(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// OpenLDAP: the ppolicy error number when the control came back, else
/// the diagnostic text.
pub fn from_openldap(ppolicy: Option<u8>, text: &str) -> Refusal {
    match ppolicy {
        Some(6) => Refusal::TooShort,
        Some(5) => Refusal::Quality,
        Some(7) => Refusal::TooYoung,
        Some(8) => Refusal::InHistory,
        _ => {
            let t = text.to_ascii_lowercase();
            if t.contains("too short") {
                Refusal::TooShort
            } else if t.contains("history") {
                Refusal::InHistory
            } else if t.contains("too young") {
                Refusal::TooYoung
            } else if t.contains("quality") {
                Refusal::Quality
            } else {
                Refusal::Other
            }
        }
    }
}

/// Active Directory and Samba: the text of a constraint violation, e.g.
/// `0000052D: Constraint violation - check_password_restrictions: the
/// password is too short. …`.
pub fn from_active_directory(text: &str) -> Refusal {
    let t = text.to_ascii_lowercase();
    if t.contains("too short") {
        Refusal::TooShort
    } else if t.contains("complexity") {
        Refusal::Quality
    } else if t.contains("history") || t.contains("already used") {
        Refusal::InHistory
    } else if t.contains("too young") {
        Refusal::TooYoung
    } else {
        Refusal::Other
    }
}

/// Active Directory says a wrong old password in a change with a
/// constraint violation too (`00000056`): that is a wrong password, not a
/// refused new one.
pub fn is_wrong_old_password_ad(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.starts_with("00000056") || t.contains("old password specified doesn't match")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ppolicy_control_gives_its_error_number() {
        // SEQUENCE { error [1] 6 }: passwordTooShort.
        assert_eq!(ppolicy_error(&[0x30, 0x03, 0x81, 0x01, 0x06]), Some(6));
        // SEQUENCE { warning [0] { graceAuthNsRemaining [1] 2 }, error [1] 8 }
        let both = [0x30, 0x08, 0xa0, 0x03, 0x81, 0x01, 0x02, 0x81, 0x01, 0x08];
        assert_eq!(ppolicy_error(&both), Some(8));
        assert_eq!(ppolicy_error(&[0x30, 0x00]), None);
        for broken in [&[][..], &[0x30], &[0x30, 0x05, 0x81], &[0x30, 0x84, 0xff]] {
            assert_eq!(ppolicy_error(broken), None, "{broken:?}");
        }
    }

    #[test]
    fn openldap_refusals_map_to_their_codes() {
        assert_eq!(from_openldap(Some(6), ""), Refusal::TooShort);
        assert_eq!(
            from_openldap(None, "Password is in history of old passwords"),
            Refusal::InHistory
        );
        assert_eq!(
            from_openldap(None, "Password fails quality checking policy"),
            Refusal::Quality
        );
        assert_eq!(from_openldap(None, "whatever"), Refusal::Other);
    }

    #[test]
    fn active_directory_refusals_map_to_their_codes() {
        let ad = |s: &str| {
            from_active_directory(&format!(
                "0000052D: Constraint violation - check_password_restrictions: {s}"
            ))
        };
        assert_eq!(
            ad("the password is too short. It should be equal or longer than 7 characters!"),
            Refusal::TooShort
        );
        assert_eq!(
            ad("the password does not meet the complexity criteria!"),
            Refusal::Quality
        );
        assert_eq!(
            ad("the password was already used (in history)!"),
            Refusal::InHistory
        );
        assert_eq!(ad("password is too young to change!"), Refusal::TooYoung);
        assert!(is_wrong_old_password_ad(
            "00000056: Constraint violation - check_password_restrictions: The old password specified doesn't match!"
        ));
        assert!(!is_wrong_old_password_ad("0000052D: Constraint violation"));
    }
}
