/**
 * `linscope laser eval|search --dataset fever|truthfulqa|hotpotqa|bigbench_qa_wikidata` end to end
 * on stories260K with a few cases: the table comes out (with "choice acc %" for the true/false
 * sets), search selects on choice accuracy by default for them, and --metric choice on a
 * generation set is one clear error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/commands/laser.ts';
import { datasetsDir, skipUnless, stories260KDir } from '../helpers/paths.ts';

const sets: Record<string, string> = {
  fever: join(datasetsDir, 'fever'),
  truthfulqa: join(datasetsDir, 'truthfulqa', 'mc_task.json'),
  hotpotqa: join(datasetsDir, 'hotpotqa', 'hotpot_dev_v1_simplified.json'),
  bigbench_qa_wikidata: join(datasetsDir, 'bigbench-qa-wikidata', 'bigbench_qa_wikidata.jsonl'),
};
const skip = skipUnless(stories260KDir) || Object.values(sets).map(skipUnless).find((s) => s) || false;

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const log = console.log, err = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  console.error = () => {};
  try {
    return { code: await run(argv), out: out.join('\n') };
  } finally {
    console.log = log;
    console.error = err;
  }
}

test('laser eval on each of LASER\'s other sets', { skip }, async () => {
  for (const [kind, path] of Object.entries(sets)) {
    const { code, out } = await capture(['eval', '-m', stories260KDir, '--dataset', kind, '--data', path, '--max-cases', '6', '--quiet']);
    assert.equal(code, 0);
    const lines = out.split('\n');
    assert.match(lines[0], /top1 %/);
    assert.equal(/choice acc %/.test(lines[0]), kind === 'fever' || kind === 'truthfulqa', kind);
    assert.match(lines[2], /base +all +6 /);
  }
  const dir = mkdtempSync(join(tmpdir(), 'laser-sets-eval-'));
  try {
    assert.equal((await capture(['eval', '-m', stories260KDir, '--dataset', 'fever', '--data', sets.fever, '--max-cases', '5', '-q', '-o', dir])).code, 0);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).summary;
    assert.equal(summary.cases, 5);
    assert.ok(summary.choiceAccuracy >= 0 && summary.choiceAccuracy <= 1);
    assert.match(readFileSync(join(dir, 'cases.csv'), 'utf8').split('\n')[0], /choiceCorrect/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('laser search on truthfulqa selects on choice accuracy; --metric choice needs a true/false set', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'laser-sets-cli-'));
  try {
    const { code } = await capture([
      'search', '-m', stories260KDir, '--dataset', 'truthfulqa', '--data', sets.truthfulqa, '--max-cases', '10', '--quiet',
      '--types', 'out', '--layers', 'last:1', '--rhos', '0.1', '-o', dir,
    ]);
    assert.equal(code, 0);
    assert.equal(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).metric, 'choice');
    await assert.rejects(
      run(['search', '-m', stories260KDir, '--dataset', 'hotpotqa', '--data', sets.hotpotqa, '--max-cases', '10', '--metric', 'choice', '-o', join(dir, 'h')]),
      /--metric choice needs a classification set \(fever, truthfulqa\), not hotpotqa/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
