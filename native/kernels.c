/*
 * linscope's non-GEMM kernels in C: norms, activations, gating, bias and residual adds, row
 * softmax and RoPE, float32 tensors, rows split over OpenMP threads.
 *
 * Every kernel is a line-by-line copy of its TypeScript twin in src/tensor (the reference and the
 * fallback): the same float64 intermediate arithmetic, the same summation order and the same e^x
 * (fast-exp.ts's expBounded, whose 2^(k/64) table is handed over by lk_init; tanh-GELU and the
 * attention softmax use fast-exp.ts's float32 e^x instead, exp_f32 here, whose float steps the
 * TypeScript rounds with Math.fround), compiled with -ffp-contract=off so no multiply-add is fused.
 * Results therefore equal the TypeScript ones bit for bit, except where libm's exp/cos/sin/erf and
 * V8's differ in a float64 last place.
 *
 * Built by scripts/setup.sh (or on first use) with: gcc -O3 -march=native -ffp-contract=off -fno-trapping-math
 * -fopenmp -fPIC -shared; loaded through koffi by src/tensor/native-kernels.ts.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
static inline int64_t omp_parts(void) { return omp_get_num_threads(); }
static inline int64_t omp_part(void) { return omp_get_thread_num(); }
#else
static inline int64_t omp_parts(void) { return 1; }
static inline int64_t omp_part(void) { return 0; }
#endif

#define EXP_OFFSET 8200
#define POW2_BIAS 1074
static double pow2_64ths[2 * EXP_OFFSET + 1]; /* 2^(k/64), k = -8200..8200 (expBounded) */
static double pow2[POW2_BIAS + 1025];         /* 2^k, k = -1074..1024 (fastExp) */
static double pow2_fraction[64];              /* 2^(j/64), j = 0..63 (fastExp) */
static double log2e_64, ln2_64;

/* Version of the calling convention; src/tensor/native-kernels.ts checks it. */
int lk_version(void) { return 7; }

/* Copies fast-exp.ts's tables (expBounded's 2^(k/64); fastExp's 2^k and 2^(j/64)) and its two constants. */
int lk_init(const double *t64ths, int n64ths, const double *tpow2, int npow2, const double *tfraction, int nfraction, double log2e64, double ln2over64) {
  if (n64ths != 2 * EXP_OFFSET + 1 || npow2 != POW2_BIAS + 1025 || nfraction != 64) return -1;
  memcpy(pow2_64ths, t64ths, sizeof pow2_64ths);
  memcpy(pow2, tpow2, sizeof pow2);
  memcpy(pow2_fraction, tfraction, sizeof pow2_fraction);
  log2e_64 = log2e64;
  ln2_64 = ln2over64;
  return 0;
}

/* fast-exp.ts expBounded: e^x for -88 <= x <= 88 (the index is clamped so NaN reads in bounds). */
static inline double exp_bounded(double x) {
  double t = x * log2e_64;
  int i = (int)(t + (EXP_OFFSET + 0.5));
  i = i < 0 ? 0 : i > 2 * EXP_OFFSET ? 2 * EXP_OFFSET : i;
  double r = (t - (double)(i - EXP_OFFSET)) * ln2_64;
  return (1 + r * (1 + r * (0.5 + r * (1.0 / 6)))) * pow2_64ths[i];
}

static inline double clamp88(double y) { return y > 88 ? 88 : y < -88 ? -88 : y; }

/*
 * fast-exp.ts expFloat32Poly: e^r · 2^n in float32 arithmetic for |r| <= ln2/2 and an integer
 * -126 <= n <= 126: the Taylor polynomial of e^r to r^7 (truncation < 1e-8) times 2^n built from its
 * bits. No table, so loops of it vectorise 16 floats wide.
 */
static inline float exp_poly_f32(float r, int32_t n) {
  float p = (float)(1.0 / 5040);
  p = (float)(1.0 / 720) + r * p;
  p = (float)(1.0 / 120) + r * p;
  p = (float)(1.0 / 24) + r * p;
  p = (float)(1.0 / 6) + r * p;
  p = 0.5f + r * p;
  p = 1.0f + r * p;
  p = 1.0f + r * p;
  const int32_t bits = (n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

#define ROUND_MAGIC_F64 6755399441055744.0 /* 1.5·2^52: adding and subtracting it rounds a double to an integer */
#define ROUND_MAGIC_F32 12582912.0f        /* 1.5·2^23, the same for a float */

/* fast-exp.ts expFloat32: e^z for -87.34 <= z <= 87, reduced in float64 (n = round(z·log2 e), r = z - n·ln2). */
static inline float exp_f32(double z) {
  const double n = (z * M_LOG2E + ROUND_MAGIC_F64) - ROUND_MAGIC_F64;
  return exp_poly_f32((float)(z - n * M_LN2), (int32_t)n);
}

/* fast-exp.ts expFloat32Single: e^x for a float -87.34 <= x <= 87, reduced in float32 (ln 2 split in two, Cody-Waite). */
static inline float exp_f32_single(float x) {
  const float n = (x * (float)M_LOG2E + ROUND_MAGIC_F32) - ROUND_MAGIC_F32;
  return exp_poly_f32((x - n * 0.693359375f) - n * -0x1.bd0106p-13f, (int32_t)n); /* the second part: the float nearest ln 2 - 0.693359375 */
}

/*
 * Work below these many elements stays on the calling thread: a fork/join costs microseconds on an
 * idle machine (milliseconds on a busy one), and a memory-bound pass (sums, bias adds: 0.5 ms for
 * 1024 × 2304 on one core) gains less from a second core than a wake-up can cost.
 */
#define PARALLEL_MIN 32768
#define PARALLEL_MIN_MEMORY (1 << 23)

/* ---- normalisations (norms.ts) ---- */

/*
 * norms.ts rowMoments: Σ(s_j - shift) and Σ(s_j - shift)² over a row in float64, element j going to
 * partial sum j mod 4, totals (p0 + p1) + (p2 + p3): four independent chains, which vectorise.
 */
static inline void row_moments(const float *s, int64_t n, double shift, double *sum, double *squares) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const double c0 = s[j] - shift, c1 = s[j + 1] - shift, c2 = s[j + 2] - shift, c3 = s[j + 3] - shift;
    s0 += c0; s1 += c1; s2 += c2; s3 += c3;
    q0 += c0 * c0; q1 += c1 * c1; q2 += c2 * c2; q3 += c3 * c3;
  }
  if (j < n) { const double c = s[j] - shift; s0 += c; q0 += c * c; }
  if (j + 1 < n) { const double c = s[j + 1] - shift; s1 += c; q1 += c * c; }
  if (j + 2 < n) { const double c = s[j + 2] - shift; s2 += c; q2 += c * c; }
  *sum = (s0 + s1) + (s2 + s3);
  *squares = (q0 + q1) + (q2 + q3);
}

/* layerNorm: y = (x - mean)/sqrt(var + eps)·w + b, statistics shifted by the row's first element. */
void lk_layernorm_f32(const float *x, float *y, const float *w, const float *b, int64_t rows, int64_t n, double eps, int nt) {
  #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && rows * n >= PARALLEL_MIN)
  for (int64_t row = 0; row < rows; row++) {
    const float *s = x + row * n;
    float *d = y + row * n;
    double shift = s[0], sum, squares;
    row_moments(s, n, shift, &sum, &squares);
    double m = sum / n;
    double mean = shift + m;
    double variance = squares / n - m * m;
    if (variance < 0) variance = 0; /* Math.max(v, 0); NaN stays NaN */
    double inv = 1 / sqrt(variance + eps);
    if (w && b) for (int64_t j = 0; j < n; j++) d[j] = (float)(((double)s[j] - mean) * inv * w[j] + b[j]);
    else if (w) for (int64_t j = 0; j < n; j++) d[j] = (float)(((double)s[j] - mean) * inv * w[j]);
    else if (b) for (int64_t j = 0; j < n; j++) d[j] = (float)(((double)s[j] - mean) * inv + b[j]);
    else for (int64_t j = 0; j < n; j++) d[j] = (float)(((double)s[j] - mean) * inv);
  }
}

/* rmsNorm (float32): y = fround(w + offset) · fround(x · fround(1/sqrt(mean(x²) + eps))), as HF rounds. */
void lk_rmsnorm_f32(const float *x, float *y, const float *w, int64_t rows, int64_t n, double eps, float offset, int nt) {
  #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && rows * n >= PARALLEL_MIN)
  for (int64_t row = 0; row < rows; row++) {
    const float *s = x + row * n;
    float *d = y + row * n;
    double sum, ss;
    row_moments(s, n, 0, &sum, &ss);
    float inv32 = (float)(1 / sqrt(ss / n + eps));
    for (int64_t j = 0; j < n; j++) d[j] = (w[j] + offset) * (s[j] * inv32);
  }
}

/* softmaxRowsInPlace: dst[row] = softmax(src[row]) (max-subtracted; an all -inf row gives zeros); dst may be src. */
void lk_softmax_rows_f32(const float *src, float *dst, int64_t rows, int64_t n, int nt) {
  #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && rows * n >= PARALLEL_MIN)
  for (int64_t row = 0; row < rows; row++) {
    const float *s = src + row * n;
    float *d = dst + row * n;
    double max = -INFINITY;
    for (int64_t j = 0; j < n; j++) if (s[j] > max) max = s[j];
    if (max == -INFINITY) {
      for (int64_t j = 0; j < n; j++) d[j] = 0;
      continue;
    }
    double sum = 0;
    for (int64_t j = 0; j < n; j++) {
      double e = exp(s[j] - max);
      d[j] = (float)e;
      sum += e;
    }
    double inv = 1 / sum;
    for (int64_t j = 0; j < n; j++) d[j] = (float)(d[j] * inv);
  }
}

/* ---- activations (activations.ts) ---- */

enum { ACT_NONE = 0, ACT_GELU_TANH = 1, ACT_SILU = 2, ACT_RELU = 3, ACT_GELU_ERF = 4 };

#define SQRT_2_OVER_PI sqrt(2 / M_PI) /* Math.sqrt(2 / Math.PI), both correctly rounded */

/* activations.ts erf: rational Chebyshev fit, |err| < 1.2e-7. */
static inline double erf_cheb(double x) {
  double z = fabs(x);
  double t = 1 / (1 + 0.5 * z);
  double r = t * exp(-z * z - 1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
    t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}

/* activations.ts geluTanhF32: v / (1 + e^(v(c1 + c3·v²))) with the exponent in float64, e^z and the rest in float32. */
static inline float gelu_tanh_f32(float v) {
  const double c1 = -2 * SQRT_2_OVER_PI, c3 = c1 * 0.044715;
  const double w = v;
  double z = w * (c1 + c3 * w * w);
  z = z > 87 ? 87 : z < -87 ? -87 : z;
  return v / (1.0f + exp_f32(z));
}

static inline double act(double v, int kind) {
  switch (kind) {
    case ACT_SILU: return v / (1 + exp_bounded(clamp88(-v)));
    case ACT_RELU: return v > 0 ? v : 0;
    case ACT_GELU_ERF: return 0.5 * v * (1 + erf_cheb(v / M_SQRT2));
    default: return v;
  }
}

/* Elementwise split: [0, count) in contiguous chunks, one per thread. */
#define FOR_CHUNKS(count, nt, ...)                                                                      \
  _Pragma("omp parallel num_threads(nt) if (nt > 1 && count >= PARALLEL_MIN)")                   \
  {                                                                                             \
    int64_t parts_ = omp_parts(), part_ = omp_part();                                           \
    int64_t lo = count * part_ / parts_, hi = count * (part_ + 1) / parts_;                     \
    __VA_ARGS__                                                                                 \
  }


/* activate: y = act(x) elementwise (y may be x). The kind switch is hoisted so each loop vectorises. */
void lk_activate_f32(const float *x, float *y, int64_t count, int kind, int nt) {
  if ((kind == ACT_NONE || kind == ACT_RELU) && count < PARALLEL_MIN_MEMORY) nt = 1;
  FOR_CHUNKS(count, nt, {
    switch (kind) {
      case ACT_GELU_TANH: for (int64_t i = lo; i < hi; i++) y[i] = gelu_tanh_f32(x[i]); break;
      case ACT_SILU: for (int64_t i = lo; i < hi; i++) y[i] = (float)act(x[i], ACT_SILU); break;
      case ACT_RELU: for (int64_t i = lo; i < hi; i++) y[i] = x[i] > 0 ? x[i] : 0; break;
      case ACT_GELU_ERF: for (int64_t i = lo; i < hi; i++) y[i] = (float)act(x[i], ACT_GELU_ERF); break;
      default: if (y != x) memcpy(y + lo, x + lo, (size_t)(hi - lo) * sizeof(float));
    }
  })
}

/* siluMul: y = silu(gate) · up (SwiGLU). */
void lk_silu_mul_f32(const float *gate, const float *up, float *y, int64_t count, int nt) {
  FOR_CHUNKS(count, nt, {
    for (int64_t i = lo; i < hi; i++) y[i] = (float)(act(gate[i], ACT_SILU) * up[i]);
  })
}

/* Fused bias add + activation over [rows, n]: y[r, j] = act(fround(y[r, j] + b[j])) in place. */
void lk_bias_act_f32(float *y, const float *b, int64_t rows, int64_t n, int kind, int nt) {
  if ((kind == ACT_NONE || kind == ACT_RELU) && rows * n < PARALLEL_MIN_MEMORY) nt = 1;
  #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && rows * n >= PARALLEL_MIN)
  for (int64_t row = 0; row < rows; row++) {
    float *d = y + row * n;
    switch (kind) {
      case ACT_GELU_TANH: for (int64_t j = 0; j < n; j++) d[j] = gelu_tanh_f32(d[j] + b[j]); break;
      case ACT_SILU: for (int64_t j = 0; j < n; j++) d[j] = (float)act((float)(d[j] + b[j]), ACT_SILU); break;
      case ACT_RELU: for (int64_t j = 0; j < n; j++) { float v = d[j] + b[j]; d[j] = v > 0 ? v : 0; } break;
      case ACT_GELU_ERF: for (int64_t j = 0; j < n; j++) d[j] = (float)act((float)(d[j] + b[j]), ACT_GELU_ERF); break;
      default: for (int64_t j = 0; j < n; j++) d[j] += b[j];
    }
  }
}

/* ---- elementwise arithmetic (elementwise.ts) ---- */

/* out = a + s·b (out may be a); s = 1 is the plain sum, rounded once like a float32 add. */
void lk_axpy_f32(const float *a, const float *b, float *out, double s, int64_t count, int nt) {
  if (count < PARALLEL_MIN_MEMORY) nt = 1;
  FOR_CHUNKS(count, nt, {
    if (s == 1) for (int64_t i = lo; i < hi; i++) out[i] = a[i] + b[i];
    else for (int64_t i = lo; i < hi; i++) out[i] = (float)(a[i] + s * b[i]);
  })
}

/* ---- rotary embeddings (rope.ts) ---- */

/* Rotates one head's (a, b) pairs by the angles whose cosines and sines are cs, sn: pairs are
 * (2i, 2i+1) when interleaved (GPT-J), else (i, i + half) (Llama/NeoX). */
static inline void rotate_pairs(float *d, int half, const float *cs, const float *sn, int interleaved) {
  if (interleaved) {
    for (int i = 0; i < half; i++) {
      double a = d[2 * i], b = d[2 * i + 1];
      d[2 * i] = (float)(a * cs[i] - b * sn[i]);
      d[2 * i + 1] = (float)(b * cs[i] + a * sn[i]);
    }
  } else {
    for (int i = 0; i < half; i++) {
      double a = d[i], b = d[i + half];
      d[i] = (float)(a * cs[i] - b * sn[i]);
      d[i + half] = (float)(b * cs[i] + a * sn[i]);
    }
  }
}

/*
 * RoPE (rope.ts rotateRope) with the angles' cos and sin computed once per distinct position instead
 * of once per token and call: lk_rope_table_f32 fills rows of cos/sin of θ = fround(pos · invFreq[i])
 * rounded to float32 and times `scaling` rounded again (the values rope.ts's TypeScript loop
 * computes); lk_rope_apply_f32 rotates the pairs (i, i + half) (rotate-half) or (2i, 2i + 1)
 * (interleaved) of the first 2·half coordinates of each head of token t with table row rows[t];
 * sign < 0 rotates by −θ (the backward: cos is even, and fround, sin and the scaling are odd, so
 * −sin θ is bit for bit the sine of the negated position).
 */
void lk_rope_table_f32(const double *positions, int64_t count, int half, const float *inv_freq, double scaling, float *cs, float *sn) {
  for (int64_t t = 0; t < count; t++) {
    const double p = positions[t];
    for (int i = 0; i < half; i++) {
      float angle = (float)(p * inv_freq[i]);
      cs[t * half + i] = (float)((double)(float)cos(angle) * scaling);
      sn[t * half + i] = (float)((double)(float)sin(angle) * scaling);
    }
  }
}

void lk_rope_apply_f32(float *x, int64_t tokens, int heads, int head_dim, int half, const float *cs_table, const float *sn_table,
                       const int32_t *rows, int sign, int interleaved, int nt) {
  #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && tokens * heads * head_dim >= PARALLEL_MIN)
  for (int64_t t = 0; t < tokens; t++) {
    const float *cs = cs_table + (int64_t)rows[t] * half, *sn0 = sn_table + (int64_t)rows[t] * half;
    float sn[half > 0 ? half : 1];
    for (int i = 0; i < half; i++) sn[i] = sign < 0 ? -sn0[i] : sn0[i];
    for (int h = 0; h < heads; h++) rotate_pairs(x + (t * heads + h) * (int64_t)head_dim, half, cs, sn, interleaved);
  }
}

/* ---- training kernels (src/autograd) ---- */

/*
 * fast-exp.ts fastExp, bit for bit on (-708, 709). Outside, fastExp calls Math.exp; here x is
 * clamped instead (so the loops vectorise): the callers only feed e^x to 1 + e^x, 1/(1 + e^x) and
 * sums of terms ≥ 1 next to it, or round it to float32, where e^-707.5 and e^-710 (both < 1e-307)
 * give the same results, as do e^708.9 and e^710 (1/(1 + e^x) and x/(1 + e^x) underflow to ±0).
 */
static inline double fast_exp(double x) {
  x = x < -707.5 ? -707.5 : x > 708.9 ? 708.9 : x;
  double t = x * log2e_64;
  int k = (int)(t + (1048576 + 0.5));
  k = (k < 0 ? 0 : k > 2097152 ? 2097152 : k) - 1048576; /* NaN reads in bounds and stays NaN */
  double r = (t - k) * ln2_64;
  int e = (k >> 6) + POW2_BIAS;
  e = e < 0 ? 0 : e > POW2_BIAS + 1024 ? POW2_BIAS + 1024 : e;
  return (1 + r * (1 + r * (0.5 + r * (1.0 / 6)))) * pow2_fraction[k & 63] * pow2[e];
}

/* fused.ts swiGlu forward: sig = 1/(1 + e^-g), y = (g/(1 + e^-g))·u. */
void lk_swiglu_fwd_f32(const float *gate, const float *up, float *y, float *sig, int64_t count, int nt) {
  FOR_CHUNKS(count, nt, {
    for (int64_t i = lo; i < hi; i++) {
      double v = gate[i];
      double e = 1 + fast_exp(-v);
      sig[i] = (float)(1 / e);
      y[i] = (float)((v / e) * up[i]);
    }
  })
}

/* fused.ts swiGlu backward: gg += ḡ·u·σ(1 + g(1 − σ)), gu += ḡ·g·σ (either may be NULL). */
void lk_swiglu_bwd_f32(const float *gate, const float *up, const float *sig, const float *grad, float *gg, float *gu, int64_t count, int nt) {
  FOR_CHUNKS(count, nt, {
    if (gg) for (int64_t i = lo; i < hi; i++) {
      double v = gate[i], s = sig[i];
      gg[i] = (float)(gg[i] + (double)grad[i] * up[i] * s * (1 + v * (1 - s)));
    }
    if (gu) for (int64_t i = lo; i < hi; i++) gu[i] = (float)(gu[i] + (double)grad[i] * gate[i] * sig[i]);
  })
}

/*
 * The largest element of a row, as `if (s[j] > max) max = s[j]` from -inf finds it (NaN ignored),
 * in 16 interleaved lanes so it vectorises (max is exact, so the lanes change nothing but which of
 * +0 and -0 is kept, and x - (+0) = x - (-0)).
 */
static inline double row_max(const float *s, int64_t n) {
  float lane[16];
  for (int k = 0; k < 16; k++) lane[k] = -INFINITY;
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int k = 0; k < 16; k++) lane[k] = s[j + k] > lane[k] ? s[j + k] : lane[k];
  float max = -INFINITY;
  for (int k = 0; k < 16; k++) max = lane[k] > max ? lane[k] : max;
  for (; j < n; j++) max = s[j] > max ? s[j] : max;
  return max;
}

/*
 * fused.ts crossEntropyMean forward over rows of V logits: probs = softmax(x), loss[r] = max +
 * log Σe − x[t] (NaN marks a row whose target is `ignore`; targets were checked by the caller).
 */
void lk_xent_fwd_f32(const float *x, float *probs, const int32_t *targets, int64_t rows, int64_t V, int32_t ignore, double *loss, double *scratch, int nt) {
  if (!(nt > 1 && rows * V >= PARALLEL_MIN)) nt = 1;
  #pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t parts = omp_parts(), part = omp_part();
    double *e = scratch + V * part; /* the row's exponentials: computed vectorised, summed in order */
    for (int64_t r = rows * part / parts; r < rows * (part + 1) / parts; r++) {
      int32_t t = targets[r];
      if (t == ignore) { loss[r] = NAN; continue; }
      const float *s = x + r * V;
      float *p = probs + r * V;
      double max = row_max(s, V);
      #pragma omp simd
      for (int64_t j = 0; j < V; j++) {
        double v = fast_exp(s[j] - max);
        e[j] = v;
        p[j] = (float)v;
      }
      double sum = 0;
      for (int64_t j = 0; j < V; j++) sum += e[j];
      double inv = 1 / sum;
      for (int64_t j = 0; j < V; j++) p[j] = (float)(p[j] * inv);
      loss[r] = max + log(sum) - s[t];
    }
  }
}

/* crossEntropyMean backward in place: probs ← w·(probs − onehot(t)), ignored rows 0. */
void lk_xent_bwd_f32(float *probs, const int32_t *targets, int64_t rows, int64_t V, int32_t ignore, double w, int nt) {
  #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && rows * V >= PARALLEL_MIN_MEMORY)
  for (int64_t r = 0; r < rows; r++) {
    float *p = probs + r * V;
    int32_t t = targets[r];
    if (t == ignore) { memset(p, 0, (size_t)V * sizeof(float)); continue; }
    for (int64_t j = 0; j < V; j++) p[j] = (float)(p[j] * w);
    p[t] = (float)(p[t] - w);
  }
}

/* ---- log-probabilities over rows of logits (src/eval/log-probs.ts) ---- */

/*
 * For rows of V float32 logits (row r at logits + at[r]·V, or row r when at is NULL):
 * lse[r] = max + log Σ_j e^(x_j − max) in float64 (fast_exp; x_j − max rounded to double as the
 * TypeScript does), the sum in 8 lanes: element j to lane j mod 8 for the whole 8-blocks, lanes
 * added as ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), then the tail in order;
 * argmax[r] = the index `if (x[j] > x[best]) best = j` from 0 finds: the first maximum (0 when x_0 is NaN);
 * rank[r] = #{j : x_j > x_target} when targets is given. An all −∞ row has lse −∞ (no sum).
 * log-probs.ts logitRowsTypeScript is the same computation in the same order.
 */
void lk_logit_rows_f32(const float *logits, const int32_t *at, int64_t rows, int64_t V, const int32_t *targets,
                       double *lse, int32_t *argmax, int32_t *rank, double *scratch, int nt) {
  if (!(nt > 1 && rows * V >= PARALLEL_MIN)) nt = 1;
  #pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t parts = omp_parts(), part = omp_part();
    double *e = scratch + V * part;
    for (int64_t r = rows * part / parts; r < rows * (part + 1) / parts; r++) {
      const float *s = logits + (at ? (int64_t)at[r] : r) * V;
      double max = row_max(s, V);
      /* the first index holding the maximum; a NaN at 0 is never beaten by `>` */
      int64_t best = 0;
      if (!isnan(s[0])) while (best < V - 1 && !(s[best] == max)) best++;
      argmax[r] = (int32_t)best;
      if (targets) {
        const float v = s[targets[r]];
        int32_t above = 0;
        for (int64_t j = 0; j < V; j++) above += s[j] > v;
        rank[r] = above;
      }
      if (max == -INFINITY) { lse[r] = -INFINITY; continue; }
      #pragma omp simd
      for (int64_t j = 0; j < V; j++) e[j] = fast_exp((double)s[j] - max);
      double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t j = 0;
      for (; j + 8 <= V; j += 8)
        for (int k = 0; k < 8; k++) lane[k] += e[j + k];
      double sum = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
      for (; j < V; j++) sum += e[j];
      lse[r] = max + log(sum);
    }
  }
}

/*
 * norms.ts (autograd) RMSNorm backward over rows of n, w' = w + offset, r = 1/sqrt(mean(x²) + eps):
 * gx += r·(g⊙w' − x·r²·mean(g⊙w'⊙x)) and dw += Σ_rows g⊙x·r (float64; NULL to skip either). With
 * several threads each sums its rows' dw apart and the parts are added in thread order.
 */
void lk_rmsnorm_bwd_f32(const float *x, const float *g, const float *w, double offset, double eps, int64_t rows, int64_t n,
                        float *gx, double *dw, double *scratch, int nt) {
  double *weff = scratch; /* n, then one dw part of n per thread after the first */
  for (int64_t j = 0; j < n; j++) weff[j] = w[j] + offset;
  if (!(nt > 1 && rows * n >= PARALLEL_MIN)) nt = 1;
  #pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t parts = omp_parts(), part = omp_part();
    int64_t lo = rows * part / parts, hi = rows * (part + 1) / parts;
    double *acc = dw ? (part == 0 ? dw : scratch + n * part) : NULL;
    if (acc && part > 0) memset(acc, 0, (size_t)n * sizeof(double));
    for (int64_t row = lo; row < hi; row++) {
      const float *xs = x + row * n, *gd = g + row * n;
      double ss = 0, gyx = 0;
      for (int64_t j = 0; j < n; j++) {
        double xv = xs[j];
        ss += xv * xv;
        gyx += gd[j] * weff[j] * xv;
      }
      double r = 1 / sqrt(ss / n + eps);
      double c = r * r * (gyx / n);
      if (acc) for (int64_t j = 0; j < n; j++) acc[j] += (double)gd[j] * xs[j] * r;
      if (gx) {
        float *o = gx + row * n;
        for (int64_t j = 0; j < n; j++) o[j] = (float)(o[j] + r * (gd[j] * weff[j] - xs[j] * c));
      }
    }
    #pragma omp barrier
    #pragma omp single
    if (dw) for (int64_t p = 1; p < parts; p++) for (int64_t j = 0; j < n; j++) dw[j] += scratch[n * p + j];
  }
}

/*
 * norms.ts (autograd) LayerNorm backward over rows of n, x̂ = (x − μ)·r, gy = g⊙w (w NULL: gy = g):
 * gx += r·(gy − mean(gy) − x̂·mean(gy⊙x̂)) and dw += Σ_rows g⊙x̂ (float64; NULL to skip either).
 * `scratch` holds 3n float64s per thread (x̂, gy, and that thread's dw part).
 */
void lk_layernorm_bwd_f32(const float *x, const float *g, const float *w, double eps, int64_t rows, int64_t n,
                          float *gx, double *dw, double *scratch, int nt) {
  if (!(nt > 1 && rows * n >= PARALLEL_MIN)) nt = 1;
  #pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t parts = omp_parts(), part = omp_part();
    int64_t lo = rows * part / parts, hi = rows * (part + 1) / parts;
    double *xhat = scratch + 3 * n * part, *gy = xhat + n;
    double *acc = dw ? (part == 0 ? dw : gy + n) : NULL;
    if (acc && part > 0) memset(acc, 0, (size_t)n * sizeof(double));
    for (int64_t row = lo; row < hi; row++) {
      const float *xs = x + row * n, *gd = g + row * n;
      double mu = 0;
      for (int64_t j = 0; j < n; j++) mu += xs[j];
      mu /= n;
      double v = 0;
      for (int64_t j = 0; j < n; j++) {
        double c = xs[j] - mu;
        v += c * c;
      }
      double r = 1 / sqrt(v / n + eps);
      double meanGy = 0, meanGyXhat = 0;
      for (int64_t j = 0; j < n; j++) {
        double xh = (xs[j] - mu) * r;
        double gj = w ? (double)gd[j] * w[j] : (double)gd[j];
        xhat[j] = xh;
        gy[j] = gj;
        meanGy += gj;
        meanGyXhat += gj * xh;
      }
      if (acc) for (int64_t j = 0; j < n; j++) acc[j] += gd[j] * xhat[j];
      meanGy /= n;
      meanGyXhat /= n;
      if (gx) {
        float *o = gx + row * n;
        for (int64_t j = 0; j < n; j++) o[j] = (float)(o[j] + r * (gy[j] - meanGy - xhat[j] * meanGyXhat));
      }
    }
    #pragma omp barrier
    #pragma omp single
    if (dw) for (int64_t p = 1; p < parts; p++) for (int64_t j = 0; j < n; j++) dw[j] += scratch[3 * n * p + 2 * n + j];
  }
}

/*
 * ops/activations.ts backward of GELU-tanh and SiLU: gx = (accumulate ? gx : 0) + g · f'(x), with
 *   GELU-tanh  f' = ½(1 + t) + ½x(1 − t²)·c(1 + 3·0.044715x²), t = tanh(c(x + 0.044715x³)), c = √(2/π)
 *   SiLU       f' = σ(1 + x(1 − σ)), σ = 1/(1 + e^−x) (fastExp)
 */
void lk_act_backward_f32(const float *x, const float *g, float *gx, int64_t count, int kind, int accumulate, int nt) {
  FOR_CHUNKS(count, nt, {
    if (kind == ACT_GELU_TANH) {
      const double c = SQRT_2_OVER_PI, k = 0.044715;
      for (int64_t i = lo; i < hi; i++) {
        double v = x[i];
        double t = tanh(c * (v + k * v * v * v));
        double slope = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * k * v * v);
        gx[i] = (float)(accumulate ? gx[i] + g[i] * slope : g[i] * slope);
      }
    } else if (kind == ACT_SILU) {
      for (int64_t i = lo; i < hi; i++) {
        double v = x[i];
        double s = 1 / (1 + fast_exp(-v));
        double slope = s * (1 + v * (1 - s));
        gx[i] = (float)(accumulate ? gx[i] + g[i] * slope : g[i] * slope);
      }
    }
  })
}

/* ---- blocked causal attention, forward (attention.ts, attention-tiles.ts) ---- */

/*
 * The whole forward of src/tensor/attention.ts in one call: the same tiles (keyTiles), the same score
 * GEMM S = scale·Q Kᵀ (+ ALiBi, −∞ at padded keys), the same online softmax per row (expRowOnline:
 * float64 running max and sum, expBounded, flush below e^−87.3), the same rescale of O and the same
 * P·V GEMM, so results equal the TypeScript loop's. The GEMMs are OpenBLAS's cblas_sgemm (the
 * library the backend loaded, found with dlopen by lk_attention_init) on one BLAS thread each, and
 * the (batch row, head, query block) work items are spread over OpenMP threads: with two threads both
 * cores run attention instead of one.
 */
#include <dlfcn.h>
#include <stdlib.h>

typedef void (*sgemm_fn)(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);
static sgemm_fn attn_sgemm;

/* Finds cblas_sgemm in the first of the ';'-separated libraries that is already loaded; 0 on success. */
int lk_attention_init(const char *candidates) {
  char name[4096];
  const char *p = candidates;
  while (*p) {
    const char *e = strchr(p, ';');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len < sizeof name) {
      memcpy(name, p, len);
      name[len] = 0;
      void *h = dlopen(name, RTLD_LAZY | RTLD_NOLOAD);
      if (h) {
        attn_sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
        if (attn_sgemm) return 0;
      }
    }
    if (!e) break;
    p = e + 1;
  }
  return -1;
}

/*
 * few-row-gemm.ts: C = A·Bᵀ (A m × k, B n × k, row-major) as column slabs of `step` columns, each
 * one call of that cblas_sgemm with α = 1, β = 0 (thin enough for OpenBLAS's small-matrix kernel,
 * which reads B in place), the slabs spread over OpenMP threads; −1 when lk_attention_init found
 * no BLAS.
 */
int lk_sgemm_column_slabs(const float *a, int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
                          int64_t m, int64_t n, int64_t k, int64_t step, int nt) {
  if (!attn_sgemm) return -1;
  int64_t slabs = (n + step - 1) / step;
  #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && slabs > 1)
  for (int64_t s = 0; s < slabs; s++) {
    int64_t c0 = s * step, cols = n - c0 < step ? n - c0 : step;
    attn_sgemm(101, 111, 112, (int)m, (int)cols, (int)k, 1.0f, a, (int)lda, b + c0 * ldb, (int)ldb, 0.0f, c + c0, (int)ldc);
  }
  return 0;
}

typedef struct {
  int64_t B, Tq, Tk, offset, window; /* window <= 0: none */
  int H, group, Dh, causal;
  int64_t ldq, ldkv, ldo; /* row strides of q, k/v and out */
  int64_t ldkb;           /* elements from one sequence's k/v rows to the next's (Tk·ldkv, or more for a KV cache with room) */
  double scale;
  const uint8_t *key_mask;      /* B·Tk, 0 = padding, or NULL */
  const int32_t *masked_before; /* B·(Tk+1) prefix counts of padding, or NULL */
  const double *slopes, *positions; /* ALiBi, or NULL */
  int64_t query_block, tile_area;
} attn_geom;

static inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t first_key(const attn_geom *g, int64_t i) { return g->window > 0 ? imin(g->Tk, imax(0, g->offset + i - g->window + 1)) : 0; }
static inline int64_t end_key(const attn_geom *g, int64_t i) { return g->causal ? imax(0, imin(g->Tk, g->offset + i + 1)) : g->Tk; }

/*
 * scoreTile (attention-tiles.ts), shared by the forward and the training backward: s = scale·Q Kᵀ for
 * query rows [i0, i0 + rows) and keys [j0, j1), each row's visible range [rs, re) (causal limit and
 * window), + ALiBi slope·position on the visible entries, −∞ at padded keys.
 */
static inline void score_tile(const attn_geom *g, int64_t b, int h, int64_t i0, int64_t rows, int64_t j0, int64_t j1,
                              const float *qb, const float *k_tile, const int32_t *mb, float *s, int64_t *rs, int64_t *re) {
  const int64_t cols = j1 - j0;
  attn_sgemm(101, 111, 112, (int)rows, (int)cols, g->Dh, (float)g->scale, qb, (int)g->ldq, k_tile, (int)g->ldkv, 0.0f, s, (int)cols);
  const int whole = first_key(g, i0 + rows - 1) <= j0 && end_key(g, i0) >= j1;
  for (int64_t r = 0; r < rows; r++) {
    rs[r] = whole ? 0 : imin(cols, imax(0, first_key(g, i0 + r) - j0));
    re[r] = whole ? cols : imax(rs[r], imin(cols, end_key(g, i0 + r) - j0));
  }
  if (g->positions) {
    const double slope = g->slopes[h];
    const double *pos = g->positions + b * g->Tk + j0;
    for (int64_t r = 0; r < rows; r++) {
      float *row = s + r * cols;
      for (int64_t j = rs[r]; j < re[r]; j++) row[j] = (float)((double)row[j] + slope * pos[j]);
    }
  }
  if (mb && mb[j1] != mb[j0]) {
    const uint8_t *mask = g->key_mask + b * g->Tk + j0;
    for (int64_t r = 0; r < rows; r++) {
      float *row = s + r * cols;
      for (int64_t j = rs[r]; j < re[r]; j++) if (mask[j] == 0) row[j] = -INFINITY;
    }
  }
}

/*
 * expRowOnline (attention-tiles.ts) on one row of a score tile: entries outside [a, e) set to 0, the
 * visible ones to e^(s − m') with m' = max(*m, row max), *l ← e^(*m − m')·*l + Σ; returns e^(*m − m').
 * Written to vectorise (omp simd): the max is taken in float32 (exact: the entries are float32), and
 * the exponentials (exp_f32_single, as the TypeScript loop computes them for float32 tiles) are summed in
 * float64 vector lanes (another summation order than the TypeScript loop's: the sums differ in the
 * last float64 places, far below float32's resolution).
 */
static inline double attn_exp_row(float *row, int64_t a, int64_t e, int64_t cols, double *m, double *l) {
  for (int64_t j = 0; j < a; j++) row[j] = 0;
  for (int64_t j = e; j < cols; j++) row[j] = 0;
  const double m_old = *m;
  float fmax = -INFINITY;
  #pragma omp simd reduction(max:fmax)
  for (int64_t j = a; j < e; j++) fmax = row[j] > fmax ? row[j] : fmax;
  const double max = (double)fmax > m_old ? (double)fmax : m_old;
  if (max == -INFINITY) {
    for (int64_t j = a; j < e; j++) row[j] = 0;
    return 1;
  }
  double sum = 0;
  const float fm = (float)max; /* a float32 value: the row's or an earlier row max */
  #pragma omp simd reduction(+:sum)
  for (int64_t j = a; j < e; j++) {
    const float d = row[j] - fm;
    const float p = d < -0x1.5d58a0p+6f ? 0 : exp_f32_single(d); /* the float nearest ln 2^-126 */
    row[j] = p;
    sum += p;
  }
  const double c = m_old == max ? 1 : m_old == -INFINITY ? 0 : exp(m_old - max);
  *m = max;
  *l = *l * c + sum;
  return c;
}

/* One (batch row b, head h, query rows [i0, i0 + rows)) work item; s, m, l, corr, rs, re are its scratch. */
static void attn_block(const attn_geom *g, const float *q, const float *k, const float *v, float *out, double *lse,
                       int64_t b, int h, int64_t i0, int64_t rows, float *s, double *m, double *l, double *corr, int64_t *rs, int64_t *re) {
  const int Dh = g->Dh;
  const int64_t kvh = h / g->group;
  const float *qb = q + b * g->Tq * g->ldq + i0 * g->ldq + (int64_t)h * Dh;
  const float *kb = k + b * g->ldkb + kvh * Dh;
  const float *vb = v + b * g->ldkb + kvh * Dh;
  float *ob = out + b * g->Tq * g->ldo + i0 * g->ldo + (int64_t)h * Dh;
  for (int64_t r = 0; r < rows; r++) { m[r] = -INFINITY; l[r] = 0; }
  /* keyTiles: from the causal limit back to the window start, step keyBlock(rows) */
  const int64_t lo = first_key(g, i0);
  const int64_t hi = imax(end_key(g, i0 + rows - 1), lo);
  const int64_t step = imax(1, g->tile_area / rows);
  int first = 1;
  for (int64_t j1 = hi; j1 > lo; j1 -= step) {
    const int64_t j0 = imax(lo, j1 - step), cols = j1 - j0;
    const int32_t *mb = g->masked_before ? g->masked_before + b * (g->Tk + 1) : NULL;
    if (mb && mb[j1] - mb[j0] == cols) continue; /* all padding */
    score_tile(g, b, h, i0, rows, j0, j1, qb, kb + j0 * g->ldkv, mb, s, rs, re);
    /* expRowOnline on every row */
    for (int64_t r = 0; r < rows; r++) corr[r] = attn_exp_row(s + r * cols, rs[r], re[r], cols, m + r, l + r);
    if (!first) {
      for (int64_t r = 0; r < rows; r++) {
        const double c = corr[r];
        if (c == 1) continue;
        float *o = ob + r * g->ldo;
        for (int d = 0; d < Dh; d++) o[d] = (float)(o[d] * c);
      }
    }
    attn_sgemm(101, 111, 111, (int)rows, Dh, (int)cols, 1.0f, s, (int)cols, vb + j0 * g->ldkv, (int)g->ldkv, first ? 0.0f : 1.0f, ob, (int)g->ldo);
    first = 0;
  }
  for (int64_t r = 0; r < rows; r++) {
    const double inv = l[r] > 0 ? 1 / l[r] : 0;
    float *o = ob + r * g->ldo;
    if (first) for (int d = 0; d < Dh; d++) o[d] = 0;
    else if (inv != 1) for (int d = 0; d < Dh; d++) o[d] = (float)(o[d] * inv);
    if (lse) lse[((b * g->H + h) * g->Tq) + i0 + r] = l[r] > 0 ? m[r] + log(l[r]) : -INFINITY;
  }
}

/*
 * attention(q, k, v) without kept probabilities: out [B, Tq, H·Dh] (row stride ldo), q rows of stride
 * ldq, k and v rows of stride ldkv (so q, k, v may be column ranges of one fused QKV buffer), each
 * sequence's k/v rows ldkb elements after the previous one's (Tk·ldkv, or more for a KV cache with room
 * to grow), lse [B, H, Tq] or NULL. Returns 0, or -1 when lk_attention_init found no BLAS (nothing written).
 */
int lk_attention_fwd_f32(const float *q, const float *k, const float *v, float *out, int64_t B, int64_t Tq, int64_t Tk,
                         int H, int Hkv, int Dh, int64_t ldq, int64_t ldkv, int64_t ldkb, int64_t ldo, int64_t offset, int causal, int64_t window,
                         double scale, const uint8_t *key_mask, const int32_t *masked_before, const double *slopes,
                         const double *positions, int64_t query_block, int64_t tile_area, double *lse, int nt) {
  if (!attn_sgemm) return -1;
  attn_geom g = { B, Tq, Tk, offset, window, H, H / Hkv, Dh, causal, ldq, ldkv, ldo, ldkb, scale, key_mask, masked_before,
                  positions ? slopes : NULL, positions, query_block, tile_area };
  const int64_t blocks = (Tq + query_block - 1) / query_block;
  const int64_t items = B * H * blocks;
  const int64_t tile = imax(tile_area, imax(1, tile_area));
  #pragma omp parallel num_threads(nt) if (nt > 1 && items > 1)
  {
    float *s = (float *)malloc(sizeof(float) * tile);
    double *m = (double *)malloc(sizeof(double) * 3 * query_block);
    int64_t *rs = (int64_t *)malloc(sizeof(int64_t) * 2 * query_block);
    /* heaviest items (the last query blocks see the most keys) first */
    #pragma omp for schedule(dynamic, 1)
    for (int64_t it = 0; it < items; it++) {
      const int64_t blk = blocks - 1 - it % blocks, bh = it / blocks;
      const int64_t i0 = blk * query_block;
      attn_block(&g, q, k, v, out, lse, bh / H, (int)(bh % H), i0, imin(query_block, Tq - i0), s, m, m + query_block,
                 m + 2 * query_block, rs, rs + query_block);
    }
    free(s);
    free(m);
    free(rs);
  }
  return 0;
}

/* ---- training: AdamW step and gradient-norm clipping (src/autograd/optim) ---- */

/*
 * adam.ts updateAdam on a float32 parameter, in float64 arithmetic stored back as float32: the
 * trainers' CheckpointableAdamW, so the same expressions in the same order as the TypeScript loop
 * (IEEE float64 +, −, ×, ÷ and √ are exact-rounded per lane, and no multiply-add is fused), and the
 * parameter and its moments equal the TypeScript ones bit for bit.
 *   m ← m + c1·(g − m),  v ← β₂·v + c2·g·g,  θ ← θ·decay − (stepSize·m) / (√v / √bc₂ + ε)
 * with g ← grad + l2·θ; `plain` (l2 = 0 and decay = 1) is the loop without those two terms.
 */
void lk_adam_f32(float *theta, const float *grad, float *m, float *v, int64_t count, double step_size, double bc2_sqrt,
                 double beta2, double c1, double c2, double eps, double l2, double decay, int plain, int nt) {
  FOR_CHUNKS(count, nt, {
    if (plain) {
      for (int64_t i = lo; i < hi; i++) {
        const double g = grad[i];
        const double mi = m[i] + c1 * (g - m[i]);
        const double vi = beta2 * v[i] + c2 * g * g;
        m[i] = (float)mi;
        v[i] = (float)vi;
        theta[i] = (float)(theta[i] - (step_size * mi) / (sqrt(vi) / bc2_sqrt + eps));
      }
    } else {
      for (int64_t i = lo; i < hi; i++) {
        const double t = theta[i] * decay;
        const double g = grad[i] + l2 * theta[i];
        const double mi = m[i] + c1 * (g - m[i]);
        const double vi = beta2 * v[i] + c2 * g * g;
        m[i] = (float)mi;
        v[i] = (float)vi;
        theta[i] = (float)(t - (step_size * mi) / (sqrt(vi) / bc2_sqrt + eps));
      }
    }
  })
}

/*
 * clip.ts: ss + Σ g[i]² in float64, one element after the other (the TypeScript loop's order, so the
 * norm, and the clipping factor made from it, are the same to the last bit; g² of a float32 is exact).
 */
double lk_sumsq_f32(const float *g, int64_t n, double ss) {
  for (int64_t i = 0; i < n; i++) ss += (double)g[i] * g[i];
  return ss;
}

/* clip.ts: g ← g·coef (float64 product rounded to float32). */
void lk_scale_f32(float *g, int64_t count, double coef, int nt) {
  FOR_CHUNKS(count, nt, {
    for (int64_t i = lo; i < hi; i++) g[i] = (float)(g[i] * coef);
  })
}

/* ---- training: blocked attention backward (src/autograd/ops/attention.ts) ---- */

/*
 * The FlashAttention-2 backward of ops/attention.ts in one call, per (batch row, kv head) work item
 * over OpenMP threads: each item owns its K/V gradient slices and its query heads' Q gradient
 * slices, and runs the TypeScript loop's steps in its order (query heads of the group, query blocks,
 * key tiles from the causal limit back), so every gradient is accumulated in the same order with the
 * same OpenBLAS sgemm calls and the results equal the TypeScript ones bit for bit:
 *   D = rowsum(dO ⊙ O) (float64, in order);  S = scale·Q Kᵀ (+ ALiBi, −∞ at padded keys);
 *   dP = dO Vᵀ;  P = e^(S − L), dS = P ⊙ (dP − D) (probabilityRow);
 *   dV += Pᵀ dO,  dQ += scale·dS K,  dK += scale·dSᵀ Q.
 * The geometry, visibility rules and cblas_sgemm (lk_attention_init) are the forward's.
 */
#define FLUSH_BELOW -87.33654475055310898657

/* attention-tiles.ts probabilityRow: p ← e^(s − L) on [a, e), 0 elsewhere; dS ← p ⊙ (dP − D) when dS. */
static inline void bwd_probability_row(float *p, float *ds, int64_t a, int64_t e, int64_t cols, double lse, double D) {
  if (lse == -INFINITY) a = e;
  for (int64_t j = 0; j < a; j++) p[j] = 0;
  for (int64_t j = e; j < cols; j++) p[j] = 0;
  if (ds) {
    for (int64_t j = 0; j < a; j++) ds[j] = 0;
    for (int64_t j = e; j < cols; j++) ds[j] = 0;
    for (int64_t j = a; j < e; j++) {
      const double d = p[j] - lse;
      const double pj = d < FLUSH_BELOW ? 0 : exp_bounded(d > 0 ? 0 : d);
      p[j] = (float)pj;
      ds[j] = (float)(pj * (ds[j] - D));
    }
    return;
  }
  for (int64_t j = a; j < e; j++) {
    const double d = p[j] - lse;
    p[j] = (float)(d < FLUSH_BELOW ? 0 : exp_bounded(d > 0 ? 0 : d));
  }
}

static void bwd_item(const attn_geom *g, const float *q, const float *k, const float *v, const float *o, const float *dO,
                     const double *L, float *dq, float *dk, float *dv, int64_t b, int kvh,
                     float *p, float *ds, double *D, int64_t *rs, int64_t *re) {
  const int Dh = g->Dh;
  const float scale = (float)g->scale;
  const int need_ds = dq != NULL || dk != NULL;
  const int64_t kv_base = b * g->ldkb + (int64_t)kvh * Dh;
  const int32_t *mb = g->masked_before ? g->masked_before + b * (g->Tk + 1) : NULL;
  for (int h = kvh * g->group; h < (kvh + 1) * g->group; h++) {
    for (int64_t i0 = 0; i0 < g->Tq; i0 += g->query_block) {
      const int64_t rows = imin(g->query_block, g->Tq - i0);
      const int64_t q_base = b * g->Tq * g->ldq + i0 * g->ldq + (int64_t)h * Dh;
      const int64_t l_base = ((int64_t)b * g->H + h) * g->Tq + i0;
      for (int64_t r = 0; r < rows; r++) {
        double dot = 0;
        const float *x = dO + q_base + r * g->ldq, *y = o + q_base + r * g->ldq;
        for (int d = 0; d < Dh; d++) dot += (double)x[d] * y[d];
        D[r] = dot;
      }
      /* keyTiles: from the causal limit back to the window start, step keyBlock(rows), all-padding tiles skipped */
      const int64_t lo = first_key(g, i0);
      const int64_t hi = imax(end_key(g, i0 + rows - 1), lo);
      const int64_t step = imax(1, g->tile_area / rows);
      for (int64_t j1 = hi; j1 > lo; j1 -= step) {
        const int64_t j0 = imax(lo, j1 - step), cols = j1 - j0;
        if (mb && mb[j1] - mb[j0] == cols) continue;
        const int64_t kv_tile = kv_base + j0 * g->ldkv;
        score_tile(g, b, h, i0, rows, j0, j1, q + q_base, k + kv_tile, mb, p, rs, re);
        /* dP = dO Vᵀ */
        if (need_ds) attn_sgemm(101, 111, 112, (int)rows, (int)cols, Dh, 1.0f, dO + q_base, (int)g->ldq, v + kv_tile, (int)g->ldkv, 0.0f, ds, (int)cols);
        for (int64_t r = 0; r < rows; r++) bwd_probability_row(p + r * cols, need_ds ? ds + r * cols : NULL, rs[r], re[r], cols, L[l_base + r], D[r]);
        if (dv) attn_sgemm(101, 112, 111, (int)cols, Dh, (int)rows, 1.0f, p, (int)cols, dO + q_base, (int)g->ldq, 1.0f, dv + kv_tile, (int)g->ldkv);
        if (dq) attn_sgemm(101, 111, 111, (int)rows, Dh, (int)cols, scale, ds, (int)cols, k + kv_tile, (int)g->ldkv, 1.0f, dq + q_base, (int)g->ldq);
        if (dk) attn_sgemm(101, 112, 111, (int)cols, Dh, (int)rows, scale, ds, (int)cols, q + q_base, (int)g->ldq, 1.0f, dk + kv_tile, (int)g->ldkv);
      }
    }
  }
}

/*
 * Gradients of attention(q, k, v) = out into dq, dk, dv (each NULL when not needed; accumulated
 * with +=, so zero them first for fresh gradients). q, out, dO are [B, Tq, H·Dh], k, v [B, Tk, Hkv·Dh],
 * L the forward's log-sum-exp [B, H, Tq], key_mask 0 at padding. Returns 0, or -1 when lk_attention_init found no BLAS.
 */
int lk_attention_bwd_f32(const float *q, const float *k, const float *v, const float *o, const float *dO, const double *L,
                         float *dq, float *dk, float *dv, int64_t B, int64_t Tq, int64_t Tk, int H, int Hkv, int Dh,
                         int64_t offset, int causal, int64_t window, double scale, const uint8_t *key_mask,
                         const int32_t *masked_before, const double *slopes, const double *positions,
                         int64_t query_block, int64_t tile_area, int nt) {
  if (!attn_sgemm) return -1;
  attn_geom g = { B, Tq, Tk, offset, window, H, H / Hkv, Dh, causal, (int64_t)H * Dh, (int64_t)Hkv * Dh, (int64_t)H * Dh, Tk * Hkv * Dh, scale,
                  key_mask, masked_before, positions ? slopes : NULL, positions, query_block, tile_area };
  const int64_t items = B * Hkv;
  #pragma omp parallel num_threads(nt) if (nt > 1 && items > 1)
  {
    float *p = (float *)malloc(sizeof(float) * 2 * tile_area);
    double *D = (double *)malloc(sizeof(double) * query_block);
    int64_t *rs = (int64_t *)malloc(sizeof(int64_t) * 2 * query_block);
    #pragma omp for schedule(dynamic, 1)
    for (int64_t it = 0; it < items; it++) bwd_item(&g, q, k, v, o, dO, L, dq, dk, dv, it / Hkv, (int)(it % Hkv), p, p + tile_area, D, rs, rs + query_block);
    free(p);
    free(D);
    free(rs);
  }
  return 0;
}

/*
 * ops/embedding.ts backward: table_grad[ids[i]] += g[i] row by row, in row order (so every element's
 * sum is taken in the TypeScript loop's order); columns split over threads.
 */
void lk_embedding_bwd_f32(float *gt, const float *g, const int32_t *ids, int64_t count, int64_t d, int nt) {
  #pragma omp parallel num_threads(nt) if (nt > 1 && count * d >= PARALLEL_MIN_MEMORY)
  {
    const int64_t parts = omp_parts(), part = omp_part();
    const int64_t lo = d * part / parts, hi = d * (part + 1) / parts;
    for (int64_t i = 0; i < count; i++) {
      float *dst = gt + (int64_t)ids[i] * d;
      const float *src = g + i * d;
      for (int64_t j = lo; j < hi; j++) dst[j] += src[j];
    }
  }
}

/* ---- linearity statistics in float64 (src/analysis: rows.ts, moments.ts, linearity-cholesky.ts) ----
 *
 * The per-element loops of the streamed moments and of the Cholesky scores, each the twin of a
 * TypeScript loop that stays the fallback and the oracle. Long sums (over a row, a chunk or a d × d
 * matrix) use four partial sums: element j of a row (i of a flat array) goes to partial sum j mod 4,
 * rows in order, and the total is (s0 + s1) + (s2 + s3). The TypeScript loops add in exactly that
 * order, and C compiled without -ffast-math never reorders a sum (-ffp-contract=off: no fused
 * multiply-add), so both give the same bits; four independent sums run ~3× faster than one chain.
 * Column sums run over rows in order. Only passes without a running sum are split over threads.
 */

/* rows.ts copyShiftedRows: out[r, j] = src[row(start + r), j] − shift[j] (a plain copy without a
 * shift); src holds src_rows rows of float32 (f64 = 0) or float64, rows NULL = all rows in order.
 * Returns -1, copying nothing, when a selected row is not in src. */
int lk_rows_f64(const void *src, int f64, int64_t src_rows, int64_t dim, const int32_t *rows, int64_t start, int64_t count,
                const double *shift, double *out, int nt) {
  for (int64_t r = 0; r < count; r++) {
    const int64_t row = rows ? (int64_t)rows[start + r] : start + r;
    if (row < 0 || row >= src_rows) return -1;
  }
  #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && count * dim >= PARALLEL_MIN_MEMORY)
  for (int64_t r = 0; r < count; r++) {
    const int64_t row = rows ? (int64_t)rows[start + r] : start + r;
    double *o = out + r * dim;
    if (f64) {
      const double *s = (const double *)src + row * dim;
      if (shift) for (int64_t j = 0; j < dim; j++) o[j] = s[j] - shift[j];
      else for (int64_t j = 0; j < dim; j++) o[j] = s[j];
    } else {
      const float *s = (const float *)src + row * dim;
      if (shift) for (int64_t j = 0; j < dim; j++) o[j] = (double)s[j] - shift[j];
      else for (int64_t j = 0; j < dim; j++) o[j] = (double)s[j];
    }
  }
  return 0;
}

/* rows.ts ShiftedReader's first chunk: mean = column means of the chunk (rows summed in order), then
 * chunk −= mean. */
void lk_centre_columns_f64(double *chunk, int64_t rows, int64_t dim, double *mean) {
  for (int64_t j = 0; j < dim; j++) mean[j] = 0;
  for (int64_t r = 0; r < rows; r++) {
    const double *x = chunk + r * dim;
    for (int64_t j = 0; j < dim; j++) mean[j] += x[j];
  }
  for (int64_t j = 0; j < dim; j++) mean[j] /= (double)rows;
  for (int64_t r = 0; r < rows; r++) {
    double *x = chunk + r * dim;
    for (int64_t j = 0; j < dim; j++) x[j] -= mean[j];
  }
}

/* Four float64 lanes: lane q holds partial sum q. Lane-wise + and × are the scalar IEEE operations,
 * so a vector of partial sums gives the bits of four scalar ones. */
typedef double st_v4d __attribute__((vector_size(32)));
typedef int64_t st_v4i __attribute__((vector_size(32)));
static inline st_v4d st_load(const double *p) { st_v4d v; memcpy(&v, p, sizeof v); return v; }
static inline void st_store(double *p, st_v4d v) { memcpy(p, &v, sizeof v); }
static inline double st_total(st_v4d a) { return (a[0] + a[1]) + (a[2] + a[3]); }
static inline st_v4d st_abs(st_v4d v) { return (st_v4d)((st_v4i)v & (st_v4i){INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX}); }
static const st_v4d st_zero = {0, 0, 0, 0};

/* moments.ts StreamMoments.addShifted's loop over a chunk of shifted rows x̃: sum += x̃ (column by
 * column), and per row ‖x̃‖² and x̃·s (four partial sums each); with `weights`, w_r = 1/‖x‖
 * (‖x‖² = ‖x̃‖² + 2x̃·s + ‖s‖²) or 0 for a zero row. out = [Σ_r ‖x̃_r‖², Σ w, rows with ‖x‖ > 0]. */
void lk_stream_add_f64(const double *chunk, int64_t rows, int64_t d, const double *s, double *sum, double *weights, double *out) {
  double ss = 0;
  for (int64_t j = 0; j < d; j++) ss += s[j] * s[j];
  double squares = 0, weight_sum = 0, unit = 0;
  for (int64_t r = 0; r < rows; r++) {
    const double *x = chunk + r * d;
    st_v4d sq4 = st_zero, dot4 = st_zero;
    int64_t j = 0;
    for (; j + 4 <= d; j += 4) {
      const st_v4d v = st_load(x + j);
      st_store(sum + j, st_load(sum + j) + v);
      sq4 += v * v;
      dot4 += v * st_load(s + j);
    }
    for (; j < d; j++) {
      const double v = x[j];
      sum[j] += v;
      sq4[j & 3] += v * v;
      dot4[j & 3] += v * s[j];
    }
    const double sq = st_total(sq4), dot = st_total(dot4);
    squares += sq;
    if (weights) {
      const double norm2 = sq + 2 * dot + ss;
      if (norm2 > 0) {
        weights[r] = 1 / sqrt(norm2);
        weight_sum += weights[r];
        unit += 1;
      } else {
        weights[r] = 0;
      }
    }
  }
  out[0] = squares;
  out[1] = weight_sum;
  out[2] = unit;
}

/* moments.ts CrossMoments.addDifference's loop: d̃ = ỹ − x̃ into `delta` (when `form`; else `delta`
 * holds d̃ already and ỹ = x̃ + d̃: addShifted), sum_delta += d̃, out = [Σ‖d̃‖², Σ‖ỹ‖²] over the chunk
 * (four partial sums by column, rows in order). */
void lk_cross_add_f64(const double *x, const double *y, double *delta, int form, int64_t rows, int64_t d, double *sum_delta, double *out) {
  st_v4d dd = st_zero, yy = st_zero;
  const int64_t d4 = d & ~(int64_t)3;
  for (int64_t r = 0; r < rows; r++) {
    const double *xr = x + r * d;
    double *dr = delta + r * d;
    if (form) {
      const double *yr = y + r * d;
      for (int64_t j = 0; j < d4; j += 4) {
        const st_v4d yv = st_load(yr + j);
        const st_v4d v = yv - st_load(xr + j);
        st_store(dr + j, v);
        st_store(sum_delta + j, st_load(sum_delta + j) + v);
        dd += v * v;
        yy += yv * yv;
      }
      for (int64_t j = d4; j < d; j++) {
        const double yv = yr[j];
        const double v = yv - xr[j];
        dr[j] = v;
        sum_delta[j] += v;
        dd[j & 3] += v * v;
        yy[j & 3] += yv * yv;
      }
    } else {
      for (int64_t j = 0; j < d4; j += 4) {
        const st_v4d v = st_load(dr + j);
        const st_v4d yv = st_load(xr + j) + v;
        st_store(sum_delta + j, st_load(sum_delta + j) + v);
        dd += v * v;
        yy += yv * yv;
      }
      for (int64_t j = d4; j < d; j++) {
        const double v = dr[j];
        const double yv = xr[j] + v;
        sum_delta[j] += v;
        dd[j & 3] += v * v;
        yy[j & 3] += yv * yv;
      }
    }
  }
  out[0] = st_total(dd);
  out[1] = st_total(yy);
}

/* moments.ts centredProduct: out = raw − (sum_a/n)·sum_bᵀ (dim × dim); with `upper`, raw holds its
 * upper triangle only and is read as the symmetric matrix (symmetrizeUpper first). */
void lk_centred_product_f64(const double *raw, int upper, const double *sum_a, const double *sum_b, double n, int64_t dim, double *out, int nt) {
  if (upper) {
    /* the lower triangle first, as a tiled transpose of the upper one (column reads stay in cache) */
    const int64_t tile = 32;
    for (int64_t i0 = 0; i0 < dim; i0 += tile) {
      const int64_t i1 = i0 + tile < dim ? i0 + tile : dim;
      for (int64_t j0 = 0; j0 <= i0; j0 += tile) {
        for (int64_t i = i0; i < i1; i++) {
          const int64_t j1 = j0 + tile < i ? j0 + tile : i;
          for (int64_t j = j0; j < j1; j++) out[i * dim + j] = raw[j * dim + i];
        }
      }
    }
  }
  #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && dim * dim >= PARALLEL_MIN_MEMORY)
  for (int64_t i = 0; i < dim; i++) {
    const double ai = sum_a[i] / n;
    double *o = out + i * dim;
    const double *r = raw + i * dim;
    if (upper) {
      for (int64_t j = 0; j < i; j++) o[j] = o[j] - ai * sum_b[j];
      for (int64_t j = i; j < dim; j++) o[j] = r[j] - ai * sum_b[j];
    } else {
      for (int64_t j = 0; j < dim; j++) o[j] = r[j] - ai * sum_b[j];
    }
  }
}

/* Σ a_i² in four partial sums (linearity-cholesky.ts frobenius² and sumSquares). */
double lk_sumsq_f64(const double *a, int64_t n) {
  st_v4d s = st_zero;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const st_v4d v = st_load(a + i);
    s += v * v;
  }
  for (; i < n; i++) s[i & 3] += a[i] * a[i];
  return st_total(s);
}

/* linearity-cholesky.ts maxRowSum: max_i Σ_j |a_ij| (four partial sums per row; NaN as soon as one
 * row sum is NaN, as Math.max). */
double lk_max_row_sum_f64(const double *a, int64_t d) {
  double worst = 0;
  for (int64_t i = 0; i < d; i++) {
    const double *row = a + i * d;
    st_v4d s4 = st_zero;
    int64_t j = 0;
    for (; j + 4 <= d; j += 4) s4 += st_abs(st_load(row + j));
    for (; j < d; j++) s4[j & 3] += fabs(row[j]);
    const double s = st_total(s4);
    if (isnan(s) || isnan(worst)) worst = NAN;
    else if (s > worst) worst = s;
  }
  return worst;
}

/* linearity-cholesky.ts choleskyScores' ridge sums (four partial sums by column, rows in order):
 * with kcxy = δ_ij − Λk_ij + a_ij, out = [Σ cxd·a, Σ a², Σ (cxx + cxd)·kcxy, Σ kcxy²]. */
void lk_ridge_sums_f64(const double *cxd, const double *a, const double *k, const double *cxx, int64_t d, double shift, double *out) {
  st_v4d wd = st_zero, ad = st_zero, wy = st_zero, ay = st_zero;
  const st_v4d lambda = {shift, shift, shift, shift};
  for (int64_t i = 0; i < d; i++) {
    const int64_t o = i * d;
    int64_t j = 0;
    for (; j + 4 <= d; j += 4) {
      const st_v4d c = st_load(cxd + o + j), aij = st_load(a + o + j);
      st_v4d eye = st_zero;
      if (i >= j && i < j + 4) eye[i - j] = 1;
      const st_v4d kcxy = eye - lambda * st_load(k + o + j) + aij;
      wd += c * aij;
      ad += aij * aij;
      wy += (st_load(cxx + o + j) + c) * kcxy;
      ay += kcxy * kcxy;
    }
    for (; j < d; j++) {
      const double c = cxd[o + j], aij = a[o + j];
      const double kcxy = (i == j ? 1.0 : 0.0) - shift * k[o + j] + aij;
      wd[j & 3] += c * aij;
      ad[j & 3] += aij * aij;
      wy[j & 3] += (cxx[o + j] + c) * kcxy;
      ay[j & 3] += kcxy * kcxy;
    }
  }
  out[0] = st_total(wd);
  out[1] = st_total(ad);
  out[2] = st_total(wy);
  out[3] = st_total(ay);
}

/* ---- 16-bit weights (src/io/half.ts) and finiteness checks (src/tensor/finite.ts) ---- */

/*
 * half.ts decodeBF16 / decodeF16 into float32 (both exact): `rows` runs of `width` values, run r
 * starting at bits[r·stride], written one after the other to out (a slab of columns of a row-major
 * matrix when stride > width). BF16: the float32 bits are the BF16 bits << 16. F16: sign, exponent
 * rebased from 15 to 127 and mantissa shifted up 13 places; subnormals are m·2⁻²⁴ (exact in float32);
 * exponent 31 gives ±∞, or a NaN whose bits are 0x7fc00000 (the NaN a Float32Array stores for
 * the decode table's NaN).
 */
static inline uint32_t f16_to_f32_bits(uint32_t h) {
  uint32_t sign = (h & 0x8000u) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ffu;
  if (e == 31) return m ? 0x7fc00000u : sign | 0x7f800000u;
  if (e != 0) return sign | ((e + 112) << 23) | (m << 13);
  float v = (float)m * 0x1p-24f;
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  return sign | bits;
}

static inline void decode_half_run(const uint16_t *src, float *out, int64_t n, int f16) {
  uint32_t *dst = (uint32_t *)out;
  if (f16) for (int64_t j = 0; j < n; j++) dst[j] = f16_to_f32_bits(src[j]);
  else for (int64_t j = 0; j < n; j++) dst[j] = (uint32_t)src[j] << 16;
}

/*
 * One thread: decoding is bound by memory (a second thread gained 15 % on 45 M values), and an
 * OpenMP thread woken between two multi-threaded GEMMs competes with OpenBLAS's own threads, which
 * keep spinning after a call (a 64-row BF16 product at 2 threads took 1.8× its float32 time).
 */
void lk_decode_half_f32(const uint16_t *bits, int64_t rows, int64_t width, int64_t stride, int f16, float *out) {
  for (int64_t r = 0; r < rows; r++) decode_half_run(bits + r * stride, out + r * width, width, f16);
}

/*
 * half-weight.ts, one row times a 16-bit W [n, k] stored transposed (a generation step of one
 * sequence): y[j] = Σ_i x[i]·W[j, i], W read once as stored (2 bytes a value; decoding into a
 * float32 slab and running sgemv on it moves 10). Float32 products and sums, each y[j] in 16 lanes
 * (lane l adds the terms i ≡ l mod 16 in order), the lanes added pairwise in a fixed order, so the
 * result does not depend on the thread count; rows of W are spread over OpenMP threads.
 */
#define GEMV_LANES 16
static inline float lanes_total(float *acc) {
  for (int w = GEMV_LANES / 2; w >= 1; w /= 2)
    for (int l = 0; l < w; l++) acc[l] += acc[l + w];
  return acc[0];
}

static inline float bf16_value(uint16_t b) {
  uint32_t u = (uint32_t)b << 16;
  float v;
  memcpy(&v, &u, sizeof v);
  return v;
}

static inline float f16_value(uint16_t h) {
  uint32_t u = f16_to_f32_bits(h);
  float v;
  memcpy(&v, &u, sizeof v);
  return v;
}

#define HALF_GEMV_ROW(VALUE)                                                         \
  {                                                                                  \
    float acc[GEMV_LANES] = {0};                                                     \
    int64_t i = 0;                                                                   \
    for (; i + GEMV_LANES <= k; i += GEMV_LANES)                                     \
      for (int l = 0; l < GEMV_LANES; l++) acc[l] += x[i + l] * VALUE(row[i + l]);   \
    for (int l = 0; i < k; i++, l++) acc[l] += x[i] * VALUE(row[i]);                 \
    y[j] = lanes_total(acc);                                                         \
  }

void lk_half_gemv(const uint16_t *w, int f16, int64_t n, int64_t k, const float *x, float *y, int nt) {
  if (n * k < PARALLEL_MIN) nt = 1;
  #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t j = 0; j < n; j++) {
    const uint16_t *row = w + j * k;
    if (f16) HALF_GEMV_ROW(f16_value)
    else HALF_GEMV_ROW(bf16_value)
  }
}

/*
 * half-weight.ts, products of few rows with a 16-bit W [n, k] stored transposed (a Linear layer in
 * a generation step): C (m × n) = X·Wᵀ in slabs of `step` rows of W, each decoded into the thread's
 * scratch and multiplied by lk_attention_init's cblas_sgemm on one BLAS thread (α = 1, β = 0), the
 * slabs over OpenMP threads: the same decodes and sgemm calls as the TypeScript slab loop, run in
 * parallel. −1 when no BLAS was found or scratch could not be allocated.
 */
int lk_half_product(const uint16_t *w, int f16, int64_t n, int64_t k, const float *x, int64_t ldx, int64_t m,
                    float *c, int64_t ldc, int64_t step, int nt) {
  if (!attn_sgemm) return -1;
  int64_t slabs = (n + step - 1) / step;
  int failed = 0;
  #pragma omp parallel num_threads(nt) if (nt > 1 && slabs > 1) reduction(| : failed)
  {
    float *scratch = malloc((size_t)(step * k) * sizeof(float));
    if (!scratch) failed = 1;
    #pragma omp for schedule(static)
    for (int64_t s = 0; s < slabs; s++) {
      if (!scratch) continue;
      int64_t r0 = s * step, rows = n - r0 < step ? n - r0 : step;
      decode_half_run(w + r0 * k, scratch, rows * k, f16);
      attn_sgemm(101, 111, 112, (int)m, (int)rows, (int)k, 1.0f, x, (int)ldx, scratch, (int)k, 0.0f, c + r0, (int)ldc);
    }
    free(scratch);
  }
  return failed ? -1 : 0;
}

/*
 * Index of the first NaN or ±∞ (exponent bits all ones), or −1: finite.ts firstNonFinite for float32
 * and float64, half-weight.ts hasNonFiniteHalf for BF16/F16 bits (`kind` 0 float32, 1 float64,
 * 2 BF16, 3 F16). Blocks of 4096 are tested with a vectorised any-of first; a hit is then located.
 */
#define FINITE_BLOCK 4096
#define FIRST_NONFINITE(T, MASK)                                                       \
  for (int64_t b = 0; b < n; b += FINITE_BLOCK) {                                      \
    int64_t e = b + FINITE_BLOCK < n ? b + FINITE_BLOCK : n;                           \
    T any = 0;                                                                         \
    for (int64_t i = b; i < e; i++) any |= (T)((v[i] & (MASK)) == (MASK));             \
    if (any)                                                                           \
      for (int64_t i = b; i < e; i++)                                                  \
        if ((v[i] & (MASK)) == (MASK)) return i;                                       \
  }                                                                                    \
  return -1;

int64_t lk_first_nonfinite(const void *values, int64_t n, int kind) {
  if (kind == 0) { const uint32_t *v = values; FIRST_NONFINITE(uint32_t, 0x7f800000u) }
  if (kind == 1) { const uint64_t *v = values; FIRST_NONFINITE(uint64_t, 0x7ff0000000000000ull) }
  const uint16_t *v = values;
  if (kind == 2) { FIRST_NONFINITE(uint16_t, 0x7f80u) }
  FIRST_NONFINITE(uint16_t, 0x7c00u)
}
