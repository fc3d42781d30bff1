//! Checks on the free text and descriptions a command carries.
//!
//! Guarantees: a text the domain accepts
//!
//! - is not blank: it has at least one character that is neither Unicode whitespace (which
//!   includes the no-break spaces U+00A0, U+2007 and U+202F) nor an invisible format character
//!   (the zero-width U+200B, U+200C, U+200D, U+2060, U+FEFF, and U+00AD, U+180E);
//! - fits its limit from [`crate::limits`], counted in characters;
//! - has no control characters, except line breaks and tabs in multi-line texts (messages,
//!   bodies, reasons, comments, addresses), so that every store and mail client takes it as is;
//! - has no directional embeddings or overrides (U+202A to U+202E), which make text show in
//!   another order than it is written in (a name shown reversed, say). Marks and isolates,
//!   which mixed Arabic and French text needs, are accepted.
//!
//! Accepted text is stored exactly as given: the domain never trims or rewrites it.

use std::collections::HashSet;

use crate::error::DomainError;
use crate::limits;
use crate::model::{Attachment, Contact};

/// Whether a character shows nothing on its own: whitespace (no-break spaces included),
/// Unicode's default-ignorable code points (zero-width characters, direction marks and
/// embeddings, variation selectors, the byte order mark, ...) and combining marks, which only
/// decorate the character before them.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            // default-ignorable code points
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
                // combining marks, Arabic vowel signs among them
                | '\u{0300}'..='\u{036F}'
                | '\u{0610}'..='\u{061A}'
                | '\u{064B}'..='\u{065F}'
                | '\u{0670}'
                | '\u{06D6}'..='\u{06DC}'
                | '\u{06DF}'..='\u{06E4}'
                | '\u{06E7}'..='\u{06E8}'
                | '\u{06EA}'..='\u{06ED}'
                | '\u{1AB0}'..='\u{1AFF}'
                | '\u{1DC0}'..='\u{1DFF}'
                | '\u{20D0}'..='\u{20FF}'
                | '\u{FE20}'..='\u{FE2F}'
        )
}

/// Whether `text` shows nothing: empty, or only invisible characters ([`is_invisible`]).
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_invisible)
}

/// Whether a text may span several lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lines {
    Single,
    Multi,
}

/// Collects the input errors of one command, in field order.
#[derive(Debug, Default)]
pub(crate) struct Checks {
    errors: Vec<DomainError>,
}

impl Checks {
    pub(crate) fn into_errors(self) -> Vec<DomainError> {
        self.errors
    }

    pub(crate) fn push(&mut self, error: DomainError) {
        self.errors.push(error);
    }

    /// A required text.
    pub(crate) fn text(&mut self, field: &'static str, text: &str, max: usize, lines: Lines) {
        if is_blank(text) {
            self.push(DomainError::BlankText { field });
        } else if text.chars().count() > max {
            self.push(DomainError::TextTooLong { field, max });
        } else if text.chars().any(|c| is_refused_control(c, lines)) {
            self.push(DomainError::ControlCharacters { field });
        }
    }

    /// An optional text: `None` is fine, `Some` must pass as a required one.
    pub(crate) fn optional_text(
        &mut self,
        field: &'static str,
        text: Option<&str>,
        max: usize,
        lines: Lines,
    ) {
        if let Some(text) = text {
            self.text(field, text, max, lines);
        }
    }

    pub(crate) fn satisfaction(&mut self, value: u8) {
        if !limits::SATISFACTION.contains(&value) {
            self.push(DomainError::SatisfactionOutOfRange { value });
        }
    }

    pub(crate) fn contact(&mut self, contact: &Contact) {
        let before = self.errors.len();
        self.text(
            "contact.email",
            &contact.email,
            limits::EMAIL,
            Lines::Single,
        );
        if self.errors.len() == before && !looks_like_email(&contact.email) {
            self.push(DomainError::InvalidEmail {
                field: "contact.email",
            });
        }

        let short = [
            ("contact.company_name", &contact.company_name),
            ("contact.last_name", &contact.last_name),
            ("contact.first_name", &contact.first_name),
            ("contact.phone", &contact.phone),
        ];
        for (field, value) in short {
            self.optional_text(
                field,
                value.as_deref(),
                limits::CONTACT_FIELD,
                Lines::Single,
            );
        }
        let address = contact.address.as_deref();
        self.optional_text("contact.address", address, limits::ADDRESS, Lines::Multi);
        for (field, value) in [
            ("contact.city", &contact.city),
            ("contact.country", &contact.country),
        ] {
            self.optional_text(
                field,
                value.as_deref(),
                limits::CONTACT_FIELD,
                Lines::Single,
            );
        }
    }

    pub(crate) fn attachments(&mut self, attachments: &[Attachment]) {
        if attachments.len() > limits::ATTACHMENTS {
            self.push(DomainError::TooManyAttachments {
                max: limits::ATTACHMENTS,
            });
            return;
        }

        let mut ids = HashSet::new();
        for attachment in attachments {
            if let Some(error) = attachment_error(attachment) {
                self.push(error);
            } else if !ids.insert(attachment.id.as_str()) {
                self.push(DomainError::InvalidAttachment {
                    reason: "the same id appears twice",
                });
            }
        }
    }
}

fn is_refused_control(c: char, lines: Lines) -> bool {
    let allowed = lines == Lines::Multi && matches!(c, '\n' | '\r' | '\t');
    (c.is_control() && !allowed) || is_direction_override(c)
}

/// The explicit directional embeddings and overrides, and their terminator: LRE, RLE, PDF,
/// LRO, RLO.
pub fn is_direction_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}')
}

/// `local@domain.tld` with no whitespace or control characters: enough to catch typing
/// mistakes; the confirmation email proves the rest.
fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let clean = !email.chars().any(|c| c.is_whitespace() || c.is_control());
    let dotted = domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.');
    clean && !local.is_empty() && !domain.contains('@') && dotted
}

fn attachment_error(attachment: &Attachment) -> Option<DomainError> {
    let invalid = |reason| Some(DomainError::InvalidAttachment { reason });
    let sha_ok = attachment.sha256.len() == 64
        && attachment
            .sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));

    if is_blank(&attachment.id) || attachment.id.chars().count() > limits::CODE {
        invalid("the id must be 1 to 100 visible characters")
    } else if is_blank(&attachment.filename)
        || attachment.filename.chars().count() > limits::FILENAME
        || attachment.filename.chars().any(char::is_control)
    {
        invalid("the file name must be 1 to 255 characters without control characters")
    } else if is_blank(&attachment.media_type) || attachment.media_type.len() > limits::CODE {
        invalid("the media type is missing")
    } else if !sha_ok {
        invalid("the SHA-256 must be 64 lowercase hexadecimal digits")
    } else if attachment.size > limits::ATTACHMENT_BYTES {
        Some(DomainError::AttachmentTooLarge {
            filename: attachment.filename.clone(),
            max: limits::ATTACHMENT_BYTES,
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_overrides_are_refused_marks_and_isolates_are_not() {
        for lines in [Lines::Single, Lines::Multi] {
            for c in ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}'] {
                assert!(is_refused_control(c, lines), "{c:?}");
            }
            for c in [
                '\u{200E}', '\u{200F}', '\u{061C}', '\u{2066}', '\u{2068}', '\u{2069}',
            ] {
                assert!(!is_refused_control(c, lines), "{c:?}");
            }
        }
    }

    #[test]
    fn blank_covers_whitespace_no_break_and_zero_width_characters() {
        let blank = [
            "",
            " ",
            "\t\n\r ",
            "\u{00A0}\u{202F}\u{2007}",
            "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}",
            "\u{3000}\u{2003}\u{2028}\u{2029}\u{0085}\u{1680}",
            " \u{00A0}\u{200B} \u{FEFF}\u{00AD}\u{180E}",
            // direction marks, embeddings and isolates
            "\u{200F}\u{200E}\u{202B}\u{202C}\u{2067}\u{2069}\u{061C}",
            // a lone combining accent, Arabic vowel signs alone, a variation selector
            "\u{0301}",
            "\u{064E}\u{0650}\u{0651}",
            "\u{FE0F}",
        ];
        for text in blank {
            assert!(is_blank(text), "{text:?} should be blank");
        }
        for text in [
            "a",
            " . ",
            "\u{200B}x",
            "ب",
            "\u{00A0}1",
            "e\u{0301}",
            "بَ",
            "\u{200F}1",
        ] {
            assert!(!is_blank(text), "{text:?} should not be blank");
        }
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        let mut checks = Checks::default();
        checks.text(
            "subject",
            &"ع".repeat(limits::SUBJECT),
            limits::SUBJECT,
            Lines::Single,
        );
        assert!(checks.into_errors().is_empty());

        let mut checks = Checks::default();
        let long = "é".repeat(limits::SUBJECT + 1);
        checks.text("subject", &long, limits::SUBJECT, Lines::Single);
        assert_eq!(
            checks.into_errors(),
            [DomainError::TextTooLong {
                field: "subject",
                max: limits::SUBJECT
            }]
        );
    }

    #[test]
    fn line_breaks_only_in_multi_line_texts() {
        let mut checks = Checks::default();
        checks.text("message", "line one\r\nline two\tend", 100, Lines::Multi);
        checks.text("subject", "one\ntwo", 100, Lines::Single);
        checks.text("message", "nul\0inside", 100, Lines::Multi);
        assert_eq!(
            checks.into_errors(),
            [
                DomainError::ControlCharacters { field: "subject" },
                DomainError::ControlCharacters { field: "message" },
            ]
        );
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        for good in ["a@b.ma", "first.last+tag@sub.example.org"] {
            assert!(looks_like_email(good), "{good}");
        }
        for bad in ["a", "a@b", "@b.ma", "a@.ma", "a@b.", "a b@c.ma", "a@b@c.ma"] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
