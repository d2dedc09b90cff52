//! sgemm against a naive f64 reference (native build: this exercises the loop nest, the packing
//! of all four layouts and the scalar micro-kernel; the wasm SIMD kernel runs the same sweep in
//! test/gemm.test.ts).
//!
//! Inputs are small integers (|x| ≤ 4), so with integer α, β every product and partial sum is an
//! integer below 2^24 and f32 arithmetic is exact in any order: those cases compare with `==`.
//! Fractional α/β cases use a relative tolerance (stated at `check`).
//! Padding between a row's end and its stride is NaN in A and B (reading it would poison C)
//! and a sentinel in C (writing it is caught); with β = 0, C starts as NaN everywhere.
use gradguard_kernel::gemm::{sgemm, Trans};

struct Lcg(u64);
impl Lcg {
    fn int(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % 9) as f32 - 4.0
    }
}

const SENTINEL: f32 = 12345.0;

/// A row-major matrix (rows, cols) with row stride ld ≥ cols; padding is `pad`.
fn mat(rng: &mut Lcg, rows: usize, cols: usize, ld: usize, pad: f32) -> Vec<f32> {
    let mut v = vec![pad; rows * ld];
    for r in 0..rows {
        for c in 0..cols {
            v[r * ld + c] = rng.int();
        }
    }
    v
}

#[allow(clippy::too_many_arguments)]
fn case(rng: &mut Lcg, ta: Trans, tb: Trans, m: usize, n: usize, k: usize, alpha: f32, beta: f32, extra: usize) {
    let (ar, ac) = if ta == Trans::N { (m, k) } else { (k, m) };
    let (br, bc) = if tb == Trans::N { (k, n) } else { (n, k) };
    let (lda, ldb, ldc) = (ac + extra, bc + 2 * extra, n + extra);
    let a = mat(rng, ar, ac, lda, f32::NAN);
    let b = mat(rng, br, bc, ldb, f32::NAN);
    // β = 0: C holds NaN, which must not leak into the result. Else integer values.
    let c0 = if beta == 0.0 {
        let mut c = vec![SENTINEL; m * ldc];
        for i in 0..m { for j in 0..n { c[i * ldc + j] = f32::NAN; } }
        c
    } else {
        mat(rng, m, n, ldc, SENTINEL)
    };
    let mut c = c0.clone();
    sgemm(ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut c, ldc);
    let at = |i: usize, p: usize| if ta == Trans::N { a[i * lda + p] } else { a[p * lda + i] } as f64;
    let bt = |p: usize, j: usize| if tb == Trans::N { b[p * ldb + j] } else { b[j * ldb + p] } as f64;
    let exact = alpha.fract() == 0.0 && beta.fract() == 0.0;
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f64;
            let mut sabs = 0.0f64;
            for p in 0..k {
                s += at(i, p) * bt(p, j);
                sabs += (at(i, p) * bt(p, j)).abs();
            }
            let cin = c0[i * ldc + j] as f64;
            let want = alpha as f64 * s + if beta == 0.0 { 0.0 } else { beta as f64 * cin };
            let got = c[i * ldc + j] as f64;
            // Tolerance for fractional α/β: f32 rounding of the k-term sum and the α/β scaling,
            // bounded by (k + 4)·ε·(|α|·Σ|a·b| + |β·c|) with ε = 2^-24; 4·ε extra margin.
            let bound = (k as f64 + 8.0) * f32::EPSILON as f64
                * ((alpha as f64).abs() * sabs + if beta == 0.0 { 0.0 } else { (beta as f64 * cin).abs() } + 1.0);
            let ok = if exact { got == want } else { (got - want).abs() <= bound };
            assert!(
                ok,
                "{ta:?}{tb:?} m={m} n={n} k={k} alpha={alpha} beta={beta} extra={extra}: \
                 C[{i},{j}] = {got}, want {want}"
            );
        }
        for j in n..ldc {
            assert_eq!(c[i * ldc + j], SENTINEL, "{ta:?}{tb:?} m={m} n={n} k={k}: wrote C padding [{i},{j}]");
        }
    }
}

const ALL: [(Trans, Trans); 4] = [(Trans::N, Trans::N), (Trans::N, Trans::T), (Trans::T, Trans::N), (Trans::T, Trans::T)];

#[test]
fn small_sizes_all_layouts_exact() {
    let mut rng = Lcg(1);
    let ks = [0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 20];
    for (ta, tb) in ALL {
        for m in 0..=20 {
            for n in 0..=20 {
                for &k in &ks {
                    case(&mut rng, ta, tb, m, n, k, 1.0, 0.0, 0);
                }
            }
        }
    }
}

#[test]
fn every_k_up_to_20_strided_with_beta() {
    let mut rng = Lcg(2);
    for (ta, tb) in ALL {
        for k in 0..=20 {
            for &(m, n) in &[(1, 1), (5, 13), (13, 5), (20, 20), (7, 17)] {
                case(&mut rng, ta, tb, m, n, k, 2.0, 0.0, 3);
                case(&mut rng, ta, tb, m, n, k, -1.0, 3.0, 1);
                case(&mut rng, ta, tb, m, n, k, 1.0, 1.0, 0);
            }
        }
    }
}

#[test]
fn primes_and_multiples_of_7_cross_blocks() {
    // 131 > MC-row blocks of several MR panels, 410 and 530 > KC (400): the k-split (β applied once,
    // then accumulation) and balanced blocking both run. Small operands take the direct
    // (unpacked) paths, the larger ones (131×300, 150×260) the packed ones.
    let mut rng = Lcg(3);
    let sizes = [31, 67, 97, 131, 7, 14, 21, 28, 49];
    for (ta, tb) in ALL {
        for &m in &sizes {
            for &n in &[31, 7, 97] {
                for &k in &[31, 410] {
                    case(&mut rng, ta, tb, m, n, k, 1.0, 0.0, 2);
                }
            }
        }
        case(&mut rng, ta, tb, 140, 70, 530, 1.0, -2.0, 5);
        // Operands too large to be read in place (kc·ld > 32 Ki floats): packed A and B,
        // with edge panels in both.
        case(&mut rng, ta, tb, 37, 150, 260, 1.0, 0.0, 1);
        case(&mut rng, ta, tb, 150, 37, 260, -1.0, 2.0, 0);
        case(&mut rng, ta, tb, 33, 129, 784, 1.0, 0.0, 0);
    }
}

#[test]
fn fractional_alpha_beta_within_tolerance() {
    let mut rng = Lcg(4);
    for (ta, tb) in ALL {
        for &(m, n, k) in &[(1, 1, 1), (6, 9, 13), (32, 10, 128), (19, 23, 300), (64, 64, 64)] {
            case(&mut rng, ta, tb, m, n, k, 0.37, 0.0, 1);
            case(&mut rng, ta, tb, m, n, k, -1.5, 0.25, 0);
            case(&mut rng, ta, tb, m, n, k, 0.1, -0.7, 2);
        }
    }
}

#[test]
fn alpha_zero_or_k_zero_scales_c_without_reading_ab() {
    // A and B are all NaN: with α = 0 or k = 0 they must not be read.
    let (m, n) = (5, 7);
    let a = vec![f32::NAN; 64];
    let b = vec![f32::NAN; 64];
    let mut c = vec![2.0f32; m * n];
    sgemm(Trans::N, Trans::N, m, n, 3, 0.0, &a, 3, &b, n, 1.5, &mut c, n);
    assert!(c.iter().all(|&x| x == 3.0));
    let mut c = vec![f32::NAN; m * n];
    sgemm(Trans::T, Trans::T, m, n, 0, 1.0, &[], 5, &[], 1, 0.0, &mut c, n);
    assert!(c.iter().all(|&x| x == 0.0));
}

#[test]
fn deterministic_across_calls() {
    // The same inputs give bit-identical results, also after a call with other shapes that
    // grew the packing buffers in between.
    let mut rng = Lcg(5);
    let (m, n, k) = (37, 53, 301);
    let a: Vec<f32> = (0..m * k).map(|_| rng.int() * 0.13).collect();
    let b: Vec<f32> = (0..k * n).map(|_| rng.int() * 0.29).collect();
    let mut c1 = vec![0.0; m * n];
    sgemm(Trans::N, Trans::N, m, n, k, 1.0, &a, k, &b, n, 0.0, &mut c1, n);
    let big: Vec<f32> = vec![1.0; 300 * 300];
    let mut cbig = vec![0.0; 300 * 300];
    sgemm(Trans::N, Trans::T, 300, 300, 300, 1.0, &big, 300, &big, 300, 0.0, &mut cbig, 300);
    assert!(cbig.iter().all(|&x| x == 300.0));
    let mut c2 = vec![0.0; m * n];
    sgemm(Trans::N, Trans::N, m, n, k, 1.0, &a, k, &b, n, 0.0, &mut c2, n);
    assert_eq!(c1, c2);
}
