/**
 * The runtime's web-standard API (shared by every entry): preprocessing, embeddings, matching.
 * @module
 */
export { createFaceNetIn } from './embed/facenet.js';
export type { FaceNet, FaceNetOptions, FaceInput, FaceNetEnvironment } from './embed/facenet.js';
export { prepareModel, readModelSource } from './model.js';
export type { ModelSource, PrepareOptions, PreparedModel } from './model.js';
export { TFNet, forwardTF } from './opencv/forward.js';
export type { ForwardInput, ForwardOutput, ForwardOptions } from './opencv/forward.js';
export { createOpenCVLoader, cvErrorMessage } from './opencv/load.js';
export type { CV, LoadOptions, OpenCVBuild, OpenCVLoader } from './opencv/load.js';
export * from './preprocess/index.js';
export * from './match/index.js';
