/**
 * The image inputs preprocessing accepts, and their normalization to one form: 8-bit RGB,
 * interleaved. Web-standard APIs only.
 */
import { FacenetDnnError } from '../../converter/errors.js';

/** 8-bit RGB pixels, interleaved row by row: `data[(y·width + x)·3 + c]`, c = 0 R, 1 G, 2 B. */
export interface RgbImage {
  width: number;
  height: number;
  /** Always 3: lets an `RgbImage` be passed back in as {@link RawPixels}. */
  channels: 3;
  data: Uint8Array;
}

/**
 * Raw 8-bit pixels, interleaved: 1 = grey, 3 = RGB, 4 = RGBA (alpha is dropped, not composited).
 * `data.length` must be exactly `width·height·channels`.
 */
export interface RawPixels {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

/**
 * What a canvas `getImageData()` returns (or any object shaped like it): RGBA, 4 bytes a pixel.
 * Alpha is dropped, not composited.
 */
export interface ImageDataLike {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}

/**
 * The part of an image-js (v1) `Image` this module reads. Any `Image` from `image-js` fits:
 * GREY, GREYA, RGB or RGBA, 8 or 16 bits a channel (16-bit values keep their high byte).
 */
export interface ImageJsLike {
  readonly colorModel: string;
  getRawImage(): { width: number; height: number; data: ArrayLike<number>; channels: number; bitDepth: number };
}

/**
 * An image to preprocess: encoded JPEG or PNG bytes, canvas `ImageData`, raw pixels, or an image-js
 * `Image`.
 */
export type ImageInput = Uint8Array | ArrayBuffer | ImageDataLike | RawPixels | ImageJsLike;

/** True for encoded bytes (`Uint8Array` or `ArrayBuffer`, also from another realm). */
export function isEncoded(input: unknown): input is Uint8Array | ArrayBuffer {
  return input instanceof Uint8Array || input instanceof ArrayBuffer
    || Object.prototype.toString.call(input) === '[object ArrayBuffer]'
    || Object.prototype.toString.call(input) === '[object Uint8Array]';
}

function isImageJs(input: object): input is ImageJsLike {
  return typeof (input as ImageJsLike).getRawImage === 'function' && typeof (input as ImageJsLike).colorModel === 'string';
}

/** Checks width/height: integers ≥ 0 (caller mistake otherwise), and not 0 (an empty image). */
function checkSize(width: unknown, height: unknown, what: string): asserts width is number {
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new RangeError(`Cannot read ${what}: ${name} must be a non-negative integer, got ${String(v)}`);
    }
  }
  if (width === 0 || height === 0) {
    throw new FacenetDnnError('ERR_IMAGE', `Cannot read ${what}: the image is empty (${String(width)}×${String(height)})`);
  }
}

/**
 * Copies interleaved 8-bit pixels with `channels` channels into RGB: grey is replicated, the
 * alpha of grey+alpha and RGBA is dropped. `shift` scales wider values down (8 for 16-bit).
 */
function interleavedToRgb(width: number, height: number, channels: number, data: ArrayLike<number>, shift = 0): RgbImage {
  const n = width * height;
  const out = new Uint8Array(n * 3);
  if (channels === 3 && shift === 0) {
    out.set(data);
  } else if (channels === 1 || channels === 2) {
    for (let i = 0, s = 0, d = 0; i < n; i++, s += channels, d += 3) {
      const v = data[s]! >> shift;
      out[d] = v;
      out[d + 1] = v;
      out[d + 2] = v;
    }
  } else {
    for (let i = 0, s = 0, d = 0; i < n; i++, s += channels, d += 3) {
      out[d] = data[s]! >> shift;
      out[d + 1] = data[s + 1]! >> shift;
      out[d + 2] = data[s + 2]! >> shift;
    }
  }
  return { width, height, channels: 3, data: out };
}

const IMAGE_JS_CHANNELS: Record<string, number> = { GREY: 1, GREYA: 2, RGB: 3, RGBA: 4 };

/**
 * Converts an image-js `Image` to 8-bit RGB. 16-bit channels keep their high byte (`v >> 8`),
 * the way OpenCV's PNG reader strips 16-bit data for `IMREAD_COLOR` (libpng `png_set_strip_16`).
 */
function imageJsToRgb(image: ImageJsLike): RgbImage {
  const raw = image.getRawImage();
  checkSize(raw.width, raw.height, 'image-js image');
  const channels = IMAGE_JS_CHANNELS[image.colorModel];
  if (channels === undefined || channels !== raw.channels) {
    throw new FacenetDnnError('ERR_IMAGE', `Cannot read image-js image: unsupported color model '${image.colorModel}' with ${raw.channels} channels`);
  }
  if (raw.bitDepth !== 8 && raw.bitDepth !== 16) {
    throw new FacenetDnnError('ERR_IMAGE', `Cannot read image-js image: unsupported bit depth ${raw.bitDepth}`);
  }
  checkLength(raw.width, raw.height, channels, raw.data.length, 'image-js image');
  return interleavedToRgb(raw.width, raw.height, channels, raw.data, raw.bitDepth === 16 ? 8 : 0);
}

function checkLength(width: number, height: number, channels: number, length: number, what: string): void {
  const expected = width * height * channels;
  if (length !== expected) {
    throw new FacenetDnnError(
      'ERR_IMAGE',
      `Cannot read ${what}: data has ${length} values, expected ${width}×${height}×${channels} = ${expected}`,
    );
  }
}

/**
 * Normalizes an already-decoded image (raw pixels, `ImageData`-like, image-js `Image`) to 8-bit
 * RGB. Always returns a new buffer: the result can be modified without touching the input.
 *
 * @throws {FacenetDnnError} `ERR_IMAGE` for an empty image, a data length that does not match
 *   `width·height·channels`, or an image-js color model other than GREY/GREYA/RGB/RGBA.
 * @throws {TypeError} when `input` is not one of the accepted shapes (encoded bytes included:
 *   decode those with `toRgb`).
 * @throws {RangeError} for a width or height that is not a non-negative integer.
 * @example
 * ```ts
 * const rgb = pixelsToRgb(ctx.getImageData(0, 0, w, h));
 * ```
 */
export function pixelsToRgb(input: ImageDataLike | RawPixels | ImageJsLike): RgbImage {
  if (input === null || typeof input !== 'object' || isEncoded(input)) {
    throw new TypeError('Cannot read image: expected raw pixels {width, height, data, channels?} or an image-js Image');
  }
  if (isImageJs(input)) return imageJsToRgb(input);
  const { width, height, data } = input as RawPixels;
  const hasChannels = 'channels' in input && (input as RawPixels).channels !== undefined;
  const channels = hasChannels ? (input as RawPixels).channels : 4;
  const what = hasChannels ? `${channels}-channel pixels` : 'ImageData';
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new RangeError(`Cannot read image: channels must be 1, 3 or 4, got ${String(channels)}`);
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new TypeError(`Cannot read ${what}: data must be a Uint8Array or Uint8ClampedArray`);
  }
  checkSize(width, height, what);
  checkLength(width, height, channels, data.length, what);
  return interleavedToRgb(width, height, channels, data);
}
