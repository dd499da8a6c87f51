import Foundation

/// Recognises a training loss that has exploded, so that a run which went off stops instead of
/// training on (and saving) wrecked weights: a step's loss is past the `limit` when it is above
/// both the loss of a uniform guess over the vocabulary, ln V (the model then predicts worse
/// than one that knows nothing), and `factor` times the first loss this guard saw (a healthy
/// run's loss falls from there). Non-finite losses are not its business: the step itself refuses
/// them (`TrainingError.nonFinite`).
///
/// Example: SmolLM2 (V = 49152, ln V = 10.80) starting at loss 2.5 stops at a loss above 10.80;
/// one starting at 6.0 above 12.0. A run at lr 0.1 that reached a loss of 148,781 is stopped at
/// the first step past the limit.
public struct DivergenceGuard: Sendable, Equatable {
  public static let factor: Float = 2
  /// ln V: the cross-entropy of a uniform distribution over the vocabulary.
  public let uniformLoss: Float
  /// The first finite loss recorded.
  public private(set) var firstLoss: Float?

  public init(vocabularySize: Int) {
    uniformLoss = Float(log(Double(max(vocabularySize, 2))))
  }

  /// The loss above which a step counts as exploded, once the first loss is known.
  public var limit: Float? { firstLoss.map { max(uniformLoss, Self.factor * $0) } }

  /// Records a step's loss; true when it is past the limit (never for the first loss, nor for a
  /// non-finite one).
  public mutating func exploded(_ loss: Float) -> Bool {
    guard loss.isFinite else { return false }
    guard let limit else {
      firstLoss = loss
      return false
    }
    return loss > limit
  }
}
