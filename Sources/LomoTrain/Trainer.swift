import Foundation
import LomoCore
import LomoModel
import LomoOptim

/// The training loop: epochs of length-grouped, padded batches in a seeded order, one
/// `LomoStep` per batch with the learning rate of the schedule, events through a closure,
/// evaluation every `evalEvery` steps, and exact checkpoints (`saveCheckpoint` / `resume`).
///
/// Over the N ranks of a sharded model (data parallel with ZeRO-3) a step takes N · K · B
/// examples of the same seeded order, rank r the r-th slice of K · B; the step's loss is the
/// whole step's, and every rank runs the same steps.
///
/// The run is a pure function of (initial weights, examples, options): the data order of epoch
/// e is `DataOrder.batches(seed: seed, epoch: e)`, and everything that changes while training
/// (step, position in the epoch, optimizer moments and rounding generator, loss scale) is in
/// the checkpoint, so an interrupted and resumed run ends with bit-identical parameters.
public final class Trainer {
  public let model: LlamaModel
  public let examples: [TokenizedExample]
  public let options: TrainingOptions
  public let padToken: Int32
  public var optimizer: any StepOptimizer { stepper.optimizer }
  public let stepper: LomoStep
  public let schedule: LearningRateSchedule
  public let batchesPerEpoch: Int
  /// Examples per optimizer step over all ranks (N · K · B).
  public let stepExamples: Int
  public let totalSteps: Int
  /// Scores the model (higher is better); called before the first step (the starting model
  /// competes for best), every `evalEvery` steps and at the end.
  public var evaluate: ((LlamaModel) throws -> Double)?
  /// Polled before every step; returning true ends `run` early (e.g. on SIGINT).
  public var shouldStop: () -> Bool = { false }

  public private(set) var step = 0
  public private(set) var epoch = 0
  /// Batches of the current epoch's order already run.
  public private(set) var position = 0
  public private(set) var bestScore: Double?
  /// The step of the best evaluation (0: the starting model).
  public private(set) var bestStep: Int?
  var elapsed: Double = 0
  var tokensSeen = 0
  let lengths: [Int]
  let fingerprint: UInt64
  let ledger: MemoryLedger
  /// Stops the run when the loss explodes (`TrainingError.lossExploded`).
  var divergence: DivergenceGuard

  public init(model: LlamaModel, examples: [TokenizedExample], padToken: Int32,
              options: TrainingOptions, ledger: MemoryLedger = .shared) throws {
    var problems = options.problems
    if model.parameters.dtype != options.dtype {
      problems.append("the model is stored as \(model.parameters.dtype), the options say \(options.dtype)")
    }
    if options.optimizer == .adamw && options.clipGradValue > 0 {
      problems.append("AdamW does not clip by value; use clip-grad-norm")
    }
    let ranks = model.parameters.communicator.size
    if ranks > 1 && (options.optimizer == .sgd || options.optimizer == .adamw) {
      problems.append("the \(options.optimizer) baseline runs in one process; over \(ranks) ranks use lomo or adalomo")
    }
    guard problems.isEmpty else { throw TrainingError.invalidOptions(problems) }
    guard !examples.isEmpty, examples.allSatisfy({ !$0.tokens.isEmpty }) else {
      throw TrainingError.noExamples
    }
    if let (id, index) = model.parameters.firstNonFinite() {
      throw TrainingError.nonFiniteModel(parameter: "\(id)", index: index)
    }
    self.model = model
    self.examples = examples
    self.options = options
    self.padToken = padToken
    self.ledger = ledger
    divergence = DivergenceGuard(vocabularySize: model.config.vocabSize)
    model.activationCheckpointing = options.activationCheckpointing
    lengths = examples.map(\.tokens.count)
    fingerprint = TrainingState.fingerprint(examples)
    stepExamples = options.sequencesPerStep * ranks
    batchesPerEpoch = (examples.count + stepExamples - 1) / stepExamples
    switch options.length {
    case .epochs(let e): totalSteps = e * batchesPerEpoch
    case .maxSteps(let s): totalSteps = s
    }
    schedule = LearningRateSchedule(peak: options.learningRate, shape: options.schedule,
                                    totalSteps: totalSteps, warmup: options.warmup)
    stepper = LomoStep(model: model, options: options, ledger: ledger)
  }

  /// The longest example, in tokens.
  public var maxSequenceLength: Int { lengths.max() ?? 0 }

  /// The predicted peak memory of this run on each of `ranks` (see `MemoryEstimate`).
  public static func estimate(config: LlamaConfig, options: TrainingOptions, maxSeqLen: Int,
                              ranks: Int = 1, residentLayers: Int? = nil) -> MemoryEstimate
  {
    MemoryEstimate(config: config, dtype: options.dtype, optimizer: options.optimizer,
                   batchSize: options.batchSize, maxSeqLen: maxSeqLen,
                   activationCheckpointing: options.activationCheckpointing,
                   microBatches: options.gradientAccumulationSteps, ranks: ranks,
                   residentLayers: residentLayers)
  }

  /// The batches of `epoch` (indices into `examples`), one per optimizer step: with gradient
  /// accumulation each holds the K · B examples of its K micro-batches, over N ranks the
  /// N · K · B of every rank's (`rankSlice`).
  public func order(ofEpoch epoch: Int) -> [[Int]] {
    DataOrder.batches(lengths: lengths, batchSize: stepExamples, seed: options.seed,
                      epoch: epoch, groupChunkBatches: options.groupChunkBatches)
  }

  /// Trains until `totalSteps` (or `stopAfter` steps in total, or `shouldStop()`), emitting an
  /// event per step and per evaluation (the first at step 0, of the starting model, unless the
  /// run resumes later). Evaluation errors propagate. A step that meets a non-finite loss, norm
  /// or update throws `TrainingError.nonFinite` with `step` still at the last completed step, so
  /// `saveCheckpoint` then saves the last good weights and position. A step whose loss has
  /// exploded (`DivergenceGuard`) throws `TrainingError.lossExploded` after its event: its
  /// update was applied, so the weights are not worth keeping.
  @discardableResult
  public func run(stopAfter: Int? = nil, onEvent: (TrainingEvent) -> Void = { _ in })
    throws -> TrainingSummary
  {
    ledger.resetPeaks()
    let end = min(totalSteps, stopAfter ?? totalSteps)
    let sessionStartStep = step
    var sessionSeconds = 0.0
    var lastLoss: Float?
    var interrupted = false
    if step == 0 && evaluate != nil && end > 0 && !shouldStop() { try runEvaluation(onEvent) }
    epochs: while step < end {
      let batches = order(ofEpoch: epoch)
      while position < batches.count {
        if step >= end { break epochs }
        if shouldStop() {
          interrupted = true
          break epochs
        }
        let indices = batches[position]
        let members = rankSlice(of: indices).map { examples[$0] }
        let batch = Batch(members, padToken: padToken, rowMultiple: options.batchSize)
        let tokens = indices.reduce(0) { $0 + examples[$1].tokens.count }
        let lr = schedule.learningRate(atStep: step)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let report = stepper.step(tokens: batch.tokens, targets: batch.targets, batch: batch.batch,
                                  time: batch.time, microBatches: batch.batch / options.batchSize,
                                  learningRate: lr)
        if let failure = report.failure {
          throw TrainingError.nonFinite(step: step + 1, learningRate: lr, failure: failure)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        step += 1
        position += 1
        sessionSeconds += seconds
        elapsed += seconds
        tokensSeen += tokens
        lastLoss = report.loss
        let perStep = sessionSeconds / Double(step - sessionStartStep)
        onEvent(.step(StepMetrics(
          step: step, epoch: epoch, loss: report.loss, learningRate: lr,
          gradientNorm: report.gradientNorm, tokensPerSecond: Double(tokens) / max(seconds, 1e-9),
          meanTokensPerSecond: Double(tokensSeen) / max(elapsed, 1e-9),
          rssBytes: ProcessMemory.residentBytes ?? 0,
          lossScale: stepper.lossScaler == nil ? nil : report.lossScale,
          etaSeconds: perStep * Double(totalSteps - step), skipped: report.skipped,
          totalSteps: totalSteps)))
        if divergence.exploded(report.loss), let limit = divergence.limit {
          throw TrainingError.lossExploded(step: step, loss: report.loss, limit: limit, learningRate: lr)
        }
        if options.evalEvery > 0 && step % options.evalEvery == 0 {
          try runEvaluation(onEvent)
        }
      }
      epoch += 1
      position = 0
    }
    if !interrupted && step == totalSteps && evaluate != nil
      && (options.evalEvery == 0 || step % options.evalEvery != 0)
    {
      try runEvaluation(onEvent)
    }
    let usage = ledger.usage
    return TrainingSummary(
      steps: step, totalSteps: totalSteps, seconds: elapsed, tokens: tokensSeen,
      tokensPerSecond: Double(tokensSeen) / max(elapsed, 1e-9),
      peakRSSBytes: ProcessMemory.peakResidentBytes ?? 0, peakMemory: usage.peak,
      peakLedgerBytes: usage.peakTotal, finalLoss: lastLoss, bestScore: bestScore,
      interrupted: interrupted || step < totalSteps)
  }

  /// This rank's part of a step's examples: the r-th K · B of them (fewer, or none, at the end
  /// of a short last step).
  func rankSlice(of step: [Int]) -> ArraySlice<Int> {
    let r = model.parameters.communicator.rank, share = options.sequencesPerStep
    return step[min(step.count, r * share)..<min(step.count, (r + 1) * share)]
  }

  func runEvaluation(_ onEvent: (TrainingEvent) -> Void) throws {
    guard let evaluate else { return }
    let score = try evaluate(model)
    let isBest = bestScore.map { score > $0 } ?? true
    if isBest {
      bestScore = score
      bestStep = step
    }
    onEvent(.evaluation(PeriodicEvaluation(step: step, score: score, isBest: isBest)))
  }

  // MARK: Checkpoints

  /// Where this rank's part of the checkpoint `directory` is: the directory itself in one
  /// process; over N ranks each rank's shards, optimizer state and a copy of the run's state
  /// in `rank-R-of-N/` (on a rank's own machine when the ranks do not share a disk).
  public func checkpointFolder(_ directory: URL) -> URL {
    let world = model.parameters.communicator
    guard world.isDistributed else { return directory }
    return directory.appendingPathComponent(Self.rankFolderName(rank: world.rank, ranks: world.size))
  }

  static func rankFolderName(rank: Int, ranks: Int) -> String { "rank-\(rank)-of-\(ranks)" }

  /// The checkpoint folder of this rank, or why `directory` does not hold one for this run's
  /// number of ranks (written by another number of ranks, or by one process).
  func resumableFolder(_ directory: URL) throws -> URL {
    let mine = checkpointFolder(directory)
    if FileManager.default.fileExists(atPath: mine.appendingPathComponent(ResumeCheckpoint.stateFile).path) {
      return mine
    }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    let written = names.compactMap { name -> Int? in
      let parts = name.split(separator: "-")
      return parts.count == 4 && parts[0] == "rank" && parts[2] == "of" ? Int(parts[3]) : nil
    }.max()
    let ranks = model.parameters.communicator.size
    if let written, written != ranks {
      throw TrainingError.checkpoint(path: directory.path, problem: "it was written by \(written) ranks; resume it with mpirun -n \(written)")
    }
    if ranks > 1, names.contains(ResumeCheckpoint.stateFile) {
      throw TrainingError.checkpoint(path: directory.path, problem: "it was written by one process; resume it without mpirun")
    }
    return mine
  }

  /// Writes a resumable checkpoint (atomically; an existing directory only with `overwrite`):
  /// the position, options and loss scaler, the optimizer's state (taken once: for AdamW it
  /// copies both moments), and the parameters beside them.
  ///
  /// Over several ranks every rank writes its part (`checkpointFolder`); the ranks then agree
  /// that all parts were written (a rank whose write failed makes every rank throw).
  public func saveCheckpoint(to directory: URL, overwrite: Bool = false) throws {
    let world = model.parameters.communicator
    var failure: Error?
    do { try writeCheckpoint(to: checkpointFolder(directory), overwrite: overwrite) } catch { failure = error }
    guard world.all(failure == nil) else {
      throw failure ?? TrainingError.checkpoint(path: directory.path, problem: "another rank could not write its part")
    }
  }

  private func writeCheckpoint(to directory: URL, overwrite: Bool) throws {
    let optimizerState = optimizer.state()
    let state = TrainingState(
      step: step, epoch: epoch, position: position, dataSeed: options.seed, options: options,
      optimizerIntegers: optimizerState.integers,
      lossScaler: stepper.lossScaler, bestScore: bestScore, bestStep: bestStep, exampleCount: examples.count,
      dataFingerprint: fingerprint, elapsedSeconds: elapsed, tokensSeen: tokensSeen)
    try ResumeCheckpoint.save(
      to: directory, state: state, parameters: model.parameters,
      optimizerArrays: optimizerState.arrays, overwrite: overwrite)
  }

  /// Continues from a checkpoint of a run with the same options and examples (the learning
  /// rate, clipping and evaluation cadence may differ, and so may the length: a run extended
  /// with a larger --max-steps or --epochs continues with its schedule stretched to the new
  /// length): checks every field of its state against this run (naming each option that
  /// differs) and its tensors against their checksums, then loads its parameters into the
  /// model and restores the position, optimizer and loss scaler.
  ///
  /// Over several ranks each rank reads its own part, written by a run of as many ranks.
  public func resume(from checkpoint: URL) throws {
    let directory = try resumableFolder(checkpoint)
    let path = directory.path
    let stored = try ResumeCheckpoint.loadState(from: directory)
    var mine = options
    let theirs = stored.options
    // Evaluation cadence does not change the arithmetic; the learning rate and clipping may
    // change on purpose: they are what a `TrainingError.nonFinite` tells the user to change.
    mine.evalEvery = theirs.evalEvery
    mine.learningRate = theirs.learningRate
    mine.clipGradNorm = theirs.clipGradNorm
    mine.clipGradValue = theirs.clipGradValue
    mine.length = theirs.length
    let differences = mine.differences(from: theirs)
    guard differences.isEmpty else {
      throw TrainingError.checkpoint(path: path, problem: "it was written with other training options: "
        + differences.joined(separator: ", ") + "; resume with the checkpoint's, or start a new run")
    }
    // A run made shorter than the checkpoint's step (one within the checkpoint's own length;
    // a step past that is a damaged state, for `problems` to name).
    let theirSteps: Int = switch theirs.length {
    case .epochs(let e):
      e.multipliedReportingOverflow(by: batchesPerEpoch).overflow ? .max : e * batchesPerEpoch
    case .maxSteps(let s): s
    }
    if stored.step > totalSteps && stored.step <= theirSteps {
      throw TrainingError.checkpoint(path: path, problem: "it is at step \(stored.step), past this run's \(totalSteps) steps; give a larger --max-steps or --epochs")
    }
    guard stored.exampleCount == examples.count, stored.dataFingerprint == fingerprint else {
      throw TrainingError.checkpoint(path: path, problem: "it was written for other training data")
    }
    let problems = stored.problems(totalSteps: totalSteps, batchesPerEpoch: batchesPerEpoch)
    guard problems.isEmpty else {
      throw TrainingError.checkpoint(path: directory.appendingPathComponent("state.json").path,
                                     problem: problems.joined(separator: "; "))
    }
    // The optimizer restores before the weights are copied: a state it refuses (changing
    // nothing, by its contract) leaves the model untouched too.
    let s = try ResumeCheckpoint.load(from: directory, into: model.parameters) { s, arrays throws(TrainingError) in
      do {
        try optimizer.restore(OptimizerState(arrays: arrays, integers: s.optimizerIntegers))
      } catch {
        throw TrainingError.checkpoint(path: path, problem: "\(error)")
      }
    }
    stepper.lossScaler = s.lossScaler
    step = s.step
    epoch = s.epoch
    position = s.position
    bestScore = s.bestScore
    bestStep = s.bestStep
    elapsed = s.elapsedSeconds
    tokensSeen = s.tokensSeen
  }
}
