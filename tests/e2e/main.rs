//! End-to-end tests: each test runs against the real server on SQLite and on PostgreSQL.
//! Without `DATABASE_URL`, the PostgreSQL runs are reported as ignored, never as passed.

mod access;
mod audit;
mod auto_close;
mod filing;
mod lifecycle;
mod notifications;
mod smtp;
mod stats;
mod support;
mod uploads;
mod web;

use support::TestFn;

macro_rules! tests {
    ($($path:path),* $(,)?) => {
        vec![$((stringify!($path), (|app| Box::pin($path(app))) as TestFn)),*]
    };
}

fn all() -> Vec<(&'static str, TestFn)> {
    tests![
        filing::files_and_tracks_a_claim_in_arabic_with_a_pdf,
        filing::reference_data_in_both_languages,
        filing::captcha_is_a_png_and_single_use,
        filing::expired_captcha_is_refused,
        filing::blank_message_is_refused_and_nothing_stored,
        filing::validate_reports_field_errors_in_the_request_language,
        filing::malformed_bodies_get_problems_not_500,
        filing::idempotency_key_files_one_claim,
        filing::events_before_and_after_a_restart_are_projected_once,
        filing::a_burst_of_concurrent_filings_is_all_projected,
        access::wrong_number_or_email_is_the_same_404,
        access::a_token_opens_only_its_own_claim,
        access::repeated_failures_are_rate_limited,
        lifecycle::a_claim_lives_its_whole_life,
        lifecycle::an_agent_answers_and_closes_in_one_action,
        lifecycle::roles_are_checked_on_every_agent_endpoint,
        lifecycle::a_transfer_moves_the_claim_to_the_other_queue,
        lifecycle::bad_input_on_actions_is_refused_and_stores_nothing,
        lifecycle::concurrent_close_and_reopen_keep_the_invariants,
        uploads::html_disguised_as_png_is_refused,
        uploads::exactly_twenty_mebibytes_is_accepted_one_more_byte_is_not,
        uploads::chunked_upload_over_the_limit_is_refused,
        uploads::zip_of_images_is_accepted_zip_with_executable_is_not,
        audit::an_auditor_reads_every_event_and_the_state_at_any_time,
        audit::verify_points_at_an_event_altered_by_hand,
        stats::statistics_are_served_live_and_equal_after_a_rebuild,
        notifications::emails_follow_a_claim_until_it_closes_by_itself,
        notifications::every_step_is_emailed_once,
        notifications::without_smtp_emails_are_written_as_files,
        notifications::the_same_event_twice_changes_nothing,
        notifications::a_refused_email_is_retried_alone,
        notifications::a_crash_while_sending_sends_each_email_once,
        notifications::emails_wait_for_the_mail_server,
        notifications::undeliverable_emails_are_parked_for_administrators,
        notifications::header_injection_is_impossible,
        auto_close::a_client_reaction_stops_the_clock,
        auto_close::deadlines_are_utc_instants,
        auto_close::a_client_message_racing_the_automatic_closure,
        auto_close::two_instances_share_the_work,
        web::forms_without_their_token_are_refused,
        web::a_refused_step_keeps_everything_and_a_double_confirm_files_one_claim,
        web::pages_speak_their_language_with_strict_headers,
        web::a_claim_cookie_opens_that_claim_only,
        web::a_file_over_the_limit_keeps_the_typed_message,
        web::an_action_on_a_claim_changed_meanwhile_keeps_the_text,
        web::an_agent_transfers_a_claim_from_its_page,
        web::a_long_queue_comes_in_pages,
        web::a_refused_message_keeps_its_files,
    ]
}

fn main() {
    support::run_tests(all(), Vec::new());
}
