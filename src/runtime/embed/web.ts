/**
 * Web adapter of `createFaceNet` (browsers, workers, Deno, Bun): OpenCV.js through the web loader;
 * models from bytes or URLs (no file paths).
 */
import { loadOpenCV } from '../opencv/web.js';
import { createFaceNetIn, type FaceNet, type FaceNetOptions } from './facenet.js';

/**
 * Loads a FaceNet model into OpenCV.js (loaded once) and returns its embedder. `options.model` is
 * the bytes or the URL of a converted (or raw, converted on the fly) facenet `.pb`; where the runtime
 * cannot import the bundled OpenCV.js, pass `opencv: { url }` (or `cv`).
 *
 * @example
 * ```ts
 * import { createFaceNet } from 'facenet-dnn';
 * const facenet = await createFaceNet({ model: '/models/facenet.dnn.pb' });
 * const e = await facenet.embed(imageData);   // Float32Array(512), unit norm
 * ```
 */
export function createFaceNet(options: FaceNetOptions): Promise<FaceNet> {
  return createFaceNetIn({ loadOpenCV }, options);
}
