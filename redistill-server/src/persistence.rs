//! The snapshot driver: writing the keyspace to the snapshot file (SAVE, BGSAVE, periodic
//! and shutdown saves), loading it at start, and the status INFO and LASTSAVE report.
//!
//! Saves never fork. A save copies the keyspace in batches of about a thousand entries, each
//! under one shard's read lock (see `redistill_store::Store::for_each_snapshot_batch`), and
//! streams each batch into the file, so memory grows by one batch of copies and other
//! clients keep being served. The file is replaced atomically (`redistill_persist::AtomicFile`): a crash
//! or a failed write at any point leaves the previous snapshot whole.
//!
//! A snapshot also keeps the function libraries' source code (as Redis's RDB keeps them):
//! whoever changes them publishes their sources in [`LibrarySources`], so a save never waits
//! for a running script, and a load hands the libraries it read to a [`RestoreLibraries`]
//! that loads them into the server.
//!
//! At most one save runs at a time: SAVE and BGSAVE refuse while one runs, a periodic save
//! skips its turn, and a shutdown save waits for the running one to end.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use parking_lot::{Condvar, Mutex};
use redistill_persist::{AtomicFile, PersistError, SnapshotReader, SnapshotWriter, Value};
use redistill_store::{SnapshotValue, Store};

use crate::config::{PersistenceConfig, SavePoint};
use crate::loading::{Loading, PROGRESS_EVERY};

/// What a health check wants to know about snapshots, read without locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PersistenceStatus {
    /// Unix time (seconds) of the last successful save, or of the start if none yet.
    pub last_save_unix: u64,
    /// Whether the last save attempt succeeded (true before any attempt).
    pub last_save_ok: bool,
    /// Whether a save is running now.
    pub in_progress: bool,
    /// Changes to the keyspace since the last successful save.
    pub changes_since_last_save: u64,
    /// Saves started since the server started (INFO's `rdb_saves`); 0 means
    /// `last_save_ok` and `last_save_unix` describe no save yet.
    pub saves: u64,
}

/// Where saves write their bytes: the seam between the snapshot driver and the file
/// system.
///
/// The server's own sink is [`FileSink`], which writes each snapshot crash-safely with
/// [`AtomicFile`]. Another one goes in through [`crate::Server::start_with_snapshot_sink`]; it
/// exists for tests and embedders: to inject write errors and check how the server reports
/// them, or to wrap the file (count bytes, throttle). Loading at start always reads the file
/// at `snapshot_path`, so a sink that writes elsewhere only sees its own saves back when it
/// also leaves them there.
pub trait SnapshotSink: Send + Sync {
    /// Opens the destination of one save meant to replace the snapshot at `path`.
    ///
    /// # Errors
    ///
    /// The destination cannot be created; the save then fails as a write would.
    fn create(&self, path: &Path) -> Result<Box<dyn SnapshotFile>, PersistError>;
}

/// One save's destination: the snapshot's bytes are written to it, then it is committed
/// once the snapshot is complete.
///
/// A destination dropped without [`commit`](SnapshotFile::commit) (because a write failed)
/// must leave the previous snapshot as it was.
pub trait SnapshotFile: Write + Send {
    /// Makes the written snapshot the current one.
    ///
    /// # Errors
    ///
    /// The snapshot could not be made durable or put in place.
    fn commit(self: Box<Self>) -> Result<(), PersistError>;
}

impl SnapshotFile for AtomicFile {
    fn commit(self: Box<Self>) -> Result<(), PersistError> {
        AtomicFile::commit(*self)
    }
}

/// The server's own [`SnapshotSink`]: an [`AtomicFile`] at the snapshot's path (temporary
/// file, fsync, rename, fsync of the directory).
#[derive(Debug, Clone, Copy, Default)]
pub struct FileSink;

impl SnapshotSink for FileSink {
    fn create(&self, path: &Path) -> Result<Box<dyn SnapshotFile>, PersistError> {
        Ok(Box::new(AtomicFile::create(path)?))
    }
}

/// The function libraries' source code, by name, as the last change left them: what a save
/// writes beside the keys.
#[derive(Debug, Default)]
pub(crate) struct LibrarySources {
    sources: Mutex<Vec<(String, Bytes)>>,
    /// Changes published so far: each counts as a change to save, as in Redis.
    changes: AtomicU64,
}

impl LibrarySources {
    /// Replaces the published libraries after a change.
    pub fn publish(&self, sources: Vec<(String, Bytes)>) {
        *self.sources.lock() = sources;
        self.changes.fetch_add(1, Ordering::Relaxed);
    }

    /// The published libraries.
    pub fn get(&self) -> Vec<(String, Bytes)> {
        self.sources.lock().clone()
    }
}

/// Loads the libraries a snapshot held, (name, source code) each, into the server; with
/// `replace_all` they replace every library, otherwise each replaces one of its name. The
/// error text when one does not load.
pub(crate) type RestoreLibraries<'a> = &'a dyn Fn(Vec<(Bytes, Bytes)>, bool) -> Result<(), String>;

/// Why a save did not happen.
#[derive(Debug)]
pub(crate) enum SaveError {
    /// Another save is running.
    InProgress,
    /// Writing the snapshot failed; the previous one is intact.
    Failed(PersistError),
}

impl fmt::Display for SaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaveError::InProgress => f.write_str("a save is already in progress"),
            SaveError::Failed(e) => e.fmt(f),
        }
    }
}

/// Where and how a save writes, read from the configuration when it starts.
#[derive(Debug, Clone)]
pub(crate) struct SaveTarget {
    pub path: PathBuf,
    pub key_delay: Duration,
}

impl SaveTarget {
    pub fn from_config(config: &PersistenceConfig) -> Self {
        SaveTarget {
            path: config.snapshot_path.clone(),
            key_delay: Duration::from_micros(config.key_save_delay_us),
        }
    }
}

/// Snapshot bookkeeping shared by the commands, the snapshot thread and shutdown.
pub(crate) struct Persistence {
    sink: Arc<dyn SnapshotSink>,
    /// `Some(start)` while a save runs.
    running: Mutex<Option<Instant>>,
    /// A BGSAVE inside EXEC asked for a save that the snapshot thread has not started yet.
    scheduled: AtomicBool,
    idle: Condvar,
    in_progress: AtomicBool,
    last_save_unix: AtomicU64,
    /// Unix time the last save attempt ended, successful or not.
    last_try_unix: AtomicU64,
    last_ok: AtomicBool,
    /// Seconds the last background save took; -1 before the first.
    last_bgsave_secs: AtomicI64,
    /// `Store::changes` as of the start of the last successful save.
    changes_at_save: AtomicU64,
    saves: AtomicU64,
    /// Keys written so far by the running save, and the keyspace size when it started.
    keys_processed: AtomicU64,
    keys_total: AtomicU64,
    loaded_keys: AtomicU64,
    expired_at_load: AtomicU64,
    /// Set once SHUTDOWN has dealt with saving, so the exit path does not save again.
    shutdown_handled: AtomicBool,
    /// Where the shutdown's save went, if it saved: the requests still run while draining
    /// are saved there too once the workers stop.
    shutdown_target: parking_lot::Mutex<Option<SaveTarget>>,
    /// The load at start: while it runs (or after it failed) nothing is saved, since a
    /// save would replace the file with part of it.
    loading: Loading,
    /// The function libraries saves write.
    libraries: LibrarySources,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Writes `libraries` and every live key of `store` to a destination of `sink` for
/// `target`, committing it only once complete, counting keys written in `processed`.
fn write_snapshot(
    sink: &dyn SnapshotSink,
    store: &Store,
    libraries: &[(String, Bytes)],
    target: &SaveTarget,
    processed: &AtomicU64,
) -> Result<u64, PersistError> {
    let file = sink.create(&target.path)?;
    let mut w = SnapshotWriter::new(file, unix_now_ms())?;
    for (name, code) in libraries {
        w.write_library(name.as_bytes(), code)?;
    }
    store.for_each_snapshot_batch(|db, entries| {
        let n = entries.len() as u64;
        write_entries(&mut w, db, entries, target)?;
        processed.fetch_add(n, Ordering::Relaxed);
        Ok::<(), PersistError>(())
    })?;
    let (file, stats) = w.finish()?;
    file.commit()?;
    Ok(stats.bytes)
}

fn write_entries<W: std::io::Write>(
    w: &mut SnapshotWriter<W>,
    db: usize,
    entries: &mut Vec<redistill_store::SnapshotEntry>,
    target: &SaveTarget,
) -> Result<(), PersistError> {
    let db = u32::try_from(db).unwrap_or(u32::MAX);
    for e in entries.drain(..) {
        match &e.value {
            SnapshotValue::String(v) => w.write_string(db, &e.key, e.expire_at_ms, v)?,
            SnapshotValue::Integer(n) => w.write_integer(db, &e.key, e.expire_at_ms, *n)?,
            SnapshotValue::Hash(fields) => w.write_hash(
                db,
                &e.key,
                e.expire_at_ms,
                fields.iter().map(|(f, v)| (&f[..], &v[..])),
            )?,
            SnapshotValue::List(elements) => w.write_list(
                db,
                &e.key,
                e.expire_at_ms,
                elements.iter().map(|element| &element[..]),
            )?,
            SnapshotValue::Set(members) => w.write_set(
                db,
                &e.key,
                e.expire_at_ms,
                members.iter().map(|member| &member[..]),
            )?,
            SnapshotValue::ZSet(members) => w.write_zset(
                db,
                &e.key,
                e.expire_at_ms,
                members.iter().map(|(member, score)| (&member[..], *score)),
            )?,
            // A type the store gained without a record here fails the save rather than
            // leaving its keys out of it.
            _ => {
                let key = String::from_utf8_lossy(&e.key);
                let message = format!("no snapshot record for the type of key {key:?}");
                return Err(std::io::Error::new(std::io::ErrorKind::Unsupported, message).into());
            }
        }
        if !target.key_delay.is_zero() {
            thread::sleep(target.key_delay);
        }
    }
    Ok(())
}

impl Persistence {
    pub fn new(sink: Arc<dyn SnapshotSink>) -> Self {
        Persistence {
            sink,
            running: Mutex::new(None),
            scheduled: AtomicBool::new(false),
            idle: Condvar::new(),
            in_progress: AtomicBool::new(false),
            last_save_unix: AtomicU64::new(unix_now()),
            last_try_unix: AtomicU64::new(0),
            last_ok: AtomicBool::new(true),
            last_bgsave_secs: AtomicI64::new(-1),
            changes_at_save: AtomicU64::new(0),
            saves: AtomicU64::new(0),
            keys_processed: AtomicU64::new(0),
            keys_total: AtomicU64::new(0),
            loaded_keys: AtomicU64::new(0),
            expired_at_load: AtomicU64::new(0),
            shutdown_handled: AtomicBool::new(false),
            shutdown_target: parking_lot::Mutex::new(None),
            loading: Loading::default(),
            libraries: LibrarySources::default(),
        }
    }

    /// The function libraries' sources saves write; whoever changes the libraries
    /// publishes them here.
    pub fn libraries(&self) -> &LibrarySources {
        &self.libraries
    }

    /// Claims the right to save; false when a save is running.
    fn try_begin(&self, store: &Store) -> bool {
        let mut running = self.running.lock();
        if running.is_some() {
            return false;
        }
        *running = Some(Instant::now());
        self.started(store);
        true
    }

    /// Waits for a running save to end, then claims the right to save.
    fn begin_waiting(&self, store: &Store) {
        let mut running = self.running.lock();
        while running.is_some() {
            self.idle.wait(&mut running);
        }
        *running = Some(Instant::now());
        self.started(store);
    }

    /// Asks the snapshot thread for a background save (BGSAVE inside EXEC); refused while
    /// one runs, as Redis refuses it.
    pub fn schedule(&self) -> Result<(), SaveError> {
        let running = self.running.lock();
        if running.is_some() {
            return Err(SaveError::InProgress);
        }
        self.scheduled.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Counts a save as it starts, as Redis's `rdb_saves` does, with the keys it will write.
    /// Any save that starts satisfies a scheduled one.
    fn started(&self, store: &Store) {
        self.scheduled.store(false, Ordering::Relaxed);
        let total: usize = (0..store.databases())
            .filter_map(|db| store.db_info(db).ok())
            .map(|info| info.keys)
            .sum();
        self.keys_total.store(total as u64, Ordering::Relaxed);
        self.keys_processed.store(0, Ordering::Relaxed);
        self.saves.fetch_add(1, Ordering::Relaxed);
        self.in_progress.store(true, Ordering::Release);
    }

    /// Records a save's outcome and lets the next one start.
    fn end(&self, result: &Result<u64, PersistError>, changes_before: u64, background: bool) {
        let mut running = self.running.lock();
        let started = running.take();
        let secs = started.map_or(0, |s| s.elapsed().as_secs());
        self.last_try_unix.store(unix_now(), Ordering::Relaxed);
        match result {
            Ok(bytes) => {
                self.last_ok.store(true, Ordering::Relaxed);
                self.last_save_unix.store(unix_now(), Ordering::Relaxed);
                self.changes_at_save
                    .store(changes_before, Ordering::Relaxed);
                let elapsed = started.map_or(0.0, |s| s.elapsed().as_secs_f64());
                log::info!("DB saved on disk ({bytes} bytes in {elapsed:.3} seconds)");
            }
            Err(e) => {
                self.last_ok.store(false, Ordering::Relaxed);
                log::warn!("Error saving the DB on disk: {e}");
            }
        }
        if background {
            self.last_bgsave_secs
                .store(i64::try_from(secs).unwrap_or(i64::MAX), Ordering::Relaxed);
        }
        self.in_progress.store(false, Ordering::Release);
        self.idle.notify_all();
    }

    /// Runs a claimed save to its end.
    fn run(&self, store: &Store, target: &SaveTarget, background: bool) -> Result<u64, SaveError> {
        let changes_before = self.changes(store);
        let libraries = self.libraries.get();
        let result = write_snapshot(&*self.sink, store, &libraries, target, &self.keys_processed);
        self.end(&result, changes_before, background);
        result.map_err(SaveError::Failed)
    }

    /// SAVE: writes the snapshot on the calling thread.
    pub fn save(&self, store: &Store, target: &SaveTarget) -> Result<u64, SaveError> {
        if !self.try_begin(store) {
            return Err(SaveError::InProgress);
        }
        self.run(store, target, false)
    }

    /// A save that must happen (shutdown): waits for a running one, then saves.
    pub fn save_waiting(&self, store: &Store, target: &SaveTarget) -> Result<u64, SaveError> {
        self.begin_waiting(store);
        self.run(store, target, false)
    }

    /// BGSAVE: starts a save on a thread of its own and returns at once.
    pub fn bgsave(self: &Arc<Self>, store: &Store, target: SaveTarget) -> Result<(), SaveError> {
        if !self.try_begin(store) {
            return Err(SaveError::InProgress);
        }
        log::info!("Background saving started");
        let this = Arc::clone(self);
        let store = store.clone();
        let spawned = thread::Builder::new()
            .name("redistill-bgsave".into())
            .spawn(move || {
                let ok = this.run(&store, &target, true).is_ok();
                if ok {
                    log::info!("Background saving terminated with success");
                } else {
                    log::warn!("Background saving error");
                }
            });
        if let Err(e) = spawned {
            let failed = Err(PersistError::from(std::io::Error::new(
                e.kind(),
                e.to_string(),
            )));
            self.end(&failed, 0, true);
            return Err(SaveError::Failed(PersistError::from(e)));
        }
        Ok(())
    }

    /// Whether a save that nobody waits for may start now (see [`retry_ok`]).
    fn retry_ok(&self) -> bool {
        retry_ok(
            self.last_ok.load(Ordering::Relaxed),
            unix_now(),
            self.last_try_unix.load(Ordering::Relaxed),
        )
    }

    /// The load at start's progress (see [`crate::loading`]).
    pub fn loading(&self) -> &Loading {
        &self.loading
    }

    /// Whether a save is running.
    pub fn in_progress(&self) -> bool {
        self.in_progress.load(Ordering::Acquire)
    }

    /// Unix time of the last successful save (LASTSAVE).
    pub fn last_save_unix(&self) -> u64 {
        self.last_save_unix.load(Ordering::Relaxed)
    }

    /// Changes made so far: to the keyspace, and to the function libraries.
    fn changes(&self, store: &Store) -> u64 {
        store.changes() + self.libraries.changes.load(Ordering::Relaxed)
    }

    /// Changes since the last successful save.
    pub fn changes_since_save(&self, store: &Store) -> u64 {
        self.changes(store)
            .saturating_sub(self.changes_at_save.load(Ordering::Relaxed))
    }

    /// The status for health checks.
    pub fn status(&self, store: &Store) -> PersistenceStatus {
        PersistenceStatus {
            last_save_unix: self.last_save_unix(),
            last_save_ok: self.last_ok.load(Ordering::Relaxed),
            in_progress: self.in_progress(),
            changes_since_last_save: self.changes_since_save(store),
            saves: self.saves.load(Ordering::Relaxed),
        }
    }

    /// Waits until no save runs (one running at shutdown finishes its file).
    pub fn wait_idle(&self) {
        let mut running = self.running.lock();
        while running.is_some() {
            self.idle.wait(&mut running);
        }
    }

    /// Marks that SHUTDOWN has saved (or was told not to), so the exit path does not.
    pub fn mark_shutdown_handled(&self) {
        self.shutdown_handled.store(true, Ordering::SeqCst);
    }

    /// Records that the shutdown saved to `target`, for [`Persistence::save_drained`].
    pub fn set_shutdown_target(&self, target: SaveTarget) {
        *self.shutdown_target.lock() = Some(target);
    }

    /// After the workers stopped: if the shutdown saved and the requests answered while
    /// draining changed anything, saves again so that every answered write is in the file.
    pub fn save_drained(&self, store: &Store) {
        let Some(target) = self.shutdown_target.lock().take() else {
            return;
        };
        self.wait_idle();
        let changes = self.changes_since_save(store);
        if changes == 0 {
            return;
        }
        log::info!("Saving the {changes} change(s) made while draining.");
        if let Err(e) = self.save_waiting(store, &target) {
            log::error!("The changes made while draining could not be saved: {e}");
        }
    }

    /// Whether SHUTDOWN already dealt with saving.
    pub fn shutdown_handled(&self) -> bool {
        self.shutdown_handled.load(Ordering::SeqCst)
    }

    /// The `# Persistence` section of INFO, with every field Redis 7.0 prints.
    pub fn info(&self, store: &Store, out: &mut String) {
        use std::fmt::Write as _;
        let current = self.running.lock().map_or(-1, |s| {
            i64::try_from(s.elapsed().as_secs()).unwrap_or(i64::MAX)
        });
        // Redis shows the running save's progress, and zeros when none runs.
        let (processed, total) = if current >= 0 {
            (
                self.keys_processed.load(Ordering::Relaxed),
                self.keys_total.load(Ordering::Relaxed),
            )
        } else {
            (0, 0)
        };
        let _ = write!(
            out,
            "loading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\n\
             current_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\n\
             current_save_keys_processed:{processed}\r\ncurrent_save_keys_total:{total}\r\n\
             rdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\n\
             rdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\n\
             rdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{current}\r\n\
             rdb_saves:{}\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:{}\r\n\
             rdb_last_load_keys_loaded:{}\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\n\
             aof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\n\
             aof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\n\
             aof_rewrites:0\r\naof_rewrites_consecutive_failures:0\r\n\
             aof_last_write_status:ok\r\naof_last_cow_size:0\r\n\
             module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
            u8::from(self.loading.active()),
            self.changes_since_save(store),
            u8::from(current >= 0),
            self.last_save_unix(),
            if self.last_ok.load(Ordering::Relaxed) {
                "ok"
            } else {
                "err"
            },
            self.last_bgsave_secs.load(Ordering::Relaxed),
            self.saves.load(Ordering::Relaxed),
            self.expired_at_load.load(Ordering::Relaxed),
            self.loaded_keys.load(Ordering::Relaxed),
        );
        self.loading.info_text(out);
    }

    /// Loads the snapshot named by `config` into an empty `store`, and its libraries through
    /// `restore`, if persistence is on and the file exists, recording its progress and
    /// outcome in [`Persistence::loading`].
    /// `stop` is asked now and then; when it says so the load ends early with an error.
    ///
    /// A damaged file is an error naming the file and the byte offset, unless
    /// `start_empty_on_corrupt_snapshot` is set: then the file is renamed aside, whatever
    /// was loaded is dropped, and the server starts empty.
    pub fn load(
        &self,
        store: &Store,
        config: &PersistenceConfig,
        stop: &dyn Fn() -> bool,
        restore: RestoreLibraries<'_>,
    ) -> Result<(), String> {
        let result = self.load_snapshot(store, config, stop, restore);
        self.loading.end(result.clone());
        result
    }

    fn load_snapshot(
        &self,
        store: &Store,
        config: &PersistenceConfig,
        stop: &dyn Fn() -> bool,
        restore: RestoreLibraries<'_>,
    ) -> Result<(), String> {
        if !config.enabled {
            return Ok(());
        }
        remove_stale_temp_files(&config.snapshot_path);
        let Some(source) = snapshot_to_load(config) else {
            log::info!(
                "No snapshot at {}: starting with an empty keyspace",
                config.snapshot_path.display()
            );
            return Ok(());
        };
        if source != config.snapshot_path {
            log::warn!(
                "Loading {}, the snapshot file's earlier default name; snapshots are now saved \
                 to {}",
                source.display(),
                config.snapshot_path.display()
            );
        }
        let path = &source;
        let started = Instant::now();
        let watch = LoadWatch {
            loading: Some(&self.loading),
            stop,
        };
        match load_file(store, path, &watch, restore, true) {
            Ok((loaded, expired)) => {
                // Loading bypasses the memory limit; an evicting policy catches up now.
                let limit = store.max_memory();
                if limit > 0 {
                    store.set_max_memory(limit);
                }
                self.loaded_keys.store(loaded, Ordering::Relaxed);
                self.expired_at_load.store(expired, Ordering::Relaxed);
                self.changes_at_save
                    .store(self.changes(store), Ordering::Relaxed);
                log::info!(
                    "DB loaded from disk: {loaded} keys loaded, {expired} expired keys dropped, \
                     in {:.3} seconds ({})",
                    started.elapsed().as_secs_f64(),
                    path.display()
                );
                Ok(())
            }
            Err(LoadFailure {
                message,
                damaged: true,
            }) if config.start_empty_on_corrupt_snapshot => {
                store.flushall();
                self.changes_at_save
                    .store(self.changes(store), Ordering::Relaxed);
                let aside = PathBuf::from(format!("{}.corrupt-{}", path.display(), unix_now()));
                std::fs::rename(path, &aside).map_err(|e| {
                    format!(
                        "{message}; and it cannot be moved aside to {}: {e}",
                        aside.display()
                    )
                })?;
                log::warn!(
                    "{message}. Starting empty as start_empty_on_corrupt_snapshot asks; the \
                     damaged file was moved to {}",
                    aside.display()
                );
                Ok(())
            }
            Err(LoadFailure {
                message,
                damaged: true,
            }) => Err(format!(
                "{message}. Repair or remove the file, or start with \
                 --start-empty-on-corrupt-snapshot to move it aside and start empty"
            )),
            Err(LoadFailure { message, .. }) => Err(message),
        }
    }

    /// DEBUG RELOAD's load: reads the snapshot at `path` into `store`, emptied first when
    /// `flush` is set; a key of the file replaces a key of the same name already there. Its
    /// libraries go through `restore`: they replace every library when `flush` is set, one of
    /// the same name otherwise.
    pub fn reload(
        &self,
        store: &Store,
        path: &Path,
        flush: bool,
        restore: RestoreLibraries<'_>,
    ) -> Result<(), String> {
        if flush {
            store.flushall();
        }
        let watch = LoadWatch {
            loading: None,
            stop: &|| false,
        };
        let (loaded, expired) =
            load_file(store, path, &watch, restore, flush).map_err(|failure| failure.message)?;
        self.loaded_keys.store(loaded, Ordering::Relaxed);
        self.expired_at_load.store(expired, Ordering::Relaxed);
        self.changes_at_save
            .store(self.changes(store), Ordering::Relaxed);
        Ok(())
    }
}

/// The file a start loads for `config`: `snapshot_path` if it exists, else, while
/// `snapshot_path` is the default, the earlier versions' default file if that exists; `None`
/// when there is nothing to load.
pub(crate) fn snapshot_to_load(config: &PersistenceConfig) -> Option<PathBuf> {
    use crate::config::{DEFAULT_SNAPSHOT_FILE, PREVIOUS_DEFAULT_SNAPSHOT_FILE};
    let path = &config.snapshot_path;
    if path.exists() {
        return Some(path.clone());
    }
    let previous = Path::new(PREVIOUS_DEFAULT_SNAPSHOT_FILE);
    (path == Path::new(DEFAULT_SNAPSHOT_FILE) && previous.exists()).then(|| previous.to_path_buf())
}

/// Removes the temporary files of saves that a crash cut short (`.<name>.<random>.tmp` next
/// to the snapshot): partial snapshots that nothing will read, possibly as large as a whole
/// one.
fn remove_stale_temp_files(path: &Path) {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.filter_map(Result::ok) {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        if file.starts_with(&prefix) && file.ends_with(".tmp") {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => log::info!(
                    "Removed {}, left by a save that did not finish",
                    entry.path().display()
                ),
                Err(e) => log::warn!("Cannot remove {}: {e}", entry.path().display()),
            }
        }
    }
}

/// What a load reports to and asks of the server as it reads.
struct LoadWatch<'a> {
    /// Where to record progress (not for DEBUG RELOAD, which holds every client anyway).
    loading: Option<&'a Loading>,
    /// Whether to give up (the server is shutting down).
    stop: &'a dyn Fn() -> bool,
}

/// Records read between two looks at the progress and the stop request.
const WATCH_EVERY: u64 = 4096;

/// Why a snapshot did not load.
struct LoadFailure {
    message: String,
    /// The file's bytes are bad (as opposed to unreadable, or fine but not loadable here):
    /// only then may the operator's flag move it aside.
    damaged: bool,
}

/// Reads every record of `path` into `store`, and its libraries into `restore` once all is
/// read (replacing every library when `replace_all`): (keys loaded, keys dropped as
/// expired). Progress goes to `watch`, and is logged every [`PROGRESS_EVERY`].
fn load_file(
    store: &Store,
    path: &Path,
    watch: &LoadWatch<'_>,
    restore: RestoreLibraries<'_>,
    replace_all: bool,
) -> Result<(u64, u64), LoadFailure> {
    let read_error = |offset: u64, e: &PersistError| {
        let damaged = !matches!(e, PersistError::Io { .. } | PersistError::File { .. });
        let what = if damaged {
            "is corrupt or truncated"
        } else {
            "cannot be read"
        };
        LoadFailure {
            message: format!(
                "Snapshot {} {what} (reading stopped at byte offset {offset}): {e}",
                path.display()
            ),
            damaged,
        }
    };
    let unloadable = |offset: u64, e: String| LoadFailure {
        message: format!(
            "Snapshot {} cannot be loaded here (record before byte offset {offset}): {e}",
            path.display()
        ),
        damaged: false,
    };
    let mut reader = SnapshotReader::open(path).map_err(|e| read_error(0, &e))?;
    let total = std::fs::metadata(path).map_or(0, |m| m.len());
    if let Some(loading) = watch.loading {
        loading.size(total);
    }
    let mut last_log = Instant::now();
    let (mut loaded, mut expired) = (0u64, 0u64);
    let mut libraries = Vec::new();
    loop {
        if (loaded + expired) % WATCH_EVERY == 0 {
            if (watch.stop)() {
                return Err(LoadFailure {
                    message: format!(
                        "Loading {} stopped at byte offset {}: the server is shutting down",
                        path.display(),
                        reader.offset()
                    ),
                    damaged: false,
                });
            }
            if let Some(loading) = watch.loading {
                loading.progress(reader.offset());
                if last_log.elapsed() >= PROGRESS_EVERY {
                    last_log = Instant::now();
                    let f = loading.figures();
                    log::info!(
                        "Loading {}: {loaded} keys, {:.2}% of {} bytes, about {} seconds left",
                        path.display(),
                        f.loaded_perc,
                        f.total_bytes,
                        f.eta_seconds
                    );
                }
            }
        }
        let record = match reader.next_record() {
            Ok(Some(record)) => record,
            Ok(None) => break,
            Err(e) => return Err(read_error(reader.offset(), &e)),
        };
        let value = match record.value {
            Value::Library(code) => {
                libraries.push((record.key, code));
                continue;
            }
            Value::String(v) => SnapshotValue::String(v),
            Value::Integer(n) => SnapshotValue::Integer(n),
            Value::Hash(fields) => SnapshotValue::Hash(fields),
            Value::List(elements) => SnapshotValue::List(elements),
            Value::Set(members) => SnapshotValue::Set(members),
            Value::ZSet(members) => SnapshotValue::ZSet(members),
            other => {
                let e = format!("values of type {:?} are not supported", other.value_type());
                return Err(unloadable(reader.offset(), e));
            }
        };
        let db = usize::try_from(record.db).unwrap_or(usize::MAX);
        match store.load_entry(db, &record.key, record.expire_at_ms, value) {
            Ok(true) => loaded += 1,
            Ok(false) => expired += 1,
            Err(e) => {
                let e = format!("{e} (raise `databases`)");
                return Err(unloadable(reader.offset(), e));
            }
        }
    }
    if let Some(loading) = watch.loading {
        loading.progress(reader.offset());
    }
    restore(libraries, replace_all).map_err(|e| unloadable(reader.offset(), e))?;
    Ok((loaded, expired))
}

/// Seconds between attempts after a failed periodic save (Redis's
/// `CONFIG_BGSAVE_RETRY_DELAY`).
const RETRY_DELAY_SECS: u64 = 5;

/// Whether a save may start on its own: the last one succeeded, or failed more than
/// [`RETRY_DELAY_SECS`] ago.
fn retry_ok(last_ok: bool, now: u64, last_try: u64) -> bool {
    last_ok || now.saturating_sub(last_try) > RETRY_DELAY_SECS
}

/// What the schedule looks at, all in whole unix seconds as Redis keeps them.
#[derive(Debug, Clone, Copy)]
struct SaveClock {
    now: u64,
    last_save: u64,
    last_try: u64,
    last_ok: bool,
    changes: u64,
}

/// The first save point that is due, as Redis's `serverCron` decides: at least `changes`
/// writes and more than `seconds` since the last successful save, and, after a failed
/// save, more than [`RETRY_DELAY_SECS`] since that attempt.
fn due_point(points: &[SavePoint], c: SaveClock) -> Option<SavePoint> {
    let retry_ok = retry_ok(c.last_ok, c.now, c.last_try);
    points.iter().copied().find(|p| {
        retry_ok && c.changes >= p.changes && c.now.saturating_sub(c.last_save) > p.seconds
    })
}

/// Saves whenever a save point of the configuration is due, until the server stops.
pub(crate) fn periodic(
    persistence: &Persistence,
    store: &Store,
    config: &parking_lot::RwLock<crate::config::Config>,
    shutdown: &AtomicBool,
) {
    // Short, because stopping the server waits for this thread to notice.
    const TICK: Duration = Duration::from_millis(100);
    while !shutdown.load(Ordering::Relaxed) {
        thread::park_timeout(TICK);
        let (due, target) = {
            let config = config.read();
            let p = &config.persistence;
            let due = if p.enabled && !persistence.loading.active() {
                let clock = SaveClock {
                    now: unix_now(),
                    last_save: persistence.last_save_unix(),
                    last_try: persistence.last_try_unix.load(Ordering::Relaxed),
                    last_ok: persistence.last_ok.load(Ordering::Relaxed),
                    changes: persistence.changes_since_save(store),
                };
                due_point(&p.save_points(), clock)
            } else {
                None
            };
            (due, SaveTarget::from_config(p))
        };
        let scheduled = persistence.scheduled.load(Ordering::Relaxed)
            && persistence.retry_ok()
            && !persistence.loading.active();
        if (due.is_some() || scheduled) && persistence.try_begin(store) {
            match due {
                Some(point) => log::info!(
                    "{} changes in {} seconds. Saving...",
                    point.changes,
                    point.seconds
                ),
                None => log::info!("Background saving started (scheduled)"),
            }
            let _ = persistence.run(store, &target, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(text: &str) -> Vec<SavePoint> {
        SavePoint::parse_list(text).expect("valid save points")
    }

    fn clock(now: u64, changes: u64) -> SaveClock {
        SaveClock {
            now,
            last_save: 1000,
            last_try: 1000,
            last_ok: true,
            changes,
        }
    }

    #[test]
    fn a_point_is_due_after_more_than_its_seconds_with_enough_changes() {
        let rules = points("3600 1 300 100 60 10000");
        assert_eq!(
            due_point(&rules, clock(1060, 20_000)),
            None,
            "60 s is not more than 60"
        );
        assert_eq!(
            due_point(&rules, clock(1061, 10_000)),
            Some(SavePoint {
                seconds: 60,
                changes: 10_000
            })
        );
        assert_eq!(due_point(&rules, clock(1061, 9_999)), None);
        assert_eq!(
            due_point(&rules, clock(1301, 100)),
            Some(SavePoint {
                seconds: 300,
                changes: 100
            })
        );
        assert_eq!(due_point(&rules, clock(3000, 99)), None);
        assert_eq!(
            due_point(&rules, clock(4601, 1)),
            Some(SavePoint {
                seconds: 3600,
                changes: 1
            })
        );
        assert_eq!(
            due_point(&rules, clock(1_000_000, 0)),
            None,
            "nothing changed"
        );
        assert_eq!(due_point(&[], clock(1_000_000, 1_000_000)), None);
    }

    #[test]
    fn zero_changes_saves_on_time_alone() {
        assert!(due_point(&points("10 0"), clock(1011, 0)).is_some());
        assert!(due_point(&points("10 0"), clock(1010, 0)).is_none());
    }

    #[test]
    fn after_a_failure_the_next_try_waits_more_than_the_retry_delay() {
        let rules = points("1 1");
        let failed = |now, last_try| SaveClock {
            last_ok: false,
            last_try,
            ..clock(now, 5)
        };
        assert!(due_point(&rules, failed(2000, 1996)).is_none());
        assert!(due_point(&rules, failed(2000, 1995)).is_none());
        assert!(due_point(&rules, failed(2000, 1994)).is_some());
    }

    #[test]
    fn sorted_sets_survive_a_save_and_a_load() {
        let dir = std::env::temp_dir().join(format!("redistill-zset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let target = SaveTarget {
            path: dir.join("dump.rdst"),
            key_delay: Duration::ZERO,
        };
        let store = Store::new();
        let names: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
        let mut members: Vec<(f64, &[u8])> = names
            .iter()
            .enumerate()
            .map(|(i, m)| (i as f64 - 150.5, m.as_bytes()))
            .collect();
        members.push((f64::INFINITY, b"top"));
        let opts = redistill_store::ZAddOptions::default();
        store.zadd(3, b"big", &members, opts).expect("zadd");
        store
            .zadd(3, b"small", &[(-0.0, b"a"), (2.5, b"b")], opts)
            .expect("zadd");
        write_snapshot(&FileSink, &store, &[], &target, &AtomicU64::new(0)).expect("save");
        let loaded = Store::new();
        let watch = LoadWatch {
            loading: None,
            stop: &|| false,
        };
        let counts =
            load_file(&loaded, &target.path, &watch, &|_, _| Ok(()), true).map_err(|e| e.message);
        assert_eq!(counts, Ok((2, 0)));
        for key in [&b"big"[..], b"small"] {
            let spec = redistill_store::ZRangeSpec {
                by: redistill_store::ZRangeBy::Rank { start: 0, stop: -1 },
                rev: false,
                limit: None,
            };
            let all = |s: &Store| {
                s.zrange_with(3, key, &spec, |items| {
                    let mut out = Vec::new();
                    items.for_each(|m, score| out.push((m.to_vec(), score.to_bits())));
                    out
                })
                .expect("zrange")
            };
            assert_eq!(all(&loaded), all(&store));
            assert_eq!(
                loaded.object_encoding(3, key).expect("encoding"),
                store.object_encoding(3, key).expect("encoding")
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A snapshot of `keys` strings at `dump.rdst` in a fresh directory.
    fn snapshot_of(keys: usize, name: &str) -> (PathBuf, PersistenceConfig) {
        let dir = std::env::temp_dir().join(format!("redistill-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let target = SaveTarget {
            path: dir.join("dump.rdst"),
            key_delay: Duration::ZERO,
        };
        let store = Store::new();
        for i in 0..keys {
            store
                .set(
                    0,
                    format!("k{i}").as_bytes(),
                    b"v",
                    redistill_store::SetOptions::default(),
                )
                .expect("set");
        }
        write_snapshot(&FileSink, &store, &[], &target, &AtomicU64::new(0)).expect("save");
        let mut config = crate::config::Config::default().persistence;
        config.enabled = true;
        config.snapshot_path.clone_from(&target.path);
        (dir, config)
    }

    #[test]
    fn a_load_records_its_progress_to_the_last_byte() {
        let (dir, config) = snapshot_of(10_000, "progress");
        let persistence = Persistence::new(Arc::new(FileSink));
        persistence.loading().begin();
        let store = Store::new();
        assert_eq!(
            persistence.load(&store, &config, &|| false, &|_, _| Ok(())),
            Ok(())
        );
        assert!(!persistence.loading().active());
        let size = std::fs::metadata(&config.snapshot_path)
            .expect("size")
            .len();
        let figures = persistence.loading().figures();
        assert_eq!((figures.total_bytes, figures.loaded_bytes), (size, size));
        assert_eq!(store.db_info(0).expect("db").keys, 10_000);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_load_asked_to_stop_ends_early_and_stays_refused() {
        let (dir, config) = snapshot_of(10_000, "stop");
        let persistence = Persistence::new(Arc::new(FileSink));
        persistence.loading().begin();
        let store = Store::new();
        let error = persistence
            .load(&store, &config, &|| true, &|_, _| Ok(()))
            .expect_err("stopped");
        assert!(error.contains("shutting down"), "{error}");
        assert!(
            persistence.loading().active(),
            "a partial keyspace is never served"
        );
        assert!(store.db_info(0).expect("db").keys < 10_000);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_clock_going_back_never_makes_a_point_due() {
        assert!(due_point(&points("1 0"), clock(10, 5)).is_none());
    }
}
