/**
 * What a pretraining run's token streams were built from: the content fingerprint of every data
 * source (src/io/fingerprint.ts), stored as `data/inputs.json` beside the streams. A resume whose
 * sources changed on disk since is refused: it would continue the checkpoints on other tokens.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic-file.ts';
import { contentFingerprint, describeFingerprintChange, type ContentFingerprint } from '../io/fingerprint.ts';
import type { NamedSource } from './shipped-data.ts';

const FILE = 'inputs.json';

/** Fingerprints of the sources, by source name. */
export function sourceFingerprints(sources: readonly NamedSource[]): Record<string, ContentFingerprint> {
  return Object.fromEntries(sources.map((s, i) => [sources.findIndex((t) => t.name === s.name) === i ? s.name : `${s.name} (${i + 1})`, contentFingerprint(s.path)]));
}

export function saveSourceFingerprints(dataDir: string, inputs: Record<string, ContentFingerprint>): void {
  writeFileAtomicSync(join(dataDir, FILE), `${JSON.stringify(inputs)}\n`);
}

/** Throws when `dataDir` records sources whose content differs from `inputs` (nothing recorded: no check). */
export function checkSourcesUnchanged(dataDir: string, inputs: Record<string, ContentFingerprint>): void {
  const path = join(dataDir, FILE);
  if (!existsSync(path)) return;
  const stored = JSON.parse(readFileSync(path, 'utf8')) as Record<string, ContentFingerprint>;
  const changes: string[] = [];
  for (const [name, fp] of Object.entries(inputs)) {
    const change = describeFingerprintChange(stored[name], fp);
    if (change !== undefined) changes.push(`${name}: ${stored[name] ? change : 'a source the run did not start with'}`);
  }
  for (const name of Object.keys(stored)) if (!(name in inputs)) changes.push(`${name}: no longer given`);
  if (changes.length > 0) {
    throw new Error(
      `the training data changed since this run started (${changes.join('; ')}), so resuming would continue its checkpoints on other tokens. ` +
        'Restore the data, or start a new run with another --out.',
    );
  }
}
