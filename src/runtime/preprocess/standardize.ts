/**
 * Pixel standardization: 8-bit RGB → float32 NHWC values the FaceNet graph expects. Web-standard
 * APIs only.
 */
import type { RgbImage } from './image.js';

/**
 * - `'fixed'`: `(x − 127.5) / 128`, what facenet's 20180402-114759 model was trained with
 *   (`--use_fixed_image_standardization`); identical to OpenCV's
 *   `blobFromImage(rgb, 1/128, size, Scalar(127.5, 127.5, 127.5), false, false)` (every step is
 *   exact in float32).
 * - `'prewhiten'`: facenet's `prewhiten`, `(x − mean) / max(std, 1/√n)` with the mean and the
 *   population standard deviation over all n = H·W·3 values of the image. By facenet's own
 *   evaluation it costs the 20180402 model LFW accuracy (0.99650 → 0.98867).
 */
export type Standardization = 'fixed' | 'prewhiten';

/**
 * Standardizes an RGB image into a new `Float32Array` of H·W·3 values, NHWC (row by row, R G B
 * per pixel), the order the FaceNet graph's input takes.
 *
 * @throws {RangeError} for an unknown `mode`.
 * @example
 * ```ts
 * const x = standardize(face160, 'fixed'); // Float32Array(76800)
 * ```
 */
export function standardize(image: RgbImage, mode: Standardization = 'fixed'): Float32Array {
  const src = image.data;
  const n = src.length;
  const out = new Float32Array(n);
  if (mode === 'fixed') {
    for (let i = 0; i < n; i++) out[i] = (src[i]! - 127.5) / 128;
    return out;
  }
  if (mode !== 'prewhiten') throw new RangeError(`Cannot standardize image: unknown standardization '${String(mode)}' (expected 'fixed' or 'prewhiten')`);
  // numpy works in float64 here (np.mean / np.std of a uint8 array); two passes for the variance.
  let sum = 0;
  for (let i = 0; i < n; i++) sum += src[i]!;
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = src[i]! - mean;
    sq += d * d;
  }
  const std = Math.sqrt(sq / n);
  // facenet multiplies by the reciprocal: np.multiply(np.subtract(x, mean), 1/std_adj).
  const inv = 1 / Math.max(std, 1 / Math.sqrt(n));
  for (let i = 0; i < n; i++) out[i] = (src[i]! - mean) * inv;
  return out;
}
