/// SIMD building blocks for the elementwise kernels: reductions with explicit vector
/// accumulators (a scalar `for` loop never vectorises under strict FP ordering) and a
/// vectorised exp.
public enum VectorMath {
  public typealias Vec = SIMD16<Float>
  public static let width = Vec.scalarCount

  /// Σ a[i]·b[i] over n elements.
  @inlinable public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int)
    -> Float
  {
    var acc0 = Vec(), acc1 = Vec()
    var i = 0
    while i + 2 * width <= n {
      acc0.addProduct(load(a + i), load(b + i))
      acc1.addProduct(load(a + i + width), load(b + i + width))
      i += 2 * width
    }
    if i + width <= n {
      acc0.addProduct(load(a + i), load(b + i))
      i += width
    }
    var s = (acc0 + acc1).sum()
    while i < n {
      s += a[i] * b[i]
      i += 1
    }
    return s
  }

  /// Σ a[i]² over n elements.
  @inlinable public static func sumOfSquares(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
    dot(a, a, n)
  }

  @inlinable public static func load(_ p: UnsafePointer<Float>) -> Vec {
    UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
  }

  @inlinable public static func store(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
  }

  /// e^x elementwise, within 2 ulp of the correctly rounded result for x in [-87.3, 88.7]
  /// (Cody–Waite range reduction, degree-6 polynomial on [-ln2/2, ln2/2]). Inputs below the
  /// range give 0 or a tiny normal number, above it +infinity's neighbourhood is clamped to
  /// e^88.7; NaN inputs are not supported.
  @inlinable public static func exp(_ x: Vec) -> Vec {
    let clamped = x.clamped(lowerBound: Vec(repeating: -87.3), upperBound: Vec(repeating: 88.7))
    let n = (clamped * 1.442_695_040_888_963_4).rounded(.toNearestOrEven)
    var r = clamped - n * 0.693_359_375
    r = r + n * 2.121_944_400_546_905_8e-4
    var p = Vec(repeating: 1.987_569_150_0e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let y = p * r * r + r + 1
    // 2^n as 2^(n/2) · 2^(n - n/2): both factors stay normal for n in [-126, 128].
    let whole = SIMD16<Int32>(n, rounding: .towardZero)
    let low = whole &>> 1
    let high = whole &- low
    let lowScale = unsafeBitCast((low &+ 127) &<< 23, to: Vec.self)
    let highScale = unsafeBitCast((high &+ 127) &<< 23, to: Vec.self)
    return y * lowScale * highScale
  }

  /// e^x for one value through the same polynomial as the vector form.
  @inlinable public static func exp(_ x: Float) -> Float { exp(Vec(repeating: x))[0] }
}
