/**
 * Face preprocessing (src/runtime/preprocess): resize and fixed standardization against OpenCV's
 * own cv.resize / cv.blobFromImage on real photos, prewhiten against the formula in float64, the
 * margin rule against hand-computed crops, decoding against hand-made PNG and JPEG files of known
 * content, and every error case. Portable: data and OpenCV only through ./support/env.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Image } from 'image-js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import type { CV } from '../../src/runtime/opencv/load.js';
import {
  DEFAULT_MAX_PIXELS,
  decodeImage,
  faceCrop,
  pixelsToRgb,
  preprocess,
  preprocessBatch,
  preprocessToRgb,
  readImageHeader,
  resizeBilinear,
  standardize,
  toRgb,
} from '../../src/runtime/preprocess/index.js';
import type { RawPixels, RgbImage } from '../../src/runtime/preprocess/index.js';
import { getCV, sharedBytes } from './support/env.js';

// ---------------------------------------------------------------------------------------------
// Helpers: OpenCV references, hand-made files

const CV_TYPE = { 1: 'CV_8UC1', 3: 'CV_8UC3', 4: 'CV_8UC4' } as const;

/** OpenCV's `cv.resize(src, dst, Size(w, h), 0, 0, INTER_LINEAR)` on the same pixels. */
function cvResize(cv: CV, img: RawPixels, w: number, h: number): Uint8Array {
  const src = new cv.Mat(img.height, img.width, cv[CV_TYPE[img.channels]]);
  const dst = new cv.Mat();
  try {
    src.data.set(img.data);
    cv.resize(src, dst, new cv.Size(w, h), 0, 0, cv.INTER_LINEAR);
    return Uint8Array.from(dst.data as Uint8Array);
  } finally {
    src.delete();
    dst.delete();
  }
}

/** Histogram of `a − b` as {difference: count}, and the largest |difference|. */
function diffHistogram(a: ArrayLike<number>, b: ArrayLike<number>): { hist: Record<number, number>; max: number; exact: number } {
  assert.is(a.length, b.length, 'lengths differ');
  const hist: Record<number, number> = {};
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    hist[d] = (hist[d] ?? 0) + 1;
    max = Math.max(max, Math.abs(d));
  }
  return { hist, max, exact: (hist[0] ?? 0) / a.length };
}

/** Drops to 1 channel (R) or adds an alpha channel, to exercise the grey and 4-channel paths. */
function withChannels(img: RgbImage, channels: 1 | 4): RawPixels {
  const n = img.width * img.height;
  const data = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    if (channels === 1) data[i] = img.data[i * 3]!;
    else {
      data.set(img.data.subarray(i * 3, i * 3 + 3), i * 4);
      data[i * 4 + 3] = (i * 7) & 255;
    }
  }
  return { width: img.width, height: img.height, channels, data };
}

let crcTable: Uint32Array | undefined;
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 255]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function concat(parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const be32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const be16 = (v: number) => [(v >>> 8) & 255, v & 255];

function pngChunk(type: string, data: ArrayLike<number>): Uint8Array {
  const body = concat([Array.from(type, (c) => c.charCodeAt(0)), data]);
  return concat([be32(data.length), body, be32(crc32(body))]);
}

/**
 * A PNG written by hand (not by image-js): IHDR, optional PLTE, one IDAT holding a zlib stream of
 * stored (uncompressed) deflate blocks, IEND. `rows` are the raw scanline bytes without filter byte.
 */
function makePng(width: number, height: number, bitDepth: number, colorType: number, rows: number[][], palette?: number[]): Uint8Array {
  const raw = concat(rows.map((r) => [0, ...r])); // filter type 0 (None) per row
  let a = 1;
  let b = 0;
  for (const v of raw) {
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  }
  const blocks: ArrayLike<number>[] = [[0x78, 0x01]];
  for (let o = 0; o < raw.length || o === 0; o += 65535) {
    const part = raw.subarray(o, o + 65535);
    const last = o + 65535 >= raw.length ? 1 : 0;
    blocks.push([last, part.length & 255, part.length >>> 8, ~part.length & 255, (~part.length >>> 8) & 255], part);
    if (raw.length === 0) break;
  }
  blocks.push(be32(((b << 16) | a) >>> 0));
  return concat([
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    pngChunk('IHDR', [...be32(width), ...be32(height), bitDepth, colorType, 0, 0, 0]),
    ...(palette ? [pngChunk('PLTE', palette)] : []),
    pngChunk('IDAT', concat(blocks)),
    pngChunk('IEND', []),
  ]);
}

/**
 * A baseline greyscale JPEG written by hand: 16×8 pixels, two flat 8×8 blocks of grey levels
 * `left` and `right`. Quantization table of ones, so each block is its DC coefficient
 * 8·(level − 128) and nothing else; tiny Huffman tables: DC categories 10 and 11 ('00', '01'), AC
 * only EOB ('00'). A flat block decodes to exactly its level.
 */
function makeGreyJpeg(left: number, right: number): Uint8Array {
  const bits: number[] = [];
  const put = (value: number, n: number) => {
    for (let k = n - 1; k >= 0; k--) bits.push((value >> k) & 1);
  };
  let pred = 0;
  for (const level of [left, right]) {
    const diff = 8 * (level - 128) - pred;
    pred += diff;
    const cat = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
    if (cat !== 10 && cat !== 11) throw new Error(`test JPEG: DC category ${cat} not in the table`);
    put(cat === 10 ? 0b00 : 0b01, 2);
    put(diff >= 0 ? diff : diff + (1 << cat) - 1, cat); // JPEG's one's-complement-style negative
    put(0b00, 2); // EOB
  }
  while (bits.length % 8) bits.push(1);
  const scan: number[] = [];
  for (let i = 0; i < bits.length; i += 8) {
    const byte = bits.slice(i, i + 8).reduce((v, bit) => (v << 1) | bit, 0);
    scan.push(byte);
    if (byte === 0xff) scan.push(0); // byte stuffing
  }
  const counts = (lengths: Record<number, number>) => Array.from({ length: 16 }, (_, k) => lengths[k + 1] ?? 0);
  return concat([
    [0xff, 0xd8],
    [0xff, 0xdb, ...be16(67), 0x00, ...new Array<number>(64).fill(1)],
    [0xff, 0xc0, ...be16(11), 8, ...be16(8), ...be16(16), 1, 1, 0x11, 0],
    [0xff, 0xc4, ...be16(2 + 19 + 18), 0x00, ...counts({ 2: 2 }), 10, 11, 0x10, ...counts({ 2: 1 }), 0x00],
    [0xff, 0xda, ...be16(8), 1, 1, 0x00, 0, 63, 0],
    scan,
    [0xff, 0xd9],
  ]);
}

async function rejects(run: () => Promise<unknown>, check: (e: unknown) => void, what: string): Promise<void> {
  let caught: unknown;
  try {
    await run();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `${what}: expected an error`);
  check(caught);
}

function imageError(pattern: RegExp) {
  return (e: unknown) => {
    assert.instance(e, FacenetDnnError);
    assert.is((e as FacenetDnnError).code, 'ERR_IMAGE');
    assert.match((e as Error).message, pattern);
    assert.not.match((e as Error).message, /\.$/, 'no trailing period');
  };
}

// ---------------------------------------------------------------------------------------------
// Resize vs OpenCV

const PHOTOS = ['Anthony_Hopkins_0001.jpg', 'emotion_test.jpg', 'aizoo_demo2.jpg'];
const photos = new Map<string, RgbImage>();
async function photo(name: string): Promise<RgbImage> {
  let img = photos.get(name);
  if (!img) {
    img = decodeImage(await sharedBytes(`images/${name}`));
    photos.set(name, img);
  }
  return img;
}

test('resize matches OpenCV cv.resize INTER_LINEAR within 1 LSB (photos, down/up, odd sizes)', async () => {
  const cv = await getCV();
  const total: Record<number, number> = {};
  let cases = 0;
  for (const name of PHOTOS) {
    const img = await photo(name);
    const { width: w, height: h } = img;
    const sizes: Array<[number, number]> = [
      [160, 160], // FaceNet input
      [97, 131], // odd, aspect changed
      [Math.floor(w / 2), Math.floor(h / 2)], // ~2× (exact 2× takes OpenCV's INTER_AREA path when even)
      [Math.round(w * 1.37), Math.round(h * 2.9)], // upscaling, non-integer factors
      [w * 2, h * 2], // exact 2× upscale
      [333, 7], // extreme aspect
      [1, 1],
    ];
    for (const [dw, dh] of sizes) {
      const mine = resizeBilinear(img, { width: dw, height: dh });
      assert.equal([mine.width, mine.height, mine.channels], [dw, dh, 3]);
      const { hist, max, exact } = diffHistogram(mine.data, cvResize(cv, img, dw, dh));
      assert.ok(max <= 1, `${name} → ${dw}×${dh}: max |Δ| = ${max}, histogram ${JSON.stringify(hist)}`);
      // A systematic 1-LSB bias would pass the bound above: insist that almost all values agree.
      assert.ok(exact >= 0.99, `${name} → ${dw}×${dh}: only ${(exact * 100).toFixed(2)}% exact, histogram ${JSON.stringify(hist)}`);
      for (const [d, c] of Object.entries(hist)) total[Number(d)] = (total[Number(d)] ?? 0) + c;
      cases++;
    }
  }
  assert.is(cases, PHOTOS.length * 7);
  assert.ok(Object.keys(total).every((d) => Math.abs(Number(d)) <= 1), `histogram over all cases: ${JSON.stringify(total)}`);
});

test('resize matches OpenCV on 1- and 4-channel images, and crop + resize matches roi + resize', async () => {
  const cv = await getCV();
  const img = await photo('emotion_test.jpg'); // 351×401: odd both ways
  for (const channels of [1, 4] as const) {
    const src = withChannels(img, channels);
    for (const [dw, dh] of [[160, 160], [400, 123], [702, 802]] as const) {
      const { max, hist } = diffHistogram(resizeBilinear(src, { width: dw, height: dh }).data, cvResize(cv, src, dw, dh));
      assert.ok(max <= 1, `${channels} channels → ${dw}×${dh}: ${JSON.stringify(hist)}`);
    }
  }
  // The face pipeline up to the resize vs OpenCV: Mat.roi(hand-computed rect) then cv.resize.
  // box {x1: 101.7, y1: 88.2, x2: 240.9, y2: 270.5}, margin 44 → [79, 66, 262, 292) → 183×226.
  const box = { x1: 101.7, y1: 88.2, x2: 240.9, y2: 270.5 };
  const mine = await preprocessToRgb(img, { box });
  const src = new cv.Mat(img.height, img.width, cv.CV_8UC3);
  const dst = new cv.Mat();
  let roi: { delete(): void } | undefined;
  try {
    src.data.set(img.data);
    roi = src.roi(new cv.Rect(79, 66, 183, 226));
    cv.resize(roi, dst, new cv.Size(160, 160), 0, 0, cv.INTER_LINEAR);
    const { max, hist } = diffHistogram(mine.data, Uint8Array.from(dst.data as Uint8Array));
    assert.ok(max <= 1, `crop + resize: ${JSON.stringify(hist)}`);
  } finally {
    roi?.delete();
    src.delete();
    dst.delete();
  }
});

// ---------------------------------------------------------------------------------------------
// Standardization

test("'fixed' standardization equals cv.blobFromImage(rgb, 1/128, 160×160, 127.5, false, false)", async () => {
  const cv = await getCV();
  for (const name of ['Anthony_Hopkins_0001.jpg', 'aizoo_demo2.jpg']) {
    const img = await photo(name);
    const bytes = await sharedBytes(`images/${name}`);
    const x = await preprocess(bytes); // defaults: no box, 160, fixed
    assert.is(x.length, 160 * 160 * 3);
    // blobFromImage resizes with INTER_LINEAR itself when the size differs: one OpenCV call is
    // the reference for resize + standardization.
    const src = new cv.Mat(img.height, img.width, cv.CV_8UC3);
    let blob: { data32F: Float32Array; delete(): void } | undefined;
    try {
      src.data.set(img.data);
      blob = cv.blobFromImage(src, 1 / 128, new cv.Size(160, 160), new cv.Scalar(127.5, 127.5, 127.5), false, false);
      const nchw = blob!.data32F;
      assert.is(nchw.length, 3 * 160 * 160);
      let max = 0;
      const plane = 160 * 160;
      for (let p = 0; p < plane; p++) {
        for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(x[p * 3 + c]! - nchw[c * plane + p]!));
      }
      assert.ok(max <= 1e-6, `${name}: max |Δ| ${max} vs blobFromImage`);
    } finally {
      blob?.delete();
      src.delete();
    }
  }
});

test("'prewhiten' equals facenet's formula in float64 on OpenCV's resize", async () => {
  const cv = await getCV();
  const img = await photo('emotion_test.jpg');
  const x = await preprocess(img, { standardization: 'prewhiten', size: 97 });
  const ref = cvResize(cv, img, 97, 97);
  const n = ref.length;
  const values = Array.from(ref);
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
  const adj = Math.max(std, 1 / Math.sqrt(n));
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(x[i]! - (values[i]! - mean) / adj));
  assert.ok(max <= 1e-6, `max |Δ| ${max}`);
  // The output has mean 0 and standard deviation 1 (up to float32 rounding).
  const m = x.reduce((s, v) => s + v, 0) / n;
  const s = Math.sqrt(x.reduce((acc, v) => acc + (v - m) ** 2, 0) / n);
  assert.ok(Math.abs(m) < 1e-5 && Math.abs(s - 1) < 1e-5, `mean ${m}, std ${s}`);
});

test("'prewhiten' floors the standard deviation at 1/√n (facenet's std_adj)", () => {
  // 4×4 RGB, all 100 but one value 101: n = 48, std = √(47)/48 < 1/√48, so the floor applies.
  const data = new Uint8Array(48).fill(100);
  data[5] = 101;
  const x = standardize({ width: 4, height: 4, channels: 3, data }, 'prewhiten');
  const mean = 100 + 1 / 48;
  assert.ok(Math.abs(x[5]! - (101 - mean) * Math.sqrt(48)) < 1e-5, `odd value ${x[5]}`);
  assert.ok(Math.abs(x[0]! - (100 - mean) * Math.sqrt(48)) < 1e-6, `other value ${x[0]}`);
  // A constant image gives zeros, not NaN.
  assert.ok(standardize({ width: 2, height: 2, channels: 3, data: new Uint8Array(12).fill(7) }, 'prewhiten').every((v) => v === 0));
  // 'fixed' by hand: 0 → −0.99609375, 255 → 0.99609375, 127 → −0.00390625.
  assert.equal(Array.from(standardize({ width: 1, height: 1, channels: 3, data: Uint8Array.of(0, 255, 127) })), [-0.99609375, 0.99609375, -0.00390625]);
  assert.throws(() => standardize({ width: 1, height: 1, channels: 3, data: new Uint8Array(3) }, 'bogus' as 'fixed'), (e: unknown) => e instanceof RangeError);
});

// ---------------------------------------------------------------------------------------------
// Face box and margin (facenet compare.py)

test('faceCrop follows facenet: ±margin/2, clamp to the image, truncate like np.int32', () => {
  // Interior, margin 44: [70.6−22, 60.2−22, 180.9+22, 190.4+22] = [48.6, 38.2, 202.9, 212.4] → [48, 38, 202, 212].
  assert.equal(faceCrop(250, 250, { x1: 70.6, y1: 60.2, x2: 180.9, y2: 190.4 }), { x: 48, y: 38, width: 154, height: 174 });
  // Margin 32 (facenet's LFW alignment): [70.6−16, 60.2−16, 180.9+16, 190.4+16] → [54, 44, 196, 206].
  assert.equal(faceCrop(250, 250, { x1: 70.6, y1: 60.2, x2: 180.9, y2: 190.4 }, 32), { x: 54, y: 44, width: 142, height: 162 });
  // Clamped at the left and top (negative → 0) and at the right and bottom (→ W, H).
  assert.equal(faceCrop(200, 100, { x1: 10.9, y1: -5, x2: 190.2, y2: 95.99 }), { x: 0, y: 0, width: 200, height: 100 });
  // Clamped on one side only; fractional right edge truncated: min(150.7 + 22, 320) = 172.7 → 172.
  assert.equal(faceCrop(320, 240, { x1: 300.5, y1: 20.25, x2: 318, y2: 150.7 }, 44), { x: 278, y: 0, width: 42, height: 172 - 0 });
  // Margin 0: plain truncation of the box.
  assert.equal(faceCrop(100, 100, { x1: 1.999, y1: 2.5, x2: 50.999, y2: 60.01 }, 0), { x: 1, y: 2, width: 49, height: 58 });
  // A box partly outside the image keeps its inside part.
  assert.equal(faceCrop(100, 100, { x1: -40, y1: 90, x2: 10, y2: 130 }, 0), { x: 0, y: 90, width: 10, height: 10 });
});

test('faceCrop rejects boxes that leave nothing of the image, and bad values', () => {
  const range = (e: unknown) => e instanceof RangeError && /^Cannot crop face: /.test(e.message);
  assert.throws(() => faceCrop(100, 100, { x1: 150, y1: 10, x2: 180, y2: 50 }), range); // right of the image
  assert.throws(() => faceCrop(100, 100, { x1: -90, y1: 10, x2: -30, y2: 50 }), range); // left: x2 + 22 < 0 (numpy would wrap)
  assert.throws(() => faceCrop(100, 100, { x1: 10, y1: 130, x2: 50, y2: 180 }, 0), range); // below
  assert.throws(() => faceCrop(100, 100, { x1: 50, y1: 10, x2: 50.5, y2: 50 }, 0), range); // empty after truncation
  assert.throws(() => faceCrop(100, 100, { x1: 60, y1: 10, x2: 40, y2: 50 }, 0), range); // inverted
  assert.throws(() => faceCrop(100, 100, { x1: NaN, y1: 10, x2: 40, y2: 50 }), range);
  assert.throws(() => faceCrop(100, 100, { x1: 0, y1: 10, x2: 40, y2: 50 }, -2), range);
});

test('preprocess with a box crops by the margin rule before resizing', async () => {
  // 8×6 RGB gradient; box {2.4, 1.6, 5.2, 3.9}, margin 2 → [1.4, 0.6, 6.2, 4.9] → [1, 0, 6, 4): 5×4.
  const data = new Uint8Array(8 * 6 * 3).map((_, i) => (i * 5) % 256);
  const img = { width: 8, height: 6, channels: 3 as const, data };
  const got = await preprocessToRgb(img, { box: { x1: 2.4, y1: 1.6, x2: 5.2, y2: 3.9 }, margin: 2, size: 5 });
  // Resizing 5×4 to 5×5 only interpolates rows; compare with the same crop taken by hand.
  const crop = new Uint8Array(5 * 4 * 3);
  for (let r = 0; r < 4; r++) crop.set(data.subarray((r * 8 + 1) * 3, (r * 8 + 6) * 3), r * 15);
  const cv = await getCV();
  assert.equal(Array.from(got.data), Array.from(cvResize(cv, { width: 5, height: 4, channels: 3, data: crop }, 5, 5)));
  // Without a box the whole image is the face.
  const whole = await preprocessToRgb(img, { size: 8 });
  assert.equal(Array.from(whole.data), Array.from(cvResize(cv, img, 8, 8)));
});

// ---------------------------------------------------------------------------------------------
// Inputs and decoding

test('decodes hand-made PNGs of every colour type to the pixels written', async () => {
  // 3×2 RGB 8-bit
  const rgb = [[255, 0, 0, 0, 255, 0, 0, 0, 255], [10, 20, 30, 40, 50, 60, 70, 80, 90]];
  assert.equal(Array.from((await toRgb(makePng(3, 2, 8, 2, rgb))).data), rgb.flat());
  // RGBA: alpha dropped, colour kept as is (not composited)
  const rgba = await toRgb(makePng(2, 1, 8, 6, [[1, 2, 3, 0, 4, 5, 6, 128]]));
  assert.equal([rgba.width, rgba.height, ...rgba.data], [2, 1, 1, 2, 3, 4, 5, 6]);
  // Grey 8-bit: replicated to three channels
  assert.equal(Array.from((await toRgb(makePng(2, 2, 8, 0, [[0, 77], [200, 255]]))).data), [0, 0, 0, 77, 77, 77, 200, 200, 200, 255, 255, 255]);
  // Grey + alpha
  assert.equal(Array.from((await toRgb(makePng(1, 1, 8, 4, [[99, 3]]))).data), [99, 99, 99]);
  // RGB 16-bit: the high byte is kept (0x12ff → 0x12)
  assert.equal(Array.from((await toRgb(makePng(1, 1, 16, 2, [[0x12, 0xff, 0xab, 0x01, 0x00, 0x80]]))).data), [0x12, 0xab, 0x00]);
  // Palette 8-bit
  const pal = await toRgb(makePng(3, 1, 8, 3, [[2, 0, 1]], [9, 8, 7, 6, 5, 4, 3, 2, 1]));
  assert.equal(Array.from(pal.data), [3, 2, 1, 9, 8, 7, 6, 5, 4]);
  // The same bytes as an ArrayBuffer
  const png = makePng(3, 2, 8, 2, rgb);
  const copy = png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength);
  assert.equal(Array.from((await toRgb(copy as ArrayBuffer)).data), rgb.flat());
  assert.equal(readImageHeader(png), { format: 'png', width: 3, height: 2 });
});

test('decodes a hand-made JPEG of known content, and real photos', async () => {
  const jpeg = makeGreyJpeg(200, 60);
  assert.equal(readImageHeader(jpeg), { format: 'jpeg', width: 16, height: 8 });
  const img = await toRgb(jpeg);
  assert.equal([img.width, img.height], [16, 8]);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 16; x++) {
      const want = x < 8 ? 200 : 60;
      const got = Array.from(img.data.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3));
      assert.equal(got, [want, want, want], `pixel (${x}, ${y})`);
    }
  }
  // Real photos: no second decoder is available in every runtime (OpenCV.js has no imdecode), so
  // check what is known independently: LFW images are 250×250 RGB; a photo is not flat.
  const lfw = await toRgb(await sharedBytes('images/Anthony_Hopkins_0001.jpg'));
  assert.equal([lfw.width, lfw.height, lfw.data.length], [250, 250, 250 * 250 * 3]);
  let sum = 0;
  let sq = 0;
  for (const v of lfw.data) {
    sum += v;
    sq += v * v;
  }
  const mean = sum / lfw.data.length;
  const std = Math.sqrt(sq / lfw.data.length - mean * mean);
  assert.ok(mean > 30 && mean < 225 && std > 20, `mean ${mean}, std ${std}`);
  // Colour: R, G and B planes differ (a grey decode would make them equal).
  let rg = 0;
  for (let i = 0; i < lfw.data.length; i += 3) rg += Math.abs(lfw.data[i]! - lfw.data[i + 2]!);
  assert.ok(rg / (250 * 250) > 3, `mean |R − B| ${rg / (250 * 250)}`);
});

test('accepts ImageData-like RGBA, raw 1/3/4-channel pixels and image-js Images', async () => {
  const rgba = Uint8ClampedArray.of(1, 2, 3, 255, 4, 5, 6, 0);
  assert.equal(Array.from((await toRgb({ width: 2, height: 1, data: rgba })).data), [1, 2, 3, 4, 5, 6]);
  assert.equal(Array.from(pixelsToRgb({ width: 1, height: 2, channels: 1, data: Uint8Array.of(9, 250) }).data), [9, 9, 9, 250, 250, 250]);
  const raw3 = { width: 1, height: 1, channels: 3 as const, data: Uint8Array.of(7, 8, 9) };
  const out = pixelsToRgb(raw3);
  assert.equal(Array.from(out.data), [7, 8, 9]);
  out.data[0] = 0;
  assert.is(raw3.data[0], 7, 'the result is a copy');
  assert.equal(Array.from(pixelsToRgb({ width: 1, height: 1, channels: 4, data: Uint8Array.of(7, 8, 9, 10) }).data), [7, 8, 9]);
  // image-js Images: RGB, GREY and 16-bit.
  const ij = new Image(2, 1, { colorModel: 'RGB', data: Uint8Array.of(10, 20, 30, 40, 50, 60) });
  assert.equal(Array.from((await toRgb(ij)).data), [10, 20, 30, 40, 50, 60]);
  const grey = new Image(2, 1, { colorModel: 'GREY', data: Uint8Array.of(3, 4) });
  assert.equal(Array.from((await toRgb(grey)).data), [3, 3, 3, 4, 4, 4]);
  const deep = new Image(1, 1, { colorModel: 'RGB', bitDepth: 16, data: Uint16Array.of(0xff00, 0x0100, 0x80ff) });
  assert.equal(Array.from((await toRgb(deep)).data), [0xff, 0x01, 0x80]);
  // Every input kind through preprocess gives the same tensor for the same pixels.
  const a = await preprocess({ width: 2, height: 1, data: rgba }, { size: 3 });
  const b = await preprocess({ width: 2, height: 1, channels: 3, data: Uint8Array.of(1, 2, 3, 4, 5, 6) }, { size: 3 });
  assert.equal(Array.from(a), Array.from(b));
});

test('preprocessBatch concatenates the per-image tensors, one box per image', async () => {
  const bytes = await sharedBytes('images/Anthony_Hopkins_0001.jpg');
  const other = await photo('emotion_test.jpg');
  const box = { x1: 70, y1: 60, x2: 180, y2: 190 };
  const batch = await preprocessBatch([bytes, other], { boxes: [box, undefined], size: 40, standardization: 'prewhiten' });
  assert.is(batch.length, 2 * 40 * 40 * 3);
  const first = await preprocess(bytes, { box, size: 40, standardization: 'prewhiten' });
  const second = await preprocess(other, { size: 40, standardization: 'prewhiten' });
  assert.equal(Array.from(batch.subarray(0, 4800)), Array.from(first));
  assert.equal(Array.from(batch.subarray(4800)), Array.from(second));
  assert.is((await preprocessBatch([])).length, 0);
  await rejects(() => preprocessBatch([bytes], { boxes: [box, box] }), (e) => assert.instance(e, RangeError), 'boxes length');
  await rejects(
    () => preprocessBatch([bytes, Uint8Array.of(1, 2, 3)]),
    (e) => {
      imageError(/^Cannot preprocess image 1 of the batch: Cannot decode image: not a JPEG or PNG/)(e);
      assert.instance((e as Error).cause, FacenetDnnError);
    },
    'bad second image',
  );
});

// ---------------------------------------------------------------------------------------------
// Errors

test('not an image, empty bytes, truncated or corrupt files are ERR_IMAGE', async () => {
  const gif = Uint8Array.from('GIF89a\x01\x00\x01\x00', (c) => c.charCodeAt(0));
  await rejects(() => toRgb(gif), imageError(/^Cannot decode image: not a JPEG or PNG \(starts with 47 49 46 38 39 61 01 00\)$/), 'gif');
  await rejects(() => preprocess(new Uint8Array(0)), imageError(/not a JPEG or PNG \(is empty\)/), 'empty');
  await rejects(() => toRgb(Uint8Array.of(0xff, 0xd8, 0xff, 0xd9)), imageError(/no frame header/), 'JPEG without SOF');
  await rejects(() => toRgb(makePng(2, 2, 8, 0, [[1, 2], [3, 4]]).subarray(0, 20)), imageError(/truncated or corrupt PNG/), 'truncated PNG');
  // A real photo cut short: the header is intact, the entropy-coded data ends early.
  const cut = (await sharedBytes('images/Anthony_Hopkins_0001.jpg')).slice(0, 5000);
  assert.equal(readImageHeader(cut), { format: 'jpeg', width: 250, height: 250 });
  await rejects(() => toRgb(cut), (e) => {
    imageError(/^Cannot decode image: the JPEG decoder failed \(.+\)$/)(e);
    assert.ok((e as Error).cause instanceof Error, 'the decoder error is the cause');
  }, 'cut JPEG');
});

test('zero-size images and data of the wrong length are ERR_IMAGE', async () => {
  await rejects(() => toRgb({ width: 0, height: 0, data: new Uint8ClampedArray(0) }), imageError(/image is empty \(0×0\)/), 'empty ImageData');
  await rejects(() => toRgb({ width: 5, height: 0, channels: 3, data: new Uint8Array(0) }), imageError(/image is empty/), 'empty raw');
  await rejects(() => toRgb(makePng(0, 3, 8, 0, [])), imageError(/PNG header announces an empty image \(0×3\)/), 'empty PNG');
  await rejects(
    () => toRgb({ width: 4, height: 2, channels: 3, data: new Uint8Array(23) }),
    imageError(/^Cannot read 3-channel pixels: data has 23 values, expected 4×2×3 = 24$/),
    'short raw',
  );
  await rejects(() => toRgb({ width: 2, height: 2, data: new Uint8ClampedArray(12) }), imageError(/ImageData: data has 12 values, expected 2×2×4 = 16/), 'RGB data as ImageData');
  await rejects(() => toRgb({ width: 1.5, height: 2, channels: 3, data: new Uint8Array(9) }), (e) => assert.instance(e, RangeError), 'fractional width');
  await rejects(() => toRgb({ width: 1, height: 1, channels: 2 as 3, data: new Uint8Array(2) }), (e) => assert.instance(e, RangeError), 'two channels');
  await rejects(() => toRgb({ width: 1, height: 1, data: [1, 2, 3, 4] as unknown as Uint8Array }), (e) => assert.instance(e, TypeError), 'plain array');
  await rejects(() => toRgb('photo.jpg' as unknown as Uint8Array), (e) => assert.instance(e, TypeError), 'a string');
  await rejects(() => preprocess(makeGreyJpeg(200, 60), { size: 0 }), (e) => assert.instance(e, RangeError), 'size 0');
});

test('decompression-bomb guard: a 50,000×50,000 header fails fast, before decoding', async () => {
  // A JPEG that is nothing but SOI, a frame header announcing 50000×50000 and EOI.
  const jpegBomb = Uint8Array.of(0xff, 0xd8, 0xff, 0xc0, ...be16(11), 8, ...be16(50000), ...be16(50000), 1, 1, 0x11, 0, 0xff, 0xd9);
  assert.equal(readImageHeader(jpegBomb), { format: 'jpeg', width: 50000, height: 50000 });
  await rejects(() => toRgb(jpegBomb), imageError(/^Cannot decode image: 50000×50000 pixels exceed maxPixels \(40000000\)$/), 'JPEG bomb');
  // A progressive JPEG (SOF2) after an APP0 segment is found too.
  const app0 = [0xff, 0xe0, ...be16(16), 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const progressive = Uint8Array.of(0xff, 0xd8, ...app0, 0xff, 0xc2, ...be16(11), 8, ...be16(60000), ...be16(40000), 1, 1, 0x11, 0);
  await rejects(() => preprocess(progressive), imageError(/40000×60000 pixels exceed maxPixels/), 'progressive JPEG bomb');
  // A PNG that is the signature and an IHDR announcing 50000×50000, no image data at all.
  const pngBomb = makePng(50000, 50000, 8, 2, []).subarray(0, 33);
  assert.equal(readImageHeader(pngBomb), { format: 'png', width: 50000, height: 50000 });
  await rejects(() => preprocess(pngBomb), imageError(/50000×50000 pixels exceed maxPixels \(40000000\)/), 'PNG bomb');
  // The limit is an option: the 16×8 JPEG passes at 128 pixels and fails at 127.
  const small = makeGreyJpeg(60, 200);
  assert.is((await toRgb(small, { maxPixels: 128 })).width, 16);
  await rejects(() => preprocess(small, { maxPixels: 127 }), imageError(/16×8 pixels exceed maxPixels \(127\)/), 'maxPixels 127');
  await rejects(() => toRgb(small, { maxPixels: 0 }), (e) => assert.instance(e, RangeError), 'maxPixels 0');
  assert.is(DEFAULT_MAX_PIXELS, 40_000_000);
});

test.run();
