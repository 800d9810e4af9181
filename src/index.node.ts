/**
 * facenet-dnn for Node.js: everything of the web entry, plus Node adapters.
 * @module
 */
export * from './converter/index.js';
export { loadOpenCV } from './runtime/opencv/node.js';
export { forwardTF } from './runtime/opencv/forward.js';
