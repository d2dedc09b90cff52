// A fixed toy classification set shared by the health tests: 3 Gaussian blobs in 5 dimensions,
// class c centred at +2 on axis c, std 0.5, every value times `scale` (scale ≫ 1 makes
// unnormalised inputs on purpose). Kept apart from gg.data.synthetic.blobs, whose centres are
// random: these tests rely on this exact, well-separated layout.
import { Rng } from '../../ts/reference/rng.js';

export function blobs(n: number, seed: number, scale = 1): { x: Float32Array; y: Int32Array } {
  const r = new Rng(seed);
  const x = new Float32Array(n * 5); const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3; y[i] = c;
    for (let k = 0; k < 5; k++) x[i * 5 + k] = scale * (0.5 * r.normal() + (k === c ? 2 : 0));
  }
  return { x, y };
}
