#include "CLomoSIMD.h"

#include <string.h>

static inline uint32_t bits_of(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

static inline int is_nan_bits(uint32_t b) { return (b & 0x7FFFFFFFu) > 0x7F800000u; }

void lomo_bf16_to_f32(float *restrict dst, const uint16_t *restrict src, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t b = (uint32_t)src[i] << 16;
    memcpy(dst + i, &b, sizeof b);
  }
}

static inline uint16_t nearest(float x) {
  uint32_t b = bits_of(x);
  uint32_t rounded = (b + 0x7FFFu + ((b >> 16) & 1u)) >> 16;
  uint32_t quiet = (b >> 16) | 0x40u;
  return (uint16_t)(is_nan_bits(b) ? quiet : rounded);
}

void lomo_f32_to_bf16_nearest(uint16_t *restrict dst, const float *restrict src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = nearest(src[i]);
}

void lomo_f32_to_bf16_nearest_scaled_inplace(void *row, float scale, size_t n) {
  unsigned char *bytes = row;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    float in[16];
    uint16_t out[16];
    memcpy(in, bytes + 4 * i, sizeof in);
    for (int l = 0; l < 16; l++) out[l] = nearest(in[l] * scale);
    memcpy(bytes + 2 * i, out, sizeof out);
  }
  for (; i < n; i++) {  // element i overwrites bytes [2i, 2i+2), read before (i <= 1) or long ago
    float x;
    memcpy(&x, bytes + 4 * i, sizeof x);
    uint16_t out = nearest(x * scale);
    memcpy(bytes + 2 * i, &out, sizeof out);
  }
}

void lomo_f32_to_bf16_stochastic(uint16_t *restrict dst, const float *restrict src,
                                 const uint16_t *restrict random, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t b = bits_of(src[i]);
    uint32_t up = b + (uint32_t)random[i];
    // Only NaN bit patterns can carry out of 32 bits; they round to nearest instead.
    uint32_t quiet = (b >> 16) | 0x40u;
    dst[i] = (uint16_t)(is_nan_bits(b) ? quiet : (up >> 16));
  }
}
