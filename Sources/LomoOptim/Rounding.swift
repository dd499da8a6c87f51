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

  /// Loads up to 16 values of 16-bit storage starting at `i` (`n` valid, the rest 0).
  @inlinable @inline(__always)
  static func load<E: HalfStorage>(_ p: UnsafeMutablePointer<E>, _ i: Int, _ n: Int) -> SIMD16<Float> {
    var v = SIMD16<Float>()
    for j in 0..<n { v[j] = p[i + j].widened }
    return v
  }

  /// Stores `n` values into 16-bit storage, rounding to nearest or stochastically with bits
  /// drawn from `rng` (`E.valuesPerDraw` values per 64-bit draw).
  @inlinable @inline(__always)
  static func store<E: HalfStorage>(
    _ v: SIMD16<Float>, _ p: UnsafeMutablePointer<E>, _ i: Int, _ n: Int,
    stochastic: Bool, rng: inout Xoshiro256
  ) {
    if !stochastic {
      for j in 0..<n { p[i + j] = E(nearest: v[j]) }
      return
    }
    let perDraw = E.valuesPerDraw, shift = UInt64(64 / perDraw)
    var j = 0
    while j < n {
      var bits = rng.next()
      for k in j..<min(j + perDraw, n) {
        p[i + k] = E(v[k], randomBits: bits)
        bits >>= shift
      }
      j += perDraw
    }
  }
}

/// A 16-bit storage type that f32 results are rounded into.
public protocol HalfStorage: BitwiseCopyable {
  var widened: Float { get }
  init(nearest value: Float)
  /// Stochastic rounding using the low `64 / valuesPerDraw` bits of `randomBits`.
  init(_ value: Float, randomBits: UInt64)
  static var valuesPerDraw: Int { get }
}

extension BFloat16: HalfStorage {
  @inlinable public var widened: Float { float }
  @inlinable public init(nearest value: Float) { self.init(value) }
  @inlinable public init(_ value: Float, randomBits: UInt64) {
    self.init(value, stochasticBits: UInt16(truncatingIfNeeded: randomBits))
  }
  @inlinable public static var valuesPerDraw: Int { 4 }
}

extension Float16: HalfStorage {
  @inlinable public var widened: Float { Float(self) }
  @inlinable public init(nearest value: Float) { self.init(value) }
  @inlinable public init(_ value: Float, randomBits: UInt64) {
    self.init(value, stochasticUniform24: UInt32(truncatingIfNeeded: randomBits) & 0xFF_FFFF)
  }
  @inlinable public static var valuesPerDraw: Int { 2 }
}

extension RoundingMode {
  /// The mode for storage `dtype`: f32 is always exact (`nearest` is a no-op there).
  static func forStorage(_ dtype: DType, bf16: RoundingMode, f16: RoundingMode) -> RoundingMode {
    switch dtype {
    case .f32: .nearest
    case .bf16: bf16
    case .f16: f16
    }
  }
}
