//! The claim's rules, told as: given these events, when this command arrives, then these
//! events (or this refusal).

use claimdesk_domain::{
    decide, limits, Actions, Actor, AnsweredPersonal, Attachment, Channel, ClaimAnswered,
    ClaimAutoClosed, ClaimClosed, ClaimCommand, ClaimEvent, ClaimFiled, ClaimReopened, ClaimRouted,
    ClaimState, ClaimStatus, ClaimTransferred, ClosedPersonal, Contact, DomainError, Duration,
    ErrorKind, FiledPersonal, Language, MessagePersonal, MessagePosted, Profile, Rating,
    ReopenedPersonal, Timestamp, TransferredPersonal, DEFAULT_AUTO_CLOSE_AFTER,
};
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// The harness

struct Given {
    state: ClaimState,
}

struct When {
    state: ClaimState,
    result: Result<Vec<ClaimEvent>, DomainError>,
}

fn given(events: impl IntoIterator<Item = ClaimEvent>) -> Given {
    Given {
        state: ClaimState::fold(events),
    }
}

impl Given {
    fn when(self, command: ClaimCommand) -> When {
        let result = decide(&self.state, command);
        When {
            state: self.state,
            result,
        }
    }
}

impl When {
    /// Checks the decided events and returns the state they lead to.
    #[track_caller]
    fn then(self, expected: impl IntoIterator<Item = ClaimEvent>) -> ClaimState {
        let expected: Vec<ClaimEvent> = expected.into_iter().collect();
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected);
                let mut state = self.state;
                for event in &events {
                    state.evolve(event);
                }
                state
            }
            Err(error) => panic!("expected {expected:#?}, got the refusal {error:?}"),
        }
    }

    /// Checks the refusal's stable code and returns the refusal.
    #[track_caller]
    fn then_error(self, code: &str) -> DomainError {
        match self.result {
            Err(error) => {
                assert_eq!(error.code(), code, "refused, but with {error:?}");
                error
            }
            Ok(events) => panic!("expected the refusal {code}, got {events:#?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures: a claim filed on day 0, handled by entity A

const ENTITY_A: &str = "DRC-CASA";
const ENTITY_B: &str = "SIEGE";
const NUMBER: &str = "R-2026-000042";

/// Day `n` of the scenario, at 09:00 UTC; fractional days go through [`at`].
fn day(n: i64) -> Timestamp {
    start() + Duration::from_days(n)
}

fn start() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn agent() -> Actor {
    Actor::agent("amina", ENTITY_A)
}

fn other_agent() -> Actor {
    Actor::agent("youssef", ENTITY_B)
}

fn staff() -> Actor {
    Actor::staff("root", "admin")
}

fn contact() -> Contact {
    Contact {
        profile: Profile::NaturalPerson,
        email: "client@example.ma".into(),
        company_name: None,
        last_name: Some("Alaoui".into()),
        first_name: Some("Salma".into()),
        phone: Some("+212 600 000 000".into()),
        address: None,
        city: Some("Casablanca".into()),
        country: Some("MA".into()),
    }
}

fn attachment(id: &str, size: u64) -> Attachment {
    Attachment {
        id: id.into(),
        filename: "certificat.pdf".into(),
        size,
        media_type: "application/pdf".into(),
        sha256: "ab".repeat(32),
    }
}

fn file_command() -> ClaimCommand {
    ClaimCommand::File {
        number: NUMBER.into(),
        at: day(0),
        language: Language::Fr,
        theme: "name-refused".into(),
        filing_place: "online".into(),
        subject: "Certificat négatif non reçu".into(),
        request_number: "CN-123456".into(),
        message: "Je n'ai pas reçu mon certificat.".into(),
        attachments: vec![attachment("blob-1", 1_024)],
        contact: contact(),
        entity: ENTITY_A.into(),
        rule: "theme:name-refused".into(),
    }
}

fn filed() -> ClaimEvent {
    ClaimEvent::ClaimFiled(ClaimFiled {
        number: NUMBER.into(),
        filed_at: day(0),
        channel: Channel::Web,
        language: Language::Fr,
        theme: "name-refused".into(),
        filing_place: "online".into(),
        subject: "Certificat négatif non reçu".into(),
        request_number: "CN-123456".into(),
        attachments: vec![attachment("blob-1", 1_024)],
        personal: FiledPersonal {
            contact: contact(),
            message: "Je n'ai pas reçu mon certificat.".into(),
        },
    })
}

fn routed() -> ClaimEvent {
    ClaimEvent::ClaimRouted(ClaimRouted {
        entity: ENTITY_A.into(),
        rule: "theme:name-refused".into(),
        at: day(0),
    })
}

/// A claim filed and routed to entity A on day 0.
fn open_claim() -> Vec<ClaimEvent> {
    vec![filed(), routed()]
}

fn answered_at(when: Timestamp) -> ClaimEvent {
    ClaimEvent::ClaimAnswered(ClaimAnswered {
        by: agent(),
        at: when,
        attachments: vec![],
        auto_close_at: when + DEFAULT_AUTO_CLOSE_AFTER,
        personal: AnsweredPersonal {
            body: "Voici la réponse.".into(),
        },
    })
}

fn answered(n: i64) -> ClaimEvent {
    answered_at(day(n))
}

fn posted(by: Actor, n: i64) -> ClaimEvent {
    ClaimEvent::MessagePosted(MessagePosted {
        by,
        at: day(n),
        attachments: vec![],
        personal: MessagePersonal {
            body: "Un message.".into(),
        },
    })
}

fn closed_by_client(n: i64, satisfaction: u8) -> ClaimEvent {
    ClaimEvent::ClaimClosed(ClaimClosed {
        by: Actor::Client,
        at: day(n),
        satisfaction: Some(satisfaction),
        personal: ClosedPersonal { comment: None },
    })
}

fn reopened(n: i64) -> ClaimEvent {
    ClaimEvent::ClaimReopened(ClaimReopened {
        by: Actor::Client,
        at: day(n),
        personal: ReopenedPersonal {
            reason: "La réponse est incomplète.".into(),
        },
    })
}

fn answer_by(by: Actor, when: Timestamp, close: bool) -> ClaimCommand {
    ClaimCommand::Answer {
        by,
        body: "Voici la réponse.".into(),
        attachments: vec![],
        at: when,
        auto_close_at: when + DEFAULT_AUTO_CLOSE_AFTER,
        close,
    }
}

fn answer_at(when: Timestamp, close: bool) -> ClaimCommand {
    answer_by(agent(), when, close)
}

fn answer(n: i64) -> ClaimCommand {
    answer_at(day(n), false)
}

fn post(by: Actor, body: &str, n: i64) -> ClaimCommand {
    ClaimCommand::PostMessage {
        by,
        body: body.into(),
        attachments: vec![],
        at: day(n),
    }
}

fn close(satisfaction: u8, n: i64) -> ClaimCommand {
    ClaimCommand::Close {
        satisfaction,
        comment: None,
        at: day(n),
    }
}

fn reopen(reason: &str, n: i64) -> ClaimCommand {
    ClaimCommand::Reopen {
        reason: reason.into(),
        at: day(n),
    }
}

fn transfer(to: &str, by: Actor, n: i64) -> ClaimCommand {
    ClaimCommand::Transfer {
        to: to.into(),
        by,
        reason: "Relève du siège.".into(),
        at: day(n),
    }
}

fn auto_close(when: Timestamp) -> ClaimCommand {
    ClaimCommand::AutoClose { at: when }
}

/// One command of each kind but `File`, all valid in content.
fn every_command_but_file(n: i64) -> Vec<ClaimCommand> {
    vec![
        transfer(ENTITY_B, staff(), n),
        answer(n),
        answer_at(day(n), true),
        post(Actor::Client, "Bonjour", n),
        post(agent(), "Bonjour", n),
        close(4, n),
        reopen("Pas résolu", n),
        auto_close(day(n)),
    ]
}

/// Texts that show nothing (F16).
const BLANK_TEXTS: &[&str] = &[
    "",
    "   ",
    "\t\n\r\n",
    "\u{00A0}\u{00A0}",
    "\u{202F}\u{2007}",
    "\u{200B}\u{200C}\u{200D}",
    "\u{2060}\u{FEFF}",
    " \u{00A0} \u{200B}\u{3000}\u{2003} ",
];

// ---------------------------------------------------------------------------------------------
// Filing

#[test]
fn filing_records_the_claim_and_its_routing_and_leaves_it_pending() {
    let state = given([]).when(file_command()).then([filed(), routed()]);

    assert!(state.is_filed());
    assert_eq!(state.number(), Some(NUMBER));
    assert_eq!(state.language(), Some(Language::Fr));
    assert_eq!(state.status(), Some(ClaimStatus::Pending));
    assert_eq!(state.entity(), Some(ENTITY_A));
    assert_eq!(state.routing_rule(), Some("theme:name-refused"));
    assert_eq!(
        state.filing().unwrap().subject,
        "Certificat négatif non reçu"
    );
    assert_eq!(state.auto_close_at(), None);
    assert_eq!(state.last_activity(), Some(day(0)));
    assert_eq!(
        state.actions(),
        Actions {
            message: true,
            close: true,
            reopen: false
        }
    );
}

#[test]
fn filing_twice_is_refused() {
    given(open_claim())
        .when(file_command())
        .then_error("already_filed");
}

#[test]
fn nothing_but_filing_is_accepted_before_the_claim_exists() {
    for command in every_command_but_file(1) {
        let error = given([]).when(command).then_error("not_filed");
        assert_eq!(error.kind(), ErrorKind::NotFound);
    }
    assert_eq!(ClaimState::default().actions(), Actions::default());
    assert_eq!(ClaimState::default().status(), None);
}

fn file_with(change: impl FnOnce(&mut ClaimCommand)) -> ClaimCommand {
    let mut command = file_command();
    change(&mut command);
    command
}

#[test]
fn filing_refuses_blank_or_oversized_fields() {
    let cases: Vec<(ClaimCommand, DomainError)> = vec![
        (
            file_with(|c| set_file(c, |f| *f.subject = " \u{00A0}".into())),
            DomainError::BlankText { field: "subject" },
        ),
        (
            file_with(|c| set_file(c, |f| *f.subject = "x".repeat(limits::SUBJECT + 1))),
            DomainError::TextTooLong {
                field: "subject",
                max: 200,
            },
        ),
        (
            file_with(|c| set_file(c, |f| *f.message = "\u{200B}\u{FEFF}".into())),
            DomainError::BlankText { field: "message" },
        ),
        (
            file_with(|c| set_file(c, |f| *f.message = "m".repeat(limits::MESSAGE + 1))),
            DomainError::TextTooLong {
                field: "message",
                max: 10_000,
            },
        ),
        (
            file_with(|c| set_file(c, |f| *f.request_number = String::new())),
            DomainError::BlankText {
                field: "request_number",
            },
        ),
        (
            file_with(|c| set_file(c, |f| f.contact.email = "client.example.ma".into())),
            DomainError::InvalidEmail {
                field: "contact.email",
            },
        ),
        (
            file_with(|c| set_file(c, |f| f.contact.email = " ".into())),
            DomainError::BlankText {
                field: "contact.email",
            },
        ),
        (
            file_with(|c| set_file(c, |f| f.contact.city = Some("\u{00A0}".into()))),
            DomainError::BlankText {
                field: "contact.city",
            },
        ),
        (
            file_with(|c| set_file(c, |f| *f.entity = String::new())),
            DomainError::BlankText { field: "entity" },
        ),
    ];

    for (command, expected) in cases {
        let error = given([]).when(command).then_error(expected.code());
        assert_eq!(error, expected);
        assert_eq!(error.kind(), ErrorKind::Invalid);
    }
}

#[test]
fn attachments_are_limited_to_20_mib_each() {
    let exactly = file_with(|c| {
        set_file(c, |f| {
            *f.attachments = vec![attachment("big", limits::ATTACHMENT_BYTES)]
        })
    });
    let events = decide(&ClaimState::default(), exactly).unwrap();
    assert_eq!(events[0].attachments()[0].size, 20 * 1024 * 1024);

    let over = file_with(|c| {
        set_file(c, |f| {
            *f.attachments = vec![attachment("big", limits::ATTACHMENT_BYTES + 1)]
        })
    });
    given([]).when(over).then_error("attachment_too_large");

    let bad_hash = file_with(|c| {
        set_file(c, |f| {
            let mut file = attachment("x", 10);
            file.sha256 = "AB".repeat(32);
            *f.attachments = vec![file];
        })
    });
    given([]).when(bad_hash).then_error("invalid_attachment");

    let twice = file_with(|c| {
        set_file(c, |f| {
            *f.attachments = vec![attachment("x", 10), attachment("x", 10)]
        })
    });
    given([]).when(twice).then_error("invalid_attachment");
}

#[test]
fn all_input_errors_of_a_filing_are_listed_in_field_order() {
    let command = file_with(|c| {
        set_file(c, |f| {
            *f.subject = " ".into();
            *f.message = "\u{200B}".into();
            f.contact.email = "nope".into();
        })
    });
    let fields: Vec<_> = command
        .input_errors()
        .iter()
        .map(|e| e.field().unwrap())
        .collect();
    assert_eq!(fields, ["subject", "message", "contact.email"]);
}

/// Mutable access to the fields of a `File` command that the tests change.
struct FileFields<'a> {
    subject: &'a mut String,
    message: &'a mut String,
    request_number: &'a mut String,
    entity: &'a mut String,
    attachments: &'a mut Vec<Attachment>,
    contact: &'a mut Contact,
}

fn set_file(command: &mut ClaimCommand, change: impl FnOnce(FileFields<'_>)) {
    let ClaimCommand::File {
        subject,
        message,
        request_number,
        entity,
        attachments,
        contact,
        ..
    } = command
    else {
        panic!("not a File command");
    };
    change(FileFields {
        subject,
        message,
        request_number,
        entity,
        attachments,
        contact,
    });
}

// ---------------------------------------------------------------------------------------------
// Answers

#[test]
fn an_answer_waits_on_the_client_until_its_deadline() {
    let state = given(open_claim()).when(answer(1)).then([answered(1)]);

    assert_eq!(state.status(), Some(ClaimStatus::Answered));
    assert_eq!(state.answered_at(), Some(day(1)));
    assert_eq!(state.auto_close_at(), Some(day(8)));
    assert_eq!(state.first_answered_at(), Some(day(1)));
    assert_eq!(
        state.actions(),
        Actions {
            message: true,
            close: true,
            reopen: false
        }
    );
}

#[test]
fn a_later_answer_replaces_the_deadline() {
    let state = given([filed(), routed(), answered(1)])
        .when(answer(3))
        .then([answered(3)]);

    assert_eq!(state.auto_close_at(), Some(day(10)));
    assert_eq!(state.first_answered_at(), Some(day(1)));
    assert_eq!(state.answers(), 2);
}

#[test]
fn only_the_handling_entity_or_staff_may_answer() {
    for outsider in [Actor::Client, Actor::System] {
        given(open_claim())
            .when(answer_by(outsider, day(1), false))
            .then_error("not_an_agent");
    }

    let error = given(open_claim())
        .when(answer_by(other_agent(), day(1), false))
        .then_error("wrong_entity");
    assert_eq!(error.kind(), ErrorKind::Forbidden);

    let state = given(open_claim())
        .when(answer_by(staff(), day(1), false))
        .then([ClaimEvent::ClaimAnswered(ClaimAnswered {
            by: staff(),
            at: day(1),
            attachments: vec![],
            auto_close_at: day(8),
            personal: AnsweredPersonal {
                body: "Voici la réponse.".into(),
            },
        })]);
    assert_eq!(state.status(), Some(ClaimStatus::Answered));
}

#[test]
fn an_answer_needs_a_body_and_a_deadline_after_it() {
    for blank in BLANK_TEXTS {
        let command = ClaimCommand::Answer {
            by: agent(),
            body: (*blank).into(),
            attachments: vec![],
            at: day(1),
            auto_close_at: day(8),
            close: false,
        };
        given(open_claim()).when(command).then_error("blank_text");
    }

    let no_deadline = ClaimCommand::Answer {
        by: agent(),
        body: "Réponse".into(),
        attachments: vec![],
        at: day(1),
        auto_close_at: day(1),
        close: false,
    };
    given(open_claim())
        .when(no_deadline)
        .then_error("invalid_deadline");
}

#[test]
fn f6_an_agent_answers_and_closes_in_one_action() {
    let closing = ClaimEvent::ClaimClosed(ClaimClosed {
        by: agent(),
        at: day(2),
        satisfaction: None,
        personal: ClosedPersonal { comment: None },
    });
    let state = given(open_claim())
        .when(answer_at(day(2), true))
        .then([answered(2), closing]);

    // Closed by the agent: no deadline left, and nothing counted as the client's reaction.
    assert_eq!(state.status(), Some(ClaimStatus::Closed));
    assert_eq!(state.deadline(), None);
    assert_eq!(state.ratings(), []);
    assert_eq!(state.satisfaction(), None);
    assert_eq!(state.last_client_reaction_at(), None);
    assert_eq!(state.closures(), 1);
    assert_eq!(
        state.actions(),
        Actions {
            message: false,
            close: false,
            reopen: true
        }
    );

    let mut history = open_claim();
    history.extend(decide(&ClaimState::fold(open_claim()), answer_at(day(2), true)).unwrap());
    assert_eq!(ClaimState::fold(&history), state);
    given(history.clone())
        .when(auto_close(day(9)))
        .then_error("claim_closed");
    given(history)
        .when(reopen("Réponse insuffisante", 3))
        .then([ClaimEvent::ClaimReopened(ClaimReopened {
            by: Actor::Client,
            at: day(3),
            personal: ReopenedPersonal {
                reason: "Réponse insuffisante".into(),
            },
        })]);
}

// ---------------------------------------------------------------------------------------------
// Messages

#[test]
fn an_agent_message_changes_neither_status_nor_deadline() {
    let state = given([filed(), routed(), answered(1)])
        .when(post(agent(), "Un message.", 2))
        .then([posted(agent(), 2)]);
    assert_eq!(state.status(), Some(ClaimStatus::Answered));
    assert_eq!(state.auto_close_at(), Some(day(8)));

    let state = given(open_claim())
        .when(post(agent(), "Un message.", 2))
        .then([posted(agent(), 2)]);
    assert_eq!(state.status(), Some(ClaimStatus::Pending));
}

#[test]
fn a_client_message_on_an_answered_claim_makes_it_pending_and_cancels_the_deadline() {
    let state = given([filed(), routed(), answered(1)])
        .when(post(Actor::Client, "Un message.", 2))
        .then([posted(Actor::Client, 2)]);

    assert_eq!(state.status(), Some(ClaimStatus::Pending));
    assert_eq!(state.deadline(), None);
    assert_eq!(state.last_client_reaction_at(), Some(day(2)));
}

#[test]
fn a_client_message_on_a_pending_claim_leaves_it_pending() {
    let state = given(open_claim())
        .when(post(Actor::Client, "Un message.", 1))
        .then([posted(Actor::Client, 1)]);
    assert_eq!(state.status(), Some(ClaimStatus::Pending));
    assert_eq!(state.messages(), 1);
}

#[test]
fn the_service_does_not_post_messages_and_agents_only_on_their_entitys_claims() {
    given(open_claim())
        .when(post(Actor::System, "Bip", 1))
        .then_error("actor_not_allowed");
    given(open_claim())
        .when(post(other_agent(), "Bonjour", 1))
        .then_error("wrong_entity");
    given(open_claim())
        .when(post(staff(), "Un message.", 1))
        .then([posted(staff(), 1)]);
}

#[test]
fn f16_a_message_that_shows_nothing_is_refused() {
    for blank in BLANK_TEXTS {
        for by in [Actor::Client, agent()] {
            let error = given(open_claim())
                .when(post(by, blank, 1))
                .then_error("blank_text");
            assert_eq!(error, DomainError::BlankText { field: "body" });
        }
        let filing = file_with(|c| set_file(c, |f| *f.message = (*blank).into()));
        let error = given([]).when(filing).then_error("blank_text");
        assert_eq!(error.field(), Some("message"));
    }
    assert!(claimdesk_domain::is_blank(
        " \u{00A0}\u{202F}\u{2007}\u{200B}\u{2060}\u{FEFF}"
    ));
}

#[test]
fn a_message_longer_than_10_000_characters_is_refused() {
    let long = "ب".repeat(limits::MESSAGE + 1);
    let error = given(open_claim())
        .when(post(Actor::Client, &long, 1))
        .then_error("text_too_long");
    assert_eq!(
        error,
        DomainError::TextTooLong {
            field: "body",
            max: 10_000
        }
    );

    let longest = "ب".repeat(limits::MESSAGE);
    assert!(decide(
        &ClaimState::fold(open_claim()),
        post(Actor::Client, &longest, 1)
    )
    .is_ok());
}

// ---------------------------------------------------------------------------------------------
// Closing

#[test]
fn the_client_closes_a_pending_claim_with_a_satisfaction_level() {
    let command = ClaimCommand::Close {
        satisfaction: 4,
        comment: Some("Merci".into()),
        at: day(1),
    };
    let state = given(open_claim())
        .when(command)
        .then([ClaimEvent::ClaimClosed(ClaimClosed {
            by: Actor::Client,
            at: day(1),
            satisfaction: Some(4),
            personal: ClosedPersonal {
                comment: Some("Merci".into()),
            },
        })]);

    assert_eq!(state.status(), Some(ClaimStatus::Closed));
    assert_eq!(
        state.ratings(),
        [Rating {
            satisfaction: 4,
            at: day(1)
        }]
    );
    assert_eq!(
        state.actions(),
        Actions {
            message: false,
            close: false,
            reopen: true
        }
    );
}

#[test]
fn the_client_closes_an_answered_claim_and_cancels_the_deadline() {
    let state = given([filed(), routed(), answered(1)])
        .when(close(5, 2))
        .then([closed_by_client(2, 5)]);
    assert_eq!(state.deadline(), None);
    assert_eq!(state.last_client_reaction_at(), Some(day(2)));
}

#[test]
fn satisfaction_must_be_1_to_5() {
    for level in [0, 6, 255] {
        let error = given(open_claim())
            .when(close(level, 1))
            .then_error("satisfaction_out_of_range");
        assert_eq!(error, DomainError::SatisfactionOutOfRange { value: level });
    }
    for level in 1..=5 {
        given(open_claim())
            .when(close(level, 1))
            .then([closed_by_client(1, level)]);
    }
}

#[test]
fn a_comment_is_optional_but_not_blank_when_given() {
    for blank in BLANK_TEXTS {
        let command = ClaimCommand::Close {
            satisfaction: 3,
            comment: Some((*blank).into()),
            at: day(1),
        };
        given(open_claim()).when(command).then_error("blank_text");
    }
    let long = ClaimCommand::Close {
        satisfaction: 3,
        comment: Some("c".repeat(limits::COMMENT + 1)),
        at: day(1),
    };
    given(open_claim()).when(long).then_error("text_too_long");
}

#[test]
fn a_closed_claim_accepts_nothing_but_a_reopening() {
    let histories = [
        vec![filed(), routed(), closed_by_client(1, 3)],
        vec![filed(), routed(), answered(1), closed_by_client(2, 3)],
    ];
    for history in histories {
        for command in every_command_but_file(5) {
            let reopening = matches!(command, ClaimCommand::Reopen { .. });
            let result = decide(&ClaimState::fold(&history), command);
            if reopening {
                assert!(result.is_ok(), "{result:?}");
            } else {
                let error = result.unwrap_err();
                assert_eq!(error.code(), "claim_closed");
                assert_eq!(error.kind(), ErrorKind::Conflict);
            }
        }
    }
}

#[test]
fn f8_every_rating_is_recorded_in_order() {
    let history = vec![filed(), routed(), answered(1), closed_by_client(2, 5)];
    let state = given(history.clone())
        .when(reopen("Le problème revient", 3))
        .then([ClaimEvent::ClaimReopened(ClaimReopened {
            by: Actor::Client,
            at: day(3),
            personal: ReopenedPersonal {
                reason: "Le problème revient".into(),
            },
        })]);
    assert_eq!(state.status(), Some(ClaimStatus::Pending));

    let mut history = history;
    history.push(reopened(3));
    history.push(answered(4));
    let state = given(history)
        .when(close(2, 5))
        .then([closed_by_client(5, 2)]);

    assert_eq!(
        state.ratings(),
        [
            Rating {
                satisfaction: 5,
                at: day(2)
            },
            Rating {
                satisfaction: 2,
                at: day(5)
            }
        ]
    );
    assert_eq!(state.satisfaction(), Some(2));
    assert_eq!(state.closures(), 2);
    assert_eq!(state.reopenings(), 1);
}

// ---------------------------------------------------------------------------------------------
// Reopening

#[test]
fn f17_a_reopening_records_its_actor_and_reason() {
    let state = given([filed(), routed(), closed_by_client(1, 2)])
        .when(reopen("La réponse est incomplète.", 3))
        .then([reopened(3)]);

    assert_eq!(state.status(), Some(ClaimStatus::Pending));
    assert_eq!(state.reopenings(), 1);
    assert_eq!(state.last_client_reaction_at(), Some(day(3)));

    let history = [filed(), routed(), closed_by_client(1, 2)];
    let events = decide(&ClaimState::fold(&history), reopen("Pas résolu", 3)).unwrap();
    let [ClaimEvent::ClaimReopened(event)] = events.as_slice() else {
        panic!("expected one reopening, got {events:?}");
    };
    assert_eq!(event.by, Actor::Client);
    assert_eq!(event.at, day(3));
    assert_eq!(event.personal.reason, "Pas résolu");
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(json["data"]["by"], json!({"kind": "client"}));
    assert_eq!(json["data"]["personal"]["reason"], "Pas résolu");
}

#[test]
fn only_a_closed_claim_can_be_reopened() {
    given(open_claim())
        .when(reopen("Pourquoi", 1))
        .then_error("not_closed");
    given([filed(), routed(), answered(1)])
        .when(reopen("Pourquoi", 2))
        .then_error("not_closed");
}

#[test]
fn a_reopening_needs_a_reason() {
    for blank in BLANK_TEXTS {
        given([filed(), routed(), closed_by_client(1, 2)])
            .when(reopen(blank, 2))
            .then_error("blank_text");
    }
    given([filed(), routed(), closed_by_client(1, 2)])
        .when(reopen(&"r".repeat(limits::REASON + 1), 2))
        .then_error("text_too_long");
}

#[test]
fn an_automatically_closed_claim_can_be_reopened() {
    let auto_closed = ClaimEvent::ClaimAutoClosed(ClaimAutoClosed {
        at: day(8),
        answered_at: day(1),
        due_at: day(8),
    });
    let state = given([filed(), routed(), answered(1), auto_closed])
        .when(reopen("La réponse est incomplète.", 9))
        .then([reopened(9)]);
    assert_eq!(state.status(), Some(ClaimStatus::Pending));
    assert_eq!(state.auto_closures(), 1);
    assert_eq!(state.closures(), 1);
}

// ---------------------------------------------------------------------------------------------
// Automatic closure

#[test]
fn an_answered_claim_closes_by_itself_at_its_deadline() {
    let state = given([filed(), routed(), answered(1)])
        .when(auto_close(day(8)))
        .then([ClaimEvent::ClaimAutoClosed(ClaimAutoClosed {
            at: day(8),
            answered_at: day(1),
            due_at: day(8),
        })]);
    assert_eq!(state.status(), Some(ClaimStatus::Closed));
    assert_eq!(state.deadline(), None);
    assert_eq!(state.ratings(), []);
    assert_eq!(state.auto_closures(), 1);
}

#[test]
fn a_late_timer_still_closes_and_records_the_deadline() {
    given([filed(), routed(), answered(1)])
        .when(auto_close(day(20)))
        .then([ClaimEvent::ClaimAutoClosed(ClaimAutoClosed {
            at: day(20),
            answered_at: day(1),
            due_at: day(8),
        })]);
}

#[test]
fn no_automatic_closure_before_the_deadline() {
    let early = day(8) - Duration::from_micros(1);
    let error = given([filed(), routed(), answered(1)])
        .when(auto_close(early))
        .then_error("not_due");
    assert_eq!(error, DomainError::NotDue { due_at: day(8) });
}

#[test]
fn a_claim_never_answered_does_not_close_by_itself() {
    given(open_claim())
        .when(auto_close(day(30)))
        .then_error("not_answered");
}

#[test]
fn f9_a_client_message_after_the_answer_stops_the_clock() {
    // Answer on day 0, client message on day 3, deadline check on day 7.
    let history = vec![filed(), routed(), answered(0), posted(Actor::Client, 3)];
    given(history.clone())
        .when(auto_close(day(7)))
        .then_error("not_answered");

    // A new answer on day 4 starts a new 7-day clock: not due on day 7, due on day 11.
    let mut history = history;
    history.push(answered(4));
    let error = given(history.clone())
        .when(auto_close(day(7)))
        .then_error("not_due");
    assert_eq!(error, DomainError::NotDue { due_at: day(11) });
    given(history)
        .when(auto_close(day(11)))
        .then([ClaimEvent::ClaimAutoClosed(ClaimAutoClosed {
            at: day(11),
            answered_at: day(4),
            due_at: day(11),
        })]);
}

#[test]
fn an_agent_message_or_a_transfer_does_not_stop_the_clock() {
    let transferred = ClaimEvent::ClaimTransferred(ClaimTransferred {
        from: ENTITY_A.into(),
        to: ENTITY_B.into(),
        by: staff(),
        at: day(4),
        personal: TransferredPersonal {
            reason: "Relève du siège.".into(),
        },
    });
    let history = vec![
        filed(),
        routed(),
        answered(0),
        posted(agent(), 3),
        transferred,
    ];
    given(history)
        .when(auto_close(day(7)))
        .then([ClaimEvent::ClaimAutoClosed(ClaimAutoClosed {
            at: day(7),
            answered_at: day(0),
            due_at: day(7),
        })]);
}

#[test]
fn f10_the_deadline_is_exactly_7_times_24_hours_in_utc() {
    // Answered in Casablanca's winter time six days before Europe's clocks move (2026-03-29),
    // by an agent whose offset differs from the server's.
    let answered_on = at("2026-03-23T10:00:00+01:00");
    let state = given(open_claim())
        .when(answer_at(answered_on, false))
        .then([answered_at(answered_on)]);

    let due = state.auto_close_at().unwrap();
    assert_eq!(
        due.as_micros() - answered_on.as_micros(),
        7 * 24 * 3_600 * 1_000_000
    );
    assert_eq!(due, at("2026-03-30T09:00:00Z"));
    assert_eq!(due, at("2026-03-30T11:00:00+02:00"));
    assert_eq!(due.to_string(), "2026-03-30T09:00:00.000000Z");

    let history = [filed(), routed(), answered_at(answered_on)];
    let almost = due - Duration::from_micros(1);
    given(history.clone())
        .when(auto_close(almost))
        .then_error("not_due");
    given(history)
        .when(auto_close(at("2026-03-30T11:00:00+02:00")))
        .then([ClaimEvent::ClaimAutoClosed(ClaimAutoClosed {
            at: due,
            answered_at: answered_on,
            due_at: due,
        })]);
}

// ---------------------------------------------------------------------------------------------
// Transfers

#[test]
fn staff_transfers_a_claim_to_another_entity_without_changing_its_status() {
    let state = given([filed(), routed(), answered(1)])
        .when(transfer(ENTITY_B, staff(), 2))
        .then([ClaimEvent::ClaimTransferred(ClaimTransferred {
            from: ENTITY_A.into(),
            to: ENTITY_B.into(),
            by: staff(),
            at: day(2),
            personal: TransferredPersonal {
                reason: "Relève du siège.".into(),
            },
        })]);

    assert_eq!(state.entity(), Some(ENTITY_B));
    assert_eq!(state.status(), Some(ClaimStatus::Answered));
    assert_eq!(state.auto_close_at(), Some(day(8)));
    assert_eq!(state.transfers(), 1);

    // The claim now belongs to entity B's agents, no longer to entity A's.
    let history = [
        filed(),
        routed(),
        ClaimEvent::ClaimTransferred(ClaimTransferred {
            from: ENTITY_A.into(),
            to: ENTITY_B.into(),
            by: staff(),
            at: day(2),
            personal: TransferredPersonal {
                reason: "Relève du siège.".into(),
            },
        }),
    ];
    given(history.clone())
        .when(post(agent(), "Bonjour", 3))
        .then_error("wrong_entity");
    given(history)
        .when(post(other_agent(), "Un message.", 3))
        .then([posted(other_agent(), 3)]);
}

#[test]
fn an_agent_of_the_handling_entity_may_transfer_its_claim() {
    given(open_claim())
        .when(transfer(ENTITY_B, agent(), 1))
        .then([ClaimEvent::ClaimTransferred(ClaimTransferred {
            from: ENTITY_A.into(),
            to: ENTITY_B.into(),
            by: agent(),
            at: day(1),
            personal: TransferredPersonal {
                reason: "Relève du siège.".into(),
            },
        })]);
}

#[test]
fn transfers_are_refused_to_the_same_entity_on_closed_claims_and_from_clients() {
    let error = given(open_claim())
        .when(transfer(ENTITY_A, staff(), 1))
        .then_error("same_entity");
    assert_eq!(
        error,
        DomainError::SameEntity {
            entity: ENTITY_A.into()
        }
    );

    given([filed(), routed(), closed_by_client(1, 4)])
        .when(transfer(ENTITY_B, staff(), 2))
        .then_error("claim_closed");
    given(open_claim())
        .when(transfer(ENTITY_B, Actor::Client, 1))
        .then_error("not_an_agent");
    given(open_claim())
        .when(transfer(ENTITY_B, other_agent(), 1))
        .then_error("wrong_entity");

    for blank in BLANK_TEXTS {
        let command = ClaimCommand::Transfer {
            to: ENTITY_B.into(),
            by: staff(),
            reason: (*blank).into(),
            at: day(1),
        };
        given(open_claim()).when(command).then_error("blank_text");
    }
}

// ---------------------------------------------------------------------------------------------
// Stored forms

#[test]
fn events_have_a_stable_serialized_form() {
    let json = serde_json::to_value(filed()).unwrap();
    assert_eq!(
        json,
        json!({
            "type": "ClaimFiled",
            "data": {
                "number": NUMBER,
                "filed_at": "2026-03-02T09:00:00.000000Z",
                "channel": "web",
                "language": "fr",
                "theme": "name-refused",
                "filing_place": "online",
                "subject": "Certificat négatif non reçu",
                "request_number": "CN-123456",
                "attachments": [{
                    "id": "blob-1",
                    "filename": "certificat.pdf",
                    "size": 1024,
                    "media_type": "application/pdf",
                    "sha256": "ab".repeat(32),
                }],
                "personal": {
                    "contact": {
                        "profile": "natural_person",
                        "email": "client@example.ma",
                        "company_name": null,
                        "last_name": "Alaoui",
                        "first_name": "Salma",
                        "phone": "+212 600 000 000",
                        "address": null,
                        "city": "Casablanca",
                        "country": "MA",
                    },
                    "message": "Je n'ai pas reçu mon certificat.",
                },
            },
        })
    );

    let json = serde_json::to_value(answered(1)).unwrap();
    assert_eq!(json["type"], "ClaimAnswered");
    assert_eq!(
        json["data"]["by"],
        json!({"kind": "agent", "login": "amina", "entity": ENTITY_A})
    );
    assert_eq!(json["data"]["auto_close_at"], "2026-03-10T09:00:00.000000Z");
    assert_eq!(
        serde_json::to_value(staff()).unwrap(),
        json!({"kind": "staff", "login": "root", "role": "admin"})
    );
    assert_eq!(
        serde_json::to_value(Actor::System).unwrap(),
        json!({"kind": "system"})
    );
    assert_eq!(serde_json::to_value(Language::Ar).unwrap(), json!("ar"));
    assert_eq!(
        serde_json::to_value(Profile::LegalPerson).unwrap(),
        json!("legal_person")
    );
    assert_eq!(
        serde_json::to_value(ClaimStatus::Answered).unwrap(),
        json!("answered")
    );
}

#[test]
fn event_types_and_schema_versions_are_named_after_the_variants() {
    let events = [
        filed(),
        routed(),
        ClaimEvent::ClaimTransferred(ClaimTransferred {
            from: ENTITY_A.into(),
            to: ENTITY_B.into(),
            by: staff(),
            at: day(1),
            personal: TransferredPersonal { reason: "r".into() },
        }),
        answered(1),
        posted(Actor::Client, 2),
        closed_by_client(3, 4),
        reopened(4),
        ClaimEvent::ClaimAutoClosed(ClaimAutoClosed {
            at: day(9),
            answered_at: day(1),
            due_at: day(8),
        }),
    ];
    let types: Vec<_> = events.iter().map(ClaimEvent::event_type).collect();
    assert_eq!(types, ClaimEvent::EVENT_TYPES);
    for event in &events {
        // ClaimFiled is at version 2 (it gained `channel`); the others are at version 1.
        let expected = if event.event_type() == "ClaimFiled" {
            2
        } else {
            1
        };
        assert_eq!(event.schema_version(), expected);
        let json = serde_json::to_value(event).unwrap();
        assert_eq!(json["type"], event.event_type());
        let back: ClaimEvent = serde_json::from_value(json).unwrap();
        assert_eq!(&back, event);
    }
}

#[test]
fn personal_data_appears_only_under_personal() {
    let mut history = open_claim();
    history.push(answered(1));
    history.push(posted(Actor::Client, 2));
    history.push(closed_by_client(3, 4));
    history.push(reopened(4));
    let secrets = [
        "client@example.ma",
        "Alaoui",
        "Salma",
        "reçu mon",
        "la réponse",
        "message.",
        "incomplète",
    ];

    for event in &history {
        let mut json = serde_json::to_value(event).unwrap();
        let data = json["data"].as_object_mut().unwrap();
        data.remove("personal");
        let outside = serde_json::to_string(&json).unwrap().to_lowercase();
        for secret in secrets {
            assert!(
                !outside.contains(&secret.to_lowercase()),
                "{secret} outside personal"
            );
        }
    }
}

#[test]
fn refusals_have_stable_codes_and_kinds() {
    let cases = [
        (DomainError::NotFiled, "not_filed", ErrorKind::NotFound),
        (
            DomainError::AlreadyFiled,
            "already_filed",
            ErrorKind::Conflict,
        ),
        (
            DomainError::ClaimClosed,
            "claim_closed",
            ErrorKind::Conflict,
        ),
        (DomainError::NotClosed, "not_closed", ErrorKind::Conflict),
        (
            DomainError::NotAnswered,
            "not_answered",
            ErrorKind::Conflict,
        ),
        (
            DomainError::NotDue { due_at: day(1) },
            "not_due",
            ErrorKind::Conflict,
        ),
        (
            DomainError::SameEntity { entity: "E".into() },
            "same_entity",
            ErrorKind::Conflict,
        ),
        (
            DomainError::NotAnAgent,
            "not_an_agent",
            ErrorKind::Forbidden,
        ),
        (
            DomainError::BlankText { field: "body" },
            "blank_text",
            ErrorKind::Invalid,
        ),
        (
            DomainError::TextTooLong {
                field: "body",
                max: 10,
            },
            "text_too_long",
            ErrorKind::Invalid,
        ),
        (
            DomainError::SatisfactionOutOfRange { value: 9 },
            "satisfaction_out_of_range",
            ErrorKind::Invalid,
        ),
    ];
    for (error, code, kind) in cases {
        assert_eq!(error.code(), code);
        assert_eq!(error.kind(), kind);
    }
    assert_eq!(
        DomainError::NotDue { due_at: day(1) }.to_string(),
        "the automatic closure is due at 2026-03-03T09:00:00.000000Z, not before"
    );
}
