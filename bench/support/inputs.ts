/**
 * The forward benchmarks' inputs (bench/forward.ts, bench/browser.ts): 8 real photos of ../shared,
 * two with face boxes, preprocessed as the runtime does it (160×160, fixed standardization, NHWC).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { preprocess, type FaceBox } from '../../src/runtime/preprocess/index.js';

const IMAGES = new URL('../../../shared/images/', import.meta.url);
const FACE = 160 * 160 * 3;

/** The 8 photos of the batch; the first (with its face box) is also the batch-1 input. */
export const PHOTOS: ReadonlyArray<{ file: string; box?: FaceBox }> = [
  { file: 'Anthony_Hopkins_0001.jpg', box: { x1: 70, y1: 60, x2: 180, y2: 190 } },
  { file: 'Anthony_Hopkins_0002.jpg' },
  { file: 'aizoo_demo2.jpg' },
  { file: 'emotion_happy.jpg' },
  { file: 'emotion_test.jpg' },
  { file: 'hed_ios_test_image.jpg' },
  { file: 'hed_test15.jpg' },
  { file: 'hse_test_image.jpg', box: { x1: 597, y1: 210, x2: 659, y2: 272 } },
];

function photo(file: string): Uint8Array | undefined {
  const url = new URL(file, IMAGES);
  if (!existsSync(url)) return undefined;
  const buf = readFileSync(url);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * The batch of 8 (NHWC float32) and what each face is. A missing photo becomes deterministic noise in
 * [-1, 1) (a fixed LCG), so the benches still run and compare engines without ../shared; `log` says so.
 */
export async function batchInput(log: (s: string) => void = () => {}): Promise<{ x8: Float32Array; names: string[] }> {
  const x8 = new Float32Array(PHOTOS.length * FACE);
  const names: string[] = [];
  for (let i = 0; i < PHOTOS.length; i++) {
    const p = PHOTOS[i]!;
    const bytes = photo(p.file);
    if (bytes) {
      x8.set(await preprocess(bytes, p.box ? { box: p.box } : {}), i * FACE);
      names.push(p.file + (p.box ? ' (face box)' : ''));
    } else {
      let s = 0x9e3779b9 ^ i;
      for (let k = 0; k < FACE; k++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        x8[i * FACE + k] = s / 2 ** 31 - 1;
      }
      names.push(`synthetic #${i} (${p.file} missing)`);
    }
  }
  if (names.some((n) => n.startsWith('synthetic'))) log(`some photos are missing under ${fileURLToPath(IMAGES)}; using synthetic inputs for them`);
  return { x8, names };
}
