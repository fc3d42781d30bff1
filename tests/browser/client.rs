//! The client's pages beyond the happy path: refused wizard steps keep what was typed and show
//! each error beside its field; the language switch keeps the page and what was typed; a wrong
//! number and email pair is refused on the tracking page; a form without its anti-forgery
//! token is refused.

use anyhow::{ensure, Result};

use crate::driver::Browser;
use crate::pages::*;
use crate::support::{filing, TestApp};

/// Answers the captcha if the step asks for it (a step shown again may not).
async fn answer_captcha_if_asked(browser: &Browser) -> Result<()> {
    if browser.has("form#wizard [name=captcha_answer]").await? {
        answer_captcha(browser).await?;
    }
    Ok(())
}

/// A blank subject at step 1 and a blank email at step 2 are refused, each beside its field,
/// with everything else kept (the attachment too); corrected, the claim is filed; "modify" on
/// the recap goes back with every value.
pub async fn refused_steps_keep_what_was_typed(app: TestApp) -> Result<()> {
    let shots = shots(&app);
    let files = tempfile::tempdir()?;
    let certificate = pdf(files.path(), "certificat.pdf")?;
    for p in &PEOPLE {
        let browser = Browser::start(p.lang).await?;
        browser.open(&page(&app, p, "claims/new")).await?;
        fill_claim(&browser, p, "", &[&certificate]).await?;
        wizard_action(&browser, "next").await?;
        expect_step(&browser, "1").await?;
        expect_language(&browser, p).await?;
        expect_field_error(&browser, "form#wizard", "subject").await?;
        expect_claim_kept(&browser, p, "").await?;
        ensure!(
            browser.page_text().await?.contains("certificat.pdf"),
            "the refused step forgot the attachment: {}",
            browser.context().await
        );
        snap(&browser, shots, p, "wizard-1-errors").await?;

        browser
            .fill("form#wizard [name=subject]", p.subject)
            .await?;
        answer_captcha_if_asked(&browser).await?;
        wizard_action(&browser, "next").await?;
        expect_no_errors(&browser).await?;
        expect_step(&browser, "2").await?;

        fill_contact(&browser, p).await?;
        browser.fill("form#wizard [name=email]", "").await?;
        wizard_action(&browser, "next").await?;
        expect_step(&browser, "2").await?;
        expect_field_error(&browser, "form#wizard", "email").await?;
        expect_contact_kept(&browser, p, "").await?;
        snap(&browser, shots, p, "wizard-2-errors").await?;

        // Back to step 1 and forth again: nothing typed is lost on the way.
        browser.fill("form#wizard [name=email]", p.email).await?;
        wizard_action(&browser, "back").await?;
        expect_step(&browser, "1").await?;
        expect_claim_kept(&browser, p, p.subject).await?;
        answer_captcha_if_asked(&browser).await?;
        wizard_action(&browser, "next").await?;
        expect_no_errors(&browser).await?;
        expect_contact_kept(&browser, p, p.email).await?;
        wizard_action(&browser, "next").await?;
        expect_no_errors(&browser).await?;
        expect_step(&browser, "3").await?;

        // "Modify" on the recap goes back with every value; the claim is then filed once.
        wizard_action(&browser, "modify").await?;
        let step = wizard_step(&browser).await?;
        match step.as_str() {
            "1" => {
                expect_claim_kept(&browser, p, p.subject).await?;
                answer_captcha_if_asked(&browser).await?;
                wizard_action(&browser, "next").await?;
                expect_no_errors(&browser).await?;
                expect_contact_kept(&browser, p, p.email).await?;
            }
            "2" => expect_contact_kept(&browser, p, p.email).await?,
            other => anyhow::bail!("modify led to step {other:?}"),
        }
        wizard_action(&browser, "next").await?;
        expect_step(&browser, "3").await?;
        ensure!(browser.text("#recap").await?.contains("certificat.pdf"));
        let before = claims_filed(&app).await?;
        browser.submit("button#confirm").await?;
        expect_no_errors(&browser).await?;
        filed_number(&browser.path().await?, p)?;
        ensure!(claims_filed(&app).await? == before + 1);
        browser.close().await?;
    }
    Ok(())
}

/// The language switch leads to the same page in the other language; on the wizard, it keeps
/// what was typed.
pub async fn the_language_switch_keeps_the_page(app: TestApp) -> Result<()> {
    let number = app.file_ok(filing("switch@example.ma")).await?;
    let browser = Browser::start("fr").await?;
    let (fr, ar) = (&FRENCH, &ARABIC);

    for (path, after) in [("", "/ar/"), ("track", "/ar/track")] {
        browser.open(&page(&app, fr, path)).await?;
        expect_language(&browser, fr).await?;
        browser.submit("a#lang-switch").await?;
        expect_path(&browser, after).await?;
        expect_language(&browser, ar).await?;
        browser.submit("a#lang-switch").await?;
        expect_path(&browser, &format!("/fr/{path}")).await?;
    }

    // On the wizard, the switch sends the form (through the page's script): what was typed
    // goes along.
    browser.open(&page(&app, fr, "claims/new")).await?;
    browser
        .fill("form#wizard [name=subject]", ar.subject)
        .await?;
    browser
        .fill("form#wizard [name=message]", fr.message)
        .await?;
    browser.submit("#lang-switch").await?;
    expect_language(&browser, ar).await?;
    expect_step(&browser, "1").await?;
    ensure!(browser.value("form#wizard [name=subject]").await? == ar.subject);
    ensure!(browser.value("form#wizard [name=message]").await? == fr.message);
    browser.submit("#lang-switch").await?;
    expect_language(&browser, fr).await?;
    ensure!(browser.value("form#wizard [name=subject]").await? == ar.subject);

    // A claim's page, once the claim is open in this browser.
    track(&browser, &app, fr, &number, "switch@example.ma").await?;
    browser.submit("a#lang-switch").await?;
    expect_path(&browser, &format!("/ar/claims/{number}")).await?;
    expect_language(&browser, ar).await?;
    ensure!(browser.text("#claim-number").await?.trim() == number);
    ensure!(status(&browser).await? == ar.statuses[0]);
    browser.close().await
}

/// A wrong email for a real number is refused on the tracking page, the number kept.
pub async fn a_wrong_pair_is_refused_on_the_tracking_page(app: TestApp) -> Result<()> {
    let number = app.file_ok(filing("right@example.ma")).await?;
    for p in &PEOPLE {
        let browser = Browser::start(p.lang).await?;
        browser.open(&page(&app, p, "track")).await?;
        browser.fill("#track-form [name=number]", &number).await?;
        browser
            .fill("#track-form [name=email]", "wrong@example.ma")
            .await?;
        browser.submit("#track-form [type=submit]").await?;
        expect_path(&browser, &format!("/{}/track", p.lang)).await?;
        expect_language(&browser, p).await?;
        ensure!(browser.has("#error-summary").await?, "no #error-summary");
        ensure!(!browser.has("#claim-status").await?, "the claim is shown");
        ensure!(browser.value("#track-form [name=number]").await? == number);
        track(&browser, &app, p, &number, "right@example.ma").await?;
        browser.close().await?;
    }
    Ok(())
}

/// Each form posted without its hidden `csrf` field is refused with a 403 page.
pub async fn a_form_without_its_csrf_token_is_refused(app: TestApp) -> Result<()> {
    let number = app.file_ok(filing("csrf@example.ma")).await?;
    app.add_user("agent.csrf", "agent", Some("trade_names"))
        .await?;
    let p = &FRENCH;
    let browser = Browser::start(p.lang).await?;
    let forms = [
        ("track", "#track-form"),
        ("claims/new", "form#wizard"),
        ("agent/login", "#login-form"),
    ];
    for (path, form) in forms {
        browser.open(&page(&app, p, path)).await?;
        let token = format!("{form} input[type=hidden][name=csrf]");
        let value = browser.value(&token).await?;
        ensure!(!value.is_empty(), "{form} has an empty csrf field");
        browser
            .execute(
                "document.querySelector(arguments[0]).remove();",
                vec![token.into()],
            )
            .await?;
        match form {
            "#track-form" => {
                browser.fill("#track-form [name=number]", &number).await?;
                browser
                    .fill("#track-form [name=email]", "csrf@example.ma")
                    .await?;
                browser.submit("#track-form [type=submit]").await?;
            }
            "form#wizard" => {
                fill_claim(&browser, p, p.subject, &[]).await?;
                wizard_action(&browser, "next").await?;
            }
            _ => {
                browser
                    .fill("#login-form [name=login]", "agent.csrf")
                    .await?;
                browser
                    .fill("#login-form [name=password]", crate::support::PASSWORD)
                    .await?;
                browser.submit("#login-form [type=submit]").await?;
            }
        }
        let status = browser.status().await?;
        ensure!(
            status == 403,
            "{form} without csrf: {status}, {}",
            browser.context().await
        );
    }
    // Nothing got through: the claim is not open in this browser, the agent not signed in.
    browser
        .open(&page(&app, p, &format!("claims/{number}")))
        .await?;
    ensure!(!browser.has("#claim-status").await?, "the claim opened");
    browser.open(&page(&app, p, "agent")).await?;
    ensure!(!browser.has("table#queue").await?, "the agent signed in");
    ensure!(claims_filed(&app).await? == 1);
    browser.close().await
}

/// Enter in a field of the wizard goes to the next step, in the same language: neither the
/// language link, nor "another image", nor "previous step" takes it.
pub async fn enter_in_a_field_goes_to_the_next_step(app: TestApp) -> Result<()> {
    for p in &PEOPLE {
        let browser = Browser::start(p.lang).await?;
        browser.open(&page(&app, p, "claims/new")).await?;
        fill_claim(&browser, p, p.subject, &[]).await?;
        browser.press_enter("form#wizard [name=subject]").await?;
        expect_step(&browser, "2").await?;
        expect_language(&browser, p).await?;
        expect_no_errors(&browser).await?;

        // On step 2, where "previous step" comes first, Enter still goes forward.
        fill_contact(&browser, p).await?;
        browser.press_enter("form#wizard [name=email]").await?;
        expect_step(&browser, "3").await?;
        expect_language(&browser, p).await?;
        browser.close().await?;
    }
    Ok(())
}

/// Back and Forward between the wizard's steps show the steps again, with what was typed,
/// without the browser asking to send the form again; after "confirm", Back then "confirm"
/// again leads to the claim already filed, not to a second one.
pub async fn back_and_forward_keep_the_wizard_and_file_once(app: TestApp) -> Result<()> {
    let p = &FRENCH;
    let browser = Browser::start(p.lang).await?;
    browser.open(&page(&app, p, "claims/new")).await?;
    fill_claim(&browser, p, p.subject, &[]).await?;
    wizard_action(&browser, "next").await?;
    expect_step(&browser, "2").await?;
    fill_contact(&browser, p).await?;
    wizard_action(&browser, "next").await?;
    expect_step(&browser, "3").await?;

    browser.back().await?;
    expect_step(&browser, "2").await?;
    ensure!(
        browser.value("form#wizard [name=email]").await? == p.email,
        "Back lost the email: {}",
        browser.context().await
    );
    browser.forward().await?;
    expect_step(&browser, "3").await?;

    browser.submit("button#confirm").await?;
    let number = filed_number(&browser.path().await?, p)?;
    browser.back().await?;
    expect_step(&browser, "3").await?;
    browser.submit("button#confirm").await?;
    ensure!(
        browser.path().await? == format!("/{}/claims/{number}/filed", p.lang),
        "a second confirm went elsewhere: {}",
        browser.context().await
    );
    ensure!(
        browser.has("#notice").await?,
        "no word that it was filed already"
    );
    ensure!(claims_filed(&app).await? == 1, "a second claim was filed");
    browser.close().await
}
