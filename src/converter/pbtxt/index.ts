/**
 * TensorFlow text format (`.pbtxt`) for GraphDefs: a deterministic writer (also of the config
 * variant OpenCV's `readNetFromTensorflow(model, config)` takes) and a reader.
 */
export { graphToText, formatFloat, formatDouble, cEscape } from './write.js';
export type { TextOptions } from './write.js';
export { textToGraph } from './read.js';
