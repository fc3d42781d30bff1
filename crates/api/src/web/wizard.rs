//! The three-step filing wizard: the claim, the contact details, the recap.
//!
//! Everything typed travels in the form from step to step (nothing is kept on the server
//! between steps but the files, which are stored as they arrive, and the proof that the
//! captcha was solved). Each step is checked by the API's own validation; a refused step is
//! shown again with its errors and every value. The captcha is checked at the first step:
//! solving it gives a single-use pass that the confirmation spends, so a double click on
//! "confirm" files one claim, and the second click lands on the same confirmation.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use claimdesk_store::services::{Token, Upload};
use maud::{html, Markup};

use crate::app::AppState;
use crate::auth::{new_secret, secret_hash};
use crate::captcha;
use crate::i18n::Lang;
use crate::problem::{field_code, ApiError, FieldError};
use crate::reference::{RefKind, Reference};
use crate::routes::claims::{file_claim, issue_claim_token, HumanProof};
use crate::routes::public::issue_captcha;
use crate::validate::{
    validate_filing, ClaimInput, ContactInput, FilingRequest, ADDRESS_MAX, CAPTCHA_ANSWER_MAX,
    CITY_MAX, COMPANY_NAME_MAX, EMAIL_MAX, NAME_MAX, PHONE_MAX,
};

use super::client::{kept_uploads, upload_all};
use super::form::Form;
use super::layout::{self, Errors, Field, InputExtra, Switch};
use super::{form_field, in_page, t, Ctx, PageError, CLAIM_COOKIE};

/// The claim's fields (step 1), as named in the form.
const CLAIM_FIELDS: [&str; 5] = [
    "theme",
    "filing_place",
    "subject",
    "request_number",
    "message",
];
/// The contact details' fields (step 2).
const CONTACT_FIELDS: [&str; 9] = [
    "profile",
    "email",
    "company_name",
    "last_name",
    "first_name",
    "phone",
    "address",
    "city",
    "country",
];
/// Step 1's fields in page order, for the error summary.
const STEP1_ORDER: [&str; 7] = [
    "theme",
    "filing_place",
    "subject",
    "request_number",
    "message",
    "captcha_answer",
    "files",
];
/// The token kind of a solved captcha's pass.
const PASS: &str = "captcha_pass";
/// The token kind that remembers which claim a pass filed.
const FILED: &str = "wizard_filed";
/// How long a solved captcha stays good for filing.
const PASS_TTL: chrono::TimeDelta = chrono::TimeDelta::hours(2);
/// How long a second click on "confirm" waits for the first one's claim.
const SECOND_CLICK_WAIT: Duration = Duration::from_secs(15);
const SUBJECT_MAX: usize = 200;
const REQUEST_NUMBER_MAX: usize = 64;
const MESSAGE_MAX: usize = 10_000;

/// What the wizard's form holds so far.
#[derive(Default)]
struct Draft {
    values: Vec<(&'static str, String)>,
    /// The files sent so far, still known to the server.
    uploads: Vec<Upload>,
    /// The pass of a solved captcha, if still good.
    pass: Option<String>,
    /// The claim this form's pass already filed (the form came back through the browser's
    /// history after "confirm").
    filed: Option<String>,
}

impl Draft {
    async fn read(state: &AppState, form: &Form) -> Result<Draft, ApiError> {
        let mut draft = Draft::default();
        for name in CLAIM_FIELDS.iter().chain(CONTACT_FIELDS.iter()) {
            draft.values.push((name, form.text(name)));
        }
        let removed = form.get("action").and_then(|a| a.strip_prefix("remove:"));
        draft.uploads = kept_uploads(state, form, removed).await?;
        if let Some(pass) = form.get("pass").filter(|p| !p.is_empty()) {
            if pass_is_good(state, pass).await? {
                draft.pass = Some(pass.to_owned());
            } else if let Some(number) = filed_with(state, pass).await? {
                draft.filed = Some(number);
            }
        }
        Ok(draft)
    }

    fn get(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or_default()
    }

    fn legal_person(&self) -> bool {
        self.get("profile") == "legal_person"
    }

    /// The filing as the API takes it. Fields of the other profile are left out.
    fn request(&self, lang: Lang) -> FilingRequest {
        let opt = |name: &str| Some(self.get(name).to_owned()).filter(|v| !v.trim().is_empty());
        let legal = self.legal_person();
        let natural = self.get("profile") == "natural_person";
        FilingRequest {
            claim: Some(ClaimInput {
                theme: opt("theme"),
                filing_place: opt("filing_place"),
                subject: opt("subject"),
                request_number: opt("request_number"),
                message: opt("message"),
                attachments: Some(self.uploads.iter().map(|u| u.token.clone()).collect()),
            }),
            contact: Some(ContactInput {
                profile: opt("profile"),
                email: opt("email"),
                company_name: opt("company_name").filter(|_| legal),
                last_name: opt("last_name").filter(|_| natural),
                first_name: opt("first_name").filter(|_| natural),
                phone: opt("phone"),
                address: opt("address"),
                city: opt("city"),
                country: opt("country"),
            }),
            captcha: None,
            language: Some(lang.code().to_owned()),
        }
    }

    /// The field errors of the steps whose fields start with `prefix` (`claim.`,
    /// `contact.`).
    fn errors(&self, lang: Lang, prefix: &str) -> Vec<FieldError> {
        match validate_filing(&self.request(lang), lang) {
            Ok(_) => Vec::new(),
            Err(errors) => errors
                .into_iter()
                .filter(|e| e.field.starts_with(prefix))
                .collect(),
        }
    }
}

async fn pass_is_good(state: &AppState, pass: &str) -> Result<bool, ApiError> {
    let token = state
        .store
        .token_get(&secret_hash(pass), state.clock.now())
        .await?;
    Ok(token.is_some_and(|t| t.kind == PASS))
}

async fn new_pass(state: &AppState) -> Result<String, ApiError> {
    let (pass, hash) = new_secret();
    insert_pass(state, &hash).await?;
    Ok(pass)
}

async fn insert_pass(state: &AppState, hash: &str) -> Result<(), ApiError> {
    let token = Token {
        token_hash: hash.to_owned(),
        kind: PASS.to_owned(),
        subject: hash.to_owned(),
        expires_at: state.clock.now() + PASS_TTL,
    };
    state.store.token_insert(&token).await?;
    Ok(())
}

fn filed_marker(pass: &str) -> String {
    secret_hash(&format!("filed:{pass}"))
}

/// The claim that `pass` filed, if it did.
async fn filed_with(state: &AppState, pass: &str) -> Result<Option<String>, ApiError> {
    let token = state
        .store
        .token_get(&filed_marker(pass), state.clock.now())
        .await?;
    Ok(token.filter(|t| t.kind == FILED).map(|t| t.subject))
}

/// `GET /{lang}/claims/new`: an empty first step.
pub(super) async fn start(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    step_one(
        &state,
        &ctx,
        &Draft::default(),
        &Errors::none(),
        StatusCode::OK,
    )
    .await
}

/// `POST /{lang}/claims/new`: one of the wizard's buttons.
pub(super) async fn step(
    State(state): State<AppState>,
    ctx: Ctx,
    form: Form,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let mut draft = Draft::read(&state, &form).await.map_err(in_page(lang))?;
    if let Some(number) = draft.filed.take() {
        // This form has filed its claim already: its confirmation, not a second claim.
        return filed(&state, &ctx, &number, true).await;
    }
    let mut errors = Errors::none();
    let from = form.get("step").unwrap_or("1");
    let action = form.text("action");

    // Files chosen on the first step are kept whatever the button.
    if from == "1" {
        store_files(&state, lang, &form, &mut draft, &mut errors).await?;
    }
    match (from, action.as_str()) {
        ("1", "next") => first_step_done(&state, &ctx, draft, errors, &form).await,
        ("2", "next") => {
            let mut errors = errors;
            errors.extend_api(&draft.errors(lang, "contact."), form_field);
            if errors.is_empty() {
                Ok(step_three(&ctx, &draft, &errors, StatusCode::OK))
            } else {
                Ok(step_two(
                    &ctx,
                    &draft,
                    &errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                ))
            }
        }
        ("3", "confirm") => confirm(&state, &ctx, draft, &form).await,
        ("2", "switch") => Ok(step_two(&ctx, &draft, &errors, StatusCode::OK)),
        ("3", "switch") => Ok(step_three(&ctx, &draft, &errors, StatusCode::OK)),
        _ => {
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            step_one(&state, &ctx, &draft, &errors, status).await
        }
    }
}

/// Stores the files sent with the form, up to the most a claim takes; a refused file is an
/// error on the file input.
async fn store_files(
    state: &AppState,
    lang: Lang,
    form: &Form,
    draft: &mut Draft,
    errors: &mut Errors,
) -> Result<(), PageError> {
    let stored = upload_all(state, lang, form, errors, "files").await?;
    draft.uploads.extend(stored);
    if draft.uploads.len() > crate::validate::ATTACHMENTS_MAX {
        draft.uploads.truncate(crate::validate::ATTACHMENTS_MAX);
        let error = FieldError::new("files", field_code::TOO_MANY, lang);
        errors.add("files", error.message);
    }
    Ok(())
}

async fn first_step_done(
    state: &AppState,
    ctx: &Ctx,
    mut draft: Draft,
    mut errors: Errors,
    form: &Form,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    errors.extend_api(&draft.errors(lang, "claim."), form_field);
    if draft.pass.is_none() {
        let id = form.text("captcha_id");
        let answer = form.text("captcha_answer");
        if answer.trim().is_empty() {
            let error = FieldError::new("captcha_answer", field_code::REQUIRED, lang);
            errors.add("captcha_answer", error.message);
        } else {
            let hash = captcha::answer_hash(answer.trim());
            let now = state.clock.now();
            let solved = answer.chars().count() <= CAPTCHA_ANSWER_MAX
                && state
                    .store
                    .captcha_consume(&id, &hash, now)
                    .await
                    .map_err(|e| PageError::new(lang, e.into()))?;
            if solved {
                draft.pass = Some(new_pass(state).await.map_err(in_page(lang))?);
            } else {
                let error = FieldError::new("captcha_answer", field_code::CAPTCHA_INVALID, lang);
                errors.add("captcha_answer", error.message);
            }
        }
    }
    if errors.is_empty() {
        Ok(step_two(ctx, &draft, &errors, StatusCode::OK))
    } else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        step_one(state, ctx, &draft, &errors, status).await
    }
}

async fn confirm(
    state: &AppState,
    ctx: &Ctx,
    mut draft: Draft,
    form: &Form,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let sent_pass = form.text("pass");
    let spent = !sent_pass.is_empty()
        && state
            .store
            .token_delete_subject(PASS, &secret_hash(&sent_pass))
            .await
            .map_err(|e| PageError::new(lang, e.into()))?
            == 1;
    if !spent {
        // A second click: the first one is filing, or has filed, with this pass.
        if !sent_pass.is_empty() {
            if let Some(number) = filed_by(state, &sent_pass).await.map_err(in_page(lang))? {
                return filed(state, ctx, &number, false).await;
            }
        }
        let mut errors = Errors::none();
        errors.add("captcha_answer", t(lang, "captcha-expired"));
        draft.pass = None;
        return step_one(
            state,
            ctx,
            &draft,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }

    match file_claim(state, lang, &draft.request(lang), HumanProof::Verified).await {
        Ok(done) => {
            let marker = Token {
                token_hash: filed_marker(&sent_pass),
                kind: FILED.to_owned(),
                subject: done.number.clone(),
                expires_at: state.clock.now() + PASS_TTL,
            };
            state
                .store
                .token_insert(&marker)
                .await
                .map_err(|e| PageError::new(lang, e.into()))?;
            let location = ctx.link(&format!("claims/{}/filed", done.number));
            let now = state.clock.now();
            Ok(ctx.redirect_keeping(&location, CLAIM_COOKIE, &done.token, done.expires_at, now))
        }
        Err(error) => {
            // Nothing was filed: the pass is good again for the corrected form.
            insert_pass(state, &secret_hash(&sent_pass))
                .await
                .map_err(in_page(lang))?;
            let ApiError::Validation(fields) = error else {
                return Err(PageError::new(lang, error));
            };
            let mut errors = Errors::none();
            errors.extend_api(&fields, form_field);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            if fields.iter().any(|f| f.field.starts_with("claim.")) {
                step_one(state, ctx, &draft, &errors, status).await
            } else {
                Ok(step_two(ctx, &draft, &errors, status))
            }
        }
    }
}

/// The claim a pass filed, waiting a while for a first click still at work.
async fn filed_by(state: &AppState, pass: &str) -> Result<Option<String>, ApiError> {
    let deadline = tokio::time::Instant::now() + SECOND_CLICK_WAIT;
    loop {
        if let Some(number) = filed_with(state, pass).await? {
            return Ok(Some(number));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The confirmation of a claim filed by an earlier click: a new claim token for this one;
/// `again` says so on the page (the form came back through the browser's history).
async fn filed(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    again: bool,
) -> Result<Response, PageError> {
    let (token, expires_at) = issue_claim_token(state, number)
        .await
        .map_err(in_page(ctx.lang))?;
    let again = if again { "?again=1" } else { "" };
    let location = ctx.link(&format!("claims/{number}/filed{again}"));
    let now = state.clock.now();
    Ok(ctx.redirect_keeping(&location, CLAIM_COOKIE, &token, expires_at, now))
}

/// The choices of a list, in the reference data's order (French alphabetical, Morocco
/// first); in Arabic, the countries after Morocco in the Arabic alphabet's order (the code
/// points' order), so that a reader finds one by its name.
fn options(kind: RefKind, lang: Lang) -> Vec<(String, String)> {
    let mut choices: Vec<(String, String)> = Reference::load()
        .items(kind)
        .iter()
        .map(|item| (item.code.clone(), item.labels.get(lang).to_owned()))
        .collect();
    if kind == RefKind::Country && lang == Lang::Ar && choices.len() > 1 {
        choices[1..].sort_by(|a, b| a.1.cmp(&b.1));
    }
    choices
}

fn label_of(kind: RefKind, code: &str, lang: Lang) -> String {
    Reference::load()
        .item(kind, code)
        .map(|item| item.labels.get(lang).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

/// The steps, the current one marked.
fn steps(lang: Lang, current: u8) -> Markup {
    let names = ["step-claim", "step-contact", "step-recap"];
    html! {
        nav.steps aria-label=(t(lang, "steps-label")) {
            ol {
                @for (i, name) in names.iter().enumerate() {
                    @let n = i as u8 + 1;
                    li.current[n == current].done[n < current]
                        aria-current=[(n == current).then_some("step")] {
                        span.step-number { (n) }
                        span.step-name { (t(lang, name)) }
                    }
                }
            }
        }
    }
}

/// The wizard's form around `body`, with every value not shown on this step hidden.
///
/// Its first button goes to the next step: it is the one that Enter in a field presses (the
/// form's other buttons, "another image", "remove", "previous step", come before "next").
/// Its last one, hidden, is what the language link presses with the page's script.
fn wizard_form(ctx: &Ctx, step: u8, draft: &Draft, shown: &[&str], body: Markup) -> Markup {
    let other = format!("/{}/claims/new", ctx.other_lang().code());
    html! {
        form #wizard method="post" action=(ctx.link("claims/new"))
            enctype="multipart/form-data" novalidate data-step=(step) {
            (layout::csrf(ctx))
            @if step < 3 {
                button.visually-hidden type="submit" name="action" value="next" tabindex="-1"
                    aria-hidden="true" { (t(ctx.lang, "next-step")) }
            }
            input type="hidden" name="step" value=(step);
            @for (name, value) in &draft.values {
                @if !shown.contains(name) {
                    input type="hidden" name=(name) value=(value);
                }
            }
            @for upload in &draft.uploads {
                input type="hidden" name="upload" value=(upload.token);
            }
            @if let Some(pass) = &draft.pass {
                input type="hidden" name="pass" value=(pass);
            }
            (body)
            button #lang-switch-submit hidden type="submit" name="action" value="switch"
                formaction=(other) formnovalidate tabindex="-1" { (t(ctx.lang, "next-step")) }
        }
    }
}

fn switch_for(ctx: &Ctx) -> Switch<'static> {
    Switch::Form {
        form: "wizard",
        action: format!("/{}/claims/new", ctx.other_lang().code()),
    }
}

async fn step_one(
    state: &AppState,
    ctx: &Ctx,
    draft: &Draft,
    errors: &Errors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let captcha = match draft.pass {
        Some(_) => None,
        None => Some(issue_captcha(state).await.map_err(in_page(lang))?),
    };
    let extra = |max: usize| InputExtra {
        maxlength: Some(max),
        ..InputExtra::default()
    };
    let body = html! {
        (steps(lang, 1))
        (layout::error_summary(lang, errors, &STEP1_ORDER))
        p.intro { (t(lang, "wizard-intro")) }
        (wizard_form(ctx, 1, draft, &CLAIM_FIELDS, html! {
            fieldset.group {
                legend { (t(lang, "step-claim")) }
                (layout::select(lang, Field::new("theme", &t(lang, "field-theme")).required(),
                    &options(RefKind::Theme, lang), draft.get("theme"), errors))
                (layout::select(lang,
                    Field::new("filing_place", &t(lang, "field-filing-place")).required(),
                    &options(RefKind::FilingPlace, lang), draft.get("filing_place"), errors))
                (layout::input(lang, Field::new("subject", &t(lang, "field-subject")).required(),
                    "text", draft.get("subject"), errors, extra(SUBJECT_MAX)))
                (layout::input(lang,
                    Field::new("request_number", &t(lang, "field-request-number")).required()
                        .hint(&t(lang, "field-request-number-hint")),
                    "text", draft.get("request_number"), errors, InputExtra {
                        maxlength: Some(REQUEST_NUMBER_MAX), ltr: true, ..InputExtra::default()
                    }))
                (layout::textarea(lang, Field::new("message", &t(lang, "field-message")).required(),
                    draft.get("message"), errors, MESSAGE_MAX))
            }
            fieldset.group {
                legend { (t(lang, "captcha-legend")) }
                @match &captcha {
                    None => {
                        p #captcha-solved .solved { (t(lang, "captcha-solved")) }
                    }
                    Some(captcha) => {
                        input type="hidden" name="captcha_id" value=(captcha.id);
                        img #captcha-image .captcha src=(captcha.image) width="200" height="70"
                            alt=(t(lang, "captcha-alt"));
                        (layout::input(lang,
                            Field::new("captcha_answer", &t(lang, "field-captcha")).required()
                                .hint(&t(lang, "field-captcha-hint")),
                            "text", "", errors, InputExtra {
                                maxlength: Some(CAPTCHA_ANSWER_MAX), autocomplete: Some("off"),
                                ltr: true,
                            }))
                        button.link-button type="submit" name="action" value="new_captcha"
                            formnovalidate { (t(lang, "captcha-other")) }
                    }
                }
            }
            fieldset.group {
                legend { (t(lang, "attachments-legend")) }
                @if !draft.uploads.is_empty() {
                    ul #attached .attached {
                        @for upload in &draft.uploads {
                            li {
                                span.file-name dir="auto" { (upload.filename) }
                                " "
                                span.file-size {
                                    "(" (crate::i18n::format_size(lang, upload.size)) ")"
                                }
                                " "
                                button.link-button type="submit" name="action"
                                    value={ "remove:" (upload.token) } formnovalidate {
                                    (t(lang, "remove-file"))
                                    span.visually-hidden { " " (upload.filename) }
                                }
                            }
                        }
                    }
                }
                (layout::file_input(lang, "files", "files", errors))
            }
            div.actions {
                button #next .primary type="submit" name="action" value="next" {
                    (t(lang, "next-step"))
                }
            }
        }))
    };
    let markup = layout::page(ctx, &t(lang, "wizard-title"), switch_for(ctx), body);
    Ok(ctx.page_in_history(status, markup))
}

fn step_two(ctx: &Ctx, draft: &Draft, errors: &Errors, status: StatusCode) -> Response {
    let lang = ctx.lang;
    let extra = |max: usize, autocomplete: &'static str| InputExtra {
        maxlength: Some(max),
        autocomplete: Some(autocomplete),
        ltr: false,
    };
    let body = html! {
        (steps(lang, 2))
        (layout::error_summary(lang, errors, &CONTACT_FIELDS))
        (wizard_form(ctx, 2, draft, &CONTACT_FIELDS, html! {
            fieldset.group.profiled {
                legend { (t(lang, "step-contact")) }
                (layout::radios(lang, Field::new("profile", &t(lang, "field-profile")).required(),
                    &options(RefKind::Profile, lang), draft.get("profile"), errors))
                (layout::input(lang, Field::new("email", &t(lang, "field-email")).required()
                        .hint(&t(lang, "field-email-hint")),
                    "email", draft.get("email"), errors, extra(EMAIL_MAX, "email")))
                div.legal-only {
                    (layout::input(lang,
                        Field::new("company_name", &t(lang, "field-company-name"))
                            .hint(&t(lang, "legal-only-hint")),
                        "text", draft.get("company_name"), errors,
                        extra(COMPANY_NAME_MAX, "organization")))
                }
                div.natural-only {
                    (layout::input(lang, Field::new("last_name", &t(lang, "field-last-name"))
                            .hint(&t(lang, "natural-only-hint")),
                        "text", draft.get("last_name"), errors, extra(NAME_MAX, "family-name")))
                    (layout::input(lang, Field::new("first_name", &t(lang, "field-first-name"))
                            .hint(&t(lang, "natural-only-hint")),
                        "text", draft.get("first_name"), errors, extra(NAME_MAX, "given-name")))
                }
                (layout::input(lang, Field::new("phone", &t(lang, "field-phone")),
                    "tel", draft.get("phone"), errors, extra(PHONE_MAX, "tel")))
                (layout::input(lang, Field::new("address", &t(lang, "field-address")),
                    "text", draft.get("address"), errors, extra(ADDRESS_MAX, "street-address")))
                (layout::input(lang, Field::new("city", &t(lang, "field-city")),
                    "text", draft.get("city"), errors, extra(CITY_MAX, "address-level2")))
                (layout::select(lang, Field::new("country", &t(lang, "field-country")),
                    &options(RefKind::Country, lang), draft.get("country"), errors))
            }
            div.actions {
                button.secondary type="submit" name="action" value="back" formnovalidate {
                    (t(lang, "previous-step"))
                }
                button #next .primary type="submit" name="action" value="next" {
                    (t(lang, "next-step"))
                }
            }
        }))
    };
    let markup = layout::page(ctx, &t(lang, "wizard-title"), switch_for(ctx), body);
    ctx.page_in_history(status, markup)
}

fn step_three(ctx: &Ctx, draft: &Draft, errors: &Errors, status: StatusCode) -> Response {
    let lang = ctx.lang;
    let row = |label: String, value: Markup| {
        html! { div.row { dt { (label) } dd { (value) } } }
    };
    let text = |name: &str| html! { span dir="auto" { (draft.get(name)) } };
    let legal = draft.legal_person();
    let shown = |name: &str| match name {
        "company_name" => legal,
        "last_name" | "first_name" => !legal,
        _ => true,
    };
    let body = html! {
        (steps(lang, 3))
        (layout::error_summary(lang, errors, &[]))
        p.intro { (t(lang, "recap-intro")) }
        div #recap {
            section.recap-part {
                h2 { (t(lang, "step-claim")) }
                dl {
                    (row(t(lang, "field-theme"), html! {
                        (label_of(RefKind::Theme, draft.get("theme"), lang)) }))
                    (row(t(lang, "field-filing-place"), html! {
                        (label_of(RefKind::FilingPlace, draft.get("filing_place"), lang)) }))
                    (row(t(lang, "field-subject"), text("subject")))
                    (row(t(lang, "field-request-number"), layout::ltr(draft.get("request_number"))))
                    (row(t(lang, "field-message"), layout::multiline(draft.get("message"))))
                    (row(t(lang, "attachments-legend"), html! {
                        @if draft.uploads.is_empty() { (t(lang, "no-attachments")) }
                        ul.attached {
                            @for upload in &draft.uploads {
                                li { span dir="auto" { (upload.filename) } " ("
                                    (crate::i18n::format_size(lang, upload.size)) ")" }
                            }
                        }
                    }))
                }
            }
            section.recap-part {
                h2 { (t(lang, "step-contact")) }
                dl {
                    (row(t(lang, "field-profile"), html! {
                        (label_of(RefKind::Profile, draft.get("profile"), lang)) }))
                    (row(t(lang, "field-email"), layout::ltr(draft.get("email"))))
                    @for (name, label) in [
                        ("company_name", "field-company-name"), ("last_name", "field-last-name"),
                        ("first_name", "field-first-name"), ("address", "field-address"),
                        ("city", "field-city"),
                    ] {
                        @if shown(name) && !draft.get(name).trim().is_empty() {
                            (row(t(lang, label), text(name)))
                        }
                    }
                    @if !draft.get("phone").trim().is_empty() {
                        (row(t(lang, "field-phone"), layout::ltr(draft.get("phone"))))
                    }
                    @if !draft.get("country").is_empty() {
                        (row(t(lang, "field-country"), html! {
                            (label_of(RefKind::Country, draft.get("country"), lang)) }))
                    }
                }
            }
        }
        (wizard_form(ctx, 3, draft, &[], html! {
            div.actions {
                button.secondary type="submit" name="action" value="modify" formnovalidate {
                    (t(lang, "modify"))
                }
                button #confirm .primary type="submit" name="action" value="confirm"
                    data-once=(t(lang, "sending")) {
                    (t(lang, "confirm"))
                }
            }
        }))
    };
    let markup = layout::page(ctx, &t(lang, "wizard-title"), switch_for(ctx), body);
    ctx.page_in_history(status, markup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_countries_follow_the_arabic_alphabet_after_morocco() {
        let ar = options(RefKind::Country, Lang::Ar);
        assert_eq!(ar[0].0, "MA");
        assert!(ar[1..].windows(2).all(|w| w[0].1 <= w[1].1));
        let fr = options(RefKind::Country, Lang::Fr);
        let file: Vec<&str> = Reference::load()
            .items(RefKind::Country)
            .iter()
            .map(|item| item.code.as_str())
            .collect();
        assert_eq!(
            fr.iter().map(|(code, _)| code.as_str()).collect::<Vec<_>>(),
            file
        );
        assert_eq!(ar.len(), fr.len());
    }

    #[test]
    fn api_fields_land_on_their_form_fields() {
        assert_eq!(form_field("claim.subject"), "subject");
        assert_eq!(form_field("claim.attachments[3]"), "files");
        assert_eq!(form_field("claim.attachments"), "files");
        assert_eq!(form_field("contact.email"), "email");
        assert_eq!(form_field("captcha.answer"), "captcha_answer");
        assert_eq!(form_field("captcha.id"), "captcha_answer");
    }

    #[test]
    fn fields_of_the_other_profile_are_not_sent() {
        let mut draft = Draft::default();
        for (name, value) in [
            ("profile", "natural_person"),
            ("company_name", "ACME"),
            ("last_name", "Alaoui"),
        ] {
            draft.values.push((
                CONTACT_FIELDS
                    .iter()
                    .find(|n| **n == name)
                    .expect("a field"),
                value.to_owned(),
            ));
        }
        let contact = draft.request(Lang::Fr).contact.expect("contact");
        assert_eq!(contact.company_name, None);
        assert_eq!(contact.last_name.as_deref(), Some("Alaoui"));
    }
}
