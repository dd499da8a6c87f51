import CLomoSIMD
import LomoCore

/// Bulk conversions between f32 and the 16-bit storage types.
///
/// - bf16: round to nearest even (`toBF16`), or stochastic rounding (`toBF16Stochastic`) with
///   `E[result] == input` for finite values; NaN stays NaN.
/// - f16: IEEE binary16, round to nearest even; values beyond ±65504 become ±infinity.
public enum Convert {
  /// dst[i] = bf16(src[i]), round to nearest even; NaN stays a quiet NaN.
  public static func toBF16(
    _ dst: UnsafeMutablePointer<BFloat16>, _ src: UnsafePointer<Float>, count: Int
  ) {
    let bits = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: UInt16.self)
    Threads.parallelFor(count, minChunk: 1 << 16) { r in
      lomo_f32_to_bf16_nearest(bits + r.lowerBound, src + r.lowerBound, r.count)
    }
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
