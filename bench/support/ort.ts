/**
 * onnxruntime-web as a forward-bench column, in Node: its wasm backend (the one build 1.30 ships for
 * it, `ort-wasm-simd-threaded`: wasm SIMD, pthreads optional) running the ONNX model that
 * `exportOnnx` (./onnx.ts) makes from the converted graph.
 *
 * - Nothing is loaded at import time: `onnxruntime-web` is imported by {@link createOrtColumn}.
 * - The wasm comes from node_modules, never the network: its bytes are read from the installed
 *   package and handed over as `env.wasm.wasmBinary`, and the Emscripten glue (`.mjs`) is imported
 *   from the package's file URL (`env.wasm.wasmPaths.mjs`). With threads, Emscripten's pthreads are
 *   Node `worker_threads` started from that same file.
 * - onnxruntime-web initializes its wasm ONCE per process, with `env.wasm.numThreads` as it is then
 *   ("multiple calls to 'initializeWebAssembly()'" is refused), so every column of one process has
 *   the thread count of the first; asking for another throws a RangeError. Time other thread counts
 *   in another process.
 * - `childProcess: true` runs the session in a child Node process of its own (IPC with structured
 *   clone), so one bench process can time several thread counts. A call then also pays for the
 *   pipe: the output's copy, and the input's unless it equals, bit for bit, the one sent last for
 *   the same batch size (`lastCallOverheadMs` says what a call cost beyond the child's own run).
 * - `dispose()` releases the session; the process exits afterwards, threads included (a child
 *   column's process is checked to exit, and killed when it does not).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Ort from 'onnxruntime-web';

/** Options of {@link createOrtColumn}. */
export interface OrtColumnOptions {
  /**
   * `env.wasm.numThreads`: threads of onnxruntime's intra-op pool. Default 1. Process-wide: fixed by
   * the first column created in the process.
   */
  threads?: number;
  /** Session graph optimizations. Default `'all'` (onnxruntime-web's own default). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** The model's input name. Default `'input'`. */
  input?: string;
  /** The model's output name. Default `'embeddings'`. */
  output?: string;
  /** Input height = width. Default 160. */
  size?: number;
  /** Input channels. Default 3. */
  channels?: number;
  /**
   * Run the session in a child Node process (its own onnxruntime-web, so its own thread count).
   * Default false.
   */
  childProcess?: boolean;
}

/** One onnxruntime-web session, run like the bench's other columns. */
export interface OrtColumn {
  /** E.g. "onnxruntime-web 1.30.0, wasm SIMD, 1 thread (converted graph as ONNX)". */
  readonly label: string;
  /** onnxruntime-web's version. */
  readonly version: string;
  /** Threads onnxruntime actually runs with (it falls back to 1 where threads are unavailable). */
  readonly threads: number;
  /** `InferenceSession.create` time, including the wasm's one-time initialization when this column did it. */
  readonly loadMs: number;
  /** Whether this column's creation initialized the wasm (its `loadMs` includes that). */
  readonly initializedWasm: boolean;
  /**
   * Runs `n` faces, `x` NHWC float32 (`n × size × size × channels` values; a longer array is read
   * from its start). Returns a copy of the output, `n × 512` for FaceNet. Calls are queued, never
   * run concurrently on the session.
   */
  run(x: Float32Array, n: number): Promise<Float32Array>;
  /** Releases the session (and ends a child column's process). Idempotent. */
  dispose(): Promise<void>;
  /**
   * Child-process columns: what the last call cost beyond the child's own run (IPC copies of the
   * input, when it changed, and of the output; message dispatch), in ms.
   */
  readonly lastCallOverheadMs?: number;
  /** Linux only: OS threads of the process running the session, before loading onnxruntime-web and after creating the session. */
  readonly osThreads?: { before: number; after: number };
}

type OrtModule = typeof Ort;

let ortLoaded: Promise<OrtModule> | undefined;
/** The thread count the process's onnxruntime-web wasm was initialized with (once set, fixed). */
let initializedThreads: number | undefined;

const require = createRequire(import.meta.url);

/** The installed package's files (resolved through its own `exports`). */
export function ortWasmFiles(): { mjs: string; wasm: string } {
  return {
    mjs: require.resolve('onnxruntime-web/ort-wasm-simd-threaded.mjs'),
    wasm: require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'),
  };
}

function loadOrt(): Promise<OrtModule> {
  return (ortLoaded ??= import('onnxruntime-web').then((m) => ((m as { default?: OrtModule }).default?.InferenceSession ? (m as { default: OrtModule }).default : m)));
}

/**
 * Creates an onnxruntime-web session for `onnx` (bytes from `exportOnnx`).
 *
 * @throws {RangeError} for `threads` < 1, or different from the count this process's
 *   onnxruntime-web was initialized with.
 */
export async function createOrtColumn(onnx: Uint8Array, options: OrtColumnOptions = {}): Promise<OrtColumn> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`Cannot create an onnxruntime-web column: threads must be an integer ≥ 1, got ${threads}`);
  if (options.childProcess) return createChildColumn(onnx, options);
  const threadsBefore = osThreads();
  const input = options.input ?? 'input';
  const output = options.output ?? 'embeddings';
  const size = options.size ?? 160;
  const channels = options.channels ?? 3;
  const face = size * size * channels;

  const ort = await loadOrt();
  if (initializedThreads !== undefined && initializedThreads !== threads) {
    throw new RangeError(
      `Cannot create an onnxruntime-web column with ${threads} thread(s): this process initialized onnxruntime-web with ${initializedThreads} (its wasm is set up once per process)`,
    );
  }
  const initializing = initializedThreads === undefined;
  if (initializing) {
    const files = ortWasmFiles();
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.wasmPaths = { mjs: pathToFileURL(files.mjs).href };
    const bin = readFileSync(files.wasm);
    ort.env.wasm.wasmBinary = new Uint8Array(bin.buffer, bin.byteOffset, bin.byteLength);
    ort.env.wasm.proxy = false;
    initializedThreads = threads;
  }
  const t = performance.now();
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
  });
  const loadMs = performance.now() - t;
  if (!session.inputNames.includes(input) || !session.outputNames.includes(output)) {
    await session.release();
    throw new RangeError(`Cannot create an onnxruntime-web column: the model has inputs [${session.inputNames}] and outputs [${session.outputNames}], expected "${input}" and "${output}"`);
  }
  // onnxruntime-web lowers numThreads to 1 (with a console warning) where threads are unavailable.
  const actualThreads = ort.env.wasm.numThreads ?? threads;
  if (initializing) initializedThreads = actualThreads;
  const version = ort.env.versions?.web ?? 'unknown';

  let queue: Promise<unknown> = Promise.resolve();
  let disposed = false;
  const run = (x: Float32Array, n: number): Promise<Float32Array> => {
    if (!Number.isInteger(n) || n < 1) return Promise.reject(new RangeError(`Cannot run onnxruntime-web: n must be an integer ≥ 1, got ${n}`));
    if (x.length < n * face) return Promise.reject(new RangeError(`Cannot run onnxruntime-web: ${n} faces need ${n * face} values, got ${x.length}`));
    const job = queue.then(async () => {
      if (disposed) throw new Error('Cannot run onnxruntime-web: the column was disposed');
      const feed = new ort.Tensor('float32', x.length === n * face ? x : x.subarray(0, n * face), [n, size, size, channels]);
      const result = await session.run({ [input]: feed });
      const out = result[output]!;
      try {
        return (out.data as Float32Array).slice();
      } finally {
        for (const v of Object.values(result)) v.dispose();
      }
    });
    queue = job.catch(() => undefined);
    return job;
  };

  return {
    label: `onnxruntime-web ${version}, wasm SIMD, ${actualThreads} thread${actualThreads === 1 ? '' : 's'} (converted graph as ONNX)`,
    version,
    threads: actualThreads,
    loadMs,
    initializedWasm: initializing,
    ...(threadsBefore !== undefined ? { osThreads: { before: threadsBefore, after: osThreads()! } } : {}),
    run,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await queue;
      await session.release();
    },
  };
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const v = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return false;
  return true;
}

/** OS threads of this process (Linux `/proc/self/status`), or undefined elsewhere. */
function osThreads(): number | undefined {
  try {
    const m = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// --- child-process columns ---------------------------------------------------------------------

type ToChild =
  | { type: 'init'; onnx: Uint8Array; options: OrtColumnOptions }
  /** Without `x`: the input sent last for `n` faces, unchanged (checked bit for bit by the parent). */
  | { type: 'run'; id: number; x?: Float32Array; n: number }
  | { type: 'dispose' };
type FromChild =
  | { type: 'ready'; column: Omit<OrtColumn, 'run' | 'dispose'> }
  | { type: 'result'; id: number; out: Float32Array; ms: number }
  | { type: 'error'; id?: number; message: string }
  | { type: 'disposed' };

const CHILD_FLAG = '--ort-column-child';
/** How long a disposed child may take to exit before it is killed. */
const CHILD_EXIT_MS = 10_000;

async function createChildColumn(onnx: Uint8Array, options: OrtColumnOptions): Promise<OrtColumn> {
  // The child runs this file under tsx (the bench's own loader); its pthreads inherit that execArgv.
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], {
    execArgv: ['--import', tsx],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: Float32Array) => void; reject: (e: Error) => void; sent: number }>();
  let overheadMs: number | undefined;
  let exited = false;
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    exited = true;
    const err = new Error(`Cannot run onnxruntime-web: its child process exited (code ${code})`);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    resolve(code);
  }));
  const ready = new Promise<Omit<OrtColumn, 'run' | 'dispose'>>((resolve, reject) => {
    child.on('message', (m: FromChild) => {
      if (m.type === 'ready') resolve(m.column);
      else if (m.type === 'result') {
        const p = pending.get(m.id);
        if (p) overheadMs = performance.now() - p.sent - m.ms;
        p?.resolve(m.out);
        pending.delete(m.id);
      } else if (m.type === 'error') {
        if (m.id === undefined) reject(new Error(m.message));
        else {
          pending.get(m.id)?.reject(new Error(m.message));
          pending.delete(m.id);
        }
      }
    });
    void exit.then((code) => reject(new Error(`Cannot create an onnxruntime-web column: its child process exited (code ${code}) before it was ready`)));
  });
  const { childProcess: _ignored, ...childOptions } = options;
  child.send({ type: 'init', onnx, options: childOptions } satisfies ToChild);
  let info: Omit<OrtColumn, 'run' | 'dispose'>;
  try {
    info = await ready;
  } catch (e) {
    if (!exited) child.kill();
    throw e;
  }
  const face = (options.size ?? 160) ** 2 * (options.channels ?? 3);
  let nextId = 0;
  let disposed = false;
  const sentInputs = new Map<number, Float32Array>();
  return {
    ...info,
    label: info.label.replace(' (converted', ', child process (converted'),
    get lastCallOverheadMs() {
      return overheadMs;
    },
    run(x: Float32Array, n: number): Promise<Float32Array> {
      if (disposed || exited) return Promise.reject(new Error('Cannot run onnxruntime-web: the column was disposed'));
      if (!Number.isInteger(n) || n < 1) return Promise.reject(new RangeError(`Cannot run onnxruntime-web: n must be an integer ≥ 1, got ${n}`));
      if (x.length < n * face) return Promise.reject(new RangeError(`Cannot run onnxruntime-web: ${n} faces need ${n * face} values, got ${x.length}`));
      // The bench feeds the same inputs again and again: an input equal, bit for bit, to the one
      // sent last for this n is not sent again (comparing costs far less than the clone + pipe).
      const view = x.subarray(0, n * face);
      const last = sentInputs.get(n);
      const same = last !== undefined && sameBits(last, view);
      const copy = same ? undefined : view.slice(); // a copy: also what is cloned (a view would clone its whole buffer)
      if (copy) sentInputs.set(n, copy);
      const id = nextId++;
      return new Promise<Float32Array>((resolve, reject) => {
        pending.set(id, { resolve, reject, sent: performance.now() });
        child.send((copy ? { type: 'run', id, x: copy, n } : { type: 'run', id, n }) satisfies ToChild);
      });
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      if (!exited) child.send({ type: 'dispose' } satisfies ToChild);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = await Promise.race([exit.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), CHILD_EXIT_MS)))]);
      clearTimeout(timer);
      if (late) {
        child.kill();
        await exit;
        throw new Error(`Cannot dispose the onnxruntime-web column cleanly: its child process did not exit within ${CHILD_EXIT_MS} ms of dispose() and was killed`);
      }
    },
  };
}

/** The child's side: one column, driven by the parent's messages; exits when disposed. */
async function childMain(): Promise<void> {
  let column: OrtColumn | undefined;
  const inputs = new Map<number, Float32Array>();
  const send = (m: FromChild) => process.send!(m);
  process.on('message', (m: ToChild) => {
    void (async () => {
      if (m.type === 'init') {
        try {
          column = await createOrtColumn(m.onnx, { ...m.options, childProcess: false });
          const { run: _r, dispose: _d, ...info } = column;
          send({ type: 'ready', column: info });
        } catch (e) {
          send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
          process.disconnect();
        }
      } else if (m.type === 'run') {
        try {
          if (m.x) inputs.set(m.n, m.x);
          const x = inputs.get(m.n);
          if (!x) throw new Error(`Cannot run onnxruntime-web: no input held for n = ${m.n}`);
          const t = performance.now();
          const out = await column!.run(x, m.n);
          send({ type: 'result', id: m.id, out, ms: performance.now() - t });
        } catch (e) {
          send({ type: 'error', id: m.id, message: e instanceof Error ? e.message : String(e) });
        }
      } else if (m.type === 'dispose') {
        await column?.dispose();
        // Nothing else holds the event loop: with the IPC channel closed the process exits, unless
        // onnxruntime's threads keep it alive (the parent then kills it and dispose() says so).
        process.disconnect();
      }
    })();
  });
}

// No top-level await: tests load this file through tsx's CommonJS hook.
if (process.argv.includes(CHILD_FLAG) && process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  void childMain();
}
