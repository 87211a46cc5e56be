//! Phone numbers: parsed with libphonenumber's metadata (the `phonenumber`
//! crate) and stored as E.164. Only numbers from the admin's allowed regions,
//! and only types that can receive a call or text, are accepted
//! (docs/security.md #39: premium and international-network ranges are refused).

use phonenumber::{Mode, PhoneNumber, country};
use sspr_proto::PhoneChannel;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("not a phone number")]
    Invalid,
    #[error("numbers from this country or network are not allowed")]
    RegionNotAllowed,
    #[error("this kind of number cannot receive codes")]
    UnsupportedType,
}

/// A valid number, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct E164 {
    pub number: String,
    pub region: String,
}

/// Parses what the user typed. `region` is the country picked in the form
/// (ISO 3166 alpha-2), used when the number has no `+` prefix. A number
/// known to be a fixed line is refused for text messages: the text would
/// never arrive (or be read out by a premium gateway), so only a call goes
/// there (docs/security.md #39).
pub fn parse(
    input: &str,
    region: &str,
    allowed: &[String],
    channel: PhoneChannel,
) -> Result<E164, PhoneError> {
    let input = input.trim();
    // Letters (vanity numbers, "ext", "x123") and anything long are refused
    // before parsing: codes go to plain numbers only.
    if input.is_empty()
        || input.len() > 32
        || !input
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'))
    {
        return Err(PhoneError::Invalid);
    }
    let hint: Option<country::Id> = region.trim().to_ascii_uppercase().parse().ok();
    let number: PhoneNumber = phonenumber::parse(hint, input).map_err(|_| PhoneError::Invalid)?;
    // No region: either digits that fit none of their calling code's
    // regions (`050-234-5678` typed with "US (+1)" selected: a mistyped
    // number, so "check the country and the digits", issue 14), or an
    // international network (+800, +882, +883…), which has no country and
    // is refused whatever the digits, as are regions the admin did not allow.
    let Some(id) = number.country().id() else {
        return Err(if has_geographic_region(number.code().value()) {
            PhoneError::Invalid
        } else {
            PhoneError::RegionNotAllowed
        });
    };
    // Wrong digits are a typing mistake whatever the country.
    if !phonenumber::is_valid(&number) {
        return Err(PhoneError::Invalid);
    }
    let region = id.as_ref().to_owned();
    if !allowed.iter().any(|r| r.eq_ignore_ascii_case(&region)) {
        return Err(PhoneError::RegionNotAllowed);
    }
    use phonenumber::Type;
    use phonenumber::metadata::DATABASE;
    match (number.number_type(&DATABASE), channel) {
        (Type::Mobile | Type::FixedLineOrMobile, _) | (Type::FixedLine, PhoneChannel::Voice) => {}
        _ => return Err(PhoneError::UnsupportedType),
    }
    Ok(E164 {
        number: number.format().mode(Mode::E164).to_string(),
        region,
    })
}

/// Whether calling code `code` belongs to at least one country (not only
/// to international networks, which libphonenumber files under "001").
fn has_geographic_region(code: u16) -> bool {
    phonenumber::metadata::DATABASE
        .region(&code)
        .is_some_and(|regions| regions.iter().any(|r| *r != "001"))
}

/// `+972501234567` → `*********67`: enough for the owner to recognise.
pub fn mask(e164: &str) -> String {
    let digits: Vec<char> = e164.chars().collect();
    let keep = 2.min(digits.len());
    let hidden = digits.len() - keep;
    format!(
        "{}{}",
        "*".repeat(hidden),
        digits[hidden..].iter().collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec!["IL".into(), "US".into()]
    }

    #[test]
    fn national_and_international_forms_become_e164() {
        assert_eq!(
            parse("050-234-5678", "IL", &allowed(), PhoneChannel::Sms).map(|e| e.number),
            Ok("+972502345678".into())
        );
        assert_eq!(
            parse("+972 50 234 5678", "US", &allowed(), PhoneChannel::Sms).map(|e| e.number),
            Ok("+972502345678".into())
        );
        assert_eq!(
            parse("(201) 555-0123", "US", &allowed(), PhoneChannel::Sms).map(|e| e.region),
            Ok("US".into())
        );
    }

    #[test]
    fn bad_numbers_are_refused_with_a_reason() {
        assert_eq!(
            parse("1-800-FLOWERS", "US", &allowed(), PhoneChannel::Sms),
            Err(PhoneError::Invalid)
        );
        assert_eq!(
            parse("050 123 4567 x12", "IL", &allowed(), PhoneChannel::Sms),
            Err(PhoneError::Invalid)
        );
        assert_eq!(
            parse("12", "IL", &allowed(), PhoneChannel::Sms),
            Err(PhoneError::Invalid)
        );
        // 0501… is not an Israeli mobile range (libphonenumber metadata).
        assert_eq!(
            parse("050-123-4567", "IL", &allowed(), PhoneChannel::Sms),
            Err(PhoneError::Invalid)
        );
        assert_eq!(
            parse("", "IL", &allowed(), PhoneChannel::Sms),
            Err(PhoneError::Invalid)
        );
        assert_eq!(
            parse("+44 7400 123456", "IL", &allowed(), PhoneChannel::Sms),
            Err(PhoneError::RegionNotAllowed)
        );
        assert_eq!(
            parse("+882 1234 5678 90", "IL", &allowed(), PhoneChannel::Sms),
            Err(PhoneError::RegionNotAllowed)
        );
        // Digits that fit no region of the picked country's calling code
        // are mistyped, not from a refused country (issue 14).
        for typo in ["050-234-5678", "123-456-7890", "12345"] {
            assert_eq!(
                parse(typo, "US", &allowed(), PhoneChannel::Sms),
                Err(PhoneError::Invalid),
                "{typo}"
            );
        }
        // Premium-rate and toll-free numbers cannot receive codes.
        assert_eq!(
            parse("+1 900 234 5678", "US", &allowed(), PhoneChannel::Sms),
            Err(PhoneError::UnsupportedType)
        );
        assert_eq!(
            parse("+1 800 234 5678", "US", &allowed(), PhoneChannel::Sms),
            Err(PhoneError::UnsupportedType)
        );
    }

    /// docs/security.md #39: a text to a fixed line never arrives.
    #[test]
    fn fixed_lines_take_calls_not_texts() {
        // +972 2 … is a Jerusalem landline.
        assert_eq!(
            parse("02-623-4567", "IL", &allowed(), PhoneChannel::Sms),
            Err(PhoneError::UnsupportedType)
        );
        assert_eq!(
            parse("02-623-4567", "IL", &allowed(), PhoneChannel::Voice).map(|e| e.number),
            Ok("+97226234567".into())
        );
        // US numbers may be either: both channels.
        assert!(parse("(201) 555-0123", "US", &allowed(), PhoneChannel::Sms).is_ok());
    }

    #[test]
    fn masks_keep_the_last_two_digits() {
        assert_eq!(mask("+972502345678"), "***********78");
    }
}
