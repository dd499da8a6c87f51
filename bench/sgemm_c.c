/* Times dnnl_sgemm in C at the GEMM shapes of SmolLM2-135M training, for comparison with
 * `lomo bench-kernels` (see bench/README.md).
 *
 * Same method as the Swift side: row-major, 64-byte aligned buffers first touched by the main
 * thread, the same transposes, leading dimensions and beta as lomo's MatMul, one warm-up call,
 * then the median of REPEATS timed calls. GFLOP/s = 2*M*N*K / median.
 *
 *   gcc -O2 bench/sgemm_c.c -ldnnl -o /tmp/sgemm_c && /tmp/sgemm_c [REPEATS, default 7]
 *
 * Threads: OpenMP's default (all cores); set OMP_NUM_THREADS to change it. */
#include <oneapi/dnnl/dnnl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ROWS = 2048 }; /* N = B*T */

struct layer { const char *name; int in, out; };

/* The linear layers of SmolLM2-135M (C=576, 9 heads, 3 KV heads, F=1536, V=49152). */
static const struct layer layers[] = {
    {"q/o proj", 576, 576},   {"k/v proj", 576, 192}, {"gate/up", 576, 1536},
    {"down", 1536, 576},      {"lm head", 576, 49152},
};

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *alloc_random(size_t count, uint64_t *seed) {
  float *p = aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64);
  if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
  for (size_t i = 0; i < count; i++) {
    *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    p[i] = (float)((*seed >> 40) * (2.0 / 16777216.0) - 1.0); /* uniform in [-1, 1) */
  }
  return p;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median seconds of one dnnl_sgemm call over `repeats` timed calls after one warm-up. */
static double time_sgemm(char ta, char tb, int m, int n, int k, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc, int repeats) {
  double times[repeats];
  for (int r = -1; r < repeats; r++) {
    double t0 = now_seconds();
    dnnl_status_t s = dnnl_sgemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
    double t = now_seconds() - t0;
    if (s != dnnl_success) { fprintf(stderr, "dnnl_sgemm failed: %d\n", (int)s); exit(1); }
    if (r >= 0) times[r] = t;
  }
  qsort(times, repeats, sizeof(double), compare_doubles);
  return repeats % 2 ? times[repeats / 2] : 0.5 * (times[repeats / 2 - 1] + times[repeats / 2]);
}

static void report(const char *layer, const char *layout, int m, int n, int k, double t) {
  printf("%-9s %-9s %6d %6d %6d %9.3f %9.1f\n", layer, layout, m, n, k, t * 1e3,
         2.0 * m * n * k / t * 1e-9);
  fflush(stdout);
}

int main(int argc, char **argv) {
  int repeats = argc > 1 ? atoi(argv[1]) : 7;
  if (repeats < 1) { fprintf(stderr, "usage: %s [REPEATS >= 1]\n", argv[0]); return 2; }
  printf("dnnl_sgemm from C, rows N = %d, median of %d after 1 warm-up\n", ROWS, repeats);
  printf("%-9s %-9s %6s %6s %6s %9s %9s\n", "layer", "layout", "M", "N", "K", "ms",
         "GFLOP/s");
  uint64_t seed = 42;
  for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
    const struct layer L = layers[i];
    float *x = alloc_random((size_t)ROWS * L.in, &seed);   /* [N, I] */
    float *w = alloc_random((size_t)L.out * L.in, &seed);  /* [O, I] */
    float *y = alloc_random((size_t)ROWS * L.out, &seed);  /* [N, O] */
    float *dy = alloc_random((size_t)ROWS * L.out, &seed); /* [N, O] */
    float *dx = alloc_random((size_t)ROWS * L.in, &seed);  /* [N, I] */
    float *dw = alloc_random((size_t)L.out * L.in, &seed); /* [O, I] */
    /* forward: y = x . W^T (overwrite) */
    report(L.name, "forward", ROWS, L.out, L.in,
           time_sgemm('N', 'T', ROWS, L.out, L.in, x, L.in, w, L.in, 0, y, L.out, repeats));
    /* backward input: dx += dy . W (accumulate) */
    report(L.name, "dInp", ROWS, L.in, L.out,
           time_sgemm('N', 'N', ROWS, L.in, L.out, dy, L.out, w, L.in, 1, dx, L.in, repeats));
    /* backward weight: dW = dy^T . x (overwrite) */
    report(L.name, "dW", L.out, L.in, ROWS,
           time_sgemm('T', 'N', L.out, L.in, ROWS, dy, L.out, x, L.in, 0, dw, L.in, repeats));
    free(x); free(w); free(y); free(dy); free(dx); free(dw);
  }
  return 0;
}
