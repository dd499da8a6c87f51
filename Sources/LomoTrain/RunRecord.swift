import Foundation
import LomoCore
import LomoFormats

/// `OUTPUT/run.json`: what a training run was and what it gave, for the user who comes back to
/// an output folder later (or a script comparing runs). Written when training starts (status
/// `running`) and rewritten, atomically, when it ends (`finished`, `interrupted` or `failed`,
/// with the result or the error). Keys are the property names below.
public struct RunRecord: Codable, Equatable, Sendable {
  public enum Status: String, Codable, Sendable { case running, finished, interrupted, failed }

  /// One evaluation: accuracy (and the task's other metrics, when known) for multiple-choice
  /// data, or the mean loss.
  public struct Evaluation: Codable, Equatable, Sendable {
    public var step: Int
    public var accuracy: Double?
    public var loss: Double?
    public var metrics: EvaluationMetrics?

    /// From a `TrainingEvaluation` score (higher is better: accuracy, or minus the loss).
    public init(step: Int, score: Double, isLoss: Bool, metrics: EvaluationMetrics? = nil) {
      self.step = step
      self.metrics = metrics
      if isLoss { loss = -score } else { accuracy = score }
    }
  }

  public struct Result: Codable, Equatable, Sendable {
    public var steps: Int
    public var totalSteps: Int
    public var seconds: Double
    public var tokensPerSecond: Double
    public var finalLoss: Float?
    public var peakRSSBytes: Int
    public var finalEvaluation: Evaluation?
    public var bestEvaluation: Evaluation?
    /// The models written, as loadable paths (best: nil when the run kept none).
    public var finalModel: String?
    public var bestModel: String?

    public init(_ s: TrainingSummary, finalEvaluation: Evaluation?, bestEvaluation: Evaluation?,
                finalModel: String?, bestModel: String?) {
      steps = s.steps
      totalSteps = s.totalSteps
      seconds = s.seconds
      tokensPerSecond = s.tokensPerSecond
      finalLoss = s.finalLoss.flatMap { $0.isFinite ? $0 : nil }
      peakRSSBytes = s.peakRSSBytes
      self.finalEvaluation = finalEvaluation
      self.bestEvaluation = bestEvaluation
      self.finalModel = finalModel
      self.bestModel = bestModel
    }
  }

  public var status: Status
  /// The command line, as given.
  public var command: [String]
  /// UTC, ISO 8601.
  public var started: String
  public var ended: String?
  /// The `--model` the run started from (a GGUF file or a Hugging Face folder).
  public var model: String
  /// The name written into the saved models' metadata (`general.name`).
  public var name: String
  public var data: DataFingerprint
  public var evalData: DataFingerprint?
  public var examples: Int
  /// Every option of the arithmetic, defaults resolved.
  public var options: TrainingOptions
  public var result: Result?
  /// Why the run failed (status `failed`).
  public var error: String?

  public init(command: [String], model: String, name: String, data: DataFingerprint,
              evalData: DataFingerprint?, examples: Int, options: TrainingOptions, started: Date = Date()) {
    status = .running
    self.command = command
    self.started = Self.timestamp(started)
    self.model = model
    self.name = name
    self.data = data
    self.evalData = evalData
    self.examples = examples
    self.options = options
  }

  public static let fileName = "run.json"

  /// E.g. "2026-12-03T15:20:00Z".
  public static func timestamp(_ date: Date) -> String {
    let f = ISO8601DateFormatter()
    f.timeZone = TimeZone(identifier: "UTC")
    return f.string(from: date)
  }

  /// Marks the run ended with `status`, now.
  public mutating func end(_ status: Status, result: Result? = nil, error: String? = nil, at date: Date = Date()) {
    self.status = status
    self.result = result
    self.error = error
    ended = Self.timestamp(date)
  }

  /// Writes `directory/run.json` atomically (pretty-printed), replacing an earlier one.
  public func write(to directory: URL) throws {
    let json = try JSONValue(encoding: self)
    var bytes = json.serialized(.pretty)
    bytes.append(0x0a)
    try AtomicFileWriter.write(bytes, to: directory.appendingPathComponent(Self.fileName).path, overwrite: true)
  }

  /// Reads a `run.json` (strictly: `JSONField`'s checks and paths in errors).
  public static func read(_ path: String) throws -> RunRecord {
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    return try JSONField(try JSONValue(parsing: bytes), path: path).decode(RunRecord.self)
  }
}
