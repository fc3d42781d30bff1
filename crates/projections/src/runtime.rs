//! The projection runtime: one worker per projection, following the store's global order.
//!
//! A worker reads a batch of events after its checkpoint, applies them inside one read-model
//! transaction and commits the documents with the new checkpoint. The commit is a
//! compare-and-set on the checkpoint, so when several workers follow one projection (several
//! server instances on one database) each event is applied by exactly one of them; the others
//! find the checkpoint moved, reload it and carry on from there.
//!
//! A read model can have two copies at once (see [`crate::serving`]): the serving one, which
//! readers find through [`Projections::id`], and a new one being filled from the first event
//! after its definition's version changed or an operator asked for a rebuild. Both are kept
//! current by workers of their own; the new copy replaces the serving one only once it has
//! applied every event up to the store's head as it was when it was started, and the old
//! copy is dropped a few seconds later. A failure in the new copy holds it at the failing
//! event (reported in [`Status::rebuild`]) while the old copy keeps serving.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use claimdesk_store::{Position, ProjectionId, ReadModelTx, RecordedEvent, Store, StoreError};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};
use tracing::{debug, error, info, warn, Instrument};

use crate::serving::{self, Generation};
use crate::Definition;

/// How many events a worker applies in one transaction.
const BATCH: usize = 500;
/// How often a worker looks for events appended by other processes.
const POLL: Duration = Duration::from_millis(250);
/// The longest pause between two attempts at an event that fails.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Codec(#[from] claimdesk_claims::CodecError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("inconsistent read model: {0}")]
    Inconsistent(String),
}

/// A read model kept up to date from the events.
#[async_trait]
pub trait Projection: Send + Sync {
    fn definition(&self) -> &Definition;

    /// Applies one event; events this projection does not care about are skipped silently.
    async fn apply(
        &self,
        event: &RecordedEvent,
        tx: &mut dyn ReadModelTx,
    ) -> Result<(), ProjectionError>;
}

/// Where a projection stands, for `/readyz`, metrics and operators.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub name: String,
    /// The definition version of the copy that serves readers.
    pub version: u32,
    /// Which copy of the read model serves readers (see [`crate::serving`]).
    pub generation: u32,
    /// The last position applied by the serving copy.
    pub position: Position,
    /// Set while an event keeps failing: the projection waits at it.
    pub failing: Option<Failure>,
    /// The copy being filled to replace the serving one, while there is one.
    pub rebuild: Option<RebuildStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub position: Position,
    pub error: String,
    pub attempts: u32,
}

/// A copy of a read model being filled from the events, before it replaces the serving one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RebuildStatus {
    pub version: u32,
    pub generation: u32,
    /// The last position the new copy applied.
    pub position: Position,
    /// The store's head when the copy was started: it serves once it has applied this.
    pub target: Position,
    /// Set while an event keeps failing in the new copy; the old copy keeps serving.
    pub failing: Option<Failure>,
}

/// Why a rebuild was not started.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// No projection of this name runs here: the API's 404.
    #[error("no projection is named {0}")]
    Unknown(String),
    /// A new copy of this read model is already being filled: the API's 409.
    #[error("projection {0} is already being rebuilt")]
    InProgress(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A rebuild that was started: it runs in the background and switches the readers when done.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RebuildStarted {
    pub name: String,
    pub from: Generation,
    pub to: Generation,
    /// The store's head when the rebuild started; the new copy serves once it has applied it.
    pub target: Position,
}

/// How the runtime switches copies; the defaults suit a server.
#[derive(Debug, Clone)]
pub struct Options {
    /// Whether copies are named in the shared registry ([`crate::serving`]); without it each
    /// projection serves its definition's own version, as [`Projections::start`] does.
    pub registry: bool,
    /// How long a copy that stopped serving is kept before its documents are dropped, so that
    /// other processes still reading it have switched (they read the registry every second).
    pub retire_after: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            registry: true,
            retire_after: Duration::from_secs(5),
        }
    }
}

/// How often the supervisor looks at the copies being filled.
const SUPERVISE: Duration = Duration::from_millis(100);
/// How many supervisor rounds between two readings of the registry (about a second).
const REGISTRY_POLL: u32 = 10;

/// The running projections of this process.
///
/// Each projection has one serving copy, whose id readers get from [`Projections::id`], and
/// at most one new copy being filled beside it. The new copy replaces the serving one as soon
/// as it has applied every event up to the store's head as it was when the copy was started;
/// until then the old copy keeps serving and keeps applying new events. The old copy's
/// documents are dropped [`Options::retire_after`] later.
pub struct Projections {
    store: Arc<dyn Store>,
    slots: Vec<Arc<Slot>>,
    options: Options,
    /// Every task this runtime started, aborted when it is dropped.
    tasks: Arc<std::sync::Mutex<Vec<AbortHandle>>>,
}

/// One projection and its copies.
struct Slot {
    projection: Arc<dyn Projection>,
    /// What synchronous readers need; changed only by whoever holds `workers`.
    view: RwLock<View>,
    workers: tokio::sync::Mutex<Workers>,
}

#[derive(Clone)]
struct View {
    serving: Generation,
    serving_id: &'static ProjectionId,
    serving_status: watch::Receiver<WorkerStatus>,
    candidate: Option<(Generation, Position, watch::Receiver<WorkerStatus>)>,
}

struct Workers {
    serving: Running,
    /// The copy being filled, the head it must reach, and its worker.
    candidate: Option<(Generation, Position, Running)>,
}

/// A worker following one copy.
struct Running {
    id: &'static ProjectionId,
    status: watch::Receiver<WorkerStatus>,
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl Running {
    /// Asks the worker to stop after its current batch, and waits until it has.
    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }
}

/// Where one worker stands.
#[derive(Debug, Clone, Default, PartialEq)]
struct WorkerStatus {
    position: Position,
    failing: Option<Failure>,
}

impl Projections {
    /// Starts one worker per projection, each serving its definition's own version, without
    /// the registry: for tests and tools. The server uses [`Projections::open`].
    pub fn start(store: Arc<dyn Store>, projections: Vec<Arc<dyn Projection>>) -> Projections {
        let options = Options {
            registry: false,
            ..Options::default()
        };
        let tasks = Arc::default();
        let slots = projections
            .into_iter()
            .map(|projection| {
                let serving = Generation::first(projection.definition().version);
                Arc::new(Slot::new(&store, &tasks, projection, serving, None))
            })
            .collect();
        let runtime = Projections {
            store,
            slots,
            options,
            tasks,
        };
        runtime.supervise();
        runtime
    }

    /// Starts the projections as the registry says: each serves its registered copy, and a
    /// projection whose definition version changed is rebuilt beside it, replacing it once it
    /// has caught up with the head as it is now.
    pub async fn open(
        store: Arc<dyn Store>,
        projections: Vec<Arc<dyn Projection>>,
        options: Options,
    ) -> Result<Projections, StoreError> {
        let head = store.head().await?;
        let tasks = Arc::default();
        let mut slots = Vec::new();
        for projection in projections {
            let definition = projection.definition();
            let (serving, candidate) = if options.registry {
                serving::resolve(store.as_ref(), &definition.name, definition.version).await?
            } else {
                (Generation::first(definition.version), None)
            };
            if let Some(candidate) = candidate {
                info!(name = %definition.name, from = %serving, to = %candidate, target = head,
                    "definition changed: rebuilding beside the serving copy");
            }
            let candidate = candidate.map(|c| (c, head));
            slots.push(Arc::new(Slot::new(
                &store, &tasks, projection, serving, candidate,
            )));
        }
        let runtime = Projections {
            store,
            slots,
            options,
            tasks,
        };
        runtime.supervise();
        Ok(runtime)
    }

    /// The projections' current statuses.
    pub fn statuses(&self) -> Vec<Status> {
        self.slots.iter().map(|slot| slot.status()).collect()
    }

    /// The id under which `name` keeps the documents readers use now. It changes when a new
    /// copy replaces the serving one: ask again for each read.
    pub fn id(&self, name: &str) -> Option<&ProjectionId> {
        let slot = self.slot(name)?;
        let id: &'static ProjectionId = slot.view().serving_id;
        Some(id)
    }

    /// The names of the running projections.
    pub fn names(&self) -> Vec<String> {
        self.slots
            .iter()
            .map(|slot| slot.name().to_owned())
            .collect()
    }

    /// Waits until every projection's serving copy has applied `position`; false when
    /// `timeout` ran out.
    pub async fn wait_for(&self, position: Position, timeout: Duration) -> bool {
        let all = async {
            for slot in &self.slots {
                if !slot.wait_for(position).await {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(timeout, all).await.unwrap_or(false)
    }

    /// The lowest position every serving copy has applied.
    pub fn low_water_mark(&self) -> Position {
        self.slots
            .iter()
            .map(|slot| slot.view().serving_status.borrow().position)
            .min()
            .unwrap_or(0)
    }

    /// Starts filling a new copy of projection `name` from the first event, in the background;
    /// the current copy keeps serving until the new one has caught up with the head as it is
    /// now, then the readers switch to it. [`Projections::statuses`] shows its progress.
    pub async fn rebuild(&self, name: &str) -> Result<RebuildStarted, RebuildError> {
        let slot = self
            .slot(name)
            .ok_or_else(|| RebuildError::Unknown(name.to_owned()))?;
        let mut workers = slot.workers.lock().await;
        if workers.candidate.is_some() {
            return Err(RebuildError::InProgress(name.to_owned()));
        }

        let from = slot.view().serving;
        let mut to = from.next(slot.projection.definition().version);
        if self.options.registry {
            // Another process may have promoted a copy this one has not seen yet.
            if let Some(registered) = serving::read(self.store.as_ref(), name).await? {
                to.generation = to.generation.max(registered.generation + 1);
            }
        }
        let id = to.id(name);
        // Whatever an abandoned earlier attempt left under this id goes first.
        self.store.drop_projection(&id).await?;
        let target = self.store.head().await?;

        let running = spawn_worker(&self.store, &self.tasks, &slot.projection, to);
        slot.set_candidate(Some((to, target, running.status.clone())));
        workers.candidate = Some((to, target, running));
        info!(name, %from, %to, target, "rebuild started");
        Ok(RebuildStarted {
            name: name.to_owned(),
            from,
            to,
            target,
        })
    }

    fn slot(&self, name: &str) -> Option<&Arc<Slot>> {
        self.slots.iter().find(|slot| slot.name() == name)
    }

    /// Starts the task that promotes caught-up copies and follows other processes' switches.
    fn supervise(&self) {
        if self.slots.is_empty() {
            return;
        }
        let supervisor = Supervisor {
            store: self.store.clone(),
            slots: self.slots.clone(),
            options: self.options.clone(),
            tasks: self.tasks.clone(),
        };
        let handle = tokio::spawn(
            supervisor
                .run()
                .instrument(tracing::info_span!("supervisor")),
        );
        self.tasks
            .lock()
            .expect("not poisoned")
            .push(handle.abort_handle());
    }
}

impl Drop for Projections {
    fn drop(&mut self) {
        for task in self.tasks.lock().expect("not poisoned").iter() {
            task.abort();
        }
    }
}

impl Slot {
    fn new(
        store: &Arc<dyn Store>,
        tasks: &Arc<std::sync::Mutex<Vec<AbortHandle>>>,
        projection: Arc<dyn Projection>,
        serving: Generation,
        candidate: Option<(Generation, Position)>,
    ) -> Slot {
        let running = spawn_worker(store, tasks, &projection, serving);
        let candidate = candidate
            .map(|(gen, target)| (gen, target, spawn_worker(store, tasks, &projection, gen)));
        let view = View {
            serving,
            serving_id: running.id,
            serving_status: running.status.clone(),
            candidate: candidate
                .as_ref()
                .map(|(gen, target, running)| (*gen, *target, running.status.clone())),
        };
        Slot {
            projection,
            view: RwLock::new(view),
            workers: tokio::sync::Mutex::new(Workers {
                serving: running,
                candidate,
            }),
        }
    }

    fn name(&self) -> &str {
        &self.projection.definition().name
    }

    fn view(&self) -> View {
        self.view.read().expect("not poisoned").clone()
    }

    fn set_candidate(
        &self,
        candidate: Option<(Generation, Position, watch::Receiver<WorkerStatus>)>,
    ) {
        self.view.write().expect("not poisoned").candidate = candidate;
    }

    fn status(&self) -> Status {
        let view = self.view();
        let serving = view.serving_status.borrow().clone();
        let rebuild = view.candidate.map(|(gen, target, status)| {
            let status = status.borrow().clone();
            RebuildStatus {
                version: gen.version,
                generation: gen.generation,
                position: status.position,
                target,
                failing: status.failing,
            }
        });
        Status {
            name: self.name().to_owned(),
            version: view.serving.version,
            generation: view.serving.generation,
            position: serving.position,
            failing: serving.failing,
            rebuild,
        }
    }

    /// Waits until the serving copy has applied `position`, following switches; false when
    /// the runtime stopped.
    async fn wait_for(&self, position: Position) -> bool {
        loop {
            let mut status = self.view().serving_status;
            if status.wait_for(|s| s.position >= position).await.is_ok() {
                return true;
            }
            // That copy's worker stopped: either another copy serves now, or the runtime is
            // gone.
            if self.view().serving_status.same_channel(&status) {
                return false;
            }
        }
    }

    /// Makes `generation` (run by `running`) the serving copy; returns the previous worker.
    fn promote(&self, workers: &mut Workers, generation: Generation, running: Running) -> Running {
        {
            let mut view = self.view.write().expect("not poisoned");
            view.serving = generation;
            view.serving_id = running.id;
            view.serving_status = running.status.clone();
            if view
                .candidate
                .as_ref()
                .is_some_and(|(g, ..)| *g == generation)
            {
                view.candidate = None;
            }
        }
        std::mem::replace(&mut workers.serving, running)
    }
}

/// Promotes copies that caught up, follows the registry, retires old copies.
struct Supervisor {
    store: Arc<dyn Store>,
    slots: Vec<Arc<Slot>>,
    options: Options,
    tasks: Arc<std::sync::Mutex<Vec<AbortHandle>>>,
}

impl Supervisor {
    async fn run(self) {
        let mut round: u32 = 0;
        loop {
            tokio::time::sleep(SUPERVISE).await;
            round = round.wrapping_add(1);
            let poll_registry = self.options.registry && round.is_multiple_of(REGISTRY_POLL);
            for slot in &self.slots {
                let span = tracing::info_span!("projection", name = %slot.name());
                if let Err(error) = self.supervise(slot, poll_registry).instrument(span).await {
                    warn!(error = %error, "could not check the projection's copies; will retry");
                }
            }
        }
    }

    async fn supervise(&self, slot: &Slot, poll_registry: bool) -> Result<(), StoreError> {
        let name = slot.name().to_owned();
        let mut workers = slot.workers.lock().await;

        if poll_registry {
            if let Some(registered) = serving::read(self.store.as_ref(), &name).await? {
                let serving = slot.view().serving;
                let building = workers.candidate.as_ref().map(|(g, ..)| *g);
                if registered != serving && Some(registered) != building {
                    // Another process switched to a copy of its own: follow it. Its documents
                    // are there; this process's worker just keeps them current from here.
                    let running =
                        spawn_worker(&self.store, &self.tasks, &slot.projection, registered);
                    let old = slot.promote(&mut workers, registered, running);
                    drop(workers);
                    info!(from = %serving, to = %registered, "switched to the registered copy");
                    old.stop().await;
                    return Ok(());
                }
            }
        }

        let caught_up = workers
            .candidate
            .as_ref()
            .is_some_and(|(_, target, running)| running.status.borrow().position >= *target);
        if !caught_up {
            return Ok(());
        }
        let Some((generation, target, running)) = workers.candidate.take() else {
            return Ok(());
        };
        if self.options.registry {
            if let Err(error) = serving::write(self.store.as_ref(), &name, generation).await {
                // Put it back as it was: the next round tries again.
                workers.candidate = Some((generation, target, running));
                return Err(error);
            }
        }
        let from = slot.view().serving;
        let old = slot.promote(&mut workers, generation, running);
        drop(workers);
        info!(%from, to = %generation, "the new copy caught up and serves now");

        let retired = old.id;
        old.stop().await;
        let store = self.store.clone();
        let delay = self.options.retire_after;
        let retire = async move {
            tokio::time::sleep(delay).await;
            match store.drop_projection(retired).await {
                Ok(()) => info!("the previous copy was dropped"),
                Err(error) => warn!(error = %error, "could not drop the previous copy"),
            }
        };
        let span = tracing::info_span!("retire", name = %retired.name, version = retired.version);
        let handle = tokio::spawn(retire.instrument(span));
        self.tasks
            .lock()
            .expect("not poisoned")
            .push(handle.abort_handle());
        Ok(())
    }
}

/// Interns a projection id: the ids handed to readers live as long as the process, so that
/// [`Projections::id`] can lend one while another copy may replace it at any moment. Each
/// distinct id is kept once, so this holds as many ids as copies were served.
fn intern(id: ProjectionId) -> &'static ProjectionId {
    static INTERNED: std::sync::Mutex<Vec<&'static ProjectionId>> =
        std::sync::Mutex::new(Vec::new());
    let mut interned = INTERNED.lock().expect("not poisoned");
    if let Some(found) = interned.iter().find(|known| ***known == id) {
        return found;
    }
    let leaked: &'static ProjectionId = Box::leak(Box::new(id));
    interned.push(leaked);
    leaked
}

fn spawn_worker(
    store: &Arc<dyn Store>,
    tasks: &Arc<std::sync::Mutex<Vec<AbortHandle>>>,
    projection: &Arc<dyn Projection>,
    generation: Generation,
) -> Running {
    let id = intern(generation.id(&projection.definition().name));
    let (status, receiver) = watch::channel(WorkerStatus::default());
    let (stop, stopped) = watch::channel(false);
    let worker = Worker {
        store: store.clone(),
        projection: projection.clone(),
        id: id.clone(),
        status,
        stop: stopped,
    };
    let span = tracing::info_span!("projection", name = %id.name, version = id.version);
    let handle = tokio::spawn(worker.run().instrument(span));
    tasks
        .lock()
        .expect("not poisoned")
        .push(handle.abort_handle());
    Running {
        id,
        status: receiver,
        stop,
        handle,
    }
}

struct Worker {
    store: Arc<dyn Store>,
    projection: Arc<dyn Projection>,
    id: ProjectionId,
    status: watch::Sender<WorkerStatus>,
    stop: watch::Receiver<bool>,
}

/// What one pass over a batch achieved.
enum Pass {
    /// Nothing new to apply.
    Idle,
    /// Events applied up to the position.
    Applied(Position),
    /// Another worker moved the checkpoint.
    Raced,
    /// The event at the position failed; the ones before it are committed.
    Failed {
        position: Position,
        error: ProjectionError,
    },
}

impl Worker {
    async fn run(mut self) {
        let mut appended = self.store.appended();
        let mut checkpoint = self.load_checkpoint().await;
        self.publish(checkpoint, None);
        info!(position = checkpoint, "projection started");
        let mut attempts = 0u32;

        while !*self.stop.borrow() {
            match self.pass(checkpoint).await {
                Pass::Idle => {
                    // Appends by this process wake the worker at once; other processes' are
                    // found by the next poll.
                    tokio::select! {
                        _ = tokio::time::timeout(POLL, appended.changed()) => {}
                        _ = self.stop.changed() => {}
                    }
                }
                Pass::Applied(position) => {
                    checkpoint = position;
                    attempts = 0;
                    self.publish(checkpoint, None);
                }
                Pass::Raced => {
                    checkpoint = self.load_checkpoint().await;
                    debug!(position = checkpoint, "checkpoint moved by another worker");
                    self.publish(checkpoint, None);
                }
                Pass::Failed { position, error } => {
                    attempts += 1;
                    checkpoint = self.load_checkpoint().await;
                    error!(event_position = position, attempts, error = %error,
                        "projection stopped at an event it cannot apply; retrying");
                    let failure = Failure {
                        position,
                        error: error.to_string(),
                        attempts,
                    };
                    self.publish(checkpoint, Some(failure));
                    tokio::select! {
                        () = tokio::time::sleep(backoff(attempts)) => {}
                        _ = self.stop.changed() => {}
                    }
                }
            }
        }
        debug!(position = checkpoint, "projection worker stopped");
    }

    async fn load_checkpoint(&self) -> Position {
        let mut attempts = 0;
        loop {
            match self.store.checkpoint(&self.id).await {
                Ok(position) => return position,
                Err(error) => {
                    attempts += 1;
                    warn!(error = %error, "cannot read the checkpoint; retrying");
                    tokio::time::sleep(backoff(attempts)).await;
                }
            }
        }
    }

    fn publish(&self, position: Position, failing: Option<Failure>) {
        self.status.send_modify(|status| {
            status.position = position;
            status.failing = failing;
        });
    }

    async fn pass(&self, checkpoint: Position) -> Pass {
        let batch = match self.store.read_all(checkpoint, BATCH).await {
            Ok(batch) if batch.is_empty() => return Pass::Idle,
            Ok(batch) => batch,
            Err(error) => {
                return Pass::Failed {
                    position: checkpoint + 1,
                    error: error.into(),
                };
            }
        };

        match self.apply_batch(checkpoint, &batch).await {
            Ok(position) => Pass::Applied(position),
            Err((_, ProjectionError::Store(StoreError::CheckpointMoved { .. }))) => Pass::Raced,
            Err((failed_at, error)) => {
                // Commit what comes before the failing event, so the projection stops exactly
                // at it; a race or a second failure here just means the next pass retries.
                let before: Vec<_> = batch
                    .iter()
                    .take_while(|e| e.position < failed_at)
                    .cloned()
                    .collect();
                if !before.is_empty() {
                    if let Err((_, error)) = self.apply_batch(checkpoint, &before).await {
                        debug!(error = %error, "could not commit the events before a failure");
                    }
                }
                Pass::Failed {
                    position: failed_at,
                    error,
                }
            }
        }
    }

    /// Applies `batch` after `checkpoint` in one transaction; on failure, the position of the
    /// event that failed (or of the commit) and the error.
    async fn apply_batch(
        &self,
        checkpoint: Position,
        batch: &[RecordedEvent],
    ) -> Result<Position, (Position, ProjectionError)> {
        let first = batch[0].position;
        let last = batch[batch.len() - 1].position;
        let mut tx = self
            .store
            .begin(&self.id, checkpoint)
            .await
            .map_err(|e| (first, e.into()))?;
        for event in batch {
            let span = tracing::debug_span!("apply", position = event.position,
                stream = %event.stream_id, event_type = %event.event_type);
            self.projection
                .apply(event, tx.as_mut())
                .instrument(span)
                .await
                .map_err(|e| (event.position, e))?;
        }
        tx.commit(last).await.map_err(|e| (last, e.into()))?;
        Ok(last)
    }
}

fn backoff(attempts: u32) -> Duration {
    let secs = 1u64 << attempts.min(5).saturating_sub(1);
    Duration::from_secs(secs).min(MAX_BACKOFF)
}

/// Applies every event from the start into a fresh copy of `projection` under its
/// definition's own id, outside the running workers: used by tests. Returns the last position
/// applied.
pub async fn rebuild(
    store: &Arc<dyn Store>,
    projection: &dyn Projection,
) -> Result<Position, ProjectionError> {
    let id = projection.definition().id();
    store.drop_projection(&id).await?;
    rebuild_into(store, projection, &id, &mut |_| {}).await
}

/// Applies every event after `id`'s checkpoint into `id`, batch after batch, until the
/// store's head, calling `progress` with the position reached after each batch. Memory stays
/// that of one batch however many events there are. Returns the last position applied.
pub async fn rebuild_into(
    store: &Arc<dyn Store>,
    projection: &dyn Projection,
    id: &ProjectionId,
    progress: &mut (dyn FnMut(Position) + Send),
) -> Result<Position, ProjectionError> {
    let mut checkpoint = store.checkpoint(id).await?;
    loop {
        let batch = store.read_all(checkpoint, BATCH).await?;
        let Some(last) = batch.last().map(|e| e.position) else {
            break;
        };
        let mut tx = store.begin(id, checkpoint).await?;
        for event in &batch {
            projection.apply(event, tx.as_mut()).await?;
        }
        tx.commit(last).await?;
        checkpoint = last;
        progress(checkpoint);
    }
    Ok(checkpoint)
}
