//! Reference data: claim themes, filing places, contact profiles and countries.
//!
//! What this module promises:
//! - The data is `config/reference.json`, compiled into the binary and parsed once; no
//!   handler keeps lists of its own.
//! - Codes are stable and unique within their kind: snake_case for themes, places and
//!   profiles, ISO 3166-1 alpha-2 (upper case) for countries. Every item has a French and
//!   an Arabic label (tested).
//! - [`Reference::view`] gives the `GET /api/v1/reference` body for a language: themes,
//!   places and profiles in the file's order, countries with Morocco first and the rest in
//!   that language's alphabetical order.

use std::cmp::Ordering;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::i18n::Lang;

/// The country listed first, whatever the language.
pub const HOME_COUNTRY: &str = "MA";

/// One choice of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub code: String,
    pub labels: Labels,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    pub fr: String,
    pub ar: String,
}

impl Labels {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Fr => &self.fr,
            Lang::Ar => &self.ar,
        }
    }
}

/// The lists of reference data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefKind {
    Theme,
    FilingPlace,
    Profile,
    Country,
}

impl RefKind {
    pub const ALL: [RefKind; 4] = [
        RefKind::Theme,
        RefKind::FilingPlace,
        RefKind::Profile,
        RefKind::Country,
    ];

    /// The list's key in the file and in the API: `themes`, `filing_places`, `profiles`,
    /// `countries`.
    pub const fn key(self) -> &'static str {
        match self {
            RefKind::Theme => "themes",
            RefKind::FilingPlace => "filing_places",
            RefKind::Profile => "profiles",
            RefKind::Country => "countries",
        }
    }

    pub fn from_key(key: &str) -> Option<RefKind> {
        RefKind::ALL.into_iter().find(|kind| kind.key() == key)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferenceFile {
    themes: Vec<Item>,
    filing_places: Vec<Item>,
    profiles: Vec<Item>,
    countries: Vec<Item>,
}

/// The reference data, loaded once.
#[derive(Debug)]
pub struct Reference {
    file: ReferenceFile,
    views: [Value; 2],
}

static REFERENCE: LazyLock<Reference> = LazyLock::new(|| {
    let source = include_str!("../../../config/reference.json");
    // The file is part of the binary and tested: a broken one is a build defect.
    let file: ReferenceFile =
        serde_json::from_str(source).expect("config/reference.json is not valid");
    let views = [build_view(&file, Lang::Fr), build_view(&file, Lang::Ar)];
    Reference { file, views }
});

impl Reference {
    pub fn load() -> &'static Reference {
        &REFERENCE
    }

    pub fn items(&self, kind: RefKind) -> &[Item] {
        match kind {
            RefKind::Theme => &self.file.themes,
            RefKind::FilingPlace => &self.file.filing_places,
            RefKind::Profile => &self.file.profiles,
            RefKind::Country => &self.file.countries,
        }
    }

    /// The `GET /api/v1/reference` body: `{"themes": [{"code", "label"}], ...}`.
    pub fn view(&self, lang: Lang) -> Value {
        match lang {
            Lang::Fr => self.views[0].clone(),
            Lang::Ar => self.views[1].clone(),
        }
    }

    pub fn item(&self, kind: RefKind, code: &str) -> Option<&Item> {
        self.items(kind).iter().find(|item| item.code == code)
    }

    pub fn has(&self, kind: RefKind, code: &str) -> bool {
        self.item(kind, code).is_some()
    }

    pub fn has_theme(&self, code: &str) -> bool {
        self.has(RefKind::Theme, code)
    }

    pub fn has_filing_place(&self, code: &str) -> bool {
        self.has(RefKind::FilingPlace, code)
    }

    pub fn has_profile(&self, code: &str) -> bool {
        self.has(RefKind::Profile, code)
    }

    /// Whether `code` is a listed country, in canonical (upper case) form.
    pub fn has_country(&self, code: &str) -> bool {
        self.has(RefKind::Country, code)
    }

    /// The label of `code` in the list named `kind` (a [`RefKind::key`], as in the API:
    /// `themes`, `filing_places`, `profiles`, `countries`).
    pub fn label(&self, kind: &str, code: &str, lang: Lang) -> Option<&str> {
        let kind = RefKind::from_key(kind)?;
        self.item(kind, code).map(|item| item.labels.get(lang))
    }
}

fn build_view(file: &ReferenceFile, lang: Lang) -> Value {
    let list = |items: &[&Item]| -> Value {
        items
            .iter()
            .map(|item| json!({"code": item.code, "label": item.labels.get(lang)}))
            .collect()
    };
    let in_order = |items: &[Item]| list(&items.iter().collect::<Vec<_>>());

    let mut countries: Vec<&Item> = file.countries.iter().collect();
    countries.sort_by(
        |a, b| match (a.code == HOME_COUNTRY, b.code == HOME_COUNTRY) {
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            _ => sort_key(a.labels.get(lang), lang).cmp(&sort_key(b.labels.get(lang), lang)),
        },
    );

    json!({
        "themes": in_order(&file.themes),
        "filing_places": in_order(&file.filing_places),
        "profiles": in_order(&file.profiles),
        "countries": list(&countries),
    })
}

/// A key that sorts labels the way a reader of `lang` expects: French ignores accents
/// and case (É with E, Î with I); Arabic ignores the article ال, hamza seats and short
/// vowels, as dictionaries do.
fn sort_key(label: &str, lang: Lang) -> String {
    match lang {
        Lang::Fr => label
            .chars()
            .flat_map(char::to_lowercase)
            .map(fold_latin)
            .collect(),
        Lang::Ar => {
            let bare = label.strip_prefix("ال").unwrap_or(label);
            bare.chars()
                .filter(|c| !('\u{064B}'..='\u{0652}').contains(c))
                .map(|c| match c {
                    'أ' | 'إ' | 'آ' => 'ا',
                    'ة' => 'ه',
                    'ى' => 'ي',
                    other => other,
                })
                .collect()
        }
    }
}

fn fold_latin(c: char) -> char {
    match c {
        'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => 'a',
        'ç' => 'c',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'î' | 'ï' | 'í' | 'ì' => 'i',
        'ô' | 'ö' | 'ó' | 'ò' | 'õ' => 'o',
        'û' | 'ü' | 'ú' | 'ù' => 'u',
        'ÿ' => 'y',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn is_snake_case(code: &str) -> bool {
        let mut chars = code.chars();
        chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !code.ends_with('_')
            && !code.contains("__")
    }

    #[test]
    fn every_item_has_both_labels_and_a_unique_well_formed_code() {
        let reference = Reference::load();
        for kind in RefKind::ALL {
            let items = reference.items(kind);
            assert!(!items.is_empty(), "{kind:?} is empty");
            let mut seen = HashSet::new();
            for item in items {
                assert!(seen.insert(&item.code), "{kind:?}: {} twice", item.code);
                for lang in Lang::ALL {
                    let label = item.labels.get(lang);
                    assert!(
                        !label.trim().is_empty(),
                        "{kind:?} {} has no {lang}",
                        item.code
                    );
                    assert_eq!(label, label.trim(), "{kind:?} {}: stray spaces", item.code);
                }
                let arabic = item
                    .labels
                    .ar
                    .chars()
                    .any(|c| ('\u{0621}'..='\u{064A}').contains(&c));
                assert!(
                    arabic,
                    "{kind:?} {}: the Arabic label is not Arabic",
                    item.code
                );
                let well_formed = match kind {
                    RefKind::Country => {
                        item.code.len() == 2 && item.code.chars().all(|c| c.is_ascii_uppercase())
                    }
                    _ => is_snake_case(&item.code),
                };
                assert!(well_formed, "{kind:?}: malformed code {:?}", item.code);
            }
        }
    }

    #[test]
    fn the_filing_places_of_the_seed_are_there() {
        let reference = Reference::load();
        for code in [
            "ompic_head_office",
            "ompic_online_directinfo",
            "provincial_trade_delegation",
            "chamber_of_commerce",
        ] {
            assert!(reference.has_filing_place(code), "{code}");
        }
        let centres = reference
            .items(RefKind::FilingPlace)
            .iter()
            .filter(|item| item.code.starts_with("cri_"))
            .count();
        assert_eq!(centres, 12, "one regional investment centre per region");
    }

    #[test]
    fn the_country_list_is_complete() {
        let reference = Reference::load();
        // ISO 3166-1 has 249 codes; EH is left out (see the module's data notes).
        assert_eq!(reference.items(RefKind::Country).len(), 248);
        for code in [
            "MA", "FR", "ES", "SA", "DZ", "TN", "SN", "US", "PS", "AX", "ZW",
        ] {
            assert!(reference.has_country(code), "{code}");
        }
        assert!(
            !reference.has_country("ma"),
            "codes are canonical upper case"
        );
        assert!(!reference.has_country("EH"));
        assert!(!reference.has_country("XX"));
    }

    #[test]
    fn the_view_has_the_contract_shape_in_both_languages() {
        let reference = Reference::load();
        for lang in Lang::ALL {
            let view = reference.view(lang);
            for kind in RefKind::ALL {
                let list = view[kind.key()].as_array().expect("a list");
                assert_eq!(list.len(), reference.items(kind).len());
                for entry in list {
                    let object = entry.as_object().expect("an object");
                    assert_eq!(object.len(), 2, "{entry}");
                    let code = entry["code"].as_str().expect("code");
                    let label = entry["label"].as_str().expect("label");
                    assert_eq!(reference.label(kind.key(), code, lang), Some(label));
                }
            }
            assert_eq!(
                view["countries"][0]["code"], "MA",
                "Morocco first in {lang}"
            );
        }
        assert_eq!(reference.view(Lang::Fr)["countries"][0]["label"], "Maroc");
        assert_eq!(reference.view(Lang::Ar)["countries"][0]["label"], "المغرب");
        assert_eq!(
            reference.view(Lang::Fr)["themes"][0]["code"],
            "issuance_delay"
        );
    }

    #[test]
    fn countries_follow_the_alphabet_of_the_language() {
        let reference = Reference::load();
        let position = |lang, code: &str| {
            let view = reference.view(lang);
            let list = view["countries"].as_array().expect("list").clone();
            list.iter().position(|c| c["code"] == code).expect("listed")
        };
        // French: Égypte sorts among the E, before Espagne; Îles Åland among the I.
        assert!(position(Lang::Fr, "EG") < position(Lang::Fr, "ES"));
        assert!(
            position(Lang::Fr, "EG") < position(Lang::Fr, "EC"),
            "Égypte before Équateur"
        );
        assert!(position(Lang::Fr, "AX") > position(Lang::Fr, "HU"));
        assert!(position(Lang::Fr, "AX") < position(Lang::Fr, "IN"));
        // Arabic: الجزائر sorts under ج, after بلجيكا and before فرنسا.
        assert!(position(Lang::Ar, "BE") < position(Lang::Ar, "DZ"));
        assert!(position(Lang::Ar, "DZ") < position(Lang::Ar, "FR"));
    }

    #[test]
    fn lookups() {
        let reference = Reference::load();
        assert!(reference.has_theme("issuance_delay"));
        assert!(!reference.has_theme("Issuance_Delay"));
        assert!(reference.has_profile("legal_person"));
        assert_eq!(
            reference.label("profiles", "natural_person", Lang::Fr),
            Some("Personne physique")
        );
        assert_eq!(
            reference.label("profiles", "legal_person", Lang::Ar),
            Some("شخص معنوي")
        );
        assert_eq!(reference.label("countries", "MA", Lang::Ar), Some("المغرب"));
        assert_eq!(reference.label("themes", "nope", Lang::Fr), None);
        assert_eq!(reference.label("colours", "MA", Lang::Fr), None);
    }
}
