//! argon2id password hashing at the OWASP-recommended parameters (19 MiB, t=2, p=1).
//! Every function here is CPU-heavy and blocking: call it through `HashingPool`.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::AppError;

fn hasher() -> Result<Argon2<'static>, AppError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(AppError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

/// Whether `password` matches the stored PHC string. A malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    match hasher() {
        Ok(h) => h.verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Where every password hash and check runs: threads of its own, at most one per core
/// (each holds 19 MiB for tens of milliseconds), at a lower scheduling priority than the
/// server, so that a storm of logins takes the CPU the reads leave and never their
/// threads; the rest wait their turn, at most [`HashingPool::QUEUE`] of them queued. A
/// thread starts when there is work and ends after [`HashingPool::IDLE`] without any, so an
/// idle service keeps neither the threads nor the memory their hashing used.
pub struct HashingPool {
    jobs: std::sync::mpsc::Sender<Job>,
    queue: std::sync::Arc<std::sync::Mutex<std::sync::mpsc::Receiver<Job>>>,
    live: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    threads: usize,
    room: tokio::sync::Semaphore,
}

type Job = Box<dyn FnOnce() + Send>;

impl HashingPool {
    /// Niceness of the hashing threads (0 is the server's; 19 the lowest).
    const NICE: i32 = 10;
    /// Checks queued or running, beyond which a caller waits for room.
    const QUEUE: usize = 1024;
    const IDLE: std::time::Duration = std::time::Duration::from_secs(10);

    pub fn new(threads: usize) -> HashingPool {
        let (jobs, queue) = std::sync::mpsc::channel();
        HashingPool {
            jobs,
            queue: std::sync::Arc::new(std::sync::Mutex::new(queue)),
            live: Default::default(),
            threads: threads.max(1),
            room: tokio::sync::Semaphore::new(Self::QUEUE),
        }
    }

    /// One thread per core.
    pub fn per_core() -> HashingPool {
        HashingPool::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// Starts a thread unless all are running.
    fn ensure_thread(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        if self
            .live
            .fetch_update(SeqCst, SeqCst, |n| (n < self.threads).then_some(n + 1))
            .is_err()
        {
            return;
        }
        let (queue, live) = (self.queue.clone(), self.live.clone());
        let spawned = std::thread::Builder::new()
            .name("hashing".into())
            .spawn(move || hashing_thread(&queue, &live));
        if let Err(e) = spawned {
            self.live.fetch_sub(1, SeqCst);
            tracing::error!(error = %e, "could not start a hashing thread");
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let _room = self.room.acquire().await.map_err(AppError::internal)?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        self.jobs
            .send(Box::new(move || {
                let _ = answer.send(span.in_scope(f));
            }))
            .map_err(|_| AppError::internal("the hashing queue is closed"))?;
        // After the send: a thread that gave up waiting in the meantime looks again.
        self.ensure_thread();
        answered
            .await
            .map_err(|_| AppError::internal("a password check was abandoned"))
    }

    pub async fn verify(&self, password: String, stored: String) -> Result<bool, AppError> {
        self.run(move || verify(&password, &stored)).await
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || hash(&password)).await?
    }
}

fn hashing_thread(
    queue: &std::sync::Mutex<std::sync::mpsc::Receiver<Job>>,
    live: &std::sync::atomic::AtomicUsize,
) {
    use std::sync::atomic::Ordering::SeqCst;
    use std::sync::mpsc::RecvTimeoutError;
    // On Linux a nice value belongs to the thread that sets it.
    if let Err(e) = rustix::process::setpriority_process(None, HashingPool::NICE) {
        tracing::warn!(error = %e, "hashing runs at the server's priority");
    }
    loop {
        let Ok(jobs) = queue.lock() else {
            live.fetch_sub(1, SeqCst);
            return;
        };
        let job = match jobs.recv_timeout(HashingPool::IDLE) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => {
                live.fetch_sub(1, SeqCst);
                // A job sent while this thread was giving up, by a caller that still
                // counted it as running, is taken now rather than left waiting.
                match jobs.try_recv() {
                    Ok(job) => {
                        live.fetch_add(1, SeqCst);
                        job
                    }
                    Err(_) => return,
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                live.fetch_sub(1, SeqCst);
                return;
            }
        };
        drop(jobs);
        job();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_runs_below_the_servers_priority_and_answers_every_caller() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let pool = HashingPool::new(2);
        let (nice, answered) = runtime.block_on(async {
            let nice = pool
                .run(|| rustix::process::getpriority_process(None).ok())
                .await;
            let checks = (0..6).map(|i| pool.run(move || i * 2));
            (nice, futures_util::future::join_all(checks).await)
        });
        assert_eq!(nice.ok().flatten(), Some(HashingPool::NICE));
        let answered: Vec<i32> = answered.into_iter().map(|r| r.expect("answered")).collect();
        assert_eq!(answered, vec![0, 2, 4, 6, 8, 10]);
    }

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() -> Result<(), AppError> {
        let h = hash("correct horse battery")?;
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterz", &h));
        assert!(!verify("correct horse battery", "not-a-hash"));
        Ok(())
    }
}
