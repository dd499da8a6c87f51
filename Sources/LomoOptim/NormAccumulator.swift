import LomoModel

/// The measuring pass of two-pass gradient clipping and of loss-scale overflow detection: an
/// updater that changes no parameter and only accumulates `GradientNorm` of the unscaled
/// gradients (`gradient / lossScale`, taken before any value clipping, as lomo-optim does).
///
/// After a backward pass, `norm.total` is the global norm and `norm.hasNonFinite` reports an
/// overflow; `clipCoefficient(maxNorm:)` is `min(1, maxNorm / (total + 1e-6))`. Over shards,
/// `norm` is this rank's part: `GradientNorm.summed(over:)` adds the ranks'.
public final class NormAccumulator: ParameterUpdater {
  public private(set) var norm = GradientNorm()
  /// The gradients handed in are of `lossScale · loss`.
  public var lossScale: Float

  public init(lossScale: Float = 1) { self.lossScale = lossScale }

  /// Starts a new measurement.
  public func reset(lossScale: Float? = nil) {
    norm = GradientNorm()
    if let lossScale { self.lossScale = lossScale }
  }

  public func update(_ parameter: ParameterTensor, gradient: UnsafeMutablePointer<Float>) {
    norm.add(tensorSumOfSquares: sumOfSquares(parameter, gradient: gradient))
  }

  /// Adds one tensor's sum of squares (from `sumOfSquares`, over its slices) to `norm`.
  func add(tensorSumOfSquares s: Double) { norm.add(tensorSumOfSquares: s) }

  /// Σ (gradient / lossScale)² over `parameter`'s elements, not yet added to `norm`.
  func sumOfSquares(_ parameter: ParameterTensor, gradient: UnsafePointer<Float>) -> Double {
    UpdateKernel.sumOfSquares(gradient, count: parameter.count, divisor: lossScale)
  }

  public var acceptsRowSlices: Bool { true }

  /// The same sum of squares, slice by slice, added as one tensor's.
  public func update(_ parameter: ParameterTensor, slices gradient: RowSlicedGradient) {
    var total = 0.0
    for (k, rows) in gradient.slices.enumerated() {
      gradient.produce(k)
      total += sumOfSquares(parameter.rows(rows), gradient: gradient.buffer)
    }
    add(tensorSumOfSquares: total)
  }

  public func clipCoefficient(maxNorm: Float) -> Float { norm.clipCoefficient(maxNorm: maxNorm) }

  public var changesParameters: Bool { false }
}
