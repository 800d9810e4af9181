/**
 * `verifyConversion()`: checks that a converted graph computes what the original TF graph computes,
 * by running the ORIGINAL under TensorFlow.js (Switch/Merge and all, `src/reference/tfjs.ts`) and
 * the CONVERTED graph under OpenCV.js on the same inputs, and comparing every output.
 * Web-standard APIs only: OpenCV.js comes in through `options.cv`.
 */
import { inferOutputs } from './converter/convert.js';
import { FacenetDnnError } from './converter/errors.js';
import { parseInput } from './converter/graph/names.js';
import { ancestorsOf } from './converter/inspect.js';
import type { InputSpec } from './converter/passes/types.js';
import { decodeGraph } from './converter/proto/codec.js';
import { DataType, dataTypeName } from './converter/proto/types.js';
import type { GraphDef, NodeDef } from './converter/proto/types.js';
import { attr, shapeDims } from './converter/tensor.js';
import { createReferenceModel } from './reference/tfjs.js';
import type { ReferenceFeed, ReferenceModel, ReferenceOutput } from './reference/tfjs.js';
import { TFNet } from './runtime/opencv/forward.js';
import type { ForwardOutput } from './runtime/opencv/forward.js';
import type { CV } from './runtime/opencv/load.js';

/** A real input for {@link verifyConversion}: NHWC float32 values, optionally with a name for the report. */
export type VerifySample = Float32Array | { name: string; data: Float32Array };

/** Options of {@link verifyConversion}. */
export interface VerifyConversionOptions {
  /** An initialized OpenCV.js (e.g. from `loadOpenCV()`). Required. */
  cv: CV;
  /**
   * The input to feed, with the NHWC shape to run it at (-1 for a dynamic batch). OpenCV.js feeds one
   * input per forward, so at most one. Default: the converted graph's one float Placeholder, with
   * its own shape.
   */
  inputs?: InputSpec[];
  /** Outputs to compare (node names present in both graphs). Default: the converted graph's sinks. */
  outputs?: string[];
  /**
   * Scalar feeds of the original graph, each with the dtype of its node, e.g.
   * `{ phase_train: false }` (what the conversion froze with `set`). Default: none.
   */
  set?: Record<string, number | boolean>;
  /**
   * Real inputs, NHWC float32 already preprocessed: one image of the input's size each (or, with a
   * dynamic batch, several images back to back, run as one batch). Default: none.
   */
  samples?: VerifySample[];
  /** How many seeded uniform random inputs to add. Default: 2 (with a dynamic batch and `batch`, at least 2 inputs in all). */
  randomSamples?: number;
  /** The interval of the random values, `[lo, hi)`. Default: `[-1, 1]`; `[0, 1]` suits `x / 255` inputs. */
  range?: [number, number];
  /** Seed of random input i is `seed + i`. Default: 1. */
  seed?: number;
  /**
   * With a dynamic batch, also run the first two inputs as one batch of 2 in OpenCV and compare
   * each row with TensorFlow's result for that input alone. Default: true.
   */
  batch?: boolean;
  /** Largest max |Δ| an output may have to pass (absolute, in the output's units). Default: 1e-4. */
  tolerance?: number;
  /** TensorFlow.js backend. Default: `'wasm'` (several times faster than `'cpu'` on conv nets). */
  backend?: 'cpu' | 'wasm';
  /** Names of the two graphs in messages (file names). Default: `"original graph"`, `"converted graph"`. */
  names?: { original?: string; converted?: string };
}

/** One compared output. */
export interface VerifyOutput {
  name: string;
  /** The output's shape in TensorFlow for one input of the first run (TF order). */
  shape: number[];
  /** max |OpenCV − TF| over every run and element; `Infinity` when the shapes are incompatible. */
  maxAbsDiff: number;
  /** Mean |OpenCV − TF| over every run and element. */
  meanAbsDiff: number;
  /** The smallest cosine similarity between OpenCV's and TF's values for one input (one batch row). */
  cosine: number;
  /** max |TF|: the scale `maxAbsDiff` is measured against. */
  maxAbsReference: number;
  /** The run where `maxAbsDiff` was seen. */
  worst: string;
  /** `maxAbsDiff <= tolerance`. */
  pass: boolean;
  /** Something about the shapes worth knowing (a mismatch, or equal sizes in another layout). */
  note?: string;
}

/** One forward of both graphs (or of OpenCV alone for the batch check). */
export interface VerifyRun {
  /** e.g. `random #1`, `sample #1`, a sample's name, or `batch of 2 (random #1, random #2)`. */
  label: string;
  /** NHWC shape fed. */
  shape: number[];
  /** OpenCV.js forward time in ms (all outputs). */
  opencvMs: number;
  /** TensorFlow.js time in ms, or `undefined` for the batch check (compared with the single runs). */
  tfjsMs?: number;
}

/** What {@link verifyConversion} found. */
export interface VerifyResult {
  /** Every output within `tolerance`. */
  pass: boolean;
  tolerance: number;
  /** The input fed, with the shape it had in the converted graph (or as given). */
  input: { name: string; shape: number[] };
  outputs: VerifyOutput[];
  runs: VerifyRun[];
}

interface Acc {
  max: number;
  sum: number;
  count: number;
  cosine: number;
  peak: number;
  worst: string;
  shape: number[] | undefined;
  note: string | undefined;
}

/**
 * A seeded stream uniform in [0, 1): a Weyl sequence (golden-ratio increment) through the 32-bit
 * MurmurHash3 finalizer. Same seed, same numbers in every runtime, so a failing input can be rebuilt.
 */
function randomStream(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  };
}

/**
 * The values {@link verifyConversion} uses for random input `index` (0-based): `n` uniform values
 * in `[lo, hi)` from seed `seed + index`. Exported so a failure can be reproduced outside.
 */
export function randomInput(n: number, seed: number, range: readonly [number, number] = [-1, 1]): Float32Array {
  const [lo, hi] = range;
  const next = randomStream(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * next();
  return out;
}

/** The feed dtype tfjs needs for a node's output 0 (a Placeholder's `dtype`, else its `T`). */
function feedDtype(node: NodeDef): 'float32' | 'int32' | 'bool' {
  const t = attr.type(node, 'dtype', attr.type(node, 'T', DataType.DT_FLOAT));
  if (t === DataType.DT_BOOL) return 'bool';
  if (t === DataType.DT_FLOAT || t === DataType.DT_DOUBLE || t === DataType.DT_HALF) return 'float32';
  return 'int32';
}

function scalarFeed(node: NodeDef, value: number | boolean): ReferenceFeed {
  const dtype = feedDtype(node);
  const v = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  if (dtype === 'bool') return { shape: [], data: new Uint8Array([v ? 1 : 0]), dtype };
  if (dtype === 'int32') return { shape: [], data: Int32Array.of(Math.trunc(v)), dtype };
  return { shape: [], data: Float32Array.of(v), dtype };
}

/** Cosine similarity in double precision; two zero vectors are identical (1), one zero vector is not (0). */
function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  if (aa === 0 && bb === 0) return 1;
  if (aa === 0 || bb === 0) return 0;
  return ab / Math.sqrt(aa * bb);
}

/** Whether difference `b` is worse than `a`: NaN is the worst, then the larger. */
function worse(a: number, b: number): boolean {
  if (Number.isNaN(a)) return false;
  return Number.isNaN(b) || b > a;
}

function accumulate(acc: Acc, label: string, got: ForwardOutput, want: { shape: number[]; data: Float32Array }, rows: number): void {
  acc.shape ??= want.shape;
  const sameShape = got.shape.join() === want.shape.join();
  if (!sameShape && got.data.length !== want.data.length) {
    acc.note = `${label}: shape [${got.shape}] in OpenCV, [${want.shape}] in TensorFlow`;
    acc.max = Infinity;
    acc.worst = label;
    return;
  }
  // Same number of values in another shape (e.g. [1,1,1,N] against [1,N]): the values are compared
  // in row-major order, and the difference is worth saying.
  if (!sameShape) acc.note ??= `shape [${got.shape}] in OpenCV, [${want.shape}] in TensorFlow (same size, compared in order)`;
  let max = 0;
  let nan = false;
  for (let i = 0; i < want.data.length; i++) {
    const r = want.data[i]!;
    const d = Math.abs(got.data[i]! - r);
    // A NaN on either side fails the output: it must not compare as "not greater" and vanish.
    if (Number.isNaN(d)) nan = true;
    else {
      if (d > max) max = d;
      acc.sum += d;
    }
    acc.peak = Math.max(acc.peak, Math.abs(r));
  }
  acc.count += want.data.length;
  if (nan) max = NaN;
  if (worse(acc.max, max)) {
    acc.max = max;
    acc.worst = label;
  }
  const per = want.data.length / rows;
  for (let r = 0; r < rows; r++) {
    const c = cosine(got.data.subarray(r * per, (r + 1) * per), want.data.subarray(r * per, (r + 1) * per));
    acc.cosine = Math.min(acc.cosine, Number.isNaN(c) ? -Infinity : c);
  }
}

/** Reports a TensorFlow.js failure on the original graph as a domain error naming the graph. */
function tfjsError(e: unknown, what: string): unknown {
  if (e instanceof FacenetDnnError || e instanceof TypeError || e instanceof RangeError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const unsupported = /not (yet )?supported|unknown op|is not implemented/i.test(msg);
  return new FacenetDnnError(unsupported ? 'ERR_UNSUPPORTED_OP' : 'ERR_GRAPH', `Cannot run ${what} with TensorFlow.js: ${msg}`, { cause: e });
}

function withSource(e: unknown, what: string): unknown {
  if (e instanceof FacenetDnnError && !e.message.includes(what)) return new FacenetDnnError(e.code, `${what}: ${e.message}`, { cause: e });
  return e;
}

function checkOptions(options: VerifyConversionOptions): void {
  if (!options || typeof options !== 'object' || !options.cv) throw new TypeError('Cannot verify: options.cv must be an initialized OpenCV.js (see loadOpenCV)');
  const { tolerance, randomSamples, range, backend } = options;
  if (tolerance !== undefined && !(Number.isFinite(tolerance) && tolerance >= 0)) throw new RangeError(`Cannot verify: tolerance must be a finite number ≥ 0, got ${tolerance}`);
  if (randomSamples !== undefined && !(Number.isInteger(randomSamples) && randomSamples >= 0)) {
    throw new RangeError(`Cannot verify: randomSamples must be an integer ≥ 0, got ${randomSamples}`);
  }
  if (range !== undefined && !(Array.isArray(range) && range.length === 2 && Number.isFinite(range[0]) && Number.isFinite(range[1]) && range[0] < range[1])) {
    throw new RangeError(`Cannot verify: range must be [lo, hi] with lo < hi, got ${JSON.stringify(range)}`);
  }
  if (backend !== undefined && backend !== 'cpu' && backend !== 'wasm') throw new RangeError(`Cannot verify: backend must be "cpu" or "wasm", got ${JSON.stringify(backend)}`);
}

/**
 * The input {@link verifyConversion} feeds and the NHWC shape it runs it at: `inputs[0]` (its shape,
 * else the Placeholder's own), or the converted graph's one float Placeholder. Exported so callers
 * can prepare samples (e.g. resize images) for that shape first.
 *
 * @param converted the converted graph (`.pb` bytes or decoded).
 * @throws {FacenetDnnError} `ERR_UNKNOWN_NODE` for a named input missing from the graph,
 *   `ERR_AMBIGUOUS` when there is not exactly one float Placeholder to pick.
 * @throws {RangeError} for more than one input, or a shape that is not NHWC with known H, W and C.
 * @example
 * ```ts
 * const { name, shape } = verifyInput(convertedPb); // e.g. input, [-1, 160, 160, 3]
 * ```
 */
export function verifyInput(converted: Uint8Array | GraphDef, options: { inputs?: InputSpec[]; name?: string } = {}): { name: string; shape: number[] } {
  const source = options.name ?? 'converted graph';
  const graph = converted instanceof Uint8Array ? decodeGraph(converted, { source }) : converted;
  const given = options.inputs;
  let spec: InputSpec;
  if (given && given.length > 0) {
    if (given.length > 1) {
      throw new RangeError(`Cannot verify ${given.length} inputs (${given.map((g) => `"${g.name}"`).join(', ')}): OpenCV.js feeds one input per forward`);
    }
    spec = given[0]!;
    if (!graph.node.some((n) => n.name === spec.name)) {
      throw new FacenetDnnError('ERR_UNKNOWN_NODE', `Cannot feed input "${spec.name}": ${source} has no node of that name`);
    }
  } else {
    const ph = graph.node.filter((n) => n.op === 'Placeholder' && attr.type(n, 'dtype', DataType.DT_FLOAT) === DataType.DT_FLOAT);
    if (ph.length !== 1) {
      throw new FacenetDnnError(
        'ERR_AMBIGUOUS',
        ph.length
          ? `Cannot pick the input of ${source}: it has ${ph.length} float placeholders (${ph.map((p) => `"${p.name}"`).join(', ')}); name one with --input`
          : `Cannot pick the input of ${source}: it has no float placeholder; name one with --input`,
      );
    }
    spec = { name: ph[0]!.name };
  }
  const node = graph.node.find((n) => n.name === spec.name)!;
  const shape = spec.shape ?? (node.attr['shape'] ? shapeDims(node.attr['shape'].shape) : undefined);
  const hint = `give its sizes, e.g. --input ${spec.name}:1,160,160,3`;
  if (!shape) throw new RangeError(`Cannot verify input "${spec.name}": its shape is unknown; ${hint}`);
  if (shape.length !== 4) throw new RangeError(`Cannot verify input "${spec.name}" of shape [${shape}]: OpenCV.js takes NHWC [N,H,W,C] inputs; ${hint}`);
  if (shape.slice(1).some((d) => d < 1)) throw new RangeError(`Cannot verify input "${spec.name}" of shape [${shape}]: its height, width and channels must be known; ${hint}`);
  if (shape[0]! === 0 || shape[0]! < -1) throw new RangeError(`Cannot verify input "${spec.name}" of shape [${shape}]: the batch must be -1 or positive`);
  return { name: spec.name, shape };
}

/**
 * Checks a conversion: runs the ORIGINAL TF graph under TensorFlow.js (control flow included, fed
 * at the converted graph's input name, plus the `set` values as scalar feeds) and the CONVERTED graph
 * under OpenCV.js (`TFNet`) on the same inputs, and compares every output.
 *
 * Inputs: `randomSamples` seeded uniform inputs in `range` (see {@link randomInput}) and the given
 * `samples`, each run at the input's batch (a dynamic batch, -1, runs 1 image). With a dynamic
 * batch, the first two inputs also run as one batch of 2 in OpenCV, each row compared with TF's
 * result for that input alone (TF semantics for an inference graph, and some originals, like HED,
 * cannot run a batch of 2 in TF at all).
 *
 * Per output: max and mean |Δ| over every run, the worst per-input cosine similarity, and max |TF|
 * for scale. `pass` when every output's max |Δ| ≤ `tolerance`.
 *
 * @param original the original frozen graph (`.pb` bytes or decoded).
 * @param converted the converted graph's `.pb` bytes (what OpenCV will load).
 * @throws {FacenetDnnError} `ERR_UNKNOWN_NODE` for an input, output or `set` name missing from a
 *   graph; `ERR_AMBIGUOUS` when the input cannot be picked; `ERR_GRAPH` when the original needs a
 *   placeholder with no `set` value, or TensorFlow.js fails on it (`ERR_UNSUPPORTED_OP` for an op
 *   tfjs lacks); `ERR_OPENCV` when OpenCV cannot import or run the converted graph; `ERR_DECODE`.
 * @throws {RangeError} / {@link TypeError} for bad options or samples of the wrong size.
 * @example
 * ```ts
 * const cv = await loadOpenCV();
 * const result = await verifyConversion(originalPb, convertedPb, { cv, set: { phase_train: false } });
 * for (const o of result.outputs) console.log(o.name, o.maxAbsDiff, o.cosine);
 * if (!result.pass) throw new Error('conversion differs');
 * ```
 */
export async function verifyConversion(original: Uint8Array | GraphDef, converted: Uint8Array, options: VerifyConversionOptions): Promise<VerifyResult> {
  checkOptions(options);
  if (!(converted instanceof Uint8Array)) throw new TypeError('Cannot verify: the converted graph must be .pb bytes (a Uint8Array)');
  const names = { original: options.names?.original ?? 'original graph', converted: options.names?.converted ?? 'converted graph' };
  const tolerance = options.tolerance ?? 1e-4;
  const origGraph = original instanceof Uint8Array ? decodeGraph(original, { source: names.original }) : original;
  if (!origGraph || !Array.isArray(origGraph.node)) throw new TypeError('Cannot verify: the original graph must be .pb bytes or a decoded GraphDef');
  const convGraph = decodeGraph(converted, { source: names.converted });

  const input = verifyInput(convGraph, { inputs: options.inputs, name: names.converted });
  if (!origGraph.node.some((n) => n.name === input.name)) {
    throw new FacenetDnnError('ERR_UNKNOWN_NODE', `Cannot feed input "${input.name}": ${names.original} has no node of that name (the converted graph's input must keep its name)`);
  }
  const outputs = options.outputs?.length ? [...options.outputs] : inferOutputs(convGraph, [input.name], names.converted);
  for (const o of outputs) {
    const node = parseInput(o).node;
    for (const [g, what] of [[convGraph, names.converted], [origGraph, names.original]] as const) {
      if (!g.node.some((n) => n.name === node)) throw new FacenetDnnError('ERR_UNKNOWN_NODE', `Cannot compare output "${o}": ${what} has no node "${node}"`);
    }
  }

  // The original's scalar feeds, each in its node's dtype (a bool phase_train gets a bool tensor).
  const setFeeds: Record<string, ReferenceFeed> = {};
  for (const [name, value] of Object.entries(options.set ?? {})) {
    const node = origGraph.node.find((n) => n.name === name);
    if (!node) throw new FacenetDnnError('ERR_UNKNOWN_NODE', `Cannot feed set "${name}": ${names.original} has no node of that name`);
    if (typeof value !== 'number' && typeof value !== 'boolean') throw new TypeError(`Cannot feed set "${name}": value must be a number or a boolean`);
    setFeeds[name] = scalarFeed(node, value);
  }
  delete setFeeds[input.name];
  // TF's "You must feed a value for placeholder", with the fix: say which and how.
  const needed = ancestorsOf(origGraph, outputs.map((o) => parseInput(o).node), new Set([input.name, ...Object.keys(setFeeds)]));
  const unfed = origGraph.node.filter((n) => n.op === 'Placeholder' && needed.has(n.name) && n.name !== input.name && !(n.name in setFeeds));
  if (unfed.length) {
    const p = unfed[0]!;
    const dtype = attr.type(p, 'dtype', DataType.DT_FLOAT);
    throw new FacenetDnnError(
      'ERR_GRAPH',
      `Cannot run ${names.original}: its outputs need placeholder "${p.name}" (${dataTypeName(dtype)}), which has no value; give one with --set ${p.name}=VALUE` +
        (dtype === DataType.DT_BOOL ? ' (false for a training switch)' : '') +
        (unfed.length > 1 ? ` (also needed: ${unfed.slice(1).map((u) => `"${u.name}"`).join(', ')})` : ''),
    );
  }

  // The inputs: random first, then the samples; each [B, H, W, C] with B = the fixed batch or 1.
  const [b0, h, w, c] = input.shape as [number, number, number, number];
  const dynamic = b0 === -1;
  const batch = dynamic ? 1 : b0;
  const per = h * w * c;
  const seed = options.seed ?? 1;
  const range = options.range ?? [-1, 1];
  const samples = options.samples ?? [];
  if (!Array.isArray(samples)) throw new TypeError('Cannot verify: samples must be an array of Float32Array');
  const checkBatch = dynamic && options.batch !== false;
  let randomCount = options.randomSamples ?? 2;
  if (checkBatch) randomCount = Math.max(randomCount, 2 - samples.length);
  if (randomCount + samples.length === 0) throw new RangeError('Cannot verify: no inputs (no random inputs and no samples; --random 0 needs an --image)');
  const runsIn: Array<{ label: string; shape: number[]; data: Float32Array }> = [];
  for (let i = 0; i < randomCount; i++) {
    runsIn.push({ label: `random #${i + 1}`, shape: [batch, h, w, c], data: randomInput(batch * per, seed + i, range) });
  }
  samples.forEach((s, i) => {
    const data = s instanceof Float32Array ? s : s?.data;
    const label = s instanceof Float32Array ? `sample #${i + 1}` : String(s?.name ?? `sample #${i + 1}`);
    if (!(data instanceof Float32Array)) throw new TypeError(`Cannot verify: sample ${i} must be a Float32Array (or { name, data })`);
    const images = data.length / per;
    const ok = dynamic ? Number.isInteger(images) && images >= 1 : images === batch;
    if (!ok) {
      throw new RangeError(`Cannot verify ${label}: it has ${data.length} values; input "${input.name}" [${input.shape}] takes ${dynamic ? `a multiple of ${per}` : batch * per} (${h}×${w}×${c}${dynamic ? ' per image' : ''})`);
    }
    runsIn.push({ label, shape: [images, h, w, c], data });
  });

  const feedSpecs = { [input.name]: { dtype: 'float32' as const }, ...Object.fromEntries(Object.entries(setFeeds).map(([k, f]) => [k, { dtype: f.dtype }])) };
  const accs: Acc[] = outputs.map(() => ({ max: 0, sum: 0, count: 0, cosine: Infinity, peak: 0, worst: '', shape: undefined, note: undefined }));
  const runs: VerifyRun[] = [];
  let net: TFNet | undefined;
  let ref: ReferenceModel | undefined;
  try {
    try {
      net = TFNet.import(options.cv, converted);
    } catch (e) {
      throw withSource(e, names.converted);
    }
    try {
      ref = await createReferenceModel(origGraph, feedSpecs, outputs, { backend: options.backend ?? 'wasm' });
    } catch (e) {
      throw tfjsError(withSource(e, names.original), names.original);
    }
    const singles: ReferenceOutput[][] = [];
    for (const x of runsIn) {
      const t0 = performance.now();
      let got: ForwardOutput[];
      try {
        got = net.run({ name: input.name, shape: x.shape, data: x.data }, outputs);
      } catch (e) {
        throw withSource(e, names.converted);
      }
      const t1 = performance.now();
      let want: ReferenceOutput[];
      try {
        want = await ref.run({ [input.name]: { shape: x.shape, data: x.data }, ...setFeeds });
      } catch (e) {
        throw tfjsError(e, names.original);
      }
      runs.push({ label: x.label, shape: x.shape, opencvMs: t1 - t0, tfjsMs: performance.now() - t1 });
      singles.push(want);
      outputs.forEach((_, k) => accumulate(accs[k]!, x.label, got[k]!, want[k]!, x.shape[0]!));
    }
    if (checkBatch) {
      const [x0, x1] = runsIn as [(typeof runsIn)[number], (typeof runsIn)[number]];
      const n = x0.shape[0]! + x1.shape[0]!;
      const data = new Float32Array(x0.data.length + x1.data.length);
      data.set(x0.data);
      data.set(x1.data, x0.data.length);
      const label = `batch of ${n} (${x0.label}, ${x1.label})`;
      const t0 = performance.now();
      let got: ForwardOutput[];
      try {
        got = net.run({ name: input.name, shape: [n, h, w, c], data }, outputs);
      } catch (e) {
        throw withSource(e, names.converted);
      }
      runs.push({ label, shape: [n, h, w, c], opencvMs: performance.now() - t0 });
      outputs.forEach((_, k) => {
        const a = singles[0]![k]!;
        const b = singles[1]![k]!;
        const joined = new Float32Array(a.data.length + b.data.length);
        joined.set(a.data);
        joined.set(b.data, a.data.length);
        const shape = a.shape.length ? [a.shape[0]! + (b.shape[0] ?? 0), ...a.shape.slice(1)] : a.shape;
        accumulate(accs[k]!, label, got[k]!, { shape, data: joined }, n);
      });
    }
  } finally {
    net?.delete();
    ref?.dispose();
  }

  const results: VerifyOutput[] = outputs.map((name, k) => {
    const a = accs[k]!;
    const out: VerifyOutput = {
      name,
      shape: a.shape ?? [],
      maxAbsDiff: a.max,
      meanAbsDiff: a.count ? a.sum / a.count : NaN,
      cosine: a.cosine === Infinity ? NaN : a.cosine,
      maxAbsReference: a.peak,
      worst: a.worst || (runs[0]?.label ?? ''),
      pass: a.max <= tolerance,
    };
    if (a.note) out.note = a.note;
    return out;
  });
  return { pass: results.every((o) => o.pass), tolerance, input, outputs: results, runs };
}
