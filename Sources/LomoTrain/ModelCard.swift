import Foundation

/// `OUTPUT/README.md`: a short model card written from the run record, for whoever finds the
/// output folder (or publishes it): what the model was trained from and on, how, what it
/// scored, and how to run it.
public enum ModelCard {
  public static let fileName = "README.md"

  public static func render(_ r: RunRecord, format: TrainingOutput.Format) -> String {
    let o = r.options
    var lines = ["# \(r.name)", ""]
    lines.append("Fine-tuned by lomo from `\(r.model)` on `\(r.data.path)` (\(r.data.lines) lines, sha256 `\(r.data.sha256)`).")
    lines.append("")
    lines.append("| | |")
    lines.append("|---|---|")
    var rows: [(String, String)] = [
      ("status", r.status.rawValue + (r.ended.map { ", \($0)" } ?? "")),
      ("optimizer", "\(o.optimizer), lr \(String(format: "%g", o.learningRate)), \(o.schedule) schedule"),
      ("clipping", "grad norm \(String(format: "%g", o.clipGradNorm)), grad value \(String(format: "%g", o.clipGradValue))"),
      ("batch", "\(o.batchSize)" + (o.gradientAccumulationSteps > 1 ? " × \(o.gradientAccumulationSteps) accumulated" : "")),
      ("storage", "\(o.dtype)"),
      ("examples", "\(r.examples)"),
    ]
    if let res = r.result {
      rows.append(("steps", "\(res.steps) of \(res.totalSteps)"))
      rows.append(("time", String(format: "%.1f s (%.1f tokens/s)", res.seconds, res.tokensPerSecond)))
      if let loss = res.finalLoss { rows.append(("final training loss", String(format: "%.4f", loss))) }
      if let e = res.finalEvaluation { rows.append(("final evaluation", describe(e))) }
      if let e = res.bestEvaluation { rows.append(("best evaluation", describe(e))) }
    }
    if let e = r.evalData { rows.append(("evaluation data", "`\(e.path)` (\(e.lines) lines)")) }
    if let error = r.error { rows.append(("error", error.replacingOccurrences(of: "\n", with: " "))) }
    lines += rows.map { "| \($0.0) | \($0.1.replacingOccurrences(of: "|", with: "\\|")) |" }
    lines += ["", "## Use", ""]
    switch format {
    case .gguf:
      lines += ["```", "llama-cli -m final/model.gguf", "lomo generate --model final/model.gguf --prompt \"...\"", "```"]
    case .safetensors:
      lines += ["```", "python -c \"from transformers import pipeline; print(pipeline('text-generation', model='final')('...'))\"",
                "lomo generate --model final --prompt \"...\"", "```"]
    }
    lines += ["", "The options, data hash and results are in `\(RunRecord.fileName)`; the run's curves in `\(RunPlot.fileName)`:", "",
              "![training loss, evaluation and learning rate](\(RunPlot.fileName))", ""]
    return lines.joined(separator: "\n")
  }

  /// "step 40: accuracy 61.50%" or "step 40: loss 1.2345".
  static func describe(_ e: RunRecord.Evaluation) -> String {
    if let accuracy = e.accuracy {
      return "step \(e.step): accuracy \(EvaluationMetrics.percent(accuracy))\(e.metrics?.otherMetricsText ?? "")"
    }
    return "step \(e.step): loss " + (e.loss.map { String(format: "%.4f", $0) } ?? "-")
  }
}
