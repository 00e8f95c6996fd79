/** Architecture family modules by name. */
import type { DecoderConfig, FamilyName } from './config.ts';
import type { Family } from './family.ts';
import { gpt2Family } from './gpt2.ts';

const FAMILIES: Partial<Record<FamilyName, Family>> = {
  gpt2: gpt2Family,
};

export function familyFor(config: DecoderConfig): Family {
  const f = FAMILIES[config.family];
  if (!f) throw new Error(`no implementation for the ${config.family} family yet`);
  return f;
}
