/**
 * Checks an OpenCV.js build against the project's runtime: loads it, embeds a fixed input with the
 * converted tiny FaceNet (fixtures/facenet-tiny.pb) and times forwards of the full-size
 * FaceNet-anatomy graph (bench/support/models.ts). One build per process, so timings do not mix.
 *
 *   npx tsx wasm/check.ts stock          > /tmp/stock.json   # @techstark/opencv-js 4.12
 *   npx tsx wasm/check.ts simd           > /tmp/simd.json    # wasm/dist/simd via loadOpenCV({ url, wasmBinary })
 *   npx tsx wasm/check.ts simd-threads   > /tmp/mt.json      # wasm/dist/simd-threads/opencv_js.js required in Node
 *   npx tsx wasm/check.ts compare /tmp/stock.json /tmp/simd.json [/tmp/mt.json]
 *
 * Options: --runs N (full-size forwards timed after one warm-up; default 7), --no-full,
 * --dist DIR (take the simd / simd-threads files from DIR/simd, DIR/simd-threads instead of
 * wasm/dist, e.g. a build.sh DIST=… build not yet committed), --label NAME (the name `compare`
 * prints; default the mode, plus the dist dir when given), --threads N (setNumThreads before timing).
 *
 *   npx tsx wasm/check.ts simd --dist /work/opencv-build-410/dist --label 4.10-simd > /tmp/s410.json
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { convert } from '../src/converter/index.js';
import { loadOpenCV, type CV } from '../src/runtime/opencv/node.js';
import { TFNet } from '../src/runtime/opencv/forward.js';
import { terminateThreads } from '../src/runtime/opencv/shared.js';
import { fullModelBytes } from '../bench/support/models.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const args = process.argv.slice(2);
const mode = args[0] ?? 'simd';
const runs = Number(args[args.indexOf('--runs') + 1] || 0) || 7;
const doFull = !args.includes('--no-full');
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const distDir = opt('--dist');
const dist = (p: string) => (distDir ? `${distDir.replace(/\/$/, '')}/${p}` : here(`./dist/${p}`));
const label = opt('--label') ?? (distDir ? `${mode} (${distDir})` : mode);
const threadsWanted = Number(opt('--threads') ?? 0);
const log = (s: string) => process.stderr.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function input(n: number, size = 160): Float32Array {
  // Deterministic values in [-1, 1), as fixed standardization gives.
  const x = new Float32Array(n * size * size * 3);
  let s = 12345;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = (s >>> 8) / 2 ** 23 - 1;
  }
  return x;
}

async function load(): Promise<{ cv: CV; loadMs: number }> {
  const t = performance.now();
  let cv: CV;
  if (mode === 'stock') cv = await loadOpenCV({ build: 'stock' });
  else if (mode === 'simd' || mode === 'simd-url-only') {
    const js = dist('simd/opencv.js');
    cv = await loadOpenCV(mode === 'simd' ? { url: pathToFileURL(js), wasmBinary: readFileSync(dist('simd/opencv_js.wasm')) } : { url: pathToFileURL(js) });
  } else if (mode === 'simd-threads') {
    // The raw Emscripten glue, required so that Emscripten takes its Node path (worker_threads);
    // its workers load the same file (and opencv_js.worker.js beside it).
    // The wasm handed in: Emscripten 3.1.6 under Node >= 18 tries fetch() on the wasm's file path.
    const factory = createRequire(import.meta.url)(dist('simd-threads/opencv_js.js'));
    cv = await loadOpenCV({ module: factory, wasmBinary: readFileSync(dist('simd-threads/opencv_js.wasm')) });
  } else throw new Error(`unknown mode ${mode}`);
  return { cv, loadMs: performance.now() - t };
}

async function main() {
  if (mode === 'compare') return compare(args.slice(1));
  const { cv, loadMs } = await load();
  log(`${label}: loaded in ${loadMs.toFixed(0)} ms`);
  if (threadsWanted > 0) cv['setNumThreads'](threadsWanted);
  const threads = typeof cv['getNumThreads'] === 'function' ? cv['getNumThreads']() : null;
  const out: Record<string, unknown> = { mode, label, dist: distDir ?? null, loadMs, getNumThreads: threads };

  const tiny = convert(new Uint8Array(readFileSync(here('../fixtures/facenet-tiny.pb'))), { preset: 'facenet' }).model;
  const tnet = TFNet.import(cv, tiny);
  const tinyOut: Record<string, number[]> = {};
  for (const n of [1, 3]) {
    const [r] = tnet.run({ name: 'input', shape: [n, 160, 160, 3], data: input(n) }, ['embeddings']);
    tinyOut[`batch${n}`] = Array.from(r!.data);
    out[`tinyShape${n}`] = r!.shape;
  }
  tnet.delete();
  out['tiny'] = tinyOut;

  if (doFull) {
    const model = convert(fullModelBytes(log), { preset: 'facenet' }).model;
    let t = performance.now();
    const net = TFNet.import(cv, model);
    out['fullImportMs'] = performance.now() - t;
    const x = input(1);
    const times: number[] = [];
    let emb: Float32Array | undefined;
    for (let i = 0; i <= runs; i++) {
      t = performance.now();
      const [r] = net.run({ name: 'input', shape: [1, 160, 160, 3], data: x }, ['embeddings']);
      const ms = performance.now() - t;
      if (i === 0) out['fullFirstMs'] = ms;
      else times.push(ms);
      emb = r!.data;
    }
    net.delete();
    out['fullRunsMs'] = times.map((v) => Math.round(v * 10) / 10);
    out['fullMedianMs'] = median(times);
    out['fullMinMs'] = Math.min(...times);
    out['fullEmbedding'] = Array.from(emb!);
    log(`${label}: full forward median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}; first ${(out['fullFirstMs'] as number).toFixed(0)}), import ${(out['fullImportMs'] as number).toFixed(0)} ms`);
  }
  out['rssMB'] = Math.round(process.memoryUsage().rss / 2 ** 20);
  process.stdout.write(`${JSON.stringify(out)}\n`);
  terminateThreads(cv);
  process.exit(0);
}

function maxAbs(a: number[], b: number[]): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function compare(files: string[]) {
  const [ref, ...others] = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  for (const o of others) {
    const row: Record<string, unknown> = { build: o.label ?? o.mode, vs: ref.label ?? ref.mode };
    for (const k of Object.keys(ref.tiny)) row[`tiny ${k} max|Δ|`] = maxAbs(ref.tiny[k], o.tiny[k]);
    if (ref.fullEmbedding && o.fullEmbedding) {
      row['full max|Δ|'] = maxAbs(ref.fullEmbedding, o.fullEmbedding);
      row['full median ms'] = `${ref.fullMedianMs.toFixed(1)} → ${o.fullMedianMs.toFixed(1)} (${(ref.fullMedianMs / o.fullMedianMs).toFixed(1)}×)`;
    }
    console.log(JSON.stringify(row));
  }
}

main().catch((e) => {
  log(String(e?.stack ?? e));
  process.exit(1);
});
