/**
 * WebAssembly feature probes, by validation of tiny modules (never by user agent): which OpenCV.js
 * build a runtime can run. Web-standard APIs only.
 */

// (module (func (result v128) i32.const 0 i8x16.splat)): valid only where wasm SIMD is supported.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b, // code: one 6-byte body: i32.const 0; i8x16.splat; end
]);

// (module (memory 1 1 shared)): valid only where wasm threads (shared memory) are supported.
const THREADS_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x05, 0x04, 0x01, 0x03, 0x01, 0x01, // memory section: flags 3 (max + shared), min 1, max 1
]);

/** What this runtime's WebAssembly can do. */
export interface WasmFeatures {
  /** 128-bit SIMD instructions validate. */
  simd: boolean;
  /**
   * Shared memory validates and `SharedArrayBuffer` exists, and in a browser the page is
   * cross-origin isolated (without COOP/COEP headers it cannot share memory with workers).
   */
  threads: boolean;
}

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** Probes the running engine. Cheap (two tiny validations); the result can be cached by callers. */
export function wasmFeatures(): WasmFeatures {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean };
  // Pages and workers say whether they are cross-origin isolated; Node, Deno and Bun have no such flag.
  const isolated = g.crossOriginIsolated !== false;
  return {
    simd: validates(SIMD_PROBE),
    threads: validates(THREADS_PROBE) && typeof g.SharedArrayBuffer === 'function' && isolated,
  };
}
