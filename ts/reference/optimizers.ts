// Gradient clipping and the optimizer updates, as Keras 3 writes them.
//
// Sources (Keras 3, keras/src/optimizers/): base_optimizer.py (`_backend_apply_gradients`: clip the
// gradients, then apply weight decay, then `update_step`; `_clip_gradients`, `_clip_by_norm`,
// `clip_by_global_norm`, `_apply_weight_decay`), sgd.py, rmsprop.py, adagrad.py, adam.py, adamw.py.
// `t` below is the 1-based step number (Keras's `iterations + 1`).
//
//   clipnorm c (each tensor):  g ← g·c / max(‖g‖, c)
//   global_clipnorm c:         g ← g·c·min(1/‖G‖, 1/c)   (‖G‖ over all tensors)
//   (a non-finite norm leaves g unchanged here and in the kernel; see clipGradients)
//   clipvalue c:               g ← clip(g, −c, c)
//   weight decay λ (any optimizer with λ > 0, decoupled, before the update): θ ← θ − θ·λ·lr
//
//   SGD, momentum μ = 0:  θ ← θ − lr·g
//   SGD, μ > 0:           v ← μ·v − lr·g;  θ ← θ + v                 (Nesterov: θ ← θ + μ·v − lr·g)
//   RMSprop:              s ← ρ·s + (1−ρ)·g²;  Δ = lr·g / sqrt(s + ε)
//                         μ = 0: θ ← θ − Δ;   μ > 0: v ← μ·v + Δ;  θ ← θ − v
//   Adagrad:              s ← s + g² (s₀ = initial_accumulator_value);  θ ← θ − lr·g / sqrt(s + ε)
//   Adam:                 α = lr·sqrt(1 − β₂ᵗ)/(1 − β₁ᵗ);  m ← m + (g − m)(1 − β₁);  v ← v + (g² − v)(1 − β₂)
//                         θ ← θ − α·m / (sqrt(v) + ε)
//   AdamW:                Adam with weight decay λ (Keras default 0.004)
//
// Where PyTorch (torch/optim/*.py) differs, for anyone comparing runs:
//   SGD:     buf ← μ·buf + g;  θ ← θ − lr·buf (Nesterov: θ ← θ − lr·(g + μ·buf)); identical to Keras for
//            a constant lr, different once lr changes mid-run (Keras's v already holds lr).
//   RMSprop: ε outside the root (θ ← θ − lr·g/(sqrt(s) + ε)), ε = 1e-8, ρ ("alpha") = 0.99.
//   Adagrad: ε outside the root, ε = 1e-10, s₀ = 0.
//   Adam:    θ ← θ − lr·m̂/(sqrt(v̂) + ε) with m̂, v̂ bias-corrected; equal to Keras's form with
//            Keras ε = torch ε·sqrt(1 − β₂ᵗ); torch ε = 1e-8, Keras 1e-7.
//   AdamW:   same decoupled decay θ ← θ(1 − lr·λ) before the step; torch's default λ = 0.01.
//   Clipping: torch.nn.utils.clip_grad_norm_ scales by c/(‖G‖ + 1e-6) when ‖G‖ > c.
//
// Storage: parameters, gradients and state are f32 regions (like the kernel); every update is
// computed in f64 from the stored values and rounded once when stored. Slots are stored
// flush-to-zero, as in the kernel (crates/kernel/src/optim.rs): a slot value that rounds to an
// f32 subnormal is stored as 0, and the step reads the stored value. TensorFlow's CPU kernels
// flush the same values (they run with FTZ set); in wasm subnormals cost a microcode assist each.

import type { OptimizerConfig } from '../backend/types.js';

export interface Tensor { offset: number; length: number }

function norm(v: ArrayLike<number>, offset: number, length: number): number {
  let s = 0;
  for (let i = offset; i < offset + length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** The L2 norm of all tensors together. */
export function globalNorm(g: ArrayLike<number>, tensors: readonly Tensor[]): number {
  let s = 0;
  for (const t of tensors) { const n = norm(g, t.offset, t.length); s += n * n; }
  return Math.sqrt(s);
}

/**
 * Clips g (the flat gradient region, in place) as the config says. Returns true when clipping
 * changed the gradients (some norm above its bound, or some |g| above clipvalue).
 *
 * One deliberate difference from Keras, shared with the kernel (crates/kernel/src/clip.rs): when a
 * norm is Inf/NaN the gradients are left as they are (Keras turns them all into NaN for
 * global_clipnorm), so the health statistics still show where the non-finite values are.
 */
export function clipGradients(
  g: Float32Array, tensors: readonly Tensor[], cfg: OptimizerConfig,
): boolean {
  let clipped = false;
  if (cfg.clipNorm > 0) {
    const c = cfg.clipNorm;
    for (const t of tensors) {
      const n = norm(g, t.offset, t.length);
      // g·c/max(‖g‖, c) changes g only when ‖g‖ > c.
      if (Number.isFinite(n) && n > c) {
        clipped = true;
        for (let i = t.offset; i < t.offset + t.length; i++) g[i] = (g[i] * c) / n;
      }
    }
  } else if (cfg.globalClipNorm > 0) {
    const c = cfg.globalClipNorm;
    const n = globalNorm(g, tensors);
    // g·c·min(1/‖G‖, 1/c) changes g only when ‖G‖ > c.
    if (Number.isFinite(n) && n > c) {
      clipped = true;
      for (const t of tensors) for (let i = t.offset; i < t.offset + t.length; i++) g[i] = (g[i] * c) / n;
    }
  } else if (cfg.clipValue > 0) {
    const c = cfg.clipValue;
    for (const t of tensors) {
      for (let i = t.offset; i < t.offset + t.length; i++) {
        if (Math.abs(g[i]) > c) clipped = true;
        g[i] = Math.min(Math.max(g[i], -c), c); // NaN stays NaN
      }
    }
  }
  return clipped;
}

const f32 = Math.fround;
/** The smallest normal f32, 2⁻¹²⁶. */
const F32_MIN_NORMAL = 2 ** -126;
/** A slot's stored value: x rounded to f32, 0 if that is subnormal (flush-to-zero). */
const slot = (x: number): number => { const r = f32(x); return Math.abs(r) < F32_MIN_NORMAL ? 0 : r; };

/** Optimizer state over a flat parameter region: slots are f32 (paramCount each). */
export class OptimizerState {
  readonly config: OptimizerConfig;
  /** Completed update steps (Keras's `iterations`). */
  step = 0;
  learningRate: number;
  /** sgd: velocity v; rmsprop: s (and momentum v); adagrad: s; adam/adamw: m and v. */
  readonly slot1: Float32Array;
  readonly slot2: Float32Array;

  constructor(config: OptimizerConfig, paramCount: number) {
    this.config = { ...config };
    this.learningRate = config.learningRate;
    this.slot1 = new Float32Array(paramCount);
    this.slot2 = new Float32Array(paramCount);
    if (config.kind === 'adagrad') this.slot1.fill(config.initialAccumulatorValue);
  }

  /** One update θ ← update(θ, g) over every parameter; g is the (already clipped) gradient. */
  apply(params: Float32Array, grads: Float32Array): void {
    const c = this.config;
    const lr = this.learningRate;
    const t = this.step + 1;
    const wd = c.weightDecay;
    const s1 = this.slot1; const s2 = this.slot2;
    // Adam's step size α = lr·sqrt(1 − β₂ᵗ)/(1 − β₁ᵗ), the bias corrections folded in.
    const alpha = lr * Math.sqrt(1 - c.beta2 ** t) / (1 - c.beta1 ** t);
    for (let i = 0; i < params.length; i++) {
      const g = grads[i];
      let p = params[i];
      if (wd > 0) p = p - p * wd * lr; // decoupled weight decay, before update_step
      switch (c.kind) {
        case 'sgd':
          if (c.momentum !== 0) {
            const v = (s1[i] = slot(c.momentum * s1[i] - lr * g));
            p = c.nesterov ? p + c.momentum * v - lr * g : p + v;
          } else {
            p = p - lr * g;
          }
          break;
        case 'rmsprop': {
          const s = (s1[i] = slot(c.rho * s1[i] + (1 - c.rho) * g * g));
          const increment = (lr * g) / Math.sqrt(s + c.epsilon);
          if (c.momentum > 0) {
            const v = (s2[i] = slot(c.momentum * s2[i] + increment));
            p = p - v;
          } else {
            p = p - increment;
          }
          break;
        }
        case 'adagrad': {
          const s = (s1[i] = slot(s1[i] + g * g));
          p = p - (lr * g) / Math.sqrt(s + c.epsilon);
          break;
        }
        case 'adam':
        case 'adamw': {
          const m = (s1[i] = slot(s1[i] + (g - s1[i]) * (1 - c.beta1)));
          const v = (s2[i] = slot(s2[i] + (g * g - s2[i]) * (1 - c.beta2)));
          p = p - (alpha * m) / (Math.sqrt(v) + c.epsilon);
          break;
        }
      }
      params[i] = p;
    }
    this.step = t;
  }
}
