import b from 'benny';

/**
 * A benny case for a slow async call. benny's `add()` calls the case function once while preparing
 * the suite, to learn its kind (`test()()` for a function returning a function); that probe is
 * answered without running the work (one TF.js CPU batch of 8 takes ~50 s), and every later call,
 * all of them timed, runs it: N samples of a call of 50 ms or more cost exactly N calls.
 */
function timedCase(work: () => Promise<unknown>): () => () => Promise<void> {
  let probed = false;
  const inner = async (): Promise<void> => {
    if (!probed) {
      probed = true;
      return;
    }
    await work();
  };
  return () => inner;
}

/**
 * Warm-up samples before a timed case of the ~0.1 s-per-face engines, by batch (1 or 8): enough for
 * the idle cost below to be paid before the timed samples start.
 */
export const WARM_UP_SAMPLES = { 1: 3, 8: 1 } as const;

/** The name of the warm-up case that runs right before the case `name` (see {@link warmedCases}). */
export function warmUpName(name: string): string {
  return `${name} (warm-up)`;
}

/**
 * A timed case of `samples` samples preceded by a warm-up case of `warmUpSamples` samples of the same
 * work, so that the samples start on an engine that has just run, not on one that sat idle while
 * the cases before it ran (minutes in the browser bench). On this 2-core machine the first forward
 * of the threads build at batch 1 after 5 or 30 s idle took 89–127 ms in Chromium and 50–107 ms in
 * Node where the steady forward took ~47 ms, and the next few were often slow too.
 *
 * A sample is one call when the call takes at least Benchmark.js's minimum cycle time (50 ms); a
 * shorter call is repeated within each sample (and once before the first, to calibrate), so a
 * sample is a mean of several calls. The warm-up case is an ordinary benny case, saved with the
 * others under {@link warmUpName}; the summaries read the timed cases by name and skip it.
 * `warmUpSamples` 0: the timed case alone.
 */
export function warmedCases(
  name: string,
  work: () => Promise<unknown>,
  samples: number,
  warmUpSamples: number,
): Array<ReturnType<typeof b.add>> {
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`Cannot time ${name}: samples must be a positive integer, got ${samples}`);
  if (!Number.isInteger(warmUpSamples) || warmUpSamples < 0) throw new RangeError(`Cannot warm ${name} up: warmUpSamples must be an integer ≥ 0, got ${warmUpSamples}`);
  const timed = b.add(name, timedCase(work), { minSamples: samples, maxTime: 0 });
  if (warmUpSamples === 0) return [timed];
  return [b.add(warmUpName(name), timedCase(work), { minSamples: warmUpSamples, maxTime: 0 }), timed];
}
