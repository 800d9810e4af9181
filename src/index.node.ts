/**
 * facenet-dnn for Node.js: the web entry's API with Node adapters (OpenCV.js loaded without leaving
 * process listeners behind; model file paths).
 * @module
 */
export * from './converter/index.js';
export * from './runtime/index.js';
export { loadOpenCV } from './runtime/opencv/node.js';
export { createFaceNet } from './runtime/embed/node.js';
export { verifyConversion, verifyInput, randomInput } from './verify.js';
export type * from './verify.js';
export { runReference, createReferenceModel, toGraphModelArtifacts } from './reference/tfjs.js';
