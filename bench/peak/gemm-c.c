/*
 * OpenBLAS's own SGEMM speed, called directly from C: the yardstick for linscope's GEMM through
 * koffi. No -dev headers are needed: the cblas prototype is declared here.
 *
 * Usage: gemm-c M N K transA transB seconds
 *   Runs C = op(A)·op(B) (row-major, float32) once to warm up, then repeatedly until `seconds` have
 *   passed (at least 3 runs), and prints
 *   core=<openblas core> threads=<n> runs=… best_ms=… median_ms=… best_gflops=… median_gflops=… cpu_best_ms=…
 *   (cpu_best_ms: the smallest process CPU time of a run, summed over threads: robust to other
 *   processes taking the CPU, meaningful as a speed for one thread)
 * Build: gcc -O2 gemm-c.c /usr/lib/x86_64-linux-gnu/libopenblas.so.0 -o gemm-c
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { RowMajor = 101, NoTrans = 111, Trans = 112 };
void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);
char *openblas_get_corename(void);
int openblas_get_num_threads(void);

static double clock_seconds(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double now(void) { return clock_seconds(CLOCK_MONOTONIC); }

/* CPU time of the whole process (all OpenBLAS threads, including their spin-waiting). */
static double cpu_now(void) { return clock_seconds(CLOCK_PROCESS_CPUTIME_ID); }

static int by_value(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static float *random_floats(size_t n, unsigned *state) {
  float *x = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
  if (!x) {
    fprintf(stderr, "gemm-c: out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < n; i++) {
    *state = *state * 1664525u + 1013904223u;
    x[i] = (float)(*state >> 8) / 16777216.0f - 0.5f;
  }
  return x;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: gemm-c M N K transA transB seconds\n");
    return 2;
  }
  int m = atoi(argv[1]), n = atoi(argv[2]), k = atoi(argv[3]);
  int ta = atoi(argv[4]), tb = atoi(argv[5]);
  double seconds = atof(argv[6]);
  unsigned state = 12345;
  float *a = random_floats((size_t)m * k, &state);
  float *b = random_floats((size_t)k * n, &state);
  float *c = random_floats((size_t)m * n, &state);
  int lda = ta ? m : k, ldb = tb ? k : n;

  cblas_sgemm(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
  static double times[10000], cpu[10000];
  int runs = 0;
  double start = now();
  while (runs < 10000 && (runs < 3 || now() - start < seconds)) {
    double t0 = now(), c0 = cpu_now();
    cblas_sgemm(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
    cpu[runs] = cpu_now() - c0;
    times[runs++] = now() - t0;
  }
  qsort(times, runs, sizeof(double), by_value);
  qsort(cpu, runs, sizeof(double), by_value);
  double best = times[0], median = times[runs / 2];
  double flops = 2.0 * m * n * k;
  printf("core=%s threads=%d runs=%d best_ms=%.4f median_ms=%.4f best_gflops=%.2f median_gflops=%.2f cpu_best_ms=%.4f checksum=%g\n",
         openblas_get_corename(), openblas_get_num_threads(), runs, best * 1e3, median * 1e3, flops / best / 1e9,
         flops / median / 1e9, cpu[0] * 1e3, (double)c[0] + c[(size_t)m * n - 1]);
  free(a);
  free(b);
  free(c);
  return 0;
}
