/**
 * The OpenCV.js loader in whatever runtime runs this file (Node from source, or Node, Deno, Bun,
 * a Chromium page and a Chromium worker under scripts/test-runtimes.ts): the shared instance
 * works, a loader started from a URL shares one load among concurrent callers, the wasm source
 * overrides really go through Emscripten's `instantiateWasm` hook, bad sources fail with a clear
 * ERR_OPENCV naming them, and a tiny graph gives the same numbers in OpenCV DNN and in tfjs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { encodeGraph } from '../../src/converter/proto/codec.js';
import { createOpenCVLoader } from '../../src/runtime/opencv/load.js';
import type { CV, LoadOptions } from '../../src/runtime/opencv/load.js';
import { forwardTF } from '../../src/runtime/opencv/forward.js';
import { GraphBuilder, a } from '../support/builder.js';
import { maxAbsDiff, uniform } from '../support/numeric.js';
import { runReference } from '../support/reference.js';
import { BASE, RUNTIME, getCV, repoBytes } from './support/env.js';

const SCRIPT = 'node_modules/@techstark/opencv-js/dist/opencv.js';
// A label for loaders fed through a `fetch` stub (no server when run from source in Node).
const SCRIPT_URL = `${BASE ?? 'http://opencv.invalid/'}${SCRIPT}`;

let scriptBytes: Promise<Uint8Array> | undefined;
const script = () => (scriptBytes ??= repoBytes(SCRIPT));

/** A `fetch` that serves the stock opencv.js from the test data and counts its calls. */
function countingFetch(): { fetch: NonNullable<LoadOptions['fetch']>; calls: () => number } {
  let calls = 0;
  return {
    fetch: async () => {
      calls++;
      // A copy: a Response may take over (detach) the buffer it is given.
      return new Response((await script()).slice());
    },
    calls: () => calls,
  };
}

let embeddedWasm: Uint8Array<ArrayBuffer> | undefined;

/** The wasm the stock build embeds as a base64 data URI (SINGLE_FILE), decoded with `atob`. */
async function wasmBytes(): Promise<Uint8Array<ArrayBuffer>> {
  if (embeddedWasm) return embeddedWasm;
  const text = new TextDecoder().decode(await script());
  // `var wasmBinaryFile="data:application/octet-stream;base64,AGFzbQ..."` (the prefix also appears
  // alone earlier, as `dataURIPrefix`).
  const marker = 'wasmBinaryFile="data:application/octet-stream;base64,';
  const start = text.indexOf(marker);
  assert.ok(start > 0, 'the stock build embeds its wasm as a base64 data URI');
  const end = text.indexOf('"', start + marker.length);
  const bin = atob(text.slice(start + marker.length, end));
  const bytes = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  embeddedWasm = bytes;
  return bytes;
}

/** The smallest wasm module with one import, `env.missing_in_opencv`, that OpenCV's imports lack. */
function moduleWithForeignImport(): Uint8Array<ArrayBuffer> {
  const name = [...new TextEncoder().encode('missing_in_opencv')];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: one type () -> ()
    0x02, 8 + name.length, 0x01, 0x03, 0x65, 0x6e, 0x76, name.length, ...name, 0x00, 0x00, // import env.<name> func type 0
  ]);
}

async function expectLoadError(p: Promise<unknown>, re: RegExp): Promise<FacenetDnnError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  assert.instance(e, FacenetDnnError, 'rejects with a FacenetDnnError');
  const err = e as FacenetDnnError;
  assert.is(err.code, 'ERR_OPENCV');
  assert.match(err.message, /^Cannot load OpenCV\.js: /);
  assert.match(err.message, re);
  assert.not.match(err.message, /\.$/, 'no trailing period');
  return err;
}

/** A 2×3 CV_32F Mat through OpenCV: checks the embind classes and one real computation. */
function matWorks(cv: CV): void {
  const m = cv['matFromArray'](2, 3, cv['CV_32F'], [1, 2, 3, 4, 5, 6]);
  const t = new cv['Mat']();
  try {
    cv['transpose'](m, t);
    assert.equal([t.rows, t.cols], [3, 2]);
    assert.equal(Array.from(t.data32F as Float32Array), [1, 4, 2, 5, 3, 6]);
  } finally {
    m.delete();
    t.delete();
  }
}

test(`shared instance (${RUNTIME}): initialized, not thenable, Mat works, one instance for every caller`, async () => {
  const [one, two] = await Promise.all([getCV(), getCV()]);
  assert.ok(one === two);
  assert.type(one['Mat'], 'function');
  assert.type(one['then'], 'undefined', 'the module is not thenable (it would never resolve)');
  matWorks(one);
  // Handing the loaded module (or a namespace with it as default) to a new loader gives it back.
  assert.ok((await createOpenCVLoader({ module: one })()) === one);
  assert.ok((await createOpenCVLoader({ module: { default: one } })()) === one);
  // The URL evaluation leaves no globals behind (the UMD wrapper would set `cv` on the global).
  if (BASE) assert.type((globalThis as { cv?: unknown }).cv, 'undefined');
});

test('url + wasmBinary: concurrent calls share one fetch and one instance; the instance is separate and works', async () => {
  const shared = await getCV();
  const f = countingFetch();
  const load = createOpenCVLoader({ url: SCRIPT_URL, fetch: f.fetch, wasmBinary: await wasmBytes() });
  const [x, y, z] = await Promise.all([load(), load(), load({ url: 'http://ignored.invalid/' })]);
  assert.ok(x === y && y === z, 'one instance for concurrent callers');
  assert.is(f.calls(), 1, 'fetched once');
  assert.ok(x !== shared, 'a second loader makes its own instance');
  matWorks(x!);
  assert.ok((await load()) === x, 'later callers get it too');
});

test('wasmBinary / wasmModule really replace the embedded wasm (a foreign module fails through the hook)', async () => {
  const foreign = moduleWithForeignImport();
  await expectLoadError(
    createOpenCVLoader({ url: SCRIPT_URL, fetch: countingFetch().fetch, wasmBinary: foreign })(),
    /instantiating the wasmBinary failed \(.*missing_in_opencv/,
  );
  await expectLoadError(
    createOpenCVLoader({ url: SCRIPT_URL, fetch: countingFetch().fetch, wasmModule: await WebAssembly.compile(foreign) })(),
    /instantiating the wasmModule failed \(.*missing_in_opencv/,
  );
});

test('url + wasmModule (precompiled, as Cloudflare Workers need it): loads and runs', async () => {
  const wasmModule = await WebAssembly.compile(await wasmBytes());
  const cv = await createOpenCVLoader({ url: SCRIPT_URL, fetch: countingFetch().fetch, wasmModule })();
  matWorks(cv);
});

test('a bad URL fails with ERR_OPENCV naming it, and every later call gets the same error', async () => {
  const bad = `${BASE ?? 'http://127.0.0.1:9/'}no/such/opencv.js`;
  // From source in Node there is no server: a stub answers as the harness's server would.
  const options: LoadOptions = BASE ? { url: bad } : { url: bad, fetch: async () => new Response('', { status: 404, statusText: 'Not Found' }) };
  const load = createOpenCVLoader(options);
  const first = await expectLoadError(load(), new RegExp(`fetching "${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" failed \\(HTTP 404`));
  const later = await expectLoadError(load(), /HTTP 404/);
  assert.ok(first === later, 'the failure is kept');
});

test('a script that is not OpenCV.js, or not JavaScript, is named in the error', async () => {
  const serve = (text: string) => async () => new Response(text);
  await expectLoadError(
    createOpenCVLoader({ url: 'https://example.invalid/other.js', fetch: serve('var x = 1;') })(),
    /"https:\/\/example\.invalid\/other\.js" is not an OpenCV\.js build/,
  );
  await expectLoadError(
    createOpenCVLoader({ url: 'https://example.invalid/page.html', fetch: serve('<!doctype html><p>404') })(),
    /"https:\/\/example\.invalid\/page\.html" is not valid JavaScript/,
  );
});

test('caller mistakes are TypeError / RangeError', async () => {
  const cv = await getCV();
  const rejects = async (options: LoadOptions, type: new (...a: never[]) => Error, re: RegExp) => {
    const e = await createOpenCVLoader(options)().then(() => undefined, (x: unknown) => x);
    assert.instance(e, type);
    assert.match((e as Error).message, re);
  };
  await rejects({ timeoutMs: 0 }, RangeError, /timeoutMs must be positive/);
  await rejects({ module: cv, wasmBinary: new Uint8Array(8) }, TypeError, /need a url or a factory/);
  await rejects({ url: SCRIPT_URL, wasmModule: new Uint8Array(8) as unknown as WebAssembly.Module }, TypeError, /wasmModule must be a WebAssembly\.Module/);
  await rejects({ module: 42 as unknown as CV }, TypeError, /module must be an OpenCV\.js module object or factory, got number/);
});

test(`default source (${RUNTIME}): the bundled package where the runtime resolves it, else an error asking for url`, async () => {
  // Node runs the Node adapter (the shared instance above when run from source); the web default
  // there would take Emscripten's Node path and leave its process listeners behind.
  if (RUNTIME === 'node') return;
  const load = createOpenCVLoader({ timeoutMs: 60_000 });
  const result = await load().then(
    (cv) => ({ cv }),
    (e: unknown) => ({ e }),
  );
  if ('cv' in result) {
    matWorks(result.cv);
    return;
  }
  // A module worker has no import map, so the bare specifier cannot resolve there.
  assert.is(RUNTIME, 'worker', `the default source fails only in a worker: ${String(result.e)}`);
  assert.instance(result.e, FacenetDnnError);
  assert.match((result.e as Error).message, /importing the module failed .*pass url \(an opencv\.js URL\) or module$/);
});

test('tiny forward: Conv2D + BiasAdd + Relu in OpenCV DNN matches the tfjs reference within 1e-5', async () => {
  const cv = await getCV();
  const c = 3;
  const k = 4;
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 6, 5, c]);
  b.const('w', uniform(3 * 3 * c * k, 11), [3, 3, c, k]);
  b.const('b', uniform(k, 12), [k]);
  b.op('Conv2D', 'conv', ['x', 'w'], { strides: a.ints([1, 1, 1, 1]), padding: a.s('SAME'), data_format: a.s('NHWC') });
  b.op('BiasAdd', 'bias_add', ['conv', 'b'], { data_format: a.s('NHWC') });
  b.op('Relu', 'relu', ['bias_add']);
  const graph = b.build();
  const shape = [2, 6, 5, c];
  const data = uniform(2 * 6 * 5 * c, 13);
  const [got] = forwardTF(cv, encodeGraph(graph), { name: 'x', shape, data }, ['relu']);
  const [want] = await runReference(graph, { x: { shape, data } }, ['relu']);
  assert.equal(got!.shape, [2, 6, 5, k]);
  assert.equal(want!.shape, [2, 6, 5, k]);
  const diff = maxAbsDiff(got!.data, want!.data);
  assert.ok(diff <= 1e-5, `max |opencv - tfjs| = ${diff}`);
  // Not vacuous: the relu leaves both signs' worth of structure (some zeros, some positives).
  assert.ok(want!.data.some((v) => v === 0) && want!.data.some((v) => v > 0.1));
});

test.run();
