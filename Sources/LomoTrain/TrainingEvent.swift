import Foundation
import LomoCore

/// What a `Trainer` reports while it runs; the library never prints, the caller renders these.
public enum TrainingEvent: Sendable {
  case step(StepMetrics)
  case evaluation(PeriodicEvaluation)
}

/// One optimizer step, as written to the metrics file.
public struct StepMetrics: Sendable, Equatable {
  /// Steps completed so far (1 for the first).
  public var step: Int
  /// 0-based epoch the step belongs to.
  public var epoch: Int
  /// Mean cross-entropy of the batch before the update.
  public var loss: Float
  /// Learning rate the step ran with.
  public var learningRate: Float
  /// Global norm of the unscaled gradients when it was measured (clipping, loss scaling,
  /// baselines), else nil.
  public var gradientNorm: Double?
  /// Non-padding tokens of the batch per second of this step.
  public var tokensPerSecond: Double
  /// Non-padding tokens per second over every step so far (what the run's summary reports).
  public var meanTokensPerSecond: Double
  /// Resident set size after the step.
  public var rssBytes: Int
  /// The loss scale the step ran with when dynamic scaling is on, else nil.
  public var lossScale: Float?
  /// Estimated seconds to the end of training.
  public var etaSeconds: Double
  /// The step was skipped (loss-scale overflow).
  public var skipped: Bool
  public var totalSteps: Int
}

/// One evaluation: the caller's score (higher is better) and whether it is the best so far
/// (the caller keeps the best checkpoint when `isBest`).
public struct PeriodicEvaluation: Sendable, Equatable {
  public var step: Int
  public var score: Double
  public var isBest: Bool
}
