import LomoCore

/// Reading parameter storage as f32 in blocks of 16, and writing f32 and f16 storage back.
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

  /// Stores `n` values into f16 storage, rounding to nearest or stochastically with bits
  /// drawn from `rng` (two values per 64-bit draw, low 32 bits first, 24 bits each). bf16
  /// storage is written with `Convert.toBF16`/`Convert.toBF16Stochastic` instead.
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

/// A 16-bit storage type that `StorageIO.load` widens to f32.
public protocol HalfStorage: BitwiseCopyable {
  var widened: Float { get }
}

extension BFloat16: HalfStorage {
  @inlinable public var widened: Float { float }
}

extension Float16: HalfStorage {
  @inlinable public var widened: Float { Float(self) }
}
