/**
 * A benny case for a slow async call. benny's `add()` calls the case function once while preparing
 * the suite, to learn its kind (`test()()` for a function returning a function); that probe is
 * answered without running the work (one TF.js CPU batch of 8 takes ~50 s), and every later call,
 * all of them timed samples, runs it: N samples cost exactly N calls.
 */
export function timedCase(work: () => Promise<unknown>): () => () => Promise<void> {
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
