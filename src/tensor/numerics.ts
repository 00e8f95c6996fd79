/**
 * The version of linscope's float32 arithmetic: what a forward pass of given weights and inputs
 * returns, down to the last float32 place. Results that are stored and reused later (the linearity
 * cache, a LASER search's resume log) carry it in their key, so an upgrade that changes a kernel's
 * rounding recomputes them instead of mixing old and new numbers.
 *
 * 1: up to 2026-12-03.
 * 2: tanh-GELU and the attention softmax's e^x in float32 arithmetic (src/tensor/fast-exp.ts
 *    expFloat32), norm statistics in four partial sums (differences of 1–2 float32 ulps).
 */
export const NUMERICS_VERSION = 2;
