import ArgumentParser
import Foundation
import LomoTrain

/// Keeps a training run's record, model card and plot in the output folder up to date
/// (`TrainingOutput.writeRecord`): written when training starts, at every evaluation and when
/// the run ends, however it ends. A write that fails is a warning: training goes on.
final class RunRecorder {
  private(set) var record: RunRecord
  private(set) var plot = RunPlot()
  let output: TrainingOutput
  let warn: (String) -> Void
  private var bestEvaluation: RunRecord.Evaluation?
  private var failedOnce = false

  init(_ record: RunRecord, output: TrainingOutput, warn: @escaping (String) -> Void) {
    self.record = record
    self.output = output
    self.warn = warn
    save()
  }

  func step(_ m: StepMetrics) { plot.record(m) }

  func evaluation(_ e: PeriodicEvaluation, isLoss: Bool, metrics: EvaluationMetrics?) {
    plot.record(e, isLoss: isLoss)
    if e.isBest { bestEvaluation = RunRecord.Evaluation(step: e.step, score: e.score, isLoss: isLoss, metrics: metrics) }
    save()
  }

  /// The run ended with `summary`: the final and best evaluations and the models written.
  func finish(_ summary: TrainingSummary, trainer: Trainer, evaluation: TrainingEvaluation?,
              finalModel: String, bestModel: String?) {
    let isLoss = evaluation?.scoresLoss ?? false
    let last = evaluation?.last.map {
      RunRecord.Evaluation(step: summary.steps, score: $0.value, isLoss: isLoss, metrics: $0.metrics)
    }
    var best = bestEvaluation
    if best == nil, let step = trainer.bestStep, let score = trainer.bestScore {  // from before a resume
      best = RunRecord.Evaluation(step: step, score: score, isLoss: isLoss)
    }
    record.end(.finished, result: RunRecord.Result(summary, finalEvaluation: last, bestEvaluation: best,
                                                   finalModel: finalModel, bestModel: bestModel))
    save()
  }

  /// The run ended with `error` (an interrupt: status `interrupted`).
  func fail(_ error: Error) {
    if let code = error as? ExitCode, code.rawValue == 130 {
      record.end(.interrupted)
    } else {
      record.end(.failed, error: "\(error)")
    }
    save()
  }

  private func save() {
    do { try output.writeRecord(record, plot: plot) } catch {
      if !failedOnce { warn("warning: the run record could not be written (\(error)); training goes on") }
      failedOnce = true
    }
  }
}
