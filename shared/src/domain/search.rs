//! `GET /members?q=`: who a search finds, and the index keys that find them without reading
//! the organisation.
//!
//! The rule: a member matches when every word of `q` starts a word of their name (case- and
//! accent-insensitively: "ann" finds "Ann Example" and "Mary-Ann Lee", "emile" finds
//! "Émile"); for administrators also when their email starts with `q`, or when `q` holds 3
//! or more digits that start their phone's national number (with or without one trunk
//! prefix 0, as dialled at home) or end their phone number. A `q` made only of digits and
//! phone punctuation (`+-(). `) is one word, its digits; written with a leading `+` it is an
//! international number, whose digits start the whole number, and it finds no name. A `q`
//! with no letter or digit finds nobody. A plain member cannot find anyone by a contact they
//! are not shown.
//!
//! The index: every member is written under the [`terms`] that find them (every start of a
//! word of their name, up to [`TERM_CHARS`] characters; for administrators also the starts
//! of their email's first word and of their phone's numbers), and a search reads the one
//! term [`Search::key`] names. `key(q)` is a term of every member `q` finds (the tests below
//! check it over every fragment of many members): the index gives the candidates, this rule
//! the answer.

use crate::domain::Member;
use std::collections::BTreeSet;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Fewer digits than this find no phone: they would match most of the organisation.
pub const MIN_PHONE_DIGITS: usize = 3;

/// The longest start of a word kept as a term; a longer `q` reads the term of its first
/// this many characters, and the rule keeps the members that match the rest.
pub const TERM_CHARS: usize = 8;

/// Who a search is for: a term made from a contact is only in the administrators' index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Everyone: names only.
    Members,
    /// Administrators: names and contacts.
    Administrators,
}

impl Audience {
    pub fn of(contacts: bool) -> Self {
        if contacts { Self::Administrators } else { Self::Members }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Members => "names",
            Self::Administrators => "contacts",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The words of `q`, folded (a phone-like `q`: its digits, as one word).
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
        let international = phone_like && text.starts_with('+');
        let all_digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let words = match (phone_like, international) {
            (false, _) => words(raw),
            (true, true) => Vec::new(),
            (true, false) => Some(all_digits.clone()).filter(|d| !d.is_empty()).into_iter().collect(),
        };
        let digits = (contacts && phone_like && all_digits.len() >= MIN_PHONE_DIGITS).then_some(all_digits);
        Self { words, international, text, digits, contacts }
    }

    pub fn finds(&self, member: &Member) -> bool {
        self.finds_by_name(&member.name)
            || (self.contacts
                && !self.words.is_empty()
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
        let dialled = digits.strip_prefix('0').unwrap_or(digits);
        national.starts_with(digits.as_str())
            || (dialled.len() >= MIN_PHONE_DIGITS && national.starts_with(dialled))
            || number.ends_with(digits.as_str())
    }

    /// The one index term that every member this search finds is written under, or `None`
    /// when it can find nobody (then nothing needs reading).
    pub fn key(&self) -> Option<String> {
        if self.international {
            let digits = self.digits.as_deref()?;
            let national = national_number(digits);
            return Some(if national.len() >= MIN_PHONE_DIGITS { term(national) } else { format!("+{digits}") });
        }
        // Several words apart (no email has a space): the longest is the likeliest rare.
        // Otherwise the first, which starts an email as it starts a name.
        let word = if self.text.contains(char::is_whitespace) {
            self.words.iter().rev().max_by_key(|word| word.chars().count())
        } else {
            self.words.first()
        };
        word.map(|word| term(word))
    }

    /// Whether the members under [`Search::key`] are, but for rare ones (an email whose
    /// first word is folded), all found: one word of letters no longer than a term. A page
    /// of such a search reads no more items than it shows, and one more.
    pub fn narrow(&self) -> bool {
        match self.words.as_slice() {
            [word] => {
                !self.international && word.chars().count() <= TERM_CHARS && !word.chars().all(|c| c.is_ascii_digit())
            }
            _ => false,
        }
    }
}

/// The term of the start of a word: its first [`TERM_CHARS`] characters; digits as `#` and
/// the digits without one leading 0 (so that "07700" and "7700", as dialled at home and as
/// written, meet).
fn term(start: &str) -> String {
    let start: String = start.chars().take(TERM_CHARS).collect();
    if start.chars().all(|c| c.is_ascii_digit()) {
        format!("#{}", start.strip_prefix('0').unwrap_or(&start))
    } else {
        start
    }
}

/// Every start of `word`, as terms.
fn starts(word: &str, terms: &mut BTreeSet<String>) {
    let mut start = String::new();
    for c in word.chars().take(TERM_CHARS) {
        start.push(c);
        terms.insert(term(&start));
    }
}

/// The terms a member is found by, in one audience's index.
pub fn terms(member: &Member, audience: Audience) -> BTreeSet<String> {
    let mut terms = BTreeSet::new();
    for word in words(&member.name) {
        starts(&word, &mut terms);
    }
    if audience == Audience::Members {
        return terms;
    }
    if let Some(first) = member.email.as_deref().and_then(|email| words(email).into_iter().next()) {
        starts(&first, &mut terms);
    }
    if let Some(phone) = &member.phone {
        let number: String = phone.chars().filter(char::is_ascii_digit).collect();
        let national = national_number(&number);
        let code = number.len() - national.len();
        for len in MIN_PHONE_DIGITS..=number.len() {
            // The end of the number, and its start written with +: in full while its national
            // part is too short to be searched by (the rest is found by the national start).
            terms.insert(term(&number[number.len() - len..]));
            if len < code + MIN_PHONE_DIGITS {
                terms.insert(format!("+{}", &number[..len]));
            }
        }
        for len in 1..=national.len() {
            let start = &national[..len];
            // The national number's start, and the same dialled with a trunk 0.
            if len >= MIN_PHONE_DIGITS {
                terms.insert(term(start));
            }
            if len + 1 >= MIN_PHONE_DIGITS {
                terms.insert(term(&format!("0{start}")));
            }
        }
    }
    terms
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
        Member::new("org", UserId::parse("u-1").unwrap(), name, Role::Member, MemberStatus::Verified)
            .reached_at(Some(phone.into()), email.map(str::to_owned))
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

#[cfg(test)]
mod index_tests {
    use super::*;
    use crate::domain::{MemberStatus, Role, UserId};

    fn member(name: &str, email: Option<&str>, phone: &str) -> Member {
        Member::new("org", UserId::parse("u-1").unwrap(), name, Role::Member, MemberStatus::Verified)
            .reached_at(Some(phone.into()), email.map(str::to_owned))
    }

    /// Every piece of `text`: each start, each end, each middle run.
    fn pieces(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut pieces = Vec::new();
        for from in 0..chars.len() {
            for to in from + 1..=chars.len() {
                pieces.push(chars[from..to].iter().collect());
            }
        }
        pieces
    }

    /// Searches shaped as people type them: pieces of the name, email and number, upper-cased,
    /// digits spaced and bracketed, with + and a trunk 0, and several words.
    fn searches_about(m: &Member) -> Vec<String> {
        let number: String = m.phone.as_deref().unwrap_or("").chars().filter(char::is_ascii_digit).collect();
        let national = national_number(&number).to_owned();
        let mut qs = pieces(&m.name);
        qs.extend(pieces(m.email.as_deref().unwrap_or("")));
        for piece in pieces(&number) {
            qs.push(format!("+{piece}"));
            qs.push(format!("0{piece}"));
            qs.push(format!("({}) {}", &piece[..piece.len() / 2], &piece[piece.len() / 2..]));
            qs.push(piece);
        }
        for len in 1..=national.len() {
            qs.push(format!("0{}", &national[..len]));
            qs.push(format!("(0{}) {}", &national[..len], &national[len..]));
        }
        let name_words = words(&m.name);
        for a in &name_words {
            for b in &name_words {
                qs.push(format!("{} {}", a.chars().take(2).collect::<String>(), b));
            }
        }
        qs.extend(qs.clone().iter().map(|q| q.to_uppercase()));
        qs
    }

    #[test]
    fn every_member_a_search_finds_is_under_its_key() {
        let members = [
            member("Ann Example", Some("ann.e@acme.example"), "+447700900123"),
            member("Mary-Ann Lee", Some("mary-ann@acme.example"), "+15551234567"),
            member("Émile Zoë", Some("émile.zoë@exemple.fr"), "+33612345678"),
            member("Agent 007 Bond", Some("007@mi6.example"), "+390612345678"),
            member("Christopher Montgomery-Wellington", Some("c.montgomery-wellington@x.example"), "+79161234567"),
            member("Zoë 3rd", Some("0123@x.example"), "+353851234567"),
            member("李 小龙", None, "+8613800138000"),
        ];
        let mut found = 0;
        for m in &members {
            for contacts in [false, true] {
                let terms = terms(m, Audience::of(contacts));
                for q in searches_about(m) {
                    let search = Search::new(&q, contacts);
                    if search.finds(m) {
                        found += 1;
                        let key = search.key().unwrap_or_else(|| panic!("{q:?} finds {} but has no key", m.name));
                        assert!(
                            terms.contains(&key),
                            "{q:?} finds {} ({contacts}) but its key {key:?} is not a term",
                            m.name
                        );
                    }
                }
            }
        }
        assert!(found > 2_000, "the check must see many finds, saw {found}");
    }

    #[test]
    fn a_search_that_can_find_nobody_has_no_key() {
        for q in ["@", "--", "+", "()", "+12"] {
            let search = Search::new(q, true);
            assert_eq!(search.key(), None, "{q:?}");
        }
        assert_eq!(Search::new("+447700", false).key(), None, "an international number finds no name");
    }

    #[test]
    fn keys_are_short_and_digits_meet_with_or_without_a_trunk_0() {
        assert_eq!(Search::new("Christopher", false).key().unwrap(), "christop");
        assert_eq!(Search::new("07700 900", true).key(), Search::new("7700900", true).key());
        assert_eq!(Search::new("+44 7700 900", true).key(), Search::new("7700900", true).key());
        assert_eq!(Search::new("+447", true).key().unwrap(), "+447");
        assert_eq!(Search::new("an zoë", true).key().unwrap(), "zoe", "the longest of words apart");
        assert_eq!(Search::new("mary-ann", true).key().unwrap(), "mary", "the first of words joined");
    }

    #[test]
    fn a_plain_members_index_holds_no_contact() {
        let ann = member("Ann Example", Some("zed@acme.example"), "+447700900123");
        let names = terms(&ann, Audience::Members);
        assert!(names.iter().all(|t| "ann example".contains(t.as_str())), "{names:?}");
        let all = terms(&ann, Audience::Administrators);
        assert!(all.contains("zed") && all.contains("#7700") && all.contains("#123") && all.contains("+447"));
        assert!(all.len() < 60, "{} terms", all.len());
    }
}
