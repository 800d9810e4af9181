/** `facenet-dnn forward`: run a graph in OpenCV.js on a raw float32 NHWC tensor. */
import { basename } from 'node:path';
import { inferOutputs } from '../converter/convert.js';
import { FacenetDnnError } from '../converter/errors.js';
import { parseInput } from '../converter/graph/names.js';
import { decodeGraph } from '../converter/proto/codec.js';
import { DataType } from '../converter/proto/types.js';
import { attr, numElements } from '../converter/tensor.js';
import { loadOpenCV } from '../runtime/opencv/node.js';
import { forwardTF } from '../runtime/opencv/forward.js';
import { parseOpenCVFlags, parseShape, UsageError } from './args.js';
import type { Io } from './convert.js';
import { readInput } from './io.js';

type Values = Record<string, string | boolean | string[] | undefined>;

export async function runForward(args: string[], values: Values, io: Io): Promise<number> {
  if (args.length !== 1) throw new UsageError('forward takes one graph: facenet-dnn forward MODEL.pb --input-file X.f32 --shape N,H,W,C');
  const [path] = args as [string];
  const opencvFlags = parseOpenCVFlags(values);
  const file = values['input-file'];
  if (typeof file !== 'string') throw new UsageError('forward needs --input-file X.f32');
  if (typeof values['shape'] !== 'string') throw new UsageError('forward needs --shape N,H,W,C');
  const shape = parseShape(values['shape'], '--shape');
  if (shape.some((d) => d <= 0)) throw new UsageError(`Cannot use --shape "${values['shape']}": every size must be positive`);
  const model = readInput(path);
  const graph = decodeGraph(model, { source: basename(path) });
  const raw = readInput(file);
  const n = numElements(shape);
  if (raw.byteLength !== n * 4) {
    throw new UsageError(`Cannot use --input-file "${file}": it has ${raw.byteLength} bytes, shape [${shape}] of float32 needs ${n * 4}`);
  }
  const data = new Float32Array(n);
  new Uint8Array(data.buffer).set(raw);
  let inputName = typeof values['input'] === 'string' ? values['input'] : Array.isArray(values['input']) ? values['input'][0] : undefined;
  if (!inputName) {
    const ph = graph.node.filter((x) => x.op === 'Placeholder' && attr.type(x, 'dtype', DataType.DT_FLOAT) === DataType.DT_FLOAT);
    if (ph.length !== 1) {
      throw new UsageError(
        ph.length ? `Cannot pick the input of "${path}": it has ${ph.length} float placeholders (${ph.map((p) => `"${p.name}"`).join(', ')}); name one with --input` : `Cannot pick the input of "${path}": it has no float placeholder; name one with --input`,
      );
    }
    inputName = ph[0]!.name;
  }
  // Names checked here, before loading OpenCV.js (~1 s): its own error ("Requested layer ... not
  // found in function 'getLayerData'") does not say which file was searched.
  const names = new Set(graph.node.map((x) => x.name));
  if (!names.has(inputName)) {
    throw new FacenetDnnError('ERR_UNKNOWN_NODE', `Cannot feed input "${inputName}": ${basename(path)} has no node of that name`);
  }
  const given = Array.isArray(values['output']) ? values['output'] : [];
  for (const o of given) {
    if (!names.has(parseInput(o).node)) {
      throw new FacenetDnnError('ERR_UNKNOWN_NODE', `Cannot compute output "${o}": ${basename(path)} has no node "${parseInput(o).node}"`);
    }
  }
  const outputs = given.length ? given : inferOutputs(graph, [inputName], basename(path));
  const cv = await loadOpenCV(opencvFlags);
  const results = forwardTF(cv, model, { name: inputName, shape, data }, outputs);
  if (values['json']) {
    io.out(JSON.stringify({ outputs: results.map((r) => ({ name: r.name, shape: r.shape, data: Array.from(r.data) })) }));
    return 0;
  }
  for (const r of results) {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const v of r.data) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
    const head = Array.from(r.data.subarray(0, 8), (v) => v.toPrecision(6)).join(' ');
    io.out(`${r.name} [${r.shape.join(',')}]: ${head}${r.data.length > 8 ? ' …' : ''}`);
    io.out(`  min ${min.toPrecision(6)}  max ${max.toPrecision(6)}  mean ${(sum / r.data.length).toPrecision(6)}`);
  }
  return 0;
}
