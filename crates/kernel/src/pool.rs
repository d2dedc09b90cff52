//! The kernel's thread pool: rayon inside wasm on shared memory (build variant `simd-threads`,
//! cargo feature `threads`), or plain sequential loops in the other builds.
//!
//! wasm32-unknown-unknown has no `std::thread::spawn`, so the pool's threads are made by the
//! host: rayon's `spawn_handler` hands each `ThreadBuilder` to a `spawn` function (the ABI layer
//! passes one that calls the host's `gg_spawn_worker` import); the host starts a worker that
//! instantiates the same module on the same shared memory, sets its own stack pointer and TLS
//! block, and calls `gg_worker_run(builder)`, which runs the rayon worker loop for the life of
//! the pool.
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
    FORCE_PARALLEL.load(core::sync::atomic::Ordering::Relaxed) || (threads() > 1 && work >= threshold)
}

#[cfg(feature = "threads")]
mod imp {
    use std::sync::OnceLock;

    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();

    /// A host-side thread start: takes ownership of the boxed builder; false if it could not
    /// start a thread (then the pool is not built).
    pub type Spawn = fn(*mut rayon::ThreadBuilder) -> bool;

    /// Builds the global pool with `n` worker threads. Returns false if a pool exists already
    /// or a thread could not be started.
    pub fn init(n: usize, spawn: Spawn) -> bool {
        if POOL.get().is_some() || n == 0 {
            return false;
        }
        let built = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
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

    pub fn threads() -> usize {
        POOL.get().map_or(1, |p| p.current_num_threads())
    }

    /// Calls `f(i)` for every chunk index `i` in `0..count`, in parallel when a pool exists.
    /// `f` must only write state owned by chunk `i`.
    pub fn for_each_chunk<F: Fn(usize) + Sync + Send>(count: usize, f: F) {
        match POOL.get() {
            Some(p) if count > 1 => p.install(|| {
                use rayon::prelude::*;
                (0..count).into_par_iter().for_each(f)
            }),
            _ => (0..count).for_each(f),
        }
    }
}

#[cfg(not(feature = "threads"))]
mod imp {
    pub fn threads() -> usize {
        1
    }

    /// Sequential build: the same contract as the threaded one, run in chunk order.
    pub fn for_each_chunk<F: Fn(usize) + Sync + Send>(count: usize, f: F) {
        (0..count).for_each(f)
    }
}

pub use imp::*;

/// Sum of `g(chunk range)` over fixed-size chunks of `0..n`, combined in chunk order so the
/// result does not depend on the thread count. `partials` is caller-owned scratch (no
/// allocation here); it must hold at least `chunk_count(n, chunk)` entries.
pub fn chunked_sum<G: Fn(core::ops::Range<usize>) -> f64 + Sync + Send>(
    n: usize, chunk: usize, partials: &mut [f64], g: G,
) -> f64 {
    let count = chunk_count(n, chunk);
    let out = SyncSlice::new(&mut partials[..count]);
    for_each_chunk(count, |i| {
        let lo = i * chunk;
        let hi = (lo + chunk).min(n);
        // SAFETY: each chunk index writes only its own slot.
        unsafe { out.write(i, g(lo..hi)) };
    });
    partials[..count].iter().sum()
}

/// A slice that parallel chunks write disjoint elements of. Only `for_each_chunk` bodies that
/// write their own indices may use it.
pub struct SyncSlice<T> {
    ptr: *mut T,
    len: usize,
}
unsafe impl<T: Send> Send for SyncSlice<T> {}
unsafe impl<T: Send> Sync for SyncSlice<T> {}
impl<T> SyncSlice<T> {
    pub fn new(s: &mut [T]) -> Self {
        SyncSlice { ptr: s.as_mut_ptr(), len: s.len() }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_sum_is_chunk_ordered() {
        let xs: Vec<f64> = (0..1001).map(|i| 1.0 / (i as f64 + 1.0)).collect();
        let mut partials = vec![0.0; chunk_count(xs.len(), 64)];
        let s = chunked_sum(xs.len(), 64, &mut partials, |r| xs[r].iter().sum());
        let expect: f64 = xs.chunks(64).map(|c| c.iter().sum::<f64>()).sum();
        assert_eq!(s.to_bits(), expect.to_bits());
    }

    #[test]
    fn chunk_count_edges() {
        assert_eq!(chunk_count(0, 8), 0);
        assert_eq!(chunk_count(1, 8), 1);
        assert_eq!(chunk_count(8, 8), 1);
        assert_eq!(chunk_count(9, 8), 2);
    }
}
