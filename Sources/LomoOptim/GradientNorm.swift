import LomoDistributed

/// The global L2 norm of one step's gradients, accumulated tensor by tensor.
///
/// Each tensor contributes Σ g² of its unscaled gradient (`UpdateKernel.sumOfSquares`: f32
/// SIMD partial sums per 4096 elements, summed in Double). `total = sqrt(Σ tensors)`. A
/// non-finite gradient (inf/NaN, e.g. an f16 loss-scale overflow) sets `hasNonFinite`.
public struct GradientNorm: Sendable, Equatable, Codable {
  public var sumOfSquares: Double = 0
  public var tensorCount = 0
  public var hasNonFinite = false

  public init() {}

  /// √(Σ g²) over every tensor added so far.
  public var total: Double { sumOfSquares.squareRoot() }

  public mutating func add(tensorSumOfSquares s: Double) {
    sumOfSquares += s
    tensorCount += 1
    if !s.isFinite { hasNonFinite = true }
  }

  /// lomo-optim's clip coefficient, computed in f32 as torch does:
  /// `min(1, maxNorm / (total + 1e-6))`.
  public func clipCoefficient(maxNorm: Float) -> Float {
    GradientNorm.clipCoefficient(maxNorm: maxNorm, total: total)
  }

  /// The norm over every rank's shards: the ranks' sums of squares added (f64), non-finite
  /// when any rank's is. Itself in a world of one.
  public func summed(over communicator: Communicator) -> GradientNorm {
    guard communicator.isDistributed else { return self }
    var values = [sumOfSquares, hasNonFinite ? 1 : 0]
    communicator.allReduce(&values, count: 2)
    var total = self
    total.sumOfSquares = values[0]
    total.hasNonFinite = values[1] > 0 || !values[0].isFinite
    return total
  }

  public static func clipCoefficient(maxNorm: Float, total: Double) -> Float {
    min(1, maxNorm / (Float(total) + 1e-6))
  }
}
