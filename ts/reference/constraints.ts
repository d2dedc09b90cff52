// Weight constraints after each update, Keras 3's equations (keras/src/constraints/constraints.py),
// in f64 with one rounding to f32 per weight. A tensor is (rows, cols) row-major; norms run over
// axis 0 (one per column): a kernel W (in, units) is (in, units), a bias (units) is (units, 1).
// ε = 1e-7 (Keras's backend.epsilon()).
//   max_norm:      w · clip(n, 0, max)/(ε + n)
//   non_neg:       w · (w ≥ 0)
//   unit_norm:     w/(ε + n)
//   min_max_norm:  w · (rate·clip(n, min, max) + (1 − rate)·n)/(ε + n)
//   min_max_value: clip(w, min, max)          (gradguard's own; NaN stays NaN)
import type { ConstraintSpec } from '../backend/types.js';

const EPS = 1e-7;

export function applyConstraint(
  c: ConstraintSpec | null | undefined, p: Float32Array, offset: number, rows: number, cols: number,
): void {
  if (!c || c.kind === 'none') return;
  const n = rows * cols;
  if (c.kind === 'non_neg') {
    for (let k = offset; k < offset + n; k++) if (p[k] < 0) p[k] = 0;
    return;
  }
  if (c.kind === 'min_max_value') {
    for (let k = offset; k < offset + n; k++) p[k] = Math.min(Math.max(p[k], c.minValue), c.maxValue);
    return;
  }
  for (let j = 0; j < cols; j++) {
    let ss = 0;
    for (let i = 0; i < rows; i++) ss += p[offset + i * cols + j] ** 2;
    const norm = Math.sqrt(ss);
    const desired = c.kind === 'max_norm' ? Math.min(Math.max(norm, 0), c.maxValue)
      : c.kind === 'unit_norm' ? 1
      : c.rate * Math.min(Math.max(norm, c.minValue), c.maxValue) + (1 - c.rate) * norm;
    for (let i = 0; i < rows; i++) {
      const k = offset + i * cols + j;
      p[k] = (p[k] * desired) / (EPS + norm);
    }
  }
}
