/** `facenet-dnn embed` and `facenet-dnn compare`: FaceNet embeddings of image files in OpenCV.js. */
import { basename } from 'node:path';
import { createFaceNet } from '../runtime/embed/node.js';
import type { FaceNet } from '../runtime/embed/facenet.js';
import { FacenetDnnError } from '../converter/errors.js';
import { parseOpenCVFlags, UsageError } from './args.js';
import type { Io } from './convert.js';
import { readInput } from './io.js';

type Values = Record<string, string | boolean | string[] | undefined>;

interface FaceArgs {
  model: string;
  images: string[];
  boxes: Array<{ x1: number; y1: number; x2: number; y2: number } | undefined>;
  standardization: 'fixed' | 'prewhiten';
  margin: number | undefined;
  opencv: ReturnType<typeof parseOpenCVFlags>;
}

function parseBox(text: string): { x1: number; y1: number; x2: number; y2: number } {
  const v = text.split(',').map(Number);
  if (v.length !== 4 || v.some((x) => !Number.isFinite(x))) {
    throw new UsageError(`Cannot parse --box "${text}": expected X1,Y1,X2,Y2 in pixels`);
  }
  const [x1, y1, x2, y2] = v as [number, number, number, number];
  return { x1, y1, x2, y2 };
}

function parseFaceArgs(command: string, args: string[], values: Values): FaceArgs {
  if (args.length < 2) throw new UsageError(`${command} needs a model and at least one image: facenet-dnn ${command} MODEL.pb IMAGE...`);
  const [model, ...images] = args as [string, ...string[]];
  const pre = values['preprocess'] ?? 'fixed';
  if (pre !== 'fixed' && pre !== 'prewhiten') throw new UsageError(`Cannot use --preprocess "${String(pre)}": expected fixed or prewhiten`);
  const rawBoxes = Array.isArray(values['box']) ? values['box'] : typeof values['box'] === 'string' ? [values['box']] : [];
  if (rawBoxes.length > 0 && rawBoxes.length !== images.length) {
    throw new UsageError(`Cannot use --box: give one per image (${images.length} images, ${rawBoxes.length} boxes)`);
  }
  let margin: number | undefined;
  if (typeof values['margin'] === 'string') {
    margin = Number(values['margin']);
    if (!Number.isFinite(margin) || margin < 0) throw new UsageError(`Cannot use --margin "${values['margin']}": expected a number ≥ 0`);
  }
  const opencv = parseOpenCVFlags(values);
  return { model, images, boxes: images.map((_, i) => (rawBoxes[i] ? parseBox(rawBoxes[i]!) : undefined)), standardization: pre, margin, opencv };
}

async function embedAll(a: FaceArgs): Promise<{ facenet: FaceNet; embeddings: Float32Array[] }> {
  const files = a.images.map((f) => readInput(f));
  const facenet = await createFaceNet({
    model: readInput(a.model),
    opencv: a.opencv,
    preprocess: { standardization: a.standardization, ...(a.margin !== undefined ? { margin: a.margin } : {}) },
  }).catch((e: unknown) => {
    if (e instanceof FacenetDnnError) throw new FacenetDnnError(e.code, `${basename(a.model)}: ${e.message.replace(/^model: /, '')}`, { cause: e });
    throw e;
  });
  try {
    const embeddings: Float32Array[] = [];
    // One image at a time: a bad image is named by its file, and memory stays flat for long lists.
    for (let i = 0; i < files.length; i++) {
      try {
        const box = a.boxes[i];
        embeddings.push(await facenet.embed(files[i]!, box ? { box } : {}));
      } catch (e) {
        if (e instanceof FacenetDnnError) throw new FacenetDnnError(e.code, `${a.images[i]}: ${e.message}`, { cause: e });
        throw e;
      }
    }
    return { facenet, embeddings };
  } catch (e) {
    await facenet.dispose();
    throw e;
  }
}

export async function runEmbed(args: string[], values: Values, io: Io): Promise<number> {
  const a = parseFaceArgs('embed', args, values);
  const { facenet, embeddings } = await embedAll(a);
  await facenet.dispose();
  if (values['json']) {
    io.out(JSON.stringify(a.images.map((file, i) => ({ file, embedding: Array.from(embeddings[i]!) }))));
    return 0;
  }
  a.images.forEach((file, i) => {
    const e = embeddings[i]!;
    io.out(`${file}: [${Array.from(e.subarray(0, 6), (v) => v.toFixed(5)).join(', ')}, …] (${e.length}-d)`);
  });
  return 0;
}

/** Euclidean (not squared) distance, as facenet's compare.py prints it. */
function euclidean(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

export async function runCompare(args: string[], values: Values, io: Io): Promise<number> {
  const a = parseFaceArgs('compare', args, values);
  const { facenet, embeddings } = await embedAll(a);
  await facenet.dispose();
  const n = embeddings.length;
  const matrix = embeddings.map((x) => embeddings.map((y) => euclidean(x, y)));
  if (values['json']) {
    io.out(JSON.stringify({ images: a.images, metric: 'euclidean', distances: matrix }));
    return 0;
  }
  io.out('Images:');
  a.images.forEach((f, i) => io.out(`${i}: ${f}`));
  io.out('');
  io.out('Distance matrix (Euclidean, as facenet compare.py)');
  io.out('    ' + Array.from({ length: n }, (_, j) => String(j).padStart(9)).join(''));
  for (let i = 0; i < n; i++) io.out(String(i).padEnd(4) + matrix[i]!.map((d) => d.toFixed(4).padStart(9)).join(''));
  return 0;
}
