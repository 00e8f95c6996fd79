/**
 * Tensors that Hugging Face checkpoints may carry besides the weights and that loaders ignore on
 * purpose: causal-mask and rotary buffers of older transformers versions (the models'
 * `_keys_to_ignore_on_load_unexpected`), position-id buffers, and linscope's own extras stored
 * beside the weights (LASER factors `*.laser_left` / `*.laser_right`, pruning's `linear_maps.*`).
 */
const IGNORABLE = [
  /(^|\.)attn\.(masked_)?bias$/, // GPT-2, GPT-J causal mask buffers
  /(^|\.)attention\.(masked_)?bias$/, // GPT-NeoX
  /(^|\.)rotary_emb\.inv_freq$/, // Llama, NeoX, … before transformers 4.31
  /(^|\.)position_ids$/,
  /\.laser_(left|right)$/, // src/io/low-rank-format.ts
  /^linear_maps\./, // src/prune/linear-maps-format.ts
];

/** True for a tensor name a loader may leave unused without a warning. */
export function isIgnorableCheckpointTensor(name: string): boolean {
  return IGNORABLE.some((re) => re.test(name));
}
