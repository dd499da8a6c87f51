import CLomoSIMD

/// Bulk conversions between f32 and the 16-bit storage types: the one vectorised path for
/// arrays, bit-identical to the scalar `BFloat16` initialisers and `Float16(_:)`.
///
/// - bf16: round to nearest even (`toBF16`, `toBF16InPlace`), or stochastic rounding
///   (`toBF16Stochastic`) with `E[result] == input` for finite values; NaN stays a quiet NaN.
///   These run CLomoSIMD's C loops, which the compiler vectorises (16 values per AVX-512
///   instruction); the bytes are the host's (little-endian) order.
/// - f16: IEEE binary16, round to nearest even; values beyond ±65504 become ±infinity.
///
/// The parallel ones split the work over `Threads` above 128 Ki elements and run inline below,
/// so they may be called from inside a parallel region.
public enum Convert {
  /// dst[i] = BFloat16(src[i]): round to nearest even; NaN stays a quiet NaN.
  public static func toBF16(
    _ dst: UnsafeMutablePointer<BFloat16>, _ src: UnsafePointer<Float>, count: Int
  ) {
    let bits = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: UInt16.self)
    Threads.parallelFor(count, minChunk: 1 << 16) { r in
      lomo_f32_to_bf16_nearest(bits + r.lowerBound, src + r.lowerBound, r.count)
    }
  }

  /// In place: the `count` f32 values at `row` become `BFloat16(scale * value)` (round to
  /// nearest even) in the first `2 * count` bytes of the same memory; the rest of the bytes
  /// are left as they were. Single-threaded (one row of a parallel loop).
  public static func toBF16InPlace(_ row: UnsafeMutableRawPointer, count: Int, scale: Float) {
    lomo_f32_to_bf16_nearest_scaled_inplace(row, scale, count)
  }

  /// dst[i] = BFloat16(src[i], stochasticBits: ...) with the bits drawn from `rng`: one 64-bit
  /// draw per four elements, its 16-bit fields low first (draw d for elements 4d..<4d+4).
  /// Single-threaded, so a seeded generator gives reproducible results.
  public static func toBF16Stochastic(
    _ dst: UnsafeMutablePointer<BFloat16>, _ src: UnsafePointer<Float>, count: Int,
    rng: inout Xoshiro256
  ) {
    let bits = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: UInt16.self)
    let chunk = 1024  // elements per batch of draws; a multiple of 4
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: chunk / 4) { draws in
      let random = UnsafeRawPointer(draws.baseAddress!).assumingMemoryBound(to: UInt16.self)
      var i = 0
      while i < count {
        let n = min(chunk, count - i)
        for d in 0..<(n + 3) / 4 { draws[d] = rng.next() }
        lomo_f32_to_bf16_stochastic(bits + i, src + i, random, n)
        i += n
      }
    }
  }

  /// dst[i] = Float(src[i]) (exact).
  public static func toFloat(
    _ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<BFloat16>, count: Int
  ) {
    let bits = UnsafeRawPointer(src).assumingMemoryBound(to: UInt16.self)
    Threads.parallelFor(count, minChunk: 1 << 16) { r in
      lomo_bf16_to_f32(dst + r.lowerBound, bits + r.lowerBound, r.count)
    }
  }

  /// dst[i] = Float16(src[i]), round to nearest even.
  public static func toF16(
    _ dst: UnsafeMutablePointer<Float16>, _ src: UnsafePointer<Float>, count: Int
  ) {
    Threads.parallelFor(count, minChunk: 1 << 16) { r in
      for i in r { dst[i] = Float16(src[i]) }
    }
  }

  /// dst[i] = Float(src[i]) (exact).
  public static func toFloat(
    _ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float16>, count: Int
  ) {
    Threads.parallelFor(count, minChunk: 1 << 16) { r in
      for i in r { dst[i] = Float(src[i]) }
    }
  }
}
