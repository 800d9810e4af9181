/**
 * The bench summary: one short Markdown page (`bench/results/summary.md`) built from the other
 * suites' saved JSON (forward, native, runtime, convert, match), next to the seed's table. Run
 * alone (`npx tsx bench/summary.ts`) it rebuilds the page from the last saved results.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { markdown as browserTable, type BrowserBenchResult } from './browser.js';
import type { ConvertBenchResult } from './convert.js';
import { BATCH, GFLOP_PER_FACE, machine, type EngineResult, type ForwardBenchResult } from './forward.js';
import type { NativeBenchResult, NativeTiming } from './native.js';
import type { RuntimeBenchResult } from './runtime.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

/** The seed's figures (MacBook Pro 2018, Python, TensorFlow 1.x vs OpenCV DNN), seconds per face. */
export const SEED = { machine: 'MacBook Pro 2018', tensorflowCpuS: 1, opencvDnnS: 0.09 } as const;

export interface SummaryOptions {
  /** Wall time of the whole `npm run bench`, ms. Default: not reported. */
  totalMs?: number;
}

function readJson<T>(name: string): T | undefined {
  const path = `${RESULTS}${name}`;
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}

const ms = (x: number | undefined, d = 0): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
const ratio = (x: number | undefined, y: number | undefined): string =>
  x === undefined || y === undefined ? '–' : `${(x / y).toFixed(x / y >= 10 ? 0 : x / y >= 1 ? 1 : 2)}×`;

interface Column {
  name: string;
  b1?: number;
  b8?: number;
  /** Fastest sample, ms per face: steadier than the median on a shared machine. */
  b1min?: number;
  b8min?: number;
  note?: string;
}

function engineColumn(name: string, e: EngineResult | undefined): Column {
  if (!e) return { name, note: 'not run' };
  if (!e.timed) return { name, note: `not timed: ${e.refused ?? 'disagreed'}` };
  return { name, b1: e.batch1?.msPerFace, b8: e.batch8?.msPerFace, b1min: e.batch1?.minMsPerFace, b8min: e.batch8?.minMsPerFace };
}

function nativeColumn(name: string, n: NativeBenchResult | undefined, threads: (t: NativeTiming) => boolean): Column {
  if (!n) return { name, note: 'not run' };
  if (n.skipped) return { name, note: `skipped: ${n.skipped}` };
  if (!n.agrees || !n.timings) return { name, note: 'not timed: outputs differ from OpenCV.js' };
  const t = n.timings.filter(threads);
  const at = (n: number) => t.find((x) => x.batch === n);
  const min = (n: number) => (at(n) ? at(n)!.minMs / n : undefined);
  return { name, b1: at(1)?.msPerFace, b8: at(BATCH)?.msPerFace, b1min: min(1), b8min: min(BATCH) };
}

/** Builds the summary page from the saved results, writes `summary.md` and returns it. */
export function writeSummary(options: SummaryOptions = {}): string {
  const fwd = readJson<ForwardBenchResult>('forward-summary.json');
  const nat = readJson<NativeBenchResult>('native-summary.json');
  const rt = readJson<RuntimeBenchResult>('runtime-summary.json');
  const conv = readJson<ConvertBenchResult>('convert-summary.json');
  const match = readJson<{ medianMs: Record<string, number> }>('match-summary.json');
  const m = fwd?.machine ?? { ...machine(), loadavgBefore: [], loadavgAfter: [] };
  const engine = (id: string) => fwd?.engines.find((e) => e.id === id);

  const cpu = engineColumn('TF.js CPU', engine('tfjs-cpu'));
  const wasm = engineColumn('TF.js WASM (SIMD, 1 thread)', engine('tfjs-wasm'));
  const ocv = engineColumn('OpenCV.js 4.12 stock (1 thread, no SIMD)', engine('opencv-js'));
  const ocvSimd = engine('opencv-js-simd') ? engineColumn('OpenCV.js 4.6 SIMD (wasm/build.sh, 1 thread)', engine('opencv-js-simd')) : undefined;
  const native1 = nativeColumn('native OpenCV 4.6 (1 thread)', nat, (t) => t.threads === 1);
  const nativeN = nativeColumn(`native OpenCV 4.6 (${nat?.defaultThreads ?? 'all'} threads)`, nat, (t) => t.threads !== 1);
  // Columns added later (threads build, worker pool, onnxruntime-web), labelled as the run labelled them.
  const extra = (id: string) => {
    const e = engine(id);
    return e ? [engineColumn(e.label.replace(/ \((converted graph|original graph)[^)]*\)$/, ''), e)] : [];
  };
  const cols = [cpu, wasm, ...extra('ort-wasm'), ...extra('ort-wasm-2t'), ocv, ...(ocvSimd ? [ocvSimd] : []), ...extra('opencv-js-simd-threads'), ...extra('opencv-js-simd-pool'), native1, ...(nat?.defaultThreads && nat.defaultThreads > 1 ? [nativeN] : [])];
  const gflops = (x: number | undefined) => (x === undefined ? undefined : GFLOP_PER_FACE / (x / 1000));
  // "OpenCV.js is N× faster than this column": the column's time over OpenCV.js's (< 1× = slower).
  const speedup = (c: Column, b: 'b1' | 'b8') => (c === ocv ? '1×' : ratio(c[b], ocv[b]));

  const lines: string[] = [
    '# facenet-dnn bench summary',
    '',
    `Machine: ${m.cores} cores, ${m.cpu}, Node ${m.node}` +
      (m.loadavgBefore.length ? `; load average ${m.loadavgBefore[0]!.toFixed(1)} before / ${m.loadavgAfter[0]!.toFixed(1)} after the forward suite (the cores are shared)` : '') +
      '.' +
      (options.totalMs !== undefined ? ` Whole \`npm run bench\` (convert + match + runtime + forward + native): ${(options.totalMs / 60000).toFixed(1)} min.` : ''),
    '',
    `## Forward, full-size FaceNet-anatomy graph (${GFLOP_PER_FACE} GFLOP per face)`,
    '',
    `| | ${cols.map((c) => c.name).join(' | ')} |`,
    `| --- |${cols.map(() => ' ---: |').join('')}`,
    `| ms per face, batch 1: median (fastest) | ${cols.map((c) => c.note ?? `${ms(c.b1)} (${ms(c.b1min)})`).join(' | ')} |`,
    `| ms per face, batch ${BATCH}: median (fastest) | ${cols.map((c) => (c.note ? '' : `${ms(c.b8)} (${ms(c.b8min)})`)).join(' | ')} |`,
    `| GFLOP/s at the median, batch 1 / ${BATCH} | ${cols.map((c) => (c.note ? '' : `${ms(gflops(c.b1), 2)} / ${ms(gflops(c.b8), 2)}`)).join(' | ')} |`,
    `| OpenCV.js speed-up vs this column, batch 1 / ${BATCH} | ${cols.map((c) => (c.note ? '' : `${speedup(c, 'b1')} / ${speedup(c, 'b8')}`)).join(' | ')} |`,
  ];
  if (fwd) {
    const worst = Math.max(...fwd.agreement.map((g) => g.maxAbsDiff));
    lines.push(
      '',
      `TF.js runs the ORIGINAL graph (\`phase_train=false\`, Switch/Merge) loaded once; OpenCV.js and native OpenCV run the converted graph. ` +
        `Every column was checked on the same 8 faces before timing: largest max |Δ| between the JS columns ${worst.toExponential(1)}` +
        (nat?.maxAbsDiff ? `, native vs OpenCV.js ${Math.max(nat.maxAbsDiff.batch1, nat.maxAbsDiff.batch8).toExponential(1)}` : '') +
        ` (tolerance ${fwd.tolerance}). TF.js WASM threads: ${fwd.tfjs.threadedWasm.works ? 'the threaded build works in Node' : 'the threaded-SIMD build cannot start in Node (tfjs disables it under Node; forced on, Node\'s worker_threads rejects the blob: URL it gives for the worker script: ERR_WORKER_PATH)'}.`,
    );
  }
  if (fwd) {
    // Issue 5's targets, read off this run: single thread ≤ 90 ms per face, all cores ≤ 50, faster
    // than TF.js WASM and onnxruntime-web (their best column) at both batch sizes.
    const at = (id: string, b: 1 | 8) => (b === 1 ? engine(id)?.batch1 : engine(id)?.batch8)?.msPerFace;
    const peers = ['tfjs-wasm', 'ort-wasm', 'ort-wasm-2t'];
    const rows: string[] = [];
    const check = (ok: boolean | undefined, text: string) => rows.push(`- ${ok === undefined ? 'not run' : ok ? 'yes' : 'NO'}: ${text}`);
    for (const b of [1, BATCH] as const) {
      const one = at('opencv-js-simd', b);
      const multi = [at('opencv-js-simd-threads', b), at('opencv-js-simd-pool', b)].filter((x): x is number => x !== undefined);
      const best = multi.length ? Math.min(...multi) : undefined;
      const peer = Math.min(...peers.map((id) => at(id, b) ?? Infinity));
      check(one === undefined ? undefined : one <= 90, `batch ${b}: OpenCV.js SIMD, 1 thread ≤ 90 ms per face: ${ms(one)} ms`);
      check(best === undefined ? undefined : best <= 50, `batch ${b}: OpenCV.js on ${m.cores} cores (threads build or worker pool, the faster) ≤ 50 ms per face: ${ms(best)} ms`);
      check(one === undefined || !Number.isFinite(peer) ? undefined : Math.min(one, best ?? Infinity) < peer, `batch ${b}: OpenCV.js faster than TF.js WASM and onnxruntime-web (best of them ${ms(peer)} ms per face)`);
    }
    lines.push('', 'Speed targets (issue 5), this run, Node:', '', ...rows);
  }
  const browser = readJson<BrowserBenchResult>('browser-summary.json');
  if (browser) lines.push('', '## Forward in headless Chromium (`bench/browser.ts`)', '', browserTable(browser));
  const js = (c: Column) => (c.b1 === undefined ? '–' : `${(c.b1 / 1000).toFixed(2)} s`);
  lines.push(
    '',
    '## Against the seed',
    '',
    `| | seed: ${SEED.machine}, TensorFlow / OpenCV DNN (Python) | this machine, JavaScript | this machine, native |`,
    '| --- | ---: | ---: | ---: |',
    `| TensorFlow, s per face | ~${SEED.tensorflowCpuS} | TF.js CPU ${js(cpu)}, TF.js WASM ${js(wasm)} | – |`,
    `| OpenCV DNN, s per face | ~${SEED.opencvDnnS} | OpenCV.js ${js(ocv)} | OpenCV 4.6 ${native1.b1 === undefined ? '–' : `${(native1.b1 / 1000).toFixed(3)} s`} |`,
    `| TensorFlow ÷ OpenCV | ~${(SEED.tensorflowCpuS / SEED.opencvDnnS).toFixed(0)}× | TF.js CPU ÷ OpenCV.js ${ratio(cpu.b1, ocv.b1)}, TF.js WASM ÷ OpenCV.js ${ratio(wasm.b1, ocv.b1)} | TF.js CPU ÷ native ${ratio(cpu.b1, native1.b1)}, TF.js WASM ÷ native ${ratio(wasm.b1, native1.b1)} |`,
  );

  if (rt) {
    lines.push(
      '',
      '## Preprocess one face (decode + crop + resize 160 + standardize), ms median',
      '',
      '| photo | plain TS `preprocess()` | OpenCV.js path | image-js path | decode alone |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...rt.preprocess.map(
        (p) => `| ${p.file} (${p.width}×${p.height}) | ${ms(p.tsMs, 1)} | ${ms(p.opencvMs, 1)} | ${ms(p.imagejsMs, 1)} | ${ms(p.decodeMs, 1)} |`,
      ),
    );
  }
  lines.push('', '## Load, ms', '', '| step | ms |', '| --- | ---: |');
  if (rt) {
    lines.push(
      `| OpenCV.js init (\`loadOpenCV()\`, fresh process) | ${ms(rt.load.opencvInitMs)} |`,
      `| import the converted graph into OpenCV.js (\`createFaceNet\`) | ${ms(rt.load.importMs)} |`,
    );
  }
  if (conv) lines.push(`| convert the ${(conv.memory.modelBytes / 1e6).toFixed(0)} MB graph (\`--preset facenet\`), warm / cold | ${ms(conv.convertMs)} / ${ms(conv.memory.convertMs)} |`);
  if (fwd) {
    lines.push(
      `| TF.js: GraphDef → graph-model artifacts | ${ms(fwd.tfjs.artifactsMs)} |`,
      `| TF.js: \`loadGraphModelSync\`, CPU / WASM | ${ms(engine('tfjs-cpu')?.loadMs)} / ${ms(engine('tfjs-wasm')?.loadMs)} |`,
    );
  }
  if (nat?.importMs !== undefined) lines.push(`| native OpenCV 4.6: \`readNetFromTensorflow\` of the converted graph | ${ms(nat.importMs)} |`);
  if (match) {
    const mm = match.medianMs;
    const pick = (prefix: string) => Object.entries(mm).find(([k]) => k.startsWith(prefix))?.[1];
    lines.push(
      '',
      '## Match (512-d), median',
      '',
      '| verify one pair | top-5 search, 1k faces | top-5 search, 100k faces | `distance()` + sort, 100k |',
      '| ---: | ---: | ---: | ---: |',
      `| ${ms((pick('verify') ?? NaN) * 1000, 1)} µs | ${ms(pick('gallery search top-5, 1k'), 2)} ms | ${ms(pick('gallery search top-5, 100k'), 0)} ms | ${ms(pick('alternative: distance()'), 0)} ms |`,
    );
  }
  const text = lines.join('\n') + '\n';
  writeFileSync(`${RESULTS}summary.md`, text);
  return text;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(writeSummary());
