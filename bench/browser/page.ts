/**
 * The page side of the browser forward bench (`bench/browser.ts`): bundled with esbuild for the
 * browser and loaded by a page that `bench/browser.ts` serves over loopback HTTP and drives with
 * playwright. Web-standard APIs only; every file comes from the same origin (no network).
 *
 * The page holds the engines of one session side by side, each on the same preprocessed inputs
 * (fetched as raw float32, NHWC, batch 8; the first face is the batch-1 input):
 * - `opencv`: an OpenCV.js build (the stock `@techstark/opencv-js`, `wasm/dist/simd` or
 *   `wasm/dist/simd-threads`) evaluated from its URL by the project's loader, running the CONVERTED
 *   graph through `createFaceNetIn` + `embedTensor`;
 * - `tfjs`: TensorFlow.js 4.22's wasm backend on the ORIGINAL graph with `phase_train = false`
 *   (artifacts from `toGraphModelArtifacts`, as the Node forward bench does); tfjs picks its
 *   threaded-SIMD build where the page is cross-origin isolated, else the SIMD one;
 * - `ort`: onnxruntime-web's wasm backend on the converted graph exported to ONNX.
 *
 * `bench/browser.ts` calls `init(config)` once, `output(id, n)` for the agreement runs and
 * `run(id, n)` for the timed ones (`run('noop', …)` measures the playwright round trip alone).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModelSync } from '@tensorflow/tfjs-converter';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type * as Ort from 'onnxruntime-web';
import { decodeGraph } from '../../src/converter/proto/codec.js';
import { createFaceNetIn, type FaceNet } from '../../src/runtime/embed/facenet.js';
import { createOpenCVLoader, type CV } from '../../src/runtime/opencv/load.js';
import { toGraphModelArtifacts } from '../../src/reference/tfjs.js';

const SIZE = 160;
const FACE = SIZE * SIZE * 3;

/** One column of a session, as `bench/browser.ts` asks for it. */
export type ColumnSpec =
  | { id: string; kind: 'opencv'; label: string; url: string; threads?: number }
  /** `threads`: `setThreadsCount` before the backend starts (used by the threaded-SIMD build only). */
  | { id: string; kind: 'tfjs'; label: string; threads?: number }
  | { id: string; kind: 'ort'; label: string; threads: number };

/** What `init` needs: URLs on the serving origin. */
export interface PageConfig {
  columns: ColumnSpec[];
  /** The original (raw) graph, for TF.js. */
  rawModel: string;
  /** The converted graph, for OpenCV.js. */
  convertedModel: string;
  /** The converted graph as ONNX, for onnxruntime-web. */
  onnxModel: string;
  /** `batch × 160 × 160 × 3` float32 (little-endian), NHWC. */
  input: string;
  batch: number;
  /** Folder serving tfjs-backend-wasm's `.wasm` files (ends with `/`). */
  tfjsWasmPaths: string;
  /** onnxruntime-web's wasm-only ESM entry (`dist/ort.wasm.min.mjs`). */
  ortModule: string;
  /** Folder serving onnxruntime-web's `ort-wasm-simd-threaded.{mjs,wasm}` (ends with `/`). */
  ortWasmPaths: string;
}

/** What `init` reports per column. */
export interface ColumnInfo {
  id: string;
  label: string;
  /** Runtime start: OpenCV.js script fetch + wasm compile + init; TF.js `setBackend('wasm')`; ORT: 0 (inside `loadMs`). */
  runtimeMs: number;
  /** Model load: `createFaceNetIn` (OpenCV), `loadGraphModelSync` (TF.js), `InferenceSession.create` (ORT, includes its wasm init). */
  loadMs: number;
  /** Threads the engine runs with, as it reports them. */
  threads: number;
  /** The engine's version and the wasm build it runs (e.g. `4.22.0`, `threaded-SIMD`). */
  version: string;
  build: string;
  detail: string;
}

/** What `init` reports about the page. */
export interface PageInfo {
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  hardwareConcurrency: number;
  userAgent: string;
  columns: ColumnInfo[];
  /** Fetching and decoding the models and the input, building the TF.js artifacts. */
  fetchMs: number;
  artifactsMs: number;
}

type Run = (n: number) => Promise<Float32Array>;

const runs = new Map<string, Run>();
const disposers: Array<() => Promise<void> | void> = [];
let sink = 0;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`Cannot fetch "${url}": HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

function inputsOf(x8: Float32Array): (n: number) => Float32Array {
  return (n) => {
    if (n !== 1 && n * FACE !== x8.length) throw new RangeError(`Cannot run: batch ${n} is not 1 or the input's ${x8.length / FACE}`);
    return n === 1 ? x8.subarray(0, FACE) : x8;
  };
}

async function openCvColumn(spec: Extract<ColumnSpec, { kind: 'opencv' }>, model: Uint8Array, input: (n: number) => Float32Array): Promise<ColumnInfo> {
  let t = performance.now();
  // A loader of its own per column: each build is an independent Emscripten instance.
  const cv: CV = await createOpenCVLoader({ url: new URL(spec.url, location.href), timeoutMs: 120_000 })();
  if (spec.threads !== undefined) {
    if (typeof cv['setNumThreads'] !== 'function') throw new Error(`Cannot set ${spec.threads} threads on ${spec.url}: no setNumThreads`);
    cv['setNumThreads'](spec.threads);
  }
  const runtimeMs = performance.now() - t;
  t = performance.now();
  const facenet: FaceNet = await createFaceNetIn({ loadOpenCV: async () => cv }, { model, cv });
  const loadMs = performance.now() - t;
  runs.set(spec.id, (n) => facenet.embedTensor(input(n), n));
  disposers.push(() => facenet.dispose());
  const threads = typeof cv['getNumThreads'] === 'function' ? Number(cv['getNumThreads']()) : 1;
  const pthreads = cv['PThread'] ? `pthreads, ${threads} OpenCV thread(s)` : 'no pthreads';
  let version = '?';
  try {
    version = /OpenCV\s+([\d.]+)/.exec(String(cv['getBuildInformation']()))?.[1] ?? '?';
  } catch {
    // a build without getBuildInformation
  }
  return { id: spec.id, label: spec.label, runtimeMs, loadMs, threads, version, build: cv['PThread'] ? 'SIMD+threads' : spec.url.includes('/wasm/dist/') ? 'SIMD' : 'stock', detail: `${spec.url}: ${pthreads}` };
}

async function tfjsColumn(
  spec: Extract<ColumnSpec, { kind: 'tfjs' }>,
  artifacts: ReturnType<typeof toGraphModelArtifacts>,
  x8: Float32Array,
  batch: number,
  wasmPaths: string,
): Promise<ColumnInfo> {
  let t = performance.now();
  // Files by name, from the served package: tfjs picks `-threaded-simd` where wasm threads work
  // (SharedArrayBuffer: a cross-origin isolated page), else `-simd`.
  setWasmPaths(wasmPaths);
  // tfjs 4.22 sizes XNNPACK's pool as min(setThreadsCount, 8, hardwareConcurrency / 2)
  // (tfjs-backend-wasm/src/cc/backend.cc, `num_cores` is read once when the wasm starts): on a
  // 2-core machine it never runs more than 1 thread. To give it the threads the other columns get,
  // the page shows it twice that many cores while it starts, then the real value again.
  let shown: number | undefined;
  if (spec.threads !== undefined) {
    setThreadsCount(spec.threads);
    if (spec.threads > Math.floor(navigator.hardwareConcurrency / 2)) {
      shown = spec.threads * 2;
      Object.defineProperty(navigator, 'hardwareConcurrency', { configurable: true, get: () => shown });
    }
  }
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('Cannot start the TF.js wasm backend');
    await tf.ready();
  } finally {
    if (shown !== undefined) delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
  const runtimeMs = performance.now() - t;
  t = performance.now();
  const model = loadGraphModelSync({ ...artifacts, format: 'graph-model' } as unknown as tf.io.ModelArtifacts);
  const loadMs = performance.now() - t;
  const phase = () => tf.tensor(new Uint8Array([0]), [], 'bool');
  const feeds = new Map<number, Record<string, tf.Tensor>>([
    [1, { input: tf.tensor(x8.subarray(0, FACE), [1, SIZE, SIZE, 3]), phase_train: phase() }],
    [batch, { input: tf.tensor(x8, [batch, SIZE, SIZE, 3]), phase_train: phase() }],
  ]);
  runs.set(spec.id, async (n) => {
    const f = feeds.get(n);
    if (!f) throw new RangeError(`Cannot run TF.js: no input for batch ${n}`);
    const out = (await model.executeAsync(f, 'embeddings')) as tf.Tensor;
    try {
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  });
  disposers.push(() => {
    model.dispose();
    for (const f of feeds.values()) for (const x of Object.values(f)) x.dispose();
  });
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  const mt = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) as boolean;
  const threads = getThreadsCount();
  const build = mt ? 'threaded-SIMD' : simd ? 'SIMD' : 'plain';
  return {
    id: spec.id,
    label: spec.label,
    runtimeMs,
    loadMs,
    threads,
    version: tf.version_core,
    build,
    detail:
      `tfjs ${tf.version_core} wasm: ${build} build, ${threads} thread(s)` +
      (shown !== undefined ? ` (setThreadsCount(${spec.threads}), hardwareConcurrency shown as ${shown} while it started: its pool is capped at half the cores)` : ''),
  };
}

async function ortColumn(spec: Extract<ColumnSpec, { kind: 'ort' }>, config: PageConfig, onnx: Uint8Array, input: (n: number) => Float32Array): Promise<ColumnInfo> {
  let t = performance.now();
  const mod = (await import(/* @vite-ignore */ config.ortModule)) as typeof Ort & { default?: typeof Ort };
  const ort = mod.InferenceSession ? mod : mod.default!;
  // Set once per page: onnxruntime-web initializes its wasm (and its thread count) once.
  ort.env.wasm.numThreads = spec.threads;
  ort.env.wasm.wasmPaths = config.ortWasmPaths;
  ort.env.wasm.proxy = false;
  const runtimeMs = performance.now() - t;
  t = performance.now();
  const session = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const loadMs = performance.now() - t;
  const tensors = new Map<number, Ort.Tensor>();
  runs.set(spec.id, async (n) => {
    let x = tensors.get(n);
    if (!x) tensors.set(n, (x = new ort.Tensor('float32', input(n), [n, SIZE, SIZE, 3])));
    const result = await session.run({ input: x });
    const out = result['embeddings'];
    if (!out) throw new Error(`Cannot run onnxruntime-web: no "embeddings" output (got ${Object.keys(result).join(', ')})`);
    try {
      return Float32Array.from(out.data as Float32Array);
    } finally {
      for (const v of Object.values(result)) v.dispose();
    }
  });
  disposers.push(() => session.release());
  // onnxruntime-web lowers numThreads to 1 where threads are unavailable (not cross-origin isolated).
  const threads = ort.env.wasm.numThreads ?? spec.threads;
  return {
    id: spec.id,
    label: spec.label,
    runtimeMs,
    loadMs,
    threads,
    version: ort.env.versions?.web ?? '?',
    build: 'SIMD (threaded build)',
    detail: `onnxruntime-web ${ort.env.versions?.web ?? '?'} wasm, numThreads ${threads}`,
  };
}

/** Loads every column of the session; the models and the input are fetched once. */
export async function init(config: PageConfig): Promise<PageInfo> {
  let t = performance.now();
  const kinds = new Set(config.columns.map((c) => c.kind));
  const [raw, converted, onnx, inputBytes] = await Promise.all([
    kinds.has('tfjs') ? fetchBytes(config.rawModel) : undefined,
    kinds.has('opencv') ? fetchBytes(config.convertedModel) : undefined,
    kinds.has('ort') ? fetchBytes(config.onnxModel) : undefined,
    fetchBytes(config.input),
  ]);
  const x8 = new Float32Array(inputBytes!.buffer, inputBytes!.byteOffset, inputBytes!.byteLength / 4);
  if (x8.length !== config.batch * FACE) throw new RangeError(`Cannot run: the input holds ${x8.length} values, expected ${config.batch} faces`);
  const fetchMs = performance.now() - t;
  const input = inputsOf(x8);
  let artifacts: ReturnType<typeof toGraphModelArtifacts> | undefined;
  t = performance.now();
  if (raw) {
    artifacts = toGraphModelArtifacts(
      decodeGraph(raw),
      { input: { shape: [config.batch, SIZE, SIZE, 3], data: x8 }, phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' } },
      ['embeddings'],
    );
  }
  const artifactsMs = performance.now() - t;
  const columns: ColumnInfo[] = [];
  for (const spec of config.columns) {
    if (runs.has(spec.id)) throw new RangeError(`Cannot init: column "${spec.id}" given twice`);
    if (spec.kind === 'opencv') columns.push(await openCvColumn(spec, converted!, input));
    else if (spec.kind === 'tfjs') columns.push(await tfjsColumn(spec, artifacts!, x8, config.batch, config.tfjsWasmPaths));
    else columns.push(await ortColumn(spec, config, onnx!, input));
  }
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    columns,
    fetchMs,
    artifactsMs,
  };
}

function runOf(id: string): Run {
  const r = runs.get(id);
  if (!r) throw new RangeError(`Cannot run: no column "${id}" (have ${[...runs.keys()].join(', ')})`);
  return r;
}

/** One call, its embeddings and its time in the page (for the agreement runs). */
export async function output(id: string, n: number): Promise<{ data: number[]; ms: number }> {
  const t = performance.now();
  const out = await runOf(id)(n);
  const ms = performance.now() - t;
  return { data: Array.from(out), ms };
}

/** One timed call: returns one value of the result (kept in a sink); `noop` returns at once. */
export async function run(id: string, n: number): Promise<number> {
  if (id === 'noop') return 0;
  const out = await runOf(id)(n);
  sink += out[0]!;
  return out[0]!;
}

/** Frees every column (nets, models, sessions). */
export async function dispose(): Promise<number> {
  for (const d of disposers.splice(0)) await d();
  runs.clear();
  return sink;
}
