// gg.data: loaders, synthetic sets and input helpers.
export { parseIdx, encodeIdx, isGzip, type IdxTensor, type IdxData } from './idx.js';
export { loadMnist, MNIST_FILES, type Mnist, type MnistSplit, type MnistOptions, type BytesSource } from './mnist.js';
export { synthetic, blobs, regression, xor, type ClassificationSet, type RegressionSet, type BlobsOptions, type RegressionOptions } from './synthetic.js';
export { oneHot, toMatrix, toLabels, toTargets, type TensorLike, type TensorData, type Matrix, type NumericArray } from './tensor.js';
