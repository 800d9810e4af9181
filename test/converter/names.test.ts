import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseInput, formatInput, tensorName } from '../../src/converter/graph/names.js';

test('parseInput handles ports, control inputs and colons in names', () => {
  assert.equal(parseInput('a/b'), { node: 'a/b', port: 0, control: false });
  assert.equal(parseInput('a/b:2'), { node: 'a/b', port: 2, control: false });
  assert.equal(parseInput('^a/b'), { node: 'a/b', port: 0, control: true });
  assert.equal(parseInput('weird:name'), { node: 'weird:name', port: 0, control: false });
  assert.is(formatInput(parseInput('x:1')), 'x:1');
  assert.is(tensorName('x', 0), 'x');
});

test.run();
