/**
 * The worker side of a FaceNet pool: one FaceNet (`createFaceNetIn`, the same code as a single
 * in-thread instance, so that results are identical) on this worker's own OpenCV.js, driven by the
 * messages of `../protocol.ts`. Web-standard APIs only; `node.ts` and `web.ts` in this folder are
 * the worker entry files that connect it to `worker_threads` or a Web Worker scope.
 */
import { FacenetDnnError } from '../../../converter/errors.js';
import { createFaceNetIn, type FaceNet, type FaceNetEnvironment } from '../../embed/facenet.js';
import type { CV, LoadOptions } from '../../opencv/load.js';
import type { Reply, Request, SerializedError } from '../protocol.js';

/** How a worker entry talks to the calling thread. */
export interface WorkerPort {
  post(message: Reply, transfer: ArrayBuffer[]): void;
  onMessage(handler: (message: Request) => void): void;
}

/** Turns anything thrown into what crosses the boundary (see `rebuildError` in `../pool.ts`). */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) {
    const out: SerializedError = { name: e.name, message: e.message };
    if (e instanceof FacenetDnnError) out.code = e.code;
    if (e.stack) out.stack = e.stack;
    return out;
  }
  return { name: 'Error', message: String(e) };
}

// FaceNet.embedBatch names the face at fault as "Face <i>: …" with i counted in the batch it was
// given; a worker gets a slice of the caller's batch, so the index is shifted back by the offset.
const FACE_INDEX = /^Face (\d+): /;

function shiftFaceIndex(e: unknown, offset: number): unknown {
  if (offset === 0 || !(e instanceof Error)) return e;
  const m = FACE_INDEX.exec(e.message);
  if (!m) return e;
  const message = `Face ${Number(m[1]) + offset}: ${e.message.slice(m[0].length)}`;
  if (e instanceof FacenetDnnError) return new FacenetDnnError(e.code, message, { cause: e.cause ?? e });
  if (e instanceof RangeError) return new RangeError(message, { cause: e.cause ?? e });
  if (e instanceof TypeError) return new TypeError(message, { cause: e.cause ?? e });
  return e;
}

/**
 * Serves one FaceNet on `port`. `env` loads this worker's OpenCV.js (the worker's own instance: one
 * per thread) and reads nothing else (the model arrives as bytes).
 */
export function serveFaceNet(port: WorkerPort, env: FaceNetEnvironment): void {
  let loading: Promise<CV> | undefined;
  let facenet: FaceNet | undefined;
  const load = (opencv: LoadOptions): Promise<CV> => {
    if (!loading) {
      loading = env.loadOpenCV(opencv);
      loading.catch(() => undefined); // reported by `create`
    }
    return loading;
  };
  const reply = (id: number, run: () => Promise<{ value: unknown; transfer?: ArrayBuffer[] }>) => {
    run().then(
      ({ value, transfer }) => port.post({ id, ok: true, value }, transfer ?? []),
      (e) => port.post({ id, ok: false, error: serializeError(e) }, []),
    );
  };
  const ready = (): FaceNet => {
    if (!facenet) throw new FacenetDnnError('ERR_OPENCV', 'Cannot embed: this pool worker has no FaceNet');
    return facenet;
  };
  port.onMessage((msg) => {
    switch (msg.op) {
      case 'load':
        load(msg.opencv);
        return;
      case 'create':
        reply(msg.id, async () => {
          if (facenet) throw new FacenetDnnError('ERR_OPENCV', 'Cannot create FaceNet: this pool worker has one already');
          facenet = await createFaceNetIn(
            { loadOpenCV: () => load(msg.opencv), ...(env.releaseOpenCV ? { releaseOpenCV: env.releaseOpenCV } : {}) },
            // Prepared (and converted when needed) by the calling thread.
            { ...msg.options, model: msg.model, convert: false },
          );
          return { value: { dim: facenet.dim, imageSize: facenet.imageSize } };
        });
        return;
      case 'embed':
        reply(msg.id, async () => {
          const e = await ready().embed(msg.image, msg.options);
          return { value: e, transfer: [e.buffer as ArrayBuffer] };
        });
        return;
      case 'embedBatch':
        reply(msg.id, async () => {
          let out: Float32Array[];
          try {
            out = await ready().embedBatch(msg.faces, msg.options);
          } catch (e) {
            throw shiftFaceIndex(e, msg.offset);
          }
          return { value: out, transfer: out.map((e) => e.buffer as ArrayBuffer) };
        });
        return;
      case 'embedTensor':
        reply(msg.id, async () => {
          const e = await ready().embedTensor(msg.nhwc, msg.n);
          return { value: e, transfer: [e.buffer as ArrayBuffer] };
        });
        return;
      case 'dispose':
        reply(msg.id, async () => {
          await facenet?.dispose();
          return { value: undefined };
        });
        return;
      default:
        // An unknown op: reply if it carries an id, so that the caller does not wait forever.
        if (typeof (msg as { id?: unknown }).id === 'number') {
          const id = (msg as { id: number }).id;
          port.post({ id, ok: false, error: { name: 'TypeError', message: `Cannot serve pool request: unknown op "${String((msg as { op?: unknown }).op)}"` } }, []);
        }
    }
  });
}
