//! The threads that run read queries, off the server's workers.
//!
//! A read is handed to a thread of its own here instead of to the general blocking pool,
//! which wakes a sleeping thread for every task it is given: a server worker that queues 30
//! reads in one turn wakes 30 threads, and each read then costs two context switches (to
//! its thread and back), about a quarter of a read's CPU on one core. Here a sleeping
//! reader is woken only when no reader is awake and looking for work; a reader that
//! finishes a read takes the next one waiting before it sleeps. Reads that wait on the
//! database (PostgreSQL over the network) still run side by side: while every awake reader
//! is busy, a new read wakes another, up to `max` threads.
//!
//! The readers run under `SCHED_BATCH` (`db::scheduling`), so that a reader woken for a read
//! waits for the worker that queued it to end its turn instead of preempting it.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::error::AppError;

type Job = Box<dyn FnOnce() + Send>;

/// How long a reader with nothing to do waits before its thread ends.
const IDLE: Duration = Duration::from_secs(10);

/// A handle on the readers; the threads end once every handle is gone.
#[derive(Clone)]
pub struct Readers {
    shared: Arc<Shared>,
    _owner: Arc<Owner>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    max: usize,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Threads alive.
    threads: usize,
    /// Threads awake and not running a read (woken, or between two reads).
    looking: usize,
    /// Threads waiting for a read.
    sleeping: usize,
    /// Wake-ups sent and not yet taken (a condition variable may also wake by itself).
    woken: usize,
    closed: bool,
}

/// Ends the threads when the last handle goes.
struct Owner(Arc<Shared>);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.wake.notify_all();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A read runs outside the lock, so a panic never leaves the state half-changed.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Readers {
    /// Up to `max` reader threads (at least one), started as reads arrive.
    pub fn new(max: usize) -> Readers {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            max: max.max(1),
        });
        Readers {
            _owner: Arc::new(Owner(shared.clone())),
            shared,
        }
    }

    /// Runs `f` on a reader thread and answers what it returned (an error if it panicked).
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce() -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        self.submit(Box::new(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| span.in_scope(f)))
                .unwrap_or_else(|_| Err(AppError::internal("a read panicked")));
            // The caller may have gone (the client hung up): nothing to answer.
            let _ = tx.send(outcome);
        }))?;
        rx.await
            .map_err(|_| AppError::internal("a reader ended without an answer"))?
    }

    fn submit(&self, job: Job) -> Result<(), AppError> {
        let mut s = self.shared.lock();
        s.jobs.push_back(job);
        if s.looking == 0 {
            // Otherwise an awake reader takes it (and wakes another if more are waiting).
            return call_one(&self.shared, s);
        }
        Ok(())
    }
}

/// Wakes a sleeping reader, or starts one while there are fewer than `max`: called when a
/// read waits and no reader is looking for one. If every reader is busy, the first to
/// finish takes it.
fn call_one(shared: &Arc<Shared>, mut s: MutexGuard<'_, State>) -> Result<(), AppError> {
    if s.sleeping > s.woken {
        s.woken += 1;
        s.looking += 1;
        drop(s);
        shared.wake.notify_one();
    } else if s.threads < shared.max {
        s.threads += 1;
        s.looking += 1;
        drop(s);
        let own = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("db-reader".into())
            .spawn(move || reader(&own));
        if let Err(e) = spawned {
            let mut s = shared.lock();
            s.threads -= 1;
            s.looking -= 1;
            // With no reader alive what waits would wait forever: answer it (an error).
            if s.threads == 0 {
                s.jobs.clear();
                return Err(AppError::internal(e));
            }
        }
    }
    Ok(())
}

/// A reader thread: reads until the queue is empty, then sleeps until woken; ends when the
/// handles are gone or after [`IDLE`] with nothing to do. A reader that takes a read while
/// more wait and no other reader is looking calls one more, so reads that wait on the
/// database run side by side, while a burst of quick reads is worked off by one or two
/// threads instead of waking one thread per read.
fn reader(shared: &Arc<Shared>) {
    super::scheduling::batch();
    let mut s = shared.lock();
    loop {
        if let Some(job) = s.jobs.pop_front() {
            s.looking -= 1;
            if !s.jobs.is_empty() && s.looking == 0 {
                // A failure to start a thread leaves the rest to the readers alive.
                let _ = call_one(shared, s);
            } else {
                drop(s);
            }
            job();
            s = shared.lock();
            s.looking += 1;
            continue;
        }
        if s.closed {
            break;
        }
        s.looking -= 1;
        s.sleeping += 1;
        let mut waited = Duration::ZERO;
        loop {
            let started = std::time::Instant::now();
            let (next, timeout) = shared
                .wake
                .wait_timeout(s, IDLE.saturating_sub(waited))
                .unwrap_or_else(|e| e.into_inner());
            s = next;
            waited += started.elapsed();
            if s.woken > 0 {
                // Woken for a read: `call_one` counted this thread as looking already.
                s.woken -= 1;
                s.sleeping -= 1;
                break;
            }
            if s.closed || (timeout.timed_out() && waited >= IDLE) {
                // Nothing queued is left without a reader: a read queued while this one
                // slept unwoken went to a reader that was awake or busy.
                s.sleeping -= 1;
                s.threads -= 1;
                return;
            }
        }
    }
    s.looking -= 1;
    s.threads -= 1;
}

#[cfg(test)]
impl Readers {
    fn threads(&self) -> usize {
        self.shared.lock().threads
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn every_read_of_a_burst_is_answered_with_its_own_result() {
        runtime().block_on(async {
            let readers = Readers::new(4);
            let reads = (0..2_000u64).map(|i| {
                let readers = readers.clone();
                tokio::spawn(async move { readers.run(move || Ok(i * i)).await })
            });
            let answers = futures_util::future::join_all(reads).await;
            for (i, answer) in answers.into_iter().enumerate() {
                assert_eq!(answer.expect("task").expect("read"), (i * i) as u64);
            }
            assert!(readers.threads() <= 4, "at most max threads");
        });
    }

    /// `n` reads that each wait until all `n` run: they finish only side by side.
    async fn reads_that_meet(readers: &Readers, n: usize) -> Vec<Result<(), AppError>> {
        let barrier = Arc::new(Barrier::new(n));
        let reads = (0..n).map(|_| {
            let (readers, barrier) = (readers.clone(), barrier.clone());
            tokio::spawn(async move {
                readers
                    .run(move || {
                        barrier.wait();
                        Ok(())
                    })
                    .await
            })
        });
        futures_util::future::join_all(reads)
            .await
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| Err(AppError::internal(e))))
            .collect()
    }

    #[test]
    fn reads_that_wait_run_side_by_side_up_to_the_limit() {
        runtime().block_on(async {
            let readers = Readers::new(4);
            let all = tokio::time::timeout(Duration::from_secs(10), reads_that_meet(&readers, 4))
                .await
                .expect("the four reads ran side by side");
            assert!(all.iter().all(Result::is_ok));
        });
    }

    #[test]
    fn a_burst_of_quick_reads_is_worked_off_by_a_few_threads_not_one_per_read() {
        runtime().block_on(async {
            let readers = Readers::new(64);
            let reads = (0..2_000u64).map(|i| {
                let readers = readers.clone();
                tokio::spawn(async move { readers.run(move || Ok(i)).await })
            });
            futures_util::future::join_all(reads).await;
            // A pool that woke a thread per read would have started all 64.
            assert!(readers.threads() <= 16, "{} threads", readers.threads());
        });
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn readers_run_as_batch_threads_with_the_nice_value_of_the_thread_that_started_them() {
        use thread_priority::unix::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};
        let (_, ours) = crate::db::scheduling::current().expect("this thread");
        let theirs = runtime().block_on(async {
            Readers::new(2)
                .run(|| crate::db::scheduling::current().map_err(AppError::internal))
                .await
                .expect("a read")
        });
        let batch = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch);
        assert_eq!(theirs, (batch, ours));
    }

    #[test]
    fn a_read_that_panics_answers_an_error_and_the_readers_go_on() {
        runtime().block_on(async {
            let readers = Readers::new(1);
            let failed: Result<(), AppError> = readers.run(|| panic!("boom")).await;
            assert!(failed.is_err());
            assert_eq!(readers.run(|| Ok(7)).await.expect("next read"), 7);
        });
    }

    #[test]
    fn the_threads_end_when_the_last_handle_goes() {
        let shared = runtime().block_on(async {
            let readers = Readers::new(3);
            assert!(reads_that_meet(&readers, 3).await.iter().all(Result::is_ok));
            assert_eq!(readers.threads(), 3);
            let shared = readers.shared.clone();
            drop(readers);
            shared
        });
        let ended = (0..500).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            shared.lock().threads == 0
        });
        assert!(ended, "every reader thread ended");
    }
}
