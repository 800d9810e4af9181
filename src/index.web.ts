/**
 * facenet-dnn for browsers, workers, Deno, Bun and edge runtimes (web-standard APIs only).
 * @module
 */
export * from './converter/index.js';
