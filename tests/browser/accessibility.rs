//! Every page, in French and in Arabic, checked in the browser by axe-core's WCAG 2 A and AA
//! rules (labels, names, contrast, landmarks, language, ARIA), including pages that show
//! errors.
//!
//! axe-core comes from the npm registry (`tests/browser/package.json`, installed by
//! `./scripts/test`); a missing copy fails the test, it is never skipped.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::driver::Browser;
use crate::pages::*;
use crate::support::{filing, TestApp};

/// The rules' code, as installed by `npm ci --prefix tests/browser`.
fn axe_source() -> Result<String> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{} is missing: run `npm ci --prefix tests/browser` (./scripts/test does)",
            path.display()
        )
    })
}

/// Runs axe-core on the page the browser shows; the violations, described.
async fn violations(browser: &Browser, axe: &str) -> Result<Vec<String>> {
    browser
        .execute(&format!("{axe}\n;return true;"), vec![])
        .await
        .context("loading axe-core into the page")?;
    let found = browser
        .execute(
            "return axe.run(document, {runOnly: {type: 'tag', \
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}) \
             .then(r => r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' \
             + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')));",
            vec![],
        )
        .await
        .context("running axe-core")?;
    let list = match found {
        Value::Array(items) => items,
        other => bail!("axe-core returned {other}"),
    };
    Ok(list
        .into_iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect())
}

async fn check(browser: &Browser, axe: &str, what: &str, found: &mut Vec<String>) -> Result<()> {
    let path = browser.path().await?;
    for violation in violations(browser, axe).await? {
        found.push(format!("{what} ({path}): {violation}"));
    }
    Ok(())
}

pub async fn every_page_passes_the_wcag_rules(app: TestApp) -> Result<()> {
    let axe = axe_source()?;
    let number = app.file_ok(filing("a11y@example.ma")).await?;
    app.add_user("agent.a11y", "agent", Some("trade_names"))
        .await?;
    let mut found = Vec::new();
    for p in &PEOPLE {
        let browser = Browser::start(p.lang).await?;
        browser.open(&page(&app, p, "")).await?;
        check(&browser, &axe, "home", &mut found).await?;

        browser.open(&page(&app, p, "claims/new")).await?;
        check(&browser, &axe, "wizard step 1", &mut found).await?;
        wizard_action(&browser, "next").await?;
        check(&browser, &axe, "wizard step 1 refused", &mut found).await?;
        fill_claim(&browser, p, p.subject, &[]).await?;
        wizard_action(&browser, "next").await?;
        expect_step(&browser, "2").await?;
        check(&browser, &axe, "wizard step 2", &mut found).await?;
        wizard_action(&browser, "next").await?;
        check(&browser, &axe, "wizard step 2 refused", &mut found).await?;
        fill_contact(&browser, p).await?;
        wizard_action(&browser, "next").await?;
        expect_step(&browser, "3").await?;
        check(&browser, &axe, "wizard step 3", &mut found).await?;
        browser.submit("button#confirm").await?;
        check(&browser, &axe, "confirmation", &mut found).await?;

        browser.open(&page(&app, p, "track")).await?;
        check(&browser, &axe, "tracking", &mut found).await?;
        track(&browser, &app, p, &number, "a11y@example.ma").await?;
        check(&browser, &axe, "claim page", &mut found).await?;
        browser.submit("#message-form [type=submit]").await?;
        check(&browser, &axe, "claim page, refused message", &mut found).await?;

        let agent = Browser::start(p.lang).await?;
        agent.open(&page(&app, p, "agent/login")).await?;
        check(&agent, &axe, "agent sign-in", &mut found).await?;
        agent_sign_in(&agent, &app, p, "agent.a11y").await?;
        check(&agent, &axe, "agent queue", &mut found).await?;
        agent.submit("a.claim-link").await?;
        check(&agent, &axe, "agent's claim page", &mut found).await?;
        agent.close().await?;
        browser.close().await?;
    }
    if !found.is_empty() {
        bail!(
            "{} accessibility violations:\n{}",
            found.len(),
            found.join("\n")
        );
    }
    Ok(())
}
