// The shared remedy mapping (ts/health/remedies.ts): one rule for the change fit's repair makes
// when it restarts and for gradguard doctor's restarted run, companions included.
import { describe, expect, it } from 'vitest';
import { applyToDenseOptions, layerEdits, remedyChange, firstRestartCause, type Diagnosis } from '../ts/health/index.js';

const relu = remedyChange({ kind: 'activation', action: '', setting: 'layer.activation', value: 'relu' })!;
const leaky = remedyChange({ kind: 'activation', action: '', setting: 'layer.activation', value: 'leaky_relu' })!;
const he = remedyChange({ kind: 'initialization', action: '', setting: 'layer.kernelInitializer', value: 'he_normal' })!;

describe('layerEdits / applyToDenseOptions', () => {
  it('sigmoid → relu moves the hidden layers\' Glorot kernels to He; the output layer is left alone', () => {
    // 3 hidden sigmoid layers (one with an explicit He kernel already) and a softmax output.
    const layers = [
      { inputShape: [7], units: 5, activation: 'sigmoid' },
      { units: 3, activation: 'sigmoid', kernelInitializer: 'glorotNormal' },
      { units: 2, activation: 'tanh', kernelInitializer: 'he_uniform' },
      { units: 3, activation: 'softmax' },
    ];
    const r = applyToDenseOptions(layers, relu);
    expect(r.layers).toEqual([
      { inputShape: [7], units: 5, activation: 'relu', kernelInitializer: 'he_normal' },
      { units: 3, activation: 'relu', kernelInitializer: 'he_normal' },
      { units: 2, activation: 'relu', kernelInitializer: 'he_uniform' },
      { units: 3, activation: 'softmax' },
    ]);
    expect(r.what).toEqual(['hidden activation → relu', 'kernel initializer → he_normal']);
  });

  it('relu → leaky_relu keeps the initializer (both ReLU family)', () => {
    const r = applyToDenseOptions([{ inputShape: [3], units: 4, activation: 'relu' }, { units: 2, activation: 'softmax' }], leaky);
    expect(r.layers).toEqual([{ inputShape: [3], units: 4, activation: 'leaky_relu' }, { units: 2, activation: 'softmax' }]);
    expect(r.what).toEqual(['hidden activation → leaky_relu']);
  });

  it('a new kernel initializer goes to every layer with zero biases (none for useBias: false)', () => {
    const r = applyToDenseOptions([
      { inputShape: [3], units: 4, activation: 'relu', biasInitializer: 'ones' },
      { units: 1, activation: 'sigmoid', useBias: false },
    ], he);
    expect(r.layers).toEqual([
      { inputShape: [3], units: 4, activation: 'relu', kernelInitializer: 'he_normal', biasInitializer: 'zeros' },
      { units: 1, activation: 'sigmoid', useBias: false, kernelInitializer: 'he_normal' },
    ]);
    expect(r.what).toEqual(['kernel initializer → he_normal, zero biases']);
  });

  it('nothing to change: no edits, and non-Dense layers (null) are skipped but count for "the last"', () => {
    const facts = { activation: 'relu', kernelInitializer: 'he_normal', useBias: true, biasInitializer: 'zeros' };
    expect(layerEdits([facts, facts], he)).toEqual({ edits: [null, null], what: [] });
    const sig = { ...facts, activation: 'sigmoid', kernelInitializer: 'glorot_uniform' };
    // [sigmoid, batchnorm (null), sigmoid]: the last index is 2, so only layer 0 is hidden-Dense.
    expect(layerEdits([sig, null, sig], relu).edits).toEqual([{ activation: 'relu', kernelInitializer: 'he_normal' }, null, null]);
  });
});

describe('firstRestartCause', () => {
  const d = (kind: Diagnosis['kind'], evidence: Diagnosis['evidence'] = {}): Diagnosis => ({
    kind, severity: 'warning', layers: [], layerNames: [], step: 0, epoch: 0, evidence, explanation: '', remedies: [], source: '',
  });
  it('the first to fire of the kinds repaired by restart; a poor initialization the unnormalized inputs explain is skipped', () => {
    expect(firstRestartCause([d('non_finite'), d('poor_initialization'), d('dying_relu')])!.kind).toBe('poor_initialization');
    expect(firstRestartCause([d('unnormalized_inputs'), d('poor_initialization', { actStd: 40 }), d('loss_plateau')])!.kind).toBe('loss_plateau');
    expect(firstRestartCause([d('exploding_gradients')])).toBeUndefined();
  });
});
