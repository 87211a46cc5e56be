//! The `Accept-Language` header (RFC 9110 §12.5.4), read once for the
//! page's language (`app::locale`) and the browser's country (the phone
//! picker, `sspr_domain::phone`).

/// The header's language ranges, most wanted first: by q-value, then in
/// the header's order. Ranges refused with `q=0` and the `*` wildcard are
/// left out.
pub fn ranked(header: &str) -> Vec<&str> {
    let mut ranked: Vec<(f32, usize, &str)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
            (q > 0.0 && !tag.is_empty() && tag != "*").then_some((q, i, tag))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().map(|(_, _, tag)| tag).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_come_most_wanted_first() {
        assert_eq!(ranked("de;q=0.5, en-GB ,fr;q=0.9"), ["en-GB", "fr", "de"]);
        assert_eq!(ranked("ja, ko"), ["ja", "ko"]);
        assert_eq!(ranked("he;q=0, *, ar;q=abc, pt"), ["pt"]);
        assert!(ranked("").is_empty());
    }
}
