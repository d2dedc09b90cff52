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
import { computeLayout, evaluateLoss, forward, forwardBackward, tensorsOf } from './network.js';
import { clipGradients, OptimizerState, type Tensor } from './optimizers.js';
import { computeStats } from './stats.js';

export class ReferenceModel implements BackendModel {
  readonly spec: ModelSpec;
  readonly paramCount: number;
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
    const { layout, paramCount } = computeLayout(this.spec);
    this.layout = layout;
    this.paramCount = paramCount;
    this.tensors = tensorsOf(layout);
    this.params = new Float32Array(paramCount);
    this.grads = new Float32Array(paramCount);
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
    this.optimizer = new OptimizerState(config, this.paramCount);
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
    const preClip = this.collectStats ? this.grads.slice() : null;
    const before = this.collectStats ? this.params.slice() : null;
    const clipped = clipGradients(this.grads, this.tensors, opt.config);
    opt.apply(this.params, this.grads);
    if (preClip && before) {
      this.stats = computeStats({
        spec: this.spec, layout: this.layout, batch, trace: r.trace, grads: preClip,
        paramsBefore: before, paramsAfter: this.params, loss: r.loss, clipped,
      });
    }
    return r.loss;
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
