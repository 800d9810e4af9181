/**
 * Forward benchmark, the seed's claim in JavaScript ("OpenCV DNN is ~10× faster than TensorFlow":
 * MacBook Pro 2018, TensorFlow CPU ~1 s per face, OpenCV DNN ~0.09 s per face). One process, one
 * benny suite, side by side, on the full-size FaceNet-anatomy graph (2.84 GFLOP per face), one face
 * and a batch of 8:
 * - **OpenCV.js** (stock `@techstark/opencv-js` 4.12: no SIMD, no threads) running the CONVERTED
 *   graph through the project's runtime (`createFaceNet` + `embedTensor`);
 * - **TensorFlow.js** 4.22 on its `cpu` backend (plain JS kernels) and its `wasm` backend (XNNPACK,
 *   SIMD build, one thread) running the ORIGINAL graph with `phase_train = false`, Switch/Merge
 *   included, loaded once from the artifacts `test/support/reference.ts` builds, so a timed call is
 *   `executeAsync` + reading the `[N, 512]` result back (OpenCV's call copies its result out too).
 *
 * Before anything is timed every column runs the same inputs and the outputs are compared pairwise;
 * a column that is not within 1e-4 (max |Δ|) of at least half of the other columns is refused and
 * not timed. The TF.js CPU backend takes seconds per face, so sample counts are small and fixed per
 * case (`minSamples`, `maxTime: 0`): a benny probe call is skipped (see `timedCase`), so N samples
 * of calls of 50 ms or more cost exactly N calls. Each case of the ~0.1 s columns is preceded by
 * its own warm-up case (3 samples at batch 1, 1 at batch 8; `warmedCases`), saved in forward.json
 * as `… (warm-up)` and left out of the summary.
 *
 * TF.js WASM with threads (`tfjs-backend-wasm-threaded-simd.wasm`) is tried in a child process and
 * recorded; in Node it cannot work (see `probeWasmThreads`).
 */
import b from 'benny';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModelSync } from '@tensorflow/tfjs-converter';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { convert } from '../src/converter/convert.js';
import { decodeGraph } from '../src/converter/proto/codec.js';
import type { FaceNet } from '../src/runtime/embed/facenet.js';
import { createFaceNet } from '../src/runtime/embed/node.js';
import { buildFiles, createNodeOpenCVLoader, fetchOrReadFile, withProcessListenersRestored, type CV } from '../src/runtime/opencv/node.js';
import { createOpenCVLoader } from '../src/runtime/opencv/load.js';
import { terminateThreads } from '../src/runtime/opencv/shared.js';
import { createRequire } from 'node:module';
import { toGraphModelArtifacts } from '../test/support/reference.js';
import { maxAbsDiff, refusals } from './support/agreement.js';
import { batchInput } from './support/inputs.js';
import { WARM_UP_SAMPLES, warmedCases } from './support/timed-case.js';
import { exportOnnx } from './support/onnx.js';
import { createOrtColumn } from './support/ort.js';
import { fullModelBytes } from './support/models.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const SIZE = 160;
const FACE = SIZE * SIZE * 3;
const DIM = 512;
/** Multiply-adds ×2 of Inception-ResNet-v1 at 160×160 (docs/facenet-graph.md). */
export const GFLOP_PER_FACE = 2.84;
/** Largest max |Δ| between two columns' embeddings for them to count as computing the same thing. */
export const AGREEMENT_TOLERANCE = 1e-4;
export const BATCH = 8;
/** Threads of the SIMD+threads column: the cores of this machine (2 here), at most the build's pool of 4. */
export const OPENCV_THREADS = Math.min(cpus().length, 4);


export type EngineId =
  | 'tfjs-cpu'
  | 'tfjs-wasm'
  | 'ort-wasm'
  | 'ort-wasm-2t'
  | 'opencv-js'
  | 'opencv-js-simd'
  | 'opencv-js-simd-threads'
  | 'opencv-js-simd-pool';

/** Timings of one engine at one batch size (ms per call = per batch). */
export interface CaseTiming {
  batch: number;
  samples: number;
  medianMs: number;
  minMs: number;
  msPerFace: number;
  minMsPerFace: number;
  gflopPerS: number;
}

export interface EngineResult {
  id: EngineId;
  label: string;
  /** Whether the column agreed with the others and was timed. */
  timed: boolean;
  /** Why it was not timed. */
  refused?: string;
  batch1?: CaseTiming;
  batch8?: CaseTiming;
  /** One-time cost of making the engine ready (tfjs: `loadGraphModelSync`; OpenCV.js: `createFaceNet` import). */
  loadMs: number;
  /** The first call at batch 1 and at batch 8 (the agreement runs: warm-up costs included). */
  firstCallMs: { batch1: number; batch8: number };
}

export interface ForwardBenchResult {
  gflopPerFace: number;
  inputs: { batch1: string; batch8: string[] };
  engines: EngineResult[];
  /** Pairwise max |Δ| of the embeddings, per batch size. */
  agreement: Array<{ a: EngineId; b: EngineId; batch: number; maxAbsDiff: number }>;
  tolerance: number;
  tfjs: {
    version: string;
    artifactsMs: number;
    wasmSimd: boolean;
    wasmThreads: number;
    /** The threaded-SIMD WASM build, tried in a child process. */
    threadedWasm: { works: boolean; detail: string };
  };
  /** onnxruntime-web: its version and the ONNX export of the converted graph. */
  ort?: { version: string; onnxExportMs: number; onnxBytes: number };
  machine: { cores: number; cpu: string; node: string; loadavgBefore: number[]; loadavgAfter: number[] };
}

/** What the native cross-check needs from this run, kept in memory (not in the JSON). */
export interface ForwardData {
  converted: Uint8Array;
  x1: Float32Array;
  x8: Float32Array;
  opencv: { batch1: Float32Array; batch8: Float32Array };
}



/**
 * Tries tfjs-backend-wasm's threaded SIMD build in this process (run as a child with
 * `--child-wasm-threads`). tfjs 4.22 reports no thread support under Node on purpose (its
 * `WASM_HAS_MULTITHREAD_SUPPORT` flag returns false when `IS_NODE`, tfjs issue #3830), so the flag is
 * forced on: then the backend hands Emscripten's pthread pool the worker script as a `blob:` URL
 * (and the main script as a Blob), and Node's `worker_threads.Worker` only takes file paths and
 * `file:`/`data:` URLs, so initialization fails with ERR_WORKER_PATH. In a browser the same build
 * needs cross-origin isolation (COOP/COEP headers) for SharedArrayBuffer.
 */
async function probeWasmThreadsChild(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(cpus().length);
  const errors: string[] = [];
  const origError = console.error;
  const origWarn = console.warn;
  console.error = console.warn = (...a: unknown[]) => void errors.push(a.map((x) => (x instanceof Error ? `${x.name}: ${x.message}` : String(x))).join(' '));
  const timer = setTimeout(() => {
    console.log(JSON.stringify({ works: false, detail: `no answer in 30 s; ${errors.join(' | ')}` }));
    process.exit(0);
  }, 30_000);
  let works = false;
  let detail = '';
  try {
    works = await tf.setBackend('wasm');
    if (works) {
      const m = tf.ones([64, 64]);
      const v = (await tf.matMul(m, m).data())[0];
      detail = `initialized with ${wasm.getThreadsCount()} threads, 64×64 matMul[0] = ${v}`;
      works = v === 64;
    }
  } catch (e) {
    errors.push(e instanceof Error ? e.message : String(e));
  }
  clearTimeout(timer);
  console.error = origError;
  console.warn = origWarn;
  if (!works) detail = errors.map((e) => e.split('\n')[0]).join(' | ') || 'setBackend("wasm") returned false';
  console.log(JSON.stringify({ works, detail }));
  process.exit(0); // a half-started pthread pool would keep the process alive
}

function probeWasmThreads(): { works: boolean; detail: string } {
  try {
    const text = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child-wasm-threads'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    return JSON.parse(text.trim().split('\n').pop()!) as { works: boolean; detail: string };
  } catch (e) {
    return { works: false, detail: `the probe process failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  }
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // not Linux: fall back to what Node reports
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** The machine, as the summary prints it. */
export function machine(): { cores: number; cpu: string; node: string } {
  return { cores: cpus().length, cpu: cpuModel(), node: process.version };
}

interface TfjsColumn {
  backend: 'cpu' | 'wasm';
  model: ReturnType<typeof loadGraphModelSync>;
  feeds1: Record<string, tf.Tensor>;
  feeds8: Record<string, tf.Tensor>;
  loadMs: number;
}

async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (tf.getBackend() === name) return;
  if (!(await tf.setBackend(name))) throw new Error(`Cannot run the forward bench: tfjs backend "${name}" failed to initialize`);
  await tf.ready();
}

async function runTfjs(col: TfjsColumn, batch: 1 | 8): Promise<Float32Array> {
  await useBackend(col.backend);
  const out = (await col.model.executeAsync(batch === 1 ? col.feeds1 : col.feeds8, 'embeddings')) as tf.Tensor;
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

type BennyResult = { name: string; samples: number; details: { median: number; min: number } };

/**
 * Runs the forward suite, saves `forward.json` / `forward.chart.html` / `forward-summary.json`.
 * Returns the summary and, for the native cross-check, the inputs and OpenCV.js outputs.
 */
export async function runForwardBench(log: (s: string) => void = console.log): Promise<{ result: ForwardBenchResult; data: ForwardData }> {
  mkdirSync(RESULTS, { recursive: true });
  const loadavgBefore = loadavg();
  log('forward: TF.js WASM threaded-SIMD build, tried in a child process …');
  const threadedWasm = probeWasmThreads();
  log(`  ${threadedWasm.works ? 'works' : 'does not work'}: ${threadedWasm.detail}`);

  const raw = fullModelBytes(log);
  const { x8, names } = await batchInput(log);
  const x1 = x8.slice(0, FACE);

  // --- OpenCV.js on the converted graph: the stock package and the SIMD build of wasm/build.sh, each
  // its own instance (the process-wide loadOpenCV() would hand both columns the same build).
  const stockCv: CV = await createOpenCVLoader({ sandbox: withProcessListenersRestored, fetch: fetchOrReadFile })({
    url: pathToFileURL(createRequire(import.meta.url).resolve('@techstark/opencv-js')),
  });
  const converted = convert(raw, { preset: 'facenet' }).model;
  let t = performance.now();
  const facenet: FaceNet = await createFaceNet({ model: converted, cv: stockCv });
  const opencvLoadMs = performance.now() - t;
  const simdFiles = buildFiles('simd');
  let simd: { facenet: FaceNet; loadMs: number } | undefined;
  if (simdFiles) {
    const simdCv = await createNodeOpenCVLoader()({ build: 'simd' });
    t = performance.now();
    simd = { facenet: await createFaceNet({ model: converted, cv: simdCv }), loadMs: performance.now() - t };
  } else {
    log('forward: no wasm/dist/simd build: the OpenCV.js SIMD column is skipped (run wasm/build.sh)');
  }
  const mtFiles = buildFiles('simd-threads');
  let mt: { facenet: FaceNet; loadMs: number; cv: CV } | undefined;
  if (mtFiles) {
    // The threads build as the Node adapter loads it (worker_threads, workers unref'd), as an
    // instance of its own with OPENCV_THREADS threads.
    const mtCv = await createNodeOpenCVLoader()({ build: 'simd-threads', threads: OPENCV_THREADS });
    t = performance.now();
    mt = { facenet: await createFaceNet({ model: converted, cv: mtCv }), loadMs: performance.now() - t, cv: mtCv };
  } else {
    log('forward: no wasm/dist/simd-threads build: the OpenCV.js SIMD+threads column is skipped (run wasm/build.sh)');
  }

  // --- The same converted graph on every core: a pool of OPENCV_THREADS workers, each its own
  // single-thread SIMD OpenCV.js (createFaceNet's `workers`); a batch is split across them.
  let pool: { facenet: FaceNet; loadMs: number } | undefined;
  if (simdFiles && OPENCV_THREADS > 1) {
    t = performance.now();
    pool = { facenet: await createFaceNet({ model: converted, workers: OPENCV_THREADS, opencv: { build: 'simd' } }), loadMs: performance.now() - t };
  }

  // --- onnxruntime-web (wasm, SIMD) on the converted graph exported to ONNX: 1 thread in this
  // process; 2 threads in a child process (ORT fixes its thread count once per process).
  t = performance.now();
  const onnx = exportOnnx(converted).bytes;
  const onnxExportMs = performance.now() - t;
  const ort1 = await createOrtColumn(onnx, { threads: 1 });
  const ort2 = cpus().length > 1 ? await createOrtColumn(onnx, { threads: 2, childProcess: true }) : undefined;

  // --- TF.js on the original graph: artifacts built once, one model per backend, loaded while that
  // backend is active so its weights live there (no cross-backend copies inside the timings).
  const graph = decodeGraph(raw);
  const feedSpec = {
    input: { shape: [BATCH, SIZE, SIZE, 3], data: x8 },
    phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' as const },
  };
  t = performance.now();
  const artifacts = toGraphModelArtifacts(graph, feedSpec, ['embeddings']);
  const artifactsMs = performance.now() - t;
  await import('@tensorflow/tfjs-backend-wasm');
  const columns: Record<'cpu' | 'wasm', TfjsColumn> = {} as never;
  for (const backend of ['cpu', 'wasm'] as const) {
    await useBackend(backend);
    t = performance.now();
    const model = loadGraphModelSync({ ...artifacts, format: 'graph-model' } as unknown as tf.io.ModelArtifacts);
    const loadMs = performance.now() - t;
    const phase = () => tf.tensor(new Uint8Array([0]), [], 'bool');
    columns[backend] = {
      backend,
      model,
      loadMs,
      feeds1: { input: tf.tensor(x1, [1, SIZE, SIZE, 3]), phase_train: phase() },
      feeds8: { input: tf.tensor(x8, [BATCH, SIZE, SIZE, 3]), phase_train: phase() },
    };
  }
  await useBackend('wasm');
  const wasmSimd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  const wasmThreads = getThreadsCount();

  const engines: Array<{ id: EngineId; label: string; loadMs: number; run: (batch: 1 | 8) => Promise<Float32Array> }> = [
    { id: 'tfjs-cpu', label: 'TF.js CPU backend (original graph)', loadMs: columns.cpu.loadMs, run: (n) => runTfjs(columns.cpu, n) },
    { id: 'tfjs-wasm', label: 'TF.js WASM backend, SIMD, 1 thread (original graph)', loadMs: columns.wasm.loadMs, run: (n) => runTfjs(columns.wasm, n) },
    { id: 'ort-wasm', label: ort1.label, loadMs: ort1.loadMs, run: (n) => ort1.run(n === 1 ? x1 : x8, n) },
    ...(ort2 ? [{ id: 'ort-wasm-2t' as const, label: ort2.label, loadMs: ort2.loadMs, run: (n: 1 | 8) => ort2.run(n === 1 ? x1 : x8, n) }] : []),
    {
      id: 'opencv-js',
      label: 'OpenCV.js 4.12 (converted graph, createFaceNet)',
      loadMs: opencvLoadMs,
      run: (n) => facenet.embedTensor(n === 1 ? x1 : x8, n),
    },
    ...(simd
      ? [{
          id: 'opencv-js-simd' as const,
          label: 'OpenCV.js 4.6 SIMD, wasm/build.sh (converted graph, createFaceNet)',
          loadMs: simd.loadMs,
          run: (n: 1 | 8) => simd!.facenet.embedTensor(n === 1 ? x1 : x8, n),
        }]
      : []),
    ...(mt
      ? [{
          id: 'opencv-js-simd-threads' as const,
          label: `OpenCV.js 4.6 SIMD+threads, ${OPENCV_THREADS} threads, wasm/build.sh (converted graph, createFaceNet)`,
          loadMs: mt.loadMs,
          run: (n: 1 | 8) => mt!.facenet.embedTensor(n === 1 ? x1 : x8, n),
        }]
      : []),
    ...(pool
      ? [{
          id: 'opencv-js-simd-pool' as const,
          label: `OpenCV.js 4.6 SIMD, ${OPENCV_THREADS} workers × 1 thread (converted graph, createFaceNet workers)`,
          loadMs: pool.loadMs,
          run: (n: 1 | 8) => pool!.facenet.embedTensor(n === 1 ? x1 : x8, n),
        }]
      : []),
  ];

  // --- Agreement first: every column on the same inputs (these runs also warm every engine up).
  const outputs = new Map<EngineId, { 1: Float32Array; 8: Float32Array }>();
  const firstCall = new Map<EngineId, { batch1: number; batch8: number }>();
  for (const e of engines) {
    log(`forward: ${e.label}: agreement runs (batch 1, batch ${BATCH}) …`);
    t = performance.now();
    const o1 = await e.run(1);
    const batch1 = performance.now() - t;
    t = performance.now();
    const o8 = await e.run(BATCH);
    const batch8 = performance.now() - t;
    if (o1.length !== DIM || o8.length !== BATCH * DIM) throw new Error(`Cannot compare ${e.id}: got ${o1.length} and ${o8.length} values, expected ${DIM} and ${BATCH * DIM}`);
    outputs.set(e.id, { 1: Float32Array.from(o1), 8: Float32Array.from(o8) });
    firstCall.set(e.id, { batch1, batch8 });
    log(`  first calls: ${batch1.toFixed(0)} ms (batch 1), ${batch8.toFixed(0)} ms (batch ${BATCH})`);
  }
  const agreement: ForwardBenchResult['agreement'] = [];
  for (let i = 0; i < engines.length; i++) {
    for (let j = i + 1; j < engines.length; j++) {
      for (const batch of [1, BATCH] as const) {
        const a = engines[i]!.id;
        const c = engines[j]!.id;
        agreement.push({ a, b: c, batch, maxAbsDiff: maxAbsDiff(outputs.get(a)![batch], outputs.get(c)![batch]) });
      }
    }
  }
  for (const g of agreement) log(`  max |Δ| ${g.a} vs ${g.b}, batch ${g.batch}: ${g.maxAbsDiff.toExponential(2)}`);
  const refusedWhy = refusals(engines.map((e) => e.id), agreement, AGREEMENT_TOLERANCE);
  for (const [id, why] of refusedWhy) log(`forward: NOT timing ${id}: ${why}`);

  // --- The timings. Sample counts per case: TF.js CPU is ~6 s per face on this machine.
  const plan: Record<EngineId, { 1: number; 8: number }> = {
    'opencv-js': { 1: 5, 8: 2 },
    // The columns that take ~0.1 s per face get the same, larger sample counts, so that one burst of
    // noise from the shared host moves their medians less.
    'opencv-js-simd': { 1: 25, 8: 8 },
    'opencv-js-simd-threads': { 1: 25, 8: 8 },
    'opencv-js-simd-pool': { 1: 25, 8: 8 },
    'ort-wasm': { 1: 25, 8: 8 },
    'ort-wasm-2t': { 1: 25, 8: 8 },
    'tfjs-wasm': { 1: 11, 8: 4 },
    'tfjs-cpu': { 1: 3, 8: 1 },
  };
  // Warm-up samples right before each case (see `warmedCases`): the columns of ~0.1 s per face only;
  // on the stock build (~1 s per face) and TF.js CPU (seconds) the idle cost is lost in the noise,
  // and a warm-up would add about a minute.
  const unwarmed = new Set<EngineId>(['opencv-js', 'tfjs-cpu']);
  let sink = 0; // keeps results alive so nothing is optimized away
  const cases = engines
    .filter((e) => !refusedWhy.has(e.id))
    .flatMap((e) =>
      ([1, BATCH] as const).flatMap((n) =>
        warmedCases(
          `${e.id} batch ${n}`,
          async () => {
            sink += (await e.run(n))[0]!;
          },
          plan[e.id][n],
          unwarmed.has(e.id) ? 0 : WARM_UP_SAMPLES[n],
        ),
      ),
    );
  const suite = await b.suite(
    `forward: full-size FaceNet-anatomy graph (${GFLOP_PER_FACE} GFLOP per face), batch 1 and ${BATCH}`,
    ...cases,
    b.cycle(),
    b.complete(),
    b.save({ file: 'forward', folder: RESULTS, format: 'json', details: true }),
    b.save({ file: 'forward', folder: RESULTS, format: 'chart.html' }),
  );
  if (!Number.isFinite(sink)) throw new Error('a benchmarked call returned a non-finite result');
  const byName = new Map((suite.results as unknown as BennyResult[]).map((r) => [r.name, r]));
  const timing = (id: EngineId, n: number): CaseTiming | undefined => {
    const r = byName.get(`${id} batch ${n}`);
    if (!r) return undefined;
    const medianMs = r.details.median * 1000;
    const minMs = r.details.min * 1000;
    return {
      batch: n,
      samples: r.samples,
      medianMs,
      minMs,
      msPerFace: medianMs / n,
      minMsPerFace: minMs / n,
      gflopPerS: (GFLOP_PER_FACE * n) / (medianMs / 1000),
    };
  };

  const result: ForwardBenchResult = {
    gflopPerFace: GFLOP_PER_FACE,
    inputs: { batch1: names[0]!, batch8: names },
    engines: engines.map((e) => ({
      id: e.id,
      label: e.label,
      timed: !refusedWhy.has(e.id),
      ...(refusedWhy.has(e.id) ? { refused: refusedWhy.get(e.id)! } : {}),
      batch1: timing(e.id, 1),
      batch8: timing(e.id, BATCH),
      loadMs: e.loadMs,
      firstCallMs: firstCall.get(e.id)!,
    })),
    agreement,
    tolerance: AGREEMENT_TOLERANCE,
    tfjs: { version: tf.version_core, artifactsMs, wasmSimd, wasmThreads, threadedWasm },
    ort: { version: ort1.version, onnxExportMs, onnxBytes: onnx.length },
    machine: { ...machine(), loadavgBefore, loadavgAfter: loadavg() },
  };
  writeFileSync(`${RESULTS}forward-summary.json`, JSON.stringify(result, null, 2) + '\n');

  const oc = outputs.get('opencv-js')!;
  for (const col of Object.values(columns)) {
    await useBackend(col.backend);
    col.model.dispose();
    for (const x of [...Object.values(col.feeds1), ...Object.values(col.feeds8)]) x.dispose();
  }
  await facenet.dispose();
  await simd?.facenet.dispose();
  await pool?.facenet.dispose();
  await ort1.dispose();
  await ort2?.dispose();
  if (mt) {
    await mt.facenet.dispose();
    terminateThreads(mt.cv);
  }
  log(markdown(result));
  return { result, data: { converted, x1, x8, opencv: { batch1: oc[1], batch8: oc[8] } } };
}

/** The forward table as Markdown. */
export function markdown(r: ForwardBenchResult): string {
  const f = (x: number | undefined, d = 0): string => (x === undefined ? '–' : x.toFixed(d));
  const lines = [
    `| engine | ms per face, batch 1: median (fastest) | batch ${BATCH} | GFLOP/s batch 1 / ${BATCH} | load ms | first call ms (1 / ${BATCH}) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.engines.map((e) =>
      e.timed
        ? `| ${e.label} | ${f(e.batch1?.msPerFace)} (${f(e.batch1?.minMsPerFace)}) | ${f(e.batch8?.msPerFace)} (${f(e.batch8?.minMsPerFace)}) | ` +
          `${f(e.batch1?.gflopPerS, 2)} / ${f(e.batch8?.gflopPerS, 2)} | ${f(e.loadMs)} | ${f(e.firstCallMs.batch1)} / ${f(e.firstCallMs.batch8)} |`
        : `| ${e.label} | not timed: ${e.refused} | | | | |`,
    ),
    '',
    `Agreement (max |Δ| of the embeddings, tolerance ${r.tolerance}): ` +
      r.agreement.map((g) => `${g.a} vs ${g.b} (batch ${g.batch}) ${g.maxAbsDiff.toExponential(1)}`).join('; ') + '.',
    `TF.js WASM: SIMD ${r.tfjs.wasmSimd ? 'on' : 'off'}, ${r.tfjs.wasmThreads} thread(s); threaded-SIMD build in Node: ` +
      `${r.tfjs.threadedWasm.works ? 'works' : 'does not work'} (${r.tfjs.threadedWasm.detail}).`,
  ];
  return lines.join('\n');
}

if (process.argv.includes('--child-wasm-threads')) {
  await probeWasmThreadsChild();
} else if (process.argv.includes('--table')) {
  console.log(markdown(JSON.parse(readFileSync(`${RESULTS}forward-summary.json`, 'utf8')) as ForwardBenchResult));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  await runForwardBench();
}
