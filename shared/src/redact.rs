//! Contact data as it may appear in a log line: never whole. A phone number keeps its last
//! three digits, an email address its domain, enough to tell two apart when reading a log
//! beside the table, not enough to reach the person.

/// A contacts-table key (`phone#+447700900106`, `email#ann@example.com`), or a bare phone
/// number or email address, masked.
pub fn contact(value: &str) -> String {
    let (kind, rest) = match value.split_once('#') {
        Some((kind, rest)) => (Some(kind), rest),
        None => (None, value),
    };
    let masked = match rest.rsplit_once('@') {
        Some((_, domain)) => format!("…@{domain}"),
        None => {
            let digits: Vec<char> = rest.chars().filter(char::is_ascii_digit).collect();
            let last: String = digits[digits.len().saturating_sub(3)..].iter().collect();
            format!("…{last}")
        }
    };
    match kind {
        Some(kind) => format!("{kind}#{masked}"),
        None => masked,
    }
}

#[cfg(test)]
mod tests {
    use super::contact;

    #[test]
    fn a_phone_keeps_its_last_three_digits_only() {
        assert_eq!(contact("phone#+447700900106"), "phone#…106");
        assert_eq!(contact("+447700900106"), "…106");
        assert!(!contact("phone#+447700900106").contains("7700900"));
    }

    #[test]
    fn an_email_keeps_its_domain_only() {
        assert_eq!(contact("email#ann.example@acme.example"), "email#…@acme.example");
        assert_eq!(contact("ann@acme.example"), "…@acme.example");
    }

    #[test]
    fn short_or_odd_values_are_masked_too() {
        assert_eq!(contact("phone#12"), "phone#…12");
        assert_eq!(contact(""), "…");
    }
}
