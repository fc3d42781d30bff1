//! F2 as an operator sees it: a projection whose handler fails on an event makes `/readyz`
//! answer 503 naming the projection, the event and the error, and `/metrics` report it,
//! while the checkpoint stays just before the event; once the handler recovers, both are
//! back to normal and the event is applied.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use claimdesk_api::clock::ManualClock;
use claimdesk_api::{router, AppState, Settings};
use claimdesk_projections::{Definition, Projection, ProjectionError, Projections};
use claimdesk_store::{
    Document, ExpectedVersion, Metadata, NewEvent, ReadModelTx, RecordedEvent, SqliteStore, Store,
};
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

/// Fails on every event whose data says `poison`, while `failing`.
struct Picky {
    definition: Definition,
    failing: Arc<AtomicBool>,
}

#[async_trait]
impl Projection for Picky {
    fn definition(&self) -> &Definition {
        &self.definition
    }

    async fn apply(
        &self,
        event: &RecordedEvent,
        tx: &mut dyn ReadModelTx,
    ) -> Result<(), ProjectionError> {
        if event.data["poison"] == json!(true) && self.failing.load(Ordering::SeqCst) {
            return Err(ProjectionError::Inconsistent(
                "cannot apply this one".to_owned(),
            ));
        }
        tx.put(Document {
            collection: "seen".to_owned(),
            key: event.position.to_string(),
            partition: None,
            sort_key: None,
            body: json!({}),
        })
        .await?;
        Ok(())
    }
}

async fn get(app: &axum::Router, path: &str) -> (StatusCode, String) {
    let request = Request::get(path).body(Body::empty()).expect("a request");
    let response = app.clone().oneshot(request).await.expect("a response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a body");
    (status, String::from_utf8(bytes.to_vec()).expect("UTF-8"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_projection_is_reported_by_readyz_and_metrics() {
    let folder = tempfile::tempdir().expect("a folder");
    let url = format!("sqlite://{}", folder.path().join("store.db").display());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::connect(&url).await.expect("a store"));
    let metadata = Metadata {
        actor: "test".to_owned(),
        correlation_id: Uuid::new_v4(),
        causation_id: None,
    };
    for poison in [false, false, true, false] {
        let event = NewEvent {
            event_id: Uuid::new_v4(),
            event_type: "Tick".to_owned(),
            schema_version: 1,
            data: json!({"poison": poison}),
        };
        store
            .append("ticks", ExpectedVersion::Any, &metadata, vec![event])
            .await
            .expect("appended");
    }

    let failing = Arc::new(AtomicBool::new(true));
    let picky = Arc::new(Picky {
        definition: Definition::parse(
            "name = \"picky\"\nversion = 1\ndescription = \"test\"\n\
             [collections.seen]\nkey = \"position\"\n[collections.seen.fields]\n",
        ),
        failing: failing.clone(),
    });
    let projections = Arc::new(Projections::start(store.clone(), vec![picky]));
    let settings = Settings {
        data_dir: folder.path().to_owned(),
        auto_close_after: Duration::from_secs(7 * 86_400),
        captcha_fixed_answer: None,
        secure_cookies: false,
    };
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let state = AppState::new(store.clone(), projections.clone(), clock, settings).expect("state");
    let app = router(state);

    // Stopped at position 3, having applied 1 and 2: not ready, and says why.
    let mut body = Value::Null;
    for _ in 0..200 {
        let (status, text) = get(&app, "/readyz").await;
        body = serde_json::from_str(&text).expect("JSON");
        if status == StatusCode::SERVICE_UNAVAILABLE && !body["projections"][0]["failing"].is_null()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let picky = &body["projections"][0];
    assert_eq!(body["ready"], false, "{body}");
    assert_eq!(picky["name"], "picky", "{body}");
    assert_eq!(picky["position"], 2, "{body}");
    assert_eq!(picky["failing"]["position"], 3, "{body}");
    assert!(
        picky["failing"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot apply this one")),
        "{body}"
    );
    let id = projections.id("picky").expect("an id").clone();
    assert_eq!(store.checkpoint(&id).await.expect("a checkpoint"), 2);
    let (_, metrics) = get(&app, "/metrics").await;
    assert!(
        metrics.contains("claimdesk_projection_failing{name=\"picky\",version=\"1\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("claimdesk_projection_position{name=\"picky\",version=\"1\"} 2"),
        "{metrics}"
    );

    // The handler recovers: the event is applied, nothing skipped, and all is well again.
    failing.store(false, Ordering::SeqCst);
    assert!(projections.wait_for(4, Duration::from_secs(60)).await);
    let (status, text) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let seen = store.list(&id, "seen", None).await.expect("documents");
    let keys: Vec<&str> = seen.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(keys, ["1", "2", "3", "4"]);
    let (_, metrics) = get(&app, "/metrics").await;
    assert!(
        metrics.contains("claimdesk_projection_failing{name=\"picky\",version=\"1\"} 0"),
        "{metrics}"
    );
}
