//! Real-browser end-to-end tests: Debian's headless Chromium, driven over WebDriver, against the
//! real server on a random port of the loopback (the harness of `tests/e2e/support.rs`).
//!
//! Each test is a person's path through the web pages. The tests of [`on_both`] run on SQLite
//! and on PostgreSQL; without `DATABASE_URL` the PostgreSQL runs are reported as ignored, never
//! as passed. Without Chromium or chromedriver every test fails, saying how to install them.
//! `CLAIMDESK_SCREENSHOTS=1` (see `scripts/screenshots`) also writes the screenshots of
//! `docs/web.md`.

// The e2e suite's harness, shared as is: this suite uses only part of it.
#[allow(dead_code)]
#[path = "../e2e/smtp.rs"]
mod smtp;
#[allow(dead_code)]
#[path = "../e2e/support.rs"]
mod support;

mod accessibility;
mod client;
mod driver;
mod harness;
mod lifecycle;
mod pages;

use support::TestFn;

macro_rules! tests {
    ($($path:path),* $(,)?) => {
        vec![$((stringify!($path), (|app| Box::pin($path(app))) as TestFn)),*]
    };
}

/// The tests that run on both backends: whole flows, where storage matters.
fn on_both() -> Vec<(&'static str, TestFn)> {
    tests![
        lifecycle::a_claim_lives_its_whole_life_in_french,
        lifecycle::a_claim_lives_its_whole_life_in_arabic,
    ]
}

/// The tests that run on SQLite only: what the pages do does not depend on the backend.
fn on_sqlite() -> Vec<(&'static str, TestFn)> {
    tests![
        harness::chromium_shows_a_page_of_the_server,
        harness::the_browser_asks_for_its_language,
        client::refused_steps_keep_what_was_typed,
        client::the_language_switch_keeps_the_page,
        client::a_wrong_pair_is_refused_on_the_tracking_page,
        client::a_form_without_its_csrf_token_is_refused,
        client::enter_in_a_field_goes_to_the_next_step,
        client::back_and_forward_keep_the_wizard_and_file_once,
        accessibility::every_page_passes_the_wcag_rules,
    ]
}

fn main() {
    support::run_tests(on_both(), on_sqlite());
}
