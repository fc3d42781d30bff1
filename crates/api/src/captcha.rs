//! Captchas: a distorted picture of a short code, checked on the server.
//!
//! What this module promises:
//! - An answer is [`ANSWER_LEN`] characters, which fit the picture unclipped, drawn from the
//!   thread's cryptographically secure generator, from an alphabet without look-alikes
//!   (no 0/O, no 1/I/L); an id carries 128 random bits.
//! - Only [`answer_hash`] of the answer is handed out for storage; the answer itself
//!   exists only in the picture. Checking ignores case and surrounding spaces.
//! - Expiry ([`ttl`]) and single use are the caller's: it stores `(id, answer_hash,
//!   expires_at)` and consumes the row when an answer is checked, right or wrong.
//!
//! `CLAIMDESK_CAPTCHA_FIXED_ANSWER` (automated tests only) becomes `fixed_answer`: every
//! captcha then has that answer. Its characters missing from the drawing font (anything
//! but letters and digits) are left out of the picture but still count in the answer.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use captcha::filters::{Dots, Noise, Wave};
use captcha::Captcha;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

/// The characters of generated answers: digits 2-9 and capitals without I, L and O.
pub const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// How long a captcha can be answered.
pub fn ttl() -> chrono::TimeDelta {
    chrono::TimeDelta::minutes(10)
}

/// Size of the picture, in pixels.
pub const WIDTH: u32 = 200;
pub const HEIGHT: u32 = 70;
/// Every answer has this many characters, so a reader knows when one is missing.
pub const ANSWER_LEN: usize = 5;

/// A new captcha: what the server stores and what the client is shown.
#[derive(Debug, Clone)]
pub struct NewCaptcha {
    /// 128 random bits, URL-safe base64 (22 characters).
    pub id: String,
    /// [`answer_hash`] of the answer.
    pub answer_hash: String,
    /// The picture, as `data:image/png;base64,...`.
    pub png_data_url: String,
}

/// A new captcha with a random answer, or with `fixed_answer` when one is configured
/// (a blank one is ignored).
pub fn new_captcha(fixed_answer: Option<&str>) -> NewCaptcha {
    let answer = match fixed_answer.map(str::trim).filter(|a| !a.is_empty()) {
        Some(fixed) => fixed.to_uppercase(),
        None => random_answer(&mut rand::rng()),
    };
    let png = draw(&answer);
    NewCaptcha {
        id: new_id(),
        answer_hash: answer_hash(&answer),
        png_data_url: format!("data:image/png;base64,{}", STANDARD.encode(png)),
    }
}

/// The hex SHA-256 of an answer as typed: trimmed, then upper-cased.
pub fn answer_hash(answer: &str) -> String {
    hex::encode(Sha256::digest(answer.trim().to_uppercase().as_bytes()))
}

/// Whether `answer` hashes to `stored_hash`, compared in constant time.
pub fn answer_matches(answer: &str, stored_hash: &str) -> bool {
    let computed = answer_hash(answer);
    computed.len() == stored_hash.len()
        && computed
            .bytes()
            .zip(stored_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn random_answer(rng: &mut impl Rng) -> String {
    let len = ANSWER_LEN;
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn new_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Draws `answer` with the crate's font, then bends, speckles and dots it. The waves get
/// random frequencies and heights: the crate's own always start at the same phase.
fn draw(answer: &str) -> Vec<u8> {
    let mut rng = rand::rng();
    let mut image = Captcha::new();
    for glyph in answer.chars() {
        image.set_chars(&[glyph]).add_char();
    }
    image
        .apply_filter(Noise::new(0.05))
        .apply_filter(Wave::new(
            rng.random_range(1.5..2.5),
            rng.random_range(4.0..7.0),
        ))
        .apply_filter(Wave::new(rng.random_range(1.5..2.5), rng.random_range(3.0..5.0)).vertical())
        .view(WIDTH, HEIGHT)
        .apply_filter(Dots::new(6).min_radius(2).max_radius(4));
    // Encoding a small in-memory picture has no failure mode but a bug in the crate.
    image
        .as_png()
        .expect("the captcha crate encodes its picture as PNG")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn png_of(captcha: &NewCaptcha) -> Vec<u8> {
        let encoded = captcha
            .png_data_url
            .strip_prefix("data:image/png;base64,")
            .expect("prefix");
        STANDARD.decode(encoded).expect("base64")
    }

    #[test]
    fn the_alphabet_has_no_look_alikes_and_can_be_drawn() {
        for c in b"0O1lIoL" {
            assert!(!ALPHABET.contains(c), "{}", char::from(*c));
        }
        let font = Captcha::new().supported_chars();
        for c in ALPHABET {
            assert!(
                font.contains(&char::from(*c)),
                "{} is not in the font",
                char::from(*c)
            );
        }
    }

    #[test]
    fn answers_have_a_fixed_length_from_the_alphabet() {
        let mut lengths = HashSet::new();
        for _ in 0..300 {
            let answer = random_answer(&mut rand::rng());
            lengths.insert(answer.len());
            assert!(answer.bytes().all(|c| ALPHABET.contains(&c)), "{answer}");
        }
        assert_eq!(lengths, HashSet::from([ANSWER_LEN]));
    }

    #[test]
    fn the_hash_is_of_the_trimmed_upper_cased_answer() {
        let abc = "b5d4045c3f466fa91fe2cc6abe79232a1a57cdf104f7a26e716e0a1e2789df78";
        assert_eq!(answer_hash("ABC"), abc);
        assert_eq!(answer_hash("  abc\n"), abc);
        assert_ne!(answer_hash("A BC"), abc);
        assert!(answer_matches(" aBc ", abc));
        assert!(!answer_matches("ABD", abc));
        assert!(!answer_matches("ABC", &abc[1..]));
    }

    #[test]
    fn the_picture_is_a_real_png_of_the_expected_size() {
        let captcha = new_captcha(None);
        let png = png_of(&captcha);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().expect("PNG header");
        let mut pixels = vec![0; reader.output_buffer_size()];
        let frame = reader.next_frame(&mut pixels).expect("PNG data");
        assert_eq!((frame.width, frame.height), (WIDTH, HEIGHT));
        let pixels = &pixels[..frame.buffer_size()];
        let dark = pixels
            .chunks(frame.color_type.samples())
            .filter(|p| p[0] < 128)
            .count();
        let total = (WIDTH * HEIGHT) as usize;
        assert!(
            dark > total / 50,
            "almost nothing drawn: {dark} dark pixels"
        );
        assert!(dark < total / 2, "mostly dark: {dark} dark pixels");
    }

    #[test]
    fn a_fixed_answer_is_the_answer() {
        let captcha = new_captcha(Some(" test7 "));
        assert_eq!(captcha.answer_hash, answer_hash("TEST7"));
        assert!(answer_matches("test7", &captcha.answer_hash));
        assert_eq!(&png_of(&captcha)[..4], b"\x89PNG");

        let odd = new_captcha(Some("é-0!"));
        assert!(answer_matches("É-0!", &odd.answer_hash));
        let blank = new_captcha(Some("   "));
        assert_ne!(
            blank.answer_hash,
            answer_hash(""),
            "a blank fixed answer is ignored"
        );
    }

    #[test]
    fn ids_are_random_and_url_safe() {
        let ids: HashSet<String> = (0..100).map(|_| new_captcha(Some("X")).id).collect();
        assert_eq!(ids.len(), 100);
        for id in &ids {
            assert_eq!(id.len(), 22, "{id}");
            assert!(id
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        }
    }

    #[test]
    fn random_captchas_do_not_share_answers() {
        let hashes: HashSet<String> = (0..20).map(|_| new_captcha(None).answer_hash).collect();
        assert!(hashes.len() >= 19, "answers repeat: {}", hashes.len());
    }

    #[test]
    fn a_captcha_lives_ten_minutes() {
        assert_eq!(ttl().num_seconds(), 600);
    }
}
