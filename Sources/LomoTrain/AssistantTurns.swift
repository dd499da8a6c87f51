/// Which assistant turns of a `{"messages"}` conversation are trained on (`lomo train
/// --train-on`). Either way the system, user and template tokens are never targets.
public enum AssistantTurns: String, Sendable, Equatable, Codable, CaseIterable {
  /// The last assistant turn only; earlier turns are context (the default).
  case last
  /// Every assistant turn, each as the template renders it, its end-of-turn marker included.
  case all
}
