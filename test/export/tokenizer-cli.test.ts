/**
 * An export from a llama2.c checkpoint carries a tokenizer.json, so `generate` (and every command
 * reading text) works on it; `generate --tokenizer` takes a tokenizer.json folder or a tok*.bin, and
 * a model without a tokenizer gets one line saying to pass it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as generate } from '../../src/cli/commands/generate.ts';
import { captureConsole } from '../helpers/console.ts';
import { buildExport } from '../helpers/export-kinds.ts';
import { skipUnless, stories260KDir } from '../helpers/paths.ts';

const tok = join(stories260KDir, 'tok512.bin');

async function ids(args: string[]): Promise<string> {
  const { result, out } = await captureConsole(() => generate([...args, '--prompt', 'Once upon a time', '--max-new-tokens', '8', '--ids']), { stderr: true });
  assert.equal(result, 0, out);
  return out.split('\n').find((l) => l.startsWith('ids: '))!;
}

test('generate on a llama2.c export reads its tokenizer.json; --tokenizer overrides', { skip: skipUnless(tok) }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'linscope-tok-cli-'));
  try {
    const out = join(root, 'export');
    await buildExport('laser-dense', stories260KDir, out);
    const own = await ids(['-m', out]);
    assert.equal(await ids(['-m', out, '--tokenizer', tok]), own, 'tok512.bin override gives the same ids');
    assert.equal(await ids(['-m', out, '--tokenizer', out]), own, 'a tokenizer.json folder override gives the same ids');
    // the llama2.c source itself encodes the prompt to the same ids (and the reduced model continues it)
    const source = await ids(['-m', stories260KDir]);
    const prompt = (line: string) => JSON.parse(line.slice(5)).slice(0, 5);
    assert.deepEqual(prompt(source), prompt(own));
    // a model folder without any tokenizer: one line, naming the option
    const bare = join(root, 'bare');
    await buildExport('laser-dense', stories260KDir, bare);
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'tok512.bin']) rmSync(join(bare, f));
    await assert.rejects(generate(['-m', bare, '--prompt', 'hi']), /has no tokenizer.*pass --tokenizer/);
    assert.match(await ids(['-m', bare, '--tokenizer', tok]), /^ids: \[/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
