//! The frame of every page and the pieces forms are made of.
//!
//! Every field has its label tied to it; an invalid field says so (`aria-invalid`) and
//! points at its error (`aria-describedby`), and the errors are listed first in a summary
//! that screen readers announce. Numbers, emails and claim numbers are isolated (`<bdi>`)
//! so that they read left to right inside Arabic text.

use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};

use crate::i18n::Lang;
use crate::problem::FieldError;

use super::{t, Ctx};

/// How the page offers the other language.
pub(crate) enum Switch<'a> {
    /// A link to the same page in the other language.
    Link,
    /// A link to `path` (below the language) in the other language: for pages shown in
    /// answer to a form, whose own address takes only `POST`.
    To(String),
    /// A link that, with the page's script, sends form `form` (what was typed) to `action`
    /// in the other language, so that nothing is lost by switching; without the script, the
    /// form's first page in the other language.
    Form { form: &'a str, action: String },
}

fn dir(lang: Lang) -> &'static str {
    if lang.is_rtl() {
        "rtl"
    } else {
        "ltr"
    }
}

fn language_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "Français",
        Lang::Ar => "العربية",
    }
}

/// A whole page: `title` is the page's heading and, with the site's name, its title.
pub(crate) fn page(ctx: &Ctx, title: &str, switch: Switch<'_>, body: Markup) -> Markup {
    let lang = ctx.lang;
    let other = ctx.other_lang();
    let path = ctx.path.split('?').next().unwrap_or_default();
    let agent_area = path.split('/').nth(2) == Some("agent");
    // A refused form says so in the title too, which is read first when the page loads.
    let refused = body.0.contains("id=\"error-summary\"");
    html! {
        (DOCTYPE)
        html lang=(lang.code()) dir=(dir(lang)) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title {
                    @if refused { (t(lang, "title-refused")) " " }
                    (title) " · " (t(lang, "site-name"))
                }
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body.agent-area[agent_area] {
                a.skip-link href="#main" { (t(lang, "skip-to-content")) }
                header.site-header {
                    div.wrap {
                        a.brand href=(ctx.link(if agent_area { "agent" } else { "" })) {
                            span.brand-mark aria-hidden="true" { "◆" }
                            span { (t(lang, "site-name")) }
                        }
                        @if agent_area {
                            span.area-label { (t(lang, "agent-area")) }
                        }
                        nav.lang-nav aria-label=(t(lang, "language-nav")) {
                            @match switch {
                                Switch::Link => {
                                    a #lang-switch href=(ctx.switched_path())
                                        hreflang=(other.code()) lang=(other.code()) {
                                        (language_name(other))
                                    }
                                }
                                Switch::To(path) => {
                                    a #lang-switch href={ "/" (other.code()) "/" (path) }
                                        hreflang=(other.code()) lang=(other.code()) {
                                        (language_name(other))
                                    }
                                }
                                Switch::Form { form, action } => {
                                    a #lang-switch href=(action) data-form=(form)
                                        hreflang=(other.code()) lang=(other.code()) {
                                        (language_name(other))
                                    }
                                }
                            }
                        }
                    }
                }
                main #main .wrap tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
                footer.site-footer {
                    div.wrap {
                        p { (t(lang, "footer-text")) }
                        @if !agent_area {
                            p {
                                a href=(ctx.link("agent/login")) { (t(lang, "footer-agents")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An error page: its own small frame, for errors met before a page could be built.
pub(crate) fn error_page(lang: Lang, title: &str, detail: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) dir=(dir(lang)) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (t(lang, "site-name")) }
                link rel="stylesheet" href="/assets/app.css";
            }
            body {
                header.site-header {
                    div.wrap {
                        a.brand href={ "/" (lang.code()) "/" } {
                            span.brand-mark aria-hidden="true" { "◆" }
                            span { (t(lang, "site-name")) }
                        }
                    }
                }
                main #main .wrap {
                    h1 { (title) }
                    p #error-detail role="alert" { (detail) }
                    p { a href={ "/" (lang.code()) "/" } { (t(lang, "back-home")) } }
                }
            }
        }
    }
}

/// Field errors, by the form's field names.
#[derive(Debug, Default, Clone)]
pub(crate) struct Errors(Vec<(String, String)>);

impl Errors {
    pub fn none() -> Errors {
        Errors::default()
    }

    /// Adds `message` on field `name`.
    pub fn add(&mut self, name: &str, message: impl Into<String>) {
        self.0.push((name.to_owned(), message.into()));
    }

    /// Adds the API's field errors, each on the form field that holds it.
    pub fn extend_api(&mut self, errors: &[FieldError], name_of: impl Fn(&str) -> String) {
        for error in errors {
            self.add(&name_of(&error.field), error.message.clone());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages on field `name`, joined.
    pub fn on(&self, name: &str) -> Option<String> {
        let messages: Vec<&str> = self
            .0
            .iter()
            .filter(|(field, _)| field == name)
            .map(|(_, message)| message.as_str())
            .collect();
        (!messages.is_empty()).then(|| messages.join(" "))
    }

    /// The errors in the order of `order` (the form's fields), then any other.
    fn ordered(&self, order: &[&str]) -> Vec<(String, String)> {
        let mut list: Vec<(String, String)> = Vec::new();
        for name in order {
            if let Some(message) = self.on(name) {
                list.push(((*name).to_owned(), message));
            }
        }
        for (name, message) in &self.0 {
            if !order.contains(&name.as_str()) && !list.iter().any(|(n, _)| n == name) {
                list.push((name.clone(), message.clone()));
            }
        }
        list
    }
}

/// The list of errors at the top of a refused form, each linking to its field; announced
/// when the page loads.
pub(crate) fn error_summary(lang: Lang, errors: &Errors, order: &[&str]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div #error-summary .error-summary role="alert" tabindex="-1"
                aria-labelledby="error-summary-title" {
                h2 #error-summary-title { (t(lang, "errors-title")) }
                ul {
                    @for (name, message) in errors.ordered(order) {
                        li {
                            a href={ "#" (name) } {
                                @match field_label(&name) {
                                    Some(id) => (super::text::ta(lang, "summary-item", &[
                                        ("label", t(lang, id).into()),
                                        ("message", message.into()),
                                    ])),
                                    None => (message),
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The text id of a form field's label, for the error summary.
fn field_label(name: &str) -> Option<&'static str> {
    Some(match name {
        "theme" => "field-theme",
        "filing_place" => "field-filing-place",
        "subject" => "field-subject",
        "request_number" => "field-request-number",
        "message" => "field-message",
        "captcha_answer" => "field-captcha",
        "files" => "attachments-legend",
        "profile" => "field-profile",
        "email" => "field-email",
        "company_name" => "field-company-name",
        "last_name" => "field-last-name",
        "first_name" => "field-first-name",
        "phone" => "field-phone",
        "address" => "field-address",
        "city" => "field-city",
        "country" => "field-country",
        "number" => "field-claim-number",
        "body" | "answer-body" | "message-body" => "field-your-message",
        "answer-files" | "message-files" => "attachments-legend",
        "entity" => "field-entity",
        "transfer-body" => "field-transfer-reason",
        "satisfaction" => "field-satisfaction",
        "comment" => "field-comment",
        "reason" => "field-reason",
        "login" => "field-login",
        "password" => "field-password",
        _ => return None,
    })
}

/// What a field looks like.
#[derive(Clone, Copy)]
pub(crate) struct Field<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub required: bool,
    pub hint: Option<&'a str>,
}

impl<'a> Field<'a> {
    pub fn new(name: &'a str, label: &'a str) -> Field<'a> {
        Field {
            name,
            label,
            required: false,
            hint: None,
        }
    }

    pub fn required(mut self) -> Field<'a> {
        self.required = true;
        self
    }

    pub fn hint(mut self, hint: &'a str) -> Field<'a> {
        self.hint = Some(hint);
        self
    }
}

/// The ids a field's description points at: its hint and its error.
fn described_by(field: &Field<'_>, error: bool) -> Option<String> {
    let mut ids = Vec::new();
    if field.hint.is_some() {
        ids.push(format!("{}-hint", field.name));
    }
    if error {
        ids.push(format!("{}-error", field.name));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

fn label(lang: Lang, field: &Field<'_>) -> Markup {
    html! {
        label for=(field.name) {
            (field.label)
            @if field.required {
                " " abbr.required title=(t(lang, "required")) aria-hidden="true" { "*" }
                span.visually-hidden { " (" (t(lang, "required")) ")" }
            }
        }
    }
}

fn hint_and_error(field: &Field<'_>, error: &Option<String>) -> Markup {
    html! {
        @if let Some(hint) = field.hint {
            p.hint id={ (field.name) "-hint" } { (hint) }
        }
        @if let Some(message) = error {
            p.field-error id={ (field.name) "-error" } { (message) }
        }
    }
}

/// A one-line text input: `kind` is `text`, `email` or `tel`.
pub(crate) fn input(
    lang: Lang,
    field: Field<'_>,
    kind: &str,
    value: &str,
    errors: &Errors,
    extra: InputExtra<'_>,
) -> Markup {
    let error = errors.on(field.name);
    let ltr = matches!(kind, "email" | "tel") || extra.ltr;
    html! {
        div.field.has-error[error.is_some()] {
            (label(lang, &field))
            (hint_and_error(&field, &error))
            input id=(field.name) name=(field.name) type=(kind) value=(value)
                maxlength=[extra.maxlength] autocomplete=[extra.autocomplete]
                dir=[ltr.then_some("ltr")]
                aria-required=[field.required.then_some("true")]
                aria-invalid=[error.is_some().then_some("true")]
                aria-describedby=[described_by(&field, error.is_some())];
        }
    }
}

/// Optional attributes of an input.
#[derive(Default, Clone, Copy)]
pub(crate) struct InputExtra<'a> {
    pub maxlength: Option<usize>,
    pub autocomplete: Option<&'a str>,
    /// Left to right whatever the page (codes, numbers).
    pub ltr: bool,
}

/// A text area.
pub(crate) fn textarea(
    lang: Lang,
    field: Field<'_>,
    value: &str,
    errors: &Errors,
    maxlength: usize,
) -> Markup {
    let error = errors.on(field.name);
    html! {
        div.field.has-error[error.is_some()] {
            (label(lang, &field))
            (hint_and_error(&field, &error))
            textarea id=(field.name) name=(field.name) rows="6" maxlength=(maxlength)
                aria-required=[field.required.then_some("true")]
                aria-invalid=[error.is_some().then_some("true")]
                aria-describedby=[described_by(&field, error.is_some())] { (value) }
        }
    }
}

/// A list to choose from, with a first empty choice when nothing is chosen yet.
pub(crate) fn select(
    lang: Lang,
    field: Field<'_>,
    options: &[(String, String)],
    chosen: &str,
    errors: &Errors,
) -> Markup {
    let error = errors.on(field.name);
    html! {
        div.field.has-error[error.is_some()] {
            (label(lang, &field))
            (hint_and_error(&field, &error))
            select id=(field.name) name=(field.name)
                aria-required=[field.required.then_some("true")]
                aria-invalid=[error.is_some().then_some("true")]
                aria-describedby=[described_by(&field, error.is_some())] {
                option value="" selected[chosen.is_empty()] { (t(lang, "choose")) }
                @for (code, text) in options {
                    option value=(code) selected[code == chosen] { (text) }
                }
            }
        }
    }
}

/// Radio buttons in a fieldset whose legend is the field's label.
pub(crate) fn radios(
    lang: Lang,
    field: Field<'_>,
    options: &[(String, String)],
    chosen: &str,
    errors: &Errors,
) -> Markup {
    let error = errors.on(field.name);
    html! {
        fieldset.field.radios.has-error[error.is_some()] id=(field.name)
            aria-invalid=[error.is_some().then_some("true")]
            aria-describedby=[described_by(&field, error.is_some())] {
            legend {
                (field.label)
                @if field.required {
                    " " abbr.required title=(t(lang, "required")) aria-hidden="true" { "*" }
                    span.visually-hidden { " (" (t(lang, "required")) ")" }
                }
            }
            (hint_and_error(&field, &error))
            div.choices {
                @for (i, (code, text)) in options.iter().enumerate() {
                    @let id = format!("{}-{}", field.name, i + 1);
                    label.choice for=(id) {
                        input type="radio" id=(id) name=(field.name) value=(code)
                            checked[code == chosen];
                        span { (text) }
                    }
                }
            }
        }
    }
}

/// A file input taking several files, with what the limits are; `id` tells apart the file
/// inputs of one page (and names their errors), `name` is the form's field.
pub(crate) fn file_input(lang: Lang, id: &str, name: &str, errors: &Errors) -> Markup {
    let error = errors.on(id);
    let hint = t(lang, "files-hint");
    let field = Field::new(id, "").hint(&hint);
    html! {
        div.field.has-error[error.is_some()] {
            label for=(id) { (t(lang, "files-label")) }
            (hint_and_error(&field, &error))
            input id=(id) name=(name) type="file" multiple
                accept=".pdf,.jpg,.jpeg,.png,.gif,.webp,.tif,.tiff,.bmp,.heic,.heif,.zip,\
                    application/pdf,image/*,application/zip"
                data-max-bytes=(crate::uploads::MAX_UPLOAD)
                data-too-large=(t(lang, "file-too-large"))
                aria-invalid=[error.is_some().then_some("true")]
                aria-describedby=[described_by(&field, error.is_some())];
        }
    }
}

/// Files already sent with a form that was refused: listed, and sent again with it.
pub(crate) fn attached(lang: Lang, uploads: &[claimdesk_store::services::Upload]) -> Markup {
    html! {
        @if !uploads.is_empty() {
            div.field {
                p.label { (t(lang, "already-attached")) }
                ul.attached {
                    @for upload in uploads {
                        li {
                            input type="hidden" name="upload" value=(upload.token);
                            span dir="auto" { (upload.filename) }
                            " (" (crate::i18n::format_size(lang, upload.size)) ")"
                        }
                    }
                }
            }
        }
    }
}

/// The hidden form token.
pub(crate) fn csrf(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

/// A value that must read left to right inside any text (numbers, emails, codes).
pub(crate) fn ltr(text: &str) -> Markup {
    html! { bdi dir="ltr" { (text) } }
}

/// A time for people: the day and minute in UTC, marked up so that the page's script can
/// show it in the reader's own zone.
pub(crate) fn time(lang: Lang, at: &str) -> Markup {
    let Ok(parsed) = DateTime::parse_from_rfc3339(at) else {
        return html! { (at) };
    };
    let utc: DateTime<Utc> = parsed.with_timezone(&Utc);
    let shown = utc.format("%d/%m/%Y %H:%M UTC").to_string();
    html! {
        time datetime=(utc.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            data-lang=(lang.code()) { bdi dir="ltr" { (shown) } }
    }
}

/// A notice after an action succeeded; announced politely.
pub(crate) fn notice(text: &str) -> Markup {
    html! { p #notice .notice role="status" { (text) } }
}

/// The notice of an action that was not done because the claim changed meanwhile, with
/// what was typed for it, ready to copy.
pub(crate) fn unsent(lang: Lang, text: &str, typed: &[&str]) -> Markup {
    html! {
        div #notice .notice.warning role="alert" {
            p { (text) }
            @for (i, value) in typed.iter().filter(|v| !v.trim().is_empty()).enumerate() {
                label for={ "unsent-" (i) } { (t(lang, "unsent-label")) }
                textarea id={ "unsent-" (i) } readonly rows="4" dir="auto" { (value) }
            }
        }
    }
}

/// Text with its line breaks kept.
pub(crate) fn multiline(text: &str) -> Markup {
    html! {
        div.multiline dir="auto" {
            @for (i, line) in text.split('\n').enumerate() {
                @if i > 0 { br; }
                (line)
            }
        }
    }
}
