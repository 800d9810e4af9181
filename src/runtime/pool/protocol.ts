/**
 * The messages between a FaceNet pool (`pool.ts`, the calling thread) and its workers
 * (`worker/serve.ts`). Everything here survives the structured clone of `postMessage` (no functions,
 * no class instances); typed-array buffers the sender owns are transferred, not copied.
 * Web-standard APIs only.
 */
import type { LoadOptions } from '../opencv/load.js';
import type { ImageInput, PreprocessOptions } from '../preprocess/index.js';
import type { FaceInput, FaceNetOptions } from '../embed/facenet.js';

/** What a worker needs of {@link FaceNetOptions} to build its FaceNet (the model comes as bytes). */
export type WorkerFaceNetOptions = Pick<FaceNetOptions, 'input' | 'output' | 'dim' | 'imageSize' | 'maxBatch' | 'preprocess'>;

/** The cloneable part of {@link LoadOptions}: no functions, `url` as a string. */
export type WorkerLoadOptions = Omit<LoadOptions, 'module' | 'fetch' | 'importModule' | 'sandbox' | 'url'> & { url?: string };

/** Calling thread → worker. Every request but `load` gets exactly one {@link Reply} with its `id`. */
export type Request =
  /** Start loading OpenCV.js now (while the calling thread reads the model); no reply. */
  | { op: 'load'; id: 0; opencv: WorkerLoadOptions }
  /** Build the FaceNet from already prepared (converted) model bytes; replies `{ dim, imageSize }`. */
  | { op: 'create'; id: number; model: Uint8Array; options: WorkerFaceNetOptions; opencv: WorkerLoadOptions }
  | { op: 'embed'; id: number; image: ImageInput; options?: PreprocessOptions }
  /** Faces `offset … offset + faces.length − 1` of the caller's batch (for error messages). */
  | { op: 'embedBatch'; id: number; faces: Array<ImageInput | FaceInput>; options?: PreprocessOptions; offset: number }
  | { op: 'embedTensor'; id: number; nhwc: Float32Array; n: number }
  | { op: 'dispose'; id: number };

/** An error as it crosses the thread boundary; rebuilt with the same class, code and message. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** Worker → calling thread: the outcome of one request. */
export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };
