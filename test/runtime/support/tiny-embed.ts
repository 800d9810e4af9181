/**
 * What the Node build tests compare between OpenCV.js builds: the converted tiny FaceNet-anatomy
 * fixture's embeddings of three real photos, one batch of 3, through the project's FaceNet.
 */
import { readFileSync } from 'node:fs';
import { convert } from '../../../src/converter/convert.js';
import { createFaceNetIn } from '../../../src/runtime/embed/facenet.js';
import type { CV } from '../../../src/runtime/opencv/load.js';
import { readShared } from '../../support/shared.js';

export const PHOTOS = ['Anthony_Hopkins_0001.jpg', 'Anthony_Hopkins_0002.jpg', 'hse_test_image.jpg'];

let model: Uint8Array | undefined;

/** The embeddings of {@link PHOTOS} with the converted tiny fixture on `cv`. */
export async function tinyEmbeddings(cv: CV): Promise<Float32Array[]> {
  model ??= convert(new Uint8Array(readFileSync(new URL('../../../fixtures/facenet-tiny.pb', import.meta.url))), { preset: 'facenet' }).model;
  const photos = PHOTOS.map((f) => readShared(`images/${f}`));
  const f = await createFaceNetIn({ loadOpenCV: async () => cv }, { model, cv });
  try {
    return await f.embedBatch(photos);
  } finally {
    await f.dispose();
  }
}
