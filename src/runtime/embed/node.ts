/** Node adapter of `createFaceNet`: OpenCV.js through the Node loader, model paths read from disk. */
import { readFile } from 'node:fs/promises';
import { FacenetDnnError } from '../../converter/errors.js';
import { acquireOpenCV, releaseOpenCV } from '../opencv/node.js';
import { nodeCores, nodePoolEnvironment } from '../pool/node.js';
import { createFaceNetPool, poolSize } from '../pool/pool.js';
import { createFaceNetIn, type FaceNet, type FaceNetOptions } from './facenet.js';

async function readPath(path: string): Promise<Uint8Array> {
  try {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (cause as Error).message;
    throw new FacenetDnnError('ERR_GRAPH', `Cannot load model "${path}": ${why}`, { cause });
  }
}

/**
 * Loads a FaceNet model into OpenCV.js (loaded once per process) and returns its embedder.
 * `options.model` may be a file path, a URL or the bytes of a converted (or raw, converted on the
 * fly) facenet `.pb`. With `workers: 'auto'` (or a number) the model runs on a pool of
 * `worker_threads`, one OpenCV.js each, behind the same API.
 *
 * @example
 * ```ts
 * import { createFaceNet } from 'facenet-dnn';
 * const facenet = await createFaceNet({ model: 'facenet.dnn.pb' });
 * const e = await facenet.embed(await readFile('face.jpg'));   // Float32Array(512), unit norm
 * await facenet.dispose();
 *
 * const pool = await createFaceNet({ model: 'facenet.dnn.pb', workers: 'auto' });  // one worker per core
 * const batch = await pool.embedBatch(jpegs);   // split across the workers, in input order
 * await pool.dispose();
 * ```
 */
export async function createFaceNet(options: FaceNetOptions): Promise<FaceNet> {
  // With `workers`, the same API on a pool of worker_threads (see FaceNetOptions.workers).
  const workers = poolSize(options?.workers, nodeCores());
  if (workers > 1) return createFaceNetPool(nodePoolEnvironment(readPath), options, workers);
  return createFaceNetIn({ loadOpenCV: acquireOpenCV, releaseOpenCV, readPath }, options);
}
