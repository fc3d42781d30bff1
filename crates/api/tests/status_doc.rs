//! The status rules in docs/ and the labels the API serves say the same thing.

use claimdesk_api::i18n::{status_label, Lang};
use claimdesk_domain::{Actions, ClaimStatus};

/// The rows of the status table in `docs/status-rules.md`: code, French, Arabic.
fn documented() -> Vec<(String, String, String)> {
    let doc = include_str!("../../../docs/status-rules.md");
    doc.lines()
        .filter_map(|line| {
            let cells: Vec<_> = line.split('|').map(str::trim).collect();
            let code = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((
                code.to_owned(),
                cells.get(3)?.to_string(),
                cells.get(4)?.to_string(),
            ))
        })
        .collect()
}

#[test]
fn every_status_is_documented_with_the_labels_the_api_serves() {
    let rows = documented();
    let codes: Vec<_> = rows.iter().map(|(code, _, _)| code.as_str()).collect();
    assert_eq!(codes, ["pending", "answered", "closed"]);
    for (code, fr, ar) in &rows {
        assert_eq!(&status_label(Lang::Fr, code), fr, "French label of {code}");
        assert_eq!(&status_label(Lang::Ar, code), ar, "Arabic label of {code}");
    }
}

#[test]
fn the_documented_actions_are_the_domains() {
    // "the client may then": message and close until closed, then reopen only.
    let open = Actions {
        message: true,
        close: true,
        reopen: false,
    };
    assert_eq!(Actions::for_status(ClaimStatus::Pending), open);
    assert_eq!(Actions::for_status(ClaimStatus::Answered), open);
    let closed = Actions {
        message: false,
        close: false,
        reopen: true,
    };
    assert_eq!(Actions::for_status(ClaimStatus::Closed), closed);
}

#[test]
fn the_french_and_arabic_documents_use_the_same_labels() {
    let fr = include_str!("../../../docs/status-rules.fr.md");
    let ar = include_str!("../../../docs/status-rules.ar.md");
    for (code, fr_label, ar_label) in documented() {
        assert!(
            fr.contains(&format!("| {fr_label} | `{code}` |")),
            "{code} in French"
        );
        assert!(
            ar.contains(&format!("| {ar_label} | `{code}` |")),
            "{code} in Arabic"
        );
    }
}
