//! General matrix multiply on f32, row-major.
//!
//! C ← α·op(A)·op(B) + β·C, C is (m, n), op(A) is (m, k), op(B) is (k, n).
//! `Trans::N`: the operand is stored as written, with row stride `ld` (A is (m, k), B is (k, n)).
//! `Trans::T`: it is stored transposed (A is (k, m), B is (n, k)).
//! If β = 0, C is never read (it may hold NaN). m, n or k = 0 are valid (k = 0 or α = 0 gives
//! C ← β·C, and then A and B are not read).
//!
//! Structure (the BLIS/GotoBLAS scheme, in the style of bluss/matrixmultiply):
//! - one generic loop nest, `gemm_loop::<K>`, cuts the problem into blocks that fit the caches
//!   and packs them (`pack_a`, `pack_b`): transposition is handled entirely in packing, so the
//!   micro-kernel only ever sees one layout and no transpose is ever materialised;
//! - a micro-kernel `K: Kernel` computes one MR×NR tile of C from packed panels:
//!   `simd::KernelSimd` (wasm simd128, f32x4) or `scalar::KernelScalar`, chosen at compile
//!   time by `cfg(target_feature = "simd128")` — on wasm there is no runtime detection, the
//!   engine either validates the SIMD module or the loader picks the scalar one.
//!
//! Results are deterministic: the summation order depends only on (m, n, k) and the block
//! constants, never on timing or memory addresses.

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd;

use std::cell::RefCell;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trans {
    N,
    T,
}

/// A micro-kernel: C[0..rows, 0..cols] ← α·(Ã·B̃) + β·C for one MR×NR tile.
///
/// `a` walks an A micro-panel: at step p it holds the tile's MR values of column p of op(A)
/// (`a[i*a_rs + p*a_ks] = op(A)[i, p]`); `b` walks a B micro-panel: at step p the NR values of row p
/// of op(B) (`b[p*b_ks + j] = op(B)[p, j]`). Packed panels have a_rs = 1, a_ks = MR,
/// b_ks = NR; the direct paths (no packing, see `gemm_loop`) pass the operand's own strides. All MR (NR)
/// values of every step must be readable: edge panels are packed and zero-padded, so the kernel
/// always computes a full tile; `rows ≤ MR`, `cols ≤ NR` say how much of it to write to `c`
/// (row stride `ldc`). If β = 0 the kernel must not read `c`.
pub(crate) trait Kernel {
    const MR: usize;
    const NR: usize;
    /// Edge B panels of at most this many columns are packed column-major instead:
    /// `b[j*b_ks + p] = op(B)[p, j]` for j < cols, with b_ks = kc, and the kernel is called with
    /// that b_ks (it tells the layouts apart by `cols`). 0: never (every panel row-major).
    const NARROW_T: usize = 0;

    /// A narrow edge (cols ≤ NARROW_T, B panel column-major) over `g` row panels of MR rows
    /// with adjacent rows (a_rs = 1) whose starts are `a_ps` apart; `rows` ≤ g·MR of them are
    /// written. Only called when NARROW_T > 0.
    ///
    /// # Safety
    /// As `kernel`, for each of the g panels.
    #[allow(clippy::too_many_arguments)]
    unsafe fn kernel_narrow_rows(
        kc: usize, alpha: f32, a: *const f32, a_ps: usize, a_ks: usize, g: usize, b: *const f32,
        b_ks: usize, beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize,
    ) {
        let _ = (kc, alpha, a, a_ps, a_ks, g, b, b_ks, beta, c, ldc, rows, cols);
        unreachable!("kernel_narrow_rows without NARROW_T");
    }
    /// # Safety
    /// `a`, `b` readable as described above for kc steps; `c` valid for `rows` rows of `cols`
    /// floats with row stride `ldc`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn kernel(
        kc: usize, alpha: f32, a: *const f32, a_rs: usize, a_ks: usize, b: *const f32, b_ks: usize,
        beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize,
    );

    /// Transposing pack of one full panel of `r` (= MR or NR) rows: `dst[p*r + i] = src[i*ld + p]`
    /// for i < r, p < kc (A stored (m, k) into an A panel; B stored (n, k) into a B panel).
    /// A kernel may override this with a vector transpose.
    ///
    /// # Safety
    /// `src` readable for r rows of kc floats with stride ld; `dst` writable for kc·r floats.
    #[inline(always)]
    unsafe fn pack_transpose(r: usize, src: *const f32, ld: usize, kc: usize, dst: *mut f32) {
        for i in 0..r {
            let s = src.add(i * ld);
            for p in 0..kc {
                *dst.add(p * r + i) = *s.add(p);
            }
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type Selected = simd::KernelSimd;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
type Selected = scalar::KernelScalar;

/// Block sizes (in elements). They bound the working set of each loop level; the cache sizes
/// are those of the Zen 3 cores we measure on (32 KiB L1d, 512 KiB L2 per core, 32 MiB L3),
/// typical of x86 desktops and servers; the micro-kernel tile is MR×NR = 4×8 (simd.rs).
///
/// - `KC` (depth of a k-block): one A micro-panel (MR·KC) plus one B micro-panel (NR·KC)
///   must stay in L1 while LOOP 1 streams A panels past the B panel: (4+8)·400·4 B = 19 KiB,
///   leaving L1 room for the C tile's lines. A larger KC means fewer passes over C (each
///   k-block re-reads and re-writes all of C): k = 784 (MNIST's input layer) takes 2 blocks
///   (KC ≥ 392) instead of 3 at KC = 256. `balanced_block` splits k into equal blocks ≤ KC, so
///   e.g. k = 900 is 3 × 300 rather than 400+400+100 (a thin last block costs a full C pass for
///   little work). (KC 384 vs 256 measured equal or better on every shape, within the shared
///   machine's noise; 400 is 384 nudged up so that 784 fits in two blocks.)
/// - `MC` (rows of A per block): the packed A block MC·KC stays in L2 while LOOP 2 sweeps all
///   the B panels over it: 128·400·4 B = 200 KiB, under half of L2, so the B panel stream and
///   C traffic do not evict it.
/// - `NC` (columns of B per block): the packed B block KC·NC lives in L3 and is reused by
///   every MC-block of A: 4096·400·4 B = 6.4 MiB, so B is packed once per k-block for every
///   shape up to n = 4096.
const KC: usize = 400;
const MC: usize = 128;
const NC: usize = 4096;
/// Largest operand block (in floats, counting whole rows of ld) read in place instead of
/// packed: 32 Ki floats = 128 KiB, a quarter of L2, so it survives the repeated passes of
/// LOOP 2 / LOOP 1. This covers every MNIST-layer product's A (e.g. dW = xᵀ·dz with x (32, 784):
/// 32·784 floats) and sends 256³ and up through packing. B has its own bound, DIRECT_MAX_B.
const DIRECT_MAX: usize = 32 * 1024;
/// The same bound for a B operand (k, n) read in place: its kc rows must stay under half of L2,
/// 64 Ki floats (256 KiB), strictly. B is re-read once per MR-row panel of A, one NR-wide
/// micro-panel at a time (kc cache lines, in L1 after the first panel), so it tolerates twice
/// A's bound. What it buys: MNIST's forward x·W₁ at batch 32 reads W₁ (392 × 128 floats per
/// k-block) in place instead of packing it every step (4.9% of a batch-32 step): the product
/// ran 1.12× and the step 1.03×, while 256³ (256 × 256 = 64 Ki floats) still packs.
const DIRECT_MAX_B: usize = 64 * 1024;

/// Reused packing buffers: grown on demand, never shrunk, so steady-state calls (a training
/// loop calling the same shapes) never allocate. Thread-local so that a future threaded
/// build (issue 4) gives each worker its own A buffer.
struct PackBufs {
    a: Vec<f32>,
    b: Vec<f32>,
}

thread_local! {
    static BUFS: RefCell<PackBufs> = const { RefCell::new(PackBufs { a: Vec::new(), b: Vec::new() }) };
}

/// Extent in elements of a row-major operand with `rows` rows of which `cols` are read.
fn extent(rows: usize, cols: usize, ld: usize) -> usize {
    if rows == 0 || cols == 0 { 0 } else { (rows - 1) * ld + cols }
}

/// Contract in the module comment. Panics (a caller bug, not user input: the ABI layer and
/// TypeScript validate first) if a slice is shorter than its shape and stride need, or a stride
/// is smaller than the row it strides over.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    ta: Trans, tb: Trans, m: usize, n: usize, k: usize, alpha: f32,
    a: &[f32], lda: usize, b: &[f32], ldb: usize, beta: f32, c: &mut [f32], ldc: usize,
) {
    // Shapes as stored: A is (m, k) or (k, m), B is (k, n) or (n, k).
    let (ar, ac) = match ta { Trans::N => (m, k), Trans::T => (k, m) };
    let (br, bc) = match tb { Trans::N => (k, n), Trans::T => (n, k) };
    assert!(m == 0 || n == 0 || ldc >= n, "sgemm: ldc {ldc} < n {n}");
    assert!(c.len() >= extent(m, n, ldc), "sgemm: c too short");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 || alpha == 0.0 {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    assert!(lda >= ac, "sgemm: lda {lda} < {ac}");
    assert!(ldb >= bc, "sgemm: ldb {ldb} < {bc}");
    assert!(a.len() >= extent(ar, ac, lda), "sgemm: a too short");
    assert!(b.len() >= extent(br, bc, ldb), "sgemm: b too short");
    // Threads (build `simd-threads`): C is cut into column blocks of `col_block(n)` columns,
    // a width that depends only on n, and each block is the sub-product
    // C[:, j0..j1] ← α·op(A)·op(B)[:, j0..j1] + β·C[:, j0..j1] run by `gemm_loop` on its own
    // (thread-local) packing buffers. Why this is bit-identical to one call over all of C, for
    // any thread count: an element's value is fixed by the k-blocking (balanced_block(k, KC),
    // the same in every sub-call) and the micro-kernel's per-lane order over p, which does not
    // depend on the other columns; the blocks are whole multiples of NR, so every sub-call's
    // NR-panels (and its narrow edge panel, the last) are exactly the panels of the full call,
    // and the direct/packed choices depend on lda, ldb, m and k, not on n. Products below
    // PAR_MIN_MACS stay on the calling thread: the hand-off to the pool costs more than they do.
    let (a, b) = (a.as_ptr() as usize, b.as_ptr() as usize);
    let cw = col_block(n);
    let blocks = crate::pool::chunk_count(n, cw);
    let c_ptr = crate::pool::SyncSlice::new(c);
    let run = |j0: usize, j1: usize| {
        // Column offsets: op(B)[:, j0] is at b + j0 (B stored (k, n)) or b + j0·ldb ((n, k)).
        let boff = match tb { Trans::N => j0, Trans::T => j0 * ldb };
        // SAFETY: the extents of a, b and c were checked above; gemm_loop only touches elements
        // inside them, and blocks [j0, j1) of C are disjoint between concurrent calls.
        unsafe {
            let cp = c_ptr.as_mut_ptr().add(j0);
            gemm_loop::<Selected>(
                ta, tb, m, j1 - j0, k, alpha, a as *const f32, lda, (b as *const f32).add(boff), ldb,
                beta, cp, ldc,
            )
        }
    };
    if blocks > 1 && crate::pool::use_chunks(m * n * k, PAR_MIN_MACS) {
        crate::pool::for_each_chunk(blocks, |i| run(i * cw, ((i + 1) * cw).min(n)));
    } else {
        run(0, n);
    }
}

/// Multiply-adds (m·n·k) below which a product stays on the calling thread. A hand-off to the
/// pool's spinning helpers costs a few µs (pool.rs; rayon's own install cost ~80 µs), but the
/// column blocks each pack op(A) again and the helper's half of C lands in the other core's
/// cache, which the next pass reads back: MNIST's batch-32 products (3.2 M MACs, ~130 µs) ran
/// 1.1–1.2× on 2 threads without statistics and 0.86–0.95× with them at 2^20. From 2^22
/// (~170 µs on one thread) a split pays; 256³ (2^24) runs 1.6–2.0× on 2 threads. Batches over
/// 64 rows are split per training step instead (model.rs), and products inside a step chunk
/// never split again.
pub const PAR_MIN_MACS: usize = 1 << 22;

/// Width of the column blocks of a threaded product: a multiple of NR that depends only on n
/// (never on the thread count): about n/8 so that 2–8 workers get balanced shares, and at least
/// 64 columns, because every block packs all of op(A) again for itself (256³ in 32-wide blocks
/// packed A 8 times and ran 0.7–1.2× on 2 threads).
pub fn col_block(n: usize) -> usize {
    let nr = <Selected as Kernel>::NR;
    (n.div_ceil(8).div_ceil(nr) * nr).max(64usize.div_ceil(nr) * nr)
}

/// Depth of the k-blocks a product of depth k is cut into (`balanced_block(k, KC)`: the last
/// may be shorter). A product over k-range [i·d, (i + 1)·d) alone, added to the others' in block
/// order, gives the bits of the whole product: an element is its first block's sum, then each
/// later block's sum added to it (β = 1). model.rs splits the first layer's x·W that way.
pub fn k_block(k: usize) -> usize {
    balanced_block(k, KC, 1)
}

/// C ← β·C; β = 0 writes zeros without reading C.
fn scale_c(m: usize, n: usize, beta: f32, c: &mut [f32], ldc: usize) {
    for i in 0..m {
        let row = &mut c[i * ldc..i * ldc + n];
        if beta == 0.0 {
            row.fill(0.0);
        } else if beta != 1.0 {
            row.iter_mut().for_each(|x| *x *= beta);
        }
    }
}

/// Split `len` into the fewest blocks of at most `max`, of equal size rounded up to `unit`
/// (the last may be shorter). Returns the block size.
fn balanced_block(len: usize, max: usize, unit: usize) -> usize {
    let nblocks = len.div_ceil(max);
    let per = len.div_ceil(nblocks);
    per.div_ceil(unit) * unit
}

/// The loop nest. Pointers are valid for the extents checked in `sgemm`.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_loop<K: Kernel>(
    ta: Trans, tb: Trans, m: usize, n: usize, k: usize, alpha: f32,
    a: *const f32, lda: usize, b: *const f32, ldb: usize, beta: f32, c: *mut f32, ldc: usize,
) {
    let (mr, nr) = (K::MR, K::NR);
    let kc_max = balanced_block(k, KC, 1);
    let mc_max = balanced_block(m, MC, mr);
    let nc_max = balanced_block(n, NC, nr);
    BUFS.with(|bufs| {
        let bufs = &mut *bufs.borrow_mut();
        // Packed sizes: A block mc_max×kc rounded up to whole MR panels (mc_max already is a
        // multiple of MR), B block kc×nc rounded to whole NR panels.
        let need_a = mc_max * kc_max;
        let need_b = nc_max.div_ceil(nr) * nr * kc_max;
        if bufs.a.len() < need_a { bufs.a.resize(need_a, 0.0); }
        if bufs.b.len() < need_b { bufs.b.resize(need_b, 0.0); }
        let (abuf, bbuf) = (bufs.a.as_mut_ptr(), bufs.b.as_mut_ptr());
        // Direct (unpacked) operands. op(A) = Aᵀ (A stored (k, m)) is already laid out like a
        // packed A panel, with step lda instead of MR; A stored (m, k) can be read in place with
        // its rows lda apart and step 1 (the micro-kernel then keeps one pointer per row);
        // op(B) = B stored (k, n) is laid out like a packed B panel with step ldb instead of NR.
        // Reading in place saves the packing pass, which for the small MNIST shapes costs about
        // as much as the arithmetic. But the kernel then strides through the operand's memory,
        // so this is only done while the part of it that the loops re-read (kc rows of ldb
        // floats for B; for A, kc rows of lda or mc rows of lda) stays in L2. Edge panels (fewer
        // than MR rows / NR columns) are still packed, zero-padded, once per block.
        let a_direct = match ta {
            Trans::T => kc_max * lda <= DIRECT_MAX,
            Trans::N => mc_max * lda <= DIRECT_MAX,
        };
        let (a_rs, a_ks) = match ta { Trans::T => (1, lda), Trans::N => (lda, 1) };
        let b_direct = tb == Trans::N && kc_max * ldb < DIRECT_MAX_B;

        // LOOP 5: columns of C in NC-wide blocks (B block KC×NC stays in L3).
        let mut jc = 0;
        while jc < n {
            let nc = nc_max.min(n - jc);
            let nc_full = nc / nr * nr;
            // LOOP 4: the k dimension in KC-deep blocks. Sequential: every k-block accumulates
            // into the same C, and the first one applies β (later ones add: β = 1).
            let mut pc = 0;
            while pc < k {
                let kc = kc_max.min(k - pc);
                if !b_direct {
                    pack_b::<K>(tb, b, ldb, pc, jc, kc, nc, bbuf);
                } else if nc_full < nc {
                    pack_b::<K>(tb, b, ldb, pc, jc + nc_full, kc, nc - nc_full, bbuf);
                }
                let beta_k = if pc == 0 { beta } else { 1.0 };
                // LOOP 3: rows of C in MC-tall blocks (A block MC×KC stays in L2).
                // THREADS SEAM (issue 4): this is the loop to run in parallel — the MC-blocks
                // write disjoint rows of C and share the read-only packed B block; each worker
                // needs its own A buffer (BUFS is thread-local for that). A fixed partition of
                // ic over workers keeps the results bit-identical for any thread count, since
                // each C element is still computed by one kernel call sequence in the same order.
                // When m ≤ MC (every batch-32 product: one ic block), split LOOP 2 (jr) instead:
                // its column panels also write disjoint parts of C and share the packed A
                // block read-only; with b_direct the B edge panel lives in the shared B buffer,
                // packed before LOOP 3, so it is read-only there too.
                let mut ic = 0;
                while ic < m {
                    let mc = mc_max.min(m - ic);
                    let mc_full = mc / mr * mr;
                    if !a_direct {
                        pack_a::<K>(ta, a, lda, ic, pc, mc, kc, abuf);
                    } else if mc_full < mc {
                        pack_a::<K>(ta, a, lda, ic + mc_full, pc, mc - mc_full, kc, abuf);
                    }
                    // LOOP 2: NR-wide column panels of the B block (one B micro-panel, kc·NR,
                    // stays in L1 while LOOP 1 runs over all A micro-panels).
                    let mut jr = 0;
                    while jr < nc {
                        let cols = nr.min(nc - jr);
                        // Packed panels are row-major (step NR), except a narrow edge panel
                        // (cols ≤ Kernel::NARROW_T < NR), packed column-major (step kc). The
                        // edge panel is always packed.
                        let packed_ks = if cols <= K::NARROW_T { kc } else { nr };
                        let (bp, b_ks) = if !b_direct {
                            (bbuf.add(jr * kc) as *const f32, packed_ks)
                        } else if jr < nc_full {
                            (b.add(pc * ldb + jc + jr), ldb)
                        } else {
                            (bbuf as *const f32, packed_ks)
                        };
                        // LOOP 1: MR-tall row panels of the A block; one micro-kernel call each.
                        let mut ir = 0;
                        while ir < mc {
                            let rows = mr.min(mc - ir);
                            let (ap, ars, aks) = if !a_direct {
                                (abuf.add(ir * kc) as *const f32, 1, mr)
                            } else if ir < mc_full {
                                (a.add((ic + ir) * a_rs + pc * a_ks), a_rs, a_ks)
                            } else {
                                (abuf as *const f32, 1, mr)
                            };
                            let cp = c.add((ic + ir) * ldc + jc + jr);
                            if cols <= K::NARROW_T && ars == 1 {
                                // Narrow edge, rows adjacent: up to 4 row panels per call (their
                                // starts a_ps apart), so the kernel has enough add chains.
                                let (g, a_ps) = if !a_direct {
                                    ((mc - ir).div_ceil(mr).min(4), mr * kc)
                                } else if ir < mc_full {
                                    (((mc_full - ir) / mr).min(4), mr)
                                } else {
                                    (1, 0)
                                };
                                let rows = (g * mr).min(mc - ir);
                                K::kernel_narrow_rows(kc, alpha, ap, a_ps, aks, g, bp, b_ks, beta_k, cp, ldc, rows, cols);
                                ir += g * mr;
                                continue;
                            }
                            K::kernel(kc, alpha, ap, ars, aks, bp, b_ks, beta_k, cp, ldc, rows, cols);
                            ir += mr;
                        }
                        jr += nr;
                    }
                    ic += mc;
                }
                pc += kc;
            }
            jc += nc;
        }
    });
}

/// Pack op(A)[ic..ic+mc, pc..pc+kc] into MR-row micro-panels: panel r holds
/// `dst[r*MR*kc + p*MR + i] = op(A)[ic + r*MR + i, pc + p]`, rows past mc padded with zeros.
#[allow(clippy::too_many_arguments)]
unsafe fn pack_a<K: Kernel>(
    ta: Trans, a: *const f32, lda: usize, ic: usize, pc: usize, mc: usize, kc: usize, dst: *mut f32,
) {
    let mr = K::MR;
    let mut r0 = 0;
    while r0 < mc {
        let rows = mr.min(mc - r0);
        let d = dst.add(r0 * kc);
        match ta {
            // A is (m, k): row i of the panel is contiguous in p; write it with stride MR.
            Trans::N if rows == mr => K::pack_transpose(mr, a.add((ic + r0) * lda + pc), lda, kc, d),
            Trans::N => {
                for i in 0..rows {
                    let src = a.add((ic + r0 + i) * lda + pc);
                    for p in 0..kc {
                        *d.add(p * mr + i) = *src.add(p);
                    }
                }
            }
            // A is stored (k, m): for each p the panel's MR values are contiguous.
            Trans::T => {
                for p in 0..kc {
                    let src = a.add((pc + p) * lda + ic + r0);
                    if rows == mr {
                        // Constant length: the compiler emits vector moves, not a memcpy call.
                        for i in 0..mr { *d.add(p * mr + i) = *src.add(i); }
                    } else {
                        copy_short(src, d.add(p * mr), rows);
                    }
                }
            }
        }
        if rows < mr {
            for p in 0..kc {
                for i in rows..mr {
                    *d.add(p * mr + i) = 0.0;
                }
            }
        }
        r0 += mr;
    }
}

/// Pack op(B)[pc..pc+kc, jc..jc+nc] into NR-column micro-panels: panel q holds
/// `dst[q*NR*kc + p*NR + j] = op(B)[pc + p, jc + q*NR + j]`, columns past nc padded with zeros.
#[allow(clippy::too_many_arguments)]
unsafe fn pack_b<K: Kernel>(
    tb: Trans, b: *const f32, ldb: usize, pc: usize, jc: usize, kc: usize, nc: usize, dst: *mut f32,
) {
    let nr = K::NR;
    let mut j0 = 0;
    while j0 < nc {
        let cols = nr.min(nc - j0);
        let d = dst.add(j0 * kc);
        if cols <= K::NARROW_T {
            // Narrow edge, column-major (Kernel::NARROW_T): d[j*kc + p] = op(B)[pc + p, jc + j0 + j].
            for j in 0..cols {
                let dj = d.add(j * kc);
                match tb {
                    Trans::N => {
                        let src = b.add(pc * ldb + jc + j0 + j);
                        for p in 0..kc { *dj.add(p) = *src.add(p * ldb); }
                    }
                    Trans::T => core::ptr::copy_nonoverlapping(b.add((jc + j0 + j) * ldb + pc), dj, kc),
                }
            }
            j0 += nr;
            continue;
        }
        match tb {
            // B is (k, n): for each p the panel's NR values are contiguous.
            Trans::N => {
                for p in 0..kc {
                    let src = b.add((pc + p) * ldb + jc + j0);
                    if cols == nr {
                        for j in 0..nr { *d.add(p * nr + j) = *src.add(j); }
                    } else {
                        copy_short(src, d.add(p * nr), cols);
                    }
                }
            }
            // B is stored (n, k): column j of op(B) is row j of B, contiguous in p.
            Trans::T if cols == nr => K::pack_transpose(nr, b.add((jc + j0) * ldb + pc), ldb, kc, d),
            Trans::T => {
                for j in 0..cols {
                    let src = b.add((jc + j0 + j) * ldb + pc);
                    for p in 0..kc {
                        *d.add(p * nr + j) = *src.add(p);
                    }
                }
            }
        }
        if cols < nr {
            for p in 0..kc {
                for j in cols..nr {
                    *d.add(p * nr + j) = 0.0;
                }
            }
        }
        j0 += nr;
    }
}

/// Copy `len` (< MR or NR, a handful) floats. A plain loop or `copy_nonoverlapping` becomes a
/// call to `memcpy` per row, which for a panel edge costs more than the copy; volatile reads
/// keep this an inline loop (on wasm they are ordinary loads).
#[inline(always)]
unsafe fn copy_short(src: *const f32, dst: *mut f32, len: usize) {
    for j in 0..len {
        *dst.add(j) = src.add(j).read_volatile();
    }
}

/// Shared by the kernels: write an MR×NR tile held in `tile` (row-major, row stride NR) to C
/// for the `rows × cols` part that exists: C ← α·tile + β·C, not reading C when β = 0.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn store_tile_partial(
    tile: &[f32], nr: usize, alpha: f32, beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize,
) {
    for i in 0..rows {
        let crow = c.add(i * ldc);
        for j in 0..cols {
            let v = alpha * tile[i * nr + j];
            let cp = crow.add(j);
            *cp = if beta == 0.0 { v } else { v + beta * *cp };
        }
    }
}
