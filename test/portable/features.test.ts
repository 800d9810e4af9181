import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { wasmFeatures } from '../../src/runtime/opencv/features.js';
import { RUNTIME } from './support/env.js';

test('wasm feature probes answer booleans, and every runtime tested here has SIMD', () => {
  const f = wasmFeatures();
  assert.type(f.simd, 'boolean');
  assert.type(f.threads, 'boolean');
  // Node 20, Deno 2, Bun 1.4 and Chromium all ship wasm SIMD: a probe that says no is broken.
  assert.ok(f.simd, `${RUNTIME}: SIMD probe`);
});

test('the probes are real validations: a corrupted probe module does not validate', () => {
  // Same bytes as the SIMD probe but the v128 result type replaced by an invalid value type.
  const good = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 0x7b, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 15, 11];
  assert.is(WebAssembly.validate(new Uint8Array(good)), true);
  const bad = new Uint8Array(good.map((b, i) => (i === 14 ? 0x7a : b)));
  assert.is(WebAssembly.validate(bad), false);
});

test('threads need SharedArrayBuffer (and cross-origin isolation in a page)', () => {
  const f = wasmFeatures();
  if (typeof SharedArrayBuffer !== 'function') assert.is(f.threads, false);
  const g = globalThis as { document?: unknown; crossOriginIsolated?: boolean };
  if (g.document !== undefined && g.crossOriginIsolated !== true) assert.is(f.threads, false);
});

test.run();
