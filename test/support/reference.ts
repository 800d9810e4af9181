/**
 * The tests' reference for TensorFlow semantics: the library's TensorFlow.js runner of original TF
 * graphs (src/reference/tfjs.ts), re-exported under the path the tests have always imported.
 */
export * from '../../src/reference/tfjs.js';
