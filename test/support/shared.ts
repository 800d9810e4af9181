/** Paths to the read-only shared test data beside the repo (../shared). */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
export const MODELS = `${SHARED}models/`;
export const IMAGES = `${SHARED}images/`;

/** The .pb files in shared/models, by file name. */
export const SHARED_MODELS = [
  'hed_graph.pb',
  'hed_graph_ios_demo.pb',
  'aizoo_face_mask_detection.pb',
  'emotion_mini_xception.pb',
  'hse_mtcnn.pb',
  'opencv_face_detector_uint8.pb',
] as const;

export function readShared(relative: string): Uint8Array {
  const path = `${SHARED}${relative}`;
  if (!existsSync(path)) throw new Error(`Test data missing: ${path} (the shared/ folder must sit beside the repo)`);
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
