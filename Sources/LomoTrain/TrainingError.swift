import LomoCore
import LomoOptim

/// Failures of training and checkpointing, with the file and what went wrong (data files throw
/// `DatasetError`).
public enum TrainingError: Error, Equatable, CustomStringConvertible {
  case invalidOptions([String])
  case io(path: String, problem: String)
  case checkpoint(path: String, problem: String)
  /// Over several ranks on one machine: the estimate is one rank's, the bytes its share.
  case insufficientMemory(estimate: MemoryEstimate, availableBytes: Int)
  case noExamples
  /// Step `step` (1-based) met a non-finite value and was stopped (`NonFiniteStep`); no
  /// weight is non-finite, and with `failure.appliedCount == 0` the weights are exactly those
  /// after step `step - 1`.
  case nonFinite(step: Int, learningRate: Float, failure: NonFiniteStep)
  /// The loss of step `step` (1-based) is above `limit` (`DivergenceGuard`): the run stopped
  /// after that step, whose update was applied.
  case lossExploded(step: Int, loss: Float, limit: Float, learningRate: Float)
  /// A model to be saved at `path` holds inf or NaN (element `index` of `parameter`).
  case nonFiniteWeights(path: String, parameter: String, index: Int)
  /// The model given to train holds inf or NaN: no step could be finite.
  case nonFiniteModel(parameter: String, index: Int)

  public var description: String {
    switch self {
    case .invalidOptions(let p): "invalid training options: " + p.joined(separator: "; ")
    case .io(let path, let problem): "\(path): \(problem)"
    case .checkpoint(let path, let problem): "checkpoint \(path): \(problem)"
    case .insufficientMemory(let e, let available):
      "this run needs about \(Format.bytes(e.processBytes)) but only "
        + "\(Format.bytes(available)) is available:\n\(e.table)"
        + (e.streamedAlternativeBytes.map { $0 <= available ? "\nwith --stream-weights (the layers' weights read from disk as they are needed) it needs about \(Format.bytes($0))" : "" } ?? "")
    case .noExamples: "no training examples"
    case .nonFinite(let step, let lr, let failure): Self.describe(step: step, learningRate: lr, failure)
    case .lossExploded(let step, let loss, let limit, let lr):
      "training diverged at step \(step) (learning rate \(lr)): the training loss "
        + String(format: "%.4g", loss) + " is above " + String(format: "%.4g", limit)
        + " (worse than a uniform guess over the vocabulary and twice the first step's loss); "
        + "stopped, and the weights of this run's last steps are not saved"
    case .nonFiniteWeights(let path, let parameter, let index):
      "\(path): not saved: weight \(index) of \(parameter) is not finite (inf or NaN); "
        + "nothing there was replaced"
    case .nonFiniteModel(let parameter, let index):
      "weight \(index) of \(parameter) of the model is not finite (inf or NaN), so it cannot be "
        + "trained; start from another model"
    }
  }
}

extension TrainingError {
  static func describe(step: Int, learningRate: Float, _ failure: NonFiniteStep) -> String {
    let what = switch failure.cause {
    case .loss: "the loss is not finite (inf or NaN)"
    case .gradientNorm: "the gradient norm is not finite (inf or NaN)"
    case .update(let id): "the update of \(id) is not finite (inf or NaN)"
    }
    let kept = failure.appliedCount == 0
      ? "the weights are those after step \(step - 1)"
      : "\(failure.appliedCount) tensors of this step were already updated when it stopped "
        + "(--clip-grad-norm measures the gradients before any weight changes)"
    return "training diverged at step \(step) (learning rate \(learningRate)): \(what); "
      + "no weight was made non-finite and \(kept). Try a lower --lr or --clip-grad-norm 1.0"
  }
}
