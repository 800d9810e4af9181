/**
 * What portable tests (test/portable/, run in Node, Deno, Bun and headless Chromium) need from
 * their environment: test data and OpenCV.js. Under the cross-runtime harness
 * (scripts/test-runtimes.ts) `globalThis.FACENET_DNN_TEST_BASE` is the URL of a loopback server
 * that serves the repository at `/` and ../shared at `/shared/`, and everything is fetched from it.
 * Without it (plain `uvu -r tsx test` in Node) files are read from disk.
 */
import type { CV } from '../../../src/runtime/opencv/load.js';

/** The harness's base URL (ends with `/`), or undefined when running from source in Node. */
export const BASE: string | undefined = (globalThis as { FACENET_DNN_TEST_BASE?: string }).FACENET_DNN_TEST_BASE;

/** Which runtime runs the suite, for messages: node, deno, bun, browser (a page) or worker (a web worker). */
export const RUNTIME: string =
  (globalThis as { Deno?: unknown }).Deno ? 'deno'
  : (globalThis as { Bun?: unknown }).Bun ? 'bun'
  : typeof (globalThis as { window?: unknown }).window === 'object' ? 'browser'
  : typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'function' ? 'worker'
  : 'node';

async function fromDisk(relativeToRepo: string): Promise<Uint8Array> {
  const fs = await import('node:fs');
  const url = new URL(`../../../${relativeToRepo}`, import.meta.url);
  const b = fs.readFileSync(url);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

async function fetchBytes(path: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(`${BASE}${path}`);
  } catch (e) {
    // Node's fetch says only "fetch failed"; the reason is in `cause`.
    const cause = (e as { cause?: unknown }).cause;
    throw new Error(`Cannot fetch test data ${BASE}${path}: ${(e as Error).message}${cause ? ` (${String(cause)})` : ''}`, { cause: e });
  }
  if (!res.ok) throw new Error(`Cannot fetch test data ${BASE}${path}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** A file of ../shared, e.g. `images/Anthony_Hopkins_0001.jpg`. */
export function sharedBytes(path: string): Promise<Uint8Array> {
  return BASE ? fetchBytes(`shared/${path}`) : fromDisk(`../shared/${path}`);
}

/** A file of the repository, e.g. `fixtures/facenet-tiny.pb`. */
export function repoBytes(path: string): Promise<Uint8Array> {
  return BASE ? fetchBytes(path) : fromDisk(path);
}

let cv: Promise<CV> | undefined;

/** A shipped build's script on the harness's server (the threads build: its raw glue). */
export function buildUrl(build: 'simd-threads' | 'simd' | 'stock'): string {
  if (!BASE) throw new Error('buildUrl needs the harness server');
  return build === 'stock' ? `${BASE}node_modules/@techstark/opencv-js/dist/opencv.js`
    : build === 'simd' ? `${BASE}wasm/dist/simd/opencv.js`
    : `${BASE}wasm/dist/simd-threads/opencv_js.js`;
}

/**
 * The initialized OpenCV.js, loaded once per test run the way this runtime should load it: under
 * the harness, the fastest build the web loader's `'auto'` picks here (SIMD+threads in a
 * cross-origin isolated page or worker, else SIMD), from the loopback server; from source in Node,
 * the Node adapter's default (`'auto'`).
 */
export function getCV(): Promise<CV> {
  cv ??= (async () => {
    if (!BASE) {
      // A computed specifier keeps the Node adapter (static node: imports) out of the harness's
      // bundle, which browsers must be able to load; tsx resolves it like a literal one.
      const nodeAdapter = '../../../src/runtime/opencv/node.js';
      const { loadOpenCV } = (await import(/* @vite-ignore */ nodeAdapter)) as typeof import('../../../src/runtime/opencv/node.js');
      return loadOpenCV();
    }
    // Set by the harness: the web loader fetches the build from the loopback server.
    const { loadOpenCV, candidateBuilds } = await import('../../../src/runtime/opencv/web.js');
    return loadOpenCV({ url: buildUrl(candidateBuilds('auto')[0]!) });
  })();
  return cv;
}
