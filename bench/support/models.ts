/** Models for benches: the full-size FaceNet-anatomy graph, built once and cached (git-ignored). */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FACENET, buildFacenetGraph } from '../../fixtures/facenet-anatomy.js';
import { encodeGraph } from '../../src/converter/proto/codec.js';

export const FULL_PATH = fileURLToPath(new URL('../../fixtures/generated/facenet-full.pb', import.meta.url));

/** The full-size (23.5 M parameters, ~95 MB) FaceNet-anatomy graph, as `scripts/gen-fixtures.ts --full` writes it. */
export function fullModelBytes(log: (s: string) => void = () => {}): Uint8Array {
  if (!existsSync(FULL_PATH)) {
    const t = performance.now();
    log(`building the full-size FaceNet-anatomy graph (once; cached at ${FULL_PATH}) …`);
    const bytes = encodeGraph(buildFacenetGraph({ seed: FACENET.tinySeed }));
    mkdirSync(dirname(FULL_PATH), { recursive: true });
    writeFileSync(FULL_PATH, bytes);
    log(`  built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const b = readFileSync(FULL_PATH);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
