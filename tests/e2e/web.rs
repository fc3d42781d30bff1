//! The web pages over plain HTTP, as a browser without scripts sends them: form tokens,
//! refused steps that keep what was typed, one claim for a double confirmation, cookies that
//! open one claim only, languages and security headers. (The same paths in a real browser
//! are in `tests/browser`.)

use anyhow::{bail, ensure, Context, Result};
use reqwest::header::{HeaderMap, CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use reqwest::multipart::{Form, Part};
use reqwest::{redirect, StatusCode};

use crate::support::{TestApp, CAPTCHA};

/// A browser without scripts: keeps its cookies, follows no redirect by itself.
struct Visitor<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cookies: Vec<(String, String)>,
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    html: String,
}

impl Page {
    fn location(&self) -> Result<String> {
        let location = self.headers.get(LOCATION).context("no Location")?;
        Ok(location.to_str()?.to_owned())
    }

    /// The `value` of the first `<input name="{name}">`.
    fn input(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.html.find(&marker)? + marker.len();
        let end = self.html[start..].find('"')?;
        Some(html_unescape(&self.html[start..start + end]))
    }
}

fn html_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl<'a> Visitor<'a> {
    fn new(app: &'a TestApp) -> Result<Visitor<'a>> {
        let http = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .build()?;
        Ok(Visitor {
            app,
            http,
            cookies: Vec::new(),
        })
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn keep(&mut self, response: reqwest::Response) -> Result<Page> {
        for value in response.headers().get_all(SET_COOKIE) {
            let pair = value.to_str()?.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(k, _)| k != name);
                if !value.is_empty() {
                    self.cookies.push((name.to_owned(), value.to_owned()));
                }
            }
        }
        let status = response.status();
        let headers = response.headers().clone();
        let html = response.text().await?;
        Ok(Page {
            status,
            headers,
            html,
        })
    }

    async fn get(&mut self, path: &str) -> Result<Page> {
        let response = self
            .http
            .get(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .send()
            .await?;
        self.keep(response).await
    }

    async fn post(&mut self, path: &str, form: Form) -> Result<Page> {
        let response = self
            .http
            .post(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .multipart(form)
            .send()
            .await?;
        self.keep(response).await
    }

    async fn post_fields(&mut self, path: &str, fields: &[(&str, &str)]) -> Result<Page> {
        let response = self
            .http
            .post(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .form(fields)
            .send()
            .await?;
        self.keep(response).await
    }
}

impl Visitor<'_> {
    /// Signs in as `login` (password [`crate::support::PASSWORD`]) on the agents' page in
    /// `lang`; the form token.
    async fn sign_in(&mut self, lang: &str, login: &str) -> Result<String> {
        let path = format!("/{lang}/agent/login");
        let token = self.get(&path).await?.input("csrf").context("no token")?;
        let fields = [
            ("csrf", token.as_str()),
            ("login", login),
            ("password", crate::support::PASSWORD),
        ];
        let signed = self.post_fields(&path, &fields).await?;
        ensure!(signed.status == StatusCode::SEE_OTHER, "{}", signed.status);
        Ok(token)
    }

    /// Opens claim `number` with its email on the tracking form in `lang`; the form token.
    async fn open_claim(&mut self, lang: &str, number: &str, email: &str) -> Result<String> {
        let track = format!("/{lang}/track");
        let token = self.get(&track).await?.input("csrf").context("no token")?;
        let opened = self
            .post_fields(
                &track,
                &[("csrf", &token), ("number", number), ("email", email)],
            )
            .await?;
        ensure!(opened.status == StatusCode::SEE_OTHER, "{}", opened.status);
        Ok(token)
    }
}

fn fields(pairs: &[(&str, &str)]) -> Form {
    pairs.iter().fold(Form::new(), |form, (name, value)| {
        form.text((*name).to_owned(), (*value).to_owned())
    })
}

const THEME: &str = "issuance_delay";

async fn first_filing_place() -> Result<String> {
    let reference: serde_json::Value =
        serde_json::from_str(include_str!("../../config/reference.json"))?;
    reference["filing_places"][0]["code"]
        .as_str()
        .map(str::to_owned)
        .context("no filing place")
}

/// The wizard's fields for a complete Arabic claim, with `subject` as given.
fn claim_fields(subject: &str, place: &str) -> Vec<(&'static str, String)> {
    vec![
        ("theme", THEME.to_owned()),
        ("filing_place", place.to_owned()),
        ("subject", subject.to_owned()),
        ("request_number", "CN-2026-0042".to_owned()),
        (
            "message",
            "تأخر تسليم الشهادة السلبية\nمنذ شهرين".to_owned(),
        ),
    ]
}

fn contact_fields() -> Vec<(&'static str, String)> {
    vec![
        ("profile", "natural_person".to_owned()),
        ("email", "client@example.com".to_owned()),
        ("last_name", "العلوي".to_owned()),
        ("company_name", "should not be sent".to_owned()),
    ]
}

fn form_of(pairs: &[(&'static str, String)], extra: &[(&str, &str)]) -> Form {
    let mut form = Form::new();
    for (name, value) in pairs {
        form = form.text(*name, value.clone());
    }
    for (name, value) in extra {
        form = form.text((*name).to_owned(), (*value).to_owned());
    }
    form
}

pub async fn forms_without_their_token_are_refused(app: TestApp) -> Result<()> {
    let mut visitor = Visitor::new(&app)?;
    let page = visitor.get("/fr/track").await?;
    ensure!(page.status == StatusCode::OK);
    let token = page.input("csrf").context("no form token")?;

    let without = visitor
        .post_fields(
            "/fr/track",
            &[("number", "RC-2026-0000-0000-0000"), ("email", "a@b.ma")],
        )
        .await?;
    ensure!(
        without.status == StatusCode::FORBIDDEN,
        "{}",
        without.status
    );

    let wrong = visitor
        .post_fields(
            "/fr/track",
            &[("csrf", "x".repeat(43).as_str()), ("email", "a@b.ma")],
        )
        .await?;
    ensure!(wrong.status == StatusCode::FORBIDDEN);

    // Right token, but the browser says the form came from another site.
    let response = visitor
        .http
        .post(app.url("/fr/track"))
        .header(COOKIE, visitor.cookie_header())
        .header("Origin", "http://evil.example")
        .form(&[
            ("csrf", token.as_str()),
            ("number", "x"),
            ("email", "a@b.ma"),
        ])
        .send()
        .await?;
    ensure!(response.status() == StatusCode::FORBIDDEN);

    // What a browser sends with the site's own form under a strict referrer policy.
    let response = visitor
        .http
        .post(app.url("/fr/track"))
        .header(COOKIE, visitor.cookie_header())
        .header("Origin", "null")
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[
            ("csrf", token.as_str()),
            ("number", "x"),
            ("email", "a@b.ma"),
        ])
        .send()
        .await?;
    ensure!(
        response.status() == StatusCode::NOT_FOUND,
        "{}",
        response.status()
    );
    let response = visitor
        .http
        .post(app.url("/fr/track"))
        .header(COOKIE, visitor.cookie_header())
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[
            ("csrf", token.as_str()),
            ("number", "x"),
            ("email", "a@b.ma"),
        ])
        .send()
        .await?;
    ensure!(response.status() == StatusCode::FORBIDDEN);

    // The same form with its token is read: a wrong pair is a 404 page, not a 403.
    let with = visitor
        .post_fields(
            "/fr/track",
            &[
                ("csrf", &token),
                ("number", "RC-2026-0000-0000-0000"),
                ("email", "a@b.ma"),
            ],
        )
        .await?;
    ensure!(with.status == StatusCode::NOT_FOUND, "{}", with.status);
    ensure!(with.html.contains("id=\"error-summary\""));
    ensure!(
        with.html.contains("value=\"a@b.ma\""),
        "the typed email is kept"
    );
    Ok(())
}

pub async fn a_refused_step_keeps_everything_and_a_double_confirm_files_one_claim(
    app: TestApp,
) -> Result<()> {
    let place = first_filing_place().await?;
    let mut visitor = Visitor::new(&app)?;
    let start = visitor.get("/ar/claims/new").await?;
    ensure!(start.status == StatusCode::OK);
    ensure!(start.html.contains("dir=\"rtl\""));
    let token = start.input("csrf").context("no form token")?;
    let captcha_id = start.input("captcha_id").context("no captcha")?;

    // Step 1 with a blank subject, a PDF and the right captcha: refused, nothing lost.
    let typed = claim_fields("   ", &place);
    let pdf = Part::bytes(crate::support::sample_pdf())
        .file_name("وصل.pdf")
        .mime_str("application/pdf")?;
    let form = form_of(
        &typed,
        &[
            ("csrf", &token),
            ("step", "1"),
            ("action", "next"),
            ("captcha_id", &captcha_id),
            ("captcha_answer", CAPTCHA),
        ],
    )
    .part("files", pdf);
    let refused = visitor.post("/ar/claims/new", form).await?;
    ensure!(
        refused.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.status
    );
    ensure!(
        refused.html.contains("id=\"subject-error\""),
        "error beside the subject"
    );
    ensure!(
        refused.html.contains("<title>خطأ: "),
        "the title says the step was refused"
    );
    ensure!(refused.html.contains("aria-invalid=\"true\""));
    ensure!(
        refused.html.contains("تأخر تسليم الشهادة السلبية"),
        "message kept"
    );
    ensure!(refused.html.contains("CN-2026-0042"), "request number kept");
    ensure!(refused.html.contains("وصل.pdf"), "the file stays attached");
    ensure!(
        refused.html.contains("id=\"captcha-solved\""),
        "the solved captcha counts"
    );
    let upload = refused.input("upload").context("no upload kept")?;
    let pass = refused.input("pass").context("no captcha pass")?;

    // Corrected: step 2, then a refused step 2 (bad email) that keeps the rest.
    let claim = claim_fields("تأخر الشهادة", &place);
    let common = [
        ("csrf", token.as_str()),
        ("upload", &upload),
        ("pass", &pass),
    ];
    let mut step1 = common.to_vec();
    step1.extend([("step", "1"), ("action", "next")]);
    let second = visitor
        .post("/ar/claims/new", form_of(&claim, &step1))
        .await?;
    ensure!(second.html.contains("data-step=\"2\""), "{}", second.status);

    let mut bad_contact = contact_fields();
    bad_contact[1].1 = "not-an-email".to_owned();
    let mut all = claim.clone();
    all.extend(bad_contact);
    let mut step2 = common.to_vec();
    step2.extend([("step", "2"), ("action", "next")]);
    let refused = visitor
        .post("/ar/claims/new", form_of(&all, &step2))
        .await?;
    ensure!(refused.status == StatusCode::UNPROCESSABLE_ENTITY);
    ensure!(refused.html.contains("id=\"email-error\""));
    ensure!(refused.html.contains("value=\"العلوي\""), "last name kept");

    let mut all = claim.clone();
    all.extend(contact_fields());
    let recap = visitor
        .post("/ar/claims/new", form_of(&all, &step2))
        .await?;
    ensure!(recap.html.contains("data-step=\"3\""));
    ensure!(recap.html.contains("id=\"recap\""));
    ensure!(
        !recap.html.contains("should not be sent</"),
        "other profile's field hidden"
    );

    // Two confirmations at once, as a double click without scripts sends them.
    let mut step3 = common.to_vec();
    step3.extend([("step", "3"), ("action", "confirm")]);
    let (first, second) = {
        let cookie = visitor.cookie_header();
        let send = |form: Form| {
            visitor
                .http
                .post(app.url("/ar/claims/new"))
                .header(COOKIE, cookie.clone())
                .multipart(form)
                .send()
        };
        tokio::join!(send(form_of(&all, &step3)), send(form_of(&all, &step3)))
    };
    let (first, second) = (visitor.keep(first?).await?, visitor.keep(second?).await?);
    ensure!(first.status == StatusCode::SEE_OTHER, "{}", first.status);
    ensure!(second.status == StatusCode::SEE_OTHER, "{}", second.status);
    ensure!(
        first.location()? == second.location()?,
        "both clicks land on one claim"
    );
    let location = first.location()?;
    let number = location
        .trim_start_matches("/ar/claims/")
        .trim_end_matches("/filed")
        .to_owned();

    let store = app.store().await?;
    let filed = store
        .read_all(0, 10_000)
        .await?
        .into_iter()
        .filter(|e| e.event_type == "ClaimFiled")
        .count();
    ensure!(filed == 1, "{filed} claims filed by a double confirmation");

    // The recap sent again later (Back, then reload) leads to the claim it filed.
    let replay = visitor
        .post("/ar/claims/new", form_of(&all, &step2))
        .await?;
    ensure!(replay.status == StatusCode::SEE_OTHER, "{}", replay.status);
    ensure!(replay.location()? == format!("{location}?again=1"));

    // The confirmation page opens with the cookie just set, and shows the number.
    let confirmation = visitor.get(&location).await?;
    ensure!(confirmation.status == StatusCode::OK);
    ensure!(confirmation.html.contains(&number));
    let claim_page = visitor.get(&format!("/ar/claims/{number}")).await?;
    ensure!(claim_page.status == StatusCode::OK);
    ensure!(claim_page.html.contains("وصل.pdf"));
    ensure!(claim_page.html.contains("id=\"message-form\""));
    Ok(())
}

pub async fn pages_speak_their_language_with_strict_headers(app: TestApp) -> Result<()> {
    let mut visitor = Visitor::new(&app)?;
    let response = visitor
        .http
        .get(app.url("/"))
        .header("Accept-Language", "ar-MA,ar;q=0.9,fr;q=0.5")
        .send()
        .await?;
    ensure!(response.status() == StatusCode::SEE_OTHER);
    ensure!(response.headers()[LOCATION] == "/ar/");

    for (path, lang, dir) in [("/fr/", "fr", "ltr"), ("/ar/", "ar", "rtl")] {
        let page = visitor.get(path).await?;
        ensure!(page.status == StatusCode::OK);
        ensure!(page
            .html
            .contains(&format!("<html lang=\"{lang}\" dir=\"{dir}\">")));
        ensure!(page.html.contains("id=\"lang-switch\""));
        let policy = page.headers[CONTENT_SECURITY_POLICY].to_str()?;
        ensure!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"));
        ensure!(page.headers["x-content-type-options"] == "nosniff");
        ensure!(page.headers["cache-control"] == "no-store");
        let cookie = page
            .headers
            .get(SET_COOKIE)
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        if let Some(cookie) = cookie {
            ensure!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        }
    }
    let missing = visitor.get("/ar/no/such/page").await?;
    ensure!(missing.status == StatusCode::NOT_FOUND);
    ensure!(missing.html.contains("<html lang=\"ar\" dir=\"rtl\">"));
    // A number that does not read leads to the number and email form.
    let broken = visitor.get("/fr/claims/%FF%FE").await?;
    ensure!(broken.status == StatusCode::SEE_OTHER, "{}", broken.status);
    ensure!(broken.location()? == "/fr/track");
    let api = visitor.get("/api/v1/no-such-thing").await?;
    ensure!(api.headers["content-type"] == "application/problem+json");
    let unknown = visitor.get("/de/").await?;
    ensure!(unknown.status == StatusCode::NOT_FOUND);
    ensure!(unknown.headers["content-type"]
        .to_str()?
        .starts_with("text/html"));
    Ok(())
}

pub async fn a_claim_cookie_opens_that_claim_only(app: TestApp) -> Result<()> {
    let first = app
        .file_ok(crate::support::filing("one@example.com"))
        .await?;
    let second = app
        .file_ok(crate::support::filing("two@example.com"))
        .await?;
    let mut visitor = Visitor::new(&app)?;
    let page = visitor.get("/fr/track").await?;
    let token = page.input("csrf").context("no token")?;
    let opened = visitor
        .post_fields(
            "/fr/track",
            &[
                ("csrf", &token),
                ("number", &first),
                ("email", "ONE@example.com "),
            ],
        )
        .await?;
    ensure!(opened.status == StatusCode::SEE_OTHER, "{}", opened.status);
    ensure!(opened.location()? == format!("/fr/claims/{first}"));
    ensure!(visitor.get(&format!("/fr/claims/{first}")).await?.status == StatusCode::OK);

    let other = visitor.get(&format!("/fr/claims/{second}")).await?;
    ensure!(other.status == StatusCode::SEE_OTHER);
    ensure!(other.location()? == format!("/fr/track?number={second}"));
    ensure!(!other.html.contains("two@example.com"));

    // Acting on the other claim with this cookie changes nothing.
    let refused = visitor
        .post(
            &format!("/fr/claims/{second}/close"),
            fields(&[("csrf", &token), ("satisfaction", "5")]),
        )
        .await?;
    ensure!(refused.status == StatusCode::SEE_OTHER);
    let events = app
        .store()
        .await?
        .read_stream(&format!("claim-{second}"))
        .await?;
    if events.iter().any(|e| e.event_type == "ClaimClosed") {
        bail!("another claim was closed with this cookie");
    }
    Ok(())
}

pub async fn a_file_over_the_limit_keeps_the_typed_message(app: TestApp) -> Result<()> {
    let number = app
        .file_ok(crate::support::filing("big@example.com"))
        .await?;
    let mut visitor = Visitor::new(&app)?;
    let token = visitor.open_claim("fr", &number, "big@example.com").await?;
    let mut big = crate::support::sample_pdf();
    big.resize(20 * 1024 * 1024 + 1, b' ');
    let form = fields(&[("csrf", &token), ("body", "Voici le document demandé")]).part(
        "files",
        Part::bytes(big)
            .file_name("gros.pdf")
            .mime_str("application/pdf")?,
    );
    let page = visitor
        .post(&format!("/fr/claims/{number}/messages"), form)
        .await?;
    ensure!(
        page.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.status
    );
    ensure!(page.html.contains("id=\"files-error\""));
    ensure!(
        page.html.contains("Voici le document demandé"),
        "the message is kept"
    );
    let events = app
        .store()
        .await?
        .read_stream(&format!("claim-{number}"))
        .await?;
    ensure!(
        !events.iter().any(|e| e.event_type == "MessagePosted"),
        "nothing was sent"
    );
    Ok(())
}

pub async fn an_action_on_a_claim_changed_meanwhile_keeps_the_text(app: TestApp) -> Result<()> {
    let number = app
        .file_ok(crate::support::filing("stale@example.com"))
        .await?;
    let mut visitor = Visitor::new(&app)?;
    let token = visitor
        .open_claim("ar", &number, "stale@example.com")
        .await?;
    ensure!(visitor.get(&format!("/ar/claims/{number}")).await?.status == StatusCode::OK);

    // Meanwhile, the client closes the claim from elsewhere (the API).
    let client = app.access(&number, "stale@example.com").await?;
    let closed = app
        .post(
            &format!("/api/v1/claims/{number}/close"),
            &serde_json::json!({"satisfaction": 3}),
            Some(&client),
        )
        .await?;
    ensure!(closed.status() == StatusCode::OK);

    // The page's old message form: refused, and the text is on the page to copy.
    let text = "نص مهم لا أريد فقدانه";
    let page = visitor
        .post(
            &format!("/ar/claims/{number}/messages"),
            fields(&[("csrf", &token), ("body", text)]),
        )
        .await?;
    ensure!(page.status == StatusCode::CONFLICT, "{}", page.status);
    ensure!(page.html.contains(text), "the unsent text is shown");
    ensure!(
        page.html.contains("id=\"reopen-form\""),
        "the page shows what is possible now"
    );
    ensure!(
        page.html.contains(&format!("href=\"/fr/claims/{number}\"")),
        "switch to a page"
    );

    // An empty message is "required", not "only spaces".
    let reopened = app
        .post(
            &format!("/api/v1/claims/{number}/reopen"),
            &serde_json::json!({"reason": "Toujours rien"}),
            Some(&client),
        )
        .await?;
    ensure!(reopened.status() == StatusCode::OK);
    let empty = visitor
        .post(
            &format!("/fr/claims/{number}/messages"),
            fields(&[("csrf", &token), ("body", "")]),
        )
        .await?;
    ensure!(empty.status == StatusCode::UNPROCESSABLE_ENTITY);
    ensure!(
        empty.html.contains("Ce champ est obligatoire."),
        "{}",
        empty.html
    );
    Ok(())
}

pub async fn an_agent_transfers_a_claim_from_its_page(app: TestApp) -> Result<()> {
    let number = app
        .file_ok(crate::support::filing("moved@example.com"))
        .await?;
    let client = app.access(&number, "moved@example.com").await?;
    let detail = crate::support::expect_json(
        app.get(&format!("/api/v1/claims/{number}"), Some(&client))
            .await?,
        StatusCode::OK,
    )
    .await?;
    let entity = detail["entity"].as_str().context("no entity")?.to_owned();
    let other = if entity == "finance" {
        "trade_names"
    } else {
        "finance"
    };
    app.add_user("agent.here", "agent", Some(&entity)).await?;

    let mut agent = Visitor::new(&app)?;
    let token = agent.sign_in("fr", "agent.here").await?;
    let page = agent.get(&format!("/fr/agent/claims/{number}")).await?;
    ensure!(page.html.contains("id=\"transfer-form\""));
    ensure!(
        !page.html.contains(&format!("<option value=\"{entity}\"")),
        "not to itself"
    );

    let path = format!("/fr/agent/claims/{number}/transfer");
    let refused = agent
        .post_fields(
            &path,
            &[("csrf", &token), ("entity", other), ("transfer-body", "")],
        )
        .await?;
    ensure!(
        refused.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.status
    );
    ensure!(refused.html.contains("id=\"transfer-body-error\""));
    ensure!(refused.html.contains("Ce champ est obligatoire."));

    let moved = agent
        .post_fields(
            &path,
            &[
                ("csrf", &token),
                ("entity", other),
                ("transfer-body", "Question de paiement"),
            ],
        )
        .await?;
    ensure!(moved.status == StatusCode::SEE_OTHER, "{}", moved.status);
    ensure!(moved.location()? == "/fr/agent?done=transferred");
    let queue = agent.get("/fr/agent?done=transferred").await?;
    ensure!(queue.html.contains("id=\"notice\""));
    ensure!(
        !queue.html.contains(&number),
        "the claim left this entity's queue"
    );
    let gone = agent.get(&format!("/fr/agent/claims/{number}")).await?;
    ensure!(gone.status == StatusCode::NOT_FOUND);

    let after = crate::support::expect_json(
        app.get(&format!("/api/v1/claims/{number}"), Some(&client))
            .await?,
        StatusCode::OK,
    )
    .await?;
    ensure!(after["entity"] == other);
    Ok(())
}

pub async fn a_long_queue_comes_in_pages(app: TestApp) -> Result<()> {
    let mut numbers = Vec::new();
    for i in 0..53 {
        app.clock.advance(chrono::Duration::minutes(1));
        numbers.push(
            app.file_ok(crate::support::filing(&format!("q{i}@example.com")))
                .await?,
        );
    }
    app.add_user("admin.queue", "admin", None).await?;
    let mut admin = Visitor::new(&app)?;
    admin.sign_in("ar", "admin.queue").await?;

    // An administrator chooses the entity; an unknown one shows no queue.
    let picker = admin.get("/ar/agent?entity=nowhere").await?;
    ensure!(picker.status == StatusCode::OK);
    ensure!(!picker.html.contains("id=\"queue\""));

    let links = |html: &str| html.matches("class=\"claim-link\"").count();
    let first = admin.get("/ar/agent?entity=trade_names").await?;
    ensure!(links(&first.html) == 50, "{} on page 1", links(&first.html));
    ensure!(first
        .html
        .contains("href=\"/ar/agent?entity=trade_names&amp;page=2\""));
    // Longest waiting first: the first claim filed leads.
    ensure!(first.html.contains(&numbers[0]));
    let second = admin.get("/ar/agent?entity=trade_names&page=2").await?;
    ensure!(
        links(&second.html) == 3,
        "{} on page 2",
        links(&second.html)
    );
    ensure!(second.html.contains(&numbers[52]));
    // From a claim, an administrator goes back to that entity's queue.
    let claim = admin
        .get(&format!("/ar/agent/claims/{}", numbers[0]))
        .await?;
    ensure!(claim.html.contains("href=\"/ar/agent?entity=trade_names\""));

    // A query that does not parse: a page in the path's language, not plain English text.
    let broken = admin.get("/ar/agent?page=abc").await?;
    ensure!(
        broken.status == StatusCode::BAD_REQUEST,
        "{}",
        broken.status
    );
    ensure!(
        broken.html.contains("<html lang=\"ar\""),
        "a page, not plain text"
    );
    let beyond = admin.get("/ar/agent?entity=trade_names&page=9").await?;
    ensure!(
        links(&beyond.html) == 3,
        "a page past the end shows the last one"
    );
    Ok(())
}

pub async fn a_refused_message_keeps_its_files(app: TestApp) -> Result<()> {
    let number = app
        .file_ok(crate::support::filing("files@example.com"))
        .await?;
    let mut visitor = Visitor::new(&app)?;
    let token = visitor
        .open_claim("fr", &number, "files@example.com")
        .await?;
    let pdf = Part::bytes(crate::support::sample_pdf())
        .file_name("justificatif.pdf")
        .mime_str("application/pdf")?;
    let path = format!("/fr/claims/{number}/messages");
    let refused = visitor
        .post(
            &path,
            fields(&[("csrf", &token), ("body", "  ")]).part("files", pdf),
        )
        .await?;
    ensure!(
        refused.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.status
    );
    ensure!(
        refused.html.contains("justificatif.pdf"),
        "the file is still attached"
    );
    let upload = refused.input("upload").context("no kept upload")?;

    let sent = visitor
        .post(
            &path,
            fields(&[
                ("csrf", &token),
                ("body", "Voici le justificatif"),
                ("upload", &upload),
            ]),
        )
        .await?;
    ensure!(sent.status == StatusCode::SEE_OTHER, "{}", sent.status);
    let events = app
        .store()
        .await?
        .read_stream(&format!("claim-{number}"))
        .await?;
    let posted = events
        .iter()
        .find(|e| e.event_type == "MessagePosted")
        .context("no message")?;
    let files = posted.data["attachments"]
        .as_array()
        .or_else(|| posted.data["data"]["attachments"].as_array())
        .context("no attachments in the event")?;
    ensure!(files.len() == 1, "{} files", files.len());
    ensure!(files[0]["filename"] == "justificatif.pdf");
    Ok(())
}
