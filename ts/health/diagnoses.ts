// The diagnoses the health monitor can make: their types, plain-words explanations and ranked
// remedies, plus the two checks that run before training (loss/activation pairing at compile
// time, input scaling before fit). Rules and thresholds live in thresholds.ts; the per-step
// logic in monitor.ts.

import type { ActivationName, LossName, ModelSpec } from '../backend/types.js';
import { DEFAULT_THRESHOLDS, RULE_SOURCES, type HealthThresholds } from './thresholds.js';

export const DIAGNOSIS_KINDS = [
  'vanishing_gradients', 'exploding_gradients', 'non_finite', 'dying_relu', 'saturated_units',
  'learning_rate_too_high', 'learning_rate_too_low', 'loss_diverging', 'loss_oscillating',
  'loss_plateau', 'unnormalized_inputs', 'poor_initialization', 'loss_activation_mismatch',
] as const;
export type DiagnosisKind = (typeof DIAGNOSIS_KINDS)[number];

/** info: worth knowing; warning: training is likely hurt; critical: training cannot work as set up. */
export type Severity = 'info' | 'warning' | 'critical';

export const REMEDY_KINDS = [
  'learning_rate', 'lr_schedule', 'optimizer', 'batch_normalization', 'clip_gradients',
  'clip_weights', 'initialization', 'activation', 'normalize_inputs', 'loss',
] as const;
export type RemedyKind = (typeof REMEDY_KINDS)[number];

export interface Remedy {
  kind: RemedyKind;
  /** What to do, in words. */
  action: string;
  /** The concrete option to set, e.g. { setting: 'optimizer.globalClipnorm', value: 1 }. */
  setting: string;
  value: number | string | boolean;
}

export interface Diagnosis {
  kind: DiagnosisKind;
  severity: Severity;
  /** Layer indices (0 = first Dense layer) involved; empty for whole-model diagnoses. */
  layers: number[];
  /** Layer names when the monitor was given them (else 'dense_<i>'). */
  layerNames: string[];
  /** The training step (0-based, counting batches) at which the condition was first seen in the
   * window that made it fire; -1 for checks made before training. */
  step: number;
  /** Epoch at detection (0-based), -1 before training. */
  epoch: number;
  /** The numbers the rule looked at. */
  evidence: Record<string, number | string>;
  /** One-paragraph explanation of the likely cause. */
  explanation: string;
  /** Remedies ranked for this case, best first. */
  remedies: Remedy[];
  /** Where the rule and its threshold come from. */
  source: string;
  /** Set by fit's health record: which run made it, 0 for the first and n for the run begun by
   * the n-th repair restart (its step numbers count from fit's start again). Absent for the
   * checks of the data and the loss (unnormalized inputs, loss/activation pairing), which hold
   * for every run, and for diagnoses made outside fit's `health` option. */
  run?: number;
}

export const layerName = (names: readonly string[] | undefined, i: number): string =>
  names?.[i] ?? `dense_${i}`;

const fmt = (x: number): string =>
  !Number.isFinite(x) ? String(x) : x === 0 ? '0' : Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toPrecision(3);

// ---- remedies ---------------------------------------------------------------------------------

/** Remedies for each kind, best first; `ctx` lets a rule tailor values (e.g. the current LR). */
export interface RemedyContext {
  learningRate?: number;
  optimizer?: string;
  activation?: ActivationName;
  /** The loss blew up earlier in the run (loss_diverging fired): a plateau that follows is the
   * wreck of that blow-up, so the learning rate should go down, not up. */
  afterBlowup?: boolean;
}

const reluFamily = (a: ActivationName | undefined): boolean =>
  a === 'relu' || a === 'leaky_relu' || a === 'elu' || a === 'selu';

export function remediesFor(kind: DiagnosisKind, ctx: RemedyContext = {}): Remedy[] {
  const lr = ctx.learningRate;
  const lower = lr !== undefined ? lr / 10 : 1e-4;
  const higher = lr !== undefined ? lr * 10 : 1e-2;
  const notAdam = ctx.optimizer !== undefined && ctx.optimizer !== 'adam' && ctx.optimizer !== 'adamw';
  switch (kind) {
    case 'exploding_gradients':
      return [
        { kind: 'clip_gradients', action: 'clip the global gradient norm', setting: 'optimizer.globalClipnorm', value: 1 },
        { kind: 'learning_rate', action: 'lower the learning rate tenfold', setting: 'optimizer.learningRate', value: lower },
        { kind: 'initialization', action: 'use a variance-preserving initializer', setting: 'layer.kernelInitializer', value: reluFamily(ctx.activation) ? 'he_normal' : 'glorot_uniform' },
        { kind: 'batch_normalization', action: 'add BatchNormalization after the dense layers', setting: 'layers', value: 'batchNormalization()' },
        { kind: 'clip_weights', action: 'constrain weight norms', setting: 'layer.kernelConstraint', value: 'maxNorm(3)' },
      ];
    case 'non_finite':
      return [
        { kind: 'learning_rate', action: 'lower the learning rate tenfold and restart from the last good weights', setting: 'optimizer.learningRate', value: lower },
        { kind: 'clip_gradients', action: 'clip the global gradient norm', setting: 'optimizer.globalClipnorm', value: 1 },
        { kind: 'normalize_inputs', action: 'check the inputs are finite and scaled to about [0, 1]', setting: 'x', value: 'x / max|x|' },
        { kind: 'initialization', action: 'use a variance-preserving initializer', setting: 'layer.kernelInitializer', value: 'glorot_uniform' },
      ];
    case 'vanishing_gradients':
      return [
        { kind: 'activation', action: 'replace sigmoid/tanh hidden activations by ReLU-family ones', setting: 'layer.activation', value: 'relu' },
        { kind: 'initialization', action: 'use He initialization with ReLU (Glorot with tanh)', setting: 'layer.kernelInitializer', value: 'he_normal' },
        { kind: 'batch_normalization', action: 'add BatchNormalization after the dense layers', setting: 'layers', value: 'batchNormalization()' },
        { kind: 'optimizer', action: 'use an adaptive optimizer (per-parameter step sizes)', setting: 'compile.optimizer', value: 'adam' },
        { kind: 'learning_rate', action: 'raise the learning rate', setting: 'optimizer.learningRate', value: higher },
      ];
    case 'dying_relu':
      return [
        { kind: 'activation', action: 'use leaky ReLU or ELU, whose gradient is never exactly zero', setting: 'layer.activation', value: 'leaky_relu' },
        { kind: 'learning_rate', action: 'lower the learning rate (large steps push units negative for good)', setting: 'optimizer.learningRate', value: lower },
        { kind: 'initialization', action: 'use He initialization and zero biases', setting: 'layer.kernelInitializer', value: 'he_normal' },
        { kind: 'batch_normalization', action: 'add BatchNormalization before the ReLU layers', setting: 'layers', value: 'batchNormalization()' },
      ];
    case 'saturated_units':
      return [
        { kind: 'initialization', action: 'use Glorot initialization (smaller weights keep |z| < 5)', setting: 'layer.kernelInitializer', value: 'glorot_uniform' },
        { kind: 'activation', action: 'use ReLU-family hidden activations', setting: 'layer.activation', value: 'relu' },
        { kind: 'batch_normalization', action: 'add BatchNormalization before the activations', setting: 'layers', value: 'batchNormalization()' },
        { kind: 'normalize_inputs', action: 'scale the inputs to about [0, 1] or unit variance', setting: 'x', value: '(x - mean) / std' },
        { kind: 'learning_rate', action: 'lower the learning rate', setting: 'optimizer.learningRate', value: lower },
      ];
    case 'learning_rate_too_high':
    case 'loss_diverging':
      return [
        { kind: 'learning_rate', action: 'lower the learning rate tenfold', setting: 'optimizer.learningRate', value: lower },
        { kind: 'lr_schedule', action: 'reduce the learning rate when the loss stops improving', setting: 'callbacks', value: 'reduceLROnPlateau({ factor: 0.5, patience: 2 })' },
        { kind: 'clip_gradients', action: 'clip the global gradient norm', setting: 'optimizer.globalClipnorm', value: 1 },
        { kind: 'optimizer', action: 'use Adam, which bounds each step near the learning rate', setting: 'compile.optimizer', value: 'adam' },
      ];
    case 'learning_rate_too_low':
      return [
        { kind: 'learning_rate', action: 'raise the learning rate tenfold', setting: 'optimizer.learningRate', value: higher },
        { kind: 'optimizer', action: 'use an adaptive optimizer', setting: 'compile.optimizer', value: 'adam' },
        { kind: 'lr_schedule', action: 'warm up to a larger rate, then decay', setting: 'schedule', value: 'cosineDecay({ warmupTarget, warmupSteps })' },
      ];
    case 'loss_oscillating':
      return [
        { kind: 'learning_rate', action: 'lower the learning rate', setting: 'optimizer.learningRate', value: lower },
        { kind: 'lr_schedule', action: 'decay the learning rate over training', setting: 'schedule', value: 'exponentialDecay({ decayRate: 0.5 })' },
        { kind: notAdam ? 'optimizer' : 'clip_gradients', action: notAdam ? 'use Adam (momentum smooths the steps)' : 'clip the global gradient norm', setting: notAdam ? 'compile.optimizer' : 'optimizer.globalClipnorm', value: notAdam ? 'adam' : 1 },
        { kind: 'batch_normalization', action: 'add BatchNormalization', setting: 'layers', value: 'batchNormalization()' },
      ];
    case 'loss_plateau':
      return [
        ctx.afterBlowup
          ? { kind: 'learning_rate', action: 'lower the learning rate tenfold (the loss blew up before it stalled) and restart', setting: 'optimizer.learningRate', value: lower }
          : { kind: 'learning_rate', action: 'raise the learning rate (or lower it if the loss is noisy)', setting: 'optimizer.learningRate', value: higher },
        { kind: 'optimizer', action: 'use an adaptive optimizer', setting: 'compile.optimizer', value: 'adam' },
        { kind: 'initialization', action: 'restart from a variance-preserving initialization', setting: 'layer.kernelInitializer', value: 'he_normal' },
        { kind: 'batch_normalization', action: 'add BatchNormalization', setting: 'layers', value: 'batchNormalization()' },
      ];
    case 'unnormalized_inputs':
      return [
        { kind: 'normalize_inputs', action: 'scale inputs to [0, 1] (e.g. divide pixels by 255) or standardize each feature', setting: 'x', value: '(x - mean) / std' },
        { kind: 'batch_normalization', action: 'add BatchNormalization as the first layer', setting: 'layers', value: 'batchNormalization()' },
        { kind: 'learning_rate', action: 'lower the learning rate', setting: 'optimizer.learningRate', value: lower },
      ];
    case 'poor_initialization':
      return [
        { kind: 'initialization', action: 'use He initialization for ReLU layers, Glorot for sigmoid/tanh/linear', setting: 'layer.kernelInitializer', value: reluFamily(ctx.activation) ? 'he_normal' : 'glorot_uniform' },
        { kind: 'batch_normalization', action: 'add BatchNormalization after the dense layers', setting: 'layers', value: 'batchNormalization()' },
        { kind: 'clip_gradients', action: 'clip the global gradient norm while the weights settle', setting: 'optimizer.globalClipnorm', value: 1 },
      ];
    case 'loss_activation_mismatch':
      return [
        { kind: 'loss', action: 'pair the loss with the output activation (see the explanation)', setting: 'compile.loss', value: 'see explanation' },
        { kind: 'activation', action: 'change the last layer\'s activation to match the loss', setting: 'layer.activation', value: 'softmax' },
      ];
  }
}

export function makeDiagnosis(
  kind: DiagnosisKind, severity: Severity, fields: {
    layers?: number[]; layerNames?: readonly string[]; step: number; epoch: number;
    evidence: Record<string, number | string>; explanation: string; remedies?: Remedy[];
    ctx?: RemedyContext;
  },
): Diagnosis {
  const layers = fields.layers ?? [];
  return {
    kind, severity, layers,
    layerNames: layers.map((i) => layerName(fields.layerNames, i)),
    step: fields.step, epoch: fields.epoch, evidence: fields.evidence,
    explanation: fields.explanation,
    remedies: fields.remedies ?? remediesFor(kind, fields.ctx),
    source: RULE_SOURCES[kind],
  };
}

/** One line + explanation + best remedy, for policy 'warn'. */
export function formatDiagnosis(d: Diagnosis): string {
  const where = d.layerNames.length ? ` in ${d.layerNames.join(', ')}` : '';
  const when = d.step >= 0 ? ` from step ${d.step} (epoch ${d.epoch + 1})` : ' before training';
  const ev = Object.entries(d.evidence).map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : v}`).join(', ');
  const r = d.remedies[0];
  const fix = r ? `\n  try: ${r.action} (${r.setting} = ${String(r.value)})` : '';
  return `[gradguard ${d.severity}] ${d.kind.replace(/_/g, ' ')}${where}${when}: ${ev}\n  ${d.explanation}${fix}`;
}

export { fmt as formatNumber };

// ---- compile-time check: loss/activation pairing ------------------------------------------------

/**
 * Checks that the last layer's activation suits the loss. Returns the mismatches found (empty when
 * the pairing is sound). Pure: the model layer calls it from compile() and decides whether to warn.
 */
export function checkLossActivation(spec: ModelSpec, layerNames?: readonly string[]): Diagnosis[] {
  const L = spec.layers.length;
  if (L === 0) return [];
  const last = spec.layers[L - 1]!;
  const act = last.activation;
  const units = last.units;
  const loss: LossName = spec.loss;
  const out: Diagnosis[] = [];
  const add = (severity: Severity, explanation: string, lossFix: string, actFix: string) => {
    out.push(makeDiagnosis('loss_activation_mismatch', severity, {
      layers: [L - 1], layerNames, step: -1, epoch: -1,
      evidence: { loss, activation: act, units, fromLogits: String(spec.fromLogits) },
      explanation,
      remedies: [
        { kind: 'loss', action: `use ${lossFix}`, setting: 'compile.loss', value: lossFix },
        { kind: 'activation', action: `use ${actFix} on the last layer`, setting: 'layer.activation', value: actFix },
      ],
    }));
  };
  const isCE = loss === 'sparse_categorical_crossentropy' || loss === 'categorical_crossentropy';
  if (isCE) {
    if (units === 1) {
      add('critical', `${loss} over a single output unit has one class only: the loss is constant and nothing is learned. A yes/no problem needs binary_crossentropy with one sigmoid unit.`,
        'binary_crossentropy', 'sigmoid');
    } else if (spec.fromLogits && (act === 'softmax' || act === 'sigmoid')) {
      add('warning', `fromLogits is set, so the loss applies softmax itself, but the last layer already applies ${act}: probabilities are squashed twice and gradients shrink.`,
        `${loss} without fromLogits`, 'linear');
    } else if (!spec.fromLogits && act !== 'softmax') {
      const sev: Severity = act === 'sigmoid' ? 'warning' : 'critical';
      add(sev, `${loss} expects a probability distribution over the ${units} classes, but the last layer's ${act} output ${act === 'sigmoid' ? 'does not sum to 1' : 'is not a probability (it can be negative or above 1; the loss clips it to [1e-7, 1-1e-7] and the gradient is lost)'}. Use softmax, or a linear layer with fromLogits: true.`,
        `${loss} with fromLogits: true (and a linear last layer)`, 'softmax');
    }
  } else if (loss === 'binary_crossentropy') {
    if (act === 'softmax' && !spec.fromLogits) {
      add(units === 1 ? 'critical' : 'warning', units === 1
        ? 'softmax over a single unit always outputs 1, so binary cross-entropy cannot learn anything. Use one sigmoid unit.'
        : 'binary_crossentropy treats each output as an independent probability, but softmax ties the outputs together (they sum to 1). Use sigmoid for multi-label outputs, or categorical_crossentropy with softmax for one-of-N classes.',
        'categorical_crossentropy (one class per sample) or keep binary with sigmoid', 'sigmoid');
    } else if (spec.fromLogits && (act === 'sigmoid' || act === 'softmax')) {
      add('warning', `fromLogits is set, so the loss applies sigmoid itself, but the last layer already applies ${act}: outputs are squashed twice.`,
        'binary_crossentropy without fromLogits', 'linear');
    } else if (!spec.fromLogits && act !== 'sigmoid') {
      add('critical', `binary_crossentropy expects probabilities in (0, 1), but the last layer's ${act} output is not one: values outside are clipped to [1e-7, 1-1e-7] and their gradient is lost. Use sigmoid, or a linear layer with fromLogits: true.`,
        'binary_crossentropy with fromLogits: true (and a linear last layer)', 'sigmoid');
    }
  } else if (loss === 'mean_squared_error' && act === 'softmax' && units === 1) {
    add('critical', 'softmax over a single unit always outputs 1: the prediction cannot change. Use a linear (regression) or sigmoid output.',
      'mean_squared_error', 'linear');
  }
  // Softmax anywhere but the output is almost always a mistake in an MLP (it couples units).
  for (let l = 0; l < L - 1; l++) {
    if (spec.layers[l]!.activation === 'softmax') {
      out.push(makeDiagnosis('loss_activation_mismatch', 'warning', {
        layers: [l], layerNames, step: -1, epoch: -1,
        evidence: { activation: 'softmax', position: 'hidden' },
        explanation: 'softmax on a hidden layer squeezes its units into a distribution (they sum to 1), which shrinks the signal and the gradients reaching earlier layers. Use relu (or tanh) there.',
        remedies: [{ kind: 'activation', action: 'use relu on hidden layers', setting: 'layer.activation', value: 'relu' }],
      }));
    }
  }
  return out;
}

// ---- before fit: input scaling -------------------------------------------------------------------

export interface InputSummary { maxAbs: number; mean: number; std: number; nonFinite: number; count: number }

/** Summary of x (any layout) in one pass; sampled with a stride when x is large (≤ ~1e6 reads). */
export function summarizeInputs(x: ArrayLike<number>): InputSummary {
  const n = x.length;
  const stride = Math.max(1, Math.floor(n / 1_000_000));
  let maxAbs = 0; let sum = 0; let sumSq = 0; let count = 0; let nonFinite = 0;
  for (let i = 0; i < n; i += stride) {
    const v = x[i]!;
    if (!Number.isFinite(v)) { nonFinite++; continue; }
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
    sum += v; sumSq += v * v; count++;
  }
  const mean = count ? sum / count : 0;
  const std = count ? Math.sqrt(Math.max(0, sumSq / count - mean * mean)) : 0;
  return { maxAbs, mean, std, nonFinite, count };
}

/** Flags inputs whose scale will slow or destabilize training [Efficient BackProp]. */
export function checkInputs(x: ArrayLike<number>, thresholds: Partial<HealthThresholds> = {}): Diagnosis[] {
  const t = { ...DEFAULT_THRESHOLDS, ...thresholds };
  const s = summarizeInputs(x);
  const evidence = { maxAbs: s.maxAbs, mean: s.mean, std: s.std, nonFinite: s.nonFinite };
  if (s.nonFinite > 0) {
    return [makeDiagnosis('non_finite', 'critical', {
      step: -1, epoch: -1, evidence,
      explanation: `the training inputs contain ${s.nonFinite} NaN/Infinity values (in the sampled entries); every step that sees one produces a NaN loss.`,
      remedies: remediesFor('unnormalized_inputs'),
    })];
  }
  if (s.maxAbs > t.inputMaxAbs || s.std > t.inputStd || Math.abs(s.mean) > t.inputStd) {
    const pixels = s.maxAbs > 200 && s.maxAbs <= 255 ? ' (values up to 255 look like raw pixels: divide by 255)' : '';
    return [makeDiagnosis('unnormalized_inputs', 'warning', {
      step: -1, epoch: -1, evidence,
      explanation: `the inputs reach |x| = ${fmt(s.maxAbs)} with mean ${fmt(s.mean)} and std ${fmt(s.std)}${pixels}. First-layer pre-activations scale with the inputs, so sigmoid/tanh units saturate, ReLU pre-activations and gradients get large, and one learning rate cannot suit all features.`,
    })];
  }
  return [];
}
