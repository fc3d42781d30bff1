//! Properties of the decision model over random command sequences and random instants.
//!
//! Each sequence is applied with `decide` then `evolve`, as the service does, and after every
//! step the invariants below must hold, whatever was accepted or refused.

use claimdesk_domain::{
    decide, limits, Actor, Attachment, ClaimCommand, ClaimEvent, ClaimState, ClaimStatus, Contact,
    Duration, Language, Profile, Timestamp, UtcDateTime,
};
use proptest::prelude::*;

const ENTITIES: [&str; 3] = ["DRC-CASA", "SIEGE", "CRI-RABAT"];

/// A command before its time is known: the sequence fixes the time of each step.
#[derive(Debug, Clone)]
enum Step {
    File {
        language: Language,
        message: String,
        subject: String,
        attachments: Vec<Attachment>,
    },
    Transfer {
        to: &'static str,
        by: Actor,
        reason: String,
    },
    Answer {
        by: Actor,
        body: String,
        deadline_after: Duration,
        close: bool,
    },
    PostMessage {
        by: Actor,
        body: String,
        attachments: Vec<Attachment>,
    },
    Close {
        satisfaction: u8,
        comment: Option<String>,
    },
    Reopen {
        reason: String,
    },
    AutoClose,
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-zA-Z0-9éèàçعربي ,.!?'-]{1,40}",
        1 => Just(String::new()),
        1 => prop::sample::select(vec![" ", "\u{00A0}\u{202F}", "\u{200B}\u{FEFF}", "\t \n"])
            .prop_map(String::from),
        1 => Just("x".repeat(limits::MESSAGE + 1)),
        1 => Just("nul\u{0}byte".to_owned()),
    ]
}

/// Anyone, the client most often.
fn actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        4 => Just(Actor::Client),
        2 => Just(Actor::agent("a", ENTITIES[0])),
        1 => prop::sample::select(ENTITIES.to_vec()).prop_map(|entity| Actor::agent("b", entity)),
        1 => Just(Actor::staff("root", "admin")),
        1 => Just(Actor::System),
    ]
}

/// Mostly the office: an agent of the entity the claim is filed to, or staff.
fn office_actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        6 => Just(Actor::agent("a", ENTITIES[0])),
        2 => Just(Actor::staff("root", "admin")),
        1 => prop::sample::select(ENTITIES.to_vec()).prop_map(|entity| Actor::agent("b", entity)),
        1 => Just(Actor::Client),
        1 => Just(Actor::System),
    ]
}

fn attachments() -> impl Strategy<Value = Vec<Attachment>> {
    let one =
        (0u64..=limits::ATTACHMENT_BYTES + 10, "[a-z]{1,8}").prop_map(|(size, id)| Attachment {
            id,
            filename: "scan.pdf".into(),
            size,
            media_type: "application/pdf".into(),
            sha256: "0f".repeat(32),
        });
    prop::collection::vec(one, 0..3)
}

fn deadline_after() -> impl Strategy<Value = Duration> {
    prop_oneof![
        6 => Just(Duration::from_days(7)),
        2 => (1i64..=10 * 24).prop_map(Duration::from_hours),
        1 => Just(Duration::ZERO),
        1 => Just(Duration::from_hours(-1)),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (prop::bool::ANY, text(), text(), attachments()).prop_map(
            |(arabic, message, subject, attachments)| Step::File {
                language: if arabic { Language::Ar } else { Language::Fr },
                message,
                subject,
                attachments,
            }
        ),
        1 => (prop::sample::select(ENTITIES.to_vec()), office_actor(), text())
            .prop_map(|(to, by, reason)| Step::Transfer { to, by, reason }),
        5 => (office_actor(), text(), deadline_after(), prop::bool::weighted(0.15))
            .prop_map(|(by, body, deadline_after, close)| Step::Answer {
                by,
                body,
                deadline_after,
                close,
            }),
        4 => (actor(), text(), attachments())
            .prop_map(|(by, body, attachments)| Step::PostMessage { by, body, attachments }),
        2 => (0u8..=7, prop::option::of(text()))
            .prop_map(|(satisfaction, comment)| Step::Close { satisfaction, comment }),
        3 => text().prop_map(|reason| Step::Reopen { reason }),
        4 => Just(Step::AutoClose),
    ]
}

/// Steps with the hours elapsed before each; most sequences start by filing.
fn sequence() -> impl Strategy<Value = Vec<(i64, Step)>> {
    let file_first = prop::bool::weighted(0.9);
    // Mostly hours apart, sometimes about a week, so that deadlines both pass and do not.
    let hours = prop_oneof![3 => 0i64..=48, 1 => 6 * 24i64..=8 * 24];
    let steps = prop::collection::vec((hours, step()), 0..40);
    (file_first, steps).prop_map(|(file_first, mut steps)| {
        if file_first {
            let file = Step::File {
                language: Language::Fr,
                message: "Mon certificat".into(),
                subject: "Retard".into(),
                attachments: vec![],
            };
            steps.insert(0, (0, file));
        }
        steps
    })
}

fn command(step: Step, at: Timestamp) -> ClaimCommand {
    match step {
        Step::File {
            language,
            message,
            subject,
            attachments,
        } => ClaimCommand::File {
            number: "R-1".into(),
            at,
            language,
            theme: "t".into(),
            filing_place: "online".into(),
            subject,
            request_number: "CN-1".into(),
            message,
            attachments,
            contact: Contact {
                profile: Profile::LegalPerson,
                email: "x@y.ma".into(),
                company_name: Some("SARL".into()),
                last_name: None,
                first_name: None,
                phone: None,
                address: None,
                city: None,
                country: None,
            },
            entity: ENTITIES[0].into(),
            rule: "default".into(),
        },
        Step::Transfer { to, by, reason } => ClaimCommand::Transfer {
            to: to.into(),
            by,
            reason,
            at,
        },
        Step::Answer {
            by,
            body,
            deadline_after,
            close,
        } => ClaimCommand::Answer {
            by,
            body,
            attachments: vec![],
            at,
            auto_close_at: at + deadline_after,
            close,
        },
        Step::PostMessage {
            by,
            body,
            attachments,
        } => ClaimCommand::PostMessage {
            by,
            body,
            attachments,
            at,
        },
        Step::Close {
            satisfaction,
            comment,
        } => ClaimCommand::Close {
            satisfaction,
            comment,
            at,
        },
        Step::Reopen { reason } => ClaimCommand::Reopen { reason, at },
        Step::AutoClose => ClaimCommand::AutoClose { at },
    }
}

/// The status the events imply, worked out apart from `ClaimState::evolve`.
fn implied_status(before: Option<ClaimStatus>, events: &[ClaimEvent]) -> Option<ClaimStatus> {
    events.iter().fold(before, |status, event| match event {
        ClaimEvent::ClaimFiled(_) | ClaimEvent::ClaimReopened(_) => Some(ClaimStatus::Pending),
        ClaimEvent::ClaimAnswered(_) => Some(ClaimStatus::Answered),
        ClaimEvent::ClaimClosed(_) | ClaimEvent::ClaimAutoClosed(_) => Some(ClaimStatus::Closed),
        ClaimEvent::MessagePosted(posted)
            if posted.by.is_client() && status == Some(ClaimStatus::Answered) =>
        {
            Some(ClaimStatus::Pending)
        }
        ClaimEvent::MessagePosted(_)
        | ClaimEvent::ClaimRouted(_)
        | ClaimEvent::ClaimTransferred(_) => status,
    })
}

fn assert_round_trips(event: &ClaimEvent) -> Result<(), TestCaseError> {
    let text = serde_json::to_string(event).expect("events serialize");
    let back: ClaimEvent = serde_json::from_str(&text).expect("events deserialize");
    prop_assert_eq!(&back, event);
    prop_assert_eq!(serde_json::to_string(&back).unwrap(), text);
    Ok(())
}

/// Checks one accepted decision against the state it was made on.
fn check_decision(before: &ClaimState, events: &[ClaimEvent]) -> Result<(), TestCaseError> {
    prop_assert!(!events.is_empty());
    if before.is_closed() {
        prop_assert!(
            matches!(events, [ClaimEvent::ClaimReopened(_)]),
            "a closed claim took {:?}",
            events
        );
    }
    if !before.is_filed() {
        prop_assert!(matches!(events.first(), Some(ClaimEvent::ClaimFiled(_))));
    }

    for event in events {
        assert_round_trips(event)?;
        match event {
            ClaimEvent::ClaimClosed(closed) => match closed.satisfaction {
                Some(level) => {
                    prop_assert!(limits::SATISFACTION.contains(&level));
                    prop_assert!(closed.by.is_client());
                }
                None => prop_assert!(closed.by.is_office()),
            },
            ClaimEvent::ClaimAutoClosed(auto) => {
                prop_assert_eq!(before.status(), Some(ClaimStatus::Answered));
                prop_assert_eq!(Some(auto.due_at), before.auto_close_at());
                prop_assert!(auto.at >= auto.due_at);
            }
            ClaimEvent::ClaimAnswered(answered) => {
                prop_assert!(answered.auto_close_at > answered.at);
                prop_assert!(answered.by.is_office());
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks a refusal: the state rules come first, in the documented order.
fn check_refusal(
    before: &ClaimState,
    command: &ClaimCommand,
    code: &str,
) -> Result<(), TestCaseError> {
    let is_file = matches!(command, ClaimCommand::File { .. });
    let is_reopen = matches!(command, ClaimCommand::Reopen { .. });
    if !before.is_filed() && !is_file {
        prop_assert_eq!(code, "not_filed");
    } else if before.is_filed() && is_file {
        prop_assert_eq!(code, "already_filed");
    } else if before.is_closed() && !is_reopen {
        prop_assert_eq!(code, "claim_closed");
    } else if is_reopen && !before.is_closed() {
        prop_assert_eq!(code, "not_closed");
    }
    Ok(())
}

/// Checks the whole stream: nothing follows a closure but a reopening.
fn check_history(history: &[ClaimEvent]) -> Result<(), TestCaseError> {
    for pair in history.windows(2) {
        if matches!(
            pair[0],
            ClaimEvent::ClaimClosed(_) | ClaimEvent::ClaimAutoClosed(_)
        ) {
            prop_assert!(
                matches!(pair[1], ClaimEvent::ClaimReopened(_)),
                "{:?} followed a closure",
                pair[1]
            );
        }
    }
    Ok(())
}

fn check_state(state: &ClaimState, history: &[ClaimEvent]) -> Result<(), TestCaseError> {
    prop_assert_eq!(&ClaimState::fold(history), state);
    prop_assert_eq!(
        state.deadline().is_some(),
        state.status() == Some(ClaimStatus::Answered)
    );
    prop_assert!(state
        .ratings()
        .iter()
        .all(|r| limits::SATISFACTION.contains(&r.satisfaction)));

    let closures = history
        .iter()
        .filter(|e| {
            matches!(
                e,
                ClaimEvent::ClaimClosed(_) | ClaimEvent::ClaimAutoClosed(_)
            )
        })
        .count();
    let rated = history
        .iter()
        .filter(|e| matches!(e, ClaimEvent::ClaimClosed(c) if c.satisfaction.is_some()))
        .count();
    prop_assert_eq!(state.closures() as usize, closures);
    prop_assert_eq!(state.ratings().len(), rated);
    prop_assert!(state.reopenings() <= state.closures());

    let actions = state.actions();
    prop_assert_eq!(actions.reopen, state.is_closed());
    prop_assert_eq!(actions.message, state.is_filed() && !state.is_closed());
    prop_assert_eq!(actions.close, actions.message);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_command_sequences_keep_every_invariant(steps in sequence()) {
        let mut now: Timestamp = "2026-01-05T08:00:00Z".parse().unwrap();
        let mut state = ClaimState::default();
        let mut history: Vec<ClaimEvent> = Vec::new();

        for (hours, step) in steps {
            now += Duration::from_hours(hours);
            let command = command(step, now);
            let before = state.clone();
            let json = serde_json::to_string(&command).unwrap();
            prop_assert_eq!(&serde_json::from_str::<ClaimCommand>(&json).unwrap(), &command);

            match decide(&state, command.clone()) {
                Ok(events) => {
                    check_decision(&before, &events)?;
                    for event in &events {
                        state.evolve(event);
                    }
                    prop_assert_eq!(state.status(), implied_status(before.status(), &events));
                    history.extend(events);
                }
                Err(error) => check_refusal(&before, &command, error.code())?,
            }

            check_state(&state, &history)?;
        }
        check_history(&history)?;
    }

    #[test]
    fn decide_is_deterministic(steps in sequence()) {
        let mut now: Timestamp = "2026-01-05T08:00:00Z".parse().unwrap();
        let mut state = ClaimState::default();
        for (hours, step) in steps {
            now += Duration::from_hours(hours);
            let command = command(step, now);
            let first = decide(&state, command.clone());
            prop_assert_eq!(&first, &decide(&state, command));
            for event in first.into_iter().flatten() {
                state.evolve(&event);
            }
        }
    }

    #[test]
    fn timestamps_round_trip_through_rfc3339_and_json(
        micros in Timestamp::MIN.as_micros()..=Timestamp::MAX.as_micros()
    ) {
        let at = Timestamp::from_micros(micros);
        let text = at.to_rfc3339().unwrap();
        prop_assert_eq!(text.len(), "2026-12-04T15:42:50.123456Z".len());
        prop_assert!(text.ends_with('Z'));
        prop_assert_eq!(text.parse::<Timestamp>().unwrap(), at);

        let json = serde_json::to_string(&at).unwrap();
        prop_assert_eq!(&json, &format!("\"{text}\""));
        prop_assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), at);
        prop_assert_eq!(Timestamp::from_utc(at.to_utc()).unwrap(), at);
    }

    #[test]
    fn numeric_offsets_shift_to_the_same_utc_instant(
        secs in 86_400i64..250_000_000_000,
        east in prop::bool::ANY,
        hours in 0u32..=23,
        minutes in 0u32..=59,
    ) {
        let utc = Timestamp::from_unix_secs(secs);
        let offset = i64::from(hours * 3_600 + minutes * 60) * if east { 1 } else { -1 };
        let local: UtcDateTime = (utc + Duration::from_secs(offset)).to_utc();
        let sign = if east { '+' } else { '-' };
        let text = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{hours:02}:{minutes:02}",
            local.year, local.month, local.day, local.hour, local.minute, local.second
        );
        prop_assert_eq!(text.parse::<Timestamp>().unwrap(), utc, "{}", text);
    }

    #[test]
    fn adding_days_moves_the_date_and_keeps_the_time_of_day(
        secs in 0i64..200_000_000_000,
        days in 0i64..5_000,
    ) {
        let start = Timestamp::from_unix_secs(secs);
        let later = start + Duration::from_days(days);
        prop_assert_eq!((later - start).as_micros(), days * 86_400_000_000);

        let (a, b) = (start.to_utc(), later.to_utc());
        prop_assert_eq!((a.hour, a.minute, a.second), (b.hour, b.minute, b.second));
        let day_number = |t: UtcDateTime| {
            claimdesk_domain::time::days_from_civil(i64::from(t.year), t.month, t.day)
        };
        prop_assert_eq!(day_number(b) - day_number(a), days);
    }
}
