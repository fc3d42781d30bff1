//! The service's two languages, how a request picks one, and the translated messages.
//!
//! What this module promises:
//! - Messages live in `locales/fr/main.ftl` and `locales/ar/main.ftl`, compiled into the
//!   binary and parsed once, on first use, into `Send + Sync` bundles. Both files define
//!   exactly the ids of [`msg::ALL`], and the code names messages only through [`msg`]
//!   (both checked by tests), so a lookup cannot miss.
//! - French text carries no bidi isolation marks: French and its values (numbers, emails,
//!   claim numbers) all run left to right, so the marks would only be invisible noise in
//!   JSON, logs and email subjects.
//! - Arabic text keeps Fluent's isolation: every interpolated value is wrapped in
//!   FIRST STRONG ISOLATE (U+2068) … POP DIRECTIONAL ISOLATE (U+2069). Without it, the
//!   bidi algorithm lets the neutral characters of a left-to-right value (`@`, `.`, `-`)
//!   join the surrounding right-to-left run, and an email such as `a.b@c.ma` or a number
//!   such as `RC-2026-…` shows with its parts reordered. Isolated, each value keeps its own
//!   direction. Digits stay Western (0-9), as written in Morocco.
//! - A request's language is `?lang=` when it names a supported language, else the best
//!   supported entry of `Accept-Language` (by q-value), else French.

use std::future::Future;
use std::str::FromStr;
use std::sync::LazyLock;

use axum::extract::Request;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::{HeaderMap, Uri};
use axum::middleware::Next;
use axum::response::Response;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

/// A language of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// French, the default.
    #[default]
    Fr,
    /// Modern Standard Arabic, written right to left.
    Ar,
}

/// Accept-Language entries looked at, at most: a longer header is cut, not trusted.
const MAX_ACCEPT_ENTRIES: usize = 32;

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Fr, Lang::Ar];

    /// The ISO 639-1 code: `fr` or `ar`.
    pub const fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::Ar => "ar",
        }
    }

    pub const fn is_rtl(self) -> bool {
        matches!(self, Lang::Ar)
    }

    /// The language of a BCP 47 tag (`fr`, `ar-MA`, `FR_fr`), if the service has it.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let id: LanguageIdentifier = tag.trim().parse().ok()?;
        match id.language.as_str() {
            "fr" => Some(Lang::Fr),
            "ar" => Some(Lang::Ar),
            _ => None,
        }
    }

    /// The supported language that an `Accept-Language` value prefers, if any: the highest
    /// q-value wins, the earlier entry on a tie; `q=0` and malformed entries are skipped.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for entry in header.split(',').take(MAX_ACCEPT_ENTRIES) {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or_default();
            let Some(q) = parse_q(parts) else { continue };
            let Some(lang) = Lang::from_tag(tag) else {
                continue;
            };
            if q > 0.0 && best.is_none_or(|(best_q, _)| q > best_q) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }

    /// The language of a request, from its URI (`?lang=`) and headers.
    pub fn from_request_head(uri: &Uri, headers: &HeaderMap) -> Lang {
        let query_lang = uri.query().and_then(|query| {
            query
                .split('&')
                .find_map(|pair| match pair.split_once('=') {
                    Some(("lang", value)) => Some(value),
                    _ => None,
                })
        });
        let accept = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        negotiate(query_lang, accept)
    }

    /// The language of the request being served (set by [`language_scope`]), French outside
    /// of one. Lets [`crate::problem::ApiError`] answer in the client's language.
    pub fn current() -> Lang {
        CURRENT.try_with(|lang| *lang).unwrap_or_default()
    }

    /// Runs `future` with `self` as [`Lang::current`].
    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }

    fn source(self) -> &'static str {
        match self {
            Lang::Fr => include_str!("../locales/fr/main.ftl"),
            Lang::Ar => include_str!("../locales/ar/main.ftl"),
        }
    }
}

/// The q-value of an Accept-Language entry's parameters; `None` when malformed.
fn parse_q<'a>(params: impl Iterator<Item = &'a str>) -> Option<f32> {
    let mut q = 1.0;
    for param in params {
        let (name, value) = param.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("q") {
            q = value
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))?;
        }
    }
    Some(q)
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Parses a language tag; see [`Lang::from_tag`].
impl FromStr for Lang {
    type Err = UnknownLang;

    fn from_str(tag: &str) -> Result<Lang, UnknownLang> {
        Lang::from_tag(tag).ok_or(UnknownLang)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a language of the service (fr, ar)")]
pub struct UnknownLang;

/// The language for a request: `?lang=` if it names a supported language, else
/// `Accept-Language`, else French.
pub fn negotiate(query_lang: Option<&str>, accept_language: Option<&str>) -> Lang {
    query_lang
        .and_then(Lang::from_tag)
        .or_else(|| accept_language.and_then(Lang::from_accept_language))
        .unwrap_or_default()
}

tokio::task_local! {
    static CURRENT: Lang;
}

/// Middleware (`axum::middleware::from_fn(language_scope)`): serves the request with its
/// language as [`Lang::current`], so errors returned anywhere below answer in it.
pub async fn language_scope(request: Request, next: Next) -> Response {
    let lang = Lang::from_request_head(request.uri(), request.headers());
    lang.scope(next.run(request)).await
}

macro_rules! message_ids {
    ($($(#[$doc:meta])* $name:ident = $id:literal;)*) => {
        $($(#[$doc])* pub const $name: &str = $id;)*

        /// Every message id the code uses; both locale files define exactly these.
        pub const ALL: &[&str] = &[$($id),*];
    };
}

/// The ids of the messages. Code refers to messages only through these constants.
pub mod msg {
    message_ids! {
        PROBLEM_BAD_REQUEST_TITLE = "problem-bad-request-title";
        PROBLEM_BAD_REQUEST_DETAIL = "problem-bad-request-detail";
        PROBLEM_UNAUTHORIZED_TITLE = "problem-unauthorized-title";
        PROBLEM_UNAUTHORIZED_DETAIL = "problem-unauthorized-detail";
        PROBLEM_FORBIDDEN_TITLE = "problem-forbidden-title";
        PROBLEM_FORBIDDEN_DETAIL = "problem-forbidden-detail";
        PROBLEM_METHOD_NOT_ALLOWED_TITLE = "problem-method-not-allowed-title";
        PROBLEM_METHOD_NOT_ALLOWED_DETAIL = "problem-method-not-allowed-detail";
        PROBLEM_NOT_FOUND_TITLE = "problem-not-found-title";
        PROBLEM_NOT_FOUND_DETAIL = "problem-not-found-detail";
        PROBLEM_CONFLICT_TITLE = "problem-conflict-title";
        PROBLEM_CONFLICT_DETAIL = "problem-conflict-detail";
        PROBLEM_CONFLICT_CONCURRENT_CHANGE = "problem-conflict-concurrent-change";
        PROBLEM_CONFLICT_CLAIM_CLOSED = "problem-conflict-claim-closed";
        PROBLEM_CONFLICT_NOT_CLOSED = "problem-conflict-not-closed";
        PROBLEM_CONFLICT_NOT_ANSWERED = "problem-conflict-not-answered";
        PROBLEM_CONFLICT_REQUEST_IN_PROGRESS = "problem-conflict-request-in-progress";
        /// `$size`: a size from [`crate::i18n::format_size`].
        PROBLEM_PAYLOAD_TOO_LARGE_TITLE = "problem-payload-too-large-title";
        PROBLEM_PAYLOAD_TOO_LARGE_DETAIL = "problem-payload-too-large-detail";
        PROBLEM_UNSUPPORTED_MEDIA_TYPE_TITLE = "problem-unsupported-media-type-title";
        PROBLEM_UNSUPPORTED_MEDIA_TYPE_DETAIL = "problem-unsupported-media-type-detail";
        PROBLEM_UNSUPPORTED_MEDIA_TYPE_EMPTY = "problem-unsupported-media-type-empty";
        /// `$name`: the refused entry's file name.
        PROBLEM_UNSUPPORTED_MEDIA_TYPE_ARCHIVE_ENTRY =
            "problem-unsupported-media-type-archive-entry";
        PROBLEM_UNSUPPORTED_MEDIA_TYPE_ARCHIVE_ENCRYPTED =
            "problem-unsupported-media-type-archive-encrypted";
        PROBLEM_UNSUPPORTED_MEDIA_TYPE_ARCHIVE_NESTED =
            "problem-unsupported-media-type-archive-nested";
        PROBLEM_UNSUPPORTED_MEDIA_TYPE_ARCHIVE_TOO_LARGE =
            "problem-unsupported-media-type-archive-too-large";
        PROBLEM_UNSUPPORTED_MEDIA_TYPE_ARCHIVE_UNREADABLE =
            "problem-unsupported-media-type-archive-unreadable";
        PROBLEM_UNSUPPORTED_MEDIA_TYPE_EXPECTED_JSON =
            "problem-unsupported-media-type-expected-json";
        PROBLEM_UNSUPPORTED_MEDIA_TYPE_EXPECTED_MULTIPART =
            "problem-unsupported-media-type-expected-multipart";
        PROBLEM_UNPROCESSABLE_TITLE = "problem-unprocessable-title";
        PROBLEM_UNPROCESSABLE_IDEMPOTENCY_KEY = "problem-unprocessable-idempotency-key";
        PROBLEM_VALIDATION_FAILED_TITLE = "problem-validation-failed-title";
        /// `$count`: the number of field errors.
        PROBLEM_VALIDATION_FAILED_DETAIL = "problem-validation-failed-detail";
        PROBLEM_CAPTCHA_INVALID_TITLE = "problem-captcha-invalid-title";
        PROBLEM_CAPTCHA_INVALID_DETAIL = "problem-captcha-invalid-detail";
        PROBLEM_TOO_MANY_REQUESTS_TITLE = "problem-too-many-requests-title";
        /// `$seconds`
        PROBLEM_TOO_MANY_REQUESTS_DETAIL_SECONDS = "problem-too-many-requests-detail-seconds";
        /// `$minutes`
        PROBLEM_TOO_MANY_REQUESTS_DETAIL_MINUTES = "problem-too-many-requests-detail-minutes";
        PROBLEM_INTERNAL_TITLE = "problem-internal-title";
        PROBLEM_INTERNAL_DETAIL = "problem-internal-detail";

        /// `$n`
        SIZE_MEGABYTES = "size-megabytes";
        /// `$n`
        SIZE_KILOBYTES = "size-kilobytes";
        /// `$n`
        SIZE_BYTES = "size-bytes";

        FIELD_REQUIRED = "field-required";
        FIELD_BLANK = "field-blank";
        /// `$max`: the most characters allowed.
        FIELD_TOO_LONG = "field-too-long";
        FIELD_TEXT_TOO_LONG = "field-text-too-long";
        /// `$max`: the most items allowed.
        FIELD_TOO_MANY = "field-too-many";
        FIELD_UNKNOWN_CODE = "field-unknown-code";
        FIELD_INVALID_EMAIL = "field-invalid-email";
        FIELD_INVALID_PHONE = "field-invalid-phone";
        FIELD_LEGAL_PERSON_ONLY = "field-legal-person-only";
        FIELD_NATURAL_PERSON_ONLY = "field-natural-person-only";
        FIELD_DUPLICATE = "field-duplicate";
        FIELD_CONTROL_CHARACTERS = "field-control-characters";
        FIELD_CAPTCHA_INVALID = "field-captcha-invalid";
        FIELD_UNKNOWN_UPLOAD = "field-unknown-upload";
        FIELD_ATTACHMENT_TOO_LARGE = "field-attachment-too-large";
        FIELD_SATISFACTION_OUT_OF_RANGE = "field-satisfaction-out-of-range";
        FIELD_INVALID = "field-invalid";

        STATUS_PENDING = "status-pending";
        STATUS_ANSWERED = "status-answered";
        STATUS_CLOSED = "status-closed";

        HISTORY_FILED = "history-filed";
        HISTORY_ROUTED = "history-routed";
        HISTORY_TRANSFERRED = "history-transferred";
        HISTORY_ANSWERED = "history-answered";
        HISTORY_MESSAGE_CLIENT = "history-message-client";
        HISTORY_MESSAGE_ENTITY = "history-message-entity";
        HISTORY_CLOSED_CLIENT = "history-closed-client";
        HISTORY_CLOSED_ENTITY = "history-closed-entity";
        HISTORY_CLOSED_AUTO = "history-closed-auto";
        HISTORY_REOPENED = "history-reopened";
    }
}

pub(crate) type Bundle = FluentBundle<FluentResource>;

struct Catalog {
    fr: Bundle,
    ar: Bundle,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog {
    fr: build_bundle(Lang::Fr),
    ar: build_bundle(Lang::Ar),
});

/// Builds one language's bundle. The files are part of the binary and tested, so a broken
/// one is a build defect: it stops the process at first use rather than serve raw ids.
fn build_bundle(lang: Lang) -> Bundle {
    bundle_of(lang, "main.ftl", lang.source())
}

/// The bundle of one language's Fluent file `name`, whose text is `source`; panics on a
/// file that does not parse (see [`build_bundle`]).
pub(crate) fn bundle_of(lang: Lang, name: &str, source: &str) -> Bundle {
    let resource = FluentResource::try_new(source.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("locales/{lang}/{name} does not parse: {errors:?}"));
    let locale: LanguageIdentifier = lang.code().parse().expect("fr and ar are valid tags");
    let mut bundle = FluentBundle::new_concurrent(vec![locale]);
    bundle.set_use_isolating(lang.is_rtl());
    if let Err(errors) = bundle.add_resource(resource) {
        panic!("locales/{lang}/{name} defines a message twice: {errors:?}");
    }
    bundle
}

fn bundle(lang: Lang) -> &'static Bundle {
    match lang {
        Lang::Fr => &CATALOG.fr,
        Lang::Ar => &CATALOG.ar,
    }
}

/// The message `id` in `lang`, with `args` put in. An unknown id gives the id back (and is
/// logged): [`msg::ALL`] is tested against both files, so it would be a bug, not an outage.
pub fn tr(lang: Lang, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    format(bundle(lang), lang, id, args)
}

/// The message `id` of `bundle` (in `lang`) with `args` put in; an unknown id gives the id
/// back, and is logged.
pub(crate) fn format(
    bundle: &Bundle,
    lang: Lang,
    id: &str,
    args: &[(&str, FluentValue<'_>)],
) -> String {
    let Some(pattern) = bundle.get_message(id).and_then(|message| message.value()) else {
        tracing::error!(
            id,
            lang = lang.code(),
            "message missing from the translations"
        );
        return id.to_owned();
    };

    let mut fluent_args = FluentArgs::with_capacity(args.len());
    for (name, value) in args {
        fluent_args.set(*name, value.clone());
    }
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
    if !errors.is_empty() {
        tracing::error!(
            id,
            lang = lang.code(),
            ?errors,
            "message formatted with errors"
        );
    }
    text.into_owned()
}

/// The label of a claim status (`pending`, `answered`, `closed`); an unknown status is
/// shown as is.
pub fn status_label(lang: Lang, status: &str) -> String {
    let id = match status {
        "pending" => msg::STATUS_PENDING,
        "answered" => msg::STATUS_ANSWERED,
        "closed" => msg::STATUS_CLOSED,
        other => {
            tracing::warn!(status = other, "no label for this claim status");
            return other.to_owned();
        }
    };
    tr(lang, id, &[])
}

/// The label of a history entry's kind, as the claim history projection names them
/// (`filed`, `client_message`, `auto_closed`...); an unknown kind is shown as is.
pub fn history_label(lang: Lang, kind: &str) -> String {
    let id = match kind {
        "filed" => msg::HISTORY_FILED,
        "routed" => msg::HISTORY_ROUTED,
        "transferred" => msg::HISTORY_TRANSFERRED,
        "answered" => msg::HISTORY_ANSWERED,
        "client_message" | "message_from_client" => msg::HISTORY_MESSAGE_CLIENT,
        "entity_message" | "message_from_entity" => msg::HISTORY_MESSAGE_ENTITY,
        "closed" | "closed_by_client" => msg::HISTORY_CLOSED_CLIENT,
        "closed_by_entity" => msg::HISTORY_CLOSED_ENTITY,
        "auto_closed" | "closed_automatically" => msg::HISTORY_CLOSED_AUTO,
        "reopened" => msg::HISTORY_REOPENED,
        other => {
            tracing::warn!(kind = other, "no label for this history kind");
            return other.to_owned();
        }
    };
    tr(lang, id, &[])
}

/// A size for people: whole megabytes or kilobytes, rounded down so that a limit is never
/// overstated (`20 Mo`, `20 ميغابايت`).
pub fn format_size(lang: Lang, bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    let (id, n) = if bytes >= MIB {
        (msg::SIZE_MEGABYTES, bytes / MIB)
    } else if bytes >= KIB {
        (msg::SIZE_KILOBYTES, bytes / KIB)
    } else {
        (msg::SIZE_BYTES, bytes)
    };
    tr(lang, id, &[("n", FluentValue::from(n))])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use axum::http::Request;
    use fluent_syntax::ast;

    use super::*;

    fn resource(lang: Lang) -> FluentResource {
        FluentResource::try_new(lang.source().to_owned()).expect("locale file parses")
    }

    fn defined_ids(resource: &FluentResource) -> BTreeSet<String> {
        let mut ids = BTreeSet::new();
        for entry in resource.entries() {
            let id = match entry {
                ast::Entry::Message(message) => message.id.name.to_owned(),
                ast::Entry::Term(term) => format!("-{}", term.id.name),
                _ => continue,
            };
            assert!(ids.insert(id.clone()), "{id} defined twice");
        }
        ids
    }

    fn variables_of_pattern(pattern: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                variables_of_expression(expression, out);
            }
        }
    }

    fn variables_of_expression(expression: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
        match expression {
            ast::Expression::Inline(inline) => variables_of_inline(inline, out),
            ast::Expression::Select { selector, variants } => {
                variables_of_inline(selector, out);
                for variant in variants {
                    variables_of_pattern(&variant.value, out);
                }
            }
        }
    }

    fn variables_of_inline(inline: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                out.insert(id.name.to_owned());
            }
            ast::InlineExpression::Placeable { expression } => {
                variables_of_expression(expression, out)
            }
            ast::InlineExpression::FunctionReference { .. } => {
                panic!("functions are not used: extend this walk before using them")
            }
            _ => {}
        }
    }

    fn variables(lang: Lang) -> Vec<(String, BTreeSet<String>)> {
        let resource = resource(lang);
        let mut found = Vec::new();
        for entry in resource.entries() {
            if let ast::Entry::Message(message) = entry {
                let mut names = BTreeSet::new();
                if let Some(value) = &message.value {
                    variables_of_pattern(value, &mut names);
                }
                assert!(message.attributes.is_empty(), "attributes are not used");
                found.push((message.id.name.to_owned(), names));
            }
        }
        found.sort();
        found
    }

    #[test]
    fn both_files_define_exactly_the_ids_the_code_uses() {
        let code: BTreeSet<String> = msg::ALL.iter().map(|id| id.to_string()).collect();
        assert_eq!(code.len(), msg::ALL.len(), "an id is listed twice in msg");
        assert_eq!(
            defined_ids(&resource(Lang::Fr)),
            code,
            "fr/main.ftl against msg::ALL"
        );
        assert_eq!(
            defined_ids(&resource(Lang::Ar)),
            code,
            "ar/main.ftl against msg::ALL"
        );
    }

    #[test]
    fn both_files_use_the_same_variables_in_each_message() {
        assert_eq!(variables(Lang::Fr), variables(Lang::Ar));
    }

    #[test]
    fn every_message_formats_cleanly_in_both_languages() {
        let variables: Vec<_> = variables(Lang::Fr);
        for lang in Lang::ALL {
            for (id, names) in &variables {
                let args: Vec<(&str, FluentValue)> = names
                    .iter()
                    .map(|n| (n.as_str(), FluentValue::from(12)))
                    .collect();
                let mut fluent_args = FluentArgs::new();
                for (name, value) in &args {
                    fluent_args.set(*name, value.clone());
                }
                let bundle = bundle(lang);
                let pattern = bundle
                    .get_message(id)
                    .and_then(|m| m.value())
                    .expect("value");
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
                assert!(errors.is_empty(), "{lang} {id}: {errors:?}");
                assert!(!text.trim().is_empty(), "{lang} {id} is empty");
                assert!(!text.contains(['{', '}']), "{lang} {id}: {text}");
                match lang {
                    Lang::Fr => assert!(!text.contains('\u{2068}'), "{id}: isolation mark"),
                    Lang::Ar => assert!(
                        text.chars().any(|c| ('\u{0621}'..='\u{064A}').contains(&c)),
                        "{id} is not translated into Arabic: {text}"
                    ),
                }
            }
        }
    }

    #[test]
    fn bundles_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>(_: &T) {}
        assert_send_sync(bundle(Lang::Fr));
        let handle = std::thread::spawn(|| tr(Lang::Ar, msg::STATUS_CLOSED, &[]));
        assert_eq!(handle.join().expect("thread"), "مغلقة");
    }

    #[test]
    fn french_values_are_not_isolated() {
        let text = tr(
            Lang::Fr,
            msg::FIELD_TOO_LONG,
            &[("max", FluentValue::from(200))],
        );
        assert_eq!(text, "Ce champ ne doit pas dépasser 200 caractères.");
        let size = format_size(Lang::Fr, 20 * 1024 * 1024);
        assert_eq!(size, "20 Mo");
        let text = tr(
            Lang::Fr,
            msg::PROBLEM_PAYLOAD_TOO_LARGE_DETAIL,
            &[("size", size.into())],
        );
        assert_eq!(text, "La taille maximale autorisée est de 20 Mo.");
    }

    #[test]
    fn arabic_values_keep_their_own_direction() {
        let name = "facture-2026.exe";
        let text = tr(
            Lang::Ar,
            msg::PROBLEM_UNSUPPORTED_MEDIA_TYPE_ARCHIVE_ENTRY,
            &[("name", FluentValue::from(name))],
        );
        assert!(
            text.contains("«\u{2068}facture-2026.exe\u{2069}»"),
            "{text}"
        );
    }

    #[test]
    fn arabic_counted_nouns_follow_the_number() {
        let too_long = |max: u32| tr(Lang::Ar, msg::FIELD_TOO_LONG, &[("max", max.into())]);
        assert!(too_long(10).contains("10\u{2069} أحرف"), "{}", too_long(10));
        assert!(too_long(64).contains("64\u{2069} حرفًا"), "{}", too_long(64));
        assert!(
            too_long(200).contains("200\u{2069} حرف."),
            "{}",
            too_long(200)
        );
        let fields = |count: u32| {
            tr(
                Lang::Ar,
                msg::PROBLEM_VALIDATION_FAILED_DETAIL,
                &[("count", count.into())],
            )
        };
        assert!(fields(1).contains("حقل واحد"), "{}", fields(1));
        assert!(fields(2).contains("حقلين"), "{}", fields(2));
        let french = tr(
            Lang::Fr,
            msg::PROBLEM_VALIDATION_FAILED_DETAIL,
            &[("count", 3.into())],
        );
        assert_eq!(french, "3 champs sont à corriger.");
    }

    #[test]
    fn an_unknown_id_gives_the_id_back() {
        assert_eq!(tr(Lang::Fr, "no-such-message", &[]), "no-such-message");
    }

    #[test]
    fn status_and_history_labels() {
        assert_eq!(
            status_label(Lang::Fr, "pending"),
            "En attente de traitement"
        );
        assert_eq!(status_label(Lang::Fr, "answered"), "Répondue");
        assert_eq!(status_label(Lang::Fr, "closed"), "Clôturée");
        assert_eq!(status_label(Lang::Ar, "pending"), "في انتظار المعالجة");
        assert_eq!(status_label(Lang::Fr, "parked"), "parked");
        assert_eq!(
            history_label(Lang::Fr, "auto_closed"),
            "Clôturée automatiquement"
        );
        assert_eq!(history_label(Lang::Fr, "closed"), "Clôturée par le client");
        assert_eq!(history_label(Lang::Ar, "reopened"), "إعادة فتح الشكاية");
        let kinds = [
            "filed",
            "routed",
            "transferred",
            "answered",
            "client_message",
            "entity_message",
            "closed",
            "closed_by_entity",
            "auto_closed",
            "reopened",
        ];
        let labels: BTreeSet<String> = kinds.iter().map(|k| history_label(Lang::Fr, k)).collect();
        assert_eq!(labels.len(), kinds.len(), "two kinds share a label");
    }

    #[test]
    fn sizes_round_down() {
        assert_eq!(format_size(Lang::Fr, 20 * 1024 * 1024 + 1), "20 Mo");
        assert_eq!(format_size(Lang::Fr, 64 * 1024), "64 Ko");
        assert_eq!(format_size(Lang::Fr, 1000), "1000 octets");
        assert_eq!(
            format_size(Lang::Ar, 2 * 1024 * 1024),
            "\u{2068}2\u{2069} ميغابايت"
        );
    }

    #[test]
    fn tags() {
        assert_eq!(Lang::from_tag("fr"), Some(Lang::Fr));
        assert_eq!(Lang::from_tag("FR-ca"), Some(Lang::Fr));
        assert_eq!(Lang::from_tag("ar-MA"), Some(Lang::Ar));
        assert_eq!(Lang::from_tag("ar_MA"), Some(Lang::Ar));
        assert_eq!(Lang::from_tag("en"), None);
        assert_eq!(Lang::from_tag("*"), None);
        assert_eq!(Lang::from_tag(""), None);
        assert_eq!("ar".parse::<Lang>(), Ok(Lang::Ar));
        assert_eq!(serde_json::to_string(&Lang::Ar).expect("json"), "\"ar\"");
    }

    #[test]
    fn accept_language_follows_q_values() {
        let pick = Lang::from_accept_language;
        assert_eq!(pick("ar-MA"), Some(Lang::Ar));
        assert_eq!(pick("en-US,en;q=0.9,ar;q=0.8"), Some(Lang::Ar));
        assert_eq!(pick("fr;q=0.1, ar;q=0.9"), Some(Lang::Ar));
        assert_eq!(
            pick("ar;q=0.5, fr;q=0.5"),
            Some(Lang::Ar),
            "a tie goes to the first"
        );
        assert_eq!(pick("ar;q=0, fr;q=0.2"), Some(Lang::Fr));
        assert_eq!(pick("ar;q=0"), None, "q=0 means not acceptable");
        assert_eq!(
            pick("ar;q=2, fr;q=0.3"),
            Some(Lang::Fr),
            "q above 1 is malformed"
        );
        assert_eq!(pick("ar;q=x, fr;q=0.3"), Some(Lang::Fr));
        assert_eq!(pick("ar;level, fr"), Some(Lang::Fr));
        assert_eq!(pick("de, en;q=0.8, *;q=0.5"), None);
        assert_eq!(pick(""), None);
    }

    #[test]
    fn the_query_overrides_the_header() {
        assert_eq!(negotiate(Some("ar"), Some("fr")), Lang::Ar);
        assert_eq!(negotiate(Some("fr"), Some("ar")), Lang::Fr);
        assert_eq!(
            negotiate(Some("xx"), Some("ar")),
            Lang::Ar,
            "an unknown ?lang= is ignored"
        );
        assert_eq!(negotiate(None, Some("en")), Lang::Fr);
        assert_eq!(negotiate(None, None), Lang::Fr);

        let request = Request::builder()
            .uri("/api/v1/reference?x=1&lang=ar")
            .header(ACCEPT_LANGUAGE, "fr-FR")
            .body(())
            .expect("request");
        assert_eq!(
            Lang::from_request_head(request.uri(), request.headers()),
            Lang::Ar
        );
        let request = Request::builder()
            .uri("/api/v1/reference?language=ar")
            .header(ACCEPT_LANGUAGE, "ar-MA, fr;q=0.5")
            .body(())
            .expect("request");
        assert_eq!(
            Lang::from_request_head(request.uri(), request.headers()),
            Lang::Ar
        );
        let request = Request::builder().uri("/?lang=").body(()).expect("request");
        assert_eq!(
            Lang::from_request_head(request.uri(), request.headers()),
            Lang::Fr
        );
    }

    #[tokio::test]
    async fn current_is_the_scoped_language() {
        assert_eq!(Lang::current(), Lang::Fr);
        let inside = Lang::Ar.scope(async { Lang::current() }).await;
        assert_eq!(inside, Lang::Ar);
        assert_eq!(Lang::current(), Lang::Fr);
    }
}
