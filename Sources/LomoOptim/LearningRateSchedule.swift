import Foundation

/// Learning rate per optimizer step, as transformers' schedules compute it (LambdaLR
/// multipliers, step s counted from 0 for the first update):
///
/// - warmup (all shapes): s < W → s / max(1, W)
/// - constant: 1 after warmup
/// - linear (`get_linear_schedule_with_warmup`, the LOMO trainer's):
///   max(0, (S - s) / max(1, S - W))
/// - cosine (`get_cosine_schedule_with_warmup`, half a cycle):
///   progress = (s - W) / max(1, S - W); max(0, ½ (1 + cos(π · progress)))
///
/// with S total steps. Warmup is a step count or a ratio of S; a ratio gives
/// W = ceil(S · ratio), as transformers' `TrainingArguments.get_warmup_steps`.
public struct LearningRateSchedule: Sendable, Equatable, Codable {
  public enum Shape: String, Sendable, Equatable, Codable, CaseIterable {
    case constant, linear, cosine
  }

  public enum Warmup: Sendable, Equatable, Codable {
    case steps(Int)
    case ratio(Double)
  }

  public var peak: Float
  public var shape: Shape
  public var totalSteps: Int
  public var warmup: Warmup

  public init(peak: Float, shape: Shape, totalSteps: Int, warmup: Warmup = .steps(0)) {
    self.peak = peak
    self.shape = shape
    self.totalSteps = totalSteps
    self.warmup = warmup
  }

  public static func constant(_ lr: Float) -> LearningRateSchedule {
    LearningRateSchedule(peak: lr, shape: .constant, totalSteps: 0)
  }

  public var warmupSteps: Int {
    switch warmup {
    case .steps(let n): max(0, n)
    case .ratio(let r): Int((Double(totalSteps) * r).rounded(.up))
    }
  }

  /// The LambdaLR multiplier at step `s` (0-based), in Double as Python computes it.
  public func multiplier(atStep s: Int) -> Double {
    let w = warmupSteps
    if s < w { return Double(s) / Double(max(1, w)) }
    switch shape {
    case .constant:
      return 1
    case .linear:
      return max(0, Double(totalSteps - s) / Double(max(1, totalSteps - w)))
    case .cosine:
      let progress = Double(s - w) / Double(max(1, totalSteps - w))
      return max(0, 0.5 * (1 + cos(Double.pi * 0.5 * 2 * progress)))
    }
  }

  /// peak · multiplier(s).
  public func learningRate(atStep s: Int) -> Float { Float(Double(peak) * multiplier(atStep: s)) }
}
