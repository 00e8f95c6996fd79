/**
 * The rule every export follows: a folder either loads in Hugging Face transformers as exactly the
 * model linscope evaluated, or refuses to load there with an error that says what to do.
 *
 * Exports whose model is more than the base architecture — linear maps between blocks (`prune
 * --method linear`, config key `linscope`) or weights stored as low-rank factors (`laser apply
 * --factored`, config key `linscope_low_rank`) — use transformers' standard mechanism for custom
 * layers: config.json gets
 *
 *     "model_type": "linscope_<base>",  "architectures": ["LinscopeForCausalLM"],
 *     "auto_map": { "AutoConfig": "modeling_linscope.LinscopeConfig",
 *                   "AutoModelForCausalLM": "modeling_linscope.LinscopeForCausalLM" }
 *
 * and the folder gets `modeling_linscope.py` (src/export/modeling_linscope.py): the base class with
 * the maps run after their blocks and the factored matrices multiplied as factors. So
 * `AutoModelForCausalLM.from_pretrained(dir, trust_remote_code=True)` builds the exported model,
 * and without `trust_remote_code` transformers raises (it knows no model type "linscope_<base>"
 * and asks for `trust_remote_code=True`) instead of loading the base model with maps dropped or
 * factors initialised at random; naming the base class explicitly raises too (GUARD_KEY). Every
 * other export stays a vanilla folder of the base type.
 */
import { readFileSync } from 'node:fs';
import { LOW_RANK_CONFIG_KEY, readLowRankEntry } from '../io/low-rank-format.ts';
import { CUSTOM_MODEL_TYPE_PREFIX, intendedConfig } from '../models/linscope-maps.ts';
import { LINEAR_MAPS_FORMAT, LINSCOPE_CONFIG_KEY, readLinscopeEntry } from '../prune/linear-maps-format.ts';

export const MODELING_FILE = 'modeling_linscope.py';
/**
 * A config key transformers' own config classes cannot set (a read-only property of
 * PretrainedConfig): naming the base class explicitly (`LlamaForCausalLM.from_pretrained(dir)`,
 * which bypasses the auto mechanism) then raises, after logging "Can't set use_return_dict with
 * value <this text>". LinscopeConfig takes the key out before the base config sees it.
 */
const GUARD_KEY = 'use_return_dict';
const GUARD_TEXT = "this folder needs linscope's modeling file: load it with AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)";
const CUSTOM_ARCHITECTURE = 'LinscopeForCausalLM';
const TEMPLATE_URL = new URL('./modeling_linscope.py', import.meta.url);

/** Why a config needs the modeling file (empty: it is a vanilla checkpoint). */
export function customParts(config: Record<string, unknown>): string[] {
  const parts: string[] = [];
  const maps = readLinscopeEntry(config)?.linear_maps.length ?? 0;
  if (maps > 0) parts.push(`${maps} linear map(s) between blocks`);
  const factored = Object.keys(readLowRankEntry(config)?.tensors ?? {}).length;
  if (factored > 0) parts.push(`${factored} matrix(es) stored as low-rank factors`);
  return parts;
}

/** The plain base config of an export's config: base model_type and architectures, no linscope parts. */
export function vanillaConfig(config: Record<string, unknown>): Record<string, unknown> {
  const base = intendedConfig(config) as Record<string, unknown>;
  const entry = readLinscopeEntry(config);
  const architectures = entry?.base_architectures ?? (config.model_type === base.model_type ? config.architectures : undefined);
  const out: Record<string, unknown> = { ...base };
  for (const key of ['auto_map', LINSCOPE_CONFIG_KEY, LOW_RANK_CONFIG_KEY, GUARD_KEY]) delete out[key];
  if (architectures !== undefined) out.architectures = architectures;
  else delete out.architectures;
  return out;
}

/**
 * The config.json an export writes: with the `auto_map` mechanism when the model needs custom
 * code (its linear maps and factors taken from `config`), else the vanilla base config.
 */
export function exportConfig(config: Record<string, unknown>): { config: Record<string, unknown>; modelingFile?: string } {
  const out = vanillaConfig(config);
  if (customParts(config).length === 0) return { config: out };
  const baseType = String(out.model_type);
  const baseArchitectures = out.architectures;
  out.model_type = CUSTOM_MODEL_TYPE_PREFIX + baseType;
  out.architectures = [CUSTOM_ARCHITECTURE];
  out[GUARD_KEY] = GUARD_TEXT;
  out.auto_map = {
    AutoConfig: `${MODELING_FILE.replace(/\.py$/, '')}.LinscopeConfig`,
    AutoModelForCausalLM: `${MODELING_FILE.replace(/\.py$/, '')}.${CUSTOM_ARCHITECTURE}`,
  };
  out[LINSCOPE_CONFIG_KEY] = {
    format: LINEAR_MAPS_FORMAT,
    base_model_type: baseType,
    ...(baseArchitectures !== undefined ? { base_architectures: baseArchitectures } : {}),
    linear_maps: readLinscopeEntry(config)?.linear_maps ?? [],
  };
  const lowRank = readLowRankEntry(config);
  if (lowRank && Object.keys(lowRank.tensors).length > 0) out[LOW_RANK_CONFIG_KEY] = lowRank;
  return { config: out, modelingFile: modelingFileFor(baseType) };
}

/** modeling_linscope.py for a base model type. */
export function modelingFileFor(baseModelType: string): string {
  if (!/^[a-z0-9_]+$/.test(baseModelType)) throw new Error(`unexpected model_type "${baseModelType}"`);
  return readFileSync(TEMPLATE_URL, 'utf8').replace(/^BASE_MODEL_TYPE = .*$/m, `BASE_MODEL_TYPE = "${baseModelType}"`);
}
