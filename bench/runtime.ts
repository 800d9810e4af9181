/**
 * Runtime benchmarks (benny, saved as JSON + chart):
 * - preprocess one face of a real JPEG (decode + crop with a face box + bilinear resize to 160 +
 *   fixed standardization): the project's pure-TS `preprocess()` against two named alternatives,
 *   the same steps in OpenCV.js (image-js decode, since this build has no `imdecode`, then Mat +
 *   `roi` + `cvtColor` + `cv.resize` INTER_LINEAR + `cv.blobFromImage`) and in image-js alone
 *   (`decode` + `crop` + `resize` + a standardization loop, bench/preprocess.ts), and the decode
 *   alone for reference;
 * - forward of the full-size FaceNet-anatomy graph (2.84 GFLOP per face): `embedTensor` batch 1 and
 *   batch 4, and `embed(jpegBytes)` end to end;
 * - load: OpenCV.js initialization in fresh child processes (it happens once per process), the
 *   full-size conversion and its import into OpenCV.
 *
 * Stock OpenCV.js runs the full model at about 1 s per face on one thread, so sample counts are
 * kept small: the whole bench takes about 2–3 minutes on 2 vCPUs.
 */
import b from 'benny';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decode } from 'image-js';
import { convert } from '../src/converter/convert.js';
import { createFaceNet } from '../src/runtime/embed/node.js';
import { maxAbsDiff } from './support/agreement.js';
import type { FaceNet } from '../src/runtime/embed/facenet.js';
import { loadOpenCV, type CV } from '../src/runtime/opencv/node.js';
import { faceCrop, preprocess, type FaceBox } from '../src/runtime/preprocess/index.js';
import { imagejsPreprocess } from './preprocess.js';
import { fullModelBytes } from './support/models.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const IMAGES = new URL('../../shared/images/', import.meta.url);
const SIZE = 160;
const FACE = SIZE * SIZE * 3;
/** Multiply-adds ×2 of Inception-ResNet-v1 at 160×160 (docs/facenet-graph.md). */
const GFLOP_PER_FACE = 2.84;

/** The photos and face boxes preprocessed (boxes read off OpenCV's res10 detector, as in test/e2e). */
const FACES: ReadonlyArray<{ file: string; box: FaceBox }> = [
  { file: 'Anthony_Hopkins_0001.jpg', box: { x1: 70, y1: 60, x2: 180, y2: 190 } }, // 250×250
  { file: 'hse_test_image.jpg', box: { x1: 597, y1: 210, x2: 659, y2: 272 } }, // 784×588
];

export interface RuntimeBenchResult {
  /** Median milliseconds per call, by benny case name. */
  medianMs: Record<string, number>;
  /** Fastest sample (ms per call), by benny case name: steadier than the median on a shared machine. */
  minMs: Record<string, number>;
  /** Per photo: median and fastest sample (ms) of each path, and the largest TS − OpenCV difference. */
  preprocess: Array<{
    file: string;
    width: number;
    height: number;
    tsMs: number;
    opencvMs: number;
    decodeMs: number;
    tsMinMs: number;
    opencvMinMs: number;
    decodeMinMs: number;
    maxAbsDiff: number;
    /** The image-js path (bench/preprocess.ts): median and fastest ms. */
    imagejsMs: number;
    imagejsMinMs: number;
    /** Largest and mean |TS − image-js| in grey levels (image-js' bilinear grid is not OpenCV's). */
    imagejsMaxGreyDiff: number;
    imagejsMeanGreyDiff: number;
  }>;
  forward: {
    batch1MsPerFace: number;
    batch4MsPerFace: number;
    batch1GflopPerS: number;
    batch4GflopPerS: number;
    embedJpegMs: number;
    /** The first forward after import (one-time OpenCV set-up included). */
    firstForwardMs: number;
  };
  load: {
    /** `loadOpenCV()` in a fresh process: import + wasm compile + init, median of the runs. */
    opencvInitMs: number;
    opencvInitRunsMs: number[];
    /** Process start → OpenCV ready (node + tsx start-up included), median. */
    processToReadyMs: number;
    /** Full-size raw graph → OpenCV-ready bytes (`convert(bytes, {preset:'facenet'})`), median. */
    convertMs: number;
    /** `createFaceNet({ model: convertedBytes, cv })` (import into OpenCV), median. */
    importMs: number;
    /** `createFaceNet({ model: rawBytes, cv })`: conversion on the fly + import, one run. */
    createFromRawMs: number;
    modelBytes: number;
  };
  /** WASM memory of OpenCV.js at the end of the bench. */
  wasmHeapBytes: number;
}

function medianOf(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function photo(file: string): Uint8Array {
  const buf = readFileSync(new URL(file, IMAGES));
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * The alternative: the same face preprocessing done by OpenCV.js. Returns the NCHW blob values
 * (what OpenCV's net takes), copied out of the WASM heap. Every Mat is deleted in `finally`.
 */
function opencvPreprocess(cv: CV, jpeg: Uint8Array, box: FaceBox): Float32Array {
  // This build has no imdecode: decode with image-js (RGBA for JPEG), as the TS path does.
  const img = decode(jpeg);
  const raw = img.getRawImage();
  const type = img.channels === 4 ? cv.CV_8UC4 : cv.CV_8UC3;
  const rect = faceCrop(img.width, img.height, box);
  const mats: Array<{ delete(): void }> = [];
  try {
    const src = cv.matFromArray(img.height, img.width, type, raw.data);
    mats.push(src);
    const roi = src.roi(new cv.Rect(rect.x, rect.y, rect.width, rect.height));
    mats.push(roi);
    let rgb = roi;
    if (img.channels === 4) {
      // Drop alpha on the crop only (cheaper than on the whole photo), as pixelsToRgb does.
      rgb = new cv.Mat();
      mats.push(rgb);
      cv.cvtColor(roi, rgb, cv.COLOR_RGBA2RGB);
    }
    const resized = new cv.Mat();
    mats.push(resized);
    cv.resize(rgb, resized, new cv.Size(SIZE, SIZE), 0, 0, cv.INTER_LINEAR);
    const blob = cv.blobFromImage(resized, 1 / 128, new cv.Size(SIZE, SIZE), new cv.Scalar(127.5, 127.5, 127.5), false, false);
    mats.push(blob);
    return Float32Array.from(blob.data32F as Float32Array);
  } finally {
    for (const m of mats.reverse()) m.delete();
  }
}

/** NCHW (one image) → NHWC, for comparing the two paths. */
function nchwToNhwc(x: Float32Array): Float32Array {
  const hw = SIZE * SIZE;
  const out = new Float32Array(FACE);
  for (let c = 0; c < 3; c++) for (let i = 0; i < hw; i++) out[i * 3 + c] = x[c * hw + i]!;
  return out;
}

/** OpenCV.js init in `runs` fresh processes (this file with `--child-load`). */
function childLoads(runs: number): Array<{ initMs: number; sinceStartMs: number }> {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const text = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child-load'], { encoding: 'utf8' });
    out.push(JSON.parse(text.trim().split('\n').pop()!) as { initMs: number; sinceStartMs: number });
  }
  return out;
}

function timeMs(f: () => void): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

async function timeMsAsync(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

type BennyResult = { name: string; details: { median: number; min: number } };

export async function runRuntimeBench(log: (s: string) => void = console.log): Promise<RuntimeBenchResult> {
  mkdirSync(RESULTS, { recursive: true });

  // --- load: in child processes first, while this process has not loaded OpenCV yet.
  log('runtime: OpenCV.js init in 3 fresh processes …');
  const loads = childLoads(3);
  const cv = await loadOpenCV();

  // --- preprocess: agreement first (outside the timings), then the timings.
  const faces = FACES.map((f) => ({ ...f, bytes: photo(f.file) }));
  const agreement: Array<{ file: string; width: number; height: number; maxAbsDiff: number; imagejsMaxGreyDiff: number; imagejsMeanGreyDiff: number }> = [];
  for (const f of faces) {
    const mine = await preprocess(f.bytes, { box: f.box });
    const theirs = nchwToNhwc(opencvPreprocess(cv, f.bytes, f.box));
    const d = maxAbsDiff(mine, theirs);
    // The resizes may differ by 1 grey level in rare rounding ties; 1/128 after standardization.
    if (!(d <= 1 / 128 + 1e-6)) throw new Error(`preprocess of ${f.file}: TS and OpenCV.js paths differ by ${d} (> 1/128)`);
    const img = decode(f.bytes);
    // The image-js path is a speed alternative only: record how far its pixels are, in grey levels.
    const ij = imagejsPreprocess(f.bytes, f.box);
    let ijMax = 0;
    let ijSum = 0;
    for (let i = 0; i < ij.length; i++) {
      const g = Math.abs(ij[i]! - mine[i]!) * 128;
      ijMax = Math.max(ijMax, g);
      ijSum += g;
    }
    agreement.push({ file: f.file, width: img.width, height: img.height, maxAbsDiff: d, imagejsMaxGreyDiff: Math.round(ijMax), imagejsMeanGreyDiff: ijSum / ij.length });
  }

  let sink = 0; // keeps results alive so nothing is optimized away
  const pre = await b.suite(
    'runtime: preprocess one face (decode + crop + resize 160 + fixed standardization)',
    ...faces.flatMap((f) => [
      b.add(`preprocess() pure TS, ${f.file}`, async () => {
        sink += (await preprocess(f.bytes, { box: f.box }))[0]!;
      }),
      b.add(`alternative: OpenCV.js roi + resize + blobFromImage, ${f.file}`, () => {
        sink += opencvPreprocess(cv, f.bytes, f.box)[0]!;
      }),
      b.add(`alternative: image-js crop + resize + JS standardize, ${f.file}`, () => {
        sink += imagejsPreprocess(f.bytes, f.box)[0]!;
      }),
      b.add(`decode only (image-js), ${f.file}`, () => {
        sink += decode(f.bytes).width;
      }),
    ]),
    b.configure({ cases: { minSamples: 10, maxTime: 3 } }),
    b.cycle(),
    b.complete(),
    b.save({ file: 'runtime-preprocess', folder: RESULTS, format: 'json', details: true }),
    b.save({ file: 'runtime-preprocess', folder: RESULTS, format: 'chart.html' }),
  );

  // --- load: the full model's conversion and import (medians of 3; each net freed right away).
  const raw = fullModelBytes(log);
  let converted: Uint8Array = new Uint8Array();
  const convertRuns = [0, 1, 2].map(() => timeMs(() => void (converted = convert(raw, { preset: 'facenet' }).model)));
  const importRuns: number[] = [];
  for (let i = 0; i < 3; i++) {
    let net: FaceNet | undefined;
    importRuns.push(await timeMsAsync(async () => void (net = await createFaceNet({ model: converted, cv }))));
    await net!.dispose();
  }
  let facenet!: FaceNet;
  const createFromRawMs = await timeMsAsync(async () => void (facenet = await createFaceNet({ model: raw, cv })));

  // --- forward on the full-size model.
  const one = await preprocess(faces[0]!.bytes, { box: faces[0]!.box });
  const four = new Float32Array(4 * FACE);
  for (let i = 0; i < 4; i++) four.set(await preprocess(faces[i % 2]!.bytes, { box: faces[i % 2]!.box }), i * FACE);
  const firstForwardMs = await timeMsAsync(() => facenet.embedTensor(one, 1));
  const jpeg = faces[0]!.bytes;
  const box = faces[0]!.box;
  const fwd = await b.suite(
    'runtime: full-size FaceNet-anatomy forward (2.84 GFLOP per face)',
    b.add('embedTensor batch 1 (per call = 1 face)', async () => {
      sink += (await facenet.embedTensor(one, 1))[0]!;
    }, { minSamples: 3, maxTime: 3 }),
    b.add('embedTensor batch 4 (per call = 4 faces)', async () => {
      sink += (await facenet.embedTensor(four, 4))[0]!;
    }, { minSamples: 2, maxTime: 1 }),
    b.add('embed(jpegBytes, {box}) end to end', async () => {
      sink += (await facenet.embed(jpeg, { box }))[0]!;
    }, { minSamples: 3, maxTime: 3 }),
    b.cycle(),
    b.complete(),
    b.save({ file: 'runtime-forward', folder: RESULTS, format: 'json', details: true }),
    b.save({ file: 'runtime-forward', folder: RESULTS, format: 'chart.html' }),
  );
  const wasmHeapBytes = (cv.HEAPU8 as Uint8Array).buffer.byteLength;
  await facenet.dispose();
  if (!Number.isFinite(sink)) throw new Error('a benchmarked call returned a non-finite result');

  const results = [...(pre.results as unknown as BennyResult[]), ...(fwd.results as unknown as BennyResult[])];
  const medianMs = Object.fromEntries(results.map((r) => [r.name, r.details.median * 1000]));
  const minMs = Object.fromEntries(results.map((r) => [r.name, r.details.min * 1000]));
  const ms = (prefix: string, table: Record<string, number> = medianMs): number => pick(table, prefix);
  const b1 = ms('embedTensor batch 1');
  const b4 = ms('embedTensor batch 4') / 4;
  const result: RuntimeBenchResult = {
    medianMs,
    minMs,
    preprocess: agreement.map((a) => ({
      ...a,
      tsMs: ms(`preprocess() pure TS, ${a.file}`),
      opencvMs: ms(`alternative: OpenCV.js roi + resize + blobFromImage, ${a.file}`),
      decodeMs: ms(`decode only (image-js), ${a.file}`),
      tsMinMs: ms(`preprocess() pure TS, ${a.file}`, minMs),
      opencvMinMs: ms(`alternative: OpenCV.js roi + resize + blobFromImage, ${a.file}`, minMs),
      decodeMinMs: ms(`decode only (image-js), ${a.file}`, minMs),
      imagejsMs: ms(`alternative: image-js crop + resize + JS standardize, ${a.file}`),
      imagejsMinMs: ms(`alternative: image-js crop + resize + JS standardize, ${a.file}`, minMs),
    })),
    forward: {
      batch1MsPerFace: b1,
      batch4MsPerFace: b4,
      batch1GflopPerS: GFLOP_PER_FACE / (b1 / 1000),
      batch4GflopPerS: GFLOP_PER_FACE / (b4 / 1000),
      embedJpegMs: ms('embed(jpegBytes'),
      firstForwardMs,
    },
    load: {
      opencvInitMs: medianOf(loads.map((l) => l.initMs)),
      opencvInitRunsMs: loads.map((l) => Math.round(l.initMs)),
      processToReadyMs: medianOf(loads.map((l) => l.sinceStartMs)),
      convertMs: medianOf(convertRuns),
      importMs: medianOf(importRuns),
      createFromRawMs,
      modelBytes: raw.length,
    },
    wasmHeapBytes,
  };
  writeFileSync(`${RESULTS}runtime-summary.json`, JSON.stringify(result, null, 2) + '\n');
  log(markdown(result));
  return result;
}

function pick(table: Record<string, number>, prefix: string): number {
  const hit = Object.entries(table).find(([name]) => name.startsWith(prefix));
  if (!hit) throw new Error(`no bench case named "${prefix}…"`);
  return hit[1];
}

/** The summary as Markdown tables (for the README). */
export function markdown(r: RuntimeBenchResult): string {
  const f = (x: number, d = 1): string => x.toFixed(d);
  const lines = [
    '| preprocess one face, ms: median (fastest) | pure TS `preprocess()` | OpenCV.js roi + resize + blobFromImage | image-js crop + resize + JS loop | decode only (image-js) | max diff TS vs OpenCV | TS vs image-js, grey levels max / mean |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.preprocess.map(
      (p) =>
        `| ${p.file} (${p.width}×${p.height}) | ${f(p.tsMs, 2)} (${f(p.tsMinMs, 2)}) | ${f(p.opencvMs, 2)} (${f(p.opencvMinMs, 2)}) | ` +
        `${p.imagejsMs === undefined ? '–' : `${f(p.imagejsMs, 2)} (${f(p.imagejsMinMs, 2)})`} | ` +
        `${f(p.decodeMs, 2)} (${f(p.decodeMinMs, 2)}) | ${p.maxAbsDiff === 0 ? '0' : p.maxAbsDiff.toExponential(1)} | ` +
        `${p.imagejsMaxGreyDiff === undefined ? '–' : `${p.imagejsMaxGreyDiff} / ${f(p.imagejsMeanGreyDiff, 1)}`} |`,
    ),
    '',
    '| full-size FaceNet-anatomy forward | ms per face, median (fastest) | GFLOP/s at the median (fastest) |',
    '| --- | ---: | ---: |',
    ...([
      ['embedTensor batch 1', 'embedTensor batch 1', 1],
      ['embedTensor batch 4', 'embedTensor batch 4', 4],
      ['embed(jpegBytes, {box}) end to end', 'embed(jpegBytes', 1],
    ] as const).map(([label, prefix, n]) => {
      const med = pick(r.medianMs, prefix) / n;
      const min = pick(r.minMs, prefix) / n;
      return `| ${label} | ${f(med, 0)} (${f(min, 0)}) | ${f(GFLOP_PER_FACE / (med / 1000), 2)} (${f(GFLOP_PER_FACE / (min / 1000), 2)}) |`;
    }),
    `| first forward after import | ${f(r.forward.firstForwardMs, 0)} | |`,
    '',
    '| load | ms |',
    '| --- | ---: |',
    `| OpenCV.js init, \`loadOpenCV()\` in a fresh process (median of ${r.load.opencvInitRunsMs.length}: ${r.load.opencvInitRunsMs.join(', ')}) | ${f(r.load.opencvInitMs, 0)} |`,
    `| process start → OpenCV.js ready (node + tsx start-up included) | ${f(r.load.processToReadyMs, 0)} |`,
    `| convert the ${f(r.load.modelBytes / 1e6)} MB raw graph (preset facenet) | ${f(r.load.convertMs, 0)} |`,
    `| import the converted graph into OpenCV.js (\`createFaceNet\`) | ${f(r.load.importMs, 0)} |`,
    `| \`createFaceNet\` from the raw graph (convert on the fly + import) | ${f(r.load.createFromRawMs, 0)} |`,
    '',
    `OpenCV.js WASM memory at the end: ${f(r.wasmHeapBytes / 2 ** 20, 0)} MiB.`,
  ];
  return lines.join('\n');
}

if (process.argv.includes('--child-load')) {
  // One fresh process: time the one-per-process OpenCV.js load.
  const t = performance.now();
  const cv = await loadOpenCV();
  const initMs = performance.now() - t;
  if (typeof cv.Mat !== 'function') throw new Error('OpenCV.js loaded without cv.Mat');
  // performance.now() counts from the process's time origin: the whole start-up.
  console.log(JSON.stringify({ initMs, sinceStartMs: performance.now() }));
} else if (process.argv.includes('--table')) {
  // The tables of the last saved run, without running anything.
  console.log(markdown(JSON.parse(readFileSync(`${RESULTS}runtime-summary.json`, 'utf8')) as RuntimeBenchResult));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  await runRuntimeBench();
}
