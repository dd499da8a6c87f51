import Foundation
import LomoCore

/// Text and Markdown renderings of `BenchResult`s.
enum BenchReport {
  /// The ledger's peaks, in `MemoryCategory` order.
  static func ledgerColumns(_ r: BenchResult) -> [String] {
    MemoryCategory.allCases.map { Format.mebibytes(r.ledgerPeakBytes[$0.rawValue] ?? 0) }
  }

  /// A few aligned lines about one case.
  static func summary(_ r: BenchResult) -> String {
    let c = r.benchCase
    let passes = r.backwardPasses == 0 ? "forward only" : "\(r.backwardPasses) backward pass\(r.backwardPasses == 1 ? "" : "es")"
    var lines = [
      "lomo bench: \(c.model) (\(String(format: "%.1f", Double(r.parameterCount) / 1e6))M parameters), \(c.label), \(c.shape) (\(c.gradientAccumulationSteps == 1 ? "B×T" : "K×B×T")), \(r.machine)",
      String(format: "  step         %.3f s (median of %d after %d warm-up; %@)", r.medianStepSeconds, r.stepSeconds.count, r.warmupSteps, passes),
      String(format: "  tokens/s     %.1f", r.tokensPerSecond),
      String(format: "  model FLOPs  %.3f TFLOP/step, %.1f GFLOP/s, MFU %.1f%% of %.0f GFLOP/s (%@)",
             r.modelFLOPsPerStep / 1e12, r.achievedGFLOPS, r.mfu * 100, r.peak.gflops, r.peak.source),
      "  peak RSS     \(Format.mebibytes(r.peakRSSBytes)) MiB",
    ]
    if let user = r.userSecondsPerStep, let system = r.systemSecondsPerStep {
      lines.append(String(format: "  CPU          %.2f s user, %.2f s system per step (all threads)", user, system))
    }
    if let ranks = r.ranks {
      lines.append("  ranks        \(ranks.count) (ZeRO-3), each \(c.shape): peak RSS per rank "
        + ranks.peakRSSBytes.map(Format.mebibytes).joined(separator: ", ") + " MiB")
      lines.append(String(format: "  sent         %.1f MiB per step and rank (3Ψ of one backward pass: %.1f MiB)",
                          ranks.sentBytesPerStep / 1_048_576, ranks.zeroBytesPerStep / 1_048_576))
      lines.append(String(format: "  waited       %.3f s per step for weight gathers (not hidden behind compute), %.3f s in all-reduces and reduce-scatters",
                          ranks.gatherWaitSecondsPerStep, ranks.blockedSecondsPerStep))
    }
    if let s = r.streaming {
      let seconds = r.medianStepSeconds
      func rate(_ bytes: Double?) -> String {
        bytes.map { String(format: "%.2f GB (%.2f GB/s over the step)", $0 / 1e9, $0 / 1e9 / seconds) } ?? "unknown"
      }
      lines.append("  streamed     \(s.residentLayers) of \(s.layers) layers in memory, the rest in a \(Format.bytes(s.fileBytes)) file in \(s.folder)")
      lines.append("  disk         read \(rate(s.diskReadBytesPerStep)), written \(rate(s.diskWrittenBytesPerStep)) per step (/proc/self/io)")
      lines.append(String(format: "  layer I/O    %.2f GB read, %.2f GB written back per step; waited %.3f s per step for layers (not hidden behind compute)",
                          s.layerBytesReadPerStep / 1e9, s.layerBytesWrittenPerStep / 1e9, s.waitSecondsPerStep))
    }
    let ledger = zip(MemoryCategory.allCases, ledgerColumns(r))
      .filter { $0.0.isReported(peak: r.ledgerPeakBytes[$0.0.rawValue] ?? 0) }
      .map { ($0.rawValue, "\($1) MiB") }
    lines.append(TextTable.keyValue(ledger, indent: "    ", separator: " ", keyWidth: 15))
    return lines.joined(separator: "\n")
  }

  /// The `--matrix` table, then the training/inference peak-RSS ratio of every training case
  /// with checkpointing that has an inference case of the same model, dtype and shape.
  static func markdown(_ results: [BenchResult], machine: String, peaks: [DType: MachinePeak.Measurement]) -> String {
    let date = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withFullDate])
    var lines = [
      "lomo bench --matrix, \(date), \(machine). Peaks: " + peaks.sorted { $0.key.rawValue > $1.key.rawValue }
        .map { "\($0.key) \(String(format: "%.0f", $0.value.gflops)) GFLOP/s (\($0.value.source))" }
        .joined(separator: "; ") + ".",
      "",
      "| model | case | B×T | tokens/s | step s | MFU | peak RSS MiB | params | grads | optimizer | activations | scratch |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results {
      let c = r.benchCase
      lines.append("| \(c.model) | \(c.label) | \(c.shape) | "
        + String(format: "%.1f | %.2f | %.1f%% | ", r.tokensPerSecond, r.medianStepSeconds, r.mfu * 100)
        + "\(Format.mebibytes(r.peakRSSBytes)) | " + ledgerColumns(r).joined(separator: " | ") + " |")
    }
    lines.append("")
    for r in results where r.benchCase.activationCheckpointing && r.benchCase.mode != .inference {
      let c = r.benchCase
      guard let inference = results.first(where: {
        $0.benchCase.mode == .inference && $0.benchCase.model == c.model && $0.benchCase.dtype == c.dtype
          && $0.benchCase.batchSize == c.batchSize && $0.benchCase.seqLen == c.seqLen
      }) else { continue }
      lines.append(String(format: "Training / inference peak RSS, %@ %@ (B=%d, T=%d): %@ / %@ MiB = %.3f×",
                          c.model, c.label, c.batchSize, c.seqLen, Format.mebibytes(r.peakRSSBytes),
                          Format.mebibytes(inference.peakRSSBytes), Double(r.peakRSSBytes) / Double(inference.peakRSSBytes)))
    }
    return lines.joined(separator: "\n")
  }
}
