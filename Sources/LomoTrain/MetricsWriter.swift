import Foundation
import LomoCore
import LomoFormats

#if canImport(Glibc)
  import Glibc
#endif

/// Writes one JSON object per step: exactly the keys `step`, `epoch`, `loss`, `lr`,
/// `grad_norm`, `tokens_per_s`, `rss_bytes`, `loss_scale`, `eta` (null where not measured);
/// and one per evaluation, told apart by its `eval_` keys (`evaluationLine`). Lines are flushed as written, so a crash loses at most the step in flight; a write that
/// fails (a full disk) throws `TrainingError.io` naming the file.
public final class MetricsWriter {
  public static let keys = ["step", "epoch", "loss", "lr", "grad_norm", "tokens_per_s",
                            "rss_bytes", "loss_scale", "eta"]
  let fd: Int32
  let path: String

  /// Creates (or, with `append`, continues) the file at `path`. The file is opened in place
  /// (truncated unless appending), never replaced: a device or a link stays what it is.
  public init(path: String, append: Bool = false) throws(TrainingError) {
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0o644)
    guard fd >= 0 else {
      throw TrainingError.io(path: path, problem: "cannot open the metrics file for writing (\(FileDescriptorWrite.reason(errno)))")
    }
    self.path = path
  }

  deinit { close(fd) }

  /// Appends the line of `m`.
  public func write(_ m: StepMetrics) throws(TrainingError) { try append(Self.line(m)) }

  /// Appends the line of an evaluation (see `evaluationLine`).
  public func write(_ e: PeriodicEvaluation, metrics: EvaluationMetrics?) throws(TrainingError) {
    try append(Self.evaluationLine(e, metrics: metrics))
  }

  private func append(_ line: String) throws(TrainingError) {
    let code = FileDescriptorWrite.all(fd, Array((line + "\n").utf8))
    if code != 0 {
      throw TrainingError.io(path: path, problem: "cannot write the metrics file (\(FileDescriptorWrite.reason(code)))")
    }
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

  /// The JSON line of one evaluation: `step`, then `eval_accuracy` and the task's other metrics
  /// (`eval_macro_f1`, `eval_f1a`, `eval_exact_match`) for multiple-choice items, or `eval_loss`
  /// (minus the score) for a loss evaluation (`metrics` nil), then `best`.
  public static func evaluationLine(_ e: PeriodicEvaluation, metrics: EvaluationMetrics?) -> String {
    var fields: [(String, JSONValue)] = [("step", JSONValue(e.step))]
    if let metrics {
      fields.append(("eval_accuracy", JSONValue(metrics.accuracy)))
      if let v = metrics.macroF1 { fields.append(("eval_macro_f1", JSONValue(v))) }
      if let v = metrics.f1a { fields.append(("eval_f1a", JSONValue(v))) }
      if let v = metrics.exactMatch { fields.append(("eval_exact_match", JSONValue(v))) }
    } else {
      fields.append(("eval_loss", JSONValue(-e.score)))
    }
    fields.append(("best", .bool(e.isBest)))
    return JSONValue.object(JSONObject(fields)).description
  }
}
