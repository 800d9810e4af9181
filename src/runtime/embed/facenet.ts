/**
 * FaceNet on OpenCV.js: `createFaceNet(options)` → `embed(image)`, `embedBatch(images)`, `dispose()`.
 * Web-standard APIs only; the entries (`index.node.ts`, `index.web.ts`) supply how OpenCV.js is
 * loaded and how a model path is read.
 */
import { FacenetDnnError } from '../../converter/errors.js';
import type { ConvertReport } from '../../converter/convert.js';
import type { CV, LoadOptions } from '../opencv/load.js';
import { TFNet } from '../opencv/forward.js';
import { prepareModel, readModelSource, sourceName, type ModelSource, type ReadModelOptions } from '../model.js';
import { preprocess, type ImageInput, type PreprocessOptions } from '../preprocess/index.js';

/** Options of `createFaceNet`. */
export interface FaceNetOptions {
  /**
   * The model: a converted FaceNet `.pb` (or a raw facenet one, see `convert`) as bytes, or a URL.
   * The Node entry also takes a file path.
   */
  model: ModelSource;
  /** An initialized OpenCV.js to use. Default: the runtime's own, loaded once with `opencv`. */
  cv?: CV;
  /** How to load OpenCV.js when `cv` is not given (a URL, wasm bytes, a timeout…). Default: the bundled build. */
  opencv?: LoadOptions;
  /** Raw facenet graphs: `'auto'` converts them on the fly, `false` rejects them. Default: `'auto'`. */
  convert?: 'auto' | false;
  /** The input node. Default: `'input'`. */
  input?: string;
  /** The output node. Default: `'embeddings'`. */
  output?: string;
  /** Embedding size the model must produce: 512 for 20180402-114759, 128 for older models. Default: 512. */
  dim?: number;
  /** Input side in pixels (facenet's models are tied to 160 by their AvgPool). Default: 160. */
  imageSize?: number;
  /** Largest batch sent to OpenCV in one forward; bigger batches are split. Default: 8. */
  maxBatch?: number;
  /** Default preprocessing (`standardization: 'fixed'`, `margin: 44`); each call can override it. */
  preprocess?: Omit<PreprocessOptions, 'size' | 'box'>;
  /** fetch for URL models. Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
  /**
   * Run the model on a pool of workers (Node `worker_threads`, Web Workers) instead of this thread:
   * `n` ≥ 2 workers, or `'auto'`, one per core (`os.availableParallelism()` in Node,
   * `navigator.hardwareConcurrency` on the web; a single core means no pool). Each worker loads its own
   * OpenCV.js (with `opencv`, whose default build becomes the single-thread SIMD one, else stock:
   * n workers × a threads build would oversubscribe the cores) and its own copy of the model, and
   * preprocesses the images it gets. `embed` goes to the least busy worker; `embedBatch` and
   * `embedTensor` split the faces across the workers and return them in input order; the
   * embeddings are the same as one instance's of the same build. `cv` cannot be combined with a
   * pool. Read by the entries' `createFaceNet` (`createFaceNetIn` always runs in the calling thread).
   * Default: 1, no pool.
   */
  workers?: 'auto' | number;
}

/** One face of a batch: an image, optionally with the face box to crop (with the margin rule). */
export interface FaceInput {
  image: ImageInput;
  box?: PreprocessOptions['box'];
}

/** A loaded FaceNet model. */
export interface FaceNet {
  /** The embedding size (512). */
  readonly dim: number;
  /** The input side in pixels (160). */
  readonly imageSize: number;
  /** The conversion report when the model was converted on the fly, else undefined. */
  readonly converted: ConvertReport | undefined;
  /**
   * The L2-normalized embedding of one face. Without a `box` the whole image is the face crop.
   * @throws {FacenetDnnError} `ERR_IMAGE` for input that is not a usable image (the model stays usable).
   */
  embed(image: ImageInput, options?: PreprocessOptions): Promise<Float32Array>;
  /** Embeddings of many faces, computed in true batched forwards of up to `maxBatch` faces. */
  embedBatch(faces: ReadonlyArray<ImageInput | FaceInput>, options?: PreprocessOptions): Promise<Float32Array[]>;
  /**
   * Embeddings of already preprocessed faces: `n` faces of `imageSize²·3` float32 values, NHWC.
   * Returns one `[n, dim]` row-major Float32Array.
   */
  embedTensor(nhwc: Float32Array, n: number): Promise<Float32Array>;
  /**
   * Frees the OpenCV net (waits for calls in flight). Later calls fail. Idempotent. When this was the
   * last FaceNet on the runtime's own OpenCV.js and that is a threads build, its worker threads are
   * stopped too (a later `createFaceNet` loads a fresh instance).
   */
  dispose(): Promise<void>;
}

/** How an entry point supplies the environment: its OpenCV loader and path reader. */
export interface FaceNetEnvironment {
  /** Loads the runtime's OpenCV.js for a new FaceNet (counted as one user of it). */
  loadOpenCV: (options?: LoadOptions) => Promise<CV>;
  /** Called once when a FaceNet that got `cv` from `loadOpenCV` is disposed (or failed to start). */
  releaseOpenCV?: (cv: CV) => void;
  readPath?: ReadModelOptions['readPath'];
}

const NORM_TOLERANCE = 1e-3;

function isFaceInput(x: ImageInput | FaceInput): x is FaceInput {
  return typeof x === 'object' && x !== null && 'image' in x && !('width' in x);
}

/** Creates a FaceNet with the given environment; entry points wrap this as `createFaceNet`. */
export async function createFaceNetIn(env: FaceNetEnvironment, options: FaceNetOptions): Promise<FaceNet> {
  if (!options || options.model === undefined) throw new TypeError('Cannot create FaceNet: options.model is required');
  const dim = options.dim ?? 512;
  const imageSize = options.imageSize ?? 160;
  const maxBatch = options.maxBatch ?? 8;
  const input = options.input ?? 'input';
  const output = options.output ?? 'embeddings';
  if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`Cannot create FaceNet: dim must be a positive integer, got ${dim}`);
  if (!Number.isInteger(maxBatch) || maxBatch <= 0) throw new RangeError(`Cannot create FaceNet: maxBatch must be a positive integer, got ${maxBatch}`);
  const source = sourceName(options.model);
  const owned = options.cv === undefined;
  const loading = owned ? env.loadOpenCV(options.opencv) : Promise.resolve(options.cv!);
  // Loads while the model is read; observed now so that a failure is not "unhandled" meanwhile.
  loading.catch(() => undefined);
  const release = (cv: CV) => {
    if (owned) env.releaseOpenCV?.(cv);
  };
  let bytes: Uint8Array;
  try {
    bytes = await readModelSource(options.model, { fetch: options.fetch, readPath: env.readPath });
  } catch (e) {
    // Not left loading unobserved: the load finishes, and this FaceNet's hold on it is given back.
    loading.then(release, () => undefined);
    throw e;
  }
  const cv = await loading;
  let prepared: ReturnType<typeof prepareModel>;
  let net: TFNet;
  try {
    prepared = prepareModel(bytes, { input, output, convert: options.convert ?? 'auto', source });
    net = TFNet.import(cv, prepared.bytes);
  } catch (e) {
    release(cv);
    throw e;
  }
  const faceSize = imageSize * imageSize * 3;
  const defaults: PreprocessOptions = { ...options.preprocess, size: imageSize };

  // Calls run one after another through this chain: OpenCV nets keep state between setInput and
  // forward, and dispose() must not free the net under a call in flight.
  let queue: Promise<unknown> = Promise.resolve();
  let disposed = false;
  const serial = <T>(job: () => Promise<T> | T): Promise<T> => {
    const run = queue.then(() => {
      if (disposed) throw new FacenetDnnError('ERR_OPENCV', 'Cannot embed: this FaceNet was disposed');
      return job();
    });
    queue = run.catch(() => undefined);
    return run;
  };

  /** Runs `n` faces through OpenCV in chunks of maxBatch and checks [n, dim] unit-norm rows. */
  const forward = (nhwc: Float32Array, n: number): Float32Array => {
    const out = new Float32Array(n * dim);
    for (let start = 0; start < n; start += maxBatch) {
      const count = Math.min(maxBatch, n - start);
      const data = nhwc.subarray(start * faceSize, (start + count) * faceSize);
      const [res] = net.run({ name: input, shape: [count, imageSize, imageSize, 3], data }, [output]);
      if (!res || res.shape.length !== 2 || res.shape[0] !== count || res.shape[1] !== dim) {
        throw new FacenetDnnError(
          'ERR_OPENCV',
          `Cannot embed: ${source} output "${output}" has shape [${res?.shape ?? ''}], expected [${count},${dim}]`,
        );
      }
      for (let r = 0; r < count; r++) {
        let s = 0;
        for (let i = 0; i < dim; i++) s += res.data[r * dim + i]! ** 2;
        if (!(Math.abs(Math.sqrt(s) - 1) <= NORM_TOLERANCE)) {
          throw new FacenetDnnError('ERR_OPENCV', `Cannot embed: ${source} output "${output}" row ${start + r} has L2 norm ${Math.sqrt(s)}, expected 1 (is it FaceNet's l2-normalized embeddings?)`);
        }
      }
      out.set(res.data, start * dim);
    }
    return out;
  };

  const embedTensor = (nhwc: Float32Array, n: number): Promise<Float32Array> => {
    if (!(nhwc instanceof Float32Array)) throw new TypeError('Cannot embed: nhwc must be a Float32Array');
    if (!Number.isInteger(n) || n <= 0 || nhwc.length !== n * faceSize) {
      throw new RangeError(`Cannot embed: ${nhwc.length} values are not ${n} faces of ${imageSize}×${imageSize}×3`);
    }
    return serial(() => forward(nhwc, n));
  };

  const api: FaceNet = {
    dim,
    imageSize,
    converted: prepared.converted,
    async embed(image, opts) {
      const x = await preprocess(image, { ...defaults, ...opts, size: imageSize });
      return serial(() => forward(x, 1));
    },
    async embedBatch(faces, opts) {
      if (!Array.isArray(faces)) throw new TypeError('Cannot embed: faces must be an array');
      if (faces.length === 0) return [];
      const batch = new Float32Array(faces.length * faceSize);
      for (let i = 0; i < faces.length; i++) {
        const f = faces[i]!;
        const [image, box] = isFaceInput(f) ? [f.image, f.box] : [f, undefined];
        try {
          batch.set(await preprocess(image, { ...defaults, ...opts, ...(box ? { box } : {}), size: imageSize }), i * faceSize);
        } catch (e) {
          if (e instanceof FacenetDnnError) throw new FacenetDnnError(e.code, `Face ${i}: ${e.message}`, { cause: e });
          throw e;
        }
      }
      const out = await serial(() => forward(batch, faces.length));
      return faces.map((_, i) => out.slice(i * dim, (i + 1) * dim));
    },
    embedTensor,
    async dispose() {
      if (disposed) return;
      await queue;
      disposed = true;
      net.delete();
      release(cv);
    },
  };
  return api;
}
