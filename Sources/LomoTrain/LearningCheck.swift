/// Notices a run that is not learning: once a warm-up's worth of steps has passed (the
/// schedule's warm-up, at least `minimumSteps`), the mean training loss of the last three
/// steps is compared with that of the first three; when it fell by less than
/// `minimumDecrease` (relative), `record` returns a message once, naming what to try next.
public struct LearningCheck: Sendable {
  public static let minimumSteps = 10
  public static let minimumDecrease = 0.05
  /// The step at which the check is made; nil when the run is too short to tell.
  public let checkStep: Int?
  let options: TrainingOptions
  let totalSteps: Int
  /// The steps a run needs for the check: one past the check step.
  let stepsNeeded: Int
  private var first: [Float] = []
  private var recent: [Float] = []

  public init(options: TrainingOptions, totalSteps: Int, warmupSteps: Int) {
    self.options = options
    self.totalSteps = totalSteps
    let step = max(Self.minimumSteps, warmupSteps)
    stepsNeeded = step + 1
    checkStep = step < totalSteps ? step : nil
  }

  /// Records the loss of `step` (1-based); at `checkStep`, the message when the loss has
  /// barely moved.
  public mutating func record(step: Int, loss: Float) -> String? {
    guard let checkStep, loss.isFinite, step <= checkStep else { return nil }
    if first.count < 3 { first.append(loss) }
    recent = Array((recent + [loss]).suffix(3))
    guard step == checkStep, !first.isEmpty else { return nil }
    let start = Double(first.reduce(0, +)) / Double(first.count)
    let now = Double(recent.reduce(0, +)) / Double(recent.count)
    guard start > 0, (start - now) / start < Self.minimumDecrease else { return nil }
    return String(format: "the training loss has barely moved in %d steps (%.3f to %.3f): ", step, start, now)
      + suggestion
  }

  /// For a run too short to be checked: a note saying so, with the length that would reach
  /// the check (one step past it: epochs rounded up, or --max-steps); nil otherwise.
  /// A few steps rarely teach a small dataset anything (a 26-example chat set: not in one
  /// epoch of 4 steps, learned in 3).
  public var shortRunNote: String? {
    guard checkStep == nil, totalSteps > 0 else { return nil }
    let longer: String
    switch options.length {
    case .epochs(let epochs):
      let perEpoch = max(1, totalSteps / max(1, epochs))
      longer = "--epochs \((stepsNeeded + perEpoch - 1) / perEpoch)"
    case .maxSteps:
      longer = "--max-steps \(stepsNeeded)"
    }
    return "only \(totalSteps) optimizer steps, too few to tell whether the model learns; "
      + "a small dataset usually needs more: try \(longer)"
  }

  /// What to try: a learning rate three times larger and, for LOMO, norm clipping (the
  /// setting the paper trains with).
  var suggestion: String {
    var parts = ["--lr \(String(format: "%g", Double(options.learningRate) * 3))"]
    if options.optimizer == .lomo && options.clipGradNorm == 0 { parts.append("--clip-grad-norm 1.0") }
    return "try " + parts.joined(separator: " ") + " (or stop with Ctrl-C, which keeps a resumable checkpoint)"
  }
}
