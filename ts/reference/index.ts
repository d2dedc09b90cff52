// The reference backend and its building blocks (the math, for tests and readers).
export { ReferenceBackend, ReferenceModel, createReferenceBackend } from './backend.js';
export { Rng, tensorSeed } from './rng.js';
export { initValues, truncatedNormal, TRUNCATED_NORMAL_STD } from './init.js';
export { activationForward, activationBackward, sigmoid, SELU_ALPHA, SELU_SCALE } from './activations.js';
export { lossForwardBackward, lossMode, countCorrect, PROB_EPSILON } from './losses.js';
export { denseForward, denseBackward } from './dense.js';
export { computeLayout, tensorsOf, forward, forwardBackward, evaluateLoss } from './network.js';
export { clipGradients, globalNorm, OptimizerState } from './optimizers.js';
export { computeStats, statsToWords, statsFromWords } from './stats.js';
