import Foundation

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
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(self)
  }

  /// Writes the JSON to a temporary file beside `path`, then renames it over `path`.
  public func write(to path: String) throws {
    try AtomicFile.write(try jsonData(), to: path)
  }
}

/// Whole-file writes that never leave a partial file: temporary file in the same folder, then
/// rename(2).
public enum AtomicFile {
  public static func write(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent()
      .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
    do {
      try data.write(to: temporary)
      guard rename(temporary.path, url.path) == 0 else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path,
          NSLocalizedDescriptionKey: String(cString: strerror(errno))])
      }
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      throw error
    }
  }
}
