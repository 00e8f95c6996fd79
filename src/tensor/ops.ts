/** One import for the forward kernels. */
export * from './tensor.ts';
export * from './matmul.ts';
export * from './elementwise.ts';
export * from './activations.ts';
export * from './norms.ts';
export * from './embedding.ts';
export * from './rope.ts';
export * from './attention.ts';
