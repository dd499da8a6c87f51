import LomoCore

/// Bulk conversions between f32 and the 16-bit storage types.
///
/// - bf16: round to nearest even (`toBF16`), or stochastic rounding (`toBF16Stochastic`) with
///   `E[result] == input` for finite values; NaN stays NaN.
/// - f16: IEEE binary16, round to nearest even; values beyond ±65504 become ±infinity.
public enum Convert {
  /// dst[i] = bf16(src[i]), round to nearest even.
  public static func toBF16(
    _ dst: UnsafeMutablePointer<BFloat16>, _ src: UnsafePointer<Float>, count: Int
  ) {
    Threads.parallelFor(count, minChunk: 1 << 16) { r in
      var i = r.lowerBound
      while i + 16 <= r.upperBound {
        let rounded = roundToBF16(UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<UInt32>.self))
        UnsafeMutableRawPointer(dst + i).storeBytes(of: rounded, as: SIMD16<UInt16>.self)
        i += 16
      }
      while i < r.upperBound {
        dst[i] = BFloat16(src[i])
        i += 1
      }
    }
  }

  /// `BFloat16.init(_:)` on 16 lanes of f32 bit patterns: round to nearest even, NaN stays a
  /// quiet NaN. Written with integer SIMD so that it vectorises (the scalar NaN branch does not).
  @inline(__always)
  static func roundToBF16(_ bits: SIMD16<UInt32>) -> SIMD16<UInt16> {
    let rounded = (bits &+ 0x7FFF &+ ((bits &>> 16) & 1)) &>> 16
    let quietNaN = (bits &>> 16) | 0x40
    // All ones where the magnitude bits exceed infinity's (NaN), else zero: the sign of
    // (infinity − magnitude) spread by an arithmetic shift. A lane comparison (`.>`) plus
    // `replacing(with:where:)` compiled to a scalar loop over the lanes, 10x slower.
    let magnitude = SIMD16<Int32>(truncatingIfNeeded: bits & 0x7FFF_FFFF)
    let nanMask = SIMD16<UInt32>(truncatingIfNeeded: (0x7F80_0000 &- magnitude) &>> 31)
    return SIMD16<UInt16>(truncatingIfNeeded: (rounded & ~nanMask) | (quietNaN & nanMask))
  }

  /// dst[i] = bf16(src[i]) with stochastic rounding driven by `rng` (one 64-bit draw per four
  /// elements). Single-threaded, so a seeded generator gives reproducible results.
  public static func toBF16Stochastic(
    _ dst: UnsafeMutablePointer<BFloat16>, _ src: UnsafePointer<Float>, count: Int,
    rng: inout Xoshiro256
  ) {
    var i = 0
    while i < count {
      var bits = rng.next()
      for j in i..<min(i + 4, count) {
        dst[j] = BFloat16(src[j], stochasticBits: UInt16(truncatingIfNeeded: bits))
        bits >>= 16
      }
      i += 4
    }
  }

  /// dst[i] = Float(src[i]) (exact).
  public static func toFloat(
    _ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<BFloat16>, count: Int
  ) {
    Threads.parallelFor(count, minChunk: 1 << 16) { r in
      for i in r { dst[i] = src[i].float }
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
