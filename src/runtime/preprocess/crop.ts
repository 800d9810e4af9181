/**
 * The face crop: a detector's box grown by facenet's margin, clamped to the image. Web-standard
 * APIs only.
 */
import type { RgbImage } from './image.js';

/** A face detection box in source pixels (floats allowed): top-left `(x1, y1)`, bottom-right `(x2, y2)`. */
export interface FaceBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** An integer pixel rectangle: columns `[x, x + width)`, rows `[y, y + height)`. */
export interface CropRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** facenet's margin around the detection box in compare.py (its LFW alignment uses 32). */
export const DEFAULT_MARGIN = 44;

/**
 * The crop facenet takes around a detection box (compare.py, align_dataset_mtcnn.py):
 * ```
 * bb[0] = max(x1 − margin/2, 0)   bb[1] = max(y1 − margin/2, 0)
 * bb[2] = min(x2 + margin/2, W)   bb[3] = min(y2 + margin/2, H)
 * cropped = img[bb[1]:bb[3], bb[0]:bb[2]]
 * ```
 * with `bb` an `np.int32` array, so each value is truncated toward zero when assigned. Unlike
 * numpy slicing, a negative `bb[2]`/`bb[3]` (box entirely left of / above the image) is not
 * wrapped around: it is an error, like any crop that ends up empty.
 *
 * @throws {RangeError} for a non-finite coordinate, a negative margin, or a box that leaves
 *   nothing of the image (outside it, or empty after clamping).
 * @example
 * ```ts
 * faceCrop(250, 250, { x1: 70.6, y1: 60.2, x2: 180.9, y2: 190.4 }); // { x: 48, y: 38, width: 154, height: 174 }
 * ```
 */
export function faceCrop(width: number, height: number, box: FaceBox, margin: number = DEFAULT_MARGIN): CropRect {
  const { x1, y1, x2, y2 } = box;
  for (const [name, v] of [['x1', x1], ['y1', y1], ['x2', x2], ['y2', y2]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`Cannot crop face: box.${name} must be a finite number, got ${String(v)}`);
  }
  if (!(margin >= 0) || !Number.isFinite(margin)) throw new RangeError(`Cannot crop face: margin must be a finite number ≥ 0, got ${margin}`);
  const half = margin / 2;
  // Math.trunc is the float → int32 conversion numpy does on assignment to an int32 array.
  const left = Math.trunc(Math.max(x1 - half, 0));
  const top = Math.trunc(Math.max(y1 - half, 0));
  const right = Math.trunc(Math.min(x2 + half, width));
  const bottom = Math.trunc(Math.min(y2 + half, height));
  if (right <= left || bottom <= top) {
    throw new RangeError(
      `Cannot crop face: box {x1: ${x1}, y1: ${y1}, x2: ${x2}, y2: ${y2}} with margin ${margin} leaves nothing of the ${width}×${height} image`,
    );
  }
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/**
 * Copies a rectangle out of an RGB image.
 *
 * @throws {RangeError} when the rectangle is empty or not inside the image.
 */
export function cropImage(image: RgbImage, rect: CropRect): RgbImage {
  const { x, y, width, height } = rect;
  if (!(Number.isInteger(x) && Number.isInteger(y) && Number.isInteger(width) && Number.isInteger(height))
    || x < 0 || y < 0 || width <= 0 || height <= 0 || x + width > image.width || y + height > image.height) {
    throw new RangeError(`Cannot crop image: rectangle {x: ${x}, y: ${y}, width: ${width}, height: ${height}} is not inside the ${image.width}×${image.height} image`);
  }
  if (x === 0 && y === 0 && width === image.width && height === image.height) return image;
  const out = new Uint8Array(width * height * 3);
  const rowBytes = width * 3;
  for (let r = 0; r < height; r++) {
    const from = ((y + r) * image.width + x) * 3;
    out.set(image.data.subarray(from, from + rowBytes), r * rowBytes);
  }
  return { width, height, channels: 3, data: out };
}
