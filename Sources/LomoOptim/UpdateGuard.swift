import LomoModel

/// One step's refusal bookkeeping for an optimizer that changes parameters one at a time: it
/// checks each update (`UpdateKernel.staysFinite`) before writing it, and after the first
/// refusal changes nothing more until the next step, so a non-finite value never reaches a
/// weight. Its result goes into `StepOutcome.refused` / `appliedCount`.
struct UpdateGuard {
  /// The first parameter refused this step; nil while every update was finite.
  private(set) var refused: ParameterID?
  /// Parameters changed this step.
  private(set) var appliedCount = 0

  /// Starts a step.
  mutating func reset() {
    refused = nil
    appliedCount = 0
  }

  /// Whether parameters may still change this step (no refusal yet).
  var isOpen: Bool { refused == nil }

  /// Records the outcome of checking `parameter`'s update: `finite` counts it as applied (the
  /// caller then writes it), otherwise it becomes the step's refusal. A parameter updated in
  /// row slices is admitted slice by slice and counted at its first (`counts`).
  mutating func admit(_ parameter: ParameterID, finite: Bool, counts: Bool = true) -> Bool {
    guard finite else {
      refuse(parameter)
      return false
    }
    if counts { appliedCount += 1 }
    return true
  }

  /// Makes `parameter` the step's refusal.
  mutating func refuse(_ parameter: ParameterID) { refused = parameter }
}
