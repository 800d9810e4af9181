/**
 * Test-side image loading: decode a shared photo with image-js and turn it into the NHWC float32
 * tensor a model's preprocessing asks for (resize, grey, crop, scale/mean, BGR, H↔W transpose).
 */
import { decode } from 'image-js';
import type { Image } from 'image-js';
import { readShared } from './shared.js';

/** A decoded 8-bit image as interleaved rows: `data[(y·width + x)·channels + c]`. */
export interface Pixels {
  width: number;
  height: number;
  /** 3 (RGB) or 1 (grey). */
  channels: 1 | 3;
  data: Uint8Array;
}

/** Decodes `images/<file>` from the shared folder as 8-bit RGB (an alpha channel is dropped). */
export function loadImage(file: string): Image {
  const img = decode(readShared(`images/${file}`));
  if (img.bitDepth !== 8) throw new Error(`Test image ${file}: expected 8-bit, got ${img.bitDepth}`);
  if (img.colorModel === 'RGB' || img.colorModel === 'GREY') return img;
  // JPEGs decode as RGBA with opaque alpha; drop it (grey() also refuses RGBA without an alpha policy).
  return img.convertColor('RGB');
}

/** Options of {@link toTensor}. */
export interface TensorOptions {
  /** Crop first, in source pixels. Default: the whole image. */
  crop?: { x: number; y: number; width: number; height: number };
  /** Resize (bilinear, aspect ratio not kept) to this size. Default: no resize. */
  width?: number;
  height?: number;
  /** One grey channel (luma 709) instead of RGB. Default false. */
  grey?: boolean;
  /** Channel order B, G, R instead of R, G, B. Default false. */
  bgr?: boolean;
  /** Subtracted per channel (in output channel order) before scaling. Default 0. */
  mean?: number | number[];
  /** Multiplier after the mean is subtracted. Default 1. */
  scale?: number;
  /** Swap H and W (MTCNN's `np.transpose(img, (0, 2, 1, 3))`). Default false. */
  transpose?: boolean;
}

/** The image's pixels as an 8-bit interleaved array, after optional crop, resize and grey. */
export function pixels(image: Image, options: Pick<TensorOptions, 'crop' | 'width' | 'height' | 'grey'> = {}): Pixels {
  let img = image;
  if (options.crop) {
    const { x, y, width, height } = options.crop;
    img = img.crop({ origin: { row: y, column: x }, width, height });
  }
  if (options.width !== undefined || options.height !== undefined) {
    img = img.resize({
      width: options.width ?? img.width,
      height: options.height ?? img.height,
      preserveAspectRatio: false,
      interpolationType: 'bilinear',
      borderType: 'replicate',
    });
  }
  if (options.grey && img.colorModel !== 'GREY') img = img.grey();
  if (!options.grey && img.colorModel === 'GREY') img = img.convertColor('RGB');
  const raw = img.getRawImage();
  if (raw.channels !== 1 && raw.channels !== 3) throw new Error(`Test image: unexpected ${raw.channels} channels`);
  return { width: raw.width, height: raw.height, channels: raw.channels, data: Uint8Array.from(raw.data) };
}

/**
 * An NHWC float32 tensor [1, H, W, C] of `(value − mean) · scale` (or [1, W, H, C] with `transpose`).
 * Returns the data and its shape.
 */
export function toTensor(image: Image, options: TensorOptions = {}): { shape: [number, number, number, number]; data: Float32Array } {
  const p = pixels(image, options);
  const c = p.channels;
  const mean = Array.isArray(options.mean) ? options.mean : new Array<number>(c).fill(options.mean ?? 0);
  if (mean.length !== c) throw new Error(`Test image: ${mean.length} means for ${c} channels`);
  const scale = options.scale ?? 1;
  const out = new Float32Array(p.width * p.height * c);
  const [oh, ow] = options.transpose ? [p.width, p.height] : [p.height, p.width];
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      const src = (y * p.width + x) * c;
      const dst = (options.transpose ? x * ow + y : y * ow + x) * c;
      for (let k = 0; k < c; k++) {
        const from = options.bgr && c === 3 ? 2 - k : k;
        out[dst + k] = (p.data[src + from]! - mean[k]!) * scale;
      }
    }
  }
  return { shape: [1, oh, ow, c], data: out };
}

/** Concatenates [1, H, W, C] tensors of the same shape into one [N, H, W, C] batch. */
export function stack(tensors: ReadonlyArray<{ shape: readonly number[]; data: Float32Array }>): { shape: [number, number, number, number]; data: Float32Array } {
  const first = tensors[0];
  if (!first) throw new Error('stack: no tensors');
  const [, h, w, c] = first.shape as [number, number, number, number];
  const out = new Float32Array(first.data.length * tensors.length);
  tensors.forEach((t, i) => {
    if (t.shape.join() !== first.shape.join()) throw new Error(`stack: shape [${t.shape}] differs from [${first.shape}]`);
    out.set(t.data, i * first.data.length);
  });
  return { shape: [tensors.length, h, w, c], data: out };
}
