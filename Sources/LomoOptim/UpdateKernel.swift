import CLomoSIMD
import LomoCore
import LomoModel

/// The elementwise SGD-form update shared by LOMO, AdaLomo's final step and the SGD baseline,
/// in f32 whatever the storage dtype:
///
/// ```
/// g  = gradient / divisor                       (divisor = loss scale; 1 skips the division)
/// g  = clamp(g, -clipValue, clipValue)           (clipValue > 0 only)
/// g  = g * clipCoefficient                       (clipCoefficient != 1 only)
/// p  = p * (1 - lr * weightDecay)                (weightDecay > 0 only)
/// p  = p + (-lr) * g                             (one fused multiply-add, as torch's add_(alpha:))
/// ```
///
/// then rounded to the storage dtype (f32 exact; bf16/f16 by `RoundingMode`). The order of
/// operations is lomo-optim's, so f32 results agree with it to float rounding.
public struct SGDRule: Sendable, Equatable {
  public var learningRate: Float
  public var weightDecay: Float = 0
  public var clipValue: Float = 0
  public var clipCoefficient: Float = 1
  public var divisor: Float = 1

  public init(learningRate: Float, weightDecay: Float = 0, clipValue: Float = 0,
              clipCoefficient: Float = 1, divisor: Float = 1) {
    self.learningRate = learningRate
    self.weightDecay = weightDecay
    self.clipValue = clipValue
    self.clipCoefficient = clipCoefficient
    self.divisor = divisor
  }
}

enum UpdateKernel {
  /// Elements per independent block: the unit of parallel work and of random streams, so the
  /// result does not depend on the thread count.
  static let block = 4096

  /// Applies `rule` to `parameter` with `gradient` [parameter.count] (not modified).
  /// Stochastic rounding draws from generators seeded by `seed` and the block index, counted
  /// from `firstBlock` (a slice of a tensor that starts `firstBlock` blocks in draws what the
  /// whole tensor's update would there).
  static func apply(
    _ rule: SGDRule, to parameter: ParameterTensor, gradient: UnsafePointer<Float>,
    rounding: RoundingMode, seed: UInt64, firstBlock: Int = 0
  ) {
    let count = parameter.count
    let lr = rule.learningRate, negLR = -rule.learningRate
    let decay: Float = rule.weightDecay > 0 ? 1 - lr * rule.weightDecay : 1
    let useDecay = rule.weightDecay > 0
    let clip = rule.clipValue, useClip = rule.clipValue > 0
    let coef = rule.clipCoefficient, useCoef = rule.clipCoefficient != 1
    let divisor = rule.divisor, useDivisor = rule.divisor != 1
    let stochastic = rounding == .stochastic
    let g = UnsafeMutablePointer(mutating: gradient)

    @inline(__always) func step(_ p: SIMD16<Float>, _ i: Int, _ n: Int) -> SIMD16<Float> {
      var v = StorageIO.load(g, i, n)
      if useDivisor { v = v / divisor }
      if useClip {
        v = v.clamped(lowerBound: SIMD16(repeating: -clip), upperBound: SIMD16(repeating: clip))
      }
      if useCoef { v = v * coef }
      var q = p
      if useDecay { q = q * decay }
      return q.addingProduct(negLR, v)
    }

    let blocks = (count + block - 1) / block
    switch parameter.storage {
    case .f32(let b):
      let p = b.pointer
      Threads.parallelFor(blocks, minChunk: 4) { r in
        for blk in r {
          var i = blk * block
          let end = min(i + block, count)
          while i < end {
            let n = min(16, end - i)
            StorageIO.store(step(StorageIO.load(p, i, n), i, n), p, i, n)
            i += 16
          }
        }
      }
    case .bf16(let b): applyBF16(b.pointer)
    case .f16(let b): applyF16(b.pointer)
    }

    // Per block: widen to f32, update in SIMD16, round back with `Convert` (the vectorised
    // C loops; the scalar per-element rounding cost 28% of a step). Stochastic rounding draws
    // from the block's generator (draw d for elements 4d..<4d+4), so the result does not
    // depend on the thread count.
    func applyBF16(_ p: UnsafeMutablePointer<BFloat16>) {
      Threads.parallelFor(blocks, minChunk: 4) { r in
        let values = UnsafeMutablePointer<Float>.allocate(capacity: block)
        defer { values.deallocate() }
        for blk in r {
          let lo = blk * block
          let n = min(block, count - lo)
          Convert.toFloat(values, p + lo, count: n)
          var i = 0
          while i < n {
            let m = min(16, n - i)
            StorageIO.store(step(StorageIO.load(values, i, m), lo + i, m), values, i, m)
            i += 16
          }
          if stochastic {
            var rng = blockGenerator(seed: seed, block: firstBlock + blk)
            Convert.toBF16Stochastic(p + lo, values, count: n, rng: &rng)
          } else {
            Convert.toBF16(p + lo, values, count: n)
          }
        }
      }
    }

    func applyF16(_ p: UnsafeMutablePointer<Float16>) {
      Threads.parallelFor(blocks, minChunk: 4) { r in
        for blk in r {
          var rng = blockGenerator(seed: seed, block: firstBlock + blk)
          var i = blk * block
          let end = min(i + block, count)
          while i < end {
            let n = min(16, end - i)
            StorageIO.store(step(StorageIO.load(p, i, n), i, n), p, i, n, stochastic: stochastic,
                            rng: &rng)
            i += 16
          }
        }
      }
    }
  }

  /// Whether `apply(rule, to: parameter, gradient:)` would write only finite values: every
  /// gradient element is finite and every updated value, computed in f32 with `apply`'s exact
  /// arithmetic, has a magnitude within the storage dtype's largest finite value (f32 3.40e38,
  /// bf16 3.39e38 — so neither nearest nor stochastic rounding can reach inf — f16 65504).
  /// Reads the parameter and the gradient once and writes nothing: about the cost of `apply`
  /// without its stores, O(count) against backward's O(count · rows) GEMM work per weight.
  static func staysFinite(_ rule: SGDRule, _ parameter: ParameterTensor,
                          gradient: UnsafePointer<Float>) -> Bool {
    let count = parameter.count
    let negLR = -rule.learningRate
    let decay: Float = rule.weightDecay > 0 ? 1 - rule.learningRate * rule.weightDecay : 1
    let clip = rule.clipValue, coef = rule.clipCoefficient, divisor = rule.divisor
    let limit = parameter.dtype.greatestFiniteStorableValue
    let blocks = (count + block - 1) / block
    let storage = parameter.storage

    // Whether the `n` elements from `lo` pass; `w` holds their weights as f32 (a vectorised
    // C loop: the same check in Swift SIMD compiled to per-lane scalar code).
    func check(_ w: UnsafePointer<Float>, _ lo: Int, _ n: Int) -> Bool {
      lomo_sgd_update_in_range(w, gradient + lo, n, decay, negLR, divisor, clip, coef, limit) != 0
    }

    return withUnsafeTemporaryAllocation(of: Bool.self, capacity: max(blocks, 1)) { flags in
      let ok = flags.baseAddress!
      Threads.parallelFor(blocks, minChunk: 4) { r in
        if case .f32(let b) = storage {
          for blk in r { ok[blk] = check(b.pointer + blk * block, blk * block, min(block, count - blk * block)) }
          return
        }
        // 16-bit weights are widened a block at a time, as `apply` does.
        let values = UnsafeMutablePointer<Float>.allocate(capacity: block)
        defer { values.deallocate() }
        for blk in r {
          let lo = blk * block, n = min(block, count - lo)
          switch storage {
          case .f32: preconditionFailure("f32 storage is checked in place above")
          case .bf16(let b): Convert.toFloat(values, b.pointer + lo, count: n)
          case .f16(let b): Convert.toFloat(values, b.pointer + lo, count: n)
          }
          ok[blk] = check(values, lo, n)
        }
      }
      return (0..<blocks).allSatisfy { ok[$0] }
    }
  }

  @inline(__always) static func blockGenerator(seed: UInt64, block: Int) -> Xoshiro256 {
    Xoshiro256(seed: seed ^ (UInt64(block) &* 0x9E37_79B9_7F4A_7C15))
  }

  /// Σ (x[i] / divisor)² over `count` elements: f32 SIMD partial sums per `block` elements,
  /// added in block order in Double, so the result is independent of the thread count.
  /// Inf or NaN anywhere makes the result non-finite.
  static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int, divisor: Float = 1) -> Double {
    if count <= block { return Double(blockSumOfSquares(x, 0, count, divisor)) }
    let blocks = (count + block - 1) / block
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: blocks) { partial in
      let out = partial.baseAddress!
      Threads.parallelFor(blocks, minChunk: 4) { r in
        for blk in r {
          let lo = blk * block
          out[blk] = Double(blockSumOfSquares(x, lo, min(lo + block, count) - lo, divisor))
        }
      }
      var s = 0.0
      for blk in 0..<blocks { s += out[blk] }
      return s
    }
  }

  @inline(__always)
  static func blockSumOfSquares(_ x: UnsafePointer<Float>, _ lo: Int, _ n: Int, _ divisor: Float)
    -> Float
  {
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    let p = UnsafeMutablePointer(mutating: x)
    var i = lo
    let end = lo + n
    while i + 32 <= end {
      var a = StorageIO.load(p, i, 16), b = StorageIO.load(p, i + 16, 16)
      if divisor != 1 {
        a = a / divisor
        b = b / divisor
      }
      acc0.addProduct(a, a)
      acc1.addProduct(b, b)
      i += 32
    }
    while i < end {
      let m = min(16, end - i)
      var a = StorageIO.load(p, i, m)
      if divisor != 1 { a = a / divisor }
      acc0.addProduct(a, a)
      i += 16
    }
    return (acc0 + acc1).sum()
  }

  /// Σ p[i]² of a parameter in its storage dtype widened to f32, blocked as above.
  static func sumOfSquares(_ parameter: ParameterTensor) -> Double {
    let count = parameter.count
    let blocks = (count + block - 1) / block
    func blockSum(_ lo: Int, _ hi: Int) -> Float {
      var acc = SIMD16<Float>()
      var i = lo
      while i < hi {
        let n = min(16, hi - i)
        let v: SIMD16<Float>
        switch parameter.storage {
        case .f32(let b): v = StorageIO.load(b.pointer, i, n)
        case .bf16(let b): v = StorageIO.load(b.pointer, i, n)
        case .f16(let b): v = StorageIO.load(b.pointer, i, n)
        }
        acc.addProduct(v, v)
        i += 16
      }
      return acc.sum()
    }
    if case .f32(let b) = parameter.storage { return sumOfSquares(b.pointer, count: count) }
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: max(blocks, 1)) { partial in
      let out = partial.baseAddress!
      Threads.parallelFor(blocks, minChunk: 4) { r in
        for blk in r { out[blk] = Double(blockSum(blk * block, min(blk * block + block, count))) }
      }
      var s = 0.0
      for blk in 0..<blocks { s += out[blk] }
      return s
    }
  }
}
