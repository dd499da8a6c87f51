#include "CLomoSIMD.h"
#include <math.h>
#include <string.h>

static inline uint32_t magnitude_bits(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  return b & 0x7fffffffu;
}

// Magnitudes compared as bit patterns: for non-negative floats the integer order is the
// numeric order, and NaN's patterns lie above infinity's, so one integer maximum per array
// (which the compiler vectorises) tells finiteness and range at once.
int lomo_sgd_update_in_range(const float *weight, const float *gradient, size_t n, float decay,
                             float neg_lr, float divisor, float clip, float coefficient, float limit) {
  const float bound = clip > 0 ? clip : INFINITY;
  uint32_t gradient_max = 0, update_max = 0;
  for (size_t i = 0; i < n; i++) {
    float g = gradient[i];
    uint32_t gb = magnitude_bits(g);
    gradient_max = gb > gradient_max ? gb : gradient_max;
    g = g / divisor;
    g = g < -bound ? -bound : (g > bound ? bound : g);
    g = g * coefficient;
    float u = fmaf(neg_lr, g, weight[i] * decay);
    uint32_t ub = magnitude_bits(u);
    update_max = ub > update_max ? ub : update_max;
  }
  return gradient_max < 0x7f800000u && update_max <= magnitude_bits(limit);
}
