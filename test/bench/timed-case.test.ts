/** The bench's benny cases: exact call counts, and each warm-up case running right before its case. */
import b from 'benny';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { warmedCases, warmUpName } from '../../bench/support/timed-case.js';

type Result = { name: string; samples: number };

test('warmedCases: warm-up calls run just before their case, then exactly `samples` timed calls (calls of ≥ 50 ms)', async () => {
  const calls: string[] = [];
  const work = (tag: string) => async () => {
    calls.push(tag);
    // ≥ 50 ms, Benchmark.js's minimum cycle: one call per sample.
    await new Promise((r) => setTimeout(r, 55));
  };
  const quiet = console.log;
  console.log = () => {};
  let summary;
  try {
    summary = await b.suite('timed-case test', ...warmedCases('a', work('a'), 4, 2), ...warmedCases('b', work('b'), 3, 0), ...warmedCases('c', work('c'), 2, 1));
  } finally {
    console.log = quiet;
  }
  // benny's probe call of every case is answered without running the work.
  assert.equal(calls.join(''), 'aa' + 'aaaa' + 'bbb' + 'c' + 'cc');
  const results = (summary.results as unknown as Result[]).map((r) => [r.name, r.samples]);
  assert.equal(results, [[warmUpName('a'), 2], ['a', 4], ['b', 3], [warmUpName('c'), 1], ['c', 2]]);
  assert.is(warmUpName('x batch 1'), 'x batch 1 (warm-up)');
});

test('warmedCases: bad counts name the case and the value', () => {
  const work = async () => {};
  assert.throws(() => warmedCases('ocv batch 1', work, 0, 3), (e: Error) => e instanceof RangeError && /ocv batch 1.*samples.*got 0/.test(e.message));
  assert.throws(() => warmedCases('ocv batch 8', work, 5, -1), (e: Error) => /ocv batch 8.*warmUpSamples.*got -1/.test(e.message));
  assert.throws(() => warmedCases('ocv batch 8', work, 2.5, 1), /got 2\.5/);
});

test.run();
