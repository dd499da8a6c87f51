import LomoKernels
import LomoModel

/// How a step clips gradients by global norm.
public enum GradientClipping: Sendable, Equatable {
  case none
  /// lomo-optim's scheme: a measuring backward pass (`NormAccumulator`) computes the exact
  /// global norm, then the updating pass uses clip_coef = min(1, maxNorm / (norm + 1e-6)).
  /// Costs a second backward (activations are kept, so no second forward).
  case globalNorm(Float)
  /// Beyond the paper: one backward pass; the coefficient comes from the previous step's global
  /// norm (measured during its updating pass at almost no cost). The first step, with no
  /// previous norm, measures in two passes like `globalNorm`. The norm lags by one step, so a
  /// sudden gradient spike is clipped only from the next step on.
  case previousStepNorm(Float)

  var maxNorm: Float? {
    switch self {
    case .none: nil
    case .globalNorm(let m), .previousStepNorm(let m): m
    }
  }
}

/// What one training step did.
public struct StepReport: Sendable, Equatable {
  /// Mean cross-entropy of the batch under the weights before the step.
  public var loss: Float
  public var tokenCount: Int
  /// Global norm of the unscaled gradients when measured this step (either pass), else nil.
  public var gradientNorm: Double?
  public var clipCoefficient: Float
  /// The step was skipped (loss-scale overflow): no parameter changed.
  public var skipped: Bool
  /// The loss scale this step ran with.
  public var lossScale: Float
  /// Number of backward passes run (1 or 2).
  public var backwardPasses: Int
  /// Set when the step stopped at a non-finite value instead of completing (an f16
  /// loss-scale overflow above the minimum scale is a skip, not a failure).
  public var failure: NonFiniteStep?
}

/// A step that met a non-finite value where a weight would change. No weight holds a
/// non-finite value afterwards; `appliedCount` says whether the weights are still exactly
/// those of the last completed step (0) or that step plus the first `appliedCount` tensors of
/// the failed one (a one-pass fused step whose gradient turned non-finite mid-backward).
public struct NonFiniteStep: Sendable, Equatable {
  public enum Cause: Sendable, Equatable {
    /// The loss of the batch under the current weights: seen before any gradient exists.
    case loss
    /// The measuring pass's global gradient norm (two-pass clipping, or f16 loss scaling
    /// already at its minimum scale): seen before any parameter changed.
    case gradientNorm
    /// The optimizer refused this parameter's update (a non-finite gradient element or
    /// updated value, `StepOutcome.refused`).
    case update(ParameterID)
  }

  public var cause: Cause
  /// Parameters the failed step changed before it stopped.
  public var appliedCount: Int

  public init(cause: Cause, appliedCount: Int = 0) {
    self.cause = cause
    self.appliedCount = appliedCount
  }
}

/// Sequences one training step of a `StepOptimizer` over a `LlamaModel`:
///
/// 1. forward once (activations kept);
/// 2. if clipping needs the current norm or f16 dynamic loss scaling is on: a measuring
///    backward with `NormAccumulator`; on inf/NaN the step is skipped (nothing was touched)
///    and the scale halved;
/// 3. the step's `StepSettings` (the caller's learning rate, the loss scale, the clip
///    coefficient from the measured or the previous step's norm) go to `beginStep(_:)`;
/// 4. the updating backward with the optimizer (fused: parameters change inside backward;
///    baselines: `finishStep()` applies them afterwards), and `finishStep()`'s outcome;
/// 5. the scaler counts a clean step; the report.
///
/// Non-finite values never reach a weight, and stop the step with `StepReport.failure`: a
/// non-finite loss is seen in backward before any gradient is handed over, a non-finite norm
/// of a measuring pass before any update, and the optimizers check each update before writing
/// it (`StepOutcome.refused`). Only the last can come after part of a one-pass step was
/// applied (`NonFiniteStep.appliedCount`); a measuring pass (`.globalNorm`) rules that out
/// at the price of a second backward. Outside f16 loss scaling (which skips the step and
/// halves the scale while it is above its minimum) a failure is final for the run.
///
/// The loss scale is the dynamic scaler's when there is one (f16 storage), else the
/// optimizer's `defaultLossScale`. Baselines hold all gradients, so they clip in `finishStep`
/// with their own norm and always run one backward (plus the measuring pass only when loss
/// scaling asks for overflow detection).
public final class LomoStep {
  public let model: LlamaModel
  public let optimizer: any StepOptimizer
  public var clipping: GradientClipping
  /// Dynamic loss scaling (for f16 storage); nil: the optimizer's `defaultLossScale`.
  public var lossScaler: DynamicLossScaler?
  /// The global norm of the last completed step (for `.previousStepNorm`).
  public private(set) var previousNorm: Double?
  public let normAccumulator = NormAccumulator()

  public init(model: LlamaModel, optimizer: any StepOptimizer, clipping: GradientClipping = .none,
              lossScaler: DynamicLossScaler? = nil) {
    self.model = model
    self.optimizer = optimizer
    self.clipping = clipping
    self.lossScaler = lossScaler
  }

  /// Runs one step on `tokens`/`targets` [batch, time] (targets already shifted: targets[t] is
  /// the token after position t, negative = not trained on) at `learningRate`. With
  /// `microBatches` K > 1 the batch runs as K micro-batches of batch/K sequences whose
  /// gradients are summed layer by layer before each update (gradient accumulation): the step
  /// is that of the whole batch, in the memory of one micro-batch's layer activations.
  @discardableResult
  public func step(tokens: [Int32], targets: [Int32], batch: Int, time: Int, microBatches: Int = 1,
                   learningRate: Float) -> StepReport {
    let lossScale = lossScaler?.scale ?? optimizer.defaultLossScale
    // Sharded: the mean is over every rank's slice of the batch.
    let tokenCount = model.parameters.communicator.sum(targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) })
    // ∂(lossScale · mean loss): nil keeps backward's own 1/tokenCount when unscaled.
    let gradScale: Float? = lossScale == 1 ? nil : lossScale / Float(max(tokenCount, 1))

    model.forward(tokens: tokens, targets: targets, batch: batch, time: time,
                  microBatches: microBatches)

    var passes = 0
    var measured: GradientNorm?
    if needsMeasuringPass {
      normAccumulator.reset(lossScale: lossScale)
      let result = model.backward(updater: normAccumulator, gradScale: gradScale)
      passes += 1
      func unchanged(skipped: Bool, _ failure: NonFiniteStep?) -> StepReport {
        StepReport(loss: result.meanLoss, tokenCount: result.tokenCount, gradientNorm: nil,
                   clipCoefficient: 0, skipped: skipped, lossScale: lossScale,
                   backwardPasses: passes, failure: failure)
      }
      guard result.lossSum.isFinite else { return unchanged(skipped: false, NonFiniteStep(cause: .loss)) }
      let norm = normAccumulator.norm.summed(over: model.parameters.communicator)
      if norm.hasNonFinite {
        // An overflow of the scaled gradients: halve the scale and skip, until the minimum.
        guard let scaler = lossScaler, scaler.scale > scaler.minScale else {
          return unchanged(skipped: false, NonFiniteStep(cause: .gradientNorm))
        }
        lossScaler?.update(overflow: true)
        return unchanged(skipped: true, nil)
      }
      measured = norm
    }

    let fused = optimizer.updatesDuringBackward
    optimizer.beginStep(StepSettings(
      learningRate: learningRate, lossScale: lossScale, clipCoefficient: clipCoefficient(measured),
      measuresNorm: fused && clipping.maxNorm != nil && measured == nil))
    let result = model.backward(updater: optimizer, gradScale: gradScale)
    passes += 1
    let outcome = optimizer.finishStep()
    if let failure = Self.failure(loss: result, outcome: outcome) {
      return StepReport(loss: result.meanLoss, tokenCount: result.tokenCount, gradientNorm: nil,
                        clipCoefficient: outcome.clipCoefficient, skipped: false,
                        lossScale: lossScale, backwardPasses: passes, failure: failure)
    }

    let norm = (outcome.gradientNorm ?? measured)?.total
    previousNorm = norm ?? previousNorm
    lossScaler?.update(overflow: false)
    return StepReport(loss: result.meanLoss, tokenCount: result.tokenCount, gradientNorm: norm,
                      clipCoefficient: outcome.clipCoefficient, skipped: false,
                      lossScale: lossScale, backwardPasses: passes)
  }

  /// The failure of an updating pass: a non-finite loss (backward then handed nothing over) or
  /// an update the optimizer refused.
  static func failure(loss: CrossEntropyResult, outcome: StepOutcome) -> NonFiniteStep? {
    if !loss.lossSum.isFinite { return NonFiniteStep(cause: .loss) }
    guard let refused = outcome.refused else { return nil }
    return NonFiniteStep(cause: .update(refused), appliedCount: outcome.appliedCount)
  }

  /// Whether this step needs the current norm before updating: overflow detection under
  /// dynamic loss scaling, or a fused optimizer's clipping (always for `.globalNorm`, on the
  /// first step for `.previousStepNorm`).
  var needsMeasuringPass: Bool {
    if lossScaler != nil { return true }
    guard optimizer.updatesDuringBackward else { return false }
    switch clipping {
    case .none: return false
    case .globalNorm: return true
    case .previousStepNorm: return previousNorm == nil
    }
  }

  /// A fused optimizer's clip coefficient from this step's measured norm, else the previous
  /// step's; 1 without clipping and for baselines (they clip with their own norm).
  func clipCoefficient(_ measured: GradientNorm?) -> Float {
    guard optimizer.updatesDuringBackward, let maxNorm = clipping.maxNorm else { return 1 }
    if let measured { return measured.clipCoefficient(maxNorm: maxNorm) }
    if let previousNorm { return GradientNorm.clipCoefficient(maxNorm: maxNorm, total: previousNorm) }
    return 1
  }
}
