/**
 * facenet-dnn for browsers, workers, Deno, Bun and edge runtimes (web-standard APIs only).
 * @module
 */
export * from './converter/index.js';
export * from './runtime/index.js';
export { loadOpenCV } from './runtime/opencv/web.js';
export { createFaceNet } from './runtime/embed/web.js';
export { verifyConversion, verifyInput, randomInput } from './verify.js';
export type * from './verify.js';
export { runReference, createReferenceModel, toGraphModelArtifacts } from './reference/tfjs.js';
