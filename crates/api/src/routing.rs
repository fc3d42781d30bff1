//! Which handling entity receives a new claim: rules kept in `config/routing.json`.
//!
//! Rules are tried in order; the first whose conditions all hold names the entity, and its
//! name is recorded in the routing event. A claim no rule matches goes to the default entity.

use serde::Deserialize;
use std::sync::OnceLock;

use crate::i18n::Lang;

#[derive(Debug, Deserialize)]
pub struct Routing {
    pub entities: Vec<Entity>,
    pub rules: Vec<Rule>,
    pub default_entity: String,
}

#[derive(Debug, Deserialize)]
pub struct Entity {
    pub code: String,
    pub labels: Labels,
    /// Where the entity is told of new claims and client messages.
    pub mailbox: String,
}

#[derive(Debug, Deserialize)]
pub struct Labels {
    pub fr: String,
    pub ar: String,
}

#[derive(Debug, Deserialize)]
pub struct Rule {
    pub name: String,
    #[serde(default)]
    pub theme: Option<String>,
    /// Matches filing places whose code starts with this text (`cri_` for every regional
    /// investment centre).
    #[serde(default)]
    pub filing_place_prefix: Option<String>,
    pub entity: String,
}

/// Where a claim goes, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub entity: String,
    pub rule: String,
}

impl Routing {
    pub fn load() -> &'static Routing {
        static ROUTING: OnceLock<Routing> = OnceLock::new();
        ROUTING.get_or_init(|| {
            let routing: Routing =
                serde_json::from_str(include_str!("../../../config/routing.json"))
                    .expect("config/routing.json is valid");
            routing.check();
            routing
        })
    }

    /// Every rule and the default name a known entity: a bad file is a build defect.
    fn check(&self) {
        let known = |code: &str| self.entities.iter().any(|e| e.code == code);
        assert!(
            known(&self.default_entity),
            "unknown default entity {}",
            self.default_entity
        );
        for rule in &self.rules {
            assert!(
                known(&rule.entity),
                "rule {} names unknown entity {}",
                rule.name,
                rule.entity
            );
        }
    }

    pub fn route(&self, theme: &str, filing_place: &str) -> Route {
        let matching = self.rules.iter().find(|rule| {
            rule.theme.as_deref().is_none_or(|t| t == theme)
                && rule
                    .filing_place_prefix
                    .as_deref()
                    .is_none_or(|p| filing_place.starts_with(p))
        });
        match matching {
            Some(rule) => Route {
                entity: rule.entity.clone(),
                rule: rule.name.clone(),
            },
            None => Route {
                entity: self.default_entity.clone(),
                rule: "default".to_owned(),
            },
        }
    }

    pub fn entity(&self, code: &str) -> Option<&Entity> {
        self.entities.iter().find(|e| e.code == code)
    }

    pub fn label(&self, code: &str, lang: Lang) -> String {
        match (self.entity(code), lang) {
            (Some(entity), Lang::Fr) => entity.labels.fr.clone(),
            (Some(entity), Lang::Ar) => entity.labels.ar.clone(),
            (None, _) => code.to_owned(),
        }
    }
}
