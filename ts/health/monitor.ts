// The gradient-health monitor: consumes the kernel's per-step statistics (every N steps) and the
// per-epoch logs, and emits typed Diagnosis events. Pure TypeScript, no backend: the trainer feeds
// it, tests feed it synthetic sequences.
//
// How it stays quiet on healthy runs (DeepDiagnosis flagged 37 of 78 healthy MNIST models, mostly
// through a dead-ReLU rule evaluated on single batches):
//   1. no gradient/activation rule fires during the first `warmupSteps` steps;
//   2. a rule fires only when it held on ≥ persistFraction of the last persistWindow samples
//      (the smoothed-loss rules, judged every step: of the last persistWindow/lossEmaAlpha steps);
//      a rule that never had that many samples (sparse statistics, short runs) is judged at the
//      epoch's end on the ≥ persistMinSamples it has (Persistence.shortConfirmed);
//   3. the gradient-norm outlier detector is llm.c's, which keeps outliers out of its window;
//   4. each diagnosis (kind + layers) fires once per run unless re-armed (repair does that).
// Non-finite values, blow-ups against the first step and first-step checks are the exceptions:
// they are facts, not trends. The loss rules see every step's loss (observeLoss between samples).

import type { ActivationName, ModelSpec, StepStats } from '../backend/types.js';
import {
  checkInputs as checkInputsFn, checkLossActivation, makeDiagnosis, type Diagnosis,
  type DiagnosisKind, type RemedyContext, formatNumber as fmt,
} from './diagnoses.js';
import { resolveThresholds, type HealthThresholds } from './thresholds.js';

/**
 * llm.c's OutlierDetector (llmc/outlier_detector.h), transcribed: a ring of the last `window`
 * values with running sum and sum of squares in f64. update() returns the z-score of the new value
 * against the window including it, or NaN while the window is filling. When z > skipThreshold the
 * value is taken back out ("pretend this never happened", so outliers do not make the detector
 * less picky), except on the 3rd consecutive outlier, which stays (a level shift, not a spike).
 */
export class OutlierDetector {
  private readonly buf: Float64Array;
  private count = 0;
  private index = 0;
  private skippedInARow = 0;
  private sum = 0;
  private sumSq = 0;

  constructor(readonly window: number, readonly skipThreshold: number) {
    if (!Number.isInteger(window) || window < 2) throw new RangeError(`OutlierDetector: window must be an integer ≥ 2, got ${window}`);
    this.buf = new Float64Array(window);
  }

  update(value: number): number {
    const W = this.window;
    if (this.count < W) {
      this.buf[this.count] = value;
      this.sum += value; this.sumSq += value * value;
      this.skippedInARow = 0;
      this.count++;
      return NaN;
    }
    const old = this.buf[this.index]!;
    this.sum += value - old;
    this.sumSq += value * value - old * old;
    this.buf[this.index] = value;
    const pushedAt = this.index;
    this.index = (this.index + 1) % W;
    const mean = this.sum / W;
    const variance = this.sumSq / W - mean * mean;
    const sd = Math.sqrt(Math.max(0, variance));
    if (sd === 0) return 0;
    const z = (value - mean) / sd;
    if (this.skipThreshold !== 0 && z > this.skipThreshold) {
      this.skippedInARow++;
      if (this.skippedInARow < 3) {
        // Undo the push. (llm.c writes `(index - 1) % W`, which is negative in C for index 0;
        // restoring the exact slot we wrote avoids that.)
        this.sum += old - value;
        this.sumSq += old * old - value * value;
        this.buf[pushedAt] = old;
        this.index = pushedAt;
      }
    } else {
      this.skippedInARow = 0;
    }
    return z;
  }
}

/** One judged sample of a debounced rule. */
interface Judged { hit: boolean; step: number; epoch: number; warm: boolean }

/**
 * k-of-n persistence with a fallback for sparse or short runs.
 *
 * `push` keeps the last n judgements (warm-up ones included, flagged `warm`). The regular test,
 * `confirmed`, looks only at the samples after the warm-up: true once the last n of them hold
 * ≥ ceil(fraction·n) positives (with statistics every 16 steps that is ≥ 8 samples = 128 steps
 * after a 50-step warm-up, longer than a 94-step run). `shortConfirmed` is for the end of an
 * epoch when that full window never existed: the m < n samples judged so far (warm-up included)
 * count when m ≥ minSamples, ≥ ceil(fraction·m) hit, the latest hit and at least one was past the
 * warm-up (so the condition outlasted the transients the warm-up is there for).
 */
class Persistence {
  private readonly all: Judged[] = [];
  private readonly post: Judged[] = [];
  /** Everything seen past the warm-up (saturates at n: only "is the window full" matters). */
  private postSeen = 0;
  /** The evidence/explanation of the latest judgement, for a confirmation at the epoch's end. */
  last?: { evidence: () => Record<string, number | string>; explanation: () => string };
  constructor(private readonly n: number, private readonly fraction: number) {}

  push(j: Judged): void {
    this.all.push(j);
    if (this.all.length > this.n) this.all.shift();
    if (!j.warm) {
      this.post.push(j);
      if (this.post.length > this.n) this.post.shift();
      this.postSeen = Math.min(this.n, this.postSeen + 1);
    }
  }

  /** The regular test on the post-warm-up window; returns the window or null. */
  confirmed(): Judged[] | null {
    if (this.post.length < this.n) return null;
    return this.hits(this.post) >= Math.ceil(this.fraction * this.n) ? this.post : null;
  }

  /** The short-window test (see the class comment); returns the window or null. */
  shortConfirmed(minSamples: number): Judged[] | null {
    const m = this.all.length;
    if (this.postSeen >= this.n || m < Math.max(1, minSamples) || this.postSeen === 0) return null;
    if (!this.all[m - 1]!.hit) return null;
    return this.hits(this.all) >= Math.ceil(this.fraction * m) ? this.all : null;
  }

  private hits(w: Judged[]): number { return w.reduce((a, j) => a + (j.hit ? 1 : 0), 0); }

  clear(): void { this.all.length = 0; this.post.length = 0; this.postSeen = 0; }
}

export interface HealthMonitorOptions {
  /** The model's spec: lets rules know each layer's activation and sizes (recommended). */
  spec?: ModelSpec;
  layerNames?: readonly string[];
  thresholds?: Partial<HealthThresholds>;
  /** The learning rate, used to make remedies concrete (e.g. "lower lr to 1e-4"): a number, or a
   * function returning the rate in force (e.g. `() => model.optimizer.learningRate`), called only
   * when a diagnosis is built, so a rate changed mid-run by a callback, a schedule or a repair is
   * the one quoted, at no cost per step. */
  learningRate?: number | (() => number | undefined);
  optimizer?: string;
  /** Called once for each diagnosis as it fires. */
  onDiagnosis?: (d: Diagnosis) => void;
}

export interface EpochLogs {
  loss?: number;
  acc?: number;
  accuracy?: number;
  val_loss?: number;
  val_acc?: number;
  val_accuracy?: number;
  [k: string]: number | undefined;
}

/** One recorded statistics sample (the report plots these). */
export interface StatsSample { step: number; epoch: number; stats: StepStats }

const RELU_FAMILY: readonly ActivationName[] = ['relu', 'leaky_relu', 'elu', 'selu'];
const SQUASHING: readonly ActivationName[] = ['sigmoid', 'tanh'];
const WHOLE_MODEL_KINDS: ReadonlySet<DiagnosisKind> = new Set<DiagnosisKind>([
  'exploding_gradients', 'vanishing_gradients', 'non_finite', 'loss_diverging', 'loss_plateau',
  'loss_oscillating', 'learning_rate_too_high', 'learning_rate_too_low',
]);

export class HealthMonitor {
  readonly thresholds: HealthThresholds;
  /** Every diagnosis fired, in order. */
  readonly diagnoses: Diagnosis[] = [];
  /** The statistics samples seen, in order. */
  readonly samples: StatsSample[] = [];
  /** Per-epoch logs seen. */
  readonly epochs: EpochLogs[] = [];

  private readonly spec?: ModelSpec;
  private readonly layerNames?: readonly string[];
  private readonly onDiagnosis?: (d: Diagnosis) => void;
  /** Remedy context without the learning rate (read afresh per diagnosis: learningRateNow). */
  private ctx: RemedyContext;
  /** Where the quoted learning rate comes from (options.learningRate, or setLearningRate's value). */
  private lrSource: number | (() => number | undefined) | undefined;
  private readonly fired = new Set<string>();
  private readonly persist = new Map<string, { kind: DiagnosisKind; layers: number[]; severity: Diagnosis['severity']; p: Persistence }>();
  private readonly gradZ: OutlierDetector;
  private readonly lossZ: OutlierDetector;
  private readonly gradOutliers: Array<{ out: boolean; step: number; epoch: number }> = [];
  private readonly lossOutliers: Array<{ out: boolean; step: number; epoch: number }> = [];
  /** A step's loss exceeded lossBlowup × the first (kept through rearm: the epoch rule uses it). */
  private stepBlowup = false;
  /** The latest step whose loss was seen (with or without statistics). */
  private lastStep = -1;
  private lossEma = NaN;
  private bestEma = Infinity;
  private firstLoss = NaN;
  private firstEma = NaN;
  private firstGradNorm = NaN;
  private lastGradZ = NaN;
  private sawFirstSample = false;
  private initialWeightsChecked = false;
  /** (step, smoothed loss) per sample, for the plateau look-back. */
  private readonly emaHistory: Array<[number, number]> = [];

  constructor(opts: HealthMonitorOptions = {}) {
    this.thresholds = resolveThresholds(opts.thresholds);
    this.spec = opts.spec;
    this.layerNames = opts.layerNames;
    this.onDiagnosis = opts.onDiagnosis;
    this.ctx = { optimizer: opts.optimizer };
    this.lrSource = opts.learningRate;
    this.gradZ = new OutlierDetector(this.thresholds.zWindow, this.thresholds.zThreshold);
    this.lossZ = new OutlierDetector(this.thresholds.zWindow, this.thresholds.zThreshold);
  }

  /** The learning rate diagnoses quote now (undefined when none was given). */
  get learningRate(): number | undefined {
    const src = this.lrSource;
    return typeof src === 'function' ? src() : src;
  }

  /** Sets the rate quoted from now on, replacing options.learningRate (a function given there
   * already follows every change by itself: no need to call this). */
  setLearningRate(lr: number): void { this.lrSource = lr; }

  /** Allows `kind` (all kinds if omitted) to fire again, e.g. after a repair; resets its windows. */
  rearm(kind?: DiagnosisKind): void {
    for (const key of [...this.fired]) if (!kind || key.startsWith(`${kind}:`)) this.fired.delete(key);
    for (const [key, r] of this.persist) if (!kind || key.startsWith(`${kind}:`)) r.p.clear();
    if (!kind || kind === 'loss_diverging' || kind === 'loss_plateau') { this.bestEma = Infinity; this.lossEma = NaN; this.emaHistory.length = 0; }
    if (!kind || kind === 'exploding_gradients') this.gradOutliers.length = 0;
    if (!kind || kind === 'loss_diverging') this.lossOutliers.length = 0;
  }

  /** Compile-time check of the loss/activation pairing (fires through onDiagnosis too). */
  checkCompile(spec: ModelSpec = this.spec!): Diagnosis[] {
    if (!spec) return [];
    return this.emitAll(checkLossActivation(spec, this.layerNames));
  }

  /** Before-fit check of the training inputs' scale. */
  checkInputs(x: ArrayLike<number>): Diagnosis[] {
    return this.emitAll(checkInputsFn(x, this.thresholds));
  }

  /**
   * Feeds the statistics of training step `step` (0-based batch counter over the whole fit).
   * Returns the diagnoses that fired on this sample (usually none).
   */
  observeStep(step: number, stats: StepStats, epoch = 0): Diagnosis[] {
    const t = this.thresholds;
    const out: Diagnosis[] = [];
    this.samples.push({ step, epoch, stats });
    const L = stats.layers.length;
    const first = !this.sawFirstSample;
    this.sawFirstSample = true;

    // 1. Non-finite values: immediate, no debounce.
    const nfLayers: number[] = [];
    let nfAct = 0; let nfGrad = 0; let nfW = 0;
    stats.layers.forEach((ls, l) => {
      nfAct += ls.nonFiniteAct; nfGrad += ls.nonFiniteGrad; nfW += ls.nonFiniteWeight;
      if (ls.nonFiniteAct + ls.nonFiniteGrad + ls.nonFiniteWeight > 0) nfLayers.push(l);
    });
    const lossBad = stats.nonFiniteLoss || !Number.isFinite(stats.loss);
    if (lossBad || nfLayers.length > 0 || !Number.isFinite(stats.globalGradNorm)) {
      const what = [lossBad ? 'the loss' : '', nfAct ? `${nfAct} activations` : '', nfGrad ? `${nfGrad} gradient entries` : '', nfW ? `${nfW} weights` : '']
        .filter(Boolean).join(', ');
      this.fire(out, 'non_finite', 'critical', nfLayers, step, epoch,
        { loss: stats.loss, nonFiniteActivations: nfAct, nonFiniteGradients: nfGrad, nonFiniteWeights: nfW, globalGradNorm: stats.globalGradNorm },
        `NaN or Infinity appeared in ${what || 'the gradient norm'}. Usually the updates grew until a value overflowed f32 (learning rate too high, no clipping, weights initialized too large), or the inputs contain NaN. Once a weight is NaN every later step is NaN: roll back to the last good weights.`);
      return out; // nothing else is meaningful on a non-finite sample
    }

    // 2. First-sample checks: poor initialization.
    if (first && step < t.warmupSteps) this.checkInitialization(out, stats, step, epoch);

    // Loss curve state (every step's loss feeds it: observeLoss on steps without statistics).
    const loss = stats.loss;
    const lossZ = this.trackLoss(step, loss);
    const gradZ = this.gradZ.update(stats.globalGradNorm);
    this.lastGradZ = gradZ;
    if (Number.isNaN(this.firstGradNorm)) this.firstGradNorm = stats.globalGradNorm;

    // 2b. Blow-up from the very first steps (absurd learning rates explode within a few steps,
    // before any window could fill): the first sample is the reference.
    if (this.firstGradNorm > 0 && stats.globalGradNorm > t.explodingGrowth * this.firstGradNorm) {
      this.fire(out, 'exploding_gradients', 'critical', [], step, epoch,
        { globalGradNorm: stats.globalGradNorm, firstGlobalGradNorm: this.firstGradNorm, growth: stats.globalGradNorm / this.firstGradNorm, loss },
        `the global gradient norm reached ${fmt(stats.globalGradNorm)}, ${fmt(stats.globalGradNorm / this.firstGradNorm)} times its value at the first step: the updates are feeding on themselves (learning rate too high for this model, or weights too large), and the next steps can overflow to NaN or kill every ReLU unit.`);
    }

    // The rules below are judged during the warm-up too (`warm`): such judgements never fire by
    // themselves, but count in the short window an epoch's end may confirm (Persistence). The
    // first sample is the initialization, judged by checkInitialization instead.
    const warm = step < t.warmupSteps;
    if (warm && first) { this.lossRules(out, step, epoch, loss, lossZ); return out; }
    const converged = this.lossEma < t.convergedLoss;

    // 3. Vanishing / exploding by AUTOTRAINER's first/last gradient-norm ratio.
    if (L >= 2) {
      const g0 = stats.layers[0]!.gradWNorm;
      const gL = stats.layers[L - 1]!.gradWNorm;
      // Undefined when the last layer has no gradient (e.g. everything before it is dead).
      const ratio = gL > 0 ? g0 / gL : NaN;
      const norms = Object.fromEntries(stats.layers.map((ls, l) => [`gradNorm[${l}]`, ls.gradWNorm]));
      // AUTOTRAINER's rule, plus (ours) the ratio alone while the loss is stuck: a 7-layer sigmoid
      // stack on MNIST measured ratio 6e-4 with ‖dW_0‖ = 4e-4 (above AUTOTRAINER's 1e-4) and 10 % accuracy.
      const stuck = this.plateauHolds(step) !== null;
      this.rule(out, 'vanishing_gradients', [0], ratio < t.vanishingRatio && (g0 < t.vanishingFirstNorm || stuck) && !converged, step, epoch, 'warning',
        () => ({ ratio, firstLayerGradNorm: g0, lastLayerGradNorm: gL, ...norms }),
        () => `the first layer's gradient norm (${fmt(g0)}) is ${fmt(ratio)} times the last layer's (${fmt(gL)}): the error signal shrinks as it travels back through the layers${this.squashingHidden() ? ` (the hidden ${this.squashingHidden()} activations multiply it by at most ${this.squashingHidden() === 'sigmoid' ? '0.25' : '1'} per layer)` : ''}, so the early layers barely learn.`);
      this.rule(out, 'exploding_gradients', [0], ratio > t.explodingRatio, step, epoch, 'warning',
        () => ({ ratio, firstLayerGradNorm: g0, lastLayerGradNorm: gL, ...norms }),
        () => `the first layer's gradient norm (${fmt(g0)}) is ${fmt(ratio)} times the last layer's (${fmt(gL)}): the error signal grows as it travels back, so the early layers take steps far larger than the rest; large weights or an unscaled input usually cause this.`, 'ratio');
    }
    // 3b. Exploding by the llm.c z-score of the global gradient norm (a sustained level shift).
    if (!warm && !Number.isNaN(gradZ)) {
      this.gradOutliers.push({ out: gradZ > t.zThreshold, step, epoch });
      if (this.gradOutliers.length > t.persistWindow) this.gradOutliers.shift();
      const hits = this.gradOutliers.filter((o) => o.out);
      const n = hits.length;
      if (n >= t.zOutliersToFire) {
        this.fire(out, 'exploding_gradients', 'critical', [], hits[0]!.step, hits[0]!.epoch,
          { globalGradNorm: stats.globalGradNorm, zScore: gradZ, outliersInWindow: n, window: t.persistWindow, lossZScore: lossZ, confirmedAtStep: step },
          `the global gradient norm jumped to ${fmt(stats.globalGradNorm)} (z-score ${fmt(gradZ)} against the last ${t.zWindow} samples) and ${n} of the last ${this.gradOutliers.length} samples were such outliers: the updates are growing. Without clipping the next steps can overflow to NaN.`,
        );
      }
    }

    // 4. Per-layer unit health.
    const lastIdx = L - 1;
    stats.layers.forEach((ls, l) => {
      const act = this.spec?.layers[l]?.activation;
      const reluFamily = act ? RELU_FAMILY.includes(act) : ls.deadFraction > 0;
      if (reluFamily) {
        this.rule(out, 'dying_relu', [l], ls.deadFraction >= t.deadFraction, step, epoch, 'warning',
          () => ({ deadFraction: ls.deadFraction, threshold: t.deadFraction, gradNorm: ls.gradWNorm, actMean: ls.actMean }),
          () => `${Math.round(ls.deadFraction * 100)} % of ${this.name(l)}'s units output zero for every sample of the batch, persistently: their gradient is exactly zero so they cannot recover. Typical causes: a learning rate large enough to push biases/weights negative, or poor initialization.`);
      }
      const squashing = act ? SQUASHING.includes(act) : l !== lastIdx;
      if (squashing) {
        this.rule(out, 'saturated_units', [l], ls.saturatedFraction >= t.saturatedFraction, step, epoch, 'warning',
          () => ({ saturatedFraction: ls.saturatedFraction, threshold: t.saturatedFraction, preactMeanAbs: ls.preactMeanAbs, gradNorm: ls.gradWNorm }),
          () => `${Math.round(ls.saturatedFraction * 100)} % of ${this.name(l)}'s pre-activations have |z| ≥ 5, where ${act ?? 'the activation'}'s slope is below ${act === 'tanh' ? '2e-4' : '7e-3'}: little gradient passes, so this layer and the ones before it learn slowly. Weights too large for the fan-in, or unscaled inputs, push z this far.`);
      }
    });

    // 5. Learning rate by update-to-weight ratio (layers with non-zero weights only).
    // Layers whose gradient is exactly zero (dead units) say nothing about the learning rate.
    const ratios = stats.layers.filter((ls) => ls.wNorm > 0 && ls.gradWNorm > 0).map((ls) => ls.updateRatio);
    if (ratios.length > 0) {
      const minR = Math.min(...ratios); const maxR = Math.max(...ratios);
      const ev = () => ({ ...Object.fromEntries(stats.layers.map((ls, l) => [`updateRatio[${l}]`, ls.updateRatio])), healthyNear: 1e-3, learningRate: this.learningRate ?? 'unknown' });
      this.rule(out, 'learning_rate_too_high', [], minR > t.updateRatioHigh, step, epoch, 'warning', ev,
        () => `every layer's weights change by more than ${fmt(t.updateRatioHigh * 100)} % per step (‖ΔW‖/‖W‖ ≥ ${fmt(minR)}; about 1e-3 is healthy): the steps overshoot, so the loss bounces or climbs.`);
      // Zero gradients with a tiny loss are convergence, not a small learning rate.
      const idle = stats.globalGradNorm === 0 || loss < t.convergedLoss;
      this.rule(out, 'learning_rate_too_low', [], maxR < t.updateRatioLow && !converged && !idle, step, epoch, 'info', ev,
        () => `no layer's weights change by more than ${fmt(maxR)} of their norm per step (about 1e-3 is healthy): at this rate training would need thousands of times more steps.`);
    }

    // 6. Loss curve (the same rules run on the steps without statistics, in observeLoss).
    this.lossRules(out, step, epoch, loss, lossZ);
    return out;
  }

  /**
   * Whether the weights after this sample are worth keeping as a rollback point: everything
   * finite, the loss no worse than divergeFactor × the first loss, the gradient norm within 100×
   * the first one and not a z-score outlier. Call after observeStep(stats).
   */
  isGoodSample(stats: StepStats): boolean {
    const t = this.thresholds;
    if (stats.nonFiniteLoss || !Number.isFinite(stats.loss) || !Number.isFinite(stats.globalGradNorm)) return false;
    if (stats.layers.some((l) => l.nonFiniteAct + l.nonFiniteGrad + l.nonFiniteWeight > 0)) return false;
    if (stats.loss > t.divergeFactor * this.firstLoss) return false;
    if (stats.globalGradNorm > 100 * this.firstGradNorm) return false;
    return !(this.lastGradZ > t.zThreshold);
  }

  /**
   * The initial-weight scale check on the actual weights before any update (the statistics'
   * wNorm is after the first update, which a huge learning rate already distorts).
   * `weightRms[l]` is layer l's kernel RMS. Replaces the first-sample weight check.
   */
  checkInitialWeights(weightRms: readonly number[]): Diagnosis[] {
    this.initialWeightsChecked = true;
    const out: Diagnosis[] = [];
    weightRms.forEach((rms, l) => {
      const spec = this.spec?.layers[l];
      // A batchnorm layer's "weights" are γ, 1 by design (no fan-in scale to compare with).
      if (!spec || spec.kind === 'batchnorm') return;
      const p = this.weightProblem(rms, spec.inputSize, spec.units);
      if (p) {
        this.fire(out, 'poor_initialization', 'warning', [l], -1, -1, p.ev,
          `before training ${this.name(l)}: ${p.text}. A variance-preserving initializer (He for ReLU, Glorot for sigmoid/tanh) keeps signals and gradients at a steady scale through the layers.`,
          { activation: spec.activation });
      }
    });
    return out;
  }

  private weightProblem(rms: number, fanIn: number, fanOut: number): { text: string; ev: Record<string, number> } | null {
    const glorot = Math.sqrt(2 / (fanIn + fanOut));
    const he = Math.sqrt(2 / fanIn);
    // Distance in factors to the nearer of the two standard scales.
    const off = Math.min(Math.abs(Math.log(rms / glorot)), Math.abs(Math.log(rms / he)));
    const ev = { weightRms: rms, glorotStd: glorot, heStd: he };
    if (rms === 0) return { ev, text: 'all its weights are zero, so every unit computes the same thing and receives the same gradient (symmetry is never broken)' };
    if (off > Math.log(this.thresholds.initScaleFactor)) return { ev, text: `its weight RMS ${fmt(rms)} is ${rms > he ? 'far above' : 'far below'} the Glorot/He scale (${fmt(glorot)} / ${fmt(he)})` };
    return null;
  }

  /**
   * The batch loss of a step without statistics. The kernel returns every step's loss for free,
   * so the loss rules (non-finite, blow-up against the first loss, divergence from the best
   * smoothed loss, plateau, llm.c's loss z-score) run on every step, however sparse the
   * statistics are. Returns the diagnoses that fired.
   */
  observeLoss(step: number, loss: number, epoch = 0): Diagnosis[] {
    const out: Diagnosis[] = [];
    if (!Number.isFinite(loss)) {
      this.fire(out, 'non_finite', 'critical', [], step, epoch, { loss },
        `the batch loss became ${loss}. Usually the updates grew until a value overflowed f32 (learning rate too high, no clipping, weights initialized too large), or the inputs contain NaN. Once a weight is NaN every later step is NaN: roll back to the last good weights.`);
      return out;
    }
    const lossZ = this.trackLoss(step, loss);
    this.lossRules(out, step, epoch, loss, lossZ);
    return out;
  }

  /** Updates the loss-curve state with step `step`'s finite loss; returns its llm.c z-score. */
  private trackLoss(step: number, loss: number): number {
    const t = this.thresholds;
    this.lastStep = step;
    if (Number.isNaN(this.firstLoss)) this.firstLoss = loss;
    this.lossEma = Number.isNaN(this.lossEma) ? loss : this.lossEma + t.lossEmaAlpha * (loss - this.lossEma);
    if (Number.isNaN(this.firstEma)) this.firstEma = this.lossEma;
    this.emaHistory.push([step, this.lossEma]);
    if (this.emaHistory.length > 4096) this.emaHistory.splice(0, 2048);
    return this.lossZ.update(loss);
  }

  /** The loss rules, on one step's loss (after trackLoss). */
  private lossRules(out: Diagnosis[], step: number, epoch: number, loss: number, lossZ: number): void {
    const t = this.thresholds;
    // Blow-up, from the first step (no warm-up, no window): a fact, not a trend.
    if (loss > t.lossBlowup * this.firstLoss && this.firstLoss > 0) {
      this.stepBlowup = true;
      this.fire(out, 'loss_diverging', 'critical', [], step, epoch,
        { loss, firstLoss: this.firstLoss, growth: loss / this.firstLoss },
        `the loss jumped to ${fmt(loss)}, ${fmt(loss / this.firstLoss)} times its first value: the optimizer overshot far past the minimum (learning rate too high).`);
    }
    if (step < t.warmupSteps) return;
    if (this.lossEma < this.bestEma) this.bestEma = this.lossEma;
    // llm.c's loss z-score: zOutliersToFire of the last persistWindow losses scoring above
    // zThreshold against the last zWindow losses (llm.c keeps the first two of a run out of its
    // window and lets the third in: a level shift, not a spike).
    if (!Number.isNaN(lossZ)) {
      this.lossOutliers.push({ out: lossZ > t.zThreshold, step, epoch });
      if (this.lossOutliers.length > t.persistWindow) this.lossOutliers.shift();
      const hits = this.lossOutliers.filter((o) => o.out);
      if (hits.length >= t.zOutliersToFire) {
        this.fire(out, 'loss_diverging', 'critical', [], hits[0]!.step, hits[0]!.epoch,
          { loss, lossZScore: lossZ, outliersInWindow: hits.length, window: t.persistWindow, smoothedLoss: this.lossEma, bestSmoothedLoss: this.bestEma, confirmedAtStep: step },
          `the loss jumped to ${fmt(loss)} (z-score ${fmt(lossZ)} against the last ${t.zWindow} steps) and ${hits.length} of the last ${this.lossOutliers.length} steps were such outliers: the loss has shifted up, typically because the learning rate is too high for the current curvature.`);
      }
    }
    // The smoothed loss is judged on every step, and consecutive values share most of their
    // inputs (an EMA with alpha 0.1 remembers about 10 steps): persistence over persistWindow
    // steps would add nothing. The window is persistWindow EMA memories (8 × 10 = 80 steps),
    // i.e. about persistWindow independent looks, as for the statistics samples.
    const lossWindow = t.persistWindow * Math.max(1, Math.round(1 / t.lossEmaAlpha));
    // Diverging (smoothed loss well above its best). The margin has a floor of 10 % of the first
    // smoothed loss so that the noise of a nearly converged minibatch loss (best 0.02, typical
    // 0.05) cannot pass for divergence.
    const margin = (t.divergeFactor - 1) * Math.max(this.bestEma, 0.1 * this.firstEma);
    this.rule(out, 'loss_diverging', [], this.lossEma > this.bestEma + margin, step, epoch, 'critical',
      () => ({ smoothedLoss: this.lossEma, bestSmoothedLoss: this.bestEma, loss, lossZScore: lossZ }),
      () => `the smoothed loss rose to ${fmt(this.lossEma)} from a best of ${fmt(this.bestEma)}: training is moving away from the minimum, typically because the learning rate is too high for the current curvature.`,
      undefined, lossWindow);
    const plateau = this.plateauHolds(step);
    this.rule(out, 'loss_plateau', [], plateau !== null, step, epoch, 'warning',
      () => ({ smoothedLoss: this.lossEma, earlierSmoothedLoss: plateau ?? NaN, lookbackSteps: Math.round(t.plateauMinSteps / 2), firstLoss: this.firstLoss, steps: step }),
      () => `after ${step} steps the smoothed loss (${fmt(this.lossEma)}) has barely moved over the last ${Math.round(t.plateauMinSteps / 2)} steps (from ${fmt(plateau ?? NaN)}) and is still ${fmt((100 * this.lossEma) / this.firstEma)} % of where it started: the model is not learning. Vanishing gradients, saturated or dead units, or a learning rate far off are the usual causes.`,
      undefined, lossWindow);
  }

  /** Feeds the logs of a finished epoch (0-based). Returns the diagnoses that fired. */
  observeEpoch(epoch: number, logs: EpochLogs): Diagnosis[] {
    const t = this.thresholds;
    const out: Diagnosis[] = [];
    this.epochs.push({ ...logs });
    const step = this.lastStep >= 0 ? this.lastStep : this.samples.length ? this.samples[this.samples.length - 1]!.step : -1;
    if (logs.loss !== undefined && !Number.isFinite(logs.loss)) {
      this.fire(out, 'non_finite', 'critical', [], step, epoch, { epochLoss: logs.loss },
        'the epoch\'s mean loss is NaN or Infinity: the weights have gone non-finite. Roll back to the last good weights and lower the learning rate.');
      return out;
    }
    // Rules that never saw a full window (sparse statistics, short runs) are judged now.
    this.confirmShortWindows(out);

    // The epoch as a whole: a mean loss orders of magnitude above the first step's is a blow-up
    // even if it happened between two statistics samples (or the caller fed no per-step losses);
    // accuracy at chance level (1/classes) after a full epoch of at least warmupSteps steps, with
    // the loss not below half its start, is a model that learnt nothing.
    const firstLoss = Number.isFinite(this.firstLoss) ? this.firstLoss : this.epochs[0]!.loss;
    // Skipped once a step's loss blew up: the epoch mean only repeats it (and after a repair's
    // rollback the mean still carries the steps before it).
    if (!this.stepBlowup && logs.loss !== undefined && firstLoss !== undefined && firstLoss > 0 && logs.loss > t.lossBlowup * firstLoss) {
      this.fire(out, 'loss_diverging', 'critical', [], step, epoch,
        { epochLoss: logs.loss, firstLoss, growth: logs.loss / firstLoss },
        `the epoch's mean loss is ${fmt(logs.loss)}, ${fmt(logs.loss / firstLoss)} times the first step's: some steps overshot far past the minimum (learning rate too high), and the epoch's accuracy shows what is left.`);
    }
    const classes = this.classes();
    const epochAcc = logs.acc ?? logs.accuracy;
    // Not before warmupSteps steps: a few steps (a tiny dataset's first epoch) at chance is normal.
    const enoughSteps = this.lastStep < 0 || this.lastStep + 1 >= t.warmupSteps;
    if (classes >= 3 && enoughSteps && epochAcc !== undefined && Number.isFinite(epochAcc) && epochAcc < t.chanceAccuracyFactor / classes
      && (logs.loss === undefined || firstLoss === undefined || logs.loss > 0.5 * firstLoss)) {
      const blewUp = this.fired.has(this.onceKey('loss_diverging', []));
      this.fire(out, 'loss_plateau', 'warning', [], step, epoch,
        { accuracy: epochAcc, chanceAccuracy: 1 / classes, classes, epochLoss: logs.loss ?? NaN, firstLoss: firstLoss ?? NaN },
        `after a full epoch the accuracy is ${fmt(epochAcc)}, chance level for ${classes} classes (${fmt(1 / classes)}), and the loss has not fallen below half its start: the model has learnt nothing. ${blewUp
          ? 'The loss blew up earlier in the run (loss diverging): such steps typically kill the ReLU units or saturate the rest, and the model cannot recover at this learning rate.'
          : 'Dead or saturated units, a learning rate far off (too small to move, or large enough to kill the units), or mislabelled data are the usual causes.'}`,
        { afterBlowup: blewUp });
    }
    const acc = this.epochs.map((e) => e.acc ?? e.accuracy).filter((a): a is number => a !== undefined && Number.isFinite(a));
    const losses = this.epochs.map((e) => e.loss).filter((a): a is number => a !== undefined && Number.isFinite(a));

    // Oscillation, AUTOTRAINER's ol_judge on accuracy: pair up local maxima and minima; count the
    // pairs whose gap is ≥ zeta; oscillating when that count ≥ eta × number of epochs.
    if (acc.length >= t.oscillationMinEpochs && acc.length === this.epochs.length) {
      const maxima: number[] = []; const minima: number[] = [];
      for (let i = 1; i < acc.length - 1; i++) {
        if (acc[i]! >= acc[i - 1]! && acc[i]! >= acc[i + 1]!) maxima.push(acc[i]!);
        if (acc[i]! <= acc[i - 1]! && acc[i]! <= acc[i + 1]!) minima.push(acc[i]!);
      }
      let count = 0;
      for (let i = 0; i < Math.min(maxima.length, minima.length); i++) if (maxima[i]! - minima[i]! >= t.oscillationAmplitude) count++;
      if (count > 0 && count >= t.oscillationRate * acc.length) {
        this.fire(out, 'loss_oscillating', 'warning', [], step, epoch,
          { swings: count, epochs: acc.length, amplitudeThreshold: t.oscillationAmplitude, accuracy: acc.map((a) => a.toFixed(3)).join(' ') },
          `the accuracy swung up and down by ≥ ${t.oscillationAmplitude} in ${count} of ${acc.length} epochs instead of settling: the steps are too large to settle into the minimum (learning rate too high, or too small a batch for it).`);
      }
    }
    // Slow convergence, AUTOTRAINER's sc_accuracy (with the accuracy still unsatisfying).
    const k = t.plateauEpochs;
    if (acc.length > k && acc.length === this.epochs.length) {
      const recent = acc.slice(-(k + 1));
      let gain = -Infinity;
      for (let i = 1; i < recent.length; i++) gain = Math.max(gain, recent[i]! - recent[i - 1]!);
      const last = acc[acc.length - 1]!;
      if (gain < t.plateauAccDelta && last < t.satisfiedAccuracy) {
        this.fire(out, 'loss_plateau', 'warning', [], step, epoch,
          { bestEpochGain: gain, accuracy: last, epochsLookedAt: k, satisfiedAccuracy: t.satisfiedAccuracy },
          `accuracy has gained at most ${fmt(gain)} per epoch over the last ${k} epochs and is stuck at ${fmt(last)}: training has stalled far from a useful model.`);
      }
    } else if (acc.length === 0 && losses.length > k) {
      const recent = losses.slice(-(k + 1));
      const rel = (recent[0]! - recent[recent.length - 1]!) / Math.max(Math.abs(recent[0]!), 1e-12);
      if (rel < t.plateauLossRelDelta && losses[losses.length - 1]! > 0.5 * losses[0]! && losses[losses.length - 1]! > t.convergedLoss) {
        this.fire(out, 'loss_plateau', 'warning', [], step, epoch,
          { relativeImprovement: rel, epochsLookedAt: k, loss: losses[losses.length - 1]!, firstEpochLoss: losses[0]! },
          `the epoch loss improved by only ${fmt(rel * 100)} % over the last ${k} epochs and is still above half its first value: training has stalled.`);
      }
    }
    return out;
  }

  // ---- internals ---------------------------------------------------------------------------------

  /** The smoothed loss plateauMinSteps/2 steps ago when the plateau condition holds, else null. */
  private plateauHolds(step: number): number | null {
    const t = this.thresholds;
    if (step < t.plateauMinSteps || !(this.lossEma > 0.5 * this.firstEma)) return null;
    const target = step - t.plateauMinSteps / 2;
    let earlier: number | undefined;
    for (let i = this.emaHistory.length - 1; i >= 0; i--) {
      if (this.emaHistory[i]![0] <= target) { earlier = this.emaHistory[i]![1]; break; }
    }
    if (earlier === undefined) return null;
    return this.lossEma > t.plateauFraction * earlier ? earlier : null;
  }

  /** Classes of a classifier (output units under a softmax / categorical loss), else 0. */
  private classes(): number {
    const spec = this.spec;
    const last = spec?.layers[spec.layers.length - 1];
    if (!spec || !last) return 0;
    const categorical = spec.loss === 'sparse_categorical_crossentropy' || spec.loss === 'categorical_crossentropy';
    return categorical ? last.units : 0;
  }

  private name(l: number): string { return this.layerNames?.[l] ?? `dense_${l}`; }

  private squashingHidden(): string | undefined {
    const hidden = this.spec?.layers.slice(0, -1) ?? [];
    return hidden.find((s) => SQUASHING.includes(s.activation))?.activation;
  }

  private checkInitialization(out: Diagnosis[], stats: StepStats, step: number, epoch: number): void {
    const t = this.thresholds;
    const L = stats.layers.length;
    stats.layers.forEach((ls, l) => {
      const spec = this.spec?.layers[l];
      const problems: string[] = [];
      const ev: Record<string, number | string> = {};
      // wNorm is after the first update; it stands in for the initial scale only when the update
      // was small (and checkInitialWeights did not already look at the real initial weights).
      if (spec && spec.kind !== 'batchnorm' && !this.initialWeightsChecked && ls.updateRatio < 0.5) {
        const p = this.weightProblem(ls.wNorm / Math.sqrt(spec.inputSize * spec.units), spec.inputSize, spec.units);
        if (p) { Object.assign(ev, p.ev); problems.push(p.text); }
      }
      if (l < L - 1) {
        Object.assign(ev, { actStd: ls.actStd });
        if (ls.actStd > t.initActStdHigh) problems.push(`its outputs have std ${fmt(ls.actStd)} at the first step (the forward signal grows layer by layer)`);
        else if (ls.actStd < t.initActStdLow && ls.deadFraction < t.deadFraction) problems.push(`its outputs have std ${fmt(ls.actStd)} at the first step (the forward signal has collapsed)`);
        const act = spec?.activation;
        if ((act ? SQUASHING.includes(act) : true) && ls.saturatedFraction >= t.saturatedFraction) {
          ev.saturatedFraction = ls.saturatedFraction;
          problems.push(`${Math.round(ls.saturatedFraction * 100)} % of its pre-activations are saturated (|z| ≥ 5) from the first step`);
        }
        if (ls.deadFraction >= t.deadFraction) {
          ev.deadFraction = ls.deadFraction;
          problems.push(`${Math.round(ls.deadFraction * 100)} % of its units are dead from the first step`);
        }
      }
      if (problems.length) {
        this.fire(out, 'poor_initialization', 'warning', [l], step, epoch, ev,
          `at the first step ${this.name(l)}: ${problems.join('; ')}. A variance-preserving initializer (He for ReLU, Glorot for sigmoid/tanh) keeps signals and gradients at a steady scale through the layers.`,
          { activation: spec?.activation });
      }
    });
  }

  /** Evaluates a debounced rule; fires once when it persisted past the warm-up (Persistence).
   * Judgements during the warm-up are recorded for confirmShortWindows but never fire here.
   * `variant` separates the windows of two rules for the same kind; `window` is n (samples, or
   * steps for the loss rules judged on every step). */
  private rule(
    out: Diagnosis[], kind: DiagnosisKind, layers: number[], hit: boolean, step: number, epoch: number,
    severity: Diagnosis['severity'], evidence: () => Record<string, number | string>, explanation: () => string,
    variant?: string, window = this.thresholds.persistWindow,
  ): void {
    if (this.fired.has(this.onceKey(kind, layers))) return;
    const key = `${kind}:${layers.join(',')}:${variant ?? ''}`;
    let r = this.persist.get(key);
    if (!r) {
      r = { kind, layers, severity, p: new Persistence(window, this.thresholds.persistFraction) };
      this.persist.set(key, r);
    }
    const warm = step < this.thresholds.warmupSteps;
    r.p.push({ hit, step, epoch, warm });
    r.p.last = { evidence, explanation };
    if (warm) return;
    const w = r.p.confirmed();
    if (w) this.fireWindow(out, kind, severity, layers, w, step, evidence, explanation);
  }

  /** Fires `kind` for a confirmed window: dated at its first positive, confirmed at `step`. */
  private fireWindow(
    out: Diagnosis[], kind: DiagnosisKind, severity: Diagnosis['severity'], layers: number[], window: readonly Judged[],
    step: number, evidence: () => Record<string, number | string>, explanation: () => string, extra: Record<string, number | string> = {},
  ): void {
    const start = window.find((j) => j.hit)!;
    const ev = { ...evidence(), ...extra };
    if (start.step !== step) ev.confirmedAtStep = step;
    this.fire(out, kind, severity, layers, start.step, start.epoch, ev, explanation());
  }

  /**
   * At an epoch's end, the rules that never had a full post-warm-up window (sparse statistics or
   * a short run: every 16 steps over 94 steps gives 6 samples, 2 past a 50-step warm-up) are
   * judged on the samples they have (Persistence.shortConfirmed: ≥ persistMinSamples, the same
   * fraction, the latest positive, one past the warm-up).
   */
  private confirmShortWindows(out: Diagnosis[]): void {
    for (const r of this.persist.values()) {
      if (this.fired.has(this.onceKey(r.kind, r.layers)) || !r.p.last) continue;
      const w = r.p.shortConfirmed(this.thresholds.persistMinSamples);
      if (!w) continue;
      const lastStep = w[w.length - 1]!.step;
      this.fireWindow(out, r.kind, r.severity, r.layers, w, lastStep, r.p.last.evidence, r.p.last.explanation,
        { samples: `${w.filter((j) => j.hit).length} of ${w.length} (short run or sparse statistics)` });
    }
  }

  /** Whole-model kinds are reported once per run whichever rule found them; per-layer kinds once
   * per layer. */
  private onceKey(kind: DiagnosisKind, layers: number[]): string {
    return WHOLE_MODEL_KINDS.has(kind) ? `${kind}:*` : `${kind}:${layers.join(',')}`;
  }

  private fire(
    out: Diagnosis[], kind: DiagnosisKind, severity: Diagnosis['severity'], layers: number[], step: number, epoch: number,
    evidence: Record<string, number | string>, explanation: string, ctxExtra?: Partial<RemedyContext>,
  ): void {
    const once = this.onceKey(kind, layers);
    if (this.fired.has(once)) return;
    this.fired.add(once);
    const act = layers.length ? this.spec?.layers[layers[0]!]?.activation : undefined;
    const d = makeDiagnosis(kind, severity, {
      layers, layerNames: this.layerNames, step, epoch, evidence, explanation,
      ctx: { ...this.ctx, learningRate: this.learningRate, activation: act, ...ctxExtra },
    });
    this.diagnoses.push(d);
    out.push(d);
    this.onDiagnosis?.(d);
  }

  private emitAll(ds: Diagnosis[]): Diagnosis[] {
    const out: Diagnosis[] = [];
    for (const d of ds) {
      const key = `pre:${d.kind}:${d.layers.join(',')}:${String(d.evidence.activation ?? '')}`;
      if (this.fired.has(key)) continue;
      this.fired.add(key);
      this.diagnoses.push(d); out.push(d); this.onDiagnosis?.(d);
    }
    return out;
  }
}
