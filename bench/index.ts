/**
 * `npm run bench`: every suite (convert, match, runtime, forward, native, browser), results in bench/results/, then the summary page
 * (bench/results/summary.md) printed. (`npm run soak` runs the 10,000-call soak.)
 */
import { runBrowserBench } from './browser.js';
import { runConvertBench } from './convert.js';
import { runForwardBench } from './forward.js';
import { runMatchBench } from './match.js';
import { runNativeBench } from './native.js';
import { runRuntimeBench, markdown as runtimeTable } from './runtime.js';
import { writeSummary } from './summary.js';

const lap = (name: string, t: number) => console.log(`[bench] ${name}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
let t = performance.now();
await runConvertBench();
lap('convert', t);
t = performance.now();
await runMatchBench();
lap('match', t);
t = performance.now();
console.log(runtimeTable(await runRuntimeBench()));
lap('runtime', t);
t = performance.now();
const { data } = await runForwardBench();
lap('forward', t);
t = performance.now();
await runNativeBench(data);
lap('native', t);
t = performance.now();
await runBrowserBench();
lap('browser', t);
// performance.now() counts from this process's start: node + tsx start-up included.
console.log('\n' + writeSummary({ totalMs: performance.now() }));
