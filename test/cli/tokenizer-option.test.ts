/**
 * Every command that reads text takes --tokenizer (shown in its --help), and prune's --help states
 * the map-bias default the code uses. The help texts are printed by one child process (printing
 * into this process's stdout would mix with the test report).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { withOverrides } from '../../src/cli/commands/pretrain.ts';
import { parsePretrainConfig } from '../../src/train/pretrain-config.ts';
import { repoRoot } from '../helpers/paths.ts';

const commands = [['generate'], ['linearity'], ['laser', 'search'], ['laser', 'eval'], ['laser', 'higher-order'], ['prune'], ['finetune'], ['pretrain'], ['experiment']];

const script = `
import { main } from './src/cli/main.ts';
const result = {};
for (const argv of ${JSON.stringify(commands)}) {
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = (chunk) => ((out += chunk), true);
  try { await main([...argv, '--help']); } finally { process.stdout.write = write; }
  result[argv.join(' ')] = out;
}
process.stdout.write(JSON.stringify(result));
`;

function helpTexts(): Record<string, string> {
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(stdout);
}

test('every command that reads text lists --tokenizer; prune --help states the map-bias default', () => {
  const texts = helpTexts();
  for (const argv of commands) {
    const help = texts[argv.join(' ')];
    assert.ok(help, `${argv.join(' ')} --help printed nothing`);
    assert.match(help, /--tokenizer\b/, `${argv.join(' ')} --help`);
  }
  assert.match(texts.prune.replace(/\s+/g, ' '), /--bias\b.*default no\b/);
});

test('pretrain --tokenizer overrides the config\'s tokenizer.path', () => {
  const config = parsePretrainConfig({ model: { hiddenSize: 64, numLayers: 2, numHeads: 4, intermediateSize: 128 } });
  assert.equal(withOverrides(config, { tokenizer: 'some/dir' }).tokenizer.path, 'some/dir');
  assert.equal(withOverrides(config, {}).tokenizer.path, config.tokenizer.path);
});
