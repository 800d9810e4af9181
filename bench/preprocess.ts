/**
 * The "image-js path" of face preprocessing, a named alternative for `bench/runtime.ts`: what a JS
 * user without this package would write with image-js alone: `decode` → `crop` (facenet's margin
 * rule, the same rectangle as the other paths) → `resize` to 160×160 bilinear → fixed
 * standardization `(x − 127.5) / 128` in a plain loop (alpha dropped).
 *
 * It is a speed alternative, not a correctness one: image-js' bilinear resize samples its own grid
 * (not OpenCV's INTER_LINEAR half-pixel one), so its pixels differ from `preprocess()`'s by a few
 * grey levels; the runtime bench records the largest difference next to the timings.
 */
import { decode } from 'image-js';
import { faceCrop, type FaceBox } from '../src/runtime/preprocess/index.js';

/**
 * One face, image-js only: NHWC float32 values of a `size`×`size` RGB crop.
 *
 * @param jpeg encoded image bytes (JPEG or PNG).
 * @param box the face box; the crop is grown by facenet's 44 px margin like `preprocess()`'s.
 * @param size output side in pixels. Default 160.
 */
export function imagejsPreprocess(jpeg: Uint8Array, box: FaceBox, size = 160): Float32Array {
  const img = decode(jpeg);
  const rect = faceCrop(img.width, img.height, box);
  const face = img
    .crop({ origin: { column: rect.x, row: rect.y }, width: rect.width, height: rect.height })
    // Without preserveAspectRatio: false image-js keeps the crop's aspect and ignores the height.
    .resize({ width: size, height: size, preserveAspectRatio: false, interpolationType: 'bilinear', borderType: 'replicate' });
  const raw = face.getRawImage();
  const channels = face.channels;
  if (channels !== 3 && channels !== 4) throw new RangeError(`Cannot preprocess with image-js: ${channels} channels, expected RGB or RGBA`);
  const px = size * size;
  const out = new Float32Array(px * 3);
  const src = raw.data;
  for (let p = 0; p < px; p++) {
    const s = p * channels;
    out[p * 3] = (src[s]! - 127.5) / 128;
    out[p * 3 + 1] = (src[s + 1]! - 127.5) / 128;
    out[p * 3 + 2] = (src[s + 2]! - 127.5) / 128;
  }
  return out;
}
