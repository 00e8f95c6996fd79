import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `../shared/data` beside the checkout (override with LINSCOPE_SHARED_DATA). */
export const sharedData = process.env.LINSCOPE_SHARED_DATA ?? resolve(repoRoot, '..', 'shared', 'data');

export const fixturesDir = join(sharedData, 'fixtures');
export const fixtureArchs = ['gpt2', 'opt', 'llama', 'mistral', 'qwen2', 'gpt_neox', 'bloom', 'gptj', 'phi'] as const;
export const stories260KDir = join(sharedData, 'models', 'stories260K');
export const datasetsDir = join(sharedData, 'datasets');

/** For `test(name, { skip: skipUnless(path) }, ...)`: a reason string when the data is missing. */
export function skipUnless(path: string): string | false {
  return existsSync(path) ? false : `test data not found at ${path}`;
}
