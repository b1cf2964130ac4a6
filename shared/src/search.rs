//! `GET /members?q=`: who a search finds. A member matches when every word of `q` starts a
//! word of their name (case- and accent-insensitively: "ann" finds "Ann Example" and
//! "Mary-Ann Lee", "emile" finds "Émile"); for administrators also when their email starts
//! with `q`, or when `q` holds 3 or more digits that start their phone's national number
//! (with or without its trunk prefix 0, as dialled at home) or end their phone number (`q`
//! written with a leading `+`: that start their whole number).
//! A plain member cannot find anyone by a contact they are not shown.

use crate::domain::Member;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Fewer digits than this find no phone: they would match most of the organisation.
pub const MIN_PHONE_DIGITS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The words of `q`, folded.
    pub words: Vec<String>,
    /// `q` lower-cased and trimmed: an email's start.
    pub text: String,
    /// The digits to look for in phones: only for administrators, and when `q` is a phone
    /// fragment (digits, spaces and `+-().`) with at least [`MIN_PHONE_DIGITS`] digits.
    pub digits: Option<String>,
    /// `q` began with `+`: its digits start the whole number, country code included.
    pub international: bool,
    pub contacts: bool,
}

/// Lower-cased, accents dropped, split into words at anything that is not a letter or digit.
pub fn words(text: &str) -> Vec<String> {
    let folded: String = text.nfd().filter(|c| !is_combining_mark(*c)).collect::<String>().to_lowercase();
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

impl Search {
    pub fn new(raw: &str, contacts: bool) -> Self {
        let text = raw.trim().to_lowercase();
        let phone_like = text.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let digits = (contacts && phone_like && digits.len() >= MIN_PHONE_DIGITS).then_some(digits);
        Self { words: words(raw), international: text.starts_with('+'), text, digits, contacts }
    }

    pub fn finds(&self, member: &Member) -> bool {
        self.finds_by_name(&member.name)
            || (self.contacts
                && member.email.as_deref().is_some_and(|email| email.to_lowercase().starts_with(&self.text)))
            || member.phone.as_deref().is_some_and(|phone| self.finds_by_phone(phone))
    }

    fn finds_by_name(&self, name: &str) -> bool {
        let name_words = words(name);
        !self.words.is_empty() && self.words.iter().all(|w| name_words.iter().any(|n| n.starts_with(w.as_str())))
    }

    fn finds_by_phone(&self, phone: &str) -> bool {
        let Some(digits) = &self.digits else { return false };
        let number: String = phone.chars().filter(char::is_ascii_digit).collect();
        if self.international {
            return number.starts_with(digits.as_str());
        }
        // Written as dialled at home, a national number may carry its trunk prefix (0).
        let national = national_number(&number);
        let dialled = digits.trim_start_matches('0');
        national.starts_with(digits.as_str())
            || (dialled.len() >= MIN_PHONE_DIGITS && national.starts_with(dialled))
            || number.ends_with(digits.as_str())
    }
}

/// The national number of an E.164 number's digits: what follows its country calling code
/// (1 to 3 digits; ITU-T E.164's assignments: 1 and 7 alone, the 2-digit codes below, every
/// other code 3 digits).
pub fn national_number(digits: &str) -> &str {
    const TWO_DIGIT: [&str; 44] = [
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
        "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84",
        "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    let code = if digits.starts_with('1') || digits.starts_with('7') {
        1
    } else if TWO_DIGIT.iter().any(|code| digits.starts_with(code)) {
        2
    } else {
        3
    };
    digits.get(code..).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{MemberStatus, Role, UserId};

    fn member(name: &str, email: Option<&str>, phone: &str) -> Member {
        Member {
            org_id: "org".into(),
            user_id: UserId::parse("u-1").unwrap(),
            name: name.into(),
            phone: Some(phone.into()),
            email: email.map(str::to_owned),
            role: Role::Member,
            status: MemberStatus::Verified,
            invited_at: None,
            invited_by: None,
            last_invitation_sent_at: None,
            last_resent_at: None,
            resend_pending: None,
            cancel_pending: None,
            disabled_by: None,
            resend_attempted: None,
            last_resend_id: None,
        }
    }

    fn finds(q: &str, admin: bool, m: &Member) -> bool {
        Search::new(q, admin).finds(m)
    }

    #[test]
    fn a_word_of_the_name_starting_with_q_finds_whatever_case_or_accent() {
        let ann = member("Ann Example", None, "+447700900123");
        let mary = member("Mary-Ann Lee", None, "+447700900124");
        let emile = member("Émile Zoë", None, "+33612345678");
        for q in ["ann", "ANN", "Ex", "ann ex", "ex ann"] {
            assert!(finds(q, false, &ann), "{q}");
        }
        assert!(finds("ann", false, &mary) && finds("mary lee", false, &mary) && finds("lee", false, &mary));
        assert!(finds("emile", false, &emile) && finds("ZOE", false, &emile) && finds("émi", false, &emile));
        for q in ["nn", "xample", "ann z", "mary-ann-lee-x"] {
            assert!(!finds(q, true, &ann) && !finds(q, true, &mary), "{q}");
        }
    }

    #[test]
    fn an_admin_finds_by_the_start_of_an_email_a_member_never_does() {
        let ann = member("Ann Example", Some("ann.e@acme.example"), "+447700900123");
        assert!(finds("ann.e@ac", true, &ann));
        assert!(finds("ANN.E@", true, &ann));
        assert!(!finds("acme.example", true, &ann), "the middle of an email finds nobody");
        assert!(!finds("ann.e@ac", false, &ann));
    }

    #[test]
    fn an_admin_finds_by_the_start_of_the_national_number_or_the_end_of_the_number() {
        let ann = member("Ann", None, "+447700900123");
        for q in ["7700", "7700 900 123", "(07700)", "07700 900123", "0123", "123", "+44 7700", "+447700900123"] {
            assert!(finds(q, true, &ann), "{q}");
        }
        assert!(!finds("900", true, &ann), "the middle of a number finds nobody");
        assert!(!finds("23", true, &ann), "fewer than three digits find no phone");
        assert!(!finds("447700", true, &ann), "without a +, the country code is not the national number's start");
        assert!(!finds("7700", false, &ann), "a plain member cannot find by a phone");
    }

    #[test]
    fn national_numbers_follow_the_country_codes_length() {
        assert_eq!(national_number("447700900123"), "7700900123");
        assert_eq!(national_number("15551234567"), "5551234567");
        assert_eq!(national_number("79161234567"), "9161234567");
        assert_eq!(national_number("353851234567"), "851234567");
        assert_eq!(national_number("33612345678"), "612345678");
    }
}
