//! Which stored copy of each read model serves the readers: generations and their registry.
//!
//! A read model may exist in several copies at once: the one readers use, and a new one being
//! filled from the events (after its definition's version changed, or because an operator
//! asked for a rebuild). Each copy is a *generation*: the definition version it was built
//! under and a counter that grows with every copy made of that read model. Its documents and
//! checkpoint live under their own [`ProjectionId`] ([`Generation::id`]): generation 0 under
//! the projection's own name, generation `g` under `<name>@<g>`.
//!
//! What this module promises:
//!
//! - **One serving copy per read model, shared by every process.** The registry names it: a
//!   document per read model in the pseudo read model [`registry_id`], which is not derived
//!   from events and is never rebuilt or dropped. A process switches its readers to a new
//!   copy only after writing it there, and the other processes follow within
//!   [`REGISTRY_POLL`](crate::runtime) (the server's runtime reads it every second).
//! - **A copy is promoted only once it has caught up** with the store's head as it was when
//!   the copy was started; until then the previous copy keeps serving, and stays current.
//! - A read model with no entry (a database from before the registry) is served by the copy
//!   that holds data, generation 0 of its definition's version or of the latest older one.

use std::fmt;

use claimdesk_store::{Document, Position, ProjectionId, Store, StoreError};
use serde::{Deserialize, Serialize};

/// The pseudo read model that holds the registry; its checkpoint stays at 0.
const REGISTRY: &str = "projection_registry";
/// The registry's collection: one document per read model, keyed by the read model's name.
const SERVING: &str = "serving";

/// Where the registry is kept.
pub fn registry_id() -> ProjectionId {
    ProjectionId {
        name: REGISTRY.to_owned(),
        version: 1,
    }
}

/// One copy of a read model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    /// The definition version the copy is built under.
    pub version: u32,
    /// Grows with every copy made of the read model; 0 for the first one.
    pub generation: u32,
}

impl Generation {
    /// The first copy under `version`.
    pub fn first(version: u32) -> Generation {
        Generation {
            version,
            generation: 0,
        }
    }

    /// The next copy, under `version`.
    pub fn next(self, version: u32) -> Generation {
        Generation {
            version,
            generation: self.generation + 1,
        }
    }

    /// Where the documents and checkpoint of this copy of read model `name` are kept.
    pub fn id(self, name: &str) -> ProjectionId {
        let name = match self.generation {
            0 => name.to_owned(),
            g => format!("{name}@{g}"),
        };
        ProjectionId {
            name,
            version: self.version,
        }
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{} g{}", self.version, self.generation)
    }
}

/// The copy of read model `name` that the registry names as serving, if any.
pub async fn read(store: &dyn Store, name: &str) -> Result<Option<Generation>, StoreError> {
    let Some(doc) = store.get(&registry_id(), SERVING, name).await? else {
        return Ok(None);
    };
    let generation = serde_json::from_value(doc.body).map_err(|e| {
        StoreError::Corrupt(format!("the registry entry of read model {name}: {e}"))
    })?;
    Ok(Some(generation))
}

/// Names `generation` as the serving copy of read model `name`.
pub async fn write(
    store: &dyn Store,
    name: &str,
    generation: Generation,
) -> Result<(), StoreError> {
    let id = registry_id();
    let body = serde_json::to_value(generation).expect("a generation serializes");
    // The registry's checkpoint never moves: every write is a unit of work from 0 to 0.
    let mut tx = store.begin(&id, 0).await?;
    tx.put(Document {
        collection: SERVING.to_owned(),
        key: name.to_owned(),
        partition: None,
        sort_key: None,
        body,
    })
    .await?;
    tx.commit(0).await
}

/// The copy that serves read model `name` at start, and the copy to build when the definition
/// (now at `version`) differs from it; registers the serving copy if nothing named it yet.
pub async fn resolve(
    store: &dyn Store,
    name: &str,
    version: u32,
) -> Result<(Generation, Option<Generation>), StoreError> {
    if let Some(serving) = read(store, name).await? {
        let candidate = (serving.version != version).then(|| serving.next(version));
        return Ok((serving, candidate));
    }

    // No registry entry: a database from before the registry, or a new read model.
    let current = Generation::first(version);
    let mut serving = current;
    if checkpoint(store, current, name).await? == 0 {
        for older in (1..version).rev() {
            let old = Generation::first(older);
            if checkpoint(store, old, name).await? > 0 {
                serving = old;
                break;
            }
        }
    }
    write(store, name, serving).await?;
    let candidate = (serving != current).then(|| serving.next(version));
    Ok((serving, candidate))
}

async fn checkpoint(
    store: &dyn Store,
    generation: Generation,
    name: &str,
) -> Result<Position, StoreError> {
    store.checkpoint(&generation.id(name)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_have_distinct_ids() {
        let first = Generation::first(1);
        assert_eq!(
            first.id("claim_detail"),
            ProjectionId {
                name: "claim_detail".to_owned(),
                version: 1
            }
        );
        let rebuilt = first.next(1);
        assert_eq!(rebuilt.id("claim_detail").name, "claim_detail@1");
        let upgraded = rebuilt.next(2);
        assert_eq!(
            upgraded.id("claim_detail"),
            ProjectionId {
                name: "claim_detail@2".to_owned(),
                version: 2
            }
        );
        assert_eq!(upgraded.to_string(), "v2 g2");
    }
}
