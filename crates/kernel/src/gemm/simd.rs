//! wasm simd128 micro-kernel: an MR×(4·NV) tile of C held in MR·NV f32x4 accumulators.
//!
//! Per k step: NV vector loads of the packed B row, MR splat-loads (`v128.load32_splat`) of
//! the packed A column, MR·NV f32x4 mul + add. wasm simd128 has no fused multiply-add (that is
//! relaxed-simd), so each update is a mul into a temporary and an add into the accumulator.
//!
//! Register budget: V8 (Node 20, x86-64) maps each f32x4 value to an XMM register and has 16 of
//! them. Measured (issue 4 and bench/gemm-peak.mjs): 12 independent accumulator chains run at
//! the peak, 14 halve it. But accumulators are not all that is live: LLVM schedules the k step
//! with all NV B vectors and several splatted A values loaded ahead, plus a product temporary
//! (no FMA), so a 12-accumulator tile (4×3 or 6×2 vectors) has ~20 values live and V8 spills.
//! Measured on 256³ and the MNIST shapes (best of 9, same machine, GFLOP/s on 256³ NN):
//!   4×2 vectors (8 acc)   ≈ 47–50  ← chosen (≈ the 12-chain peak, ~48)
//!   3×2 (6 acc)  ≈ 46 on NN but 24–29 on TN/NT;  2×4 (8 acc) ≈ 27;  8×1 ≈ 9–21;
//!   3×3 (9 acc) ≈ 23;  4×3 (12 acc) ≈ 22;  5×2 (10 acc) ≈ 20;  6×2 (12 acc) ≈ 22–24.
//! 4×2 keeps 8 accumulators + 2 B vectors + 1 A splat + 1 temporary = 12 registers: no spill,
//! and 8 independent add chains are enough to hide the 3-cycle add latency at 2 adds/cycle.
//! The k loop is deliberately not unrolled: unrolled by 2, LLVM interleaves the two steps'
//! loads, the live set grows past 16 and 256³ fell from ≈ 50 to ≈ 29 GFLOP/s.
use super::{store_tile_partial, Kernel};
use core::arch::wasm32::*;

/// The k loop: MR·NV f32x4 accumulators of Σ_p op(A)[i, p]·op(B)[p, 4v..4v+4].
#[inline(always)]
unsafe fn accumulate<const MR: usize, const NV: usize, const ROWS_APART: bool>(
    kc: usize, a: *const f32, a_rs: usize, a_ks: usize, b: *const f32, b_ks: usize,
) -> [[v128; NV]; MR] {
    let mut acc = [[f32x4_splat(0.0); NV]; MR];
    let mut ar = [a; MR];
    for (i, p) in ar.iter_mut().enumerate() {
        *p = a.add(if ROWS_APART { i * a_rs } else { i });
    }
    let (mut a, mut b) = (a, b);
    for _ in 0..kc {
        let mut bv = [f32x4_splat(0.0); NV];
        for v in 0..NV {
            bv[v] = v128_load(b.add(4 * v) as *const v128);
        }
        for i in 0..MR {
            let src = if ROWS_APART { ar[i] } else { a.add(i) };
            let av = v128_load32_splat(src as *const u32);
            for v in 0..NV {
                acc[i][v] = madd(av, bv[v], acc[i][v]);
            }
        }
        if ROWS_APART {
            for p in ar.iter_mut() { *p = p.add(a_ks); }
        } else {
            a = a.add(a_ks);
        }
        b = b.add(b_ks);
    }
    acc
}

/// acc + a·b. Build `relaxed-simd`: one fused multiply-add where the engine's CPU has FMA (one
/// rounding instead of two: results differ from the simd build in the last bits, see
/// test/relaxed.test.ts); same register budget, no product temporary. Otherwise a mul and an add.
#[inline(always)]
fn madd(a: v128, b: v128, acc: v128) -> v128 {
    #[cfg(target_feature = "relaxed-simd")]
    { f32x4_relaxed_madd(a, b, acc) }
    #[cfg(not(target_feature = "relaxed-simd"))]
    { f32x4_add(acc, f32x4_mul(a, b)) }
}

// The narrowest edge panels (1–2 columns of C). The 4×8 tile would compute 8 columns for them
// and the 4×4 one (one vector of B per row) has only 4 add chains, too few to hide the add
// latency: 32×4×128 ran slower (1.63 µs) than the full 32×8×128 (1.45 µs), so the last 2 columns
// of n = 10 (MNIST's output layer) cost as much as the first 8. These two kernels put the
// vector along the dimension that is contiguous in A instead and keep up to 8 accumulators
// (4 row panels or 4 rows × 2 columns). The edge panel is packed column-major, `b[j*b_ks + p]`
// (NARROW_T).

/// Rows adjacent (a_rs = 1: packed A panels, or Aᵀ read in place), `g` (1–4) row panels of
/// MR = 4 rows whose starts are `a_ps` apart (MR·kc packed, MR in place): the 4 values of a
/// panel at step p are one vector, so acc[v][j] (rows 4v..4v+4) += A(4v.., p)·splat(op(B)[p, j]).
/// With g = 4 that is 4·COLS chains, loading 4 vectors and COLS splats per 4·COLS
/// multiply-adds. Each element is summed over p in order, as in `accumulate`, so the result
/// is bit-identical to the full tile's. Writes `rows` (≤ 4g) rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn narrow_group<const G: usize, const COLS: usize>(
    kc: usize, alpha: f32, a: *const f32, a_ps: usize, a_ks: usize, b: *const f32, b_ks: usize,
    beta: f32, c: *mut f32, ldc: usize, rows: usize,
) {
    let mut acc = [[f32x4_splat(0.0); COLS]; G];
    let mut ap = a;
    for p in 0..kc {
        let mut bv = [f32x4_splat(0.0); COLS];
        for j in 0..COLS {
            bv[j] = v128_load32_splat(b.add(j * b_ks + p) as *const u32);
        }
        for v in 0..G {
            let av = v128_load(ap.add(v * a_ps) as *const v128);
            for j in 0..COLS {
                acc[v][j] = madd(av, bv[j], acc[v][j]);
            }
        }
        ap = ap.add(a_ks);
    }
    let va = f32x4_splat(alpha);
    for v in 0..G {
        for j in 0..COLS {
            let x = f32x4_mul(va, acc[v][j]);
            let lanes = [f32x4_extract_lane::<0>(x), f32x4_extract_lane::<1>(x), f32x4_extract_lane::<2>(x), f32x4_extract_lane::<3>(x)];
            for (i, &y) in lanes.iter().enumerate() {
                if 4 * v + i < rows {
                    store_one(c.add((4 * v + i) * ldc + j), y, beta);
                }
            }
        }
    }
}

/// `narrow_group` for a runtime group size and column count (g ≤ 4, cols ≤ 2). Not inlined,
/// nor are the other edge tiles (`narrow_dot`, `half_tile`): eight instances of the narrow
/// loop made the GEMM's loop nest 16 KB of wasm, which V8 took ~100 ms to compile in every
/// fresh process (Model::train_step); an edge tile is one call in a tile's worth of work.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn narrow_rows(
    kc: usize, alpha: f32, a: *const f32, a_ps: usize, a_ks: usize, g: usize, b: *const f32,
    b_ks: usize, beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize,
) {
    macro_rules! go {
        ($g:literal) => {
            if cols == 1 {
                narrow_group::<$g, 1>(kc, alpha, a, a_ps, a_ks, b, b_ks, beta, c, ldc, rows)
            } else {
                narrow_group::<$g, 2>(kc, alpha, a, a_ps, a_ks, b, b_ks, beta, c, ldc, rows)
            }
        };
    }
    match g {
        1 => go!(1),
        2 => go!(2),
        3 => go!(3),
        _ => go!(4),
    }
}

/// Rows lda apart, each contiguous in p (a_ks = 1: A (m, k) read in place): C[i, j] is a dot
/// product of two contiguous runs, acc[i][j] += A[i, p..p+4]·B[p..p+4, j] (4·COLS chains), then
/// each accumulator's lanes are summed as (l0 + l1) + (l2 + l3) and the last kc mod 4 steps
/// are added one by one. All 4 rows exist: partial row panels are always packed (a_rs = 1).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn narrow_dot<const COLS: usize>(
    kc: usize, alpha: f32, a: *const f32, a_rs: usize, b: *const f32, b_ks: usize,
    beta: f32, c: *mut f32, ldc: usize, rows: usize,
) {
    let ar = [a, a.add(a_rs), a.add(2 * a_rs), a.add(3 * a_rs)];
    let mut acc = [[f32x4_splat(0.0); COLS]; 4];
    let mut p = 0;
    while p + 4 <= kc {
        let mut bv = [f32x4_splat(0.0); COLS];
        for j in 0..COLS {
            bv[j] = v128_load(b.add(j * b_ks + p) as *const v128);
        }
        for i in 0..4 {
            let av = v128_load(ar[i].add(p) as *const v128);
            for j in 0..COLS {
                acc[i][j] = madd(av, bv[j], acc[i][j]);
            }
        }
        p += 4;
    }
    for i in 0..rows.min(4) {
        for j in 0..COLS {
            let v = acc[i][j];
            let mut s = (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v))
                + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v));
            for q in p..kc {
                s += *ar[i].add(q) * *b.add(j * b_ks + q);
            }
            store_one(c.add(i * ldc + j), alpha * s, beta);
        }
    }
}

/// c ← x + β·c (x already scaled by α); β = 0 never reads c.
#[inline(always)]
unsafe fn store_one(c: *mut f32, x: f32, beta: f32) {
    *c = if beta == 0.0 { x } else { x + beta * *c };
}

pub(crate) struct KernelSimdG<const MR: usize, const NV: usize>;

/// The chosen tile: 4 rows × 2 f32x4 (MR = 4, NR = 8); measurements in the module comment.
pub(crate) type KernelSimd = KernelSimdG<4, 2>;

/// A 3–4 column edge tile: only the first vector column of the MR×NR tile is computed. Out of
/// line, as `narrow_rows` says.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn half_tile<const MR: usize>(
    kc: usize, alpha: f32, a: *const f32, a_rs: usize, a_ks: usize, b: *const f32, b_ks: usize,
    beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize,
) {
    let acc = if a_rs == 1 {
        accumulate::<MR, 1, false>(kc, a, 1, a_ks, b, b_ks)
    } else {
        accumulate::<MR, 1, true>(kc, a, a_rs, a_ks, b, b_ks)
    };
    store::<MR, 1>(&acc, alpha, beta, c, ldc, rows, cols)
}

impl<const MR: usize, const NV: usize> Kernel for KernelSimdG<MR, NV> {
    const MR: usize = MR;
    const NR: usize = NV * 4;
    /// Edge panels of 1–2 columns go to narrow_rows / narrow_dot (MR = 4 only).
    const NARROW_T: usize = if MR == 4 && NV > 1 { 2 } else { 0 };

    #[inline(always)]
    unsafe fn kernel_narrow_rows(
        kc: usize, alpha: f32, a: *const f32, a_ps: usize, a_ks: usize, g: usize, b: *const f32,
        b_ks: usize, beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize,
    ) {
        narrow_rows(kc, alpha, a, a_ps, a_ks, g, b, b_ks, beta, c, ldc, rows, cols)
    }

    #[inline(always)]
    unsafe fn kernel(
        kc: usize, alpha: f32, a: *const f32, a_rs: usize, a_ks: usize, b: *const f32, b_ks: usize,
        beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize,
    ) {
        // Narrowest edge panels (1–2 columns, e.g. the last 2 of n = 10), packed column-major:
        // computed at full vector width in the layout A is read in (narrow_rows, narrow_dot).
        if NV > 1 && cols <= Self::NARROW_T {
            match (cols, a_rs == 1) {
                (_, true) => narrow_rows(kc, alpha, a, 0, a_ks, 1, b, b_ks, beta, c, ldc, rows, cols),
                (1, false) => narrow_dot::<1>(kc, alpha, a, a_rs, b, b_ks, beta, c, ldc, rows),
                (_, false) => narrow_dot::<2>(kc, alpha, a, a_rs, b, b_ks, beta, c, ldc, rows),
            }
            return;
        }
        // Narrow edge panel (3–4 columns exist): only the first vector column is computed,
        // halving the work of that tile.
        if NV > 1 && cols <= 4 {
            return half_tile::<MR>(kc, alpha, a, a_rs, a_ks, b, b_ks, beta, c, ldc, rows, cols);
        }
        // Two instances of the k loop: A's rows adjacent (packed panels, or Aᵀ read in place:
        // one pointer, constant offsets) or A's rows lda apart (A read in place: one pointer per
        // row). The branch is per tile, outside the k loop.
        let acc = if a_rs == 1 {
            accumulate::<MR, NV, false>(kc, a, 1, a_ks, b, b_ks)
        } else {
            accumulate::<MR, NV, true>(kc, a, a_rs, a_ks, b, b_ks)
        };
        store::<MR, NV>(&acc, alpha, beta, c, ldc, rows, cols);
    }

    /// 4×4 register transposes (4 loads, 8 shuffles, 4 stores per 16 floats) instead of 16
    /// scalar strided stores: the NT products (dx = dz·Wᵀ) pack all of B this way.
    #[inline(always)]
    unsafe fn pack_transpose(r: usize, src: *const f32, ld: usize, kc: usize, dst: *mut f32) {
        if r % 4 != 0 {
            for i in 0..r {
                for p in 0..kc {
                    *dst.add(p * r + i) = *src.add(i * ld + p);
                }
            }
            return;
        }
        for g in 0..r / 4 {
            transpose4(src.add(4 * g * ld), ld, kc, dst.add(4 * g), r);
        }
    }
}

/// `dst[p*ds + i] = src[i*ld + p]` for i < 4, p < kc.
#[inline(always)]
unsafe fn transpose4(src: *const f32, ld: usize, kc: usize, dst: *mut f32, ds: usize) {
    let (s0, s1, s2, s3) = (src, src.add(ld), src.add(2 * ld), src.add(3 * ld));
    let mut p = 0;
    while p + 4 <= kc {
        let r0 = v128_load(s0.add(p) as *const v128); // a0 a1 a2 a3
        let r1 = v128_load(s1.add(p) as *const v128); // b0 b1 b2 b3
        let r2 = v128_load(s2.add(p) as *const v128);
        let r3 = v128_load(s3.add(p) as *const v128);
        let t0 = i32x4_shuffle::<0, 4, 1, 5>(r0, r1); // a0 b0 a1 b1
        let t1 = i32x4_shuffle::<2, 6, 3, 7>(r0, r1); // a2 b2 a3 b3
        let t2 = i32x4_shuffle::<0, 4, 1, 5>(r2, r3); // c0 d0 c1 d1
        let t3 = i32x4_shuffle::<2, 6, 3, 7>(r2, r3); // c2 d2 c3 d3
        v128_store(dst.add(p * ds) as *mut v128, i32x4_shuffle::<0, 1, 4, 5>(t0, t2));
        v128_store(dst.add((p + 1) * ds) as *mut v128, i32x4_shuffle::<2, 3, 6, 7>(t0, t2));
        v128_store(dst.add((p + 2) * ds) as *mut v128, i32x4_shuffle::<0, 1, 4, 5>(t1, t3));
        v128_store(dst.add((p + 3) * ds) as *mut v128, i32x4_shuffle::<2, 3, 6, 7>(t1, t3));
        p += 4;
    }
    while p < kc {
        *dst.add(p * ds) = *s0.add(p);
        *dst.add(p * ds + 1) = *s1.add(p);
        *dst.add(p * ds + 2) = *s2.add(p);
        *dst.add(p * ds + 3) = *s3.add(p);
        p += 1;
    }
}

/// C[0..rows, 0..cols] ← α·acc + β·C for an MR×4·NV tile of accumulators; β = 0 never reads C.
#[inline(always)]
unsafe fn store<const MR: usize, const NV: usize>(
    acc: &[[v128; NV]; MR], alpha: f32, beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize,
) {
    let nr = NV * 4;
    let va = f32x4_splat(alpha);
    if rows == MR && cols == nr {
        // Full tile: straight to C.
        if beta == 0.0 {
            for i in 0..MR {
                let cr = c.add(i * ldc);
                for v in 0..NV {
                    v128_store(cr.add(4 * v) as *mut v128, f32x4_mul(va, acc[i][v]));
                }
            }
        } else {
            let vb = f32x4_splat(beta);
            for i in 0..MR {
                let cr = c.add(i * ldc);
                for v in 0..NV {
                    let p = cr.add(4 * v) as *mut v128;
                    v128_store(p, f32x4_add(f32x4_mul(va, acc[i][v]), f32x4_mul(vb, v128_load(p))));
                }
            }
        }
    } else if beta == 0.0 {
        // Edge tile, β = 0: whole vectors where 4 columns exist, lane stores for the
        // last 1–3 columns (no scalar loop, no spill).
        for i in 0..rows {
            let cr = c.add(i * ldc);
            for v in 0..NV {
                let w = cols.saturating_sub(4 * v);
                let x = f32x4_mul(va, acc[i][v]);
                let p = cr.add(4 * v);
                match w {
                    0 => {}
                    1 => v128_store32_lane::<0>(x, p as *mut u32),
                    2 => v128_store64_lane::<0>(x, p as *mut u64),
                    3 => {
                        v128_store64_lane::<0>(x, p as *mut u64);
                        v128_store32_lane::<2>(x, p.add(2) as *mut u32);
                    }
                    _ => v128_store(p as *mut v128, x),
                }
            }
        }
    } else {
        // Edge tile with β ≠ 0 (k-blocks after the first, or the caller's β): spill the
        // accumulators to a small stack buffer and write what exists.
        let mut tile = [[[0.0f32; 4]; NV]; MR];
        for i in 0..MR {
            for v in 0..NV {
                v128_store(tile[i][v].as_mut_ptr() as *mut v128, acc[i][v]);
            }
        }
        let flat = core::slice::from_raw_parts(tile.as_ptr() as *const f32, MR * nr);
        store_tile_partial(flat, nr, alpha, beta, c, ldc, rows, cols);
    }
}
