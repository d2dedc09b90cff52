//! wasm simd128 micro-kernel: an MR×(4·NV) tile of C held in MR·NV f32x4 accumulators.
//!
//! Per k step: NV vector loads of the packed B row, MR splat-loads (`v128.load32_splat`) of
//! the packed A column, MR·NV f32x4 mul + add. wasm simd128 has no fused multiply-add (that is
//! relaxed-simd), so each update is a mul into a temporary and an add into the accumulator.
//!
//! Register budget: V8 (Node 20, x86-64) maps each f32x4 local to an XMM register and has 16 of
//! them. Measured (issue 4): 12 independent accumulator chains run at the peak, 14 halve it. So
//! the tile is chosen with ≤ 12 accumulators; the operands (NV B vectors, 1 splatted A value
//! and a product temporary) take the rest. See `KernelSimd` for the chosen shape and why.
use super::{store_tile_partial, Kernel};
use core::arch::wasm32::*;

pub(crate) struct KernelSimdG<const MR: usize, const NV: usize>;

/// The chosen tile (see the measurements in bench/gemm.mjs's notes in the kernel's report).
pub(crate) type KernelSimd = KernelSimdG<4, 2>;

impl<const MR: usize, const NV: usize> Kernel for KernelSimdG<MR, NV> {
    const MR: usize = MR;
    const NR: usize = NV * 4;

    #[inline(always)]
    unsafe fn kernel(
        kc: usize, alpha: f32, a: *const f32, a_ks: usize, b: *const f32, b_ks: usize, beta: f32,
        c: *mut f32, ldc: usize, rows: usize, cols: usize,
    ) {
        let nr = NV * 4;
        let mut acc = [[f32x4_splat(0.0); NV]; MR];
        let (mut a, mut b) = (a, b);
        for _ in 0..kc {
            let mut bv = [f32x4_splat(0.0); NV];
            for v in 0..NV {
                bv[v] = v128_load(b.add(4 * v) as *const v128);
            }
            for i in 0..MR {
                let av = v128_load32_splat(a.add(i) as *const u32);
                for v in 0..NV {
                    acc[i][v] = f32x4_add(acc[i][v], f32x4_mul(av, bv[v]));
                }
            }
            a = a.add(a_ks);
            b = b.add(b_ks);
        }
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
}
