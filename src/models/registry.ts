/** Architecture family modules by name. */
import { bloomFamily } from './bloom.ts';
import type { DecoderConfig, FamilyName } from './config.ts';
import { falconFamily } from './falcon.ts';
import type { Family } from './family.ts';
import { gemmaFamily } from './gemma.ts';
import { gptNeoxFamily } from './gpt-neox.ts';
import { gpt2Family } from './gpt2.ts';
import { gptjFamily } from './gptj.ts';
import { llamaFamily } from './llama.ts';
import { optFamily } from './opt.ts';
import { phiFamily } from './phi.ts';

const FAMILIES: Record<FamilyName, Family> = {
  gpt2: gpt2Family,
  opt: optFamily,
  llama: llamaFamily,
  gpt_neox: gptNeoxFamily,
  bloom: bloomFamily,
  gptj: gptjFamily,
  phi: phiFamily,
  falcon: falconFamily,
  gemma: gemmaFamily,
};

/** The module that runs a config's architecture. */
export function familyFor(config: DecoderConfig): Family {
  return FAMILIES[config.family];
}
