import LomoCore

/// How an f32 result is written back into 16-bit storage (f32 storage is always exact).
///
/// - `nearest`: round to nearest, ties to even.
/// - `stochastic`: round to one of the two neighbouring representable values with probability
///   proportional to closeness, so `E[stored] == value` for finite values within range: updates
///   smaller than half an ulp still move the parameter in expectation.
public enum RoundingMode: String, Sendable, Codable, CaseIterable {
  case nearest, stochastic
}

public extension Float16 {
  /// Stochastic rounding of `value` to binary16 driven by `uniform24` (uniform in 0..<2^24):
  /// rounds up (towards +∞) with probability `(value - lower) / (upper - lower)` where lower and
  /// upper are the neighbouring f16 values. Values beyond the finite range and NaN round to
  /// nearest (±∞ and NaN).
  @inlinable init(_ value: Float, stochasticUniform24 uniform24: UInt32) {
    let nearest = Float16(value)
    let n = Float(nearest)
    guard n != value, nearest.isFinite else {
      self = nearest
      return
    }
    let lower = n < value ? nearest : nearest.nextDown
    let upper = n < value ? nearest.nextUp : nearest
    guard upper.isFinite, lower.isFinite else {
      self = nearest
      return
    }
    let lo = Float(lower), hi = Float(upper)
    // Exact in f32: both are f16 values and value lies between them.
    let fraction = (value - lo) / (hi - lo)
    self = Float(uniform24) * 0x1p-24 < fraction ? upper : lower
  }
}

/// Reading parameter storage as f32 in blocks of 16 and writing f32 back with a rounding mode.
@usableFromInline enum StorageIO {
  typealias Vec = SIMD16<Float>

  /// Loads up to 16 values starting at `i` (`n` valid, the rest 0).
  @inlinable @inline(__always)
  static func load(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) -> SIMD16<Float> {
    if n == 16 { return UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self) }
    var v = SIMD16<Float>()
    for j in 0..<n { v[j] = p[i + j] }
    return v
  }

  @inlinable @inline(__always)
  static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) {
    if n == 16 {
      UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD16<Float>.self)
      return
    }
    for j in 0..<n { p[i + j] = v[j] }
  }

  @inlinable @inline(__always)
  static func load(_ p: UnsafeMutablePointer<BFloat16>, _ i: Int, _ n: Int) -> SIMD16<Float> {
    var v = SIMD16<Float>()
    for j in 0..<n { v[j] = p[i + j].float }
    return v
  }

  @inlinable @inline(__always)
  static func load(_ p: UnsafeMutablePointer<Float16>, _ i: Int, _ n: Int) -> SIMD16<Float> {
    var v = SIMD16<Float>()
    for j in 0..<n { v[j] = Float(p[i + j]) }
    return v
  }

  @inlinable @inline(__always)
  static func store(
    _ v: SIMD16<Float>, _ p: UnsafeMutablePointer<BFloat16>, _ i: Int, _ n: Int,
    stochastic: Bool, rng: inout Xoshiro256
  ) {
    if !stochastic {
      for j in 0..<n { p[i + j] = BFloat16(v[j]) }
      return
    }
    var j = 0
    while j < n {
      var bits = rng.next()
      for k in j..<min(j + 4, n) {
        p[i + k] = BFloat16(v[k], stochasticBits: UInt16(truncatingIfNeeded: bits))
        bits >>= 16
      }
      j += 4
    }
  }

  @inlinable @inline(__always)
  static func store(
    _ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float16>, _ i: Int, _ n: Int,
    stochastic: Bool, rng: inout Xoshiro256
  ) {
    if !stochastic {
      for j in 0..<n { p[i + j] = Float16(v[j]) }
      return
    }
    var j = 0
    while j < n {
      var bits = rng.next()
      for k in j..<min(j + 2, n) {
        p[i + k] = Float16(v[k], stochasticUniform24: UInt32(truncatingIfNeeded: bits) & 0xFF_FFFF)
        bits >>= 32
      }
      j += 2
    }
  }
}
