/**
 * One forward pass of a TensorFlow GraphDef in OpenCV.js: NHWC float32 in, TF-ordered outputs back.
 * Web-standard APIs only.
 */
import { FacenetDnnError } from '../../converter/errors.js';
import { encodeGraph } from '../../converter/proto/codec.js';
import { DataType } from '../../converter/proto/types.js';
import type { GraphDef } from '../../converter/proto/types.js';
import { constNode } from '../../converter/tensor.js';
import { cvError } from './load.js';
import type { CV } from './load.js';

/** The input tensor of {@link forwardTF}. */
export interface ForwardInput {
  /** The Placeholder to feed. Default: OpenCV's first network input. */
  name?: string;
  /** TensorFlow order, NHWC: [N, H, W, C] with N ≥ 1. */
  shape: number[];
  /** `N·H·W·C` values, row-major NHWC. */
  data: Float32Array;
}

/** One output of {@link forwardTF}. */
export interface ForwardOutput {
  /** The node name asked for. */
  name: string;
  /** TensorFlow order: 4-D outputs NHWC, 2-D [N, D]; other ranks as OpenCV returns them. */
  shape: number[];
  data: Float32Array;
}

/** Options of {@link forwardTF}. */
export interface ForwardOptions {
  /**
   * A text GraphDef handed to `readNetFromTensorflow(model, config)` (e.g. from
   * `graphToText(graph, { opencvConfig: true })`). Default: none. With a config OpenCV skips its
   * own graph simplifications (docs/opencv-js.md): prefer the .pb alone for converted graphs.
   */
  config?: string;
}

let fileCounter = 0;

/** Writes bytes into the Emscripten FS and returns the path; the caller unlinks it. */
function writeFile(cv: CV, stem: string, bytes: Uint8Array): string {
  const name = `facenet-dnn-${stem}-${++fileCounter}`;
  // The FS path, not readNetFromTensorflow1(bytes): the buffer overload copies the model through
  // embind and imports a 90 MB graph in ~10 s instead of ~0.4 s (docs/opencv-js.md).
  cv['FS_createDataFile']('/', name, bytes, true, false, false);
  return `/${name}`;
}

function unlink(cv: CV, path: string | undefined): void {
  if (!path) return;
  try {
    cv['FS_unlink'](path);
  } catch {
    // Already gone: nothing to clean.
  }
}

/** Deletes embind objects, ignoring the ones already deleted. */
function deleteAll(objs: Array<{ delete(): void } | undefined>): void {
  for (const o of objs) {
    try {
      o?.delete();
    } catch {
      // deleted twice or never constructed
    }
  }
}

// Helper nets that turn a flat [1, 1, N·C·H, W] blob into [N, C, H, W], per cv instance and shape.
// This build has no N-D Mat constructor and no blobFromImages, and blobFromImage takes only 1, 3 or
// 4 channels. OpenCV's TF importer maps a Reshape whose input layout is unknown (a bare
// Placeholder, no data_format anywhere) to its Reshape layer with the target shape as given, which
// reinterprets the NCHW buffer without moving data: exactly a reshape of the blob.
const reshapers = new WeakMap<CV, Map<string, { delete(): void; [k: string]: unknown }>>();
const MAX_RESHAPERS = 8;

function reshaper(cv: CV, dims: readonly number[]) {
  let cache = reshapers.get(cv);
  if (!cache) reshapers.set(cv, (cache = new Map()));
  const key = dims.join('x');
  const hit = cache.get(key);
  if (hit) return hit;
  const graph: GraphDef = {
    node: [
      { name: 'x', op: 'Placeholder', input: [], attr: { dtype: { type: DataType.DT_FLOAT } } },
      constNode('shape', { dtype: DataType.DT_INT32, shape: [4], data: Int32Array.from(dims) }),
      { name: 'y', op: 'Reshape', input: ['x', 'shape'], attr: { T: { type: DataType.DT_FLOAT }, Tshape: { type: DataType.DT_INT32 } } },
    ],
  };
  const path = writeFile(cv, 'reshape', encodeGraph(graph));
  let net;
  try {
    net = cv['readNetFromTensorflow'](path);
  } catch (e) {
    throw cvError(cv, e, `build the [${dims}] input reshaper`);
  } finally {
    unlink(cv, path);
  }
  if (cache.size >= MAX_RESHAPERS) {
    const [oldKey, old] = cache.entries().next().value!;
    cache.delete(oldKey);
    deleteAll([old]);
  }
  cache.set(key, net);
  return net;
}

function checkInput(input: ForwardInput): [number, number, number, number] {
  const { shape, data } = input;
  if (!(data instanceof Float32Array)) throw new TypeError('Cannot run forward: input.data must be a Float32Array');
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(`Cannot run forward: input.shape must be [N, H, W, C] of positive integers, got [${String(shape)}]`);
  }
  const [n, h, w, c] = shape as [number, number, number, number];
  if (data.length !== n * h * w * c) {
    throw new RangeError(`Cannot run forward: input.data has ${data.length} values, shape [${shape}] needs ${n * h * w * c}`);
  }
  return [n, h, w, c];
}

function nhwcToNchw(src: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  if (c === 1) return src;
  const out = new Float32Array(src.length);
  const hw = h * w;
  for (let b = 0; b < n; b++) {
    const base = b * hw * c;
    for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) out[base + k * hw + p] = src[base + p * c + k]!;
  }
  return out;
}

function nchwToNhwc(src: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  if (c === 1) return src;
  const out = new Float32Array(src.length);
  const hw = h * w;
  for (let b = 0; b < n; b++) {
    const base = b * hw * c;
    for (let k = 0; k < c; k++) for (let p = 0; p < hw; p++) out[base + p * c + k] = src[base + k * hw + p]!;
  }
  return out;
}

/** Dims of a Mat: `matSize` for N-D blobs, `[rows, cols]` for plain 2-D Mats. */
function matDims(m: { matSize?: number[]; rows: number; cols: number }): number[] {
  const dims = m.matSize;
  return Array.isArray(dims) && dims.length > 0 ? [...dims] : [m.rows, m.cols];
}

type Net = { delete(): void; [k: string]: unknown };
type OutMat = { data32F: Float32Array; matSize?: number[]; rows: number; cols: number; delete(): void };

/**
 * A TensorFlow graph imported into OpenCV.js once and run many times. Import goes through the
 * Emscripten file system (`FS_createDataFile` + `readNetFromTensorflow(path)` + `FS_unlink`), not
 * the buffer overload, which is ~20× slower on a 90 MB graph (docs/opencv-js.md). Not safe to use
 * from two callers at once: OpenCV nets keep state between `setInput` and `forward`; queue calls.
 */
export class TFNet {
  readonly cv: CV;
  private net: Net | undefined;

  private constructor(cv: CV, net: Net) {
    this.cv = cv;
    this.net = net;
  }

  /**
   * Imports a binary GraphDef (and optionally OpenCV's text config).
   * @throws {FacenetDnnError} `ERR_OPENCV` naming what OpenCV could not import.
   */
  static import(cv: CV, modelBytes: Uint8Array, options: ForwardOptions = {}): TFNet {
    if (!(modelBytes instanceof Uint8Array)) throw new TypeError('Cannot import the graph: modelBytes must be a Uint8Array');
    let modelPath: string | undefined;
    let configPath: string | undefined;
    try {
      modelPath = writeFile(cv, 'model.pb', modelBytes);
      if (options.config !== undefined) configPath = writeFile(cv, 'config.pbtxt', new TextEncoder().encode(options.config));
      try {
        const net: Net = configPath ? cv['readNetFromTensorflow'](modelPath, configPath) : cv['readNetFromTensorflow'](modelPath);
        return new TFNet(cv, net);
      } catch (e) {
        throw cvError(cv, e, 'import the TensorFlow graph into OpenCV');
      }
    } finally {
      unlink(cv, modelPath);
      unlink(cv, configPath);
    }
  }

  /** Whether {@link delete} was called. */
  get deleted(): boolean {
    return this.net === undefined;
  }

  /**
   * One forward pass on an NHWC float32 input (batch N ≥ 1); outputs in TensorFlow order (4-D as
   * NHWC, 2-D as [N, D]), copied out of WASM memory. Every Mat made here is deleted before returning.
   * Each requested output costs one `forward(name)` call (this build's bindings take no name list).
   */
  run(input: ForwardInput, outputs: readonly string[]): ForwardOutput[] {
    const cv = this.cv;
    const net = this.net;
    if (!net) throw new FacenetDnnError('ERR_OPENCV', 'Cannot run forward: the net was deleted');
    if (!Array.isArray(outputs) || outputs.length === 0) throw new TypeError('Cannot run forward: name at least one output');
    const [n, h, w, c] = checkInput(input);
    const nchw = nhwcToNchw(input.data, n, h, w, c);
    const mats: Array<{ delete(): void } | undefined> = [];
    try {
      const blob = makeBlob(cv, mats, nchw, n, h, w, c);
      try {
        (net['setInput'] as (b: unknown, name?: string) => void)(blob, input.name ?? '');
      } catch (e) {
        throw cvError(cv, e, `set input "${input.name ?? ''}"`);
      }
      const results: ForwardOutput[] = [];
      for (const name of outputs) {
        let out: OutMat;
        try {
          out = (net['forward'] as (name: string) => OutMat)(name);
        } catch (e) {
          throw cvError(cv, e, `compute output "${name}"`);
        }
        mats.push(out);
        // forward() returns a view of the net's own buffer: copy before the next forward.
        const data = out.data32F.slice();
        const dims = matDims(out);
        if (dims.length === 4) {
          const [on, oc, oh, ow] = dims as [number, number, number, number];
          results.push({ name, shape: [on, oh, ow, oc], data: nchwToNhwc(data, on, oc, oh, ow) });
        } else {
          results.push({ name, shape: dims, data });
        }
      }
      return results;
    } finally {
      deleteAll(mats);
    }
  }

  /** Frees the net. Idempotent. */
  delete(): void {
    const net = this.net;
    this.net = undefined;
    deleteAll([net]);
  }
}

/** Makes the [N, C, H, W] input blob holding `nchw`; the Mats it creates go into `mats`. */
function makeBlob(cv: CV, mats: Array<{ delete(): void } | undefined>, nchw: Float32Array, n: number, h: number, w: number, c: number) {
  let blob;
  try {
    if (n === 1 && (c === 1 || c === 3 || c === 4)) {
      // blobFromImage is this build's one 4-D Mat maker: an H×W image of C channels → [1, C, H, W].
      const image = new cv['Mat'](h, w, cv['CV_32F'] + ((c - 1) << 3));
      mats.push(image);
      blob = cv['blobFromImage'](image);
      mats.push(blob);
    } else {
      const flat = new cv['Mat'](n * c * h, w, cv['CV_32F']);
      mats.push(flat);
      const tall = cv['blobFromImage'](flat);
      mats.push(tall);
      tall.data32F.set(nchw);
      const helper = reshaper(cv, [n, c, h, w]);
      (helper['setInput'] as (b: unknown) => void)(tall);
      blob = (helper['forward'] as (name: string) => { data32F: Float32Array; delete(): void })('y');
      mats.push(blob);
    }
    const dims = matDims(blob);
    if (dims.join() !== [n, c, h, w].join()) {
      throw new FacenetDnnError('ERR_OPENCV', `Cannot build the input blob: OpenCV made [${dims}], expected [${n},${c},${h},${w}]`);
    }
    blob.data32F.set(nchw);
    return blob;
  } catch (e) {
    if (e instanceof FacenetDnnError) throw e;
    throw cvError(cv, e, 'build the input blob');
  }
}

/**
 * Runs a TensorFlow GraphDef (binary `.pb` bytes) in OpenCV.js on one NHWC float32 input (batch
 * N ≥ 1) and returns the requested outputs in TensorFlow order. The model goes through the
 * Emscripten file system (`FS_createDataFile` + `readNetFromTensorflow(path)` + `FS_unlink`);
 * every Mat, the net and the files are released before returning, also on errors.
 *
 * OpenCV quirks to know (docs/opencv-js.md): Identity nodes and the BiasAdd fused into a Conv2D
 * cannot be asked for as outputs; unsupported ops are reported here, at forward time.
 *
 * @param cv an initialized OpenCV.js (see `loadOpenCV`).
 * @param modelBytes a binary GraphDef.
 * @param outputs node names to fetch, in the order returned.
 * @throws {FacenetDnnError} `ERR_OPENCV` when OpenCV cannot import or run the graph, naming what
 *   OpenCV names (the op it has no layer for, the output it cannot find).
 * @example
 * ```ts
 * const [probs] = forwardTF(cv, pb, { name: 'input_1', shape: [1, 64, 64, 1], data }, ['predictions/Softmax']);
 * ```
 */
export function forwardTF(
  cv: CV,
  modelBytes: Uint8Array,
  input: ForwardInput,
  outputs: string[],
  options: ForwardOptions = {},
): ForwardOutput[] {
  if (!(modelBytes instanceof Uint8Array)) throw new TypeError('Cannot run forward: modelBytes must be a Uint8Array');
  if (!Array.isArray(outputs) || outputs.length === 0) throw new TypeError('Cannot run forward: name at least one output');
  checkInput(input);
  const net = TFNet.import(cv, modelBytes, options);
  try {
    return net.run(input, outputs);
  } finally {
    net.delete();
  }
}
