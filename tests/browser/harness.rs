//! The harness itself, on pages that do not depend on the web module: Chromium starts, loads a
//! page of the test server, takes a screenshot of the fixed window, and asks for its language.

use anyhow::{ensure, Context, Result};

use crate::driver::{Browser, WINDOW};
use crate::support::TestApp;

/// The width and height of a PNG, from its header.
fn png_size(png: &[u8]) -> Result<(u32, u32)> {
    ensure!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let header = png.get(16..24).context("a cut PNG")?;
    let width = u32::from_be_bytes(header[..4].try_into()?);
    let height = u32::from_be_bytes(header[4..].try_into()?);
    Ok((width, height))
}

/// The API's documentation page, as the browser shows it, in a window of the fixed size.
pub async fn chromium_shows_a_page_of_the_server(app: TestApp) -> Result<()> {
    let browser = Browser::start("fr").await?;
    browser.open(&app.url("/docs")).await?;
    ensure!(browser.status().await? == 200);
    ensure!(browser.path().await? == "/docs", "{}", browser.url().await?);
    let title = browser.client().title().await?;
    ensure!(!title.is_empty(), "the documentation page has a title");
    ensure!(browser.has("body").await?);

    let png = browser.client().screenshot().await?;
    ensure!(
        png_size(&png)? == WINDOW,
        "screenshot of {:?}",
        png_size(&png)?
    );

    // A page that does not exist is a 404 the browser shows, not an error of the harness.
    browser.open(&app.url("/no/such/page")).await?;
    ensure!(browser.status().await? == 404);
    browser.close().await
}

/// The browser's `Accept-Language` is the language it was started with.
pub async fn the_browser_asks_for_its_language(app: TestApp) -> Result<()> {
    for language in ["fr", "ar"] {
        let browser = Browser::start(language).await?;
        browser.open(&app.url("/healthz")).await?;
        let navigator = browser
            .execute("return navigator.language;", vec![])
            .await?;
        ensure!(navigator == language, "navigator.language is {navigator}");
        browser.close().await?;
    }
    Ok(())
}
