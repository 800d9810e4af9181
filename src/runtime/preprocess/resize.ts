/**
 * Bilinear resize of 8-bit images that reproduces OpenCV's `cv.resize(src, dst, dsize, 0, 0,
 * INTER_LINEAR)` for CV_8U (imgproc/src/resize.cpp, `hal::resize` → `resizeGeneric_` with
 * `HResizeLinear<uchar, int, short, 2048>` and `VResizeLinear<uchar, …>`). Web-standard APIs only.
 *
 * OpenCV's 8-bit path, step by step (the facts this code follows):
 * - scale = 1 / (dst/src) in double; source coordinate of destination pixel d is
 *   `float((d + 0.5)·scale − 0.5)` (half-pixel centres), `s = floor(f)`, `f −= s` in float.
 * - columns: `s < 0` → s = 0, f = 0; `s ≥ W−1` → s = W−1, f = 0 and the pixel copies source
 *   column W−1 (`S[s]·2048`). Rows: f is kept and both source rows are clamped to [0, H−1].
 * - weights are 11-bit fixed point: `saturate_cast<short>((1−f)·2048)` and `…(f·2048)`, rounded
 *   half to even (`lrintf`); they need not sum to 2048.
 * - horizontal pass: `S[s]·a0 + S[s+cn]·a1` (int32); vertical pass on those sums:
 *   `(((b0·(T0 >> 4)) >> 16) + ((b1·(T1 >> 4)) >> 16) + 2) >> 2`.
 * - equal sizes copy; an exact 2× downscale takes OpenCV's INTER_AREA fast path, whose
 *   `(a+b+c+d+2) >> 2` is what the formulas above give for weights 1024/1024 anyway.
 */
import type { RawPixels, RgbImage } from './image.js';

const COEF_SCALE = 2048; // INTER_RESIZE_COEF_SCALE = 1 << INTER_RESIZE_COEF_BITS (11)

/** cvRound of a float: lrintf, i.e. round half to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) === 1 ? r - 1 : r;
}

/** saturate_cast<short>(v) for a float v. */
function toShort(v: number): number {
  return Math.max(-32768, Math.min(32767, roundHalfEven(v)));
}

/** Source index and the two fixed-point weights of each destination coordinate along one axis. */
function axisTable(src: number, dst: number): { ofs: Int32Array; w0: Int32Array; w1: Int32Array; limit: number } {
  const scale = 1 / (dst / src);
  const ofs = new Int32Array(dst);
  const w0 = new Int32Array(dst);
  const w1 = new Int32Array(dst);
  let limit = dst; // first index whose right neighbour falls outside (OpenCV's xmax)
  for (let d = 0; d < dst; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (s < 0) {
      s = 0;
      f = 0;
    }
    if (s + 1 >= src) {
      limit = Math.min(limit, d);
      if (s >= src - 1) {
        s = src - 1;
        f = 0;
      }
    }
    ofs[d] = s;
    w0[d] = toShort(Math.fround(1 - f) * COEF_SCALE);
    w1[d] = toShort(f * COEF_SCALE);
  }
  return { ofs, w0, w1, limit };
}

/** The vertical table keeps the unclamped row and its weights: OpenCV clamps the rows, not f. */
function rowTable(src: number, dst: number): { sy: Int32Array; b0: Int32Array; b1: Int32Array } {
  const scale = 1 / (dst / src);
  const sy = new Int32Array(dst);
  const b0 = new Int32Array(dst);
  const b1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    const s = Math.floor(f);
    f = Math.fround(f - s);
    sy[d] = s;
    b0[d] = toShort(Math.fround(1 - f) * COEF_SCALE);
    b1[d] = toShort(f * COEF_SCALE);
  }
  return { sy, b0, b1 };
}

/** Target size of {@link resizeBilinear}. */
export interface Size {
  width: number;
  height: number;
}

/**
 * Resizes interleaved 8-bit pixels (any channel count 1..4) bilinearly, bit-exact with OpenCV's
 * `cv.resize(…, INTER_LINEAR)` on CV_8U (see the module comment for the arithmetic). Always
 * returns a new buffer.
 *
 * @throws {RangeError} when the target size is not positive integers.
 * @example
 * ```ts
 * const face = resizeBilinear(rgb, { width: 160, height: 160 });
 * ```
 */
export function resizeBilinear(image: RgbImage, size: Size): RgbImage;
export function resizeBilinear(image: RawPixels, size: Size): RawPixels;
export function resizeBilinear(image: RawPixels, size: Size): RawPixels {
  const { width: dw, height: dh } = size;
  if (!Number.isInteger(dw) || !Number.isInteger(dh) || dw <= 0 || dh <= 0) {
    throw new RangeError(`Cannot resize image: target size must be positive integers, got ${dw}×${dh}`);
  }
  const { width: sw, height: sh, channels: cn, data } = image;
  if (sw === dw && sh === dh) return { width: dw, height: dh, channels: cn, data: new Uint8Array(data) };

  const x = axisTable(sw, dw);
  const y = rowTable(sh, dh);
  const rowLen = dw * cn;
  const xmax = x.limit;

  // Horizontal pass of one source row, computed once and kept while rows still use it.
  const cache = new Map<number, Int32Array>();
  const hrow = (r: number): Int32Array => {
    let row = cache.get(r);
    if (row) return row;
    row = new Int32Array(rowLen);
    const base = r * sw * cn;
    for (let dx = 0; dx < dw; dx++) {
      const s = base + x.ofs[dx]! * cn;
      const o = dx * cn;
      if (dx < xmax) {
        const a0 = x.w0[dx]!;
        const a1 = x.w1[dx]!;
        for (let c = 0; c < cn; c++) row[o + c] = data[s + c]! * a0 + data[s + cn + c]! * a1;
      } else {
        for (let c = 0; c < cn; c++) row[o + c] = data[s + c]! * COEF_SCALE;
      }
    }
    cache.set(r, row);
    return row;
  };

  const out = new Uint8Array(rowLen * dh);
  for (let dy = 0; dy < dh; dy++) {
    const s = y.sy[dy]!;
    const r0 = Math.min(Math.max(s, 0), sh - 1);
    const r1 = Math.min(Math.max(s + 1, 0), sh - 1);
    // Rows are visited in non-decreasing order: drop the ones above r0 for good.
    for (const k of cache.keys()) if (k < r0) cache.delete(k);
    const t0 = hrow(r0);
    const t1 = hrow(r1);
    const b0 = y.b0[dy]!;
    const b1 = y.b1[dy]!;
    const o = dy * rowLen;
    for (let i = 0; i < rowLen; i++) {
      // The products stay below 2^31 (2048·(255·2048 >> 4) ≈ 6.7e7), so >> is exact int32 arithmetic.
      out[o + i] = (((b0 * (t0[i]! >> 4)) >> 16) + ((b1 * (t1[i]! >> 4)) >> 16) + 2) >> 2;
    }
  }
  return { width: dw, height: dh, channels: cn, data: out };
}
