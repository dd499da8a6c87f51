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
    rows.append(("peak RSS", Format.bytes(s.peakRSSBytes)))
    for c in MemoryCategory.allCases where c.isReported(peak: s.peakMemory[c] ?? 0) {
      rows.append(("peak \(c.rawValue)", Format.bytes(s.peakMemory[c] ?? 0)))
    }
    rows += saved
    return TextTable.keyValue(rows)
  }
}
