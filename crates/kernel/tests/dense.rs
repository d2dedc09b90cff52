//! Dense forward/backward against f64 loops on odd and prime sizes (including batch 1 and
//! in/out not dividing the SIMD width): z = x·W + b, dW = xᵀ·dz, db = Σ dz, dx = dz·Wᵀ.
//! Tolerance: sums of up to 37 products of O(1) values in f32: 1e-5 absolute + 1e-5 relative.
mod common;
use common::*;
use gradguard_kernel::activations::Act;
use gradguard_kernel::dense;

#[test]
fn forward_and_backward_match_f64_loops() {
    for &(batch, inp, out) in &[(1, 1, 1), (1, 7, 3), (5, 3, 7), (13, 37, 11), (32, 17, 10), (3, 1, 29)] {
        let x = rand_vec(batch * inp, 1.0, 1);
        let wt = rand_vec(inp * out, 1.0, 2);
        let b = rand_vec(out, 1.0, 3);
        let dz = rand_vec(batch * out, 1.0, 4);
        let mut z = vec![f32::NAN; batch * out];
        let mut a = vec![f32::NAN; batch * out];
        dense::forward(&x, &wt, &b, Act::Linear, batch, inp, out, &mut z, &mut a);
        let mut wz = vec![0.0f64; batch * out];
        for r in 0..batch {
            for j in 0..out {
                wz[r * out + j] = b[j] as f64 + (0..inp).map(|i| x[r * inp + i] as f64 * wt[i * out + j] as f64).sum::<f64>();
            }
        }
        let tag = format!("({batch},{inp},{out})");
        assert_close(&format!("z {tag}"), &z, &wz, 1e-5, 1e-5);
        assert_close(&format!("a {tag}"), &a, &wz, 1e-5, 1e-5);

        let mut dw = vec![f32::NAN; inp * out];
        let mut db = vec![f32::NAN; out];
        let mut dx = vec![f32::NAN; batch * inp];
        dense::backward(&x, &wt, &dz, batch, inp, out, &mut dw, &mut db, Some(&mut dx));
        let mut wdw = vec![0.0f64; inp * out];
        let mut wdb = vec![0.0f64; out];
        let mut wdx = vec![0.0f64; batch * inp];
        for r in 0..batch {
            for j in 0..out {
                let d = dz[r * out + j] as f64;
                wdb[j] += d;
                for i in 0..inp {
                    wdw[i * out + j] += x[r * inp + i] as f64 * d;
                    wdx[r * inp + i] += d * wt[i * out + j] as f64;
                }
            }
        }
        assert_close(&format!("dW {tag}"), &dw, &wdw, 1e-5, 1e-5);
        assert_close(&format!("db {tag}"), &db, &wdb, 1e-5, 1e-5);
        assert_close(&format!("dx {tag}"), &dx, &wdx, 1e-5, 1e-5);

        // without bias: db stays empty, z = x·W
        let mut z2 = vec![f32::NAN; batch * out];
        dense::forward(&x, &wt, &[], Act::Linear, batch, inp, out, &mut z2, &mut a);
        let wz2: Vec<f64> = wz.iter().enumerate().map(|(k, v)| v - b[k % out] as f64).collect();
        assert_close(&format!("z no bias {tag}"), &z2, &wz2, 1e-5, 1e-5);
    }
}
