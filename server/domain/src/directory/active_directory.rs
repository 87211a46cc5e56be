//! What Active Directory (and Samba AD) does its own way: the password
//! attribute's encoding, the binary object id and the account flags.

/// `unicodePwd` takes the password in double quotes, UTF-16LE, as raw
/// bytes (MS-ADTS 3.1.1.3.1.5.2); the server only accepts it over TLS.
pub fn unicode_pwd(password: &str) -> Vec<u8> {
    let quoted = format!("\"{password}\"");
    quoted.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// `objectGUID` is 16 bytes with the first three fields little-endian;
/// shown the way AD tools show it (`{…}` without braces), so the id an
/// admin reads in AD matches the one sspr keeps.
pub fn guid_string(bytes: &[u8]) -> Option<String> {
    let b: &[u8; 16] = bytes.try_into().ok()?;
    Some(uuid::Uuid::from_bytes_le(*b).hyphenated().to_string())
}

/// `userAccountControl` bit ACCOUNTDISABLE.
const ACCOUNTDISABLE: u32 = 0x0002;

pub fn is_disabled(user_account_control: Option<&str>) -> bool {
    user_account_control
        .and_then(|v| v.trim().parse::<u32>().ok())
        .is_some_and(|v| v & ACCOUNTDISABLE != 0)
}

/// `lockoutTime` is a FILETIME; 0 (or absent) means not locked. (AD also
/// unlocks by itself after the lockout duration without clearing it, so
/// a non-zero value may be stale; the bind's own `data 775` is what a
/// sign-in trusts.)
pub fn is_locked(lockout_time: Option<&str>) -> bool {
    lockout_time
        .and_then(|v| v.trim().parse::<i64>().ok())
        .is_some_and(|v| v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_pwd_is_the_quoted_password_in_utf16le() {
        assert_eq!(
            unicode_pwd("ab"),
            vec![b'"', 0, b'a', 0, b'b', 0, b'"', 0],
            "ASCII"
        );
        // Non-ASCII and a character outside the BMP (a surrogate pair).
        let bytes = unicode_pwd("ä密😀");
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(String::from_utf16(&units).unwrap(), "\"ä密😀\"");
        assert_eq!(units.len(), 2 + 1 + 1 + 2);
    }

    #[test]
    fn the_guid_reads_like_ad_tools_show_it() {
        let raw = [
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ];
        assert_eq!(
            guid_string(&raw).unwrap(),
            "00112233-4455-6677-8899-aabbccddeeff"
        );
        assert_eq!(guid_string(&raw[..15]), None);
    }

    #[test]
    fn account_flags() {
        assert!(is_disabled(Some("514")));
        assert!(!is_disabled(Some("512")));
        assert!(!is_disabled(Some("garbage")));
        assert!(!is_disabled(None));
        assert!(is_locked(Some("133497621230000000")));
        assert!(!is_locked(Some("0")));
        assert!(!is_locked(None));
    }
}
