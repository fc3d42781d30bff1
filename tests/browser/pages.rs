//! What the browser tests share about the web pages: the people who use them in each language,
//! the pages' labels the tests read, and the steps a person takes (fill the wizard, follow a
//! claim, sign in as an agent), each checking the page it lands on.
//!
//! The selectors are the pages' contract (ids, names, `data-step`), not their layout: a step
//! that fails says which element it waited for, on which URL, and what the page showed.

use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};

use crate::driver::Browser;
use crate::support::{eventually, sample_pdf, TestApp, CAPTCHA, PASSWORD};

/// A client of one language, and what they type.
#[derive(Debug, Clone)]
pub struct Person {
    pub lang: &'static str,
    pub dir: &'static str,
    pub subject: &'static str,
    pub request_number: &'static str,
    pub message: &'static str,
    pub email: &'static str,
    pub last_name: &'static str,
    pub first_name: &'static str,
    pub phone: &'static str,
    pub city: &'static str,
    /// A message posted on the claim after filing.
    pub follow_up: &'static str,
    /// The agent's answer.
    pub answer: &'static str,
    pub comment: &'static str,
    pub reason: &'static str,
    /// The labels of `#claim-status`: pending, answered, closed.
    pub statuses: [&'static str; 3],
    /// How the client's own history entries name their author, to the client ("you").
    pub you: &'static str,
}

pub const FRENCH: Person = Person {
    lang: "fr",
    dir: "ltr",
    subject: "Certificat négatif non reçu",
    request_number: "2026/123456",
    message: "Bonjour, ma demande date de trois semaines et je n'ai rien reçu.",
    email: "samira.alaoui@example.ma",
    last_name: "Alaoui",
    first_name: "Samira",
    phone: "+212 6 12 34 56 78",
    city: "Rabat",
    follow_up: "Je joins le reçu de paiement.",
    answer: "Votre certificat a été délivré ce matin.",
    comment: "Réponse claire, un peu lente.",
    reason: "Le certificat porte une erreur de nom.",
    statuses: ["En attente de traitement", "Répondue", "Clôturée"],
    you: "Vous",
};

pub const ARABIC: Person = Person {
    lang: "ar",
    dir: "rtl",
    subject: "لم أتوصل بالشهادة السلبية",
    request_number: "2026/654321",
    message: "السلام عليكم، قدمت طلبي منذ ثلاثة أسابيع ولم أتوصل بأي جواب.",
    email: "karim.bennani@example.ma",
    last_name: "بناني",
    first_name: "كريم",
    phone: "+212 6 98 76 54 32",
    city: "الدار البيضاء",
    follow_up: "أرفقت وصل الأداء.",
    answer: "تم تسليم شهادتكم هذا الصباح.",
    comment: "جواب واضح لكنه متأخر قليلا.",
    reason: "الشهادة تحمل خطأ في الاسم.",
    statuses: ["في انتظار المعالجة", "تمت الإجابة عنها", "مغلقة"],
    you: "أنتم",
};

/// The people of both languages.
pub const PEOPLE: [Person; 2] = [FRENCH, ARABIC];

/// Whether this run takes screenshots: SQLite runs only, so that the PostgreSQL run of the same
/// flow does not write the same files again.
pub fn shots(app: &TestApp) -> bool {
    app.config().storage.database_url.is_none()
}

/// A screenshot named `<lang>-<name>`, when `shots` (see [`Browser::screenshot`]).
pub async fn snap(browser: &Browser, shots: bool, person: &Person, name: &str) -> Result<()> {
    match shots {
        true => browser.screenshot(&format!("{}-{name}", person.lang)).await,
        false => Ok(()),
    }
}

/// Checks that the page is in `person`'s language and direction, with a language switch.
pub async fn expect_language(browser: &Browser, person: &Person) -> Result<()> {
    let lang = browser.attr("html", "lang").await?;
    let dir = browser.attr("html", "dir").await?;
    let switch = browser.has("#lang-switch").await?;
    if lang.as_deref() != Some(person.lang) || dir.as_deref() != Some(person.dir) || !switch {
        bail!(
            "expected <html lang={} dir={}> with a #lang-switch, got lang={lang:?} dir={dir:?} \
             {} a switch; HTTP status {}, {}",
            person.lang,
            person.dir,
            if switch { "with" } else { "without" },
            browser.status().await?,
            browser.context().await
        );
    }
    Ok(())
}

/// Checks that the browser is on `path`.
pub async fn expect_path(browser: &Browser, path: &str) -> Result<()> {
    let actual = browser.path().await?;
    if actual != path {
        bail!("expected {path}, {}", browser.context().await);
    }
    Ok(())
}

/// Checks that the page announces no error.
pub async fn expect_no_errors(browser: &Browser) -> Result<()> {
    if browser.has("#error-summary").await? {
        bail!(
            "unexpected errors: {}\n{}",
            browser.text("#error-summary").await?,
            browser.context().await
        );
    }
    Ok(())
}

/// Checks that the field `name` of `form` is refused: `#<name>-error` (class `field-error`)
/// beside it, `aria-invalid="true"` on it, and the summary `#error-summary` (`role=alert`).
pub async fn expect_field_error(browser: &Browser, form: &str, name: &str) -> Result<()> {
    let error = format!("#{name}-error");
    let field = format!("{form} [name={name}]");
    let text = browser.text(&error).await?;
    ensure!(!text.trim().is_empty(), "{error} is empty");
    let class = browser.attr(&error, "class").await?.unwrap_or_default();
    ensure!(
        class.split_whitespace().any(|c| c == "field-error"),
        "{error} has class {class:?}"
    );
    let invalid = browser.attr(&field, "aria-invalid").await?;
    ensure!(
        invalid.as_deref() == Some("true"),
        "{field} has aria-invalid={invalid:?}"
    );
    let role = browser.attr("#error-summary", "role").await?;
    ensure!(
        role.as_deref() == Some("alert"),
        "#error-summary role={role:?}"
    );
    // Beside the field: the error and the field share the error's container.
    let beside = browser
        .execute(
            "const e = document.getElementById(arguments[0]); \
             const f = document.querySelector(arguments[1]); \
             return !!(e && f && e.parentElement.contains(f));",
            vec![format!("{name}-error").into(), field.clone().into()],
        )
        .await?;
    ensure!(beside == true, "{error} is not beside {field}");
    Ok(())
}

/// A small real PDF, `certificat.pdf`, in `folder`.
pub fn pdf(folder: &Path, name: &str) -> Result<PathBuf> {
    let path = folder.join(name);
    std::fs::write(&path, sample_pdf())?;
    Ok(path)
}

/// `/{lang}/...` of the app.
pub fn page(app: &TestApp, person: &Person, path: &str) -> String {
    app.url(&format!("/{}/{path}", person.lang))
}

/// The wizard's step now shown (`data-step` of `form#wizard`).
pub async fn wizard_step(browser: &Browser) -> Result<String> {
    Ok(browser
        .attr("form#wizard", "data-step")
        .await?
        .unwrap_or_default())
}

/// Checks that the wizard shows `step`.
pub async fn expect_step(browser: &Browser, step: &str) -> Result<()> {
    let actual = wizard_step(browser).await?;
    if actual != step {
        bail!(
            "expected step {step}, got {actual:?}, {}",
            browser.context().await
        );
    }
    Ok(())
}

/// Clicks the wizard's visible button `action` (`next`, `back`, `modify`, `confirm`) and
/// waits for the page it leads to. (The form's first, hidden button is the one Enter presses.)
pub async fn wizard_action(browser: &Browser, action: &str) -> Result<()> {
    browser
        .submit(&format!(
            "form#wizard button[name=action][value={action}]:not(.visually-hidden)"
        ))
        .await
}

/// Types step 1 of the wizard (the claim), with `files`; `subject` may differ from the
/// person's, to leave it blank.
pub async fn fill_claim(
    browser: &Browser,
    person: &Person,
    subject: &str,
    files: &[&Path],
) -> Result<()> {
    expect_step(browser, "1").await?;
    browser
        .select("form#wizard [name=theme]", "issuance_delay")
        .await?;
    browser
        .select("form#wizard [name=filing_place]", "ompic_head_office")
        .await?;
    browser.fill("form#wizard [name=subject]", subject).await?;
    browser
        .fill("form#wizard [name=request_number]", person.request_number)
        .await?;
    browser
        .fill("form#wizard [name=message]", person.message)
        .await?;
    if !files.is_empty() {
        browser
            .attach("form#wizard input[name=files]", files)
            .await?;
    }
    answer_captcha(browser).await
}

/// Types the captcha's answer, once its image has loaded and shows something.
pub async fn answer_captcha(browser: &Browser) -> Result<()> {
    browser
        .find("form#wizard input[type=hidden][name=captcha_id]")
        .await?;
    browser
        .wait("the captcha image to load", || async {
            let loaded = browser
                .execute(
                    "const i = document.querySelector('img#captcha-image'); \
                     return !!(i && i.complete && i.naturalWidth > 0);",
                    vec![],
                )
                .await?;
            Ok((loaded == true).then_some(()))
        })
        .await?;
    browser
        .fill("form#wizard [name=captcha_answer]", CAPTCHA)
        .await
}

/// Checks that step 1 shows what `person` typed (the subject as `subject`).
pub async fn expect_claim_kept(browser: &Browser, person: &Person, subject: &str) -> Result<()> {
    let kept = [
        ("theme", "issuance_delay"),
        ("filing_place", "ompic_head_office"),
        ("subject", subject),
        ("request_number", person.request_number),
        ("message", person.message),
    ];
    for (name, expected) in kept {
        let value = browser.value(&format!("form#wizard [name={name}]")).await?;
        ensure!(
            value == expected,
            "step 1 lost {name}: {value:?} instead of {expected:?}"
        );
    }
    Ok(())
}

/// Types step 2 of the wizard (a natural person's contact details).
pub async fn fill_contact(browser: &Browser, person: &Person) -> Result<()> {
    expect_step(browser, "2").await?;
    browser
        .check("form#wizard input[name=profile][value=natural_person]")
        .await?;
    browser
        .fill("form#wizard [name=email]", person.email)
        .await?;
    browser
        .fill("form#wizard [name=last_name]", person.last_name)
        .await?;
    browser
        .fill("form#wizard [name=first_name]", person.first_name)
        .await?;
    browser
        .fill("form#wizard [name=phone]", person.phone)
        .await?;
    browser.fill("form#wizard [name=city]", person.city).await?;
    browser.select("form#wizard [name=country]", "MA").await
}

/// Checks that step 2 shows what `person` typed, with `email` as the email.
pub async fn expect_contact_kept(browser: &Browser, person: &Person, email: &str) -> Result<()> {
    ensure!(
        browser
            .is_checked("form#wizard input[name=profile][value=natural_person]")
            .await?,
        "step 2 lost the profile"
    );
    let kept = [
        ("email", email),
        ("last_name", person.last_name),
        ("first_name", person.first_name),
        ("phone", person.phone),
        ("city", person.city),
        ("country", "MA"),
    ];
    for (name, expected) in kept {
        let value = browser.value(&format!("form#wizard [name={name}]")).await?;
        ensure!(
            value == expected,
            "step 2 lost {name}: {value:?} instead of {expected:?}"
        );
    }
    Ok(())
}

/// The claim number of a `/{lang}/claims/{number}/filed` path.
pub fn filed_number(path: &str, person: &Person) -> Result<String> {
    let number = path
        .strip_prefix(&format!("/{}/claims/", person.lang))
        .and_then(|rest| rest.strip_suffix("/filed"))
        .with_context(|| format!("not a confirmation page: {path}"))?;
    ensure!(number.starts_with("RC-"), "not a claim number: {number}");
    Ok(number.to_owned())
}

/// How many claims the store holds (`ClaimFiled` events).
pub async fn claims_filed(app: &TestApp) -> Result<usize> {
    let store = app.store().await?;
    let (mut after, mut count) = (0, 0);
    loop {
        let events = store.read_all(after, 500).await?;
        let Some(last) = events.last() else {
            return Ok(count);
        };
        after = last.position;
        count += events
            .iter()
            .filter(|e| e.event_type == "ClaimFiled")
            .count();
    }
}

/// The confirmation email sent to `to`, once the SMTP server has it: the claim number it
/// carries and its text.
pub async fn confirmation_email(app: &TestApp, to: &str) -> Result<(String, String)> {
    let smtp = app.smtp()?;
    let received = eventually("the confirmation email", || async {
        Ok(smtp
            .received()
            .into_iter()
            .find(|m| m.rcpt_to.iter().any(|r| r == to)))
    })
    .await?;
    let text = received.email()?.part("text/plain")?;
    let number = text
        .split(|c: char| c.is_whitespace() || c == '/' || c == '<' || c == '>')
        .map(|word| word.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
        .find(|word| word.starts_with("RC-"))
        .with_context(|| format!("no claim number in the email:\n{text}"))?;
    Ok((number.to_owned(), text))
}

/// Follows a claim from the home page: "follow a claim", number and email; lands on the claim.
pub async fn track(
    browser: &Browser,
    app: &TestApp,
    person: &Person,
    number: &str,
    email: &str,
) -> Result<()> {
    browser.open(&page(app, person, "")).await?;
    browser.submit("a#follow-claim").await?;
    expect_path(browser, &format!("/{}/track", person.lang)).await?;
    browser.fill("#track-form [name=number]", number).await?;
    browser.fill("#track-form [name=email]", email).await?;
    browser.submit("#track-form [type=submit]").await?;
    expect_no_errors(browser).await?;
    expect_path(browser, &format!("/{}/claims/{number}", person.lang)).await?;
    let shown = browser.text("#claim-number").await?;
    ensure!(shown.trim() == number, "#claim-number shows {shown:?}");
    Ok(())
}

/// The status label shown on a claim's page.
pub async fn status(browser: &Browser) -> Result<String> {
    Ok(browser.text("#claim-status").await?.trim().to_owned())
}

/// The texts of the claim's history entries, oldest or newest first as the page has them.
pub async fn history(browser: &Browser) -> Result<Vec<String>> {
    let mut texts = Vec::new();
    for entry in browser.find_all("ol#history li.history-entry").await? {
        texts.push(entry.text().await?);
    }
    Ok(texts)
}

/// Checks that the page shows the notice of a done action (`#notice`, `role=status`).
pub async fn expect_notice(browser: &Browser) -> Result<()> {
    let text = browser.text("#notice").await?;
    ensure!(!text.trim().is_empty(), "#notice is empty");
    let role = browser.attr("#notice", "role").await?;
    ensure!(role.as_deref() == Some("status"), "#notice role={role:?}");
    Ok(())
}

/// Signs in on the agents' page as `login` (made with [`TestApp::add_user`]); lands on the
/// queue.
pub async fn agent_sign_in(
    browser: &Browser,
    app: &TestApp,
    person: &Person,
    login: &str,
) -> Result<()> {
    browser.open(&page(app, person, "agent/login")).await?;
    browser.fill("#login-form [name=login]", login).await?;
    browser
        .fill("#login-form [name=password]", PASSWORD)
        .await?;
    browser.submit("#login-form [type=submit]").await?;
    expect_no_errors(browser).await?;
    expect_path(browser, &format!("/{}/agent", person.lang)).await?;
    browser.find("table#queue").await?;
    Ok(())
}

/// Reloads `url` until `css` is in the page: what a person does to see another's action.
pub async fn reload_until(browser: &Browser, url: &str, css: &str) -> Result<()> {
    browser
        .wait(format!("`{css}` after reloading {url}"), || async {
            browser.open(url).await?;
            Ok(browser.has(css).await?.then_some(()))
        })
        .await
}

/// Reloads `url` until the page's text contains `text`.
pub async fn reload_until_text(browser: &Browser, url: &str, text: &str) -> Result<()> {
    browser
        .wait(format!("{text:?} after reloading {url}"), || async {
            browser.open(url).await?;
            Ok(browser.page_text().await?.contains(text).then_some(()))
        })
        .await
}
