import Foundation
import LomoModel

/// How an evaluation is run.
public struct EvaluationOptions: Sendable {
  /// Sequences (item × candidate) per forward pass; candidates of several items share a batch.
  public var batchSize: Int
  /// Score by mean instead of summed NLL over the candidate's tokens (+ EOS).
  public var lengthNormalize: Bool
  /// Token of the right padding; any id works, attention is causal.
  public var padToken: Int32

  public init(batchSize: Int = 8, lengthNormalize: Bool = false, padToken: Int32 = 0) {
    precondition(batchSize >= 1, "batch size must be at least 1")
    self.batchSize = batchSize
    self.lengthNormalize = lengthNormalize
    self.padToken = padToken
  }
}

/// Where an evaluation stands, reported after every batch.
public struct EvaluationProgress: Sendable {
  public var sequencesDone: Int
  public var sequencesTotal: Int
  /// Unpadded tokens run through the model so far.
  public var tokens: Int
  public var elapsedSeconds: Double

  /// Seconds left at the rate so far (by tokens), nil before any progress.
  public var etaSeconds: Double? {
    guard sequencesDone > 0, elapsedSeconds > 0 else { return nil }
    return elapsedSeconds * Double(sequencesTotal - sequencesDone) / Double(sequencesDone)
  }
}

/// The outcome of scoring a list of items.
public struct EvaluationResult: Sendable {
  /// Per item, per candidate: summed (or, length-normalised, mean) NLL; lower is better.
  public var scores: [[Double]]
  public var predictions: [Int]
  public var labels: [Int]
  public var groups: [String?]
  /// Unpadded tokens run through the model.
  public var tokens: Int
  public var seconds: Double

  public init(scores: [[Double]], predictions: [Int], labels: [Int], groups: [String?], tokens: Int,
              seconds: Double) {
    self.scores = scores
    self.predictions = predictions
    self.labels = labels
    self.groups = groups
    self.tokens = tokens
    self.seconds = seconds
  }

  public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }

  public func metrics(task: SuperGLUETask?) -> EvaluationMetrics {
    EvaluationMetrics(predictions: predictions, labels: labels, groups: groups, task: task)
  }
}

public enum EvaluationError: Error, Equatable, CustomStringConvertible {
  case tokenOutOfRange(item: Int, token: Int32, vocabularySize: Int)
  case sequenceTooLong(item: Int, length: Int, maxContext: Int)
  case emptyCandidate(item: Int)
  case badLabel(item: Int)

  public var description: String {
    switch self {
    case .tokenOutOfRange(let i, let t, let v): "item \(i): token \(t) is not below the model's vocabulary size \(v)"
    case .sequenceTooLong(let i, let n, let m): "item \(i): \(n) tokens exceed the model's context of \(m)"
    case .emptyCandidate(let i): "item \(i): a candidate has no tokens"
    case .badLabel(let i): "item \(i): the label is not a candidate index"
    }
  }
}

/// Scores every candidate of multiple-choice items by its negative log-likelihood given the
/// prompt — the LOMO paper's rule: the summed NLL of (candidate + EOS), lowest wins (ties go to
/// the first). Sequences are sorted by length and right-padded into batches of
/// `options.batchSize`, each run through `LlamaModel.loss` with per-position NLL.
public final class Evaluator {
  public let model: LlamaModel
  public var options: EvaluationOptions

  public init(model: LlamaModel, options: EvaluationOptions = EvaluationOptions()) {
    self.model = model
    self.options = options
  }

  public func evaluate(
    _ items: [MultipleChoiceItem], progress: ((EvaluationProgress) -> Void)? = nil
  ) throws -> EvaluationResult {
    try validate(items)
    let start = Date()
    // Every (item, candidate) as one training-style example: loss on the candidate only.
    var rows: [(item: Int, candidate: Int, example: TokenizedExample)] = []
    for (i, item) in items.enumerated() {
      for (c, candidate) in item.candidates.enumerated() {
        rows.append((i, c, TokenizedExample(prompt: item.prompt, completion: candidate)))
      }
    }
    let order = rows.indices.sorted { rows[$0].example.tokens.count > rows[$1].example.tokens.count }
    var scores = items.map { [Double](repeating: .infinity, count: $0.candidates.count) }
    var tokens = 0, done = 0
    var nll: [Float] = []
    for batchStart in stride(from: 0, to: order.count, by: options.batchSize) {
      let members = order[batchStart..<min(batchStart + options.batchSize, order.count)].map { rows[$0] }
      let batch = Batch(members.map(\.example), padToken: options.padToken)
      nll = [Float](repeating: 0, count: batch.batch * batch.time)
      _ = nll.withUnsafeMutableBufferPointer { out in
        model.loss(tokens: batch.tokens, targets: batch.targets, batch: batch.batch, time: batch.time,
                   nll: out.baseAddress!)
      }
      for (r, m) in members.enumerated() {
        var sum = 0.0
        for t in 0..<batch.time where batch.targets[r * batch.time + t] >= 0 {
          sum += Double(nll[r * batch.time + t])
        }
        let count = m.example.trainedTokenCount
        scores[m.item][m.candidate] = options.lengthNormalize ? sum / Double(max(count, 1)) : sum
        tokens += m.example.tokens.count
      }
      done += members.count
      progress?(EvaluationProgress(sequencesDone: done, sequencesTotal: rows.count, tokens: tokens,
                                   elapsedSeconds: Date().timeIntervalSince(start)))
    }
    let predictions = scores.map { s in s.indices.min { s[$0] < s[$1] || (s[$0] == s[$1] && $0 < $1) }! }
    return EvaluationResult(scores: scores, predictions: predictions, labels: items.map(\.label),
                            groups: items.map(\.group), tokens: tokens,
                            seconds: Date().timeIntervalSince(start))
  }

  /// Checks what `LlamaModel` would otherwise trap on.
  func validate(_ items: [MultipleChoiceItem]) throws {
    let v = model.config.vocabSize, context = model.config.maxContext
    for (i, item) in items.enumerated() {
      guard item.candidates.indices.contains(item.label) else { throw EvaluationError.badLabel(item: i) }
      for candidate in item.candidates {
        if candidate.isEmpty { throw EvaluationError.emptyCandidate(item: i) }
        if let bad = (item.prompt + candidate).first(where: { $0 < 0 || Int($0) >= v }) {
          throw EvaluationError.tokenOutOfRange(item: i, token: bad, vocabularySize: v)
        }
        let length = item.prompt.count + candidate.count - 1
        if length > context { throw EvaluationError.sequenceTooLong(item: i, length: length, maxContext: context) }
      }
    }
  }
}
