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
}

/// Sequences one training step of a `StepOptimizer` over a `LlamaModel`:
///
/// 1. forward once (activations kept);
/// 2. if clipping needs the current norm or f16 dynamic loss scaling is on: a measuring
///    backward with `NormAccumulator`; on inf/NaN the step is skipped (nothing was touched)
///    and the scale halved;
/// 3. the updating backward with the optimizer (fused: parameters change inside backward;
///    baselines: `finishStep()` applies them afterwards);
/// 4. the scaler counts a clean step.
///
/// Baselines hold all gradients, so they clip in `finishStep` themselves and always run one
/// backward (plus the measuring pass only when loss scaling asks for overflow detection).
public final class LomoStep {
  public let model: LlamaModel
  public let optimizer: any StepOptimizer
  public var clipping: GradientClipping
  /// Dynamic loss scaling (for f16 storage); nil: the optimizer's own static `lossScale`.
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
  /// the token after position t, negative = not trained on). `learningRate` nil keeps the
  /// optimizer's current rate.
  @discardableResult
  public func step(tokens: [Int32], targets: [Int32], batch: Int, time: Int,
                   learningRate: Float? = nil) -> StepReport {
    if let learningRate { optimizer.learningRate = learningRate }
    if let scaler = lossScaler { optimizer.lossScale = scaler.scale }
    let scale = optimizer.lossScale
    let tokenCount = targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
    // ∂(scale · mean loss): nil keeps backward's own 1/tokenCount when unscaled.
    let gradScale: Float? = scale == 1 ? nil : scale / Float(max(tokenCount, 1))

    model.forward(tokens: tokens, targets: targets, batch: batch, time: time)

    let fused = optimizer.updatesDuringBackward
    var needsCurrentNorm = lossScaler != nil
    if fused {
      switch clipping {
      case .none: break
      case .globalNorm: needsCurrentNorm = true
      case .previousStepNorm: if previousNorm == nil { needsCurrentNorm = true }
      }
    }

    var coefficient: Float = 1
    var measured: Double?
    var passes = 0
    if needsCurrentNorm {
      normAccumulator.reset(lossScale: scale)
      let result = model.backward(updater: normAccumulator, gradScale: gradScale)
      passes += 1
      let norm = normAccumulator.norm
      if norm.hasNonFinite {
        lossScaler?.update(overflow: true)
        return StepReport(loss: result.meanLoss, tokenCount: result.tokenCount, gradientNorm: nil,
                          clipCoefficient: 0, skipped: true, lossScale: scale,
                          backwardPasses: passes)
      }
      measured = norm.total
      if fused, let maxNorm = clipping.maxNorm { coefficient = norm.clipCoefficient(maxNorm: maxNorm) }
    } else if fused, case .previousStepNorm(let maxNorm) = clipping, let previous = previousNorm {
      coefficient = GradientNorm.clipCoefficient(maxNorm: maxNorm, total: previous)
    }

    optimizer.clipCoefficient = coefficient
    optimizer.measuresNorm = fused && clipping.maxNorm != nil && measured == nil
    optimizer.beginStep()
    let result = model.backward(updater: optimizer, gradScale: gradScale)
    passes += 1
    optimizer.finishStep()
    if !fused { measured = optimizer.updateNorm.total }
    else if optimizer.measuresNorm { measured = optimizer.updateNorm.total }
    previousNorm = measured ?? previousNorm
    lossScaler?.update(overflow: false)
    return StepReport(loss: result.meanLoss, tokenCount: result.tokenCount, gradientNorm: measured,
                      clipCoefficient: optimizer.clipCoefficient, skipped: false, lossScale: scale,
                      backwardPasses: passes)
  }
}
