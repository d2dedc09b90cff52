//! The chunked (parallel) paths of the `simd-threads` build give the same bits as the plain
//! loops. Forcing the chunked paths (`pool::set_force_parallel`) runs them here even without a
//! pool, sequentially in chunk order: what changes is the partition (GEMM column blocks,
//! 16 Ki-element update chunks), which is what could change results. (The wasm test
//! test/threads.test.ts runs the same paths on real worker threads.)
//!
//! The force flag is process-wide and other tests of this binary may run meanwhile; that is
//! harmless because the claim under test is that it never changes a result.
#![allow(clippy::single_range_in_vec_init)]
use gradguard_kernel::gemm::{sgemm, Trans};
use gradguard_kernel::optim::{OptConfig, Optimizer};
use gradguard_kernel::pool::set_force_parallel;
use std::sync::Mutex;

/// Serialises this file's tests (both flip the global flag).
static FLAG: Mutex<()> = Mutex::new(());

fn lcg(seed: &mut u32) -> f32 {
    *seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
    (*seed >> 8) as f32 / 16777216.0 - 0.5
}

#[test]
fn gemm_column_blocks_are_bit_identical() {
    let _g = FLAG.lock().unwrap();
    let mut seed = 7;
    let mut checked = 0;
    // n crosses the column-block width (≥ 32, multiples of NR) at odd places; m and k are odd.
    for &(m, n, k) in &[(1, 33, 1), (7, 65, 13), (33, 129, 401), (5, 257, 7), (130, 600, 3), (3, 1031, 29)] {
        for (ta, tb) in [(Trans::N, Trans::N), (Trans::T, Trans::N), (Trans::N, Trans::T), (Trans::T, Trans::T)] {
            for &(alpha, beta) in &[(1.0f32, 0.0f32), (-0.75, 0.5)] {
                let a: Vec<f32> = (0..m * k).map(|_| lcg(&mut seed)).collect();
                let b: Vec<f32> = (0..k * n).map(|_| lcg(&mut seed)).collect();
                let ldc = n + 3;
                let c0: Vec<f32> = (0..m * ldc).map(|_| lcg(&mut seed)).collect();
                let lda = if ta == Trans::N { k } else { m };
                let ldb = if tb == Trans::N { n } else { k };
                let run = |force: bool| {
                    set_force_parallel(force);
                    let mut c = c0.clone();
                    sgemm(ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut c, ldc);
                    set_force_parallel(false);
                    c.iter().map(|x| x.to_bits()).collect::<Vec<u32>>()
                };
                assert_eq!(run(true), run(false), "{ta:?}{tb:?} m={m} n={n} k={k} alpha={alpha} beta={beta}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6 * 4 * 2);
}

/// A split step's fused update (`update_summed`: the gradient copies added chunk by chunk inside
/// the update, possibly deferred) gives the bits of adding the copies first, in chunk order, and
/// then updating; and it leaves the summed gradient in the region. 1 and 2 copies, every kind.
#[test]
fn summed_update_matches_sum_then_update() {
    let _g = FLAG.lock().unwrap();
    let n = 2 * 16 * 1024 + 5;
    let mut seed = 9;
    // magnitudes spread over ~6 decades, so that the order of the additions shows in the bits
    // (lcg's values alone are multiples of 2^-24 whose sums are exact)
    let spread = |seed: &mut u32| {
        let v = lcg(seed);
        v * (1e-3 + 1e3 * v * v * v * v)
    };
    let g0: Vec<f32> = (0..n).map(|_| spread(&mut seed)).collect();
    let copies: Vec<f32> = (0..2 * n).map(|_| spread(&mut seed)).collect();
    let p0: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
    let reordered = (0..n).filter(|&i| ((g0[i] + copies[i]) + copies[n + i]) != ((g0[i] + copies[n + i]) + copies[i])).count();
    assert!(reordered > n / 10, "the data must tell the two orders apart ({reordered} of {n} do)");
    let cfg = [0.01f32, 0.9, 0.999, 1e-7, 0.9, 0.0, 0.01, 0.9, 0.1, 0.0, 0.0, 0.0];
    let mut runs = 0;
    for kind in 0..8 {
        let Ok(c) = OptConfig::parse(kind, &cfg) else { continue };
        for ncopies in [1, 2] {
            let cs = &copies[..ncopies * n];
            let bits = |p: &[f32], st: &[f32], g: &[f32]| p.iter().chain(st).chain(g).map(|x| x.to_bits()).collect::<Vec<u32>>();
            let want = {
                let mut g = g0.clone();
                for k in 0..ncopies {
                    g.iter_mut().zip(&cs[k * n..(k + 1) * n]).for_each(|(a, &b)| *a += b);
                }
                let mut o = Optimizer::new(c);
                let (mut p, mut st) = (p0.clone(), vec![0.0f32; 2 * n]);
                o.reset(&mut st);
                o.update(&mut p, &g, &mut st, &[0..n], None);
                bits(&p, &st, &g)
            };
            for (force, defer) in [(false, false), (true, false), (true, true)] {
                set_force_parallel(force);
                let mut o = Optimizer::new(c);
                o.defer = defer;
                let (mut p, mut st, mut g) = (p0.clone(), vec![0.0f32; 2 * n], g0.clone());
                o.reset(&mut st);
                o.update_summed(&mut p, &mut g, cs, &mut st);
                gradguard_kernel::pool::join();
                set_force_parallel(false);
                assert_eq!(bits(&p, &st, &g), want, "kind {kind}, {ncopies} copies, force {force}, defer {defer}");
                runs += 1;
            }
        }
    }
    assert!(runs >= 4 * 2 * 3, "only {runs} runs");
}

#[test]
fn chunked_update_is_bit_identical() {
    let _g = FLAG.lock().unwrap();
    // 3 chunks of 16 Ki and an odd tail; every optimizer kind the parser accepts.
    let n = 3 * 16 * 1024 + 77;
    let mut seed = 3;
    let g: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
    let p0: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
    let cfg = [0.01f32, 0.9, 0.999, 1e-7, 0.9, 0.0, 0.01, 0.9, 0.1, 0.0, 0.0, 0.0];
    let mut kinds = 0;
    for kind in 0..8 {
        let Ok(c) = OptConfig::parse(kind, &cfg) else { continue };
        let run = |force: bool| {
            set_force_parallel(force);
            let mut o = Optimizer::new(c);
            let (mut p, mut st) = (p0.clone(), vec![0.0f32; 2 * n]);
            o.reset(&mut st);
            for _ in 0..3 {
                o.update(&mut p, &g, &mut st, &[0..n], None);
            }
            set_force_parallel(false);
            p.iter().chain(&st).map(|x| x.to_bits()).collect::<Vec<u32>>()
        };
        assert_eq!(run(true), run(false), "optimizer kind {kind}");
        kinds += 1;
    }
    assert!(kinds >= 4, "only {kinds} optimizer kinds parsed");
}

/// The fork-join on real threads (native, `cargo test --features threads`): helpers are std
/// threads running rayon's worker loop, as the wasm host's workers do. Many passes of varying
/// size; every chunk must run exactly once per pass and the caller must return only after all
/// of them (a late or repeated claim would show as a count of 0 or 2). Then a split training
/// step (batch 131: 3 chunks) on the pool gives the bits it gave before the pool existed.
#[cfg(feature = "threads")]
#[test]
fn pool_runs_every_chunk_once_and_split_steps_match_one_thread() {
    use gradguard_kernel::loss::Targets;
    use gradguard_kernel::model::Model;
    use gradguard_kernel::pool::{activity, for_each_chunk, for_each_chunk_deferred, init, join, threads, worker_run};
    use std::sync::atomic::{AtomicU32, Ordering};
    let _g = FLAG.lock().unwrap();
    let step = || {
        let mut s = vec![1u32, 2, 0, 0];
        s.extend_from_slice(&[0, 29, 37, 1, 0, 1, 0, 37, 5, 7, 0, 1]);
        let mut m = Model::new(&s).unwrap();
        let mut seed = 11;
        m.params_mut().iter_mut().for_each(|p| *p = lcg(&mut seed));
        m.set_optimizer(3, &[1e-2, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.0, 0.9, 0.1, 0.0, 0.0, 0.0]).unwrap();
        let x: Vec<f32> = (0..131 * 29).map(|_| lcg(&mut seed)).collect();
        let y: Vec<i32> = (0..131).map(|i| (i * 7 % 5) as i32).collect();
        let mut losses: Vec<u32> = (0..4).map(|_| m.train_step(&x, Targets::Sparse(&y), 131).to_bits()).collect();
        let mut params: Vec<u32> = m.params().iter().map(|v| v.to_bits()).collect();
        // An input-split step (batch ≤ 64, 801 inputs: 3 parts), whose update is deferred, with
        // a max-norm constraint that must wait for it (spec version 2: 16 words per layer).
        let mut s = vec![2u32, 2, 0, 0];
        s.extend_from_slice(&[0, 801, 19, 1, 0, 1, 0, 0, 1, 0.05f32.to_bits(), 0, 0, 0, 0, 0, 0]);
        s.extend_from_slice(&[0, 19, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let mut m = Model::new(&s).unwrap();
        m.params_mut().iter_mut().for_each(|p| *p = lcg(&mut seed) * 0.1);
        m.set_optimizer(3, &[1e-2, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.0, 0.9, 0.1, 0.0, 0.0, 0.0]).unwrap();
        for t in 0..4 {
            let x: Vec<f32> = (0..37 * 801).map(|_| lcg(&mut seed)).collect();
            let y: Vec<i32> = (0..37).map(|i| ((i + t) * 3 % 5) as i32).collect();
            losses.push(m.train_step(&x, Targets::Sparse(&y), 37).to_bits());
        }
        params.extend(m.params().iter().map(|v| v.to_bits()));
        (losses, params)
    };
    let alone = step();
    fn spawn(tb: *mut rayon::ThreadBuilder) -> bool {
        let p = tb as usize;
        std::thread::spawn(move || unsafe { worker_run(p as *mut rayon::ThreadBuilder) });
        true
    }
    assert!(threads() == 1 || init(3, spawn) || threads() == 3);
    if threads() == 1 {
        assert!(init(3, spawn), "the pool starts");
    }
    assert_eq!(threads(), 3);
    let slots: Vec<AtomicU32> = (0..64).map(|_| AtomicU32::new(0)).collect();
    // Deferred passes (a 'static closure: these slots are static) run while the caller goes
    // on; every second one is completed by an explicit join, the others by the next pass.
    static DEFERRED_SLOTS: [AtomicU32; 64] = [const { AtomicU32::new(0) }; 64];
    let mut seed = 5u32;
    let (before, mut passes, mut chunks) = (activity(), 0u64, 0u64);
    for pass in 0..20_000 {
        let count = 2 + (lcg(&mut seed) + 0.5).mul_add(62.0, 0.0) as usize % 62;
        passes += 1 + (pass % 3 == 0) as u64;
        chunks += count as u64 * (1 + (pass % 3 == 0) as u64);
        if pass % 3 == 0 {
            for_each_chunk_deferred(count, |i| {
                let mut acc = 0u64;
                for k in 0..(i as u64 * 50) { acc = acc.wrapping_mul(31).wrapping_add(k); }
                std::hint::black_box(acc);
                DEFERRED_SLOTS[i].fetch_add(1, Ordering::SeqCst);
            });
            if pass % 2 == 0 {
                join();
            }
        }
        for_each_chunk(count, |i| {
            // a little work so that helpers really take part
            let mut acc = 0u64;
            for k in 0..(i as u64 * 50) { acc = acc.wrapping_mul(31).wrapping_add(k); }
            std::hint::black_box(acc);
            slots[i].fetch_add(1, Ordering::SeqCst);
        });
        for (i, s) in slots.iter().enumerate() {
            let want = (i < count) as u32;
            assert_eq!(s.swap(0, Ordering::SeqCst), want, "pass {pass}, chunk {i} of {count}");
            let want = (i < count && pass % 3 == 0) as u32;
            assert_eq!(DEFERRED_SLOTS[i].swap(0, Ordering::SeqCst), want, "deferred pass {pass}, chunk {i} of {count}");
        }
    }
    // The activity counters (gg_pool_activity) account for every pass and chunk exactly once.
    let d: Vec<u64> = activity().iter().zip(before).map(|(a, b)| a - b).collect();
    assert_eq!(d[0], passes, "passes published");
    assert_eq!(d[1] + d[2], chunks, "chunks run by the caller and by helpers");
    assert!(d[3] <= d[0], "passes without a helper ({}) ≤ passes ({})", d[3], d[0]);
    assert_eq!(step(), alone, "split steps (by rows, by inputs) on 3 threads give the 1-thread bits");
}

