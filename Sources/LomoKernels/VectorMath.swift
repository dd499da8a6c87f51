import LomoCore
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

  /// e^x per lane, about 1 ulp (Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, degree-6
  /// polynomial). Inputs are clamped to [−87.3, 88.3]: below, the result is ≤ 1.2e-38 instead
  /// of 0; above, e^88.3. NaN is not supported. No float→int conversion (which compiles to a
  /// per-lane loop): the exponent comes from the bits of x·log2(e) + 1.5·2²³.
  @inlinable public static func exp(_ x: Vec) -> Vec {
    let lo = Vec(repeating: -87.3), hi = Vec(repeating: 88.3)
    let x = x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
    let magic = Vec(repeating: 12_582_912)  // 1.5·2²³: adding it rounds to an integer
    let t = magic.addingProduct(x, Vec(repeating: 1.442_695_04))
    let n = t - magic  // round(x·log2 e)
    var r = x.addingProduct(n, Vec(repeating: -0.693_359_375))
    r = r.addingProduct(n, Vec(repeating: 2.121_944_4e-4))
    var p = Vec(repeating: 1.987_569_15e-4)
    p = Vec(repeating: 1.398_199_950_7e-3).addingProduct(p, r)
    p = Vec(repeating: 8.333_451_907_3e-3).addingProduct(p, r)
    p = Vec(repeating: 4.166_579_589_4e-2).addingProduct(p, r)
    p = Vec(repeating: 1.666_666_545_9e-1).addingProduct(p, r)
    p = Vec(repeating: 5.000_000_120_1e-1).addingProduct(p, r)
    let y = (r + 1).addingProduct(p, r * r)
    // 2ⁿ: the low bits of t hold n (two's complement); (n + 127) << 23 is the float.
    let bits = (unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return y * unsafeBitCast(bits, to: Vec.self)
  }

  /// Lane-wise maximum as compare + blend (`pointwiseMax` compiles to a scalar loop).
  @inlinable public static func maximum(_ a: Vec, _ b: Vec) -> Vec {
    a.replacing(with: b, where: b .> a)
  }

  /// e^x for one value through the same polynomial as the vector form.
  @inlinable public static func exp(_ x: Float) -> Float { exp(Vec(repeating: x))[0] }

  /// Runs `vector` on `width`-wide blocks of 0..<count and `scalar` on the tail, the blocks
  /// split across threads (elementwise kernels: SwiGLU, GeGLU).
  @inline(__always)
  static func elementwise(_ count: Int, vector: (Int) -> Void, scalar: (Int) -> Void) {
    Threads.parallelFor(count / width, minChunk: 1024) { blocks in
      for b in blocks { vector(b * width) }
    }
    for i in (count / width) * width..<count { scalar(i) }
  }
}
