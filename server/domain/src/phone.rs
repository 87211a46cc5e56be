//! Phone numbers: parsed with libphonenumber's metadata (the `phonenumber`
//! crate) and stored as E.164. Only numbers from the admin's allowed regions,
//! and only types that can receive a call or text, are accepted
//! (docs/security.md #39: premium and international-network ranges are refused).

use icu_experimental::displaynames::DisplayNamesOptions;
use icu_experimental::displaynames::multi::RegionDisplayNames;
use icu_locale_core::Locale;
use icu_locale_core::subtags::Region;
use phonenumber::{Mode, PhoneNumber, country};
use sspr_proto::PhoneChannel;
use sspr_proto::views::PhoneRegion;

use crate::policy::Policy;

/// Where the person typing a phone number is, as their request tells: the
/// page's language (to name the countries in) and the browser's country
/// (see [`region_of_accept_language`]), if it says one.
#[derive(Clone, Copy, Debug)]
pub struct Place<'a> {
    pub locale: &'a str,
    pub browser_region: Option<&'a str>,
}

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

/// The allowed countries in the admin's order (the first is usually the
/// organisation's own), each named in `locale` by CLDR. A code CLDR does not
/// name keeps its code as its name; one without a calling code is left out
/// (it could not be parsed either).
pub fn regions(codes: &[String], locale: &str) -> Vec<PhoneRegion> {
    // A tag falls back to its language (`ar-XB` to Arabic, `en-XA` to
    // English), an unknown one to the root language (English).
    let locale: Locale = locale.parse().unwrap_or(Locale::UNKNOWN);
    let names = RegionDisplayNames::try_new(locale.into(), DisplayNamesOptions::default()).ok();
    codes
        .iter()
        .filter_map(|code| {
            let calling_code = phonenumber::metadata::DATABASE.by_id(code)?.country_code();
            let name = code
                .parse::<Region>()
                .ok()
                .and_then(|r| names.as_ref()?.of(r))
                .map_or_else(|| code.clone(), str::to_owned);
            Some(PhoneRegion {
                code: code.clone(),
                name,
                calling_code,
            })
        })
        .collect()
}

/// The country the picker starts on: the browser's when the admin allows
/// it, else the organisation's default.
pub fn default_region(policy: &Policy, browser_region: Option<&str>) -> String {
    browser_region
        .and_then(|r| {
            policy
                .phone_regions
                .iter()
                .find(|a| a.eq_ignore_ascii_case(r))
                .cloned()
        })
        .unwrap_or_else(|| policy.default_phone_region.clone())
}

/// The region of the first language range in an `Accept-Language` header
/// that has one: `de-CH,de;q=0.9` → `CH`. Highest q-value first.
pub fn region_of_accept_language(header: &str) -> Option<String> {
    sspr_proto::accept_language::ranked(header)
        .into_iter()
        .find_map(|tag| {
            let locale: Locale = tag.parse().ok()?;
            locale.id.region.map(|r| r.as_str().to_owned())
        })
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
    fn countries_are_named_in_the_page_language() {
        let codes = vec!["JP".to_owned(), "IL".to_owned(), "ZZZ".to_owned()];
        let named = |locale| {
            regions(&codes, locale)
                .into_iter()
                .map(|r| (r.code, r.name, r.calling_code))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            named("en"),
            [
                ("JP".into(), "Japan".into(), 81),
                ("IL".into(), "Israel".into(), 972)
            ]
        );
        assert_eq!(named("ja-JP")[0].1, "日本");
        assert_eq!(named("he-IL")[1].1, "ישראל");
        assert_eq!(named("zh-TW")[0].1, "日本");
        assert_eq!(named("de")[1].1, "Israel");
        assert_eq!(named("en-XA")[0].1, "Japan");
    }

    #[test]
    fn the_browser_region_is_its_first_language_with_one() {
        assert_eq!(
            region_of_accept_language("de-CH,de;q=0.9"),
            Some("CH".into())
        );
        assert_eq!(
            region_of_accept_language("de;q=0.9,en-GB;q=0.8"),
            Some("GB".into())
        );
        assert_eq!(
            region_of_accept_language("fr;q=0.5,ja-JP"),
            Some("JP".into())
        );
        assert_eq!(region_of_accept_language("he,*"), None);
        assert_eq!(region_of_accept_language("zh-Hant-TW"), Some("TW".into()));
        assert_eq!(region_of_accept_language("es-419"), Some("419".into()));
    }

    #[test]
    fn masks_keep_the_last_two_digits() {
        assert_eq!(mask("+972502345678"), "***********78");
    }
}
