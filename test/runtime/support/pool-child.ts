/**
 * Child process of test/runtime/pool.test.ts: a fresh Node process per scenario, so that process exit
 * with a pool of worker_threads can be observed. Never calls process.exit; prints one JSON line.
 *
 *   tsx pool-child.ts dispose      # createFaceNet({ workers: 2 }), embed, dispose: must exit
 *   tsx pool-child.ts no-dispose   # createFaceNet({ workers: 'auto' }), embed, no dispose: must exit
 *   tsx pool-child.ts bad-model    # createFaceNet({ workers: 2 }) of a graph OpenCV cannot import: rejects, must exit
 */
import { readFileSync } from 'node:fs';
import { createFaceNet } from '../../../src/index.node.js';
import { encodeGraph } from '../../../src/converter/proto/codec.js';
import { a, GraphBuilder } from '../../support/builder.js';

const [scenario] = process.argv.slice(2);
const model = new Uint8Array(readFileSync(new URL('../../../fixtures/facenet-tiny.pb', import.meta.url)));
const photo = new Uint8Array(readFileSync(new URL('../../../../shared/images/Anthony_Hopkins_0001.jpg', import.meta.url)));
const out = (x: unknown) => process.stdout.write(`${JSON.stringify(x)}\n`);

if (scenario === 'dispose' || scenario === 'no-dispose') {
  const f = await createFaceNet({ model, workers: scenario === 'dispose' ? 2 : 'auto', opencv: { build: 'simd' } });
  const [e] = await f.embedBatch([photo]);
  const again = await f.embed(photo);
  if (scenario === 'dispose') {
    await f.dispose();
    await f.dispose();
  }
  out({ head: Array.from(e!.slice(0, 8)), same: e!.every((v, i) => v === again[i]) });
} else if (scenario === 'bad-model') {
  const b = new GraphBuilder();
  b.placeholder('input', [-1, 160, 160, 3]);
  b.placeholder('w', [3, 3, 3, 4]); // weights OpenCV's importer needs constant
  b.op('Conv2D', 'embeddings', ['input', 'w'], { strides: a.ints([1, 1, 1, 1]), padding: a.s('VALID'), data_format: a.s('NHWC') });
  try {
    await createFaceNet({ model: encodeGraph(b.build()), workers: 2 });
    out({ error: null });
  } catch (e) {
    out({ name: (e as Error).name, code: (e as { code?: string }).code, message: (e as Error).message });
  }
} else {
  throw new Error(`unknown scenario ${scenario}`);
}
