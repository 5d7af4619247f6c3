//! The worker pool of the elementwise and row kernels.
//!
//! rayon parks idle workers, and a kernel called from Python (not from a rayon worker) hands
//! its whole job to the pool and sleeps until a worker has woken, split it and finished: on
//! these VMs that round trip cost 10-100 us, more than a 131k-element op itself
//! (BENCHMARKS.md). Here the calling thread works too, claiming chunks from a shared counter,
//! so it never waits for a thread that is asleep: helpers that are awake take chunks, the
//! caller runs whatever is left, and it waits only for chunks already being worked on.
//! Helpers spin for a short while after each job, so the next op of a training step finds
//! them awake, then park. Every CPU kernel runs here, gemm's products included (split by
//! `matmul`), so no second pool's spinning workers compete for the cores.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a helper keeps looking for the next job before it parks.
const SPIN: Duration = Duration::from_micros(100);

/// One parallel loop: `run(i)` for each chunk `i < n`, claimed through `next`.
struct Job<'a> {
    run: &'a (dyn Fn(usize) + Sync),
    n: usize,
    next: AtomicUsize,
    done: AtomicUsize,
    panicked: AtomicBool,
}

impl Job<'_> {
    /// Claims and runs chunks until none is left.
    fn work(&self) {
        loop {
            let i = self.next.fetch_add(1, SeqCst);
            if i >= self.n {
                return;
            }
            if catch_unwind(AssertUnwindSafe(|| (self.run)(i))).is_err() {
                self.panicked.store(true, SeqCst);
            }
            self.done.fetch_add(1, SeqCst);
        }
    }
}

struct Pool {
    helpers: usize,
    /// The job being run, or null. It lives on its caller's stack: the caller clears this
    /// and waits until `inside` is 0 before returning.
    current: AtomicPtr<Job<'static>>,
    /// Helpers between announcing themselves and leaving a job.
    inside: AtomicUsize,
    /// Bumped whenever a job is published: what waiting helpers watch.
    epoch: AtomicU64,
    /// A caller owns the job slot (one job at a time; others run inline).
    busy: AtomicBool,
    parked: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
}

static POOL: OnceLock<Pool> = OnceLock::new();
/// Set in a forked child, whose copy of the pool has no threads.
static FORKED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Whether this thread is one of the pool's helpers (a nested loop then runs inline).
    static IS_HELPER: Cell<bool> = const { Cell::new(false) };
}

extern "C" fn forked_child() {
    FORKED.store(true, SeqCst);
}

/// At most this many threads take part in a loop (`torch.set_num_threads`); 0: all of them.
static LIMIT: AtomicUsize = AtomicUsize::new(0);

/// Threads that take part in a loop: the caller and the helpers, up to the limit.
pub fn threads() -> usize {
    let all = pool().map_or(1, |p| p.helpers + 1);
    match LIMIT.load(SeqCst) {
        0 => all,
        limit => all.min(limit),
    }
}

/// Lets at most `n` threads (n >= 1) take part in each loop from now on, the caller
/// included; helpers past the limit stay out of jobs (they are never torn down).
pub fn set_threads(n: usize) {
    LIMIT.store(n.max(1), SeqCst);
}

fn pool() -> Option<&'static Pool> {
    if FORKED.load(SeqCst) {
        return None;
    }
    // The fork handler first, outside the pool's initialisation: a fork during that
    // initialisation must not leave the child waiting on it.
    static AT_FORK: std::sync::Once = std::sync::Once::new();
    AT_FORK.call_once(|| {
        #[cfg(unix)]
        // SAFETY: registers a handler that only stores to an atomic (async-signal-safe).
        unsafe {
            libc::pthread_atfork(None, None, Some(forked_child))
        };
    });
    let p = POOL.get_or_init(|| {
        // RAYON_NUM_THREADS as rayon reads it (the variable users of the earlier rayon pool
        // set), else the CPUs this process may use.
        let threads = std::env::var("RAYON_NUM_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        Pool {
            helpers: threads.saturating_sub(1),
            current: AtomicPtr::new(ptr::null_mut()),
            inside: AtomicUsize::new(0),
            epoch: AtomicU64::new(0),
            busy: AtomicBool::new(false),
            parked: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        }
    });
    Some(p)
}

/// Helper `k` (from 0) takes part in jobs only while the limit leaves room for it.
fn helper_loop(pool: &'static Pool, k: usize) {
    IS_HELPER.with(|h| h.set(true));
    let mut seen = pool.epoch.load(SeqCst);
    loop {
        let spin_until = Instant::now() + SPIN;
        let mut spins = 0u32;
        while pool.epoch.load(SeqCst) == seen {
            spins += 1;
            if !spins.is_multiple_of(64) || Instant::now() < spin_until {
                std::hint::spin_loop();
                continue;
            }
            let mut guard = pool.lock.lock().unwrap_or_else(|e| e.into_inner());
            pool.parked.fetch_add(1, SeqCst);
            while pool.epoch.load(SeqCst) == seen {
                guard = pool.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
            }
            pool.parked.fetch_sub(1, SeqCst);
        }
        seen = pool.epoch.load(SeqCst);
        // Announce first, then look: a caller that has cleared `current` and then sees
        // `inside == 0` knows no helper can still reach its job.
        pool.inside.fetch_add(1, SeqCst);
        let job = pool.current.load(SeqCst);
        let limit = LIMIT.load(SeqCst);
        if !job.is_null() && (limit == 0 || k + 1 < limit) {
            // SAFETY: the job outlives every helper inside it (see `Pool::current`).
            unsafe { (*job).work() };
        }
        pool.inside.fetch_sub(1, SeqCst);
    }
}

/// Starts the helpers once (more are never needed: the count is fixed).
fn start(pool: &'static Pool) {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        for k in 0..pool.helpers {
            let spawned = std::thread::Builder::new()
                .name(format!("rustgrad-cpu-{k}"))
                .spawn(move || helper_loop(pool, k));
            // Without a helper the caller runs every chunk itself: slower, still correct.
            drop(spawned);
        }
    });
}

/// Runs `run(i)` for every `i < n` (in any order, each once), on the calling thread and the
/// pool's helpers. Returns when all have run; a panic in any is raised here.
pub fn for_each_chunk(n: usize, run: &(dyn Fn(usize) + Sync)) {
    let pool = match pool() {
        Some(p) if n > 1 && threads() > 1 && !IS_HELPER.with(|h| h.get()) => p,
        _ => return (0..n).for_each(run),
    };
    if pool
        .busy
        .compare_exchange(false, true, SeqCst, SeqCst)
        .is_err()
    {
        // Another thread's loop holds the pool (Python threads without the GIL).
        return (0..n).for_each(run);
    }
    start(pool);
    let job = Job {
        run,
        n,
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        panicked: AtomicBool::new(false),
    };
    // SAFETY (of the lifetime erasure): `current` is cleared below, and this function waits
    // until no helper is inside before `job` goes out of scope.
    let erased = &job as *const Job<'_> as *mut Job<'static>;
    pool.current.store(erased, SeqCst);
    pool.epoch.fetch_add(1, SeqCst);
    if pool.parked.load(SeqCst) > 0 {
        let _guard = pool.lock.lock().unwrap_or_else(|e| e.into_inner());
        pool.wake.notify_all();
    }
    job.work();
    // Every chunk is claimed; wait for those helpers are still running.
    wait_until(|| job.done.load(SeqCst) == n);
    pool.current.store(ptr::null_mut(), SeqCst);
    wait_until(|| pool.inside.load(SeqCst) == 0);
    pool.busy.store(false, SeqCst);
    if job.panicked.load(SeqCst) {
        panic!("a CPU kernel panicked on a pool thread");
    }
}

/// Spins, then yields, until `ready` (the threads waited for are running, not asleep).
fn wait_until(ready: impl Fn() -> bool) {
    let mut spins = 0u32;
    while !ready() {
        spins += 1;
        if spins < 1 << 12 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// `f(start, dst[start..start + len])` over `chunk`-element pieces of `dst`, in parallel
/// when there are at least two (callers slice their inputs by `start`).
pub fn chunks_mut<U: Send>(dst: &mut [U], chunk: usize, f: impl Fn(usize, &mut [U]) + Sync) {
    let n = dst.len();
    let chunk = chunk.max(1);
    let pieces = n.div_ceil(chunk);
    let dst = SendPtr(dst.as_mut_ptr());
    for_each_chunk(pieces, &|i| {
        let start = i * chunk;
        let len = chunk.min(n - start);
        // SAFETY: the pieces `[start, start + len)` are disjoint and inside `dst`, and each
        // index `i` runs once, so no two threads write the same element.
        let d = unsafe { std::slice::from_raw_parts_mut(dst.get().add(start), len) };
        f(start, d);
    });
}

/// A raw pointer that may cross threads (the disjointness argument is at each use).
pub struct SendPtr<U>(pub *mut U);

impl<U> Clone for SendPtr<U> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<U> Copy for SendPtr<U> {}
// SAFETY: only used to hand disjoint parts of one `&mut` slice to pool threads.
unsafe impl<U: Send> Send for SendPtr<U> {}
// SAFETY: as above.
unsafe impl<U: Send> Sync for SendPtr<U> {}

impl<U> SendPtr<U> {
    /// The pointer (a method, so closures capture the whole `Sync` wrapper).
    pub fn get(self) -> *mut U {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_runs_once() {
        for n in [0usize, 1, 2, 7, 100, 1000] {
            let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            for_each_chunk(n, &|i| {
                hits[i].fetch_add(1, SeqCst);
            });
            assert!(hits.iter().all(|h| h.load(SeqCst) == 1), "n = {n}");
        }
    }

    #[test]
    fn chunks_cover_the_slice() {
        let src: Vec<u32> = (0..100_003).collect();
        let mut dst = vec![0u32; src.len()];
        chunks_mut(&mut dst, 4096, |start, d| {
            for (d, s) in d.iter_mut().zip(&src[start..]) {
                *d = s * 2;
            }
        });
        assert!(dst.iter().enumerate().all(|(i, &v)| v == 2 * i as u32));
    }

    #[test]
    fn loops_from_many_threads_and_nested_loops_finish() {
        std::thread::scope(|s| {
            for t in 0..4usize {
                s.spawn(move || {
                    for round in 0..200usize {
                        let total = AtomicUsize::new(0);
                        for_each_chunk(16, &|i| {
                            // A nested loop runs inline on whichever thread it lands.
                            for_each_chunk(3, &|j| {
                                total.fetch_add(i * 3 + j + t + round, SeqCst);
                            });
                        });
                        let want: usize = (0..48).map(|k| k + t + round).sum();
                        assert_eq!(total.load(SeqCst), want);
                    }
                });
            }
        });
    }

    #[test]
    fn a_panic_in_a_chunk_reaches_the_caller() {
        let caught = catch_unwind(|| {
            for_each_chunk(64, &|i| {
                if i == 40 {
                    panic!("chunk 40");
                }
            })
        });
        assert!(caught.is_err());
        // The pool is usable afterwards.
        let total = AtomicUsize::new(0);
        for_each_chunk(10, &|i| {
            total.fetch_add(i, SeqCst);
        });
        assert_eq!(total.load(SeqCst), 45);
    }
}
