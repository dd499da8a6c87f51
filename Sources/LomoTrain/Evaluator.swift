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
/// the first).
///
/// With the weights in memory each item's prompt runs once: items go in groups of up to
/// `options.batchSize` candidates (similar prompt lengths together), each group's prompts but
/// their last tokens run as one batch into a `KVCache` (one sequence per item, at most
/// `cacheBytes` in all) in the same pass as the group's first `options.batchSize` candidates,
/// [last prompt token] + candidate, each continuing its item's prompt (the two interleaved
/// layer by layer, so the weights are read once per pass, as for whole sequences). With
/// streamed weights, where each pass over the layers reads them from disk, the (item,
/// candidate) sequences instead run whole, sorted by length and right-padded into batches of
/// `options.batchSize`, one pass per batch. Both give the same scores up to f32 rounding.
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
    let total = items.reduce(0) { $0 + $1.candidates.count }
    var scores = items.map { [Double](repeating: .infinity, count: $0.candidates.count) }
    var tokens = 0, done = 0
    let score = { (rows: [Row], cache: KVCache?, prompts: [[Int32]]) in
      for (row, nll) in zip(rows, self.summedNLL(rows, continuing: cache, appendingFirst: prompts)) {
        let count = row.example.trainedTokenCount
        scores[row.item][row.candidate] = self.options.lengthNormalize ? nll / Double(max(count, 1)) : nll
        tokens += row.example.tokens.count
      }
      done += rows.count
      progress?(EvaluationProgress(sequencesDone: done, sequencesTotal: total, tokens: tokens,
                                   elapsedSeconds: Date().timeIntervalSince(start)))
    }
    if model.parameters.streamed == nil {
      let longest = items.map(\.prompt.count).max() ?? 1
      let capacity = max(longest - 1, 1)
      let bytesPerSequence = 2 * model.config.layers * capacity * model.config.kvDim * MemoryLayout<Float>.size
      let groups = Self.groups(items, candidates: options.batchSize,
                               sequences: max(1, Self.cacheBytes / bytesPerSequence))
      let cache = KVCache(config: model.config, sequences: groups.map(\.count).max() ?? 1, capacity: capacity)
      for group in groups {
        cache.truncate(to: 0)
        var shared = group.map { Array(items[$0].prompt.dropLast()) }
        tokens += shared.reduce(0) { $0 + $1.count }
        let rows = group.enumerated().flatMap { slot, i in
          items[i].candidates.enumerated().map { c, candidate in
            Row(item: i, candidate: c, example: TokenizedExample(prompt: Array(items[i].prompt.suffix(1)), completion: candidate),
                sequence: slot)
          }
        }
        for first in stride(from: 0, to: rows.count, by: options.batchSize) {
          score(Array(rows[first..<min(first + options.batchSize, rows.count)]), cache, shared)
          shared = []  // appended with the first batch
        }
      }
    } else {
      var rows: [Row] = []
      for (i, item) in items.enumerated() {
        for (c, candidate) in item.candidates.enumerated() {
          rows.append(Row(item: i, candidate: c, example: TokenizedExample(prompt: item.prompt, completion: candidate),
                          sequence: nil))
        }
      }
      rows.sort { $0.example.tokens.count > $1.example.tokens.count }
      for first in stride(from: 0, to: rows.count, by: options.batchSize) {
        score(Array(rows[first..<min(first + options.batchSize, rows.count)]), nil, [])
      }
    }
    let predictions = scores.map { s in s.indices.min { s[$0] < s[$1] || (s[$0] == s[$1] && $0 < $1) }! }
    return EvaluationResult(scores: scores, predictions: predictions, labels: items.map(\.label),
                            groups: items.map(\.group), tokens: tokens,
                            seconds: Date().timeIntervalSince(start))
  }

  /// The most bytes the KV cache of the items' prompts takes (1 GiB: 8 prompts of 2048
  /// positions of SmolLM2-135M, 1000 positions of a LLaMA-7B-sized model).
  static let cacheBytes = 1 << 30

  /// One scored sequence: a candidate of an item, whole or continuing the prompt in sequence
  /// `sequence` of the KV cache.
  struct Row {
    let item: Int, candidate: Int
    let example: TokenizedExample
    let sequence: Int?
  }

  /// The items' indices in groups whose prompts share a KV cache: longest prompts first, each
  /// group up to `candidates` candidates (an item with more forms a group of its own) and
  /// `sequences` items.
  static func groups(_ items: [MultipleChoiceItem], candidates: Int, sequences: Int) -> [[Int]] {
    var groups: [[Int]] = [], current: [Int] = [], count = 0
    for i in items.indices.sorted(by: { items[$0].prompt.count > items[$1].prompt.count }) {
      if !current.isEmpty && (count + items[i].candidates.count > candidates || current.count == sequences) {
        groups.append(current)
        current = []
        count = 0
      }
      current.append(i)
      count += items[i].candidates.count
    }
    if !current.isEmpty { groups.append(current) }
    return groups
  }

  /// Each row's NLL summed over its targets, the rows' examples right-padded into one batch,
  /// each continuing its `sequence` of `cache` when given, after `prompts` were appended to the
  /// cache in the same pass.
  func summedNLL(_ rows: [Row], continuing cache: KVCache?, appendingFirst prompts: [[Int32]]) -> [Double] {
    let batch = Batch(rows.map(\.example), padToken: options.padToken)
    var nll = [Float](repeating: 0, count: batch.batch * batch.time)
    _ = nll.withUnsafeMutableBufferPointer { out in
      model.loss(tokens: batch.tokens, targets: batch.targets, batch: batch.batch, time: batch.time,
                 nll: out.baseAddress!, continuing: cache.map { (cache: $0, sequences: rows.map { $0.sequence ?? 0 }) },
                 appendingFirst: prompts)
    }
    return rows.indices.map { r in
      (0..<batch.time).reduce(0.0) { sum, t in
        batch.targets[r * batch.time + t] >= 0 ? sum + Double(nll[r * batch.time + t]) : sum
      }
    }
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
