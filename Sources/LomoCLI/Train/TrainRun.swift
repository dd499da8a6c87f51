import ArgumentParser
import Foundation
import LomoCore
import LomoDistributed
import LomoFormats
import LomoModel
import LomoTrain

/// One `lomo train` run: load the model and the data, check memory, train with progress and
/// metrics (Ctrl-C: a resumable checkpoint), save final/ and best/, print the summary. The
/// output folder is locked for the whole run; a model folder that cannot be saved leaves the
/// trained weights in a resumable checkpoint (`CheckpointRescue`).
///
/// Under `mpirun -n N` every rank runs this with the same options: the model is sharded over
/// the ranks (ZeRO-3), each step takes N × --batch-size examples (see `Trainer`), and rank 0
/// alone claims the output folder, prints, writes metrics and assembles the saved models.
struct TrainRun {
  let command: Train
  let options: TrainingOptions
  let world = Communicator.world
  let progress: ProgressPrinter

  init(_ command: Train) {
    self.command = command
    options = command.trainingOptions
    progress = ProgressPrinter(every: 10, silent: world.rank != 0)
  }

  func run() throws {
    let out = command.output
    // The output folder first: claimed (created, writable, locked) and cleared of what dead
    // runs left, before anything slow happens (by rank 0, which writes there).
    let lock = world.rank == 0 ? try OutputLock(directory: out.output) : nil
    defer { lock?.release() }
    if lock != nil {
      for leftover in AtomicDirectory.removeStale(in: out.output) { progress.message(Self.describe(leftover)) }
    }
    let directory = URL(fileURLWithPath: out.output)
    if world.rank == 0, out.resume == nil, !out.overwrite {
      for name in ["final", "best"] where AtomicFileWriter.exists(directory.appendingPathComponent(name).path) {
        throw CommandError("\(directory.appendingPathComponent(name).path) exists; add --overwrite to replace it")
      }
    }
    if out.keepCheckpoints > 1 && world.size > 1 {
      throw CommandError("--keep-checkpoints above 1 runs in one process; over \(world.size) ranks the newest checkpoint is kept")
    }
    let streamFolder = command.streaming.folder(default: out.output)
    if streamFolder != nil {
      try StreamingPlan.check(optimizer: options.optimizer, ranks: world.size)
    } else {
      try StreamingPlan.refuseWeightsThatCannotFit(command.model.model, dtype: options.dtype, optimizer: options.optimizer,
                                                   ranks: world.size, ranksOnThisHost: world.ranksOnThisHost())
    }
    let loaded = try command.model.load(dtype: options.dtype, shardedOver: world, streamingLayersIn: streamFolder)
    let output = TrainingOutput(directory: directory, format: out.saveFormat ?? .matching(loaded.source),
                                source: loaded.source)
    let trainSet = try command.data.load(seed: options.seed)
    let examples = try tokenize(trainSet, loaded, file: command.data.data) { try $0.trainingExamples(&$1) }
    let evaluation = try command.evaluation.evalData.map { path in
      let data = try command.data.load(path, limit: command.evaluation.evalLimit, seed: options.seed)
      return try tokenize(data, loaded, file: path) { try TrainingEvaluation($0, builder: &$1) }
    }
    let llama = LlamaModel(parameters: loaded.parameters)
    let pad = loaded.padToken
    let trainer = try Trainer(model: llama, examples: examples, padToken: pad, options: options)
    let longest = max(trainer.maxSequenceLength, evaluation?.maxSequenceLength ?? 0)
    let estimate = try StreamingPlan.estimate(config: llama.config, options: options, maxSeqLen: longest,
                                              ranks: world.size, streamed: llama.parameters.streamed,
                                              streamBudget: command.streaming.streamBudget)
    try estimate.check(ranksOnThisHost: world.ranksOnThisHost())
    let name = trainSet.task?.rawValue ?? trainSet.format.rawValue
    let stepShape = options.gradientAccumulationSteps == 1
      ? "\(options.batchSize)" : "\(options.gradientAccumulationSteps) × \(options.batchSize)"
    let ranks = world.size > 1 ? " over \(world.size) ranks (\(world.size) × \(stepShape) per step, parameters sharded)" : ""
    progress.message("\(name): \(examples.count) examples, \(trainer.totalSteps) steps of \(stepShape)\(ranks); estimated peak memory \(Format.bytes(estimate.processBytes))")
    if let layers = llama.parameters.streamed { progress.message(StreamingPlan.describe(layers, of: llama.config)) }
    if let comparison = MemoryEstimate.accumulationComparison(config: llama.config, options: options,
                                                               maxSeqLen: longest) {
      progress.message(comparison)
    }

    let recorder = try world.rank != 0 ? nil : RunRecorder(
      RunRecord(command: CommandLine.arguments, model: loaded.source.path, name: output.name,
                data: DataFingerprint(path: command.data.data),
                evalData: command.evaluation.evalData.map { try DataFingerprint(path: $0) },
                examples: examples.count, options: options),
      output: output, warn: progress.message)
    do {
      try train(trainer, loaded: loaded, output: output, evaluation: evaluation, recorder: recorder)
    } catch {
      recorder?.fail(error)
      throw error
    }
  }

  /// Trains (resuming first with --resume), saves final/ and best/ and prints the summary.
  private func train(_ trainer: Trainer, loaded: LoadedModel, output: TrainingOutput,
                     evaluation: TrainingEvaluation?, recorder: RunRecorder?) throws {
    let out = command.output
    let llama = trainer.model
    let pad = loaded.padToken
    if let resume = out.resume {
      try trainer.resume(from: URL(fileURLWithPath: resume))
      progress.message("resumed from \(resume) at step \(trainer.step)")
    }
    if let evaluation {
      progress.message("evaluation: \(evaluation.description)")
      let scoring = EvaluationOptions(batchSize: options.batchSize, padToken: pad)
      trainer.evaluate = { model in try evaluation.score(model, options: scoring).value }
    }
    let metrics = try out.metrics.flatMap { world.rank == 0 ? try MetricsWriter(path: $0, append: out.resume != nil) : nil }
    var metricsFailed = false

    var learning = LearningCheck(options: options, totalSteps: trainer.totalSteps,
                                 warmupSteps: trainer.schedule.warmupSteps)
    if out.resume == nil, let note = learning.shortRunNote { progress.message("note: \(note)") }
    let interrupt = InterruptSignal()
    var bestSaveError: Error?
    // The ranks stop together: at any rank's interrupt or rank 0's failure to save best/.
    trainer.shouldStop = { [world] in world.any(interrupt.wasReceived || bestSaveError != nil) }
    let rescue = CheckpointRescue(trainer: trainer, output: output)
    let summary = try savingGoodWeights(with: rescue, output: output) { try trainer.run { event in
      switch event {
      case .step(let m):
        do { if !metricsFailed { try metrics?.write(m) } } catch {
          metricsFailed = true
          progress.message("warning: \(error); no more metrics are written, training goes on")
        }
        progress.step(m)
        recorder?.step(m)
        if let hint = learning.record(step: m.step, loss: m.loss) { progress.message("note: \(hint)") }
        if let every = out.saveEvery, m.step % every == 0, m.step < trainer.totalSteps {
          do {
            if world.rank == 0 { try output.rotateCheckpoints(keeping: out.keepCheckpoints) }
            try trainer.saveCheckpoint(to: output.checkpoint, overwrite: true)
          } catch {
            progress.message("warning: the checkpoint of step \(m.step) could not be written, training goes on: \(error)")
          }
        }
      case .evaluation(let r):
        let scored = evaluation?.last?.metrics
        let text = evaluation.map { $0.describe(r.score, metrics: scored) } ?? ""
        progress.message("step \(r.step): \(text)\(r.isBest ? " (best)" : "")")
        do { if !metricsFailed { try metrics?.write(r, metrics: scored) } } catch {
          metricsFailed = true
          progress.message("warning: \(error); no more metrics are written, training goes on")
        }
        recorder?.evaluation(r, isLoss: evaluation?.scoresLoss ?? false, metrics: scored)
        guard r.isBest else { return }
        // The last step's model is final/: best/ becomes a link to it, not a second copy.
        guard r.step < trainer.totalSteps else { return }
        do {
          try llama.parameters.exportingWhole { try output.save(llama.parameters, to: output.best, overwrite: true) }
        } catch { bestSaveError = error }
      }
    } }
    progress.finish()
    interrupt.stop()
    // Rank 0 saves best/; every rank takes the rescue path together when it failed.
    if world.any(bestSaveError != nil) {
      throw reportedByRankZero(rescue.failure(saving: "the best model \(output.best.path)", bestSaveError ?? Self.failedOnRankZero))
    }

    if summary.interrupted {
      let (place, failures) = try rescue.saveOrThrow(
        "interrupted at step \(summary.steps)/\(summary.totalSteps), but no checkpoint could be written:\n")
      for failure in failures { progress.message("warning: \(failure)") }
      progress.message("""
        interrupted at step \(summary.steps)/\(summary.totalSteps); saved \(place.path)
        resume with the same options plus: --resume \(place.path)
        """)
      throw reportedByRankZero(ExitCode(130))
    }
    var exported: ModelExporter.Summary?, finalSaveError: Error?
    do {
      exported = try llama.parameters.exportingWhole {
        try output.save(llama.parameters, to: output.final, overwrite: out.overwrite || out.resume != nil)
      }
    } catch { finalSaveError = error }
    // Every rank takes the rescue path together when rank 0 could not save final/.
    if world.any(finalSaveError != nil) {
      throw reportedByRankZero(rescue.failure(saving: "the final model \(output.final.path)", finalSaveError ?? Self.failedOnRankZero))
    }
    try settleCheckpoint(trainer, output: output)
    // The other ranks' part ends here: rank 0 reports.
    guard let saved = exported else { return }
    for missing in saved.missing { progress.message("warning: the saved model lacks \(missing)") }
    let bestStep = trainer.bestStep
    let bestIsFinal = bestStep == summary.steps
    if bestIsFinal {
      do { try output.linkBestToFinal() } catch {
        progress.message("warning: best/ could not be made a link to final/ (\(error)); final/ is the best model")
      }
    }
    let kind = output.format == .gguf
      ? "GGUF \(TrainingOutput.ggufType(options.dtype))" : "safetensors \(options.dtype)"
    var models = [("final model", "\(output.loadablePath(output.final))  (\(kind))")]
    if let bestStep, FileManager.default.fileExists(atPath: output.best.path) {
      let what = bestIsFinal ? "a link to final/" : "step \(bestStep), \(kind)"
      models.append(("best model", "\(output.loadablePath(output.best))  (\(what))"))
    }
    recorder?.finish(summary, trainer: trainer, evaluation: evaluation, finalModel: output.loadablePath(output.final),
                     bestModel: bestStep.map { _ in output.loadablePath(output.best) })
    print(TrainSummaryTable.render(summary, evaluation: evaluation, saved: models))
    let task = command.data.task.map { " --task \($0.rawValue)" } ?? ""
    print("\nevaluate with: lomo eval --model \(output.loadablePath(output.final)) --data \(command.evaluation.evalData ?? "FILE")\(task)")
  }

  /// Runs `train`; when it diverges with a non-finite value (`TrainingError.nonFinite`: the
  /// trainer stopped before the failed step, with finite weights) saves a resumable checkpoint
  /// of those weights and fails with the error, where it saved, and how to resume. When its loss
  /// explodes (`TrainingError.lossExploded`: the weights are wrecked) nothing is saved; the error
  /// says where the best model of the run is, if it has one.
  private func savingGoodWeights<T>(with rescue: CheckpointRescue, output: TrainingOutput, _ train: () throws -> T) throws -> T {
    do { return try train() } catch let error as TrainingError {
      if case .lossExploded(_, _, _, let lr) = error {
        progress.finish()
        let kept = rescue.trainer.bestStep.map { "the best model of this run, of step \($0), is in \(output.loadablePath(output.best))" }
          ?? "no earlier model was kept (with --eval-data the best one is)"
        throw reportedByRankZero(CommandError(
          "\(error)\n\(kept); start over with a lower --lr (e.g. \(String(format: "%g", Double(lr) / 3))) or --clip-grad-norm 1.0"))
      }
      guard case .nonFinite = error else { throw error }
      progress.finish()
      let (place, _) = try rescue.saveOrThrow("\(error)\nand no checkpoint of the last good weights could be written:\n")
      throw reportedByRankZero(CommandError("""
        \(error)
        saved a checkpoint of the weights after step \(rescue.trainer.step) to \(place.path): \
        resume with a lower --lr or --clip-grad-norm plus --resume \(place.path) \
        (finite is not good: if the steps before already went far off, start over instead)
        """))
    }
  }

  /// After final/ is saved: with --keep-checkpoint, OUTPUT/checkpoint is written at the last
  /// step (every rank its part); without, a checkpoint left there (--save-every, or the one
  /// resumed from) is removed, as the run no longer needs it.
  private func settleCheckpoint(_ trainer: Trainer, output: TrainingOutput) throws {
    if command.output.keepCheckpoint {
      try trainer.saveCheckpoint(to: output.checkpoint, overwrite: true)
      progress.message("kept \(output.checkpoint.path) at step \(trainer.step): --resume it with a larger --max-steps or --epochs to train on")
      return
    }
    let mine = trainer.checkpointFolder(output.checkpoint)
    guard world.any(FileManager.default.fileExists(atPath: mine.path)) else { return }
    try? FileManager.default.removeItem(at: mine)
    world.barrier()
    guard world.rank == 0 else { return }
    try? FileManager.default.removeItem(at: output.checkpoint)
    progress.message("removed \(output.checkpoint.path): the run is finished (--keep-checkpoint keeps it)")
  }

  /// `make(dataset, builder)` with an `ExampleBuilder` for `loaded`, warning when examples of
  /// `file` were truncated to --max-seq-len.
  private func tokenize<T>(_ dataset: Dataset, _ loaded: LoadedModel, file: String,
                           _ make: (Dataset, inout ExampleBuilder) throws -> T) throws -> T {
    var builder = try loaded.exampleBuilder(maxSequenceLength: command.data.maxSeqLen)
    builder.trainOn = command.chat.trainOn
    let result = try make(dataset, &builder)
    if builder.conversationsWithUntrainedTurns > 0 {
      progress.message("note: \(builder.conversationsWithUntrainedTurns) conversations of \(file) have several assistant turns; only the last is trained on (--train-on all trains every one)")
    }
    if builder.truncatedCount > 0 {
      progress.message("warning: \(builder.truncatedCount) examples of \(file) were longer than --max-seq-len \(command.data.maxSeqLen) and were truncated (the prompt loses its start)")
    }
    return result
  }

  /// `error`, the end of the run that every rank reached together (a failed save, an
  /// interrupt, a divergence): on ranks other than 0 this first waits in a barrier that rank 0
  /// never enters, so rank 0 prints the message and its MPI_Abort ends the job (otherwise a
  /// faster rank's abort could cut rank 0's message short). Itself in one process.
  private func reportedByRankZero(_ error: Error) -> Error {
    if world.rank != 0 { world.barrier() }
    return error
  }

  /// What the other ranks report when rank 0's save failed (rank 0 says why).
  static let failedOnRankZero = CommandError("rank 0 could not save the model (see its message)")

  /// The note for what `AtomicDirectory.removeStale` did in the output folder.
  static func describe(_ leftover: AtomicDirectory.Leftover) -> String {
    switch leftover {
    case .removedStaging(let path): "removed \(path), the unfinished save of a run that no longer runs"
    case .removedOld(let path): "removed \(path), a replaced folder that a run which no longer runs left behind"
    case .restored(let path, let original): "moved \(path) back to \(original): a run that no longer runs was replacing it"
    }
  }
}
