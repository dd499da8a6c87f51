import Foundation
import LomoModel

/// The evaluation of a training run (`Trainer.evaluate`): multiple-choice items scored by the
/// `Evaluator`'s accuracy, or other examples scored by their mean loss. The score is "higher is
/// better": the accuracy, or minus the mean loss.
public final class TrainingEvaluation {
  public enum Items {
    /// Scored by accuracy (and the task's other metrics).
    case choices([MultipleChoiceItem], task: SuperGLUETask?)
    /// Scored by minus the mean loss over their trained tokens.
    case loss([TokenizedExample])
  }

  /// One evaluation's outcome.
  public struct Score: Sendable {
    /// Higher is better: accuracy in [0, 1], or minus the mean loss.
    public var value: Double
    /// Every metric, for multiple-choice items.
    public var metrics: EvaluationMetrics?
  }

  public let items: Items
  /// The task or data format, for messages.
  public let name: String
  /// The latest evaluation.
  public private(set) var last: Score?

  public init(items: Items, name: String) {
    self.items = items
    self.name = name
  }

  /// Multiple-choice items when the data has choices, training examples otherwise.
  public convenience init(_ dataset: Dataset, builder: inout ExampleBuilder) throws {
    let items: Items = dataset.isMultipleChoice
      ? .choices(try dataset.evaluationItems(&builder), task: dataset.task)
      : .loss(try dataset.trainingExamples(&builder))
    self.init(items: items, name: dataset.task?.rawValue ?? dataset.format.rawValue)
  }

  /// Whether the score is minus a loss (else an accuracy).
  public var scoresLoss: Bool {
    if case .loss = items { true } else { false }
  }

  /// E.g. "rte, 277 multiple-choice items, scored by accuracy".
  public var description: String {
    switch items {
    case .choices(let items, _): "\(name), \(items.count) multiple-choice items, scored by accuracy"
    case .loss(let examples): "\(name), \(examples.count) examples, scored by mean loss"
    }
  }

  /// The longest sequence an evaluation runs, in tokens (for the memory estimate).
  public var maxSequenceLength: Int {
    switch items {
    case .choices(let items, _):
      items.map { $0.prompt.count + ($0.candidates.map(\.count).max() ?? 1) - 1 }.max() ?? 0
    case .loss(let examples): examples.map(\.tokens.count).max() ?? 0
    }
  }

  /// Evaluates `model`; the result is also kept as `last`.
  @discardableResult
  public func score(_ model: LlamaModel, options: EvaluationOptions) throws -> Score {
    let evaluator = Evaluator(model: model, options: options)
    let score: Score
    switch items {
    case .choices(let items, let task):
      let metrics = try evaluator.evaluate(items).metrics(task: task)
      score = Score(value: metrics.accuracy, metrics: metrics)
    case .loss(let examples):
      score = Score(value: -evaluator.meanLoss(examples).loss, metrics: nil)
    }
    last = score
    return score
  }

  /// E.g. "eval accuracy 61.50%, macro-F1 58.20%" or "eval loss 1.2345".
  public func describe(_ value: Double, metrics: EvaluationMetrics? = nil) -> String {
    switch items {
    case .choices:
      return "eval accuracy \(EvaluationMetrics.percent(value))" + (metrics?.otherMetricsText ?? "")
    case .loss:
      return "eval loss \(String(format: "%.4f", -value))"
    }
  }
}
