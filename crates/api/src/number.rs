//! Claim numbers: `RC-2026-7KQ3-MZ8D-X41V`, easy to read aloud and impossible to guess.
//!
//! What this module promises:
//! - A number is `RC-`, the year of filing, then 12 characters of Crockford base32 in
//!   three groups: 11 drawn from the thread's cryptographically secure generator (55
//!   random bits, about 3.6 × 10¹⁶ numbers per year) and a check character.
//! - The check character (Luhn mod 32 over the year's digits and the 11 random ones)
//!   catches every single mistyped character and most swaps of two neighbours, so a typo
//!   is refused before any lookup.
//! - Parsing ignores case, spaces and dashes (and the `RC` prefix may be left out), reads
//!   O as 0 and I or L as 1 as Crockford's encoding does, refuses everything else, and
//!   gives the canonical form back.
//! - A number alone opens nothing: access also takes the client's email, and repeated
//!   failures are rate limited (see [`crate::ratelimit`]).

use rand::Rng;

/// Crockford's base32 alphabet: digits and capitals without I, L, O and U.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub const PREFIX: &str = "RC";

/// Random characters of a number; a check character follows them.
const RANDOM_CHARS: usize = 11;
/// Characters after the year: the random ones and the check character.
const BODY_CHARS: usize = RANDOM_CHARS + 1;
/// Longer input is refused without a look: the canonical form has 22 characters.
const MAX_INPUT: usize = 64;
/// Years a number may carry.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=9999;

/// Why a text is not a claim number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("a claim number is at most {MAX_INPUT} characters")]
    TooLong,
    #[error("not shaped like a claim number (RC-YYYY-XXXX-XXXX-XXXX)")]
    Malformed,
    #[error("the check character does not match: a character is mistyped")]
    BadCheck,
}

/// A new number for a claim filed in `year`. Years outside 2000–9999 are clamped: a clock
/// that far off has bigger consequences than a number's year.
pub fn generate(year: i32) -> String {
    let year = year.clamp(*YEARS.start(), *YEARS.end());
    let mut rng = rand::rng();
    let mut values = [0u8; BODY_CHARS];
    for value in &mut values[..RANDOM_CHARS] {
        *value = rng.random_range(0..32);
    }
    values[RANDOM_CHARS] = check_value(year, &values[..RANDOM_CHARS]);
    format_number(year, &values)
}

/// The canonical form of `input`, or why it is not a claim number.
pub fn parse(input: &str) -> Result<String, NumberError> {
    if input.len() > MAX_INPUT {
        return Err(NumberError::TooLong);
    }
    let mut compact = Vec::with_capacity(MAX_INPUT);
    for c in input.chars() {
        // Direction marks and isolates come along when a number is copied from Arabic text.
        if c.is_whitespace() || is_dash(c) || claimdesk_domain::is_invisible(c) {
            continue;
        }
        if !c.is_ascii() {
            return Err(NumberError::Malformed);
        }
        compact.push(c.to_ascii_uppercase() as u8);
    }

    let rest = compact.strip_prefix(PREFIX.as_bytes()).unwrap_or(&compact);
    if rest.len() != 4 + BODY_CHARS {
        return Err(NumberError::Malformed);
    }
    let mut year = 0;
    for &c in &rest[..4] {
        match decode(c) {
            Some(digit) if digit < 10 => year = year * 10 + i32::from(digit),
            _ => return Err(NumberError::Malformed),
        }
    }
    if !YEARS.contains(&year) {
        return Err(NumberError::Malformed);
    }
    let mut values = [0u8; BODY_CHARS];
    for (value, &c) in values.iter_mut().zip(&rest[4..]) {
        *value = decode(c).ok_or(NumberError::Malformed)?;
    }

    if check_value(year, &values[..RANDOM_CHARS]) != values[RANDOM_CHARS] {
        return Err(NumberError::BadCheck);
    }
    Ok(format_number(year, &values))
}

/// The canonical form of `input` if it is a claim number.
pub fn normalize(input: &str) -> Option<String> {
    parse(input).ok()
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}'
    )
}

/// The value of an upper-case Crockford character, reading O as 0 and I, L as 1.
fn decode(c: u8) -> Option<u8> {
    match c {
        b'O' => Some(0),
        b'I' | b'L' => Some(1),
        _ => ALPHABET.iter().position(|&a| a == c).map(|p| p as u8),
    }
}

/// Luhn mod 32 over the year's four digits then the random values: the value that makes
/// the weighted sum a multiple of 32.
fn check_value(year: i32, random: &[u8]) -> u8 {
    const N: u32 = 32;
    let digits = year.to_string().into_bytes().into_iter().map(|d| d - b'0');
    let payload: Vec<u8> = digits.chain(random.iter().copied()).collect();

    let mut factor = 2;
    let mut sum = 0;
    for &value in payload.iter().rev() {
        let addend = factor * u32::from(value);
        sum += addend / N + addend % N;
        factor = 3 - factor;
    }
    ((N - sum % N) % N) as u8
}

fn format_number(year: i32, values: &[u8; BODY_CHARS]) -> String {
    let mut number = format!("{PREFIX}-{year}");
    for (i, &value) in values.iter().enumerate() {
        if i % 4 == 0 {
            number.push('-');
        }
        number.push(char::from(ALPHABET[usize::from(value)]));
    }
    number
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn is_canonical(number: &str) -> bool {
        let parts: Vec<&str> = number.split('-').collect();
        parts.len() == 5
            && parts[0] == "RC"
            && parts[1].len() == 4
            && parts[1].bytes().all(|c| c.is_ascii_digit())
            && parts[2..]
                .iter()
                .all(|g| g.len() == 4 && g.bytes().all(|c| ALPHABET.contains(&c)))
    }

    #[test]
    fn generated_numbers_are_canonical_and_parse_to_themselves() {
        for _ in 0..500 {
            let number = generate(2026);
            assert!(number.starts_with("RC-2026-"), "{number}");
            assert!(is_canonical(&number), "{number}");
            assert_eq!(parse(&number), Ok(number.clone()));
        }
    }

    #[test]
    fn generated_numbers_do_not_repeat_and_use_the_whole_alphabet() {
        let numbers: Vec<String> = (0..3000).map(|_| generate(2026)).collect();
        let unique: HashSet<&String> = numbers.iter().collect();
        assert_eq!(unique.len(), numbers.len());
        // Random positions (and the check character, at 21) take each of the 32 values.
        for position in [8, 9, 11, 13, 16, 18, 20, 21] {
            let seen: HashSet<u8> = numbers.iter().map(|n| n.as_bytes()[position]).collect();
            assert_eq!(seen.len(), 32, "position {position} is biased: {seen:?}");
        }
    }

    #[test]
    fn parsing_tolerates_what_people_type() {
        let canonical = generate(2026);
        let lower = canonical.to_lowercase();
        let spaced = canonical.replace('-', " ");
        let bare = canonical.replace('-', "");
        let unprefixed = canonical.trim_start_matches("RC-").to_owned();
        let padded = format!("  {canonical}\u{00A0}\n");
        // As copied from an Arabic email: isolated, with direction marks.
        let isolated = format!("\u{2068}{canonical}\u{2069}\u{200F}");
        for typed in [lower, spaced, bare, unprefixed, padded, isolated] {
            assert_eq!(parse(&typed), Ok(canonical.clone()), "{typed:?}");
        }

        let with_zero_and_one = "RC-2026-0001-1000-0000";
        let fixed = {
            let values = [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0];
            let mut all = [0u8; BODY_CHARS];
            all[..RANDOM_CHARS].copy_from_slice(&values);
            all[RANDOM_CHARS] = check_value(2026, &values);
            format_number(2026, &all)
        };
        assert!(fixed.starts_with(&with_zero_and_one[..18]), "{fixed}");
        let look_alikes = fixed.replacen('0', "o", 3).replace('1', "l");
        assert_eq!(parse(&look_alikes), Ok(fixed.clone()), "{look_alikes}");
        assert_eq!(parse(&fixed.replace('1', "I")), Ok(fixed));
    }

    #[test]
    fn every_single_mistyped_character_is_caught() {
        let number = generate(2031);
        let bytes = number.as_bytes();
        for position in 0..bytes.len() {
            if !bytes[position].is_ascii_alphanumeric() || position < 3 {
                continue;
            }
            let candidates: &[u8] = if position < 7 {
                b"0123456789"
            } else {
                ALPHABET
            };
            for &other in candidates {
                if other == bytes[position] {
                    continue;
                }
                let mut typo = bytes.to_vec();
                typo[position] = other;
                let typo = String::from_utf8(typo).expect("ascii");
                assert!(parse(&typo).is_err(), "{typo} was accepted for {number}");
            }
        }
    }

    #[test]
    fn most_swaps_of_neighbours_are_caught() {
        let (mut swaps, mut caught) = (0, 0);
        for _ in 0..300 {
            let number = generate(2026).replace('-', "");
            let bytes = number.as_bytes();
            for i in 2..bytes.len() - 1 {
                if bytes[i] == bytes[i + 1] {
                    continue;
                }
                let mut swapped = bytes.to_vec();
                swapped.swap(i, i + 1);
                swaps += 1;
                if parse(std::str::from_utf8(&swapped).expect("ascii")).is_err() {
                    caught += 1;
                }
            }
        }
        assert!(
            caught * 100 >= swaps * 95,
            "only {caught} of {swaps} swaps caught"
        );
    }

    #[test]
    fn anything_else_is_refused() {
        let good = generate(2026);
        let cases = [
            ("", NumberError::Malformed),
            ("RC-2026", NumberError::Malformed),
            ("RC-2026-ABCD-EFGH-JKM", NumberError::Malformed),
            ("RC-2026-ABCD-EFGH-JKMNP", NumberError::Malformed),
            ("RC-2026-ABCD-EFGH-JKMU", NumberError::Malformed),
            ("RC-2026-ABCD-EFGH-JK*N", NumberError::Malformed),
            ("RC-1999-ABCD-EFGH-JKMN", NumberError::Malformed),
            ("RX-2026-ABCD-EFGH-JKMN", NumberError::Malformed),
            ("RC-٢٠٢٦-ABCD-EFGH-JKMN", NumberError::Malformed),
            ("../../etc/passwd", NumberError::Malformed),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input), Err(expected), "{input:?}");
        }
        let long = format!("{good}{}", " ".repeat(60));
        assert_eq!(parse(&long), Err(NumberError::TooLong));
        assert_eq!(normalize("RC-2026"), None);
        assert_eq!(normalize(&good), Some(good));
    }

    #[test]
    fn the_year_is_kept_and_clamped() {
        assert!(generate(2027).starts_with("RC-2027-"));
        assert!(generate(1970).starts_with("RC-2000-"));
        assert!(generate(123_456).starts_with("RC-9999-"));
    }
}
