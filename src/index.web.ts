/**
 * facenet-dnn for browsers, workers, Deno, Bun and edge runtimes (web-standard APIs only).
 * @module
 */
export * from './converter/index.js';
export * from './runtime/index.js';
export { loadOpenCV } from './runtime/opencv/web.js';
export { createFaceNet } from './runtime/embed/web.js';
