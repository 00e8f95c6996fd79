/**
 * The version of linscope's float32 arithmetic: what a forward pass of given weights and inputs
 * returns, down to the last float32 place. Results that are stored and reused later (the linearity
 * cache, a LASER search's resume log) carry it in their key, so an upgrade that changes a kernel's
 * rounding recomputes them instead of mixing old and new numbers.
 *
 * 1: up to 2026-12-03.
 * 2: tanh-GELU and the attention softmax's e^x in float32 arithmetic (src/tensor/fast-exp.ts
 *    expFloat32), norm statistics in four partial sums (differences of 1–2 float32 ulps).
 * 3: float32 products of 2–32 rows with a large transposed weight run as column slabs through
 *    OpenBLAS's small-matrix kernel on SkylakeX-family cores (src/tensor/few-row-gemm.ts); products
 *    of 2–32 rows with a 16-bit weight decode slabs of the same width, and one row times a 16-bit
 *    weight is summed in 16 float32 lanes (src/tensor/half-weight.ts): such products sum in
 *    another order (differences within float32 rounding).
 */
export const NUMERICS_VERSION = 3;
