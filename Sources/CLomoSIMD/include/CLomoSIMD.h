#ifndef CLOMOSIMD_H
#define CLOMOSIMD_H

#include <stddef.h>
#include <stdint.h>

/// bf16 <-> f32 conversion loops, in C so that the compiler vectorises them into a few
/// AVX-512 instructions per 16 values (the equivalent Swift SIMD code left lane conversions
/// to outlined per-lane loops). bf16 values are their uint16_t bit patterns. Single-threaded:
/// callers split the work.

/// dst[i] = f32(src[i]) (exact).
void lomo_bf16_to_f32(float *dst, const uint16_t *src, size_t n);

/// dst[i] = bf16(src[i]), round to nearest even; NaN stays NaN (quietened), overflow -> inf.
void lomo_f32_to_bf16_nearest(uint16_t *dst, const float *src, size_t n);

/// dst[i] = bf16(src[i]) rounded stochastically: the discarded 16 bits are added to
/// random[i] (uniform 16-bit), so the result rounds up with probability (discarded)/2^16;
/// NaN rounds to nearest (quietened).
void lomo_f32_to_bf16_stochastic(uint16_t *dst, const float *src, const uint16_t *random, size_t n);

#endif
