// BatchNormalization, the way Ioffe & Szegedy (2015, Algorithm 1 and §3) and Keras 3
// (keras/src/layers/normalization/batch_normalization.py) write it; f64 throughout.
//
// x is (batch, f) row-major; per feature j:
//   training:  μ = (1/N) Σ_i x_ij;  σ² = (1/N) Σ_i (x_ij − μ)²   (biased, Keras's ops.moments)
//              x̂ = (x − μ)/sqrt(σ² + ε);  y = γ·x̂ + β
//              moving_mean ← moving_mean·momentum + μ·(1 − momentum)
//              moving_var  ← moving_var·momentum + σ²·(1 − momentum)   (biased σ², Keras 3)
//   inference: y = γ·(x − moving_mean)/sqrt(moving_var + ε) + β
// γ ≡ 1 without scale (gOffset < 0), β ≡ 0 without center (bOffset < 0).

export interface BnShape { batch: number; f: number; epsilon: number }

export interface BnTrainTrace { xhat: Float64Array; mean: Float64Array; variance: Float64Array }

export function bnForwardTrain(
  x: ArrayLike<number>, params: ArrayLike<number>, gOffset: number, bOffset: number, s: BnShape,
  y: Float64Array,
): BnTrainTrace {
  const { batch: N, f, epsilon } = s;
  const mean = new Float64Array(f), variance = new Float64Array(f), xhat = new Float64Array(N * f);
  for (let j = 0; j < f; j++) {
    let m = 0;
    for (let i = 0; i < N; i++) m += x[i * f + j];
    m /= N;
    let v = 0;
    for (let i = 0; i < N; i++) { const d = x[i * f + j] - m; v += d * d; }
    v /= N;
    mean[j] = m; variance[j] = v;
    const sd = Math.sqrt(v + epsilon);
    const g = gOffset >= 0 ? params[gOffset + j] : 1, b = bOffset >= 0 ? params[bOffset + j] : 0;
    for (let i = 0; i < N; i++) {
      const h = (x[i * f + j] - m) / sd;
      xhat[i * f + j] = h;
      y[i * f + j] = g * h + b;
    }
  }
  return { xhat, mean, variance };
}

export function bnForwardInfer(
  x: ArrayLike<number>, params: ArrayLike<number>, gOffset: number, bOffset: number, movingOffset: number,
  s: BnShape, y: Float64Array,
): void {
  const { batch: N, f, epsilon } = s;
  for (let j = 0; j < f; j++) {
    const mm = params[movingOffset + j], mv = params[movingOffset + f + j];
    const g = gOffset >= 0 ? params[gOffset + j] : 1, b = bOffset >= 0 ? params[bOffset + j] : 0;
    const sd = Math.sqrt(mv + epsilon);
    for (let i = 0; i < N; i++) y[i * f + j] = (g * (x[i * f + j] - mm)) / sd + b;
  }
}

/**
 * Training-mode backward, the paper's chain rule step by step (a different route from the
 * kernel's closed form, so the two check each other). dy = dL/dy (batch, f); x the forward input.
 *   forward `y = γ·x̂ + β`          ⇒ dγ = Σ_i dy·x̂,  dβ = Σ_i dy,  dx̂ = dy·γ
 *   forward `x̂ = (x − μ)(σ² + ε)^(−1/2)`
 *                                  ⇒ dσ² = Σ_i dx̂·(x − μ)·(−1/2)(σ² + ε)^(−3/2)
 *                                    dμ  = Σ_i −dx̂·(σ² + ε)^(−1/2) + dσ²·Σ_i −2(x − μ)/N
 *   forward `σ² = (1/N)Σ(x − μ)²`, `μ = (1/N)Σx`
 *                                  ⇒ dx = dx̂·(σ² + ε)^(−1/2) + dσ²·2(x − μ)/N + dμ/N
 * dGamma/dBeta may be null (parameter off); dx null for the first layer.
 */
export function bnBackward(
  x: ArrayLike<number>, params: ArrayLike<number>, gOffset: number, s: BnShape, t: BnTrainTrace,
  dy: Float64Array, dGamma: Float64Array | null, dBeta: Float64Array | null, dx: Float64Array | null,
): void {
  const { batch: N, f, epsilon } = s;
  for (let j = 0; j < f; j++) {
    const g = gOffset >= 0 ? params[gOffset + j] : 1;
    const m = t.mean[j], ve = t.variance[j] + epsilon;
    let sg = 0, sb = 0;
    for (let i = 0; i < N; i++) { sg += dy[i * f + j] * t.xhat[i * f + j]; sb += dy[i * f + j]; }
    if (dGamma) dGamma[j] = sg;
    if (dBeta) dBeta[j] = sb;
    if (!dx) continue;
    let dvar = 0, dmean = 0, sumDev = 0;
    for (let i = 0; i < N; i++) {
      const dxh = dy[i * f + j] * g;
      dvar += dxh * (x[i * f + j] - m) * -0.5 * ve ** -1.5;
      dmean += -dxh / Math.sqrt(ve);
      sumDev += -2 * (x[i * f + j] - m);
    }
    dmean += (dvar * sumDev) / N;
    for (let i = 0; i < N; i++) {
      const dxh = dy[i * f + j] * g;
      dx[i * f + j] = dxh / Math.sqrt(ve) + (dvar * 2 * (x[i * f + j] - m)) / N + dmean / N;
    }
  }
}
