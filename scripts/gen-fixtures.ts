// Regenerates the committed FaceNet-anatomy fixture, deterministically (same bytes on every run):
//   npx tsx scripts/gen-fixtures.ts            writes fixtures/facenet-tiny.pb
//   npx tsx scripts/gen-fixtures.ts --check    exits 1 if the committed file differs from a fresh build
//   npx tsx scripts/gen-fixtures.ts --full     also writes the full-size graph (~95 MB, never committed)
//                                              to fixtures/generated/facenet-full.pb (git-ignored)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FACENET, buildFacenetGraph, countConstElements } from '../fixtures/facenet-anatomy.js';
import { encodeGraph } from '../src/converter/proto/codec.js';

const args = new Set(process.argv.slice(2));
const tinyPath = fileURLToPath(new URL('../fixtures/facenet-tiny.pb', import.meta.url));
const fullPath = fileURLToPath(new URL('../fixtures/generated/facenet-full.pb', import.meta.url));

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

let t = performance.now();
const tiny = buildFacenetGraph({ width: FACENET.tinyWidth, seed: FACENET.tinySeed });
const tinyBytes = encodeGraph(tiny);
const tinyMs = performance.now() - t;

if (args.has('--check')) {
  let committed: Uint8Array;
  try {
    committed = readFileSync(tinyPath);
  } catch {
    console.error(`${tinyPath} is missing`);
    process.exit(1);
  }
  if (!sameBytes(committed, tinyBytes)) {
    console.error(`${tinyPath} differs from a fresh build (${committed.length} vs ${tinyBytes.length} bytes): run scripts/gen-fixtures.ts`);
    process.exit(1);
  }
  console.log(`${tinyPath} is up to date`);
} else {
  writeFileSync(tinyPath, tinyBytes);
  console.log(`wrote ${tinyPath}: ${tinyBytes.length} bytes, ${tiny.node.length} nodes, ${countConstElements(tiny)} constant values (${tinyMs.toFixed(0)} ms)`);
}

if (args.has('--full')) {
  t = performance.now();
  const full = buildFacenetGraph({ seed: FACENET.tinySeed });
  const built = performance.now() - t;
  const bytes = encodeGraph(full);
  const encoded = performance.now() - t - built;
  mkdirSync(dirname(fullPath), { recursive: true });
  writeFileSync(fullPath, bytes);
  console.log(
    `wrote ${fullPath}: ${bytes.length} bytes, ${full.node.length} nodes, ${countConstElements(full)} constant values ` +
      `(build ${(built / 1000).toFixed(1)} s, encode ${(encoded / 1000).toFixed(1)} s)`,
  );
}
