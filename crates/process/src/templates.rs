//! The emails' words: Fluent messages in `locales/{fr,ar}/mail.ftl`, put together as a plain
//! text part and an HTML part.
//!
//! What this module promises:
//! - Both languages define every template's `subject`, `intro` and `after` (tested), so a
//!   rendering cannot miss.
//! - An Arabic email is marked right to left: `<html lang="ar" dir="rtl">`. Every value put
//!   into an Arabic sentence (claim number, address, date, link) keeps its own order inside
//!   the right-to-left line: in the text part and the subject it is wrapped in Unicode
//!   isolates (FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE), in HTML in `<bdi>`. French
//!   carries no isolates, as in the API.
//! - HTML is safe: every value is escaped; the messages' own text holds no markup (tested).
//! - A subject is one line: control characters and line separators in a value become spaces
//!   before they can reach a header.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use claimdesk_domain::{Language, Timestamp};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// Which email it is. The name is the Fluent message's id and the outbox's `template`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Template {
    /// To the client: the claim is registered, with its number.
    Filed,
    /// To the client: the entity answered.
    Answered,
    /// To the client: the entity wrote without answering.
    EntityMessage,
    /// To the client: the claim was closed (by the client, or by the entity with its answer).
    Closed,
    /// To the client: the claim closed by itself.
    AutoClosed,
    /// To the client: the claim was reopened.
    Reopened,
    /// To the client: the automatic closure is near.
    Reminder,
    /// To the entity's mailbox: a new claim.
    NewClaim,
    /// To the entity's mailbox: the client wrote.
    ClientMessage,
    /// To the entity's mailbox: a claim was transferred to it.
    Transferred,
}

impl Template {
    pub const ALL: [Template; 10] = [
        Template::Filed,
        Template::Answered,
        Template::EntityMessage,
        Template::Closed,
        Template::AutoClosed,
        Template::Reopened,
        Template::Reminder,
        Template::NewClaim,
        Template::ClientMessage,
        Template::Transferred,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Template::Filed => "filed",
            Template::Answered => "answered",
            Template::EntityMessage => "entity_message",
            Template::Closed => "closed",
            Template::AutoClosed => "auto_closed",
            Template::Reopened => "reopened",
            Template::Reminder => "reminder",
            Template::NewClaim => "new_claim",
            Template::ClientMessage => "client_message",
            Template::Transferred => "transferred",
        }
    }

    /// Whether it goes to the client (else to the handling entity's mailbox).
    pub const fn for_client(self) -> bool {
        !matches!(
            self,
            Template::NewClaim | Template::ClientMessage | Template::Transferred
        )
    }
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What goes into one email.
#[derive(Debug, Clone)]
pub struct Content {
    pub template: Template,
    pub language: Language,
    /// Whom to greet by name, if known.
    pub name: Option<String>,
    /// The messages' values (`number`, `subject`, `date`...), one line each.
    pub values: Vec<(&'static str, String)>,
    /// Values that are links, shown as such in HTML.
    pub links: Vec<(&'static str, String)>,
    /// A text quoted as is between the introduction and what follows (an answer, a message).
    pub quote: Option<String>,
    /// The claim's tracking page, for the client.
    pub track: Option<String>,
}

type Bundle = FluentBundle<FluentResource>;

struct Bundles {
    /// For subjects and text parts: Arabic values isolated, French ones not.
    text: Bundle,
    /// For HTML: no isolates; values come already escaped and wrapped in `<bdi>`.
    html: Bundle,
}

static FR: LazyLock<Bundles> = LazyLock::new(|| bundles(Language::Fr));
static AR: LazyLock<Bundles> = LazyLock::new(|| bundles(Language::Ar));

fn source(language: Language) -> &'static str {
    match language {
        Language::Fr => include_str!("../locales/fr/mail.ftl"),
        Language::Ar => include_str!("../locales/ar/mail.ftl"),
    }
}

/// The files are compiled in and tested: a broken one is a build defect, not an outage.
fn bundle(language: Language, isolating: bool) -> Bundle {
    let code = language.code();
    let resource = FluentResource::try_new(source(language).to_owned())
        .unwrap_or_else(|(_, errors)| panic!("locales/{code}/mail.ftl does not parse: {errors:?}"));
    let locale: LanguageIdentifier = code.parse().expect("fr and ar are valid tags");
    let mut bundle = FluentBundle::new_concurrent(vec![locale]);
    bundle.set_use_isolating(isolating);
    if let Err(errors) = bundle.add_resource(resource) {
        panic!("locales/{code}/mail.ftl defines a message twice: {errors:?}");
    }
    bundle
}

fn bundles(language: Language) -> Bundles {
    Bundles {
        text: bundle(language, language == Language::Ar),
        html: bundle(language, false),
    }
}

fn bundles_of(language: Language) -> &'static Bundles {
    match language {
        Language::Fr => &FR,
        Language::Ar => &AR,
    }
}

/// Formats message `id` (or its attribute) with `args`. A missing id gives the id back and
/// is logged: both files are tested against [`Template::ALL`], so it would be a bug.
fn format(bundle: &Bundle, id: &str, attribute: Option<&str>, args: &FluentArgs) -> String {
    let message = bundle.get_message(id);
    let pattern = match attribute {
        Some(name) => message
            .as_ref()
            .and_then(|m| m.get_attribute(name))
            .map(|a| a.value()),
        None => message.as_ref().and_then(|m| m.value()),
    };
    let Some(pattern) = pattern else {
        tracing::error!(id, ?attribute, "mail message missing from the translations");
        return id.to_owned();
    };
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(args), &mut errors);
    if !errors.is_empty() {
        tracing::error!(
            id,
            ?attribute,
            ?errors,
            "mail message formatted with errors"
        );
    }
    text.into_owned()
}

/// `text` on one line, for a header or a sentence: every control character, line or
/// paragraph separator and the BOM become a space.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            let breaks = c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}');
            if breaks {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// A quoted text: line breaks kept (as `\n`), other control characters dropped.
fn clean_quote(text: &str) -> String {
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    unified
        .chars()
        .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
        .collect()
}

/// Escapes text for HTML content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A time as the emails show it: `2026-03-30 09:30 (UTC)`, in the email's language.
pub fn format_time(language: Language, at: Timestamp) -> String {
    let when = DateTime::<Utc>::from_timestamp_micros(at.as_micros())
        .map(|at| at.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| at.to_string());
    let mut args = FluentArgs::new();
    args.set("date", FluentValue::from(when));
    // Without isolates: the value is isolated once more where it is put.
    format(&bundles_of(language).html, "mail-utc", None, &args)
}

/// The name of a language, in `language`.
pub fn language_name(language: Language, of: Language) -> String {
    let id = match of {
        Language::Fr => "language-fr",
        Language::Ar => "language-ar",
    };
    format(&bundles_of(language).html, id, None, &FluentArgs::new())
}

/// Renders `content` in its language.
pub fn render(content: &Content) -> Rendered {
    let bundles = bundles_of(content.language);
    let id = content.template.name();

    let mut text_args = FluentArgs::new();
    let mut html_args = FluentArgs::new();
    for (name, value) in &content.values {
        let value = one_line(value);
        html_args.set(*name, FluentValue::from(bdi(&escape_html(&value))));
        text_args.set(*name, FluentValue::from(value));
    }
    for (name, link) in &content.links {
        let link = one_line(link);
        html_args.set(*name, FluentValue::from(bdi(&anchor(&link))));
        text_args.set(*name, FluentValue::from(link));
    }

    let subject = one_line(&format(&bundles.text, id, Some("subject"), &text_args));
    let greeting = |bundle: &Bundle, name: Option<String>| {
        let mut args = FluentArgs::new();
        match name {
            Some(name) => {
                args.set("name", FluentValue::from(name));
                format(bundle, "mail-greeting-named", None, &args)
            }
            None => format(bundle, "mail-greeting", None, &args),
        }
    };
    let name = content.name.as_deref().map(one_line);
    let track = content.track.as_deref().map(one_line);
    let quote = content.quote.as_deref().map(clean_quote);

    // The plain text part.
    let mut paragraphs = vec![
        greeting(&bundles.text, name.clone()),
        format(&bundles.text, id, Some("intro"), &text_args),
    ];
    if let Some(quote) = &quote {
        let quoted: Vec<String> = quote.lines().map(|line| format!("> {line}")).collect();
        paragraphs.push(quoted.join("\n"));
    }
    paragraphs.push(format(&bundles.text, id, Some("after"), &text_args));
    if let Some(track) = &track {
        let mut args = FluentArgs::new();
        args.set("link", FluentValue::from(track.clone()));
        paragraphs.push(format(&bundles.text, "mail-track", None, &args));
    }
    let closing = [
        format(&bundles.text, "mail-signature", None, &text_args),
        format(&bundles.text, "mail-automatic", None, &text_args),
    ];
    paragraphs.push(format!("-- \n{}", closing.join("\n")));
    let text = paragraphs.join("\n\n") + "\n";

    // The HTML part: the same paragraphs, with the values escaped and isolated.
    let (lang, dir) = match content.language {
        Language::Fr => ("fr", "ltr"),
        Language::Ar => ("ar", "rtl"),
    };
    let html_name = name.map(|name| bdi(&escape_html(&name)));
    let mut body = vec![
        paragraph(&greeting(&bundles.html, html_name)),
        paragraph(&format(&bundles.html, id, Some("intro"), &html_args)),
    ];
    if let Some(quote) = &quote {
        let lines: Vec<String> = quote.lines().map(escape_html).collect();
        body.push(format!(
            "<blockquote dir=\"auto\">{}</blockquote>",
            lines.join("<br>\n")
        ));
    }
    body.push(paragraph(&format(
        &bundles.html,
        id,
        Some("after"),
        &html_args,
    )));
    if let Some(track) = &track {
        let mut args = FluentArgs::new();
        args.set("link", FluentValue::from(bdi(&anchor(track))));
        body.push(paragraph(&format(&bundles.html, "mail-track", None, &args)));
    }
    body.push(paragraph(&format(
        &bundles.html,
        "mail-signature",
        None,
        &html_args,
    )));
    body.push(format!(
        "<p><small>{}</small></p>",
        format(&bundles.html, "mail-automatic", None, &html_args)
    ));
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\" dir=\"{dir}\">\n<head>\n\
         <meta charset=\"utf-8\">\n<title>{title}</title>\n</head>\n\
         <body dir=\"{dir}\">\n{body}\n</body>\n</html>\n",
        title = escape_html(&subject),
        body = body.join("\n"),
    );

    Rendered {
        subject,
        text,
        html,
    }
}

fn bdi(html: &str) -> String {
    format!("<bdi>{html}</bdi>")
}

fn anchor(link: &str) -> String {
    let escaped = escape_html(link);
    format!("<a href=\"{escaped}\">{escaped}</a>")
}

fn paragraph(html: &str) -> String {
    format!("<p>{html}</p>")
}

#[cfg(test)]
mod tests {
    use fluent_syntax::ast;
    use fluent_syntax::parser::parse;

    use super::*;

    /// Every message id and attribute name of one locale file.
    fn ids(language: Language) -> Vec<String> {
        let resource = parse(source(language)).expect("the file parses");
        let mut ids = Vec::new();
        for entry in resource.body {
            if let ast::Entry::Message(message) = entry {
                ids.push(message.id.name.to_owned());
                for attribute in message.attributes {
                    ids.push(format!("{}.{}", message.id.name, attribute.id.name));
                }
            }
        }
        ids.sort();
        ids
    }

    #[test]
    fn both_languages_define_every_template() {
        assert_eq!(ids(Language::Fr), ids(Language::Ar));
        let ids = ids(Language::Fr);
        for template in Template::ALL {
            for attribute in ["subject", "intro", "after"] {
                let id = format!("{}.{attribute}", template.name());
                assert!(ids.contains(&id), "{id} is missing");
            }
        }
    }

    fn content(template: Template, language: Language) -> Content {
        Content {
            template,
            language,
            name: Some("Samira <Alaoui>".to_owned()),
            values: vec![
                ("number", "RC-2026-000123".to_owned()),
                (
                    "subject",
                    "Objet & <script>\r\nBcc: evil@example.com".to_owned(),
                ),
                ("date", "2026-03-23 09:30 (UTC)".to_owned()),
                ("deadline", "2026-03-30 09:30 (UTC)".to_owned()),
                ("answered", "2026-03-23 09:30 (UTC)".to_owned()),
                ("email", "samira.alaoui@example.ma".to_owned()),
                ("entity", "Service des noms commerciaux".to_owned()),
                ("from", "agent:nadia".to_owned()),
                ("language", "français".to_owned()),
            ],
            links: vec![(
                "link",
                "http://127.0.0.1:8080/claims/RC-2026-000123?action=reopen&x=\"y\"".to_owned(),
            )],
            quote: Some("Ligne 1\r\nLigne 2 <b>gras</b>\u{7}".to_owned()),
            track: Some("http://127.0.0.1:8080/claims/RC-2026-000123".to_owned()),
        }
    }

    #[test]
    fn the_messages_hold_no_markup() {
        for language in [Language::Fr, Language::Ar] {
            for template in Template::ALL {
                let mut plain = content(template, language);
                plain.values = plain
                    .values
                    .into_iter()
                    .map(|(name, _)| (name, "v".to_owned()))
                    .collect();
                plain.links = vec![("link", "l".to_owned())];
                plain.name = None;
                plain.quote = None;
                plain.track = None;
                let text = render(&plain).text;
                for c in ['<', '>', '&'] {
                    assert!(
                        !text.contains(c),
                        "{} ({language:?}): {text}",
                        template.name()
                    );
                }
            }
        }
    }

    #[test]
    fn values_are_escaped_and_isolated() {
        let fr = render(&content(Template::Reminder, Language::Fr));
        assert!(fr
            .html
            .starts_with("<!DOCTYPE html>\n<html lang=\"fr\" dir=\"ltr\">"));
        assert!(
            fr.html.contains("<bdi>Samira &lt;Alaoui&gt;</bdi>"),
            "{}",
            fr.html
        );
        assert!(
            fr.html.contains("Ligne 2 &lt;b&gt;gras&lt;/b&gt;"),
            "{}",
            fr.html
        );
        assert!(!fr.html.contains("<b>") && !fr.html.contains("\u{7}"));
        assert!(
            fr.html.contains("?action=reopen&amp;x=&quot;y&quot;"),
            "{}",
            fr.html
        );
        assert!(!fr.text.contains('\u{2068}'), "no isolates in French");
        assert!(
            fr.text.contains("> Ligne 1\n> Ligne 2 <b>gras</b>\n"),
            "{}",
            fr.text
        );

        let ar = render(&content(Template::Filed, Language::Ar));
        assert!(
            ar.html.contains("<html lang=\"ar\" dir=\"rtl\">"),
            "{}",
            ar.html
        );
        assert!(ar.html.contains("<body dir=\"rtl\">"));
        assert!(ar.html.contains("<bdi>RC-2026-000123</bdi>"), "{}", ar.html);
        assert!(ar.html.contains("<bdi>samira.alaoui@example.ma</bdi>"));
        assert!(
            ar.text.contains("\u{2068}RC-2026-000123\u{2069}"),
            "{}",
            ar.text
        );
        assert!(ar.text.contains("\u{2068}samira.alaoui@example.ma\u{2069}"));
        assert!(ar
            .subject
            .starts_with("تم تسجيل الشكاية \u{2068}RC-2026-000123\u{2069}"));
    }

    #[test]
    fn subjects_are_one_line() {
        for language in [Language::Fr, Language::Ar] {
            for template in Template::ALL {
                let rendered = render(&content(template, language));
                let subject = &rendered.subject;
                assert!(!subject.chars().any(char::is_control), "{subject:?}");
            }
        }
        let filed = render(&content(Template::Filed, Language::Fr));
        assert_eq!(
            filed.subject,
            "Réclamation RC-2026-000123 enregistrée : « Objet & <script>  Bcc: \
             evil@example.com »"
        );
        assert_eq!(one_line("a\u{2028}b\u{85}c\td"), "a b c d");
    }

    #[test]
    fn times_are_shown_in_utc() {
        let at = Timestamp::parse_rfc3339("2026-03-30T09:30:59.000001Z").unwrap();
        assert_eq!(format_time(Language::Fr, at), "2026-03-30 09:30 (UTC)");
        assert_eq!(
            format_time(Language::Ar, at),
            "2026-03-30 09:30 (بالتوقيت العالمي)"
        );
        assert_eq!(language_name(Language::Fr, Language::Ar), "arabe");
    }
}
