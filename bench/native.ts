/**
 * Native cross-check: the CONVERTED graph in native OpenCV (Debian's python3-opencv, OpenCV 4.6,
 * through `bench/native.py`), on the same inputs as the forward suite. Its embeddings must equal
 * OpenCV.js's within 1e-4 (max |Δ|) or its timings are refused; it then becomes the "native" column
 * of the summary, the closest thing here to the seed's "OpenCV DNN" figure.
 *
 * The Python is `/usr/bin/python3` (Debian installs cv2 for the system Python; a `python3` on PATH
 * may be a pyenv one without it); `FACENET_DNN_PYTHON` overrides it. When it or cv2 is missing the
 * suite prints why, writes `{"skipped": …}` and carries on.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convert } from '../src/converter/convert.js';
import { createFaceNet } from '../src/runtime/embed/node.js';
import { AGREEMENT_TOLERANCE, BATCH, GFLOP_PER_FACE, type ForwardData } from './forward.js';
import { maxAbsDiff } from './support/agreement.js';
import { fullModelBytes } from './support/models.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./native.py', import.meta.url));
const SIZE = 160;
const FACE = SIZE * SIZE * 3;
/** Timed forwards per batch size and thread count (after one untimed one). */
const RUNS = 5;

/** One native timing (ms per call = per batch). */
export interface NativeTiming {
  threads: number;
  batch: number;
  runsMs: number[];
  medianMs: number;
  minMs: number;
  msPerFace: number;
  gflopPerS: number;
}

export interface NativeBenchResult {
  /** Set when the native column could not run (no Python, no cv2): why. */
  skipped?: string;
  python?: string;
  opencv?: string;
  /** OpenCV's default thread count (all cores). */
  defaultThreads?: number;
  /** `readNetFromTensorflow` of the converted graph, ms. */
  importMs?: number;
  /** max |Δ| native vs OpenCV.js, per batch size. */
  maxAbsDiff?: { batch1: number; batch8: number };
  agrees?: boolean;
  tolerance: number;
  /** With 1 thread (like OpenCV.js and TF.js WASM here) and with OpenCV's default (all cores). */
  timings?: NativeTiming[];
}

interface PyOut {
  skip?: string;
  opencv: string;
  python: string;
  executable: string;
  defaultThreads: number;
  importMs: number;
  results: Array<{ threads: number; batch: number; runsMs: number[]; medianMs: number; minMs: number; shape: number[] }>;
}

/** The Python that has cv2: `FACENET_DNN_PYTHON`, else Debian's system one. */
function python(): string {
  return process.env['FACENET_DNN_PYTHON'] ?? '/usr/bin/python3';
}

function save(r: NativeBenchResult): NativeBenchResult {
  writeFileSync(`${RESULTS}native-summary.json`, JSON.stringify(r, null, 2) + '\n');
  return r;
}

/** The forward suite's inputs and OpenCV.js outputs, recomputed when this suite runs alone. */
async function ownData(log: (s: string) => void): Promise<ForwardData> {
  log('native: computing the OpenCV.js outputs to compare with (run alone) …');
  const converted = convert(fullModelBytes(log), { preset: 'facenet' }).model;
  // The same deterministic inputs whether or not the photos exist: this is a cross-check only.
  const x8 = new Float32Array(BATCH * FACE);
  let s = 12345;
  for (let k = 0; k < x8.length; k++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x8[k] = s / 2 ** 31 - 1;
  }
  const x1 = x8.slice(0, FACE);
  const facenet = await createFaceNet({ model: converted });
  try {
    return { converted, x1, x8, opencv: { batch1: await facenet.embedTensor(x1, 1), batch8: await facenet.embedTensor(x8, BATCH) } };
  } finally {
    await facenet.dispose();
  }
}

/**
 * Runs `bench/native.py` on the converted graph and the forward suite's inputs, compares its
 * embeddings with OpenCV.js's and saves `native-summary.json`.
 *
 * @param data the forward suite's inputs and OpenCV.js outputs. Default: computed here.
 */
export async function runNativeBench(data?: ForwardData, log: (s: string) => void = console.log): Promise<NativeBenchResult> {
  const py = python();
  if (!existsSync(py)) {
    const why = `${py} does not exist (install python3-opencv, or set FACENET_DNN_PYTHON to a Python with cv2)`;
    log(`native: SKIPPED: ${why}`);
    return save({ skipped: why, tolerance: AGREEMENT_TOLERANCE });
  }
  const d = data ?? (await ownData(log));
  const dir = mkdtempSync(join(tmpdir(), 'facenet-dnn-native-'));
  try {
    const model = join(dir, 'facenet.dnn.pb');
    writeFileSync(model, d.converted);
    writeFileSync(join(dir, 'x1.f32'), d.x1);
    writeFileSync(join(dir, 'x8.f32'), d.x8);
    log(`native: ${py} bench/native.py (OpenCV DNN on the converted graph, ${RUNS} runs per case) …`);
    let text: string;
    try {
      text = execFileSync(py, [SCRIPT, model, dir, String(RUNS), '1,0', `${join(dir, 'x1.f32')}:1`, `${join(dir, 'x8.f32')}:${BATCH}`], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 1 << 20,
      });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      const why = `native.py failed: ${(err.stderr || err.message).trim().split('\n').pop()}`;
      log(`native: SKIPPED: ${why}`);
      return save({ skipped: why, tolerance: AGREEMENT_TOLERANCE });
    }
    const out = JSON.parse(text.trim().split('\n').pop()!) as PyOut;
    if (out.skip) {
      log(`native: SKIPPED: ${out.skip}`);
      return save({ skipped: out.skip, tolerance: AGREEMENT_TOLERANCE });
    }
    const read = (n: number): Float32Array => {
      const buf = readFileSync(join(dir, `native-b${n}.f32`));
      return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    };
    const diff = { batch1: maxAbsDiff(read(1), d.opencv.batch1), batch8: maxAbsDiff(read(BATCH), d.opencv.batch8) };
    const agrees = diff.batch1 <= AGREEMENT_TOLERANCE && diff.batch8 <= AGREEMENT_TOLERANCE;
    log(`native: OpenCV ${out.opencv}: max |Δ| vs OpenCV.js ${diff.batch1.toExponential(2)} (batch 1), ${diff.batch8.toExponential(2)} (batch ${BATCH})`);
    if (!agrees) log(`native: NOT reporting native timings: outputs differ from OpenCV.js by more than ${AGREEMENT_TOLERANCE}`);
    const timings: NativeTiming[] = out.results.map((r) => ({
      threads: r.threads,
      batch: r.batch,
      runsMs: r.runsMs,
      medianMs: r.medianMs,
      minMs: r.minMs,
      msPerFace: r.medianMs / r.batch,
      gflopPerS: (GFLOP_PER_FACE * r.batch) / (r.medianMs / 1000),
    }));
    for (const t of timings) log(`  ${t.threads} thread(s), batch ${t.batch}: ${t.msPerFace.toFixed(1)} ms per face (median of ${t.runsMs.length}), ${t.gflopPerS.toFixed(1)} GFLOP/s`);
    return save({
      python: `${out.executable} ${out.python}`,
      opencv: out.opencv,
      defaultThreads: out.defaultThreads,
      importMs: out.importMs,
      maxAbsDiff: diff,
      agrees,
      tolerance: AGREEMENT_TOLERANCE,
      ...(agrees ? { timings } : {}),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runNativeBench();
