//! The scheduling policy of the threads that run database work off the server's workers.
//!
//! On Linux they run under `SCHED_BATCH`, with the nice value they had. A woken thread of the
//! usual policy preempts the one that woke it: the server worker that queued one read of the
//! 30 its turn brought was switched out for the thread that runs it, which answered that one
//! read and slept again, and so on, two switches per read. A batch thread waits its turn: the
//! worker queues its turn's work, and the threads work it off together. They keep their
//! share of the CPU (a higher nice value would do the same here but give them less time beside
//! the SQLite writer and password hashing). Measured on 2 cores, server on one: SQLite's
//! single reads went from 0.63 context switches each to 0.12, and 16% more a second;
//! PostgreSQL's, whose thread is also woken when the answer comes, 33% more a second.
//!
//! Where the policy cannot be set (another system, a sandbox that refuses it), the work runs
//! as before.

use std::cell::Cell;

/// `SCHED_BATCH` for the calling thread, once per thread.
pub fn batch() {
    thread_local! {
        static SET: Cell<bool> = const { Cell::new(false) };
    }
    if SET.with(|set| set.replace(true)) {
        return;
    }
    if let Err(e) = batch_scheduling() {
        tracing::debug!(error = %e, "a database thread keeps the usual scheduling");
    }
}

/// `SCHED_BATCH` for the calling thread, its nice value kept.
#[cfg(target_os = "linux")]
fn batch_scheduling() -> Result<(), String> {
    use thread_priority::unix::{
        NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
        thread_native_id,
    };
    use thread_priority::{ThreadPriority, ThreadPriorityValue};
    let batch = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch);
    // On Linux this is the calling thread's nice value.
    let nice = rustix::process::getpriority_process(None).map_err(|e| e.to_string())?;
    // The crate sets the nice value with the policy, given on a scale of 0 to 99: the point
    // of the scale that is this thread's nice value.
    let same = (0..=*ThreadPriorityValue::MAX)
        .filter_map(|p| ThreadPriorityValue::try_from(p).ok())
        .map(ThreadPriority::Crossplatform)
        .find(|p| p.to_posix(batch).ok() == Some(nice))
        .ok_or_else(|| format!("no priority keeps the nice value {nice}"))?;
    set_thread_priority_and_policy(thread_native_id(), same, batch).map_err(|e| format!("{e:?}"))
}

#[cfg(not(target_os = "linux"))]
fn batch_scheduling() -> Result<(), String> {
    Err("SCHED_BATCH is Linux's".into())
}

/// The calling thread's policy and nice value, for tests.
#[cfg(all(test, target_os = "linux"))]
pub(crate) fn current() -> Result<(thread_priority::unix::ThreadSchedulePolicy, i32), String> {
    let policy = thread_priority::unix::thread_schedule_policy().map_err(|e| format!("{e:?}"))?;
    let nice = rustix::process::getpriority_process(None).map_err(|e| e.to_string())?;
    Ok((policy, nice))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use thread_priority::unix::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};

    use super::current;
    use crate::error::AppError;

    const OTHER: ThreadSchedulePolicy =
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other);
    const BATCH: ThreadSchedulePolicy =
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch);

    #[test]
    fn a_thread_asks_once_and_becomes_a_batch_thread_with_its_nice_value() {
        let (_, ours) = current().expect("this thread");
        let (before, after) = std::thread::spawn(|| {
            let before = current();
            super::batch();
            super::batch();
            (before, current())
        })
        .join()
        .expect("the thread");
        assert_eq!(before, Ok((OTHER, ours)));
        assert_eq!(after, Ok((BATCH, ours)));
    }

    #[test]
    fn work_on_the_blocking_pool_runs_as_batch_with_the_nice_value_it_had() {
        let (_, ours) = current().expect("this thread");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let theirs = runtime
            .block_on(crate::db::run_blocking(|| {
                current().map_err(AppError::internal)
            }))
            .expect("the work");
        assert_eq!(theirs, (BATCH, ours));
    }
}
