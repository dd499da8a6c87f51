import Foundation
import LomoCore
import LomoFormats

/// What `lomo eval --report` writes: the setup and the outcome. Multiple-choice data: the
/// metrics, every prediction and label, and every candidate's score (`scores[item][choice]`,
/// the summed or length-normalised NLL; the lowest is the prediction). Other data: the mean
/// loss over the trained tokens and its perplexity (`exp(loss)`). What a mode does not have is
/// absent.
public struct EvaluationReport: Codable, Equatable, Sendable {
  public var model: String
  public var data: String
  public var format: String
  public var task: String?
  public var items: Int
  public var sequences: Int
  public var metrics: EvaluationMetrics?
  public var loss: Double?
  public var perplexity: Double?
  /// Tokens the loss is over (loss mode).
  public var scoredTokens: Int?
  public var lengthNormalized: Bool
  /// The prompts went through the model's chat template (multiple choice).
  public var chatTemplate: Bool
  public var maxSequenceLength: Int
  public var truncated: Int
  public var limit: Int?
  public var seed: UInt64
  public var seconds: Double
  public var tokens: Int
  public var tokensPerSecond: Double
  public var predictions: [Int]?
  public var labels: [Int]?
  public var scores: [[Double]]?

  /// The common part; `Setup` keeps the two modes' initialisers short.
  public struct Setup: Sendable {
    public var model: String, data: String, format: DataFormat, task: SuperGLUETask?
    public var maxSequenceLength: Int, truncated: Int, limit: Int?, seed: UInt64
    public init(model: String, data: String, format: DataFormat, task: SuperGLUETask?,
                maxSequenceLength: Int, truncated: Int, limit: Int?, seed: UInt64) {
      (self.model, self.data, self.format, self.task) = (model, data, format, task)
      (self.maxSequenceLength, self.truncated, self.limit, self.seed) = (maxSequenceLength, truncated, limit, seed)
    }
  }

  init(_ setup: Setup, items: Int, sequences: Int, seconds: Double, tokens: Int) {
    model = setup.model
    data = setup.data
    format = setup.format.rawValue
    task = setup.task?.rawValue
    self.items = items
    self.sequences = sequences
    lengthNormalized = false
    chatTemplate = false
    maxSequenceLength = setup.maxSequenceLength
    truncated = setup.truncated
    limit = setup.limit
    seed = setup.seed
    self.seconds = seconds
    self.tokens = tokens
    tokensPerSecond = seconds > 0 ? Double(tokens) / seconds : 0
  }

  /// A multiple-choice evaluation.
  public init(_ setup: Setup, result: EvaluationResult, lengthNormalized: Bool, chatTemplate: Bool = false) {
    self.init(setup, items: result.predictions.count, sequences: result.scores.map(\.count).reduce(0, +),
              seconds: result.seconds, tokens: result.tokens)
    metrics = result.metrics(task: setup.task)
    self.lengthNormalized = lengthNormalized
    self.chatTemplate = chatTemplate
    predictions = result.predictions
    labels = result.labels
    scores = result.scores
  }

  /// A loss evaluation of `examples` examples: mean `loss` over `scoredTokens` trained tokens.
  public init(_ setup: Setup, examples: Int, loss: Double, scoredTokens: Int, tokens: Int, seconds: Double) {
    self.init(setup, items: examples, sequences: examples, seconds: seconds, tokens: tokens)
    self.loss = loss
    perplexity = exp(loss)
    self.scoredTokens = scoredTokens
  }

  /// Pretty, key-sorted JSON.
  public func jsonData() throws -> Data {
    Data(try JSONValue(encoding: self).serialized([.pretty, .sortedKeys]))
  }

  /// Writes the JSON atomically (temporary file beside `path`, then rename), replacing an
  /// earlier report.
  public func write(to path: String) throws {
    try AtomicFileWriter.write(Array(try jsonData()), to: path, overwrite: true)
  }
}
