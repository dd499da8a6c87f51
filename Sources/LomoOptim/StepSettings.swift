import LomoModel

/// What one step asks of a `StepOptimizer`, handed over once in `beginStep(_:)`: the only way
/// step settings reach an optimizer (a single process, a sharded rank or one accumulated step
/// hands each optimizer this value).
public struct StepSettings: Sendable, Equatable {
  /// The learning rate of this step (the schedule's value; optimizers hold no rate of their own).
  public var learningRate: Float
  /// The factor the loss was multiplied by: backward's gradients are ∂(lossScale · loss) and
  /// every update divides it out first. A dynamic scaler's scale, else the optimizer's
  /// `defaultLossScale`.
  public var lossScale: Float
  /// Multiplies every unscaled, value-clipped gradient (global-norm clipping known before
  /// backward: measured in a first pass, or from the previous step's norm). 1 leaves gradients
  /// unchanged. Baselines given a max norm of their own compute the coefficient instead.
  public var clipCoefficient: Float
  /// Whether a fused optimizer accumulates the global norm of the unscaled gradients it applies
  /// (before value clipping), returned in `StepOutcome.gradientNorm`: one-pass clipping with
  /// the previous step's norm. Baselines always measure.
  public var measuresNorm: Bool

  public init(learningRate: Float, lossScale: Float = 1, clipCoefficient: Float = 1,
              measuresNorm: Bool = false) {
    self.learningRate = learningRate
    self.lossScale = lossScale
    self.clipCoefficient = clipCoefficient
    self.measuresNorm = measuresNorm
  }
}

/// What one updating pass applied, returned by `finishStep()`.
public struct StepOutcome: Sendable, Equatable {
  /// Global norm of the unscaled gradients (gradient / lossScale, before value clipping) in
  /// the order backward handed them in, the same arithmetic as `NormAccumulator`: measured by
  /// baselines always, by fused optimizers when `StepSettings.measuresNorm`; nil otherwise.
  public var gradientNorm: GradientNorm?
  /// The coefficient the gradients were multiplied by: the settings' one, or a baseline's own
  /// `min(1, maxNorm / (norm + 1e-6))`.
  public var clipCoefficient: Float
  /// The first parameter whose update the optimizer refused because a gradient element or an
  /// updated value would not have been finite (`UpdateKernel.staysFinite`): it and every
  /// parameter after it in this step were left unchanged; nil when the whole step was applied.
  public var refused: ParameterID?
  /// How many parameters this step changed before the refusal (all of them when `refused` is
  /// nil). Baselines check every tensor before changing any, so theirs is 0 on a refusal.
  public var appliedCount: Int

  public init(gradientNorm: GradientNorm?, clipCoefficient: Float, refused: ParameterID? = nil,
              appliedCount: Int = 0) {
    self.gradientNorm = gradientNorm
    self.clipCoefficient = clipCoefficient
    self.refused = refused
    self.appliedCount = appliedCount
  }
}
