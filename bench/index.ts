/** `npm run bench`: every suite, results in bench/results/. (`npm run soak` runs the 10,000-call soak.) */
import { runConvertBench } from './convert.js';
import { runMatchBench } from './match.js';
import { runRuntimeBench, markdown as runtimeTable } from './runtime.js';

await runConvertBench();
await runMatchBench();
console.log(runtimeTable(await runRuntimeBench()));
