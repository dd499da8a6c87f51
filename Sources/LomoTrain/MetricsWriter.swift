import Foundation
import LomoCore
import LomoFormats

#if canImport(Glibc)
  import Glibc
#endif

/// Writes one JSON object per step: exactly the keys `step`, `epoch`, `loss`, `lr`,
/// `grad_norm`, `tokens_per_s`, `rss_bytes`, `loss_scale`, `eta` (null where not measured).
/// Lines are flushed as written, so a crash loses at most the step in flight; a write that
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
  public func write(_ m: StepMetrics) throws(TrainingError) {
    let code = FileDescriptorWrite.all(fd, Array((Self.line(m) + "\n").utf8))
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
}
