import LomoModel

/// An optimizer that a training step runs: a `ParameterUpdater` that backward feeds, with the
/// step's settings handed in once and the step's outcome handed back. One step is, in order:
///
/// 1. `beginStep(_:)`, once, before the updating backward pass: the settings of this step
///    (learning rate, loss scale, clip coefficient, whether to measure what is applied);
/// 2. `update(_:gradient:)`, once per parameter during that pass, with the gradient
///    ∂(settings.lossScale · loss)/∂parameter (f32; see `ParameterUpdater`);
/// 3. `finishStep()`, once after it, returning what the step applied.
///
/// Fused optimizers (`LOMO`, `AdaLomo`, `updatesDuringBackward`) change each parameter inside
/// `update`; baselines (`SGDBaseline`, `AdamWBaseline`) copy each gradient into their own
/// buffers and apply the step, clipped by their own global norm, in `finishStep()`.
///
/// Settings are not state: every step brings its own (from a schedule, a loss scaler, a
/// measuring pass, or the rank that owns a shard). What an optimizer carries from one step to
/// the next (moments, step count, rounding generator) is exactly `state()`, and `restore(_:)`
/// brings a fresh optimizer of the same kind and parameters to the same next step.
public protocol StepOptimizer: ParameterUpdater {
  /// Whether parameters change during backward (true) or in `finishStep()` (false). A fused
  /// optimizer needs the step's clip coefficient before backward; a baseline measures its own.
  var updatesDuringBackward: Bool { get }
  /// The loss scale the step uses when no dynamic loss scaler runs: 1, or the static scale the
  /// optimizer's reference declares (AdaLomo: lomo-optim's 2^10).
  var defaultLossScale: Float { get }
  /// Fixes the settings of the coming updating pass.
  func beginStep(_ settings: StepSettings)
  /// Ends the updating pass begun by `beginStep(_:)` (baselines apply their update here).
  func finishStep() -> StepOutcome
  /// Everything this optimizer carries between steps, under the names its type documents.
  func state() -> OptimizerState
  /// Loads a `state()` of an optimizer of the same kind over the same parameters. Throws an
  /// `OptimizerStateError` naming the first missing, mis-sized or unexpected entry, and then
  /// has changed nothing.
  func restore(_ state: OptimizerState) throws
}
