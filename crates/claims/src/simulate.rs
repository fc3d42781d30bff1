//! Made-up claims living their whole lives, for tests, demonstrations and benchmarks.
//!
//! A [`Simulation`] plans each claim's life as the commands its client, agents, an
//! administrator and the automatic closure would send: filed, sometimes transferred,
//! answered (sometimes answered and closed at once), written back to, closed with a rating,
//! closed automatically, reopened and answered again. The plans follow the domain's rules, so
//! every command is accepted on the state the earlier ones lead to; they are carried out by
//! the real command handler ([`Simulation::execute`]) or decided in memory for bulk loading
//! ([`decide_all`]).
//!
//! What it promises: the same seed gives the same lives (the claim numbers are the caller's);
//! times grow along each life and stay within the chosen span plus a few weeks; no real
//! person's data is made (emails are `@example.test`).

use std::sync::Arc;

use claimdesk_domain::{
    decide, Actor, ClaimCommand, ClaimState, Contact, DomainError, Duration, Language, Profile,
    Timestamp,
};
use claimdesk_store::{Metadata, NewEvent, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::codec::encode;
use crate::handler::{execute, CommandError};

/// Gives the entity and routing rule of a theme and filing place.
pub type Router = Box<dyn Fn(&str, &str) -> (String, String) + Send + Sync>;

/// The codes a simulation draws from.
pub struct Catalog {
    pub themes: Vec<String>,
    pub filing_places: Vec<String>,
    /// Every handling entity, for transfers.
    pub entities: Vec<String>,
    /// The entity and routing rule of a theme and filing place.
    pub route: Router,
}

/// Plans claims' lives.
pub struct Simulation {
    rng: StdRng,
    catalog: Catalog,
    start: Timestamp,
    span: Duration,
    auto_close_after: Duration,
    claims: u64,
}

/// How often each satisfaction level is given, in percent, levels 1 to 5.
const LEVELS: [u32; 5] = [6, 10, 19, 35, 30];

impl Simulation {
    /// Lives filed between `start` and `start + span`, with answers closing by themselves
    /// after `auto_close_after`.
    pub fn new(
        seed: u64,
        catalog: Catalog,
        start: Timestamp,
        span: Duration,
        auto_close_after: Duration,
    ) -> Simulation {
        assert!(
            !catalog.themes.is_empty()
                && !catalog.filing_places.is_empty()
                && !catalog.entities.is_empty(),
            "a catalog names at least one theme, filing place and entity"
        );
        Simulation {
            rng: StdRng::seed_from_u64(seed),
            catalog,
            start,
            span,
            auto_close_after,
            claims: 0,
        }
    }

    fn pick<'a>(&mut self, list: &'a [String]) -> &'a str {
        &list[self.rng.random_range(0..list.len())]
    }

    /// A delay between `min` and `max` hours, to the microsecond.
    fn hours(&mut self, min: i64, max: i64) -> Duration {
        let micros = self
            .rng
            .random_range(min * 3_600_000_000..=max * 3_600_000_000);
        Duration::from_micros(micros)
    }

    fn level(&mut self) -> u8 {
        let mut draw = self.rng.random_range(0..100);
        for (i, share) in LEVELS.iter().enumerate() {
            if draw < *share {
                return i as u8 + 1;
            }
            draw -= share;
        }
        5
    }

    /// The commands of one claim's whole life, in order.
    pub fn plan(&mut self, number: &str) -> Vec<ClaimCommand> {
        self.claims += 1;
        let mut at =
            self.start + Duration::from_micros(self.rng.random_range(0..=self.span.as_micros()));
        let themes = std::mem::take(&mut self.catalog.themes);
        let places = std::mem::take(&mut self.catalog.filing_places);
        let theme = self.pick(&themes).to_owned();
        let place = self.pick(&places).to_owned();
        self.catalog.themes = themes;
        self.catalog.filing_places = places;
        let (mut entity, rule) = (self.catalog.route)(&theme, &place);

        let language = if self.rng.random_bool(0.2) {
            Language::Ar
        } else {
            Language::Fr
        };
        let mut commands = vec![ClaimCommand::File {
            number: number.to_owned(),
            at,
            language,
            theme,
            filing_place: place,
            subject: "Certificat négatif".to_owned(),
            request_number: format!("2026/{:06}", self.claims % 1_000_000),
            message: "Ma demande de certificat négatif attend une réponse.".to_owned(),
            attachments: Vec::new(),
            contact: Contact {
                profile: Profile::NaturalPerson,
                email: format!("client{}@example.test", self.claims),
                company_name: None,
                last_name: None,
                first_name: None,
                phone: None,
                address: None,
                city: None,
                country: None,
            },
            entity: entity.clone(),
            rule,
        }];

        if self.catalog.entities.len() > 1 && self.rng.random_bool(0.08) {
            let entities = std::mem::take(&mut self.catalog.entities);
            let others: Vec<String> = entities.iter().filter(|e| **e != entity).cloned().collect();
            self.catalog.entities = entities;
            if !others.is_empty() {
                at += self.hours(1, 24);
                entity = self.pick(&others).to_owned();
                commands.push(ClaimCommand::Transfer {
                    to: entity.clone(),
                    by: Actor::staff("sim.admin", "admin"),
                    reason: "Relève d'une autre entité.".to_owned(),
                    at,
                });
            }
        }

        for _round in 0..3 {
            if self.rng.random_bool(0.07) {
                break; // left waiting on the entity
            }
            at += self.hours(1, 240);
            let agent = Actor::agent(format!("sim.{entity}"), entity.clone());
            if self.rng.random_bool(0.25) {
                commands.push(ClaimCommand::PostMessage {
                    by: agent.clone(),
                    body: "Nous examinons votre demande.".to_owned(),
                    attachments: Vec::new(),
                    at,
                });
                at += self.hours(1, 48);
            }
            let close = self.rng.random_bool(0.1);
            let auto_close_at = at + self.auto_close_after;
            commands.push(ClaimCommand::Answer {
                by: agent,
                body: "Votre certificat a été délivré.".to_owned(),
                attachments: Vec::new(),
                at,
                auto_close_at,
                close,
            });

            if !close {
                let reaction = self.rng.random_range(0..100);
                if reaction < 18 {
                    at += self.hours(1, 144);
                    commands.push(ClaimCommand::PostMessage {
                        by: Actor::Client,
                        body: "Je n'ai toujours rien reçu.".to_owned(),
                        attachments: Vec::new(),
                        at,
                    });
                    continue; // back to the entity: another round
                } else if reaction < 75 {
                    at += self.hours(1, 144);
                    commands.push(ClaimCommand::Close {
                        satisfaction: self.level(),
                        comment: None,
                        at,
                    });
                } else if reaction < 80 {
                    break; // answered, the deadline still running
                } else {
                    at = auto_close_at;
                    commands.push(ClaimCommand::AutoClose { at });
                }
            }

            if !self.rng.random_bool(0.12) {
                break; // closed for good
            }
            at += self.hours(1, 720);
            commands.push(ClaimCommand::Reopen {
                reason: "Le certificat reçu comporte une erreur.".to_owned(),
                at,
            });
        }
        commands
    }

    /// Plans claim `number`'s life and carries it out through the command handler, command
    /// after command; answers how many events were stored.
    pub async fn execute(
        &mut self,
        store: &Arc<dyn Store>,
        number: &str,
    ) -> Result<u64, CommandError> {
        let mut events = 0;
        for command in self.plan(number) {
            let metadata = metadata(&command);
            let executed = execute(store, number, &metadata, |_| command.clone()).await?;
            events += executed.events.len() as u64;
        }
        Ok(events)
    }
}

/// Who sends `command`, as the API records it, with fresh correlation.
pub fn metadata(command: &ClaimCommand) -> Metadata {
    Metadata {
        actor: command.actor().to_string(),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
    }
}

/// Decides `commands`, one after the other, on a claim that does not exist yet: the appends
/// the command handler would make, each with its metadata, for bulk loading.
pub fn decide_all(
    commands: Vec<ClaimCommand>,
) -> Result<Vec<(Metadata, Vec<NewEvent>)>, DomainError> {
    let mut state = ClaimState::default();
    let mut appends = Vec::with_capacity(commands.len());
    for command in commands {
        let metadata = metadata(&command);
        let events = decide(&state, command)?;
        for event in &events {
            state.evolve(event);
        }
        appends.push((metadata, events.iter().map(encode).collect()));
    }
    Ok(appends)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog {
            themes: vec!["t1".to_owned(), "t2".to_owned()],
            filing_places: vec!["p1".to_owned(), "p2".to_owned()],
            entities: vec!["e1".to_owned(), "e2".to_owned(), "e3".to_owned()],
            route: Box::new(|theme, _| {
                let entity = if theme == "t1" { "e1" } else { "e2" };
                (entity.to_owned(), format!("theme:{theme}"))
            }),
        }
    }

    fn simulation(seed: u64) -> Simulation {
        let start = Timestamp::from_ymd(2026, 1, 1).unwrap();
        Simulation::new(
            seed,
            catalog(),
            start,
            Duration::from_days(365),
            Duration::from_days(7),
        )
    }

    #[test]
    fn every_planned_life_is_accepted_by_the_domain() {
        let mut sim = simulation(1);
        let mut kinds = std::collections::BTreeSet::new();
        for i in 0..2_000 {
            let commands = sim.plan(&format!("RC-{i}"));
            for command in &commands {
                kinds.insert(command.name());
            }
            let appends = decide_all(commands).expect("the domain accepts the plan");
            assert!(!appends.is_empty());
        }
        let all = [
            "file",
            "transfer",
            "answer",
            "post_message",
            "close",
            "reopen",
            "auto_close",
        ];
        assert_eq!(
            kinds,
            all.into_iter().collect(),
            "every kind of command occurs"
        );
    }

    #[test]
    fn the_same_seed_plans_the_same_lives() {
        let (mut a, mut b) = (simulation(7), simulation(7));
        for i in 0..50 {
            let number = format!("RC-{i}");
            assert_eq!(a.plan(&number), b.plan(&number));
        }
    }
}
