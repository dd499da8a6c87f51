/// Dynamic loss scaling for f16 weights (lomo-optim's DynamicLossScaler with growth enabled).
///
/// The loss is multiplied by `scale` before backward; updates divide it out. On overflow (an
/// inf/NaN gradient found in the measuring pass) the step is skipped — no parameter has been
/// touched yet — and the scale becomes `max(scale / factor, minScale)`. After `window`
/// consecutive clean steps the scale is multiplied by `factor` (the paper's rule; the
/// reference code has the growth commented out). Defaults: 2^16 (the repo trainer), factor 2,
/// window 1000, minimum 1.
public struct DynamicLossScaler: Sendable, Equatable, Codable {
  public var scale: Float
  public var factor: Float
  public var window: Int
  public var minScale: Float
  /// Clean steps since the last overflow or growth.
  public private(set) var cleanSteps = 0
  public private(set) var overflows = 0

  public init(initialScale: Float = 65536, factor: Float = 2, window: Int = 1000,
              minScale: Float = 1) {
    precondition(factor > 1 && window >= 1 && minScale > 0 && initialScale >= minScale,
                 "invalid loss scaler settings")
    scale = initialScale
    self.factor = factor
    self.window = window
    self.minScale = minScale
  }

  /// Records one step's outcome and adjusts the scale.
  public mutating func update(overflow: Bool) {
    if overflow {
      scale = max(scale / factor, minScale)
      cleanSteps = 0
      overflows += 1
      return
    }
    cleanSteps += 1
    if cleanSteps >= window {
      let grown = scale * factor
      if grown.isFinite { scale = grown }
      cleanSteps = 0
    }
  }
}
