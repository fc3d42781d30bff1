//! Reading a submitted form, URL-encoded or multipart, after checking its form token.
//!
//! A multipart form is read in order: text fields come before file inputs in every page, so
//! a file that breaks a limit ends the reading without losing what was typed; the failure
//! is kept in [`Form::file_error`] for the page to show beside the file input.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::app::AppState;
use crate::i18n::Lang;
use crate::problem::ApiError;
use crate::uploads::{read_field_limited, MAX_UPLOAD};

use super::{cookie, forbidden, page_lang, CSRF_COOKIE};

/// A file sent with a form.
pub(crate) struct FilePart {
    pub filename: String,
    pub bytes: Bytes,
}

/// A submitted form whose token matched its cookie.
pub(crate) struct Form {
    fields: Vec<(String, String)>,
    pub files: Vec<FilePart>,
    /// Why the files could not all be read (too large, broken upload), if so, with the name
    /// of the file being read.
    pub file_error: Option<(Option<String>, ApiError)>,
}

impl Form {
    /// The first value of field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The value of field `name`, or an empty text.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }

    /// Every value of field `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    }
}

impl FromRequest<AppState> for Form {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Form, Response> {
        let lang = page_lang(request.uri().path()).unwrap_or_default();
        if !same_site(request.headers()) {
            tracing::info!("a form from another site was refused");
            return Err(forbidden(lang));
        }
        let expected = cookie(request.headers(), CSRF_COOKIE);
        let multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let form = if multipart {
            read_multipart(request, state, lang).await?
        } else {
            read_urlencoded(request, state, lang).await?
        };
        let sent = form.get("csrf");
        match (expected, sent) {
            (Some(expected), Some(sent)) if constant_time_eq(&expected, sent) => Ok(form),
            _ => {
                tracing::info!("a form without its token was refused");
                Err(forbidden(lang))
            }
        }
    }
}

/// False when the browser says the request comes from another site: `Sec-Fetch-Site` other
/// than `same-origin` (or `none`, typed by the user), or, from browsers that do not send it,
/// an `Origin` that is not this host. `Origin: null` counts only where `Sec-Fetch-Site` says
/// the form is the site's own (a page under a no-referrer policy sends it so).
fn same_site(headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    match fetch_site {
        Some("same-origin") | Some("none") => return true,
        Some(_) => return false,
        None => {}
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some("null"), _) => false,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

async fn read_urlencoded(request: Request, state: &AppState, lang: Lang) -> Result<Form, Response> {
    let bytes = Bytes::from_request(request, state)
        .await
        .map_err(|_| super::PageError::new(lang, ApiError::PayloadTooLarge).into_response())?;
    let fields = url_pairs(&bytes);
    Ok(Form {
        fields,
        files: Vec::new(),
        file_error: None,
    })
}

/// Decodes `application/x-www-form-urlencoded` pairs (`+` is a space, `%XX` a byte; bytes
/// that are not UTF-8 are replaced).
fn url_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    bytes
        .split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut parts = pair.splitn(2, |b| *b == b'=');
            let key = percent_decode(parts.next().unwrap_or_default());
            let value = percent_decode(parts.next().unwrap_or_default());
            (key, value)
        })
        .collect()
}

/// Decodes `%XX` escapes (and `+` as a space); bytes that are not UTF-8 are replaced.
pub(crate) fn percent_decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < raw.len() => {
                let hex = std::str::from_utf8(&raw[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn read_multipart(request: Request, state: &AppState, lang: Lang) -> Result<Form, Response> {
    let refused = |e: ApiError| super::PageError::new(lang, e).into_response();
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| refused(ApiError::from(e)))?;
    let mut form = Form {
        fields: Vec::new(),
        files: Vec::new(),
        file_error: None,
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                // Text fields come first: what was typed is kept, the files are refused.
                form.file_error = Some((None, ApiError::from(error)));
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(filename) => match read_field_limited(field, MAX_UPLOAD).await {
                // An empty file input sends a part with no name and no content.
                Ok(bytes) if filename.is_empty() && bytes.is_empty() => {}
                Ok(bytes) => form.files.push(FilePart { filename, bytes }),
                Err(error) => {
                    form.file_error = Some((Some(filename), ApiError::from(error)));
                    break;
                }
            },
            None => match field.text().await {
                Ok(value) => form.fields.push((name, value)),
                Err(error) => {
                    form.file_error = Some((None, ApiError::from(error)));
                    break;
                }
            },
        }
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_pairs_decode_spaces_escapes_and_arabic() {
        let pairs = url_pairs(b"a=1+2&b=%D8%B4%D9%83&c=&d=100%25&e=%zz");
        assert_eq!(
            pairs,
            vec![
                ("a".to_owned(), "1 2".to_owned()),
                ("b".to_owned(), "شك".to_owned()),
                ("c".to_owned(), String::new()),
                ("d".to_owned(), "100%".to_owned()),
                ("e".to_owned(), "%zz".to_owned()),
            ]
        );
    }

    #[test]
    fn a_truncated_escape_is_kept_as_typed() {
        assert_eq!(
            url_pairs(b"a=50%"),
            vec![("a".to_owned(), "50%".to_owned())]
        );
        assert_eq!(url_pairs(b"a=%4"), vec![("a".to_owned(), "%4".to_owned())]);
    }

    #[test]
    fn forms_from_other_sites_are_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "claims.example:8080".parse().unwrap());
        assert!(same_site(&headers));
        headers.insert(
            header::ORIGIN,
            "http://claims.example:8080".parse().unwrap(),
        );
        assert!(same_site(&headers));
        headers.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!same_site(&headers));
        headers.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(!same_site(&headers));
        headers.remove(header::ORIGIN);
        headers.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_site(&headers));
        headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(same_site(&headers));
        // A page under a no-referrer policy posts its own form with `Origin: null`.
        headers.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(same_site(&headers));
        headers.insert("sec-fetch-site", "same-site".parse().unwrap());
        assert!(!same_site(&headers));
    }

    #[test]
    fn tokens_compare_in_full() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
