/** prune --bias: one default (no), the same in help and code, and every boolean form accepted. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHelp, parseArgs } from '../../src/cli/args.ts';
import { spec as prune } from '../../src/cli/commands/prune.ts';

test('prune --bias defaults to no in code and help; --bias, --bias=true, --bias true, --no-bias, --bias false all parse', () => {
  const base = ['-m', 'model', '-d', 'text.txt', '-o', 'out'];
  assert.equal(parseArgs(prune, base).options.bias, false);
  for (const [extra, want] of [[['--bias'], true], [['--bias=true'], true], [['--bias', 'true'], true], [['--no-bias'], false], [['--bias=false'], false], [['--bias', 'false'], false]] as const) {
    assert.equal(parseArgs(prune, [...base, ...extra]).options.bias, want, extra.join(' '));
  }
  const line = formatHelp(prune, 200).split('\n').find((l) => l.includes('--bias'));
  assert.ok(line, 'help lists --bias');
  assert.match(line!, /default no/);
  assert.doesNotMatch(line!, /default: yes|default: true/);
});
