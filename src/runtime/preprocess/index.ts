/**
 * Face image preprocessing for FaceNet: decode → crop around the face box with facenet's margin →
 * bilinear resize (OpenCV INTER_LINEAR, bit-exact) → standardize → float32 NHWC.
 * Web-standard APIs only.
 */
import { FacenetDnnError } from '../../converter/errors.js';
import { cropImage, DEFAULT_MARGIN, faceCrop } from './crop.js';
import type { FaceBox } from './crop.js';
import { decodeImage } from './decode.js';
import type { ImageDecodeOptions } from './decode.js';
import { isEncoded, pixelsToRgb } from './image.js';
import type { ImageInput, RgbImage } from './image.js';
import { resizeBilinear } from './resize.js';
import { standardize } from './standardize.js';
import type { Standardization } from './standardize.js';

export { cropImage, DEFAULT_MARGIN, faceCrop } from './crop.js';
export type { CropRect, FaceBox } from './crop.js';
export { decodeImage, DEFAULT_MAX_PIXELS, readImageHeader } from './decode.js';
export type { ImageDecodeOptions, ImageHeader } from './decode.js';
export { pixelsToRgb } from './image.js';
export type { ImageDataLike, ImageInput, ImageJsLike, RawPixels, RgbImage } from './image.js';
export { resizeBilinear } from './resize.js';
export type { Size } from './resize.js';
export { standardize } from './standardize.js';
export type { Standardization } from './standardize.js';

/** FaceNet's input size (the converted 20180402-114759 graph is tied to 160×160). */
export const DEFAULT_SIZE = 160;

/** Options of {@link preprocess}. */
export interface PreprocessOptions extends ImageDecodeOptions {
  /** The face detection box in source pixels. Default: none, the whole image is the face. */
  box?: FaceBox;
  /** Pixels added around `box` in total (half on each side), facenet's rule. Default: 44. Ignored without `box`. */
  margin?: number;
  /** Output width and height in pixels. Default: 160. */
  size?: number;
  /** `'fixed'` `(x − 127.5) / 128` or facenet's `'prewhiten'`. Default: `'fixed'`. */
  standardization?: Standardization;
}

/** Options of {@link preprocessBatch}: those of {@link preprocess}, with one box per image. */
export interface PreprocessBatchOptions extends Omit<PreprocessOptions, 'box'> {
  /** One face box (or `undefined` for the whole image) per input, same order. Default: none. */
  boxes?: ReadonlyArray<FaceBox | undefined>;
}

/**
 * Any accepted image as 8-bit RGB: encoded JPEG/PNG bytes are decoded (after the header check
 * against `maxPixels`), decoded pixels are converted. Always a new buffer.
 *
 * @throws {FacenetDnnError} `ERR_IMAGE`: see {@link decodeImage} and {@link pixelsToRgb}.
 * @throws {TypeError} when `input` is none of the accepted shapes.
 * @example
 * ```ts
 * const { width, height, data } = await toRgb(jpegBytes);
 * ```
 */
export async function toRgb(input: ImageInput, options: ImageDecodeOptions = {}): Promise<RgbImage> {
  if (isEncoded(input)) return decodeImage(input, options);
  return pixelsToRgb(input);
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size <= 0) throw new RangeError(`Cannot preprocess image: size must be a positive integer, got ${size}`);
}

/** The resized face as 8-bit RGB, before standardization (what {@link preprocess} standardizes). */
export async function preprocessToRgb(input: ImageInput, options: Omit<PreprocessOptions, 'standardization'> = {}): Promise<RgbImage> {
  const size = options.size ?? DEFAULT_SIZE;
  checkSize(size);
  const rgb = await toRgb(input, options);
  const face = options.box ? cropImage(rgb, faceCrop(rgb.width, rgb.height, options.box, options.margin ?? DEFAULT_MARGIN)) : rgb;
  return resizeBilinear(face, { width: size, height: size });
}

/**
 * One face image → the FaceNet input tensor: a `Float32Array` of size·size·3 values, NHWC
 * (one image of [1, size, size, 3]), RGB order.
 *
 * @throws {FacenetDnnError} `ERR_IMAGE` for bytes that are not JPEG/PNG or do not decode, an empty
 *   image, pixel data of the wrong length, or a header above `maxPixels`.
 * @throws {RangeError} for a box that leaves nothing of the image, a bad `size`, `margin`,
 *   `maxPixels` or `standardization`.
 * @example
 * ```ts
 * const x = await preprocess(jpegBytes, { box: { x1: 71, y1: 62, x2: 181, y2: 190 } });
 * // x.length === 160 * 160 * 3
 * ```
 */
export async function preprocess(input: ImageInput, options: PreprocessOptions = {}): Promise<Float32Array> {
  return standardize(await preprocessToRgb(input, options), options.standardization ?? 'fixed');
}

/**
 * Several face images → one `Float32Array` of N·size·size·3 values, NHWC ([N, size, size, 3]),
 * image i at offset i·size·size·3. `boxes[i]` crops image i; other options apply to all.
 *
 * @throws {FacenetDnnError} as {@link preprocess}, naming the index of the image at fault.
 * @throws {RangeError} when `boxes` and `inputs` differ in length, or as {@link preprocess}.
 * @example
 * ```ts
 * const batch = await preprocessBatch([a, b], { boxes: [boxA, undefined] }); // [2, 160, 160, 3]
 * ```
 */
export async function preprocessBatch(inputs: ReadonlyArray<ImageInput>, options: PreprocessBatchOptions = {}): Promise<Float32Array> {
  const size = options.size ?? DEFAULT_SIZE;
  checkSize(size);
  const { boxes, ...rest } = options;
  if (boxes && boxes.length !== inputs.length) {
    throw new RangeError(`Cannot preprocess batch: ${boxes.length} boxes for ${inputs.length} images`);
  }
  const per = size * size * 3;
  const out = new Float32Array(inputs.length * per);
  for (let i = 0; i < inputs.length; i++) {
    const box = boxes?.[i];
    let x: Float32Array;
    try {
      x = await preprocess(inputs[i]!, box ? { ...rest, box } : rest);
    } catch (e) {
      // Same class (and code), naming the image's position in the batch; the original as cause.
      const message = `Cannot preprocess image ${i} of the batch: ${e instanceof Error ? e.message : String(e)}`;
      if (e instanceof FacenetDnnError) throw new FacenetDnnError(e.code, message, { cause: e });
      if (e instanceof RangeError) throw new RangeError(message, { cause: e });
      if (e instanceof TypeError) throw new TypeError(message, { cause: e });
      throw e;
    }
    out.set(x, i * per);
  }
  return out;
}
