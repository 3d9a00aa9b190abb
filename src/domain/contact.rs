//! Contact details as the clinic compares them.

use unicode_normalization::UnicodeNormalization;

/// An email as stored and compared: in Unicode NFC (so a decomposed `é` is the same letter as a
/// composed one) with its domain case-folded (domains are case-insensitive). The local part
/// keeps its case; the duplicate rule compares it case-insensitively as well.
pub fn normalize_email(email: &str) -> String {
    let composed: String = email.nfc().collect();
    match composed.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => composed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_accents_and_domain_case_do_not_make_another_address() {
        let composed = "jos\u{e9}@Clinic.EXAMPLE";
        let decomposed = "jose\u{301}@clinic.example";
        assert_eq!(normalize_email(composed), normalize_email(decomposed));
        assert_eq!(normalize_email(decomposed), "jos\u{e9}@clinic.example");
        assert_eq!(
            normalize_email("A@\u{C9}COLE.example"),
            "A@\u{e9}cole.example"
        );
    }
}
