/**
 * Soak: 10,000 embeddings through one `createFaceNet` on the committed tiny model, watching for
 * leaks and drift. Run: `npx tsx bench/soak.ts [--calls 10000] [--every 500]` (it re-executes itself
 * under `node --expose-gc` when `gc` is not exposed, so the JS heap is measured after a full GC).
 *
 * The call pattern, by step (each step is one request):
 * - every 10th step: `embedBatch([A, {B, box}, {C, box}])`, counted as 3 calls;
 * - every 100th step, in addition: an invalid image (text, empty, truncated or corrupt JPEG,
 *   truncated PNG), which must reject with `ERR_IMAGE` (not counted as a call); the next step then
 *   has to work;
 * - other steps: `embed()` alternating photo A (whole image) and photo B (with a face box).
 * Every embedding is compared bit for bit with the first one computed for the same input (single
 * calls against the first single call, batch rows against the first batch), so photo A is checked
 * on every other call, not only every 1000.
 *
 * Every `--every` calls (default 500; fewer for short runs) a sample records the OpenCV.js WASM
 * memory (`cv.HEAPU8.buffer.byteLength`: Emscripten memory grows and never shrinks, so "no leak"
 * means it stops growing after warm-up), the process RSS and the JS heap used after `gc()`.
 *
 * Verdict: PASS when the WASM memory is unchanged over the last 80 % of the calls, the RSS of every
 * later sample is < 5 % above the first sample after that 20 % warm-up, every embedding matched and
 * every invalid image was rejected with ERR_IMAGE; else FAIL and exit code 1. Results:
 * bench/results/soak.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FacenetDnnError } from '../src/converter/errors.js';
import { createFaceNet } from '../src/runtime/embed/node.js';
import { loadOpenCV } from '../src/runtime/opencv/node.js';
import type { FaceBox } from '../src/runtime/preprocess/index.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const IMAGES = new URL('../../shared/images/', import.meta.url);
const MODEL = fileURLToPath(new URL('../fixtures/facenet-tiny.pb', import.meta.url));
/** Fraction of the calls treated as warm-up by the verdict. */
const WARMUP = 0.2;
/** Largest RSS growth over the post-warm-up baseline that still passes. */
const RSS_LIMIT = 0.05;

export interface SoakSample {
  /** Embeddings computed so far. */
  calls: number;
  /** Invalid images rejected so far. */
  badInputs: number;
  elapsedS: number;
  /** Mean milliseconds per call since the previous sample. */
  msPerCall: number;
  wasmHeapBytes: number;
  rssBytes: number;
  /** `process.memoryUsage().heapUsed` after `gc()` (when exposed). */
  heapUsedBytes: number;
  /** ArrayBuffers and other memory outside the JS heap (`external`). */
  externalBytes: number;
}

export interface SoakResult {
  config: { calls: number; every: number; model: string; photos: string[]; gcExposed: boolean; node: string };
  samples: SoakSample[];
  checks: {
    embeddings: number;
    mismatches: number;
    firstMismatch?: string;
    badInputs: number;
    badInputFailures: number;
    firstBadInputFailure?: string;
    /** Calls right after an invalid image that worked and matched. */
    recoveries: number;
    /** Whether a batch row equals the single-call embedding of the same input (informational). */
    batchEqualsSingle: boolean;
  };
  verdict: {
    pass: boolean;
    warmupCalls: number;
    baselineCalls: number;
    wasmHeapBaselineBytes: number;
    wasmHeapFinalBytes: number;
    wasmHeapFlat: boolean;
    rssBaselineBytes: number;
    rssMaxAfterBytes: number;
    rssGrowth: number;
    heapUsedGrowth: number;
    reasons: string[];
  };
}

interface Face {
  name: string;
  bytes: Uint8Array;
  box?: FaceBox;
}

function photo(file: string, box?: FaceBox): Face {
  const buf = readFileSync(new URL(file, IMAGES));
  return { name: box ? `${file} (box)` : file, bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), ...(box ? { box } : {}) };
}

/** Invalid images, each of which must be rejected with ERR_IMAGE. */
function badInputs(jpeg: Uint8Array): Array<{ name: string; bytes: Uint8Array }> {
  const corrupt = jpeg.slice();
  corrupt.fill(0x55, 700); // headers intact, entropy-coded data replaced
  return [
    { name: 'text', bytes: new TextEncoder().encode('this is not an image') },
    { name: 'empty', bytes: new Uint8Array(0) },
    { name: 'JPEG truncated at half', bytes: jpeg.slice(0, jpeg.length >> 1) },
    { name: 'JPEG header only (20 bytes)', bytes: jpeg.slice(0, 20) },
    { name: 'JPEG with a corrupt scan', bytes: corrupt },
    { name: 'PNG signature, no IHDR', bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0]) },
  ];
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

export interface SoakOptions {
  /** Embeddings to compute. Default: 10000. */
  calls?: number;
  /** Calls between samples. Default: 500, or calls/20 when that is smaller. */
  every?: number;
  log?: (s: string) => void;
}

export async function runSoak(options: SoakOptions = {}): Promise<SoakResult> {
  const calls = options.calls ?? 10_000;
  const every = options.every ?? Math.max(1, Math.min(500, Math.floor(calls / 20)));
  const log = options.log ?? console.log;
  if (!Number.isInteger(calls) || calls <= 0) throw new RangeError(`Cannot soak: calls must be a positive integer, got ${calls}`);
  if (!Number.isInteger(every) || every <= 0) throw new RangeError(`Cannot soak: every must be a positive integer, got ${every}`);
  const gc = (globalThis as { gc?: () => void }).gc;

  const A = photo('Anthony_Hopkins_0001.jpg');
  const B = photo('Anthony_Hopkins_0002.jpg', { x1: 70, y1: 60, x2: 180, y2: 190 });
  // A face of the 784×588 photo (box read off OpenCV's res10 detector, as in test/e2e).
  const C = photo('hse_test_image.jpg', { x1: 282, y1: 128, x2: 346, y2: 192 });
  const singles = [A, B];
  const batch = [A, B, C];
  const bad = badInputs(A.bytes);

  const cv = await loadOpenCV();
  const facenet = await createFaceNet({ model: MODEL, cv });
  const wasm = (): number => (cv.HEAPU8 as Uint8Array).buffer.byteLength;

  const samples: SoakSample[] = [];
  const t0 = performance.now();
  let done = 0;
  let rejected = 0;
  let lastSample = { t: t0, calls: 0 };
  const sample = (): void => {
    gc?.();
    const m = process.memoryUsage();
    const now = performance.now();
    const s: SoakSample = {
      calls: done,
      badInputs: rejected,
      elapsedS: (now - t0) / 1000,
      msPerCall: done > lastSample.calls ? (now - lastSample.t) / (done - lastSample.calls) : 0,
      wasmHeapBytes: wasm(),
      rssBytes: m.rss,
      heapUsedBytes: m.heapUsed,
      externalBytes: m.external,
    };
    samples.push(s);
    lastSample = { t: now, calls: done };
    log(
      `${String(s.calls).padStart(6)} calls ${s.elapsedS.toFixed(0).padStart(4)} s  ${s.msPerCall.toFixed(1).padStart(5)} ms/call  ` +
        `wasm ${(s.wasmHeapBytes / 2 ** 20).toFixed(0)} MiB  rss ${(s.rssBytes / 2 ** 20).toFixed(1)} MiB  ` +
        `heap ${(s.heapUsedBytes / 2 ** 20).toFixed(1)} MiB  external ${(s.externalBytes / 2 ** 20).toFixed(1)} MiB`,
    );
  };

  const refSingle = new Map<Face, Float32Array>();
  let refBatch: Float32Array[] | undefined;
  let mismatches = 0;
  let firstMismatch: string | undefined;
  let badFailures = 0;
  let firstBadFailure: string | undefined;
  let recoveries = 0;
  let afterBad = false;
  const check = (face: Face, got: Float32Array, ref: Float32Array | undefined, where: string): Float32Array => {
    if (!ref) return got;
    if (!sameBits(got, ref)) {
      mismatches++;
      firstMismatch ??= `call ${done}: ${where} ${face.name} differs from its first embedding`;
    }
    return ref;
  };

  sample();
  let step = 0;
  while (done < calls) {
    step++;
    if (step % 100 === 0) {
      const b = bad[(step / 100 - 1) % bad.length]!;
      try {
        await facenet.embed(b.bytes);
        badFailures++;
        firstBadFailure ??= `step ${step}: invalid image "${b.name}" was accepted`;
      } catch (e) {
        if (!(e instanceof FacenetDnnError && e.code === 'ERR_IMAGE')) {
          badFailures++;
          firstBadFailure ??= `step ${step}: invalid image "${b.name}" rejected with ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
        }
      }
      rejected++;
      afterBad = true;
    }
    const before = mismatches;
    try {
      if (step % 10 === 0) {
        const rows = await facenet.embedBatch(batch.map((f) => (f.box ? { image: f.bytes, box: f.box } : f.bytes)));
        refBatch ??= rows;
        rows.forEach((r, i) => check(batch[i]!, r, refBatch![i], 'batch row'));
        done += rows.length;
      } else {
        const face = singles[step % singles.length]!;
        const e = await facenet.embed(face.bytes, face.box ? { box: face.box } : {});
        refSingle.set(face, check(face, e, refSingle.get(face), 'embed()'));
        done++;
      }
      if (afterBad && mismatches === before) recoveries++;
    } catch (e) {
      // A valid call that fails is a correctness failure: count it and go on to see if it persists.
      mismatches++;
      firstMismatch ??= `call ${done}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
      done++;
    }
    afterBad = false;
    if (Math.floor(done / every) > Math.floor(lastSample.calls / every) || done >= calls) sample();
  }
  await facenet.dispose();

  const rowsMatch = refBatch !== undefined && [A, B].every((f, i) => refSingle.has(f) && sameBits(refSingle.get(f)!, refBatch![i]!));

  // Verdict over the samples after warm-up.
  const warmupCalls = Math.floor(calls * WARMUP);
  const baseIndex = samples.findIndex((s) => s.calls >= warmupCalls);
  const base = samples[baseIndex]!;
  const after = samples.slice(baseIndex);
  const last = samples[samples.length - 1]!;
  const wasmHeapFlat = after.every((s) => s.wasmHeapBytes === base.wasmHeapBytes);
  const rssMaxAfterBytes = Math.max(...after.map((s) => s.rssBytes));
  const rssGrowth = (rssMaxAfterBytes - base.rssBytes) / base.rssBytes;
  const reasons: string[] = [];
  if (!wasmHeapFlat) reasons.push(`WASM memory grew after warm-up: ${base.wasmHeapBytes} → ${last.wasmHeapBytes} bytes`);
  if (!(rssGrowth < RSS_LIMIT)) reasons.push(`RSS grew ${(rssGrowth * 100).toFixed(1)} % after warm-up (limit ${RSS_LIMIT * 100} %)`);
  if (mismatches > 0) reasons.push(`${mismatches} embeddings differed from the first (${firstMismatch})`);
  if (badFailures > 0) reasons.push(`${badFailures} invalid images were not rejected with ERR_IMAGE (${firstBadFailure})`);
  if (rejected > 0 && recoveries !== rejected) reasons.push(`only ${recoveries} of ${rejected} calls after an invalid image worked`);

  const result: SoakResult = {
    config: {
      calls,
      every,
      model: 'fixtures/facenet-tiny.pb',
      photos: batch.map((f) => f.name),
      gcExposed: typeof gc === 'function',
      node: process.version,
    },
    samples,
    checks: {
      embeddings: done,
      mismatches,
      ...(firstMismatch ? { firstMismatch } : {}),
      badInputs: rejected,
      badInputFailures: badFailures,
      ...(firstBadFailure ? { firstBadInputFailure: firstBadFailure } : {}),
      recoveries,
      batchEqualsSingle: rowsMatch,
    },
    verdict: {
      pass: reasons.length === 0,
      warmupCalls,
      baselineCalls: base.calls,
      wasmHeapBaselineBytes: base.wasmHeapBytes,
      wasmHeapFinalBytes: last.wasmHeapBytes,
      wasmHeapFlat,
      rssBaselineBytes: base.rssBytes,
      rssMaxAfterBytes,
      rssGrowth,
      heapUsedGrowth: (last.heapUsedBytes - base.heapUsedBytes) / base.heapUsedBytes,
      reasons,
    },
  };
  return result;
}

/** The soak as Markdown tables (for the README). */
export function markdown(r: SoakResult): string {
  const mib = (x: number): string => (x / 2 ** 20).toFixed(1);
  const first = r.samples[0]!;
  const base = r.samples.find((s) => s.calls === r.verdict.baselineCalls)!;
  const last = r.samples[r.samples.length - 1]!;
  const row = (label: string, s: SoakSample): string =>
    `| ${label} | ${s.calls} | ${s.elapsedS.toFixed(0)} | ${mib(s.wasmHeapBytes)} | ${mib(s.rssBytes)} | ${mib(s.heapUsedBytes)} | ${mib(s.externalBytes)} |`;
  const v = r.verdict;
  const c = r.checks;
  return [
    `| soak sample (${r.config.model}) | calls | s | WASM MiB | RSS MiB | JS heap MiB${r.config.gcExposed ? ' (after gc)' : ''} | external MiB |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('after model load', first),
    row(`baseline (after ${v.warmupCalls} warm-up calls)`, base),
    row('end', last),
    '',
    `Verdict: **${v.pass ? 'PASS' : 'FAIL'}** — WASM memory ${v.wasmHeapFlat ? 'flat' : 'grew'} after warm-up ` +
      `(${mib(v.wasmHeapBaselineBytes)} → ${mib(v.wasmHeapFinalBytes)} MiB), RSS max ${(v.rssGrowth * 100).toFixed(2)} % over the baseline ` +
      `(limit ${RSS_LIMIT * 100} %), JS heap ${(v.heapUsedGrowth * 100).toFixed(1)} %; ${c.embeddings} embeddings, ${c.mismatches} mismatches ` +
      `(bit for bit against the first of each input); ${c.badInputs} invalid images, ${c.badInputFailures} not rejected with ERR_IMAGE, ` +
      `${c.recoveries} calls after them worked; ${(last.elapsedS * 1000 / c.embeddings).toFixed(1)} ms per call on average` +
      (v.reasons.length ? `. Reasons: ${v.reasons.join('; ')}` : ''),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { calls: { type: 'string' }, every: { type: 'string' }, out: { type: 'string' } },
  });
  const gcExposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
  if (!gcExposed && !process.env.FACENET_SOAK_CHILD) {
    // Without --expose-gc the JS heap figure would include garbage: run again with it.
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, FACENET_SOAK_CHILD: '1' },
    });
    process.exit(r.status ?? 1);
  }
  const result = await runSoak({
    ...(values.calls ? { calls: Number(values.calls) } : {}),
    ...(values.every ? { every: Number(values.every) } : {}),
  });
  const out = values.out ?? `${RESULTS}soak.json`;
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log('\n' + markdown(result) + `\n\nSaved to: ${out}`);
  process.exit(result.verdict.pass ? 0 : 1);
}
