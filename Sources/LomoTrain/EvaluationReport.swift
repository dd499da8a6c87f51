import Foundation
import LomoCore
import LomoFormats

/// What `lomo eval --report` writes: the setup, the metrics and every prediction.
public struct EvaluationReport: Codable, Equatable, Sendable {
  public var model: String
  public var data: String
  public var format: String
  public var task: String?
  public var items: Int
  public var sequences: Int
  public var metrics: EvaluationMetrics
  public var lengthNormalized: Bool
  public var maxSequenceLength: Int
  public var truncated: Int
  public var limit: Int?
  public var seed: UInt64
  public var seconds: Double
  public var tokens: Int
  public var tokensPerSecond: Double
  public var predictions: [Int]
  public var labels: [Int]

  public init(model: String, data: String, format: DataFormat, task: SuperGLUETask?,
              result: EvaluationResult, lengthNormalized: Bool, maxSequenceLength: Int,
              truncated: Int, limit: Int?, seed: UInt64) {
    self.model = model
    self.data = data
    self.format = format.rawValue
    self.task = task?.rawValue
    items = result.predictions.count
    sequences = result.scores.map(\.count).reduce(0, +)
    metrics = result.metrics(task: task)
    self.lengthNormalized = lengthNormalized
    self.maxSequenceLength = maxSequenceLength
    self.truncated = truncated
    self.limit = limit
    self.seed = seed
    seconds = result.seconds
    tokens = result.tokens
    tokensPerSecond = result.tokensPerSecond
    predictions = result.predictions
    labels = result.labels
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
