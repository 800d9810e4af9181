/**
 * Node adapter of the FaceNet pool: workers are `worker_threads` running the pool's worker entry,
 * `dist/pool-worker.node.js` beside the bundle, or `worker/node.ts` when the sources run under tsx.
 * A worker holds the process open only while it has calls in flight: an idle pool, disposed or not,
 * never keeps Node alive.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FacenetDnnError } from '../../converter/errors.js';
import { wasmFeatures } from '../opencv/features.js';
import { buildFiles } from '../opencv/node.js';
import type { PoolEnvironment, PoolWorker } from './pool.js';
import type { Reply } from './protocol.js';

// `__filename` in the CommonJS bundle (where `import.meta` is empty), `import.meta.url` in ESM.
const thisFile = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
const thisDir = dirname(thisFile);

/** The bundled worker entry's file name (tsup writes it to `dist/`). */
export const NODE_WORKER_FILE = 'pool-worker.node.js';

/** The cores a `workers: 'auto'` pool uses. */
export function nodeCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * The worker entry: beside the bundle, else the TypeScript source (this file runs from `src/`).
 * @throws {FacenetDnnError} `ERR_OPENCV` when neither exists.
 */
export function nodeWorkerEntry(): { file: string; typescript: boolean } {
  const bundled = join(thisDir, NODE_WORKER_FILE);
  if (existsSync(bundled)) return { file: bundled, typescript: false };
  const source = join(thisDir, 'worker', 'node.ts');
  if (existsSync(source)) return { file: source, typescript: true };
  throw new FacenetDnnError('ERR_OPENCV', `Cannot start a FaceNet pool worker: ${bundled} is missing from this installation`);
}

let tsxApi: string | undefined;

/**
 * The ESM entry of tsx's API (`tsx/esm/api`, its `import` condition), read from tsx's own exports.
 * Needed for a TypeScript worker: Node 20 does not apply the `--import tsx` hooks of the parent's
 * `execArgv` to a worker's main script ("Unknown file extension .ts"), so the worker starts with a
 * small module that imports the entry through tsx's `tsImport`.
 */
function tsxEsmApi(): string {
  if (tsxApi) return tsxApi;
  const require = createRequire(thisFile);
  let pkgPath: string;
  try {
    pkgPath = require.resolve('tsx/package.json');
  } catch (cause) {
    throw new FacenetDnnError('ERR_OPENCV', 'Cannot start a FaceNet pool worker from the TypeScript sources: tsx is not installed (build the package, or install tsx)', { cause });
  }
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, { import?: { default?: string } | string }> };
  const entry = pkg.exports?.['./esm/api'];
  const rel = typeof entry === 'object' ? (typeof entry.import === 'string' ? entry.import : entry.import?.default) : undefined;
  if (!rel) throw new FacenetDnnError('ERR_OPENCV', `Cannot start a FaceNet pool worker from the TypeScript sources: ${pkgPath} exports no "./esm/api" import`);
  tsxApi = pathToFileURL(join(dirname(pkgPath), rel)).href;
  return tsxApi;
}

/**
 * The ES module a TypeScript worker starts with. A `data:` URL module rather than `eval: true`:
 * an eval worker defines `__filename` ("[worker eval]") and `require` as globals, which every module
 * of the worker would then see (the loaders' `typeof __filename` checks would take it for CommonJS).
 */
function tsBootstrap(url: string): string {
  return `import { tsImport } from ${JSON.stringify(tsxEsmApi())};\nawait tsImport(${JSON.stringify(url)}, ${JSON.stringify(url)});\n`;
}

/** Starts a `worker_threads` worker running the pool's worker entry (see {@link nodeWorkerEntry}). */
export function startNodeWorker(): Worker {
  const entry = nodeWorkerEntry();
  const url = pathToFileURL(entry.file).href;
  // Bun runs a .ts worker as it is.
  const bun = typeof (process.versions as { bun?: string }).bun === 'string';
  if (entry.typescript && !bun) return new Worker(new URL(`data:text/javascript,${encodeURIComponent(tsBootstrap(url))}`));
  return new Worker(new URL(url));
}

/**
 * A started worker as the pool sees it. Its death (an uncaught error, an exit) is reported unless
 * the pool terminated it; it holds the process open only between `ref()` and `unref()`.
 */
export function wrapNodeWorker(worker: Worker): PoolWorker {
  let terminated = false;
  let exitHandler: ((why: string) => void) | undefined;
  let died: string | undefined;
  const die = (why: string) => {
    if (terminated || died !== undefined) return;
    died = why;
    exitHandler?.(why);
  };
  worker.on('error', (e: Error) => die(`${e.name}: ${e.message}`));
  worker.on('messageerror', (e: Error) => die(`a reply could not be read: ${e.message}`));
  worker.on('exit', (code: number) => die(`it exited with code ${code}`));
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    onMessage: (handler) => {
      worker.on('message', (m: Reply) => handler(m));
    },
    onExit: (handler) => {
      exitHandler = handler;
      if (died !== undefined) handler(died);
    },
    terminate: async () => {
      terminated = true;
      await worker.terminate();
    },
    ref: () => worker.ref(),
    unref: () => worker.unref(),
  };
}

/** Starts one worker of the pool. */
export function spawnNodeWorker(): PoolWorker {
  return wrapNodeWorker(startNodeWorker());
}

/** The pool environment of the Node entry. */
export function nodePoolEnvironment(readPath?: PoolEnvironment['readPath']): PoolEnvironment {
  return {
    spawn: spawnNodeWorker,
    // One thread per worker: the SIMD build where wasm SIMD validates and it is installed, else stock.
    singleThreadBuild: () => (wasmFeatures().simd && buildFiles('simd') ? 'simd' : 'stock'),
    ...(readPath ? { readPath } : {}),
  };
}
