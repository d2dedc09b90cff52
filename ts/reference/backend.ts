// The pure-TypeScript reference backend: the oracle for the wasm kernel in tests.
//
// Same flat parameter layout as the kernel (W (in, out) row-major then b, per layer in order), so
// parameters copy between backends with getParams/setParams. Parameters, gradients and optimizer
// state are stored as f32 (like the kernel's regions); every computation runs in f64 from the stored
// values and is rounded once when stored, which makes this a faithful oracle for an f32 kernel:
// its only error is the final rounding, the kernel's is that plus f32 accumulation.
//
// trainStep = forward, loss, backward (gradients stored, f32), statistics (if on, from the
// pre-clip gradients), clipping (in place: after a trainStep the gradient region holds the
// gradients the optimizer used), optimizer update.

import type {
  Backend, BackendModel, InitializerName, LayerLayout, ModelSpec, OptimizerConfig, StepStats, Targets,
} from '../backend/types.js';
import { BackendError, DisposedError } from '../errors.js';
import { initValues } from './init.js';
import { applyConstraint } from './constraints.js';
import { computeLayout, evaluateLoss, forward, forwardBackward, tensorsOf } from './network.js';
import { clipGradients, OptimizerState, type Tensor } from './optimizers.js';
import { computeStats } from './stats.js';

export class ReferenceModel implements BackendModel {
  readonly spec: ModelSpec;
  readonly paramCount: number;
  readonly trainableCount: number;
  readonly layout: readonly LayerLayout[];
  private readonly tensors: Tensor[];
  private params: Float32Array;
  private grads: Float32Array;
  private optimizer: OptimizerState | null = null;
  private collectStats = false;
  private stats: StepStats | null = null;
  private correct = 0;
  private disposed = false;

  constructor(spec: ModelSpec) {
    this.spec = structuredClone(spec);
    const { layout, paramCount, trainableCount } = computeLayout(this.spec);
    this.layout = layout;
    this.paramCount = paramCount;
    this.trainableCount = trainableCount;
    this.tensors = tensorsOf(layout);
    this.params = new Float32Array(paramCount);
    this.grads = new Float32Array(paramCount);
    // Keras's initial moving statistics: moving_mean 0, moving_variance 1 (as the kernel).
    this.spec.layers.forEach((l, i) => {
      const lay = layout[i];
      if (l.kind === 'batchnorm') this.params.fill(1, lay.movingOffset + l.units, lay.movingOffset + 2 * l.units);
    });
  }

  getParams(): Float32Array { this.live(); return this.params.slice(); }
  setParams(params: Float32Array): void {
    this.live();
    if (params.length !== this.paramCount) {
      throw new BackendError(`gradguard: setParams expected ${this.paramCount} values, got ${params.length}.`);
    }
    this.params.set(params);
  }
  getGrads(): Float32Array { this.live(); return this.grads.slice(); }

  initTensor(offset: number, length: number, kind: InitializerName, fanIn: number, fanOut: number,
    value: number, seed: number): void {
    this.live();
    this.params.set(initValues(length, kind, fanIn, fanOut, value, seed), offset);
  }

  setOptimizer(config: OptimizerConfig): void {
    this.live();
    this.optimizer = new OptimizerState(config, this.trainableCount);
  }
  // The state in the ABI's layout (docs/abi.md, gg_model_opt_state_len), as the wasm backend
  // gives it, so a saved state moves between backends: half m then half v. OptimizerState keeps
  // RMSprop's mean square and Adagrad's accumulator in slot1, which is half v there.
  private slotHalves(): [Float32Array, Float32Array] {
    const o = this.optimizer!;
    return o.config.kind === 'rmsprop' || o.config.kind === 'adagrad' ? [o.slot2, o.slot1] : [o.slot1, o.slot2];
  }
  getOptimizerState(): { step: number; slots: Float32Array } {
    this.live();
    const n = this.trainableCount;
    const slots = new Float32Array(2 * n);
    if (this.optimizer) { const [m, v] = this.slotHalves(); slots.set(m); slots.set(v, n); }
    return { step: this.optimizer?.step ?? 0, slots };
  }
  setOptimizerState(state: { step: number; slots: Float32Array }): void {
    this.live();
    const n = this.trainableCount;
    if (!this.optimizer) throw new BackendError('gradguard: setOptimizerState before setOptimizer (the reference model has no optimizer yet).');
    if (state.slots.length !== 2 * n) {
      throw new BackendError(`gradguard: setOptimizerState expected ${2 * n} slot values, got ${state.slots.length}.`);
    }
    const [m, v] = this.slotHalves();
    m.set(state.slots.subarray(0, n));
    v.set(state.slots.subarray(n));
    this.optimizer.step = state.step;
  }
  setLearningRate(lr: number): void {
    this.live();
    if (!this.optimizer) throw new BackendError('gradguard: setLearningRate before setOptimizer (the reference model has no optimizer yet).');
    this.optimizer.learningRate = lr;
  }

  forwardBackward(x: Float32Array, y: Targets, batch: number): number {
    this.live();
    const r = forwardBackward(this.spec, this.layout, this.paramCount, this.params, x, y, batch);
    this.grads.set(r.grads); // rounded to f32 once
    this.correct = r.correct;
    return r.loss;
  }

  trainStep(x: Float32Array, y: Targets, batch: number): number {
    this.live();
    const opt = this.optimizer;
    if (!opt) throw new BackendError('gradguard: trainStep before setOptimizer (the reference model has no optimizer yet).');
    const r = forwardBackward(this.spec, this.layout, this.paramCount, this.params, x, y, batch);
    this.grads.set(r.grads);
    this.correct = r.correct;
    this.updateMovingStatistics(r.trace);
    const preClip = this.collectStats ? this.grads.slice() : null;
    const before = this.collectStats ? this.params.slice() : null;
    const clipped = clipGradients(this.grads, this.tensors, opt.config);
    const nt = this.trainableCount;
    opt.apply(this.params.subarray(0, nt), this.grads.subarray(0, nt));
    // The statistics see the weights after the update and before the constraints (as the kernel).
    const afterUpdate = preClip && before ? this.params.slice() : null;
    this.spec.layers.forEach((l, i) => {
      if (l.kind !== 'dense') return;
      const lay = this.layout[i];
      applyConstraint(l.kernelConstraint, this.params, lay.wOffset, l.inputSize, l.units);
      if (lay.bLength > 0) applyConstraint(l.biasConstraint, this.params, lay.bOffset, l.units, 1);
    });
    if (preClip && before && afterUpdate) {
      this.stats = computeStats({
        spec: this.spec, layout: this.layout, batch, trace: r.trace, grads: preClip,
        paramsBefore: before, paramsAfter: afterUpdate, loss: r.loss, clipped, trainableCount: nt,
      });
    }
    return r.loss;
  }

  /**
   * moving ← moving·momentum + batch·(1 − momentum) for each batchnorm layer (biased variance,
   * Keras 3), in f64 from the stored f32 values, rounded once.
   */
  private updateMovingStatistics(trace: readonly { bn?: { mean: Float64Array; variance: Float64Array } }[]): void {
    this.spec.layers.forEach((l, i) => {
      const bn = trace[i].bn;
      if (l.kind !== 'batchnorm' || !bn) return;
      const o = this.layout[i].movingOffset, f = l.units, m = l.momentum;
      for (let j = 0; j < f; j++) {
        this.params[o + j] = this.params[o + j] * m + bn.mean[j] * (1 - m);
        this.params[o + f + j] = this.params[o + f + j] * m + bn.variance[j] * (1 - m);
      }
    });
  }

  lastCorrect(): number { return this.correct; }

  predict(x: Float32Array, batch: number): Float32Array {
    this.live();
    const trace = forward(this.spec, this.layout, this.params, x, batch);
    return Float32Array.from(trace[trace.length - 1].a);
  }

  evaluate(x: Float32Array, y: Targets, batch: number): { lossSum: number; correct: number } {
    this.live();
    const r = evaluateLoss(this.spec, this.layout, this.params, x, y, batch);
    let lossSum = 0;
    for (const v of r.perSample) lossSum += v;
    return { lossSum, correct: r.correct };
  }

  setCollectStats(on: boolean): void { this.live(); this.collectStats = on; }
  getStats(): StepStats | null { this.live(); return this.stats; }

  dispose(): void { this.disposed = true; }

  private live(): void {
    if (this.disposed) throw new DisposedError('gradguard: this reference model was used after dispose(); create a new one.');
  }
}

export class ReferenceBackend implements Backend {
  readonly name = 'reference';
  createModel(spec: ModelSpec): BackendModel { return new ReferenceModel(spec); }
}

export function createReferenceBackend(): ReferenceBackend { return new ReferenceBackend(); }
