import LomoOptim

extension TrainingState {
  /// The newest `version` this build reads and the one it writes (2: tensors carry checksums).
  public static let currentVersion = 2

  /// What is wrong with the fields of a stored state for a run of `totalSteps` steps of
  /// `batchesPerEpoch` batches, one line per field (`field: value; the rule`); empty when the
  /// state can be resumed. Every count is non-negative, the position lies inside its epoch and
  /// agrees with the step (`step = epoch · batchesPerEpoch + position`, as `Trainer.run`
  /// counts), and every stored real number is finite.
  public func problems(totalSteps: Int, batchesPerEpoch: Int) -> [String] {
    var found: [String] = []
    func check(_ ok: Bool, _ field: String, _ value: Any, _ rule: String) {
      if !ok { found.append("field '\(field)' is \(value); \(rule)") }
    }
    check((1...Self.currentVersion).contains(version), "version", version,
          "this lomo reads versions 1 to \(Self.currentVersion)")
    check(step >= 0 && step <= totalSteps, "step", step,
          "it must be between 0 and the run's \(totalSteps) steps")
    check(position >= 0 && position < batchesPerEpoch, "position", position,
          "it must be between 0 and \(batchesPerEpoch - 1) (the run has \(batchesPerEpoch) batches per epoch)")
    check(epoch >= 0 && epoch <= totalSteps / max(batchesPerEpoch, 1), "epoch", epoch,
          "it must be between 0 and \(totalSteps / max(batchesPerEpoch, 1)) (the run's epochs)")
    if found.isEmpty {
      check(epoch * batchesPerEpoch + position == step, "step", step,
            "epoch \(epoch) at position \(position) of \(batchesPerEpoch) batches is step \(epoch * batchesPerEpoch + position)")
    }
    check(exampleCount >= 1, "exampleCount", exampleCount, "it must be at least 1")
    check(tokensSeen >= 0, "tokensSeen", tokensSeen, "it must not be negative")
    check(elapsedSeconds.isFinite && elapsedSeconds >= 0, "elapsedSeconds", elapsedSeconds,
          "it must be a finite number of seconds, not negative")
    if let bestScore { check(bestScore.isFinite, "bestScore", bestScore, "it must be finite") }
    if let s = lossScaler { found += Self.problems(s) }
    return found
  }

  /// The loss scaler's fields, by the rules of `DynamicLossScaler.init`.
  static func problems(_ s: DynamicLossScaler) -> [String] {
    var found: [String] = []
    func check(_ ok: Bool, _ field: String, _ value: Any, _ rule: String) {
      if !ok { found.append("field 'lossScaler.\(field)' is \(value); \(rule)") }
    }
    check(s.minScale.isFinite && s.minScale > 0, "minScale", s.minScale, "it must be finite and positive")
    check(s.scale.isFinite && s.scale >= s.minScale, "scale", s.scale, "it must be finite and at least minScale")
    check(s.factor.isFinite && s.factor > 1, "factor", s.factor, "it must be finite and above 1")
    check(s.window >= 1, "window", s.window, "it must be at least 1")
    check(s.cleanSteps >= 0 && s.cleanSteps <= s.window, "cleanSteps", s.cleanSteps,
          "it must be between 0 and window")
    check(s.overflows >= 0, "overflows", s.overflows, "it must not be negative")
    return found
  }
}
