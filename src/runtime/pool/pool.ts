/**
 * A FaceNet backed by a pool of workers, each with its own OpenCV.js and copy of the model, behind
 * the same {@link FaceNet} interface as one in-thread instance. Web-standard APIs only: the adapters
 * (`node.ts`: `worker_threads`; `web.ts`: module Web Workers) supply how a worker is started.
 *
 * Dispatch: `embed` goes to the least busy worker; `embedBatch` and `embedTensor` split the faces in
 * contiguous chunks, one per worker (each worker batches its chunk in forwards of up to `maxBatch`),
 * and put the results back in input order. Images are preprocessed in the workers, so decoding and
 * resizing scale with the pool too.
 */
import { FacenetDnnError, type ErrorCode } from '../../converter/errors.js';
import type { FaceInput, FaceNet, FaceNetOptions } from '../embed/facenet.js';
import type { LoadOptions, OpenCVBuild } from '../opencv/load.js';
import { prepareModel, readModelSource, sourceName, type ReadModelOptions } from '../model.js';
import { pixelsToRgb, type ImageInput, type PreprocessOptions } from '../preprocess/index.js';
import type { Reply, Request, SerializedError, WorkerFaceNetOptions, WorkerLoadOptions } from './protocol.js';

/** One started worker, as the pool sees it. */
export interface PoolWorker {
  /** Posts a request; `transfer` lists buffers the pool gives away. May throw (e.g. `DataCloneError`). */
  post(message: Request, transfer: ArrayBuffer[]): void;
  /** Subscribes to replies. */
  onMessage(handler: (reply: Reply) => void): void;
  /** Subscribes to the worker's death (an uncaught error, a failed script load, an exit), once. */
  onExit(handler: (why: string) => void): void;
  /** Stops the worker (after which it reports no exit). */
  terminate(): Promise<void> | void;
  /** Node: keep the process alive for this worker (while it has calls in flight). */
  ref?(): void;
  /** Node: let the process exit although the worker runs (while it is idle). */
  unref?(): void;
}

/** How an entry point starts workers (see `node.ts`, `web.ts`). */
export interface PoolEnvironment {
  /** Starts worker number `index` running `worker/serve.ts` behind this runtime's worker entry. */
  spawn(index: number): PoolWorker;
  /** The single-thread OpenCV.js build the workers load unless the caller chose one. */
  singleThreadBuild(): OpenCVBuild;
  /** Reads a model path (Node). */
  readPath?: ReadModelOptions['readPath'];
}

/** How many workers `workers` asks for with `cores` cores; 1 means no pool. */
export function poolSize(workers: FaceNetOptions['workers'], cores: number): number {
  if (workers === undefined) return 1;
  if (workers === 'auto') return Math.max(1, Math.floor(cores) || 1);
  if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`Cannot create FaceNet: workers must be 'auto' or a positive integer, got ${typeof workers === 'string' ? `"${workers}"` : String(workers)}`);
  }
  return workers;
}

const CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'ERR_DECODE', 'ERR_GRAPH', 'ERR_UNKNOWN_NODE', 'ERR_NOT_CONSTANT', 'ERR_UNSUPPORTED_OP', 'ERR_AMBIGUOUS', 'ERR_OPENCV', 'ERR_IMAGE',
]);

/** The error a worker threw, rebuilt in this thread: same class, code and message; the worker's stack as `cause`. */
export function rebuildError(s: SerializedError): Error {
  const remote = new Error(s.message);
  remote.name = `${s.name} (in a pool worker)`;
  if (s.stack) remote.stack = s.stack;
  const options = { cause: remote };
  if (s.name === 'FacenetDnnError' && s.code && CODES.has(s.code)) return new FacenetDnnError(s.code as ErrorCode, s.message, options);
  if (s.name === 'TypeError') return new TypeError(s.message, options);
  if (s.name === 'RangeError') return new RangeError(s.message, options);
  if (s.name === 'SyntaxError') return new SyntaxError(s.message, options);
  const e = new Error(s.message, options);
  e.name = s.name;
  return e;
}

const disposedError = () => new FacenetDnnError('ERR_OPENCV', 'Cannot embed: this FaceNet was disposed');

/** The cloneable OpenCV options for the workers, with the pool's single-thread default build. */
function workerLoadOptions(opencv: LoadOptions | undefined, env: PoolEnvironment): WorkerLoadOptions {
  const o = { ...opencv };
  for (const key of ['module', 'fetch', 'importModule', 'sandbox'] as const) {
    if (o[key] !== undefined) {
      throw new TypeError(`Cannot create a FaceNet pool: opencv.${key} cannot be sent to a worker (pass url, wasmBinary or wasmModule instead)`);
    }
  }
  const { url, ...rest } = o as LoadOptions;
  const out: WorkerLoadOptions = { ...rest };
  if (url !== undefined) out.url = String(url);
  // n workers × a threads build's threads would oversubscribe the cores: one thread per worker
  // unless the caller forces a build (or brings its own script).
  if (out.build === undefined && url === undefined) out.build = env.singleThreadBuild();
  return out;
}

function isImageJs(x: unknown): boolean {
  return typeof x === 'object' && x !== null && typeof (x as { getRawImage?: unknown }).getRawImage === 'function';
}

/**
 * An image as a message part, with the buffers to transfer. Buffers are copied first (the caller's
 * stay usable) and compacted (a Node `Buffer` may view an 8 KiB pool, which a plain clone would
 * copy whole); image-js images, class instances that do not survive cloning, become RGB pixels here.
 */
function toMessage(image: ImageInput): { image: ImageInput; transfer: ArrayBuffer[] } {
  if (image instanceof Uint8Array) {
    // A copy: not `slice()`, which a Node Buffer answers with a view of the same memory.
    const copy = new Uint8Array(image);
    return { image: copy, transfer: [copy.buffer] };
  }
  if (image instanceof ArrayBuffer) {
    const copy = image.slice(0);
    return { image: copy, transfer: [copy] };
  }
  if (isImageJs(image)) {
    const rgb = pixelsToRgb(image);
    return { image: rgb, transfer: [rgb.data.buffer as ArrayBuffer] };
  }
  if (typeof image === 'object' && image !== null) {
    const { width, height, data } = image as { width: unknown; height: unknown; data: unknown };
    if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) {
      const copy = data instanceof Uint8ClampedArray ? new Uint8ClampedArray(data) : new Uint8Array(data);
      const channels = (image as { channels?: unknown }).channels;
      const out = { width, height, data: copy, ...(channels !== undefined ? { channels } : {}) } as ImageInput;
      return { image: out, transfer: [copy.buffer as ArrayBuffer] };
    }
  }
  return { image, transfer: [] }; // the worker rejects it as the in-thread FaceNet would
}

function isFaceInput(x: ImageInput | FaceInput): x is FaceInput {
  return typeof x === 'object' && x !== null && 'image' in x && !('width' in x);
}

interface Slot {
  index: number;
  worker: PoolWorker;
  pending: Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>;
  dead: string | undefined;
}

/**
 * Creates a FaceNet on `size` workers (see the module comment). The workers start loading OpenCV.js
 * while this thread reads and prepares the model (a raw facenet graph is converted once, here);
 * then each builds its FaceNet from a copy of the prepared bytes. Any failure terminates every
 * worker started and rejects with the first error (the model's, else the lowest worker's).
 */
export async function createFaceNetPool(env: PoolEnvironment, options: FaceNetOptions, size: number): Promise<FaceNet> {
  if (!options || options.model === undefined) throw new TypeError('Cannot create FaceNet: options.model is required');
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`Cannot create FaceNet: a pool needs at least one worker, got ${size}`);
  if (options.cv !== undefined) {
    throw new TypeError('Cannot create a FaceNet pool: cv is an instance of this thread and cannot be shared with workers; pass opencv options instead');
  }
  const dim = options.dim ?? 512;
  const maxBatch = options.maxBatch ?? 8;
  if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`Cannot create FaceNet: dim must be a positive integer, got ${dim}`);
  if (!Number.isInteger(maxBatch) || maxBatch <= 0) throw new RangeError(`Cannot create FaceNet: maxBatch must be a positive integer, got ${maxBatch}`);
  const opencv = workerLoadOptions(options.opencv, env);
  const source = sourceName(options.model);

  let nextId = 1;
  const slots: Slot[] = [];
  let closed = false;
  const inFlight = new Set<Promise<unknown>>();

  const call = <T>(slot: Slot, message: Request, transfer: ArrayBuffer[] = []): Promise<T> => {
    if (slot.dead !== undefined) return Promise.reject(new FacenetDnnError('ERR_OPENCV', `Cannot run FaceNet: pool worker ${slot.index} stopped (${slot.dead})`));
    return new Promise<T>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref?.();
      slot.pending.set(message.id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        slot.worker.post(message, transfer);
      } catch (e) {
        settle(slot, message.id);
        // A DataCloneError: something in the input cannot be sent to a worker.
        reject(new TypeError(`Cannot embed: the input cannot be sent to a worker (${e instanceof Error ? e.message : String(e)})`, { cause: e }));
      }
    });
  };
  const settle = (slot: Slot, id: number) => {
    const p = slot.pending.get(id);
    slot.pending.delete(id);
    if (slot.pending.size === 0 && slot.dead === undefined) slot.worker.unref?.();
    return p;
  };

  for (let i = 0; i < size; i++) {
    let worker: PoolWorker;
    try {
      worker = env.spawn(i);
    } catch (e) {
      await Promise.allSettled(slots.map((s) => s.worker.terminate()));
      throw e;
    }
    const slot: Slot = { index: i, worker, pending: new Map(), dead: undefined };
    slots.push(slot);
    worker.onMessage((reply) => {
      const p = settle(slot, reply.id);
      if (!p) return;
      if (reply.ok) p.resolve(reply.value);
      else p.reject(rebuildError(reply.error));
    });
    worker.onExit((why) => {
      if (slot.dead !== undefined) return;
      slot.dead = why;
      const calls = [...slot.pending.values()];
      slot.pending.clear();
      const e = new FacenetDnnError('ERR_OPENCV', `Cannot run FaceNet: pool worker ${i} stopped (${why})`);
      for (const c of calls) c.reject(e);
    });
    // Kept alive while it starts (the create call below), like any call in flight.
    worker.ref?.();
    try {
      worker.post({ op: 'load', id: 0, opencv }, []);
    } catch (e) {
      await Promise.allSettled(slots.map((s) => s.worker.terminate()));
      throw new TypeError(`Cannot create a FaceNet pool: the opencv options cannot be sent to a worker (${e instanceof Error ? e.message : String(e)})`, { cause: e });
    }
  }
  const terminateAll = async () => {
    closed = true;
    for (const s of slots) s.dead ??= 'terminated';
    await Promise.allSettled(slots.map((s) => s.worker.terminate()));
  };

  let model: Uint8Array;
  let converted: FaceNet['converted'];
  let created: Array<{ dim: number; imageSize: number }>;
  try {
    const bytes = await readModelSource(options.model, { fetch: options.fetch, readPath: env.readPath });
    const prepared = prepareModel(bytes, { input: options.input ?? 'input', output: options.output ?? 'embeddings', convert: options.convert ?? 'auto', source });
    model = prepared.bytes;
    converted = prepared.converted;
    const workerOptions: WorkerFaceNetOptions = {};
    for (const key of ['input', 'output', 'dim', 'imageSize', 'maxBatch', 'preprocess'] as const) {
      if (options[key] !== undefined) (workerOptions as Record<string, unknown>)[key] = options[key];
    }
    // Each worker gets its own copy of the model (a structured clone), the caller's bytes stay.
    const results = await Promise.allSettled(
      slots.map((s) => call<{ dim: number; imageSize: number }>(s, { op: 'create', id: nextId++, model, options: workerOptions, opencv })),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    created = results.map((r) => (r as PromiseFulfilledResult<{ dim: number; imageSize: number }>).value);
  } catch (e) {
    await terminateAll();
    throw e;
  }
  for (const s of slots) s.worker.unref?.();
  const { imageSize } = created[0]!;
  const faceSize = imageSize * imageSize * 3;

  /** Alive workers, least busy first (ties: lowest index). */
  const available = (): Slot[] => {
    const alive = slots.filter((s) => s.dead === undefined);
    if (alive.length === 0) throw new FacenetDnnError('ERR_OPENCV', `Cannot embed: every worker of the pool has stopped (${slots[0]!.dead})`);
    return alive.sort((a, b) => a.pending.size - b.pending.size || a.index - b.index);
  };
  /** Runs `job` as a call of this FaceNet: refused after dispose(), awaited by dispose(). */
  const track = <T>(job: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(disposedError());
    const p = (async () => job())();
    inFlight.add(p);
    const done = () => inFlight.delete(p);
    p.then(done, done);
    return p;
  };
  /** `n` split in at most `parts` contiguous chunks, as even as possible: [start, count] pairs. */
  const chunks = (n: number, parts: number): Array<[number, number]> => {
    const k = Math.min(n, parts);
    const base = Math.floor(n / k);
    const extra = n % k;
    const out: Array<[number, number]> = [];
    for (let i = 0, start = 0; i < k; i++) {
      const count = base + (i < extra ? 1 : 0);
      out.push([start, count]);
      start += count;
    }
    return out;
  };
  /** The first failure in chunk order (the lowest face index, as one instance would report it). */
  const firstFailure = <T>(results: PromiseSettledResult<T>[]): T[] => {
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return results.map((r) => (r as PromiseFulfilledResult<T>).value);
  };

  let disposing: Promise<void> | undefined;
  const api: FaceNet = {
    dim: created[0]!.dim,
    imageSize,
    converted,
    embed(image, opts) {
      return track(async () => {
        const m = toMessage(image);
        return call<Float32Array>(available()[0]!, { op: 'embed', id: nextId++, image: m.image, ...(opts ? { options: opts } : {}) }, m.transfer);
      });
    },
    embedBatch(faces, opts) {
      return track(async () => {
        if (!Array.isArray(faces)) throw new TypeError('Cannot embed: faces must be an array');
        if (faces.length === 0) return [];
        const workers = available();
        const parts = chunks(faces.length, workers.length);
        const results = await Promise.allSettled(
          parts.map(async ([start, count], w) => {
            const transfer: ArrayBuffer[] = [];
            const part: Array<ImageInput | FaceInput> = [];
            for (let i = start; i < start + count; i++) {
              const f = faces[i]!;
              try {
                if (isFaceInput(f)) {
                  const m = toMessage(f.image);
                  transfer.push(...m.transfer);
                  part.push(f.box ? { image: m.image, box: f.box } : { image: m.image });
                } else {
                  const m = toMessage(f);
                  transfer.push(...m.transfer);
                  part.push(m.image);
                }
              } catch (e) {
                // Named like FaceNet.embedBatch names a face it cannot preprocess.
                if (e instanceof FacenetDnnError) throw new FacenetDnnError(e.code, `Face ${i}: ${e.message}`, { cause: e });
                throw e;
              }
            }
            return call<Float32Array[]>(workers[w]!, { op: 'embedBatch', id: nextId++, faces: part, offset: start, ...(opts ? { options: opts } : {}) }, transfer);
          }),
        );
        return firstFailure(results).flat();
      });
    },
    embedTensor(nhwc, n) {
      // Checked before any work, synchronously, as the in-thread FaceNet does.
      if (!(nhwc instanceof Float32Array)) throw new TypeError('Cannot embed: nhwc must be a Float32Array');
      if (!Number.isInteger(n) || n <= 0 || nhwc.length !== n * faceSize) {
        throw new RangeError(`Cannot embed: ${nhwc.length} values are not ${n} faces of ${imageSize}×${imageSize}×3`);
      }
      return track(async () => {
        const workers = available();
        const parts = chunks(n, workers.length);
        const results = await Promise.allSettled(
          parts.map(([start, count], w) => {
            const part = nhwc.slice(start * faceSize, (start + count) * faceSize);
            return call<Float32Array>(workers[w]!, { op: 'embedTensor', id: nextId++, nhwc: part, n: count }, [part.buffer]);
          }),
        );
        const rows = firstFailure(results);
        const out = new Float32Array(n * api.dim);
        parts.forEach(([start], i) => out.set(rows[i]!, start * api.dim));
        return out;
      });
    },
    dispose() {
      disposing ??= (async () => {
        closed = true;
        await Promise.allSettled([...inFlight]);
        // Each worker frees its net and OpenCV (a threads build stops its threads), then is stopped.
        await Promise.allSettled(slots.filter((s) => s.dead === undefined).map((s) => call(s, { op: 'dispose', id: nextId++ })));
        await terminateAll();
      })();
      return disposing;
    },
  };
  return api;
}
