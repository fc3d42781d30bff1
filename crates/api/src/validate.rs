//! Field validation of the filing body (`POST /api/v1/claims` and `/claims/validate`).
//!
//! What this module promises:
//! - Every field is optional for serde, so a missing field is a 422 naming that field,
//!   not a 400 for the whole body; unknown fields are ignored.
//! - All errors are reported at once, in the order of the form, with paths such as
//!   `claim.subject`, `contact.email` or `claim.attachments[2]`, and messages in the
//!   request's language.
//! - Blank means nothing visible: whitespace (no-break spaces U+00A0, U+2007 and U+202F
//!   included) and zero-width characters (U+200B–U+200D, U+2060, U+FEFF, and as in the
//!   domain the soft hyphen U+00AD and U+180E). A blank required field is refused (F16); a
//!   blank optional field counts as absent.
//! - What passes comes out clean: trimmed of invisible characters at both ends, control
//!   characters dropped (single-line fields turn tabs and line breaks into spaces,
//!   multi-line ones keep line breaks as `\n`), country codes in upper case, phone digits
//!   in ASCII. Lengths count characters, and no limit exceeds the domain's own.
//! - The captcha is only checked for shape: a body without one passes, as
//!   `/claims/validate` needs; filing must call [`ValidFiling::captcha`] and check the
//!   answer against the stored hash.

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::problem::{field_code, FieldError};
use crate::reference::Reference;

pub const SUBJECT_MAX: usize = 200;
pub const REQUEST_NUMBER_MAX: usize = 64;
pub const MESSAGE_MAX: usize = 10_000;
pub const ATTACHMENTS_MAX: usize = 10;
pub const ATTACHMENT_TOKEN_MAX: usize = 128;
pub const EMAIL_MAX: usize = 254;
const EMAIL_LOCAL_MAX: usize = 64;
pub const COMPANY_NAME_MAX: usize = 200;
pub const NAME_MAX: usize = 100;
pub const PHONE_MAX: usize = 32;
const PHONE_MIN_DIGITS: usize = 6;
pub const ADDRESS_MAX: usize = 500;
pub const CITY_MAX: usize = 100;
pub const CAPTCHA_ID_MAX: usize = 64;
pub const CAPTCHA_ANSWER_MAX: usize = 32;

/// The body of `POST /api/v1/claims`, as sent.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct FilingRequest {
    #[schema(value_type = ClaimInput, required = true)]
    pub claim: Option<ClaimInput>,
    #[schema(value_type = ContactInput, required = true)]
    pub contact: Option<ContactInput>,
    /// Required to file (`POST /api/v1/claims`), optional to validate.
    pub captcha: Option<CaptchaInput>,
    /// The claim's language, else the request's.
    #[schema(value_type = Option<crate::openapi::Language>)]
    pub language: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ClaimInput {
    /// A code of the reference data's `themes`.
    #[schema(value_type = String, required = true)]
    pub theme: Option<String>,
    /// A code of the reference data's `filing_places`.
    #[schema(value_type = String, required = true)]
    pub filing_place: Option<String>,
    #[schema(value_type = String, required = true, max_length = 200)]
    pub subject: Option<String>,
    /// The negative certificate's request number.
    #[schema(value_type = String, required = true, max_length = 64)]
    pub request_number: Option<String>,
    #[schema(value_type = String, required = true, max_length = 10000)]
    pub message: Option<String>,
    /// Upload tokens, at most 10.
    #[schema(max_items = 10)]
    pub attachments: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ContactInput {
    #[schema(value_type = Profile, required = true)]
    pub profile: Option<String>,
    #[schema(value_type = String, required = true, max_length = 254)]
    pub email: Option<String>,
    /// Legal persons only.
    pub company_name: Option<String>,
    /// Natural persons only.
    pub last_name: Option<String>,
    /// Natural persons only.
    pub first_name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    /// A code of the reference data's `countries` (ISO 3166-1 alpha-2).
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CaptchaInput {
    /// The `id` of `POST /api/v1/captchas`.
    #[schema(value_type = String, required = true)]
    pub id: Option<String>,
    /// The text of the captcha's picture.
    #[schema(value_type = String, required = true)]
    pub answer: Option<String>,
}

/// A filing body that passed validation, cleaned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidFiling {
    pub theme: String,
    pub filing_place: String,
    pub subject: String,
    pub request_number: String,
    pub message: String,
    /// Upload tokens, distinct, in the order given.
    pub attachments: Vec<String>,
    pub contact: ValidContact,
    pub captcha: Option<CaptchaAnswer>,
    /// The language of the claim: the body's `language`, else the request's.
    pub language: Lang,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    NaturalPerson,
    LegalPerson,
}

impl Profile {
    pub const fn code(self) -> &'static str {
        match self {
            Profile::NaturalPerson => "natural_person",
            Profile::LegalPerson => "legal_person",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidContact {
    pub profile: Profile,
    pub email: String,
    pub company_name: Option<String>,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaptchaAnswer {
    pub id: String,
    pub answer: String,
}

impl ValidFiling {
    /// The captcha, which filing requires; its absence is a field error on
    /// `captcha.answer`.
    pub fn captcha(&self, lang: Lang) -> Result<&CaptchaAnswer, Vec<FieldError>> {
        self.captcha.as_ref().ok_or_else(|| {
            vec![FieldError::new(
                "captcha.answer",
                field_code::REQUIRED,
                lang,
            )]
        })
    }
}

pub use claimdesk_domain::{is_blank, is_invisible};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lines {
    Single,
    Multi,
}

/// Whether `text` holds control characters other than line breaks and tabs (which [`clean`]
/// turns into spaces in single-line text): they are refused rather than silently dropped,
/// as the domain refuses them in messages.
fn has_controls(text: &str, _lines: Lines) -> bool {
    text.chars().any(|c| {
        (c.is_control() && !matches!(c, '\r' | '\n' | '\t'))
            || claimdesk_domain::is_direction_override(c)
    })
}

/// `text` trimmed of invisible characters, its controls dropped and its line breaks
/// made `\n` (multi-line) or a space (single line).
fn clean(text: &str, lines: Lines) -> String {
    let trimmed = text.trim_matches(is_invisible);
    let line_break = if lines == Lines::Multi { '\n' } else { ' ' };
    let mut out = String::with_capacity(trimmed.len());
    let mut chars = trimmed.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push(line_break);
            }
            '\n' | '\u{0085}' | '\u{2028}' | '\u{2029}' => out.push(line_break),
            '\t' if lines == Lines::Single => out.push(' '),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Collects the errors of a body, in the order of the form.
struct Check<'r> {
    lang: Lang,
    reference: &'r Reference,
    errors: Vec<FieldError>,
}

impl Check<'_> {
    fn fail(&mut self, field: &str, code: &str) {
        self.errors.push(FieldError::new(field, code, self.lang));
    }

    fn over(&mut self, field: &str, code: &str, max: usize) {
        self.errors
            .push(FieldError::over_limit(field, code, max, self.lang));
    }

    /// A text that must show something.
    fn required(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
        lines: Lines,
    ) -> Option<String> {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            self.fail(field, field_code::REQUIRED);
            return None;
        };
        if has_controls(value, lines) {
            self.fail(field, "control_characters");
            return None;
        }
        let cleaned = clean(value, lines);
        if is_blank(&cleaned) {
            self.fail(field, field_code::BLANK);
            return None;
        }
        self.at_most(field, cleaned, max)
    }

    /// A text that may be absent; a blank one is absent.
    fn optional(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
        lines: Lines,
    ) -> Option<String> {
        let value = value?;
        if has_controls(value, lines) {
            self.fail(field, "control_characters");
            return None;
        }
        let cleaned = clean(value, lines);
        if is_blank(&cleaned) {
            return None;
        }
        self.at_most(field, cleaned, max)
    }

    fn at_most(&mut self, field: &str, text: String, max: usize) -> Option<String> {
        if text.chars().count() > max {
            self.over(field, field_code::TOO_LONG, max);
            return None;
        }
        Some(text)
    }

    /// A code that must be one of `known`.
    fn code(
        &mut self,
        field: &str,
        value: Option<&str>,
        known: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let code = value
            .map(|v| v.trim_matches(is_invisible))
            .unwrap_or_default();
        if code.is_empty() {
            self.fail(field, field_code::REQUIRED);
            return None;
        }
        if !known(code) {
            self.fail(field, field_code::UNKNOWN_CODE);
            return None;
        }
        Some(code.to_owned())
    }

    fn attachments(&mut self, tokens: Option<&[String]>) -> Vec<String> {
        let tokens = tokens.unwrap_or_default();
        if tokens.len() > ATTACHMENTS_MAX {
            self.over("claim.attachments", field_code::TOO_MANY, ATTACHMENTS_MAX);
            return Vec::new();
        }
        let mut kept: Vec<String> = Vec::with_capacity(tokens.len());
        for (i, token) in tokens.iter().enumerate() {
            let field = format!("claim.attachments[{i}]");
            let Some(token) =
                self.required(&field, Some(token), ATTACHMENT_TOKEN_MAX, Lines::Single)
            else {
                continue;
            };
            if kept.contains(&token) {
                self.fail(&field, field_code::DUPLICATE);
            } else {
                kept.push(token);
            }
        }
        kept
    }

    fn email(&mut self, value: Option<&str>) -> Option<String> {
        let email = self.required("contact.email", value, usize::MAX, Lines::Single)?;
        if email.chars().count() > EMAIL_MAX {
            self.over("contact.email", field_code::TOO_LONG, EMAIL_MAX);
            return None;
        }
        if !plausible_email(&email) {
            self.fail("contact.email", field_code::INVALID_EMAIL);
            return None;
        }
        Some(email)
    }

    fn phone(&mut self, value: Option<&str>) -> Option<String> {
        let phone = self.optional("contact.phone", value, PHONE_MAX, Lines::Single)?;
        match normalize_phone(&phone) {
            Some(phone) => Some(phone),
            None => {
                self.fail("contact.phone", field_code::INVALID_PHONE);
                None
            }
        }
    }

    fn country(&mut self, value: Option<&str>) -> Option<String> {
        let code = value
            .map(|v| v.trim_matches(is_invisible))
            .filter(|v| !v.is_empty())?;
        let code = code.to_ascii_uppercase();
        if self.reference.has_country(&code) {
            Some(code)
        } else {
            self.fail("contact.country", field_code::UNKNOWN_CODE);
            None
        }
    }

    fn captcha(&mut self, captcha: Option<&CaptchaInput>) -> Option<CaptchaAnswer> {
        let captcha = captcha?;
        let id = self.required(
            "captcha.id",
            captcha.id.as_deref(),
            CAPTCHA_ID_MAX,
            Lines::Single,
        );
        let answer = self.required(
            "captcha.answer",
            captcha.answer.as_deref(),
            CAPTCHA_ANSWER_MAX,
            Lines::Single,
        );
        Some(CaptchaAnswer {
            id: id?,
            answer: answer?,
        })
    }

    fn language(&mut self, value: Option<&str>) -> Lang {
        let Some(tag) = value
            .map(|v| v.trim_matches(is_invisible))
            .filter(|v| !v.is_empty())
        else {
            return self.lang;
        };
        Lang::from_tag(tag).unwrap_or_else(|| {
            self.fail("language", field_code::UNKNOWN_CODE);
            self.lang
        })
    }
}

/// Checks a filing body; `lang` is the request's language, used for the messages and as
/// the claim's language when the body gives none.
pub fn validate_filing(
    request: &FilingRequest,
    lang: Lang,
) -> Result<ValidFiling, Vec<FieldError>> {
    let mut check = Check {
        lang,
        reference: Reference::load(),
        errors: Vec::new(),
    };
    let reference = check.reference;
    let claim = request.claim.clone().unwrap_or_default();
    let contact = request.contact.clone().unwrap_or_default();

    let theme = check.code("claim.theme", claim.theme.as_deref(), |c| {
        reference.has_theme(c)
    });
    let filing_place = check.code("claim.filing_place", claim.filing_place.as_deref(), |c| {
        reference.has_filing_place(c)
    });
    let subject = check.required(
        "claim.subject",
        claim.subject.as_deref(),
        SUBJECT_MAX,
        Lines::Single,
    );
    let request_number = check.required(
        "claim.request_number",
        claim.request_number.as_deref(),
        REQUEST_NUMBER_MAX,
        Lines::Single,
    );
    let message = check.required(
        "claim.message",
        claim.message.as_deref(),
        MESSAGE_MAX,
        Lines::Multi,
    );
    let attachments = check.attachments(claim.attachments.as_deref());

    let profile = check
        .code("contact.profile", contact.profile.as_deref(), |c| {
            reference.has_profile(c)
        })
        .and_then(|code| match code.as_str() {
            "natural_person" => Some(Profile::NaturalPerson),
            "legal_person" => Some(Profile::LegalPerson),
            // A profile added to the reference data without a variant here.
            _ => {
                check.fail("contact.profile", field_code::UNKNOWN_CODE);
                None
            }
        });
    let email = check.email(contact.email.as_deref());
    let company_name = check.optional(
        "contact.company_name",
        contact.company_name.as_deref(),
        COMPANY_NAME_MAX,
        Lines::Single,
    );
    let last_name = check.optional(
        "contact.last_name",
        contact.last_name.as_deref(),
        NAME_MAX,
        Lines::Single,
    );
    let first_name = check.optional(
        "contact.first_name",
        contact.first_name.as_deref(),
        NAME_MAX,
        Lines::Single,
    );
    let phone = check.phone(contact.phone.as_deref());
    let address = check.optional(
        "contact.address",
        contact.address.as_deref(),
        ADDRESS_MAX,
        Lines::Multi,
    );
    let city = check.optional(
        "contact.city",
        contact.city.as_deref(),
        CITY_MAX,
        Lines::Single,
    );
    let country = check.country(contact.country.as_deref());
    match profile {
        Some(Profile::NaturalPerson) if company_name.is_some() => {
            check.fail("contact.company_name", field_code::LEGAL_PERSON_ONLY);
        }
        Some(Profile::LegalPerson) => {
            if last_name.is_some() {
                check.fail("contact.last_name", field_code::NATURAL_PERSON_ONLY);
            }
            if first_name.is_some() {
                check.fail("contact.first_name", field_code::NATURAL_PERSON_ONLY);
            }
        }
        _ => {}
    }

    let captcha = check.captcha(request.captcha.as_ref());
    let language = check.language(request.language.as_deref());

    if !check.errors.is_empty() {
        return Err(check.errors);
    }
    let missing = "checked above: every required value is present when there is no error";
    Ok(ValidFiling {
        theme: theme.expect(missing),
        filing_place: filing_place.expect(missing),
        subject: subject.expect(missing),
        request_number: request_number.expect(missing),
        message: message.expect(missing),
        attachments,
        contact: ValidContact {
            profile: profile.expect(missing),
            email: email.expect(missing),
            company_name,
            last_name,
            first_name,
            phone,
            address,
            city,
            country,
        },
        captcha,
        language,
    })
}

/// One `@`, a non-empty local part, a dotted domain of non-empty labels that do not start
/// or end with `-`, no space and none of the characters that only quoted forms allow.
pub fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let forbidden = |c: char| is_invisible(c) || c.is_control() || "@\"(),:;<>[]\\".contains(c);
    if local.is_empty() || local.chars().count() > EMAIL_LOCAL_MAX || local.contains(forbidden) {
        return false;
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.chars().count() >= 2)
}

/// A phone number with its digits in ASCII (Arabic-Indic digits converted), if it has only
/// digits, spaces and `+ - . ( )`, at least six digits, and `+` only in front.
fn normalize_phone(phone: &str) -> Option<String> {
    let mut out = String::with_capacity(phone.len());
    let mut digits = 0;
    for (i, c) in phone.chars().enumerate() {
        let ascii = match c {
            '0'..='9' => c,
            '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
            '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
            '+' if i == 0 => c,
            ' ' | '-' | '.' | '(' | ')' => c,
            '\u{00A0}' | '\u{202F}' | '\u{2007}' => ' ',
            _ => return None,
        };
        if ascii.is_ascii_digit() {
            digits += 1;
        }
        out.push(ascii);
    }
    (digits >= PHONE_MIN_DIGITS).then_some(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(body: serde_json::Value) -> FilingRequest {
        serde_json::from_value(body).expect("the body deserializes")
    }

    fn full() -> serde_json::Value {
        json!({
            "claim": {
                "theme": "issuance_delay",
                "filing_place": "cri_casablanca_settat",
                "subject": "  Certificat négatif non reçu\u{00A0}",
                "request_number": " 2026/123456 ",
                "message": "Bonjour,\r\n\r\nJ’attends mon certificat depuis 3 semaines.\n",
                "attachments": ["tok-1", "tok-2"]
            },
            "contact": {
                "profile": "natural_person",
                "email": " amal.benali@exemple.ma ",
                "company_name": null,
                "last_name": "Benali",
                "first_name": "أمل",
                "phone": "+212 ٦٦١-٢٣ ٤٥ ٦٧",
                "address": "12, rue Ibn Batouta\nQuartier Gauthier",
                "city": "Casablanca",
                "country": "ma"
            },
            "captcha": {"id": "abc", "answer": "K7PQ2"},
            "language": "ar"
        })
    }

    fn fields(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect()
    }

    fn errors_of(body: serde_json::Value) -> Vec<FieldError> {
        validate_filing(&request(body), Lang::Fr).expect_err("refused")
    }

    #[test]
    fn a_complete_filing_comes_out_clean() {
        let filing = validate_filing(&request(full()), Lang::Fr).expect("valid");
        assert_eq!(filing.theme, "issuance_delay");
        assert_eq!(filing.subject, "Certificat négatif non reçu");
        assert_eq!(filing.request_number, "2026/123456");
        assert_eq!(
            filing.message,
            "Bonjour,\n\nJ’attends mon certificat depuis 3 semaines."
        );
        assert_eq!(filing.attachments, vec!["tok-1", "tok-2"]);
        assert_eq!(filing.contact.profile, Profile::NaturalPerson);
        assert_eq!(filing.contact.email, "amal.benali@exemple.ma");
        assert_eq!(filing.contact.first_name.as_deref(), Some("أمل"));
        assert_eq!(filing.contact.phone.as_deref(), Some("+212 661-23 45 67"));
        assert_eq!(
            filing.contact.address.as_deref(),
            Some("12, rue Ibn Batouta\nQuartier Gauthier")
        );
        assert_eq!(filing.contact.country.as_deref(), Some("MA"));
        assert_eq!(filing.contact.company_name, None);
        assert_eq!(
            filing.captcha,
            Some(CaptchaAnswer {
                id: "abc".into(),
                answer: "K7PQ2".into()
            })
        );
        assert_eq!(filing.language, Lang::Ar);
    }

    #[test]
    fn an_empty_body_names_every_required_field() {
        let errors = errors_of(json!({}));
        assert_eq!(
            fields(&errors),
            vec![
                ("claim.theme", "required"),
                ("claim.filing_place", "required"),
                ("claim.subject", "required"),
                ("claim.request_number", "required"),
                ("claim.message", "required"),
                ("contact.profile", "required"),
                ("contact.email", "required"),
            ]
        );
        assert_eq!(errors[0].message, "Ce champ est obligatoire.");
        let arabic =
            validate_filing(&request(json!({"claim": null})), Lang::Ar).expect_err("refused");
        assert_eq!(arabic[0].message, "هذا الحقل إلزامي.");
    }

    #[test]
    fn a_minimal_filing_passes_without_captcha_and_in_the_request_language() {
        let body = json!({
            "claim": {
                "theme": "other", "filing_place": "ompic_head_office", "subject": "Objet",
                "request_number": "123", "message": "Message"
            },
            "contact": {
                "profile": "legal_person", "email": "contact@societe.ma",
                "company_name": "Atlas SARL"
            },
            "unknown": "ignored"
        });
        let filing = validate_filing(&request(body), Lang::Ar).expect("valid");
        assert_eq!(filing.language, Lang::Ar);
        assert_eq!(filing.attachments, Vec::<String>::new());
        assert_eq!(filing.contact.company_name.as_deref(), Some("Atlas SARL"));
        assert_eq!(filing.captcha, None);
        let missing = filing.captcha(Lang::Fr).expect_err("required to file");
        assert_eq!(fields(&missing), vec![("captcha.answer", "required")]);
    }

    #[test]
    fn invisible_only_text_is_blank() {
        // F16: spaces, no-break spaces and zero-width characters, alone or together.
        let invisible = [
            " \t\n",
            "\u{00A0}",
            "\u{202F}",
            "\u{2007}",
            "\u{200B}",
            "\u{200C}",
            "\u{200D}",
            "\u{2060}",
            "\u{FEFF}",
            "\u{00A0}\u{200B} \u{FEFF}\u{202F}",
        ];
        for text in invisible {
            let mut body = full();
            body["claim"]["message"] = json!(text);
            body["claim"]["subject"] = json!(text);
            let errors = errors_of(body);
            assert_eq!(
                fields(&errors),
                vec![("claim.subject", "blank"), ("claim.message", "blank")],
                "{text:?}"
            );
        }
        let mut body = full();
        // Control characters are refused, not dropped: what is stored is what was sent.
        body["claim"]["message"] = json!("\u{0}\u{7}");
        assert_eq!(
            fields(&errors_of(body.clone())),
            vec![("claim.message", "control_characters")]
        );
        body["claim"]["message"] = json!("ab\u{0}\u{7}\u{1b}[31mred");
        assert_eq!(
            fields(&errors_of(body.clone())),
            vec![("claim.message", "control_characters")]
        );
        // A right-to-left override would show a name reversed ("SARL" as "LRAS").
        let mut spoofed = full();
        spoofed["contact"]["last_name"] = json!("Atlas \u{202E}LRAS\u{202C}");
        assert_eq!(
            fields(&errors_of(spoofed)),
            vec![("contact.last_name", "control_characters")]
        );
        let mut body = full();
        body["claim"]["message"] = json!("");
        assert_eq!(
            fields(&errors_of(body)),
            vec![("claim.message", "required")]
        );
    }

    #[test]
    fn a_blank_optional_field_is_absent() {
        let mut body = full();
        body["contact"]["city"] = json!("\u{00A0} ");
        body["contact"]["phone"] = json!("");
        body["contact"]["country"] = json!(" ");
        let filing = validate_filing(&request(body), Lang::Fr).expect("valid");
        assert_eq!(
            (
                filing.contact.city,
                filing.contact.phone,
                filing.contact.country
            ),
            (None, None, None)
        );
    }

    #[test]
    fn codes_must_be_known() {
        let mut body = full();
        body["claim"]["theme"] = json!("weather");
        body["claim"]["filing_place"] = json!("OMPIC_HEAD_OFFICE");
        body["contact"]["profile"] = json!("robot");
        body["contact"]["country"] = json!("XX");
        body["language"] = json!("en");
        assert_eq!(
            fields(&errors_of(body)),
            vec![
                ("claim.theme", "unknown_code"),
                ("claim.filing_place", "unknown_code"),
                ("contact.profile", "unknown_code"),
                ("contact.country", "unknown_code"),
                ("language", "unknown_code"),
            ]
        );
    }

    #[test]
    fn lengths_are_counted_in_characters() {
        let mut body = full();
        body["claim"]["subject"] = json!("ش".repeat(SUBJECT_MAX));
        body["claim"]["message"] = json!("m".repeat(MESSAGE_MAX));
        body["claim"]["request_number"] = json!("9".repeat(REQUEST_NUMBER_MAX));
        assert!(validate_filing(&request(body), Lang::Fr).is_ok());

        let mut body = full();
        body["claim"]["subject"] = json!("ش".repeat(SUBJECT_MAX + 1));
        body["claim"]["message"] = json!("m".repeat(MESSAGE_MAX + 1));
        body["claim"]["request_number"] = json!("9".repeat(REQUEST_NUMBER_MAX + 1));
        body["contact"]["city"] = json!("c".repeat(CITY_MAX + 1));
        body["contact"]["address"] = json!("a".repeat(ADDRESS_MAX + 1));
        let errors = errors_of(body);
        assert_eq!(
            fields(&errors),
            vec![
                ("claim.subject", "too_long"),
                ("claim.request_number", "too_long"),
                ("claim.message", "too_long"),
                ("contact.address", "too_long"),
                ("contact.city", "too_long"),
            ]
        );
        assert_eq!(
            errors[0].message,
            "Ce champ ne doit pas dépasser 200 caractères."
        );
    }

    #[test]
    fn attachments_are_counted_and_checked_one_by_one() {
        let mut body = full();
        body["claim"]["attachments"] = json!((0..ATTACHMENTS_MAX)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>());
        assert!(validate_filing(&request(body), Lang::Fr).is_ok());

        let mut body = full();
        body["claim"]["attachments"] = json!((0..=ATTACHMENTS_MAX)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>());
        let errors = errors_of(body);
        assert_eq!(fields(&errors), vec![("claim.attachments", "too_many")]);
        assert_eq!(errors[0].message, "Au plus 10 éléments sont acceptés.");

        let mut body = full();
        body["claim"]["attachments"] =
            json!(["a", "\u{200B}", "a", "x".repeat(ATTACHMENT_TOKEN_MAX + 1)]);
        assert_eq!(
            fields(&errors_of(body)),
            vec![
                ("claim.attachments[1]", "blank"),
                ("claim.attachments[2]", "duplicate"),
                ("claim.attachments[3]", "too_long"),
            ]
        );
    }

    #[test]
    fn emails_must_be_plausible() {
        for email in [
            "a@b.ma",
            "prénom.nom@exemple.ma",
            "x+tag@sub.domain.org",
            "user@مثال.المغرب",
            "o'brien@x-y.co.uk",
        ] {
            assert!(plausible_email(email), "{email} refused");
        }
        for email in [
            "a",
            "a@",
            "@b.ma",
            "a@b",
            "a@@b.ma",
            "a@b@c.ma",
            "a b@c.ma",
            "a@b c.ma",
            "a\u{00A0}b@c.ma",
            "a@b..ma",
            "a@.b.ma",
            "a@b.ma.",
            ".a@b.ma",
            "a..b@c.ma",
            "a@-b.ma",
            "a@b.m",
            "<a@b.ma>",
            "\"a\"@b.ma",
        ] {
            assert!(!plausible_email(email), "{email} accepted");
        }

        let mut body = full();
        body["contact"]["email"] = json!("amal at exemple.ma");
        let errors = errors_of(body);
        assert_eq!(fields(&errors), vec![("contact.email", "invalid_email")]);
        let mut body = full();
        body["contact"]["email"] = json!(format!("{}@{}.ma", "a".repeat(60), "b".repeat(200)));
        assert_eq!(
            fields(&errors_of(body)),
            vec![("contact.email", "too_long")]
        );
    }

    #[test]
    fn phones_keep_digits_and_separators_only() {
        assert_eq!(
            normalize_phone("05 22 12 34 56").as_deref(),
            Some("05 22 12 34 56")
        );
        assert_eq!(
            normalize_phone("(+212) 522-123.456"),
            None,
            "+ only in front"
        );
        assert_eq!(
            normalize_phone("+212 (0)522-123.456").as_deref(),
            Some("+212 (0)522-123.456")
        );
        assert_eq!(normalize_phone("۰۶۶۱۲۳۴۵۶۷").as_deref(), Some("0661234567"));
        assert_eq!(normalize_phone("12345"), None, "too few digits");
        assert_eq!(normalize_phone("0661 23 45 67 ext 2"), None);
        let mut body = full();
        body["contact"]["phone"] = json!("appelez-moi");
        assert_eq!(
            fields(&errors_of(body)),
            vec![("contact.phone", "invalid_phone")]
        );
    }

    #[test]
    fn profile_specific_fields() {
        let mut body = full();
        body["contact"]["company_name"] = json!("Atlas SARL");
        assert_eq!(
            fields(&errors_of(body)),
            vec![("contact.company_name", "legal_person_only")]
        );

        let mut body = full();
        body["contact"]["profile"] = json!("legal_person");
        let errors = errors_of(body);
        assert_eq!(
            fields(&errors),
            vec![
                ("contact.last_name", "natural_person_only"),
                ("contact.first_name", "natural_person_only")
            ]
        );
        assert_eq!(
            errors[0].message,
            "Ce champ ne concerne que les personnes physiques."
        );
    }

    #[test]
    fn single_line_fields_lose_their_line_breaks() {
        let mut body = full();
        body["claim"]["subject"] = json!("Retard\tde\r\ndélivrance\u{2028}du certificat");
        let filing = validate_filing(&request(body), Lang::Fr).expect("valid");
        assert_eq!(filing.subject, "Retard de délivrance du certificat");
    }

    #[test]
    fn a_captcha_given_must_be_whole() {
        let mut body = full();
        body["captcha"] = json!({"id": "abc", "answer": "  "});
        assert_eq!(fields(&errors_of(body)), vec![("captcha.answer", "blank")]);
        let mut body = full();
        body["captcha"] = json!({"answer": "K7PQ2"});
        assert_eq!(fields(&errors_of(body)), vec![("captcha.id", "required")]);
        let mut body = full();
        body["captcha"] = json!({"id": "abc", "answer": "x".repeat(CAPTCHA_ANSWER_MAX + 1)});
        assert_eq!(
            fields(&errors_of(body)),
            vec![("captcha.answer", "too_long")]
        );
    }

    #[test]
    fn the_blank_set_matches_the_brief() {
        for c in [
            '\u{00A0}', '\u{202F}', '\u{2007}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}',
            '\u{FEFF}',
        ] {
            assert!(is_invisible(c), "U+{:04X}", c as u32);
        }
        for c in ['a', 'ش', '.', '\u{0}', '_'] {
            assert!(!is_invisible(c), "U+{:04X}", c as u32);
        }
    }
}
