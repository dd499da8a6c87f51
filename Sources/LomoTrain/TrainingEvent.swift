import Foundation
import LomoCore

/// What a `Trainer` reports while it runs; the library never prints, the caller renders these.
public enum TrainingEvent: Sendable {
  case step(StepMetrics)
  case evaluation(PeriodicEvaluation)
}

/// One optimizer step, as written to the metrics file.
public struct StepMetrics: Sendable, Equatable {
  /// Steps completed so far (1 for the first).
  public var step: Int
  /// 0-based epoch the step belongs to.
  public var epoch: Int
  /// Mean cross-entropy of the batch before the update.
  public var loss: Float
  /// Learning rate the step ran with.
  public var learningRate: Float
  /// Global norm of the unscaled gradients when it was measured (clipping, loss scaling,
  /// baselines), else nil.
  public var gradientNorm: Double?
  /// Non-padding tokens of the batch per second of this step.
  public var tokensPerSecond: Double
  /// Resident set size after the step.
  public var rssBytes: Int
  /// The loss scale the step ran with when dynamic scaling is on, else nil.
  public var lossScale: Float?
  /// Estimated seconds to the end of training.
  public var etaSeconds: Double
  /// The step was skipped (loss-scale overflow).
  public var skipped: Bool
  public var totalSteps: Int
}

/// One evaluation: the caller's score (higher is better) and whether it is the best so far
/// (the caller keeps the best checkpoint when `isBest`).
public struct PeriodicEvaluation: Sendable, Equatable {
  public var step: Int
  public var score: Double
  public var isBest: Bool
}

/// Writes one JSON object per step: exactly the keys `step`, `epoch`, `loss`, `lr`,
/// `grad_norm`, `tokens_per_s`, `rss_bytes`, `loss_scale`, `eta` (null where not measured).
/// Lines are flushed as written, so a crash loses at most the step in flight.
public final class MetricsWriter {
  public static let keys = ["step", "epoch", "loss", "lr", "grad_norm", "tokens_per_s",
                            "rss_bytes", "loss_scale", "eta"]
  let handle: FileHandle

  /// Creates (or, with `append`, continues) the file at `path`.
  public init(path: String, append: Bool = false) throws {
    let fm = FileManager.default
    if !append || !fm.fileExists(atPath: path) {
      guard fm.createFile(atPath: path, contents: nil) else {
        throw TrainingError.io(path: path, problem: "cannot create the metrics file")
      }
    }
    guard let h = FileHandle(forWritingAtPath: path) else {
      throw TrainingError.io(path: path, problem: "cannot open the metrics file for writing")
    }
    handle = h
    if append { h.seekToEndOfFile() }
  }

  deinit { try? handle.close() }

  public func write(_ m: StepMetrics) {
    handle.write(Data((Self.line(m) + "\n").utf8))
  }

  /// The JSON line of one step (keys in `keys` order; a value not measured, or not finite, is
  /// null; floats are the shortest decimals that read back as the Float or Double).
  public static func line(_ m: StepMetrics) -> String {
    let values: [JSONValue] = [
      JSONValue(m.step), JSONValue(m.epoch), JSONValue(m.loss), JSONValue(m.learningRate),
      m.gradientNorm.map(JSONValue.init) ?? .null, JSONValue(m.tokensPerSecond),
      JSONValue(m.rssBytes), m.lossScale.map(JSONValue.init) ?? .null, JSONValue(m.etaSeconds),
    ]
    return JSONValue.object(JSONObject(Array(zip(keys, values)))).description
  }
}
