//! The kernel's thread pool: rayon inside wasm on shared memory (build variant `simd-threads`,
//! cargo feature `threads`), or plain sequential loops in the other builds.
//!
//! wasm32-unknown-unknown has no `std::thread::spawn`, so the pool's threads are made by the
//! host: rayon's `spawn_handler` hands each `ThreadBuilder` to a `spawn` function (the ABI layer
//! passes one that calls the host's `gg_spawn_worker` import); the host starts a worker that
//! instantiates the same module on the same shared memory, sets its own stack pointer and TLS
//! block, and calls `gg_worker_run(builder)`, which runs the rayon worker loop for the life of
//! the pool. A pool of n threads is the calling thread plus n − 1 rayon workers; parallel passes
//! run on a caller-joins fork-join whose helpers are rayon jobs (see `imp` below for why not
//! `install`). One pass may be left to the helpers as the caller returns to the host
//! (`for_each_chunk_deferred`: a split training step's optimizer update, run while the host
//! gathers the next batch); `join`, which every later pass and every ABI entry point calls
//! first, completes it. Why: in `fit()` at batch 128 on 2 threads the helper otherwise idled
//! while the host gathered the next batch (~60 µs, plus fit's other per-step JavaScript), and
//! the update, which ran no faster on 2 threads than on one (~80 µs), sat on the critical path;
//! deferred, a `fit()` epoch ran 1.06–1.08× faster.
//!
//! Determinism contract: every parallel helper here splits work into chunks whose boundaries
//! depend only on the problem size and a fixed chunk length, never on the thread count, and
//! every reduction combines per-chunk partials in chunk order. Results are therefore
//! bit-identical for any number of threads (including the sequential builds).

/// Number of chunks of at most `chunk` items covering `n` items.
#[inline]
pub fn chunk_count(n: usize, chunk: usize) -> usize {
    n.div_ceil(chunk.max(1))
}

/// Each pass gives its own size threshold below which it stays on the calling thread (measured
/// there); `set_force_parallel(true)` makes every pass take its chunked path whatever the size
/// and pool, so that tests can run the parallel paths on small, odd sizes.
static FORCE_PARALLEL: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

pub fn set_force_parallel(on: bool) {
    FORCE_PARALLEL.store(on, core::sync::atomic::Ordering::Relaxed);
}

/// Whether a pass of `work` units should take its chunked (parallel) path: there is a pool of
/// more than one thread and `work ≥ threshold`, or parallel paths are forced (then the chunked
/// path runs even without a pool, sequentially in chunk order, so that the sequential builds
/// can test that chunking does not change results).
#[inline]
pub fn use_chunks(work: usize, threshold: usize) -> bool {
    !in_pass() && (FORCE_PARALLEL.load(core::sync::atomic::Ordering::Relaxed) || (threads() > 1 && work >= threshold))
}

#[cfg(feature = "threads")]
mod imp {
    //! The fork-join. rayon's `install` from a thread outside the pool injects the job and
    //! parks the caller on a condition variable: two futex round trips (the worker woken, then
    //! the caller), measured at ~80 µs in Node (150 µs on a loaded machine), which made every
    //! MNIST-sized parallel pass slower than one thread. Here the caller takes part: it
    //! publishes the chunks on a board, claims and runs chunks itself, and only spins for the
    //! chunks a helper has claimed and not finished. Helpers are rayon jobs (`spawn`) that spin
    //! on the board for a while after their last chunk (SPIN_ROUNDS) and then return to rayon's
    //! sleep, so back-to-back passes (a training loop) hand off for the price of a few cache
    //! misses, and a pass that finds no hot helper never waits for one to wake: the caller just
    //! runs every chunk.
    use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::{Relaxed, SeqCst}};
    use core::cell::UnsafeCell;
    use std::sync::OnceLock;

    /// The rayon pool: `threads - 1` workers (the caller is the other thread).
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    /// The current pass's unclaimed chunks [front, back): back << 32 | front. The caller claims
    /// from the front and helpers from the back (a CAS that needs front < back, so it can only
    /// succeed while that pass is unfinished). Why two ends: a pass's chunks are the same
    /// ranges every step (the update's 16 Ki-element chunks, the split step's rows), and with
    /// one shared end which thread got which chunk changed from step to step, so θ, m, v and
    /// the gradient copies migrated between the cores' caches every step; from two ends each
    /// core keeps (mostly) the same chunks.
    static BOARD: AtomicU64 = AtomicU64::new(0);
    /// Address of the pass's `&dyn Fn(usize)` (on the caller's stack). Read only after a
    /// successful claim: the claimed chunk is not done, so the caller is still inside
    /// `for_each_chunk` and the closure is alive.
    static JOB: AtomicUsize = AtomicUsize::new(0);
    /// Chunks of the current pass finished (by anyone).
    static DONE: AtomicU32 = AtomicU32::new(0);
    /// The caller sleeps on DONE (memory.atomic.wait32): a helper that finishes a chunk wakes it.
    static WAITING: AtomicBool = AtomicBool::new(false);
    /// Helpers currently spinning on the board or running a chunk.
    static HOT: AtomicUsize = AtomicUsize::new(0);
    /// A pass is running: nested passes (a GEMM inside a training-step chunk) run sequentially.
    static IN_PASS: AtomicBool = AtomicBool::new(false);
    /// `activity`'s counters, each on a cache line of its own: the caller's and the helpers'
    /// are bumped by different cores at every chunk, and must not make the two share a line.
    #[repr(align(64))]
    struct Counter(AtomicU64);
    static ACTIVITY: [Counter; 4] = [const { Counter(AtomicU64::new(0)) }; 4];
    /// Board polls a helper makes without finding work before it returns to rayon. One poll is
    /// an atomic load of a shared line, under 1 ns: 2^16 polls were shorter than the gap between
    /// two MNIST steps (the JavaScript and staging between them, ~50 µs), so helpers slept in
    /// rayon every step (19% of a worker's profile in Condvar::wait) and arrived late (the caller
    /// waited 12–17% of its time). 2^20 polls still let it fall asleep now and then: at MNIST
    /// batch 128 the helper spent 6.1% of its profile in Condvar::wait and the caller 2.4% of
    /// its own waking it (futex), and a step whose helper is asleep runs both chunks on the
    /// caller. 2^22 polls (a few ms) cut that to 2.0% and 0% (+1–3% steps/s at batch 32–256)
    /// and still give an idle core back within milliseconds. (On a machine loaded with two CPU
    /// burners, 2 threads ran 0.75–1.1× of one at MNIST batch 128 and 256 whatever the spin: no
    /// parallel runtime wins on an oversubscribed machine.)
    const SPIN_ROUNDS: u32 = 1 << 22;
    /// Polls of DONE the caller makes before it sleeps on it (2^14: ~10–20 µs, under one futex
    /// wake-up): a helper whose chunk the OS descheduled (a loaded machine) must not be waited
    /// for by burning the other core.
    const WAIT_AFTER: u32 = 1 << 14;

    type Job<'a> = &'a (dyn Fn(usize) + Sync);

    /// A host-side thread start: takes ownership of the boxed builder; false if it could not
    /// start a thread (then the pool is not built).
    pub type Spawn = fn(*mut rayon::ThreadBuilder) -> bool;

    /// Sets up `n` threads: the caller plus a rayon pool of `n - 1` helpers (none for n = 1).
    /// Returns false if a pool exists already, n = 0, or a thread could not be started.
    pub fn init(n: usize, spawn: Spawn) -> bool {
        if POOL.get().is_some() || n == 0 {
            return false;
        }
        if n == 1 {
            return true;
        }
        let built = rayon::ThreadPoolBuilder::new()
            .num_threads(n - 1)
            .spawn_handler(move |tb| {
                let raw = Box::into_raw(Box::new(tb));
                if spawn(raw) {
                    Ok(())
                } else {
                    // The host did not take it: reclaim the builder so it is dropped.
                    drop(unsafe { Box::from_raw(raw) });
                    Err(std::io::Error::other("the host could not start a worker"))
                }
            })
            .build();
        match built {
            Ok(p) => POOL.set(p).is_ok(),
            Err(_) => false,
        }
    }

    /// Runs a worker's loop; called by the host on the new thread with the builder `init`
    /// handed out. Returns when the pool shuts down.
    ///
    /// # Safety
    /// `tb` must come from `init`'s spawn callback and be passed here exactly once.
    pub unsafe fn worker_run(tb: *mut rayon::ThreadBuilder) {
        Box::from_raw(tb).run();
    }

    /// What the pool has done since it started (diagnostics, gg_pool_activity): [parallel passes
    /// published, chunks the calling thread ran, chunks helpers ran, passes whose every chunk
    /// ran on the calling thread]. The last counts the passes no helper took part in (asleep in
    /// rayon, descheduled by the OS, or late): a 2-thread run where it is high ran at about one
    /// thread's speed for that reason, not because its work did not split.
    pub fn activity() -> [u64; 4] {
        core::array::from_fn(|i| ACTIVITY[i].0.load(Relaxed))
    }

    /// Threads a pass can use: the caller plus the pool's helpers.
    pub fn threads() -> usize {
        POOL.get().map_or(1, |p| p.current_num_threads() + 1)
    }

    /// Whether a pass is running (nested passes stay sequential).
    pub fn in_pass() -> bool {
        IN_PASS.load(SeqCst)
    }

    /// Claims the next chunk of the current pass, if one is left: the front one for the caller
    /// (`front`), the back one for a helper.
    fn claim(front: bool) -> Option<usize> {
        let mut s = BOARD.load(SeqCst);
        loop {
            let (back, next) = (s >> 32, s & 0xffff_ffff);
            if next >= back {
                return None;
            }
            let (new, got) = if front { (s + 1, next) } else { (s - (1 << 32), back - 1) };
            match BOARD.compare_exchange_weak(s, new, SeqCst, SeqCst) {
                Ok(_) => return Some(got as usize),
                Err(now) => s = now,
            }
        }
    }

    /// Runs claimed chunk `i` of the current pass.
    fn run(i: usize) {
        // SAFETY: a claim succeeded and chunk i is not counted done, so the caller is inside
        // for_each_chunk and JOB points at its live closure reference (see JOB).
        let job: Job = unsafe { *(JOB.load(SeqCst) as *const Job) };
        job(i);
        DONE.fetch_add(1, SeqCst);
        // After the increment: a caller that set WAITING before it slept either sees the new
        // DONE (wait32 returns at once) or is woken here.
        if WAITING.load(SeqCst) {
            wake_caller();
        }
    }

    #[cfg(target_arch = "wasm32")]
    fn wake_caller() {
        // SAFETY: DONE is a live, aligned i32-sized atomic.
        unsafe { core::arch::wasm32::memory_atomic_notify(DONE.as_ptr() as *mut i32, 1) };
    }
    #[cfg(not(target_arch = "wasm32"))]
    fn wake_caller() {}

    /// Sleeps until DONE differs from `seen` or 100 µs pass (the timeout only guards against a
    /// missed wake-up, which the WAITING protocol rules out).
    #[cfg(target_arch = "wasm32")]
    fn sleep_on_done(seen: u32) {
        // SAFETY: as wake_caller.
        unsafe { core::arch::wasm32::memory_atomic_wait32(DONE.as_ptr() as *mut i32, seen as i32, 100_000) };
    }
    #[cfg(not(target_arch = "wasm32"))]
    fn sleep_on_done(_seen: u32) {
        std::thread::yield_now();
    }

    /// A helper: runs chunks while there are any, spins SPIN_ROUNDS polls for more, then
    /// returns its thread to rayon.
    fn helper() {
        let mut idle = 0u32;
        while idle < SPIN_ROUNDS {
            match claim(false) {
                Some(i) => {
                    ACTIVITY[2].0.fetch_add(1, Relaxed);
                    run(i);
                    idle = 0;
                }
                None => {
                    idle += 1;
                    core::hint::spin_loop();
                }
            }
        }
        HOT.fetch_sub(1, SeqCst);
    }

    /// A pass `for_each_chunk_deferred` left running: its chunk count (0: none). Only the
    /// calling thread reads or writes it.
    static PENDING: AtomicUsize = AtomicUsize::new(0);

    /// Room for the deferred pass's closure, so that a training step allocates nothing: it
    /// captures a few region handles and the update rule's constants (well under ROOM bytes).
    const ROOM: usize = 256;
    #[repr(C, align(16))]
    struct Room([core::mem::MaybeUninit<u8>; ROOM]);

    /// The deferred pass's closure and the `Job` reference to it that JOB points at: they must
    /// outlive the call that published the pass, so they live here until `join`.
    struct Deferred(UnsafeCell<Room>, UnsafeCell<Option<Job<'static>>>);
    // SAFETY: only the calling thread writes the cells (publish and join); helpers read the Job
    // through JOB only while a chunk of the pass is claimed and not done, i.e. before join.
    unsafe impl Sync for Deferred {}
    static DEFERRED: Deferred =
        Deferred(UnsafeCell::new(Room([core::mem::MaybeUninit::uninit(); ROOM])), UnsafeCell::new(None));

    /// Publishes a pass of `count` chunks whose job is at `job`, and makes sure enough helpers
    /// are hot or on their way.
    fn publish(pool: &rayon::ThreadPool, job: *const Job, count: usize) {
        ACTIVITY[0].0.fetch_add(1, Relaxed);
        JOB.store(job as usize, SeqCst);
        DONE.store(0, SeqCst);
        BOARD.store((count as u64) << 32, SeqCst);
        // Wake helpers that went back to rayon; they join whatever is left when they arrive.
        let want = pool.current_num_threads();
        while HOT.load(SeqCst) < want {
            HOT.fetch_add(1, SeqCst);
            pool.spawn(helper);
        }
    }

    /// The caller's part of a published pass: runs the unclaimed chunks from the front, then
    /// waits for the ones helpers are still running (spins a little, then sleeps until a
    /// helper's wake-up), and closes the pass.
    fn finish(count: usize) {
        let mut mine = 0u64;
        while let Some(i) = claim(true) {
            run(i);
            mine += 1;
        }
        ACTIVITY[1].0.fetch_add(mine, Relaxed);
        if mine == count as u64 {
            ACTIVITY[3].0.fetch_add(1, Relaxed);
        }
        let mut polls = 0u32;
        loop {
            let done = DONE.load(SeqCst);
            if done as usize >= count {
                break;
            }
            if polls < WAIT_AFTER {
                polls += 1;
                core::hint::spin_loop();
            } else {
                WAITING.store(true, SeqCst);
                sleep_on_done(done);
            }
        }
        WAITING.store(false, SeqCst);
        JOB.store(0, SeqCst);
        IN_PASS.store(false, SeqCst);
    }

    /// Opens a pass of `count` chunks: completes a deferred one first, then returns the pool
    /// with the pass marked running, or None when the chunks must run here in order (no pool,
    /// fewer than 2 chunks, or nested: a GEMM inside a step chunk, possibly on a helper).
    fn begin(count: usize) -> Option<&'static rayon::ThreadPool> {
        join();
        let pool = match POOL.get() {
            Some(p) if count > 1 && count <= u32::MAX as usize => p,
            _ => return None,
        };
        if IN_PASS.swap(true, SeqCst) {
            return None;
        }
        Some(pool)
    }

    /// Calls `f(i)` for every chunk index `i` in `0..count`, on the caller and the pool's
    /// helpers. `f` must only write state owned by chunk `i`. Which thread runs a chunk is
    /// decided at run time; results must not depend on it (the module's contract).
    /// The caller must be the kernel's one calling thread (the ABI is not reentrant).
    pub fn for_each_chunk<F: Fn(usize) + Sync + Send>(count: usize, f: F) {
        let Some(pool) = begin(count) else { return (0..count).for_each(f) };
        let job: Job = &f;
        publish(pool, &job, count);
        finish(count);
    }

    /// `for_each_chunk` that returns once the pass is published: the helpers run its chunks
    /// while the caller goes back to the host (its JavaScript between two training steps), and
    /// `join` — called by every later pass and by every ABI entry point — runs what is left
    /// and waits for the rest. `f` is kept in a static room (Copy, at most ROOM bytes: no
    /// allocation per step) and owns what it touches ('static: raw regions that nothing
    /// else may read or write until `join`) and must not start passes of its own (a helper
    /// would then join the caller's pass). Without a pool of more than one thread, or nested,
    /// it runs every chunk before it returns.
    pub fn for_each_chunk_deferred<F: Fn(usize) + Sync + Send + Copy + 'static>(count: usize, f: F) {
        assert!(core::mem::size_of::<F>() <= ROOM && core::mem::align_of::<F>() <= 16,
            "for_each_chunk_deferred: the closure needs more room than ROOM");
        let Some(pool) = begin(count) else { return (0..count).for_each(f) };
        // SAFETY: no pass is pending (joined above), so no helper reads the cells; the room is
        // large and aligned enough (asserted), and F is Copy, so it needs no drop when the next
        // deferred pass overwrites it.
        unsafe {
            let p = (*DEFERRED.0.get()).0.as_mut_ptr() as *mut F;
            p.write(f);
            let r: &'static F = &*p;
            let j = &mut *DEFERRED.1.get();
            *j = Some(r);
            publish(pool, j.as_ref().unwrap_unchecked(), count);
        }
        PENDING.store(count, SeqCst);
    }

    /// Completes the pass `for_each_chunk_deferred` left running, if any (the caller runs the
    /// chunks nobody has claimed). Cheap when there is none: one load.
    pub fn join() {
        let count = PENDING.load(SeqCst);
        if count == 0 {
            return;
        }
        finish(count);
        PENDING.store(0, SeqCst);
        // SAFETY: the pass is finished and JOB cleared: no helper can reach the closure.
        unsafe { *DEFERRED.1.get() = None };
    }
}

#[cfg(not(feature = "threads"))]
mod imp {
    pub fn threads() -> usize {
        1
    }

    pub fn in_pass() -> bool {
        false
    }

    /// Sequential build: the same contract as the threaded one, run in chunk order.
    pub fn for_each_chunk<F: Fn(usize) + Sync + Send>(count: usize, f: F) {
        (0..count).for_each(f)
    }

    /// Sequential build: every chunk runs before it returns.
    pub fn for_each_chunk_deferred<F: Fn(usize) + Sync + Send + Copy + 'static>(count: usize, f: F) {
        (0..count).for_each(f)
    }

    /// Sequential build: nothing is ever pending.
    pub fn join() {}

    /// Sequential build: no pool, nothing counted.
    pub fn activity() -> [u64; 4] {
        [0; 4]
    }
}

pub use imp::*;

/// A slice that parallel chunks write disjoint elements of. Only `for_each_chunk` bodies that
/// write their own indices may use it.
pub struct SyncSlice<T> {
    ptr: *mut T,
    len: usize,
}
// A handle, copied into closures (a deferred pass's must be Copy); the unsafe accessors carry
// the rules.
impl<T> Clone for SyncSlice<T> {
    fn clone(&self) -> Self { *self }
}
impl<T> Copy for SyncSlice<T> {}
unsafe impl<T: Send> Send for SyncSlice<T> {}
unsafe impl<T: Send> Sync for SyncSlice<T> {}
impl<T> SyncSlice<T> {
    pub fn new(s: &mut [T]) -> Self {
        SyncSlice { ptr: s.as_mut_ptr(), len: s.len() }
    }
    /// Over a shared slice: only `slice` may be used on it.
    pub fn shared(s: &[T]) -> Self {
        SyncSlice { ptr: s.as_ptr() as *mut T, len: s.len() }
    }
    pub fn len(&self) -> usize { self.len }
    /// The base pointer, for callers that hand disjoint parts to concurrent chunks themselves.
    pub fn as_mut_ptr(&self) -> *mut T { self.ptr }
    pub fn is_empty(&self) -> bool { self.len == 0 }
    /// # Safety
    /// No two concurrent callers may write the same index.
    pub unsafe fn write(&self, i: usize, v: T) {
        assert!(i < self.len);
        self.ptr.add(i).write(v);
    }
    /// A mutable sub-slice `[lo, hi)`.
    /// # Safety
    /// Concurrent callers must use disjoint ranges.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn range(&self, lo: usize, hi: usize) -> &mut [T] {
        assert!(lo <= hi && hi <= self.len);
        core::slice::from_raw_parts_mut(self.ptr.add(lo), hi - lo)
    }
    /// A shared sub-slice `[lo, hi)`.
    /// # Safety
    /// No concurrent caller may write `[lo, hi)` meanwhile.
    pub unsafe fn slice(&self, lo: usize, hi: usize) -> &[T] {
        assert!(lo <= hi && hi <= self.len);
        core::slice::from_raw_parts(self.ptr.add(lo), hi - lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_count_edges() {
        assert_eq!(chunk_count(0, 8), 0);
        assert_eq!(chunk_count(1, 8), 1);
        assert_eq!(chunk_count(8, 8), 1);
        assert_eq!(chunk_count(9, 8), 2);
    }
}
