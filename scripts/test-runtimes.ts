/**
 * Runs the portable test suite (test/portable/**\/*.test.ts) in Node, Deno, Bun, a headless
 * Chromium page and a Chromium web worker, and the page and worker again cross-origin isolated
 * (COOP/COEP headers: SharedArrayBuffer, so the SIMD+threads OpenCV.js build runs there).
 *
 *   tsx scripts/test-runtimes.ts [--runtime node,deno,bun,chromium,worker,chromium-isolated,worker-isolated]
 *                                [--filter <regex>]
 *                                [--timeout <seconds per runtime>]
 *
 * How: esbuild bundles every test file into one ESM file (browser platform, `node:*` external);
 * a loopback HTTP server serves the repository at `/`, ../shared at `/shared/` and the bundle
 * with tiny per-runtime entry files at `/__runtimes/`. Each entry sets
 * `globalThis.FACENET_DNN_TEST_BASE` (so test/portable/support/env.ts fetches data and OpenCV.js
 * from the server) and `UVU_DEFER`, imports the bundle and runs uvu. uvu's summary (`Total`,
 * `Passed`) is parsed per runtime. A runtime fails when a test fails, when it runs no test, when
 * it prints no summary (crash) or when it exceeds its timeout; each such runtime without a summary
 * counts as one failure in the last line, which is exactly `N passed, M failed`. Exit code 1 on
 * any failure.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { serveStatic } from './support/static-server.js';
import type { Plugin } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = resolve(ROOT, '..', 'shared');
// Inside the repository so that `import.meta.resolve('@techstark/opencv-js')` from the bundle
// finds the package in Node, Deno and Bun (the loader's default source).
const OUT = join(ROOT, 'node_modules', '.cache', 'facenet-dnn-runtimes');
const CHROMIUM = '/usr/bin/chromium';
const ALL = ['node', 'deno', 'bun', 'chromium', 'worker', 'chromium-isolated', 'worker-isolated'] as const;
type Runtime = (typeof ALL)[number];

interface Args {
  runtimes: Runtime[];
  filter: RegExp | undefined;
  timeoutMs: number;
}

function parseArgs(argv: string[]): Args {
  let runtimes: Runtime[] = [...ALL];
  let filter: RegExp | undefined;
  let timeoutMs = 300_000;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runtime' || a === '--runtimes') {
      const picked = value().split(',').map((s) => s.trim()).filter(Boolean);
      for (const r of picked) if (!(ALL as readonly string[]).includes(r)) throw new Error(`unknown runtime "${r}" (known: ${ALL.join(', ')})`);
      runtimes = picked as Runtime[];
    } else if (a === '--filter') filter = new RegExp(value());
    else if (a === '--timeout') timeoutMs = Number(value()) * 1000;
    else throw new Error(`unknown argument "${a}"`);
  }
  if (!(timeoutMs > 0)) throw new Error('--timeout must be a positive number of seconds');
  return { runtimes, filter, timeoutMs };
}

function testFiles(filter: RegExp | undefined): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.test.ts')) out.push(p);
    }
  };
  walk(join(ROOT, 'test', 'portable'));
  return out.filter((f) => !filter || filter.test(relative(ROOT, f)));
}

// tfjs-core picks its Node platform wherever `process.versions.node` exists (Node, Deno, Bun),
// and that platform calls `require('util')` for TextEncoder/TextDecoder and typed-array checks.
// The browser field maps `util` to an empty module, so give it the web-standard equivalents.
const UTIL_SHIM = `
export const TextEncoder = globalThis.TextEncoder;
export const TextDecoder = globalThis.TextDecoder;
export const types = {
  isFloat32Array: (a) => a instanceof Float32Array,
  isInt32Array: (a) => a instanceof Int32Array,
  isUint8Array: (a) => a instanceof Uint8Array,
  isUint8ClampedArray: (a) => a instanceof Uint8ClampedArray,
};
export default { TextEncoder, TextDecoder, types };
`;

const shims: Plugin = {
  name: 'runtime-shims',
  setup(b) {
    b.onResolve({ filter: /^util\/?$/ }, () => ({ path: 'util', namespace: 'shim' }));
    b.onLoad({ filter: /.*/, namespace: 'shim' }, () => ({ contents: UTIL_SHIM, loader: 'js' }));
  },
};

/** Bundles the test files into OUT/bundle.mjs, exporting `runAll()`. */
async function bundle(files: string[]): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const entry = join(OUT, 'suite.ts');
  // Each file is imported lazily and in turn, so that uvu files them under their own name (what
  // uvu's CLI does with UVU_INDEX / UVU_QUEUE); esbuild inlines these import() calls.
  const lines = files.map((f) => {
    const spec = relative(OUT, f).split(sep).join('/');
    return `  [${JSON.stringify(relative(join(ROOT, 'test', 'portable'), f))}, () => import(${JSON.stringify(spec)})],`;
  });
  writeFileSync(
    entry,
    `import { exec } from 'uvu';
const files: Array<[string, () => Promise<unknown>]> = [
${lines.join('\n')}
];
export async function runAll(): Promise<void> {
  const g = globalThis as unknown as { UVU_QUEUE: unknown[][]; UVU_INDEX: number };
  let idx = 0;
  for (const [name, load] of files) {
    g.UVU_INDEX = idx++;
    g.UVU_QUEUE.push([name]);
    try {
      await load();
    } catch (e) {
      console.log('[runtimes] ' + name + ' failed to load: ' + ((e as Error)?.stack ?? String(e)));
    }
  }
  try {
    await exec();
  } catch (e) {
    console.log('[runtimes] uvu failed: ' + ((e as Error)?.stack ?? String(e)));
  }
  console.log('[runtimes] done');
}
`,
  );
  const result = await build({
    entryPoints: [entry],
    outfile: join(OUT, 'bundle.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // node:* only behind dynamic imports (env.ts reads from disk when no server is set); OpenCV.js
    // is never bundled (the loader fetches it); tfjs' wasm backend is not used by portable tests.
    external: ['node:*', '@techstark/opencv-js', '@tensorflow/tfjs-backend-wasm'],
    plugins: [shims],
    metafile: true,
    sourcemap: 'inline',
    logLevel: 'error',
    legalComments: 'none',
  });
  // A static `import ... from 'node:*'` in the bundle would stop browsers from loading it at all.
  const out = Object.values(result.metafile.outputs)[0]!;
  const staticNode = out.imports.filter((i) => i.external && i.kind === 'import-statement' && i.path.startsWith('node:'));
  if (staticNode.length > 0) {
    throw new Error(`portable tests must not import Node built-ins statically: ${staticNode.map((i) => i.path).join(', ')}`);
  }
}

/** The per-runtime entry module: sets the globals the suite reads, then runs it. */
function entryModule(base: string, prelude = ''): string {
  return `${prelude}
globalThis.FACENET_DNN_TEST_BASE = ${base};
globalThis.UVU_DEFER = 1;
const { runAll } = await import('./bundle.mjs');
await runAll();
`;
}

const PAGE = (script: string) => `<!doctype html>
<meta charset="utf-8">
<title>facenet-dnn portable tests</title>
<script type="importmap">{"imports":{"@techstark/opencv-js":"/node_modules/@techstark/opencv-js/dist/opencv.js"}}</script>
<script type="module">${script}</script>
`;

// The worker sends its console lines to the page, which logs them where playwright listens.
const WORKER_PRELUDE = `
for (const k of ['log', 'info', 'warn', 'error']) {
  console[k] = (...args) => postMessage(args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.stack : String(a))).join(' '));
}
`;

function writeEntries(): void {
  writeFileSync(join(OUT, 'entry-server.mjs'), entryModule('location.origin + "/"'));
  writeFileSync(join(OUT, 'entry-worker.mjs'), entryModule('location.origin + "/"', WORKER_PRELUDE));
  writeFileSync(join(OUT, 'index.html'), PAGE(`import('/__runtimes/entry-server.mjs').catch((e) => console.log('[runtimes] entry failed: ' + (e && e.stack || e)));`));
  writeFileSync(
    join(OUT, 'worker.html'),
    PAGE(`const w = new Worker('/__runtimes/entry-worker.mjs', { type: 'module' });
w.onmessage = (e) => console.log(e.data);
w.onerror = (e) => console.log('[runtimes] worker error: ' + e.message);`),
  );
}

interface Outcome {
  runtime: Runtime;
  total?: number;
  passed?: number;
  skipped?: number;
  ms: number;
  problem?: string;
}

// uvu colours its summary with ANSI codes when it thinks it may (e.g. in a browser console).
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

function summarize(runtime: Runtime, output: string, ms: number, problem?: string): Outcome {
  const text = stripAnsi(output);
  const total = [...text.matchAll(/Total:\s+(\d+)/g)].at(-1)?.[1];
  const passed = [...text.matchAll(/Passed:\s+(\d+)/g)].at(-1)?.[1];
  const skipped = [...text.matchAll(/Skipped:\s+(\d+)/g)].at(-1)?.[1];
  const o: Outcome = { runtime, ms };
  if (total !== undefined && passed !== undefined) {
    o.total = Number(total);
    o.passed = Number(passed);
    o.skipped = Number(skipped ?? 0);
  }
  const loadErrors = text.match(/\[runtimes\] .* failed to load/g);
  o.problem =
    problem ??
    (loadErrors ? `${loadErrors.length} test file(s) failed to load (see "[runtimes] … failed to load" above)`
    : o.total === undefined ? 'no uvu summary (crashed?)'
    : o.total === 0 ? 'ran 0 tests'
    : undefined);
  return o;
}

function prefixLines(runtime: string, chunk: string, carry: { rest: string }): void {
  const lines = (carry.rest + chunk).split('\n');
  carry.rest = lines.pop()!;
  for (const l of lines) process.stdout.write(`[${runtime}] ${l}\n`);
}

/** Runs one of the command-line runtimes on the server entry; resolves with its output. */
function runProcess(runtime: Runtime, cmd: string, args: string[], timeoutMs: number): Promise<Outcome> {
  const t0 = performance.now();
  return new Promise((done) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', DENO_NO_UPDATE_CHECK: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: a timeout kills npx and the runtime under it
    });
    let output = '';
    const carry = { rest: '' };
    const onData = (d: Buffer) => {
      const s = d.toString();
      output += s;
      prefixLines(runtime, s, carry);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let problem: string | undefined;
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      problem = `timed out after ${timeoutMs / 1000} s`;
      kill();
    }, timeoutMs);
    // Finished but still alive (an open handle): give it a moment, then stop it.
    const lingering = setInterval(() => {
      if (output.includes('[runtimes] done')) {
        clearInterval(lingering);
        setTimeout(kill, 10_000).unref();
      }
    }, 500);
    child.on('error', (e) => {
      problem = `could not start ${cmd}: ${e.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(lingering);
      if (carry.rest) process.stdout.write(`[${runtime}] ${carry.rest}\n`);
      if (!problem && !output.includes('[runtimes] done')) problem = `exited (${signal ?? `code ${code}`}) before the suite finished`;
      done(summarize(runtime, output, performance.now() - t0, problem));
    });
  });
}

/** Runs the suite in a Chromium page (`index.html`) or in a worker started by one (`worker.html`). */
async function runChromium(runtime: Runtime, url: string, timeoutMs: number): Promise<Outcome> {
  const t0 = performance.now();
  if (!existsSync(CHROMIUM)) {
    return { runtime, ms: 0, problem: `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)` };
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let output = '';
  const carry = { rest: '' };
  const log = (s: string) => {
    output += `${s}\n`;
    prefixLines(runtime, `${s}\n`, carry);
  };
  let problem: string | undefined;
  try {
    const page = await browser.newPage();
    page.on('console', (m) => log(m.text()));
    page.on('pageerror', (e) => log(`[runtimes] page error: ${e.stack ?? e.message}`));
    page.on('crash', () => log('[runtimes] page crashed'));
    await page.goto(url);
    const finished = await Promise.race([
      (async () => {
        while (!output.includes('[runtimes] done') && !output.includes('[runtimes] page crashed')) await new Promise((r) => setTimeout(r, 250));
        return true;
      })(),
      new Promise<false>((r) => setTimeout(() => r(false), timeoutMs)),
    ]);
    if (!finished) problem = `timed out after ${timeoutMs / 1000} s`;
  } catch (e) {
    problem = `chromium failed: ${(e as Error).message}`;
  } finally {
    await browser.close().catch(() => undefined);
  }
  return summarize(runtime, output, performance.now() - t0, problem);
}

// The bundle is built for browsers, so dependencies come as their browser builds: ssim.js's
// (pulled in by image-js) runs `self.…` at load, and Node, unlike Deno, Bun and workers, has no
// `self`. A Node user never gets this bundle (the package's node entry imports the Node builds).
const NODE_PRELUDE = 'globalThis.self ??= globalThis;';

function commandFor(runtime: Runtime, base: string): [string, string[]] {
  const entry = join(OUT, 'entry.mjs');
  writeFileSync(entry, entryModule(JSON.stringify(base), runtime === 'node' ? NODE_PRELUDE : ''));
  const url = new URL(base);
  switch (runtime) {
    case 'node':
      return [process.execPath, [entry]];
    case 'deno':
      return [
        'npx',
        [
          '--no-install',
          'deno',
          'run',
          '--no-prompt',
          // Fetches from the loopback server only.
          `--allow-net=${url.host}`,
          // The loader's default source reads the package's script through a file: URL.
          // (and the web loader's default, the SIMD build in wasm/dist/, too).
          `--allow-read=${join(ROOT, 'node_modules', '@techstark', 'opencv-js')},${join(ROOT, 'wasm', 'dist')}`,
          // uvu's colours (kleur) read these environment variables.
          '--allow-env=FORCE_COLOR,NODE_DISABLE_COLORS,NO_COLOR,TERM',
          entry,
        ],
      ];
    case 'bun':
      return ['npx', ['--no-install', 'bun', entry]];
    default:
      throw new Error(`not a command-line runtime: ${runtime}`);
  }
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`test-runtimes: ${(e as Error).message}`);
    return 2;
  }
  const files = testFiles(args.filter);
  if (files.length === 0) {
    console.error('test-runtimes: no test files in test/portable matched');
    console.log('0 passed, 1 failed');
    return 1;
  }
  const t0 = performance.now();
  await bundle(files);
  writeEntries();
  console.log(`test-runtimes: ${files.length} file(s) bundled in ${((performance.now() - t0) / 1000).toFixed(1)} s; runtimes: ${args.runtimes.join(', ')}`);
  // ROOT at /, SHARED at /shared/, OUT at /__runtimes/; the *-isolated runtimes use the second server.
  const mounts: Array<[string, string]> = [
    ['/__runtimes/', OUT],
    ['/shared/', SHARED],
    ['/', ROOT],
  ];
  const server = await serveStatic({ mounts });
  const isolatedServer = await serveStatic({ mounts, isolated: true });
  const outcomes: Outcome[] = [];
  try {
    for (const runtime of args.runtimes) {
      console.log(`test-runtimes: ${runtime} ...`);
      const outcome =
        runtime === 'chromium' ? await runChromium(runtime, `${server.base}__runtimes/index.html`, args.timeoutMs)
        : runtime === 'worker' ? await runChromium(runtime, `${server.base}__runtimes/worker.html`, args.timeoutMs)
        : runtime === 'chromium-isolated' ? await runChromium(runtime, `${isolatedServer.base}__runtimes/index.html`, args.timeoutMs)
        : runtime === 'worker-isolated' ? await runChromium(runtime, `${isolatedServer.base}__runtimes/worker.html`, args.timeoutMs)
        : await runProcess(runtime, ...commandFor(runtime, server.base), args.timeoutMs);
      outcomes.push(outcome);
    }
  } finally {
    await server.close();
    await isolatedServer.close();
  }
  let passed = 0;
  let failed = 0;
  console.log('');
  for (const o of outcomes) {
    const p = o.passed ?? 0;
    const f = o.total !== undefined ? o.total - p : 0;
    passed += p;
    failed += f;
    if (o.problem && f === 0) failed += 1; // a crash, timeout or empty run is a failure too
    const counts = o.total !== undefined ? `${p} passed, ${f} failed${o.skipped ? `, ${o.skipped} skipped` : ''}` : 'no result';
    console.log(`${o.runtime.padEnd(17)} ${o.problem || f > 0 ? 'FAIL' : 'ok  '}  ${counts} (${(o.ms / 1000).toFixed(1)} s)${o.problem ? ` — ${o.problem}` : ''}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`test-runtimes: ${(e as Error)?.stack ?? String(e)}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
