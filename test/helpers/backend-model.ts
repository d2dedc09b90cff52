// Fixtures shared by the tests that drive a backend model directly (test/wasm-backend.test.ts,
// test/threads.test.ts): an odd-sized classifier, an Adam config, and a seeded initialisation.
import type { ActivationName, BackendModel, ModelSpec, OptimizerConfig } from '../../ts/backend/types.js';

/** Odd sizes on purpose: 13 inputs, 7 hidden, 3 classes do not divide the SIMD width 4. */
export const clsSpec: ModelSpec = {
  layers: [
    { kind: 'dense', inputSize: 13, units: 7, activation: 'relu', activationParam: 0, useBias: true },
    { kind: 'dense', inputSize: 7, units: 3, activation: 'softmax', activationParam: 0, useBias: true },
  ],
  loss: 'sparse_categorical_crossentropy',
  fromLogits: false,
};

/** Adam with Keras's defaults at learning rate `lr`, no clipping. */
export const adam = (lr: number): OptimizerConfig => ({
  kind: 'adam', learningRate: lr, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, momentum: 0, nesterov: false,
  weightDecay: 0, rho: 0.9, initialAccumulatorValue: 0.1, clipValue: 0, clipNorm: 0, globalClipNorm: 0,
});

/** Glorot-uniform weights, zero biases, tensor seeds from `seed`. */
export function initModel(m: BackendModel, seed: number): void {
  m.layout.forEach((l, i) => {
    const { inputSize, units } = m.spec.layers[i];
    m.initTensor(l.wOffset, l.wLength, 'glorot_uniform', inputSize, units, 0, seed + 2 * i);
    if (l.bLength > 0) m.initTensor(l.bOffset, l.bLength, 'zeros', inputSize, units, 0, seed + 2 * i + 1);
  });
}

/** A spec of dense layers given as [inputSize, units, activation] (biases on, no constraints). */
export function denseSpec(loss: ModelSpec['loss'], layers: [number, number, ActivationName][]): ModelSpec {
  return {
    layers: layers.map(([inputSize, units, activation]) => ({ kind: 'dense', inputSize, units, activation, activationParam: 0, useBias: true })),
    loss,
    fromLogits: false,
  };
}
