/**
 * Gemma (HF `GemmaForCausalLM`): Llama's block structure and tensor names, with
 * - RMSNorm scaling by (1 + w) (`norm.unitOffset`),
 * - a GeGLU MLP (`hidden_activation`, default gelu_pytorch_tanh),
 * - token embeddings multiplied by sqrt(hidden_size) rounded to float32,
 * - head_dim from the config (256 for Gemma-7B, not hidden/heads), LM head tied to the embedding.
 * All of that is carried by the normalised config, so the Llama builder runs it unchanged.
 */
import type { Family } from './family.ts';
import { createLlamaLike } from './llama.ts';

export const gemmaFamily: Family = { name: 'gemma', prefixes: ['model.', ''], embeddingName: 'embed_tokens.weight', create: createLlamaLike };
