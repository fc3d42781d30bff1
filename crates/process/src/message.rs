//! A queued email as a MIME message: a plain text part and an HTML part, every header safe.
//!
//! What this module promises:
//! - **No header injection.** The recipient must parse as one address with no white space
//!   or control character, or the message is refused ([`BuildError`]) and never sent; the
//!   subject is made one line ([`crate::templates::one_line`]) and then RFC 2047-encoded; the
//!   `Message-ID` is checked to be `<local@domain>` made of safe characters. So a claim
//!   subject or an address holding CR/LF cannot add a header or a recipient.
//! - **Subjects decode to exactly the text.** lettre encodes non-ASCII words as RFC 2047
//!   encoded words. A subject holding `=?`, which a reader could take for the start of an
//!   encoded word, is encoded here instead, every word of it, so that it too decodes to
//!   exactly what was written.
//! - **A stable `Message-ID`**, derived from the outbox key, so that a message sent again
//!   after a crash can be recognized as the same by whoever receives it.

use std::time::SystemTime;

use base64::Engine;
use chrono::{DateTime, Utc};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, Message};

use claimdesk_store::OutboxEntry;

use crate::templates::one_line;

/// Why a queued email cannot become a message. Retrying cannot help: it is parked.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the recipient is not an email address")]
    Recipient,
    #[error("the message id {0:?} is not <local@domain> made of safe characters")]
    MessageId(String),
    #[error("the message cannot be built: {0}")]
    Email(#[from] lettre::error::Error),
}

/// `Auto-Submitted: auto-generated` (RFC 3834): mail robots do not answer it.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// `Content-Language` of the message, `fr` or `ar`.
#[derive(Debug, Clone)]
struct ContentLanguage(&'static str);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ContentLanguage(language_code(text)))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_owned())
    }
}

fn language_code(text: &str) -> &'static str {
    if text == "ar" {
        "ar"
    } else {
        "fr"
    }
}

/// The subject as a header, encoded as described in the module docs.
#[derive(Debug, Clone)]
struct Subject(String);

impl Header for Subject {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Subject")
    }

    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Subject(text.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        if !self.0.contains("=?") {
            return HeaderValue::new(Self::name(), self.0.clone());
        }
        // Only base64 text, "=?utf-8?b?", "?=" and folding: ASCII, printable, and no line
        // break that is not followed by a space. Safe to hand over as already encoded.
        HeaderValue::dangerous_new_pre_encoded(Self::name(), self.0.clone(), encode_words(&self.0))
    }
}

/// Every character of `text` in RFC 2047 encoded words of at most 75 characters (45 bytes of
/// UTF-8, never cut inside a character), one per folded line. Adjacent encoded words decode
/// with the folding white space between them removed, so the text comes back exactly.
pub fn encode_words(text: &str) -> String {
    const CHUNK: usize = 45;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > CHUNK {
            words.push(encoded_word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() || words.is_empty() {
        words.push(encoded_word(&chunk));
    }
    words.join("\r\n ")
}

fn encoded_word(text: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("=?utf-8?b?{encoded}?=")
}

/// `<local@domain>` of letters, digits and `.-_`, or nothing.
fn check_message_id(id: &str) -> Result<String, BuildError> {
    let refused = || BuildError::MessageId(id.to_owned());
    let inner = id
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'))
        .ok_or_else(refused)?;
    let (local, domain) = inner.split_once('@').ok_or_else(refused)?;
    let safe = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
    };
    if safe(local) && safe(domain) {
        Ok(id.to_owned())
    } else {
        Err(refused())
    }
}

/// The recipient, if it is one address and nothing else.
fn recipient(text: &str) -> Result<Mailbox, BuildError> {
    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(BuildError::Recipient);
    }
    let address: Address = text.parse().map_err(|_| BuildError::Recipient)?;
    Ok(Mailbox::new(None, address))
}

/// The message for `entry`, from `from`, dated `date`.
pub fn build(
    entry: &OutboxEntry,
    from: &Mailbox,
    date: DateTime<Utc>,
) -> Result<Message, BuildError> {
    let message = &entry.message;
    let to = recipient(&message.recipient)?;
    let message_id = check_message_id(&message.message_id)?;
    let email = Message::builder()
        .from(from.clone())
        .to(to)
        .date(SystemTime::from(date))
        .message_id(Some(message_id))
        .header(Subject(one_line(&message.subject)))
        .header(AutoSubmitted)
        .header(ContentLanguage(language_code(&message.language)))
        .multipart(MultiPart::alternative_plain_html(
            message.body_text.clone(),
            message.body_html.clone(),
        ))?;
    Ok(email)
}

#[cfg(test)]
mod tests {
    use claimdesk_store::{OutboxMessage, OutboxStatus};
    use uuid::Uuid;

    use super::*;

    fn entry(recipient: &str, subject: &str) -> OutboxEntry {
        OutboxEntry {
            id: "0123".to_owned(),
            message: OutboxMessage {
                event_id: Uuid::from_u128(1),
                template: "filed".to_owned(),
                recipient: recipient.to_owned(),
                stream_id: "claim-RC-1".to_owned(),
                position: 1,
                language: "ar".to_owned(),
                message_id: "<0123@claimdesk.localhost>".to_owned(),
                subject: subject.to_owned(),
                body_text: "نص".to_owned(),
                body_html: "<p>نص</p>".to_owned(),
            },
            status: OutboxStatus::Pending,
            attempts: 0,
            next_attempt_at: None,
            last_error: None,
            created_at: Utc::now(),
            sent_at: None,
            lease_until: None,
        }
    }

    fn from() -> Mailbox {
        "Réclamations <reclamations@claimdesk.localhost>"
            .parse()
            .unwrap()
    }

    fn headers(email: &Message) -> String {
        let formatted = String::from_utf8(email.formatted()).unwrap();
        formatted.split("\r\n\r\n").next().unwrap().to_owned()
    }

    #[test]
    fn injected_lines_stay_inside_the_subject() {
        let subject = "Objet\r\nBcc: evil@example.com\nX-Evil: 1";
        let email = build(&entry("a@example.ma", subject), &from(), Utc::now()).unwrap();
        let headers = headers(&email);
        for line in headers.split("\r\n") {
            let lower = line.to_ascii_lowercase();
            assert!(
                !lower.starts_with("bcc:") && !lower.starts_with("x-evil"),
                "{headers}"
            );
        }
        assert_eq!(email.envelope().to().len(), 1);
        assert!(headers.contains("Subject: Objet  Bcc: evil@example.com X-Evil: 1\r\n"));
        assert!(
            headers.contains("Message-ID: <0123@claimdesk.localhost>\r\n"),
            "{headers}"
        );
        assert!(headers.contains("Auto-Submitted: auto-generated\r\n"));
        assert!(headers.contains("Content-Language: ar\r\n"));
    }

    #[test]
    fn a_recipient_must_be_one_plain_address() {
        for bad in [
            "a@example.ma\r\nBcc: evil@example.com",
            "a@example.ma, evil@example.com",
            "A <a@example.ma>",
            "",
            "not an address",
        ] {
            let refused = build(&entry(bad, "s"), &from(), Utc::now());
            assert!(matches!(refused, Err(BuildError::Recipient)), "{bad:?}");
        }
    }

    #[test]
    fn message_ids_are_checked() {
        for bad in ["0123@x", "<a b@x>", "<a@x>\r\nBcc: e@x", "<@x>", "<a@>"] {
            let mut entry = entry("a@example.ma", "s");
            entry.message.message_id = bad.to_owned();
            let refused = build(&entry, &from(), Utc::now());
            assert!(matches!(refused, Err(BuildError::MessageId(_))), "{bad:?}");
        }
    }

    #[test]
    fn encoded_words_carry_every_character() {
        let text = "=?utf-8?q?A?= الشكاية \u{2068}RC-1\u{2069} é";
        let encoded = encode_words(text);
        let mut decoded = Vec::new();
        for word in encoded.split("\r\n ") {
            assert!(word.len() <= 75, "{word}");
            let body = word
                .strip_prefix("=?utf-8?b?")
                .and_then(|w| w.strip_suffix("?="))
                .unwrap();
            decoded.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .unwrap(),
            );
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), text);
        assert!(encoded.is_ascii());

        let email = build(&entry("a@example.ma", text), &from(), Utc::now()).unwrap();
        assert!(headers(&email).contains("Subject: =?utf-8?b?"));
    }
}
