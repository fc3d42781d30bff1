//! A read model's definition as kept under `projections/`: its name, version and documents.

use claimdesk_store::ProjectionId;
use serde::Deserialize;

/// What a `projections/<name>.toml` file declares.
#[derive(Debug, Clone, Deserialize)]
pub struct Definition {
    pub name: String,
    /// Raised whenever the documents' shape or content rules change: the read model is then
    /// rebuilt from the events under the new version.
    pub version: u32,
    pub description: String,
    pub collections: std::collections::BTreeMap<String, Collection>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Collection {
    pub key: String,
    #[serde(default)]
    pub partition: Option<String>,
    #[serde(default)]
    pub sort_key: Option<String>,
    /// Field name → meaning.
    pub fields: std::collections::BTreeMap<String, String>,
}

impl Definition {
    /// Parses a definition file; the files are embedded, so a bad one is a build defect.
    pub fn parse(text: &str) -> Definition {
        toml::from_str(text).expect("projection definitions under projections/ are valid")
    }

    pub fn id(&self) -> ProjectionId {
        ProjectionId {
            name: self.name.clone(),
            version: self.version,
        }
    }
}
