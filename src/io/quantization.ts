/**
 * Refusing quantised checkpoints. linscope computes with float weights; the integer codes of a
 * quantised model (bitsandbytes, GPTQ, AWQ, …) read as floats would be garbage. A checkpoint is
 * taken as quantised when
 *   - config.json has `quantization_config` (what transformers writes for every method; its
 *     `quant_method` names the method, legacy bitsandbytes configs only say load_in_8bit/4bit), or
 *     a `quantize_config.json` (AutoGPTQ) / `quant_config.json` (AutoAWQ) lies beside it;
 *   - tensor names carry a method's extra tensors (`qweight`/`qzeros`/`g_idx`: GPTQ/AWQ; `SCB`,
 *     `absmax`, `quant_map`, `quant_state`: bitsandbytes; `weight_scale`: FP8);
 *   - a tensor of two or more dimensions is stored as I8/U8/I16/U16/I32/U32 (64-bit integer and
 *     BOOL tensors are position ids and masks, not weights).
 * The error names the method and what to do: use the original weights, or dequantise them first.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from './config.ts';
import { isIgnorableCheckpointTensor } from './checkpoint-buffers.ts';
import { InputError } from './input-error.ts';
import type { SafetensorsDType } from './safetensors-format.ts';

const ADVICE = 'linscope reads unquantised float weights (F32, F16, BF16) only: use the original weights ' +
  '(the model the quantised one was made from), or dequantise first (transformers: model.dequantize(), then save_pretrained)';

const INTEGER_WEIGHT_DTYPES: ReadonlySet<SafetensorsDType> = new Set(['I8', 'U8', 'I16', 'U16', 'I32', 'U32']);

/** Tensor-name telltales of quantisation methods. */
const NAME_SIGNS: readonly [RegExp, string][] = [
  [/\.g_idx$/, 'gptq'],
  [/\.(qweight|qzeros)$/, 'gptq or awq'],
  [/\.(SCB|weight_format)$/, 'bitsandbytes (8-bit)'],
  [/\.(absmax|quant_map|nested_absmax|nested_quant_map)$|\.quant_state\./, 'bitsandbytes (4-bit)'],
  [/\.(weight_scale|input_scale)$/, 'fp8'],
];

/** The method described by a `quantization_config` record, e.g. "gptq (4-bit)". */
function quantizationMethod(q: unknown): string {
  const r = (q && typeof q === 'object' ? q : {}) as Record<string, unknown>;
  let method = typeof r.quant_method === 'string' ? r.quant_method : undefined;
  let bits = typeof r.bits === 'number' ? r.bits : typeof r.w_bit === 'number' ? r.w_bit : undefined;
  if (r.load_in_8bit === true) { method ??= 'bitsandbytes'; bits ??= 8; }
  if (r.load_in_4bit === true) { method ??= 'bitsandbytes'; bits ??= 4; }
  method ??= 'an unnamed method';
  return bits === undefined ? method : `${method} (${bits}-bit)`;
}

/** What the check needs from a checkpoint: its tensor names and each tensor's dtype and shape. */
export interface TensorListing {
  readonly path: string;
  names(): string[];
  info(name: string): { dtype: SafetensorsDType; shape: number[]; file?: string };
}

/** Throw an `InputError` when the model in `dir` (config + weights) is quantised. */
export function refuseQuantized(dir: string, config: ModelConfig, weights: TensorListing): void {
  const configPath = join(dir, 'config.json');
  if (config.quantization_config !== undefined && config.quantization_config !== null) {
    throw new InputError(configPath, `the model is quantised with ${quantizationMethod(config.quantization_config)} ("quantization_config"); ${ADVICE}`);
  }
  for (const [file, method] of [['quantize_config.json', 'gptq'], ['quant_config.json', 'awq']] as const) {
    if (existsSync(join(dir, file))) throw new InputError(join(dir, file), `the model is quantised with ${method}; ${ADVICE}`);
  }
  const names = weights.names();
  for (const [re, method] of NAME_SIGNS) {
    const hit = names.find((n) => re.test(n));
    if (hit) throw new InputError(weights.path, `tensor "${hit}" belongs to a model quantised with ${method}; ${ADVICE}`);
  }
  for (const name of names) {
    if (isIgnorableCheckpointTensor(name)) continue;
    const { dtype, shape, file } = weights.info(name);
    if (shape.length >= 2 && INTEGER_WEIGHT_DTYPES.has(dtype)) {
      throw new InputError(file ?? weights.path, `tensor "${name}" is ${dtype} [${shape.join(', ')}]: integer weight matrices are quantised codes (method unknown, no "quantization_config"); ${ADVICE}`);
    }
  }
}
