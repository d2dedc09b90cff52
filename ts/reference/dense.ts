// The dense layer, forward and backward, written the way the formulas read (f64 throughout).
//
// Shapes (docs/abi.md): x is (m, in), W is (in, out) row-major (Keras's kernel layout,
// W[i*out + j]), b is (out), z and dz are (m, out). W and b are read from any array of numbers
// (the model's f32 parameter region, or an f64 copy in gradient checks) at an offset.

export interface DenseShape { batch: number; inSize: number; outSize: number }

/**
 * z = x·W + b:   z[r, j] = Σ_i x[r, i]·W[i, j] + b[j]    (b omitted when bOffset < 0)
 */
export function denseForward(
  x: ArrayLike<number>, params: ArrayLike<number>, wOffset: number, bOffset: number,
  shape: DenseShape, z: Float64Array,
): void {
  const { batch: m, inSize: n, outSize: k } = shape;
  // Loop order r, i, j (row of W innermost) only for memory locality; each z[r, j] still sums
  // b[j] + x[r,0]·W[0,j] + x[r,1]·W[1,j] + … in that order.
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < k; j++) z[r * k + j] = bOffset >= 0 ? params[bOffset + j] : 0;
    for (let i = 0; i < n; i++) {
      const xri = x[r * n + i];
      const w = wOffset + i * k;
      for (let j = 0; j < k; j++) z[r * k + j] += xri * params[w + j];
    }
  }
}

/**
 * Given dz = dL/dz (m, out), where L is the batch-mean loss, so that dz already carries the 1/m of
 * L = (1/m) Σ_r ℓ_r, i.e. dz[r] = (1/m)·dℓ_r/dz_r:
 *
 *   dW = dL/dW = Σ_r x_rᵀ · dz_r  =  1/m Σ_r dℓ_r/dz_r · dz_r/dW          (in, out)
 *   db = dL/db = Σ_r dz_r                                                   (out)
 *   dx = dL/dx = dz · Wᵀ                                                     (m, in), or skipped
 *
 * dW, db are overwritten (not accumulated). dx may be null (the first layer needs no dx).
 */
export function denseBackward(
  x: ArrayLike<number>, params: ArrayLike<number>, wOffset: number, shape: DenseShape,
  dz: Float64Array, dW: Float64Array, db: Float64Array | null, dx: Float64Array | null,
): void {
  const { batch: m, inSize: n, outSize: k } = shape;
  // forward: z[r, j] = Σ_i x[r, i]·W[i, j] + b[j]   ⇒  ∂z[r, j]/∂W[i, j] = x[r, i]
  // dW[i, j] = Σ_r x[r, i]·dz[r, j]   (loop order r, i, j for locality; sums run over r in order)
  dW.fill(0);
  for (let r = 0; r < m; r++) {
    for (let i = 0; i < n; i++) {
      const xri = x[r * n + i];
      for (let j = 0; j < k; j++) dW[i * k + j] += xri * dz[r * k + j];
    }
  }
  // forward: z[r, j] = … + b[j]   ⇒  ∂z[r, j]/∂b[j] = 1
  if (db) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let r = 0; r < m; r++) s += dz[r * k + j];
      db[j] = s;
    }
  }
  // forward: z[r, j] = Σ_i x[r, i]·W[i, j] + …   ⇒  ∂z[r, j]/∂x[r, i] = W[i, j]
  if (dx) {
    for (let r = 0; r < m; r++) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += dz[r * k + j] * params[wOffset + i * k + j];
        dx[r * n + i] = s;
      }
    }
  }
}
