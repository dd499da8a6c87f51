import LomoCore
import LomoOptim

extension TrainingOptions {
  /// The options in which this run differs from a checkpoint's, as the command-line settings
  /// that make them: `--batch-size 4 (the checkpoint's: 8)`. Empty when they are equal; an
  /// option without a command-line form is named by its field.
  public func differences(from checkpoint: TrainingOptions) -> [String] {
    var found: [String] = []
    func compare<T: Equatable>(_ name: String, _ field: KeyPath<TrainingOptions, T>,
                               _ show: (T) -> String = { "\($0)" }) {
      let mine = self[keyPath: field], theirs = checkpoint[keyPath: field]
      if mine != theirs { found.append("\(name) \(show(mine)) (the checkpoint's: \(show(theirs)))") }
    }
    let number: (Float) -> String = { String(format: "%g", $0) }
    compare("--optimizer", \.optimizer, \.rawValue)
    compare("--lr", \.learningRate, number)
    compare("--lr-schedule", \.schedule, \.rawValue)
    compare("--warmup", \.warmup) {
      switch $0 {
      case .steps(let n): "\(n)"
      case .ratio(let r): String(format: "%g", r)
      }
    }
    if length != checkpoint.length { found.append("\(Self.describe(length)) (the checkpoint's: \(Self.describe(checkpoint.length)))") }
    compare("--batch-size", \.batchSize)
    compare("--gradient-accumulation-steps", \.gradientAccumulationSteps)
    compare("--dtype", \.dtype)
    compare("--clip-grad-norm", \.clipGradNorm, number)
    compare("--clip-grad-value", \.clipGradValue, number)
    compare("--weight-decay", \.weightDecay, number)
    compare("--activation-checkpointing", \.activationCheckpointing) { $0 ? "on" : "off" }
    compare("--seed", \.seed)
    compare("--eval-every", \.evalEvery)
    compare("loss scaling", \.lossScale) { "initial \(number($0.initialScale)), factor \(number($0.factor)), window \($0.window), minimum \(number($0.minScale))" }
    compare("groupChunkBatches", \.groupChunkBatches)
    if found.isEmpty && self != checkpoint { found.append("other training options") }
    return found
  }

  /// "--epochs 3" or "--max-steps 40".
  static func describe(_ length: TrainingLength) -> String {
    switch length {
    case .epochs(let e): "--epochs \(e)"
    case .maxSteps(let s): "--max-steps \(s)"
    }
  }
}
