/** `npm run bench`: every suite, results in bench/results/. */
import { runConvertBench } from './convert.js';

await runConvertBench();
