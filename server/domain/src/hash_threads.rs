//! The threads argon2 runs on: as many as the hashing slots, started with
//! the [`Hasher`](crate::password::Hasher), each at a lower scheduling
//! priority than the threads that answer requests.
//!
//! Why not tokio's blocking pool, where hashes ran before:
//! - Memory. That pool grows to hundreds of threads (it also reads the
//!   static files) and a hash could land on any of them; each thread's
//!   allocator may keep the 19 MiB its last hash used, so what hashing
//!   keeps was bounded only by the pool's size. Here it is bounded by the
//!   slots.
//! - Priority. At equal priority a flood of password checks competes for
//!   the CPU with the workers that answer `/healthz`, refuse the excess with
//!   503 and serve everyone else's pages. A niced hashing thread runs
//!   whenever a worker has nothing to do, so the hashing rate of a quiet
//!   server is unchanged, and yields when requests wait.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError, mpsc};

use tokio::sync::oneshot;

/// How much nicer a hashing thread is than the process: the kernel gives a
/// busy thread ~9× the CPU of one 10 nicer when both want it.
const NICER_BY: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// A handle on the threads; they stop when the last handle is dropped.
#[derive(Clone)]
pub struct HashThreads {
    jobs: mpsc::Sender<Job>,
}

impl HashThreads {
    /// Starts `count` threads (at least one).
    pub fn start(count: usize) -> std::io::Result<HashThreads> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..count.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("sspr-hash-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // The lock is held only while taking a job, never
                        // while running one.
                        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        match next {
                            // A panic in a job loses that job's answer (its
                            // caller sees the channel close), not the thread.
                            Ok(job) => drop(catch_unwind(AssertUnwindSafe(job))),
                            Err(mpsc::RecvError) => return,
                        }
                    }
                })?;
        }
        Ok(HashThreads { jobs })
    }

    /// Runs `job` on one of the threads; `None` if it could not finish
    /// (it panicked). Callers hold a hashing slot, so there are never more
    /// jobs queued than threads.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (answer, answered) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                // The caller may have stopped waiting: nothing to tell then.
                let _ = answer.send(job());
            }))
            .ok()?;
        answered.await.ok()
    }
}

/// Lowers the calling thread's priority. On Linux the nice value belongs to
/// the thread (`PRIO_PROCESS` with no id is the calling thread), and raising
/// it needs no privilege. Failing leaves the thread at the process's
/// priority, which is how hashes ran before: worth a warning, not a refusal
/// to start.
fn lower_priority() {
    #[cfg(unix)]
    if let Err(e) = rustix::process::getpriority_process(None)
        .and_then(|own| rustix::process::setpriority_process(None, (own + NICER_BY).min(19)))
    {
        tracing::warn!(error = %e, "could not lower the hashing thread's priority");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_and_a_panicking_job_keeps_the_thread() {
        let threads = HashThreads::start(1).unwrap();
        assert_eq!(threads.run(|| 6 * 7).await, Some(42));
        let lost = threads.run(|| -> u8 { panic!("a job that fails") }).await;
        assert_eq!(lost, None);
        // The only thread is still there to run the next job.
        assert_eq!(threads.run(|| "still here").await, Some("still here"));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_threads_run_niced() {
        let threads = HashThreads::start(2).unwrap();
        let nice = threads
            .run(|| rustix::process::getpriority_process(None))
            .await
            .unwrap()
            .unwrap();
        // Relative to the test thread's own priority, whatever it was.
        let own = rustix::process::getpriority_process(None).unwrap();
        assert_eq!(nice, (own + NICER_BY).min(19));
    }
}
