//! `claimdesk projections rebuild` and `claimdesk audit verify --all` on the embedded SQLite
//! store, after `claimdesk dev generate`: the rebuilt copies serve (the registry names them),
//! equal a rebuild made aside, and the old copies are gone; the whole store verifies.

use std::time::Duration;

use claimdesk::audit::{run as audit, AuditCommand, VerifyArgs};
use claimdesk::config::StorageConfig;
use claimdesk::generate::{generate, GenerateArgs};
use claimdesk::projections_cli::{run as projections, ProjectionsCommand, RebuildArgs};
use claimdesk_projections::runtime::rebuild_into;
use claimdesk_projections::serving::{self, Generation};

fn storage(folder: &tempfile::TempDir) -> StorageConfig {
    StorageConfig {
        data_dir: folder.path().to_owned(),
        database_url: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilt_read_models_serve_and_the_store_verifies() {
    let folder = tempfile::tempdir().expect("a folder");
    let args = GenerateArgs {
        claims: 120,
        seed: 9,
        batch: 25,
        days: 60,
        storage: storage(&folder),
    };
    let generated = generate(&args, |_| {}).await.expect("generated");
    assert_eq!(generated.claims, 120);

    let mut out = Vec::new();
    let rebuild = RebuildArgs {
        name: None,
        retire_after: Duration::ZERO,
        storage: storage(&folder),
    };
    projections(ProjectionsCommand::Rebuild(rebuild), &mut out)
        .await
        .expect("rebuilt");
    let text = String::from_utf8(out).expect("UTF-8");
    let store = claimdesk_store::open(&storage(&folder).store_url())
        .await
        .expect("the store");
    let head = store.head().await.expect("a head");
    assert_eq!(head, generated.events);

    for projection in claimdesk_projections::all() {
        let definition = projection.definition();
        let name = &definition.name;
        let line = format!("rebuilt {name}: v1 g0 -> v1 g1, {head} events in");
        assert!(text.contains(&line), "{line} in {text}");

        let registered = serving::read(store.as_ref(), name).await.expect("read");
        let serving = Generation::first(1).next(1);
        assert_eq!(registered, Some(serving), "{name}");
        let old = Generation::first(1).id(name);
        assert_eq!(store.checkpoint(&old).await.expect("a checkpoint"), 0);

        let aside = Generation::first(1).next(1).next(1).id(name);
        rebuild_into(&store, projection.as_ref(), &aside, &mut |_| {})
            .await
            .expect("rebuilt aside");
        for collection in definition.collections.keys() {
            let served = store.list(&serving.id(name), collection, None).await;
            let again = store.list(&aside, collection, None).await;
            let (served, again) = (served.expect("listed"), again.expect("listed"));
            assert!(!served.is_empty(), "{name}.{collection}");
            assert_eq!(served, again, "{name}.{collection}");
        }
    }

    let mut out = Vec::new();
    let verify = VerifyArgs {
        number: None,
        all: true,
        storage: storage(&folder),
    };
    audit(AuditCommand::Verify(verify), &mut out)
        .await
        .expect("intact");
    let text = String::from_utf8(out).expect("UTF-8");
    let summary = format!("verified {head} events in 120 streams up to position {head}: 0");
    assert!(text.contains(&summary), "{text}");
}
