/**
 * Model loading for the runtime: bytes from wherever the caller has them, and a check that the graph
 * is one OpenCV can run. A raw (unconverted) facenet graph is detected and converted on the fly, or
 * rejected with a message that says how to convert it; it is never fed to OpenCV to fail obscurely.
 */
import { convert, type ConvertReport } from '../converter/convert.js';
import { FacenetDnnError } from '../converter/errors.js';
import { GraphIndex } from '../converter/graph/graph.js';
import { decodeGraph } from '../converter/proto/codec.js';
import type { GraphDef } from '../converter/proto/types.js';

/** Where a model comes from: its bytes, or a URL fetched with `fetch` (the Node entry also takes a file path). */
export type ModelSource = Uint8Array | ArrayBuffer | URL | string;

/** Options of {@link readModelSource}. */
export interface ReadModelOptions {
  /** The fetch to use for URLs. Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Reads a path that is not a URL (the Node entry passes a file reader). Default: none, paths are refused. */
  readPath?: (path: string) => Promise<Uint8Array>;
}

const URL_LIKE = /^(https?|file|blob|data):/i;

/** A name for the source in messages. */
export function sourceName(source: ModelSource): string {
  if (typeof source === 'string') return source.startsWith('data:') ? 'data: URL' : source;
  if (source instanceof URL) return source.href;
  return 'model bytes';
}

/** The bytes of a model source. */
export async function readModelSource(source: ModelSource, options: ReadModelOptions = {}): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof source !== 'string' && !(source instanceof URL)) {
    throw new TypeError('Cannot load the model: expected a Uint8Array, an ArrayBuffer, a URL or a string');
  }
  const text = typeof source === 'string' ? source : source.href;
  if (URL_LIKE.test(text)) {
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new FacenetDnnError('ERR_GRAPH', `Cannot load model "${text}": no fetch in this runtime; pass the bytes`);
    let res: Response;
    try {
      res = await f(text);
    } catch (cause) {
      throw new FacenetDnnError('ERR_GRAPH', `Cannot load model "${text}": ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    if (!res.ok) throw new FacenetDnnError('ERR_GRAPH', `Cannot load model "${text}": HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }
  if (!options.readPath) {
    throw new FacenetDnnError('ERR_GRAPH', `Cannot load model "${text}": file paths need the Node entry of facenet-dnn; pass the bytes or a URL`);
  }
  return options.readPath(text);
}

/** Options of {@link prepareModel}. */
export interface PrepareOptions {
  /** The input node. Default: `'input'`. */
  input?: string;
  /** The embeddings node. Default: `'embeddings'`. */
  output?: string;
  /**
   * What to do with a raw facenet graph (queue-fed, tf.cond batch norms): `'auto'` converts it with
   * the `facenet` preset on the fly, `false` rejects it with a message saying how to convert it.
   * Default: `'auto'`.
   */
  convert?: 'auto' | false;
  /** A name for the model in messages. Default: `"model"`. */
  source?: string;
}

/** A model ready for OpenCV: its bytes, and what was done to it. */
export interface PreparedModel {
  bytes: Uint8Array;
  /** The conversion report when the graph was converted on the fly. */
  converted?: ConvertReport;
}

const TRAINING_OPS = new Set(['Switch', 'Merge', 'FIFOQueueV2', 'QueueDequeueUpToV2', 'QueueDequeueManyV2', 'RandomUniform']);

/** Why a graph needs the converter before OpenCV can run it, or undefined when it does not. */
function needsConversion(graph: GraphDef, index: GraphIndex, input: string): string | undefined {
  const n = index.find(input);
  if (n && n.op !== 'Placeholder') return `its input "${input}" is a ${n.op}, not a Placeholder (it is fed by a queue)`;
  const op = graph.node.find((x) => TRAINING_OPS.has(x.op));
  if (op) return `it still has ${op.op} nodes ("${op.name}")`;
  return undefined;
}

/**
 * Checks a model and converts a raw facenet graph when allowed.
 *
 * @throws {FacenetDnnError} `ERR_DECODE` for bytes that are not a GraphDef, `ERR_UNKNOWN_NODE` for a
 *   graph without the input or output node, `ERR_GRAPH` for a raw graph with `convert: false`.
 */
export function prepareModel(bytes: Uint8Array, options: PrepareOptions = {}): PreparedModel {
  const input = options.input ?? 'input';
  const output = options.output ?? 'embeddings';
  const source = options.source ?? 'model';
  const graph = decodeGraph(bytes, { source });
  const index = new GraphIndex(graph);
  for (const [role, name] of [['input', input], ['output', output]] as const) {
    if (!index.has(name)) {
      throw new FacenetDnnError('ERR_UNKNOWN_NODE', `Cannot use ${source} as a FaceNet model: it has no ${role} node "${name}"`);
    }
  }
  const why = needsConversion(graph, index, input);
  if (!why) return { bytes };
  if (options.convert === false) {
    throw new FacenetDnnError(
      'ERR_GRAPH',
      `Cannot run ${source} in OpenCV: it is an unconverted TensorFlow graph (${why}); convert it first with ` +
        '`facenet-dnn convert IN.pb -o OUT.pb --preset facenet`, or pass convert: \'auto\'',
    );
  }
  const result = convert(graph, {
    preset: 'facenet',
    source,
    inputs: [{ name: input, shape: [-1, 160, 160, 3] }],
    outputs: [output],
  });
  return { bytes: result.model, converted: result.report };
}
