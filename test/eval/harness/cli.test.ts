/** `linscope eval` end to end on stories260K: the harness results layout, samples files, clear errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.ts';
import { captureConsole } from '../../helpers/console.ts';
import { datasetsDir, skipUnless, stories260KDir } from '../../helpers/paths.ts';

const model = join(stories260KDir, 'stories260K.bin');
const skip = skipUnless(model) || skipUnless(datasetsDir);

test('eval writes results.json in the harness layout, samples_<task>.jsonl and a table', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-eval-'));
  try {
    const { result, out } = await captureConsole(
      () => main(['eval', '-m', model, '--tasks', 'copa,lambada_openai,cb', '--limit', '3', '--log-samples', '--bootstrap-iters', '1000', '-q', '--data-dir', datasetsDir, '-o', dir]),
      { stderr: true },
    );
    assert.equal(result, 0, out);
    assert.match(out, /\|copa\s+\|/);
    const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    assert.deepEqual(Object.keys(r.results), ['copa', 'lambada_openai', 'cb']);
    assert.deepEqual(Object.keys(r.results.cb), ['name', 'alias', 'sample_len', 'acc,none', 'acc_stderr,none', 'f1,none', 'f1_stderr,none']);
    assert.equal(r.results.cb['f1_stderr,none'], 'N/A');
    assert.deepEqual(Object.keys(r.results.lambada_openai).slice(3), ['perplexity,none', 'perplexity_stderr,none', 'acc,none', 'acc_stderr,none']);
    assert.equal(typeof r.results.lambada_openai['perplexity_stderr,none'], 'number');
    assert.deepEqual(r['n-samples'].copa, { original: 100, effective: 3 });
    assert.deepEqual(r.versions, { cb: 1, copa: 1, lambada_openai: 1 });
    assert.deepEqual(r['n-shot'], { cb: 0, copa: 0, lambada_openai: 0 });
    assert.deepEqual(r.higher_is_better.lambada_openai, { perplexity: false, acc: true });
    assert.equal(r.configs.copa.target_delimiter, ' ');
    assert.equal(r.config.fewshot_seed, 1234);
    assert.equal(r.linscope.chance.copa.acc, 0.5);
    const lines = readFileSync(join(dir, 'samples_copa.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    const s = lines[0];
    assert.deepEqual(Object.keys(s.arguments), ['gen_args_0', 'gen_args_1']);
    assert.equal(s.arguments.gen_args_0.arg_0, 'The man turned on the faucet therefore');
    assert.equal(s.filtered_resps.length, 2);
    assert.match(s.filtered_resps[0][0], /^-\d+\.\d+$/);
    assert.ok(['True', 'False'].includes(s.filtered_resps[0][1]));
    assert.equal(s.filter, 'none');
    assert.deepEqual(s.metrics, ['acc']);
    // acc from the logged log-likelihoods: argmax against the gold index (label 1 for doc 0)
    const lls = s.filtered_resps.map((p: string[]) => Number(p[0]));
    assert.equal(s.acc, (lls[1] > lls[0] ? 1 : 0));
    assert.match(s.prompt_hash, /^[0-9a-f]{64}$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('eval: a task that cannot run is reported and the others are kept (exit code 1)', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-eval-'));
  try {
    const { result, out } = await captureConsole(
      () => main(['eval', '-m', model, '--tasks', 'piqa,copa', '--limit', '2', '--max-length', '24', '-q', '--data-dir', datasetsDir, '-o', dir]),
      { stderr: true },
    );
    assert.equal(result, 1);
    assert.match(out, /linscope eval: piqa not scored: piqa doc 0: a continuation of \d+ tokens is longer than the model's maximum length 24/);
    const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    assert.deepEqual(Object.keys(r.results), ['copa']);
    assert.match(r.failed.piqa, /longer than the model's maximum length 24/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('eval: unknown task, unavailable few-shot split: one clear line, exit code 1', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'linscope-eval-'));
  try {
    let { result, out } = await captureConsole(() => main(['eval', '-m', model, '--tasks', 'arc_eazy', '-o', dir]), { stderr: true });
    assert.equal(result, 1);
    assert.match(out, /^linscope eval: unknown task "arc_eazy" \(known: arc_easy/);
    ({ result, out } = await captureConsole(() => main(['eval', '-m', model, '--tasks', 'boolq', '--num-fewshot', '1', '--data-dir', datasetsDir, '-o', dir]), { stderr: true }));
    assert.equal(result, 1);
    assert.equal(out.trim().split('\n').length, 1);
    assert.match(out, /boolq: the harness draws few-shot examples from the train split, which is not shipped/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
