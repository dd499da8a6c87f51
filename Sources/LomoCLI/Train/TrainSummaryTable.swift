import Foundation
import LomoCore
import LomoTrain

/// The table `lomo train` prints when it is done: steps, time, speed, loss, evaluations,
/// memory peaks and where the models are.
enum TrainSummaryTable {
  static func render(_ s: TrainingSummary, evaluation: TrainingEvaluation?, saved: [(String, String)]) -> String {
    var rows: [(String, String)] = [
      ("steps", "\(s.steps)"),
      ("time", String(format: "%.1f s", s.seconds)),
      ("tokens/s", String(format: "%.1f", s.tokensPerSecond)),
      ("final loss", s.finalLoss.map { String(format: "%.4f", $0) } ?? "-"),
    ]
    if let evaluation, let last = evaluation.last {
      rows.append(("final evaluation", evaluation.describe(last.value, metrics: last.metrics)))
      if let best = s.bestScore { rows.append(("best evaluation", evaluation.describe(best))) }
    }
    rows.append(("peak RSS", MemoryEstimate.format(s.peakRSSBytes)))
    for c in MemoryCategory.allCases {
      rows.append(("peak \(c.rawValue)", MemoryEstimate.format(s.peakMemory[c] ?? 0)))
    }
    rows += saved
    let width = rows.map(\.0.count).max()!
    return rows.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
      .joined(separator: "\n")
  }
}
