/**
 * Web adapter of `createFaceNet` (browsers, workers, Deno, Bun): OpenCV.js through the web loader;
 * models from bytes or URLs (no file paths).
 */
import { acquireOpenCV, releaseOpenCV } from '../opencv/web.js';
import { createFaceNetPool, poolSize } from '../pool/pool.js';
import { webCores, webPoolEnvironment } from '../pool/web.js';
import { createFaceNetIn, type FaceNet, type FaceNetOptions } from './facenet.js';

/**
 * Loads a FaceNet model into OpenCV.js (loaded once) and returns its embedder. `options.model` is
 * the bytes or the URL of a converted (or raw, converted on the fly) facenet `.pb`; where the runtime
 * cannot import the bundled OpenCV.js, pass `opencv: { url }` (or `cv`). With `workers: 'auto'` (or a
 * number) the model runs on a pool of module Web Workers started from `pool-worker.web.js` beside
 * this bundle, one OpenCV.js each, behind the same API.
 *
 * @example
 * ```ts
 * import { createFaceNet } from 'facenet-dnn';
 * const facenet = await createFaceNet({ model: '/models/facenet.dnn.pb' });
 * const e = await facenet.embed(imageData);   // Float32Array(512), unit norm
 * ```
 */
export async function createFaceNet(options: FaceNetOptions): Promise<FaceNet> {
  // With `workers`, the same API on a pool of module Web Workers (see FaceNetOptions.workers).
  const workers = poolSize(options?.workers, webCores());
  if (workers > 1) return createFaceNetPool(webPoolEnvironment(), options, workers);
  return createFaceNetIn({ loadOpenCV: acquireOpenCV, releaseOpenCV }, options);
}
