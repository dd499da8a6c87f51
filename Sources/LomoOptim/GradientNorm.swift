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

  public static func clipCoefficient(maxNorm: Float, total: Double) -> Float {
    min(1, maxNorm / (Float(total) + 1e-6))
  }
}
