#ifndef CLOMOSIMD_H
#define CLOMOSIMD_H

#include <stddef.h>
#include <stdint.h>

/// bf16 <-> f32 conversion loops, in C so that the compiler vectorises them into a few
/// AVX-512 instructions per 16 values (the equivalent Swift SIMD code left lane conversions
/// to outlined per-lane loops). bf16 values are their uint16_t bit patterns. Single-threaded:
/// callers split the work. The rounding is bit-identical to LomoCore's scalar `BFloat16`
/// initialisers (BFloat16Tests compares them on NaN, infinities, overflow, ties and
/// subnormals); Swift code reaches these loops through LomoCore's `Convert`.

/// dst[i] = f32(src[i]) (exact).
void lomo_bf16_to_f32(float *dst, const uint16_t *src, size_t n);

/// dst[i] = bf16(src[i]), round to nearest even; NaN stays NaN (quietened), overflow -> inf.
void lomo_f32_to_bf16_nearest(uint16_t *dst, const float *src, size_t n);

/// In place: the n f32 values at row become bf16(scale * value) (round to nearest even, NaN
/// quietened) in the first 2n bytes of row. Blocks of 16 are read before they are written,
/// and bf16 element i only overwrites f32 elements < i, which are already read.
void lomo_f32_to_bf16_nearest_scaled_inplace(void *row, float scale, size_t n);

/// dst[i] = bf16(src[i]) rounded stochastically: the discarded 16 bits are added to
/// random[i] (uniform 16-bit), so the result rounds up with probability (discarded)/2^16;
/// NaN rounds to nearest (quietened).
void lomo_f32_to_bf16_stochastic(uint16_t *dst, const float *src, const uint16_t *random, size_t n);

/// Whether LOMO's f32 update of n weights stays within ±limit: every gradient finite, and
/// every fma(neg_lr, clamp(gradient / divisor, ±clip) * coefficient, weight * decay) (clip 0:
/// no clamp) finite with magnitude <= limit (NaN fails). Reads only; 1 if so, else 0.
int lomo_sgd_update_in_range(const float *weight, const float *gradient, size_t n, float decay,
                             float neg_lr, float divisor, float clip, float coefficient, float limit);

#endif
