/**
 * Decoding JPEG and PNG bytes with image-js, behind a cheap header sniff: the format and the
 * dimensions are read from the JPEG frame header (SOF) or the PNG IHDR chunk first, so an image
 * that announces too many pixels (a decompression bomb) is refused before anything is allocated.
 * Web-standard APIs only.
 */
import { decode } from 'image-js';
import { FacenetDnnError } from '../../converter/errors.js';
import { pixelsToRgb } from './image.js';
import type { RgbImage } from './image.js';

/** What {@link readImageHeader} finds without decoding. */
export interface ImageHeader {
  format: 'jpeg' | 'png';
  width: number;
  height: number;
}

/** Options of {@link decodeImage}. */
export interface ImageDecodeOptions {
  /**
   * Refuse images whose header announces more than this many pixels (width·height), before
   * decoding. The decoders image-js uses have their own limits switched off, and a few hundred
   * bytes of JPEG can announce 65535×65535 pixels (17 GB as RGBA). Default: 40,000,000.
   */
  maxPixels?: number;
}

/** Default of {@link ImageDecodeOptions.maxPixels}: 40 M pixels, above any phone camera's photo. */
export const DEFAULT_MAX_PIXELS = 40_000_000;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function hexStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'is empty';
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `starts with ${head}`;
}

function fail(why: string): FacenetDnnError {
  return new FacenetDnnError('ERR_IMAGE', `Cannot decode image: ${why}`);
}

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

/**
 * Walks the JPEG marker segments up to the first frame header. SOF0..SOF15 carry
 * precision(1) height(2) width(2); C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not
 * frame headers. Standalone markers (RSTn, TEM) carry no length.
 */
function jpegHeader(b: Uint8Array): ImageHeader {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) throw fail(`corrupt JPEG: expected a marker at byte ${i}, found 0x${b[i]!.toString(16)}`);
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte before a marker
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // EOI or start of scan: no frame header came first
    const length = u16(b, i + 2);
    if (length < 2) throw fail(`corrupt JPEG: segment 0xff${marker.toString(16)} at byte ${i} has length ${length}`);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 9 > b.length) break;
      return { format: 'jpeg', height: u16(b, i + 5), width: u16(b, i + 7) };
    }
    i += 2 + length;
  }
  throw fail('truncated or corrupt JPEG: no frame header (SOF) before the image data');
}

function pngHeader(b: Uint8Array): ImageHeader {
  // Signature (8), then the first chunk must be IHDR: length(4) "IHDR" width(4) height(4).
  if (b.length < 24 || b[12] !== 0x49 || b[13] !== 0x48 || b[14] !== 0x44 || b[15] !== 0x52) {
    throw fail('truncated or corrupt PNG: no IHDR chunk after the signature');
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { format: 'png', width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * Reads the format and dimensions of JPEG or PNG bytes from their header, without decoding.
 *
 * @throws {FacenetDnnError} `ERR_IMAGE` when the bytes are neither JPEG nor PNG ("Cannot decode
 *   image: not a JPEG or PNG (starts with 47 49 46 38 …)"), or the header is truncated.
 * @example
 * ```ts
 * readImageHeader(bytes); // { format: 'jpeg', width: 250, height: 250 }
 * ```
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpegHeader(bytes);
  if (bytes.length >= 8 && PNG_SIGNATURE.every((v, k) => bytes[k] === v)) return pngHeader(bytes);
  throw fail(`not a JPEG or PNG (${hexStart(bytes)})`);
}

/**
 * Decodes JPEG or PNG bytes to 8-bit RGB with image-js. Grey images are replicated to three
 * channels, alpha is dropped (not composited), 16-bit PNG channels keep their high byte. EXIF
 * orientation is not applied (OpenCV's `imdecode` with `IMREAD_COLOR` would rotate).
 *
 * @throws {FacenetDnnError} `ERR_IMAGE` for bytes that are not JPEG or PNG, a header announcing
 *   an empty image or more than `maxPixels` pixels, or a decoder failure (the cause attached).
 * @throws {RangeError} when `maxPixels` is not positive.
 * @example
 * ```ts
 * const { width, height, data } = decodeImage(await (await fetch(url)).bytes());
 * ```
 */
export function decodeImage(input: Uint8Array | ArrayBuffer, options: ImageDecodeOptions = {}): RgbImage {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0)) throw new RangeError(`Cannot decode image: maxPixels must be positive, got ${maxPixels}`);
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const header = readImageHeader(bytes);
  const { width, height } = header;
  if (width === 0 || height === 0) throw fail(`the ${header.format.toUpperCase()} header announces an empty image (${width}×${height})`);
  if (width * height > maxPixels) {
    throw fail(`${width}×${height} pixels exceed maxPixels (${maxPixels})`);
  }
  let image;
  try {
    image = decode(bytes);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new FacenetDnnError('ERR_IMAGE', `Cannot decode image: the ${header.format.toUpperCase()} decoder failed (${why})`, { cause });
  }
  return pixelsToRgb(image);
}
