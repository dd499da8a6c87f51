import ArgumentParser
import Dispatch
import Foundation
import LomoCore
import LomoKernels
import LomoModel
import LomoOptim
import LomoTrain
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// `lomo train`: full-parameter fine-tuning from a JSONL file.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Fine-tune every parameter of a model on a JSONL data file (LOMO by default).",
    discussion: """
      Every option can also come from --config FILE (flat YAML or JSON, keys are the long \
      option names, e.g. 'max-steps: 100' or {"lr": 0.01}); options given on the command line \
      override the file. Before training, the run's peak memory is estimated and the run is \
      refused when it exceeds the machine's available memory.

      The output folder (--output OUTPUT):
        OUTPUT/final/       the model after the last step
        OUTPUT/best/        the model at the best evaluation (with --eval-data)
        OUTPUT/checkpoint/  Ctrl-C: a resumable checkpoint (lomo's own format);
                            continue: same options + --resume OUTPUT/checkpoint
      With --save-format gguf, final/ and best/ hold model.gguf (llama.cpp; tensors in the \
      --dtype storage type, tokenizer metadata copied from a GGUF --model). With safetensors \
      they are Hugging Face folders (config.json, model.safetensors, tokenizer files) that \
      transformers loads. Either loads back with lomo eval --model.
      """)

  @Option(help: "A .gguf file, a Hugging Face folder, or '\(ModelSource.defaultName)'. (default: \(ModelSource.defaultName))")
  var model: String?

  @Option(help: "Training data, JSONL, one example per line: a SuperGLUE file (with --task), {\"prompt\", \"completion\"}, {\"prompt\", \"choices\", \"label\"} (trains on the gold choice), {\"messages\"}, {\"text\"} or {\"input_ids\"[, \"labels\"]}. (required)")
  var data: String?

  @Option(help: "Evaluation data, same formats. Multiple-choice data (SuperGLUE, choices) is scored by accuracy, anything else by mean loss (score = minus the loss). (default: none)")
  var evalData: String?

  @Option(help: "SuperGLUE task of --data and --eval-data: \(SuperGLUETask.allCases.map(\.rawValue).joined(separator: ", ")). (default: detected from the fields)")
  var task: String?

  @Option(help: "Data format: \(DataFormat.allCases.map(\.rawValue).joined(separator: ", ")). (default: detected from the fields)")
  var format: String?

  @Option(help: "Train on at most this many examples of --data, sampled with --seed. (default: all)")
  var limit: Int?

  @Option(help: "Evaluate on at most this many examples of --eval-data, sampled with --seed. (default: all)")
  var evalLimit: Int?

  @Option(help: "Optimizer: lomo, adalomo, sgd or adamw. (default: lomo)")
  var optimizer: String?

  @Option(help: "Peak learning rate. (default: 0.001)")
  var lr: Float?

  @Option(help: "Learning-rate schedule: constant, linear or cosine. (default: linear)")
  var lrSchedule: String?

  @Option(help: "Warmup: a step count (e.g. 10) or a ratio of the total steps (e.g. 0.1). (default: 0)")
  var warmup: String?

  @Option(help: "Passes over the training data. (default: 1)")
  var epochs: Int?

  @Option(help: "Stop after this many steps instead of whole epochs. (default: none)")
  var maxSteps: Int?

  @Option(help: "Examples per step. (default: 8)")
  var batchSize: Int?

  @Option(help: "Longest sequence in tokens; longer examples lose the start of their prompt, with a warning count. (default: 512)")
  var maxSeqLen: Int?

  @Option(help: "Weight storage: f32, bf16 or f16 (f16 uses dynamic loss scaling). (default: f32)")
  var dtype: String?

  @Option(help: "Clip gradients to this global norm; 0 is off. (default: 0)")
  var clipGradNorm: Float?

  @Option(help: "Clamp each gradient element to ± this value; 0 is off. (default: 0)")
  var clipGradValue: Float?

  @Option(help: "Decoupled weight decay. (default: 0)")
  var weightDecay: Float?

  @Flag(help: "Keep only each layer's input in forward and recompute in backward. (default: off)")
  var activationCheckpointing = false

  @Option(help: "Seed of the data order, of --limit/--eval-limit sampling and of stochastic rounding. (default: 42)")
  var seed: UInt64?

  @Option(help: "Evaluate on --eval-data every N steps (0: only at the end). (default: 0)")
  var evalEvery: Int?

  @Option(help: "Output folder: OUTPUT/final (the trained model), OUTPUT/best (best evaluation), OUTPUT/checkpoint (Ctrl-C, resumable). (required)")
  var output: String?

  @Option(help: "Format of final/ and best/: gguf (final/model.gguf) or safetensors (a Hugging Face folder). (default: gguf when --model is a GGUF file, else safetensors)")
  var saveFormat: String?

  @Option(help: "Write one JSON object per step to this file. (default: none)")
  var metrics: String?

  @Option(help: "Continue bit-exactly from a checkpoint directory written by an earlier run. (default: none)")
  var resume: String?

  @Flag(help: "Replace existing outputs. (default: off: an existing output is never overwritten)")
  var overwrite = false

  @Option(help: "Read options from a YAML or JSON file; command-line options override it. (default: none)")
  var config: String?

  @Option(help: "Worker threads. (default: all cores)")
  var threads: Int?

  func run() throws {
    let settings = try TrainSettings(self)
    Runtime.setThreadCount(threads ?? Threads.hardwareCount)
    try TrainRun(settings).run()
  }
}

/// The options of `lomo train` after merging the config file, with defaults applied and checked.
struct TrainSettings {
  var model: String?
  var data: String
  var evalData: String?
  var task: SuperGLUETask?
  var format: DataFormat?
  var limit: Int?
  var evalLimit: Int?
  var maxSeqLen = 512
  var output: String
  /// nil: the format of the source model.
  var saveFormat: TrainingOutput.Format?
  var metrics: String?
  var resume: String?
  var overwrite: Bool
  var training = TrainingOptions()

  static let keys: Set<String> = [
    "model", "data", "eval-data", "task", "format", "limit", "eval-limit", "optimizer", "lr", "lr-schedule", "warmup",
    "epochs", "max-steps", "batch-size", "max-seq-len", "dtype", "clip-grad-norm",
    "clip-grad-value", "weight-decay", "activation-checkpointing", "seed", "eval-every", "output",
    "save-format", "metrics", "resume", "overwrite",
  ]

  init(_ c: Train) throws {
    let file = try c.config.map { try TrainConfigFile(path: $0) }
    try file?.checkKeys(Self.keys)
    let v = file?.values ?? [:]
    func text(_ flag: String?, _ key: String) -> String? { flag ?? v[key] }
    func parse<T: LosslessStringConvertible>(_ flag: T?, _ key: String) throws -> T? {
      if let flag { return flag }
      guard let s = v[key] else { return nil }
      guard let x = T(s) else { throw ValidationError("config \(key): cannot read '\(s)'") }
      return x
    }
    func flag(_ given: Bool, _ key: String) throws -> Bool {
      if given { return true }
      guard let s = v[key] else { return false }
      guard let b = Bool(s.lowercased()) else { throw ValidationError("config \(key): expected true or false") }
      return b
    }

    model = text(c.model, "model")
    guard let data = text(c.data, "data") else { throw ValidationError("--data is required") }
    self.data = data
    evalData = text(c.evalData, "eval-data")
    guard let output = text(c.output, "output") else { throw ValidationError("--output is required") }
    self.output = output
    if let name = text(c.task, "task") {
      guard let task = SuperGLUETask(name: name) else {
        throw ValidationError("unknown --task '\(name)'; known: \(SuperGLUETask.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      self.task = task
    }
    if let name = text(c.format, "format") {
      guard let format = DataFormat(rawValue: name) else {
        throw ValidationError("unknown --format '\(name)'; known: \(DataFormat.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      self.format = format
    }
    if task != nil, let format, format != .superglue {
      throw ValidationError("--task needs --format superglue (or no --format)")
    }
    limit = try parse(c.limit, "limit")
    evalLimit = try parse(c.evalLimit, "eval-limit")
    if let l = limit, l < 1 { throw ValidationError("--limit must be at least 1") }
    if let l = evalLimit, l < 1 { throw ValidationError("--eval-limit must be at least 1") }
    maxSeqLen = try parse(c.maxSeqLen, "max-seq-len") ?? 512
    if let name = text(c.saveFormat, "save-format") {
      guard let format = TrainingOutput.Format(rawValue: name) else {
        throw ValidationError("--save-format must be gguf or safetensors")
      }
      saveFormat = format
    }
    metrics = text(c.metrics, "metrics")
    resume = text(c.resume, "resume")
    overwrite = try flag(c.overwrite, "overwrite")

    var t = TrainingOptions()
    let optimizer = text(c.optimizer, "optimizer") ?? "lomo"
    guard let kind = OptimizerKind(rawValue: optimizer) else {
      throw ValidationError("--optimizer must be lomo, adalomo, sgd or adamw")
    }
    t.optimizer = kind
    t.learningRate = try parse(c.lr, "lr") ?? 1e-3
    let schedule = text(c.lrSchedule, "lr-schedule") ?? "linear"
    guard let shape = LearningRateSchedule.Shape(rawValue: schedule) else {
      throw ValidationError("--lr-schedule must be constant, linear or cosine")
    }
    t.schedule = shape
    let warmup = text(c.warmup, "warmup") ?? "0"
    if let n = Int(warmup) { t.warmup = .steps(n) } else if let r = Double(warmup), r < 1 {
      t.warmup = .ratio(r)
    } else {
      throw ValidationError("--warmup must be a step count or a ratio below 1")
    }
    if let steps: Int = try parse(c.maxSteps, "max-steps") {
      t.length = .maxSteps(steps)
    } else {
      t.length = .epochs(try parse(c.epochs, "epochs") ?? 1)
    }
    t.batchSize = try parse(c.batchSize, "batch-size") ?? 8
    let dtype = text(c.dtype, "dtype") ?? "f32"
    guard let d = DType(rawValue: dtype) else { throw ValidationError("--dtype must be f32, bf16 or f16") }
    t.dtype = d
    t.clipGradNorm = try parse(c.clipGradNorm, "clip-grad-norm") ?? 0
    t.clipGradValue = try parse(c.clipGradValue, "clip-grad-value") ?? 0
    t.weightDecay = try parse(c.weightDecay, "weight-decay") ?? 0
    t.activationCheckpointing = try flag(c.activationCheckpointing, "activation-checkpointing")
    t.seed = try parse(c.seed, "seed") ?? 42
    t.evalEvery = try parse(c.evalEvery, "eval-every") ?? 0
    training = t
    var problems = t.problems
    if maxSeqLen < 2 { problems.append("max-seq-len must be at least 2") }
    if !problems.isEmpty { throw ValidationError(problems.joined(separator: "; ")) }
  }
}

/// Set by SIGINT; polled by the trainer before each step.
final class StopFlag: Sendable {
  let stop = Atomic<Bool>(false)
}

/// One `lomo train` run: load, check memory, train with progress and metrics, save.
struct TrainRun {
  let s: TrainSettings
  init(_ s: TrainSettings) { self.s = s }

  func run() throws {
    let fm = FileManager.default
    let out = URL(fileURLWithPath: s.output)
    let progress = ProgressPrinter(every: 10)
    let loaded = try LoadedModel(s.model, dtype: s.training.dtype)
    let output = TrainingOutput(directory: out, format: s.saveFormat ?? .matching(loaded.source),
                                source: loaded.source)
    if s.resume == nil, !s.overwrite {
      for existing in [output.final, output.best] where fm.fileExists(atPath: existing.path) {
        throw ValidationError("\(existing.path) exists; pass --overwrite to replace it")
      }
    }
    func builder() -> ExampleBuilder {
      ExampleBuilder(encoder: loaded.tokenizer, maxSequenceLength: s.maxSeqLen,
                     chatTemplate: loaded.chatTemplate, vocabularySize: loaded.parameters.config.vocabSize)
    }
    func warnTruncated(_ b: ExampleBuilder, of count: Int, _ file: String) {
      if b.truncatedCount > 0 {
        progress.message("warning: \(b.truncatedCount) of \(count) examples of \(file) were longer than --max-seq-len \(s.maxSeqLen) and were truncated (the prompt loses its start)")
      }
    }
    let trainSet = try Dataset.load(path: s.data, format: s.format, task: s.task)
      .sampled(s.limit, seed: s.training.seed)
    var trainBuilder = builder()
    let examples = try trainSet.trainingExamples(&trainBuilder)
    warnTruncated(trainBuilder, of: examples.count, s.data)
    let eval = try s.evalData.map { path in
      try EvalData(path: path, settings: s, builder: builder(), warn: warnTruncated)
    }
    let llama = LlamaModel(parameters: loaded.parameters)
    let pad = loaded.tokenizer.padID ?? loaded.tokenizer.eosID ?? 0
    let trainer = try Trainer(model: llama, examples: examples, padToken: pad, options: s.training)
    let estimate = Trainer.estimate(config: llama.config, options: s.training,
                                    maxSeqLen: max(trainer.maxSequenceLength, eval?.maxSequenceLength ?? 0))
    try estimate.check()
    let taskName = trainSet.task?.rawValue ?? trainSet.format.rawValue
    progress.message("\(taskName): \(examples.count) examples, \(trainer.totalSteps) steps of \(s.training.batchSize); estimated peak memory \(MemoryEstimate.format(estimate.processBytes))")

    if let resume = s.resume {
      try trainer.resume(from: URL(fileURLWithPath: resume))
      progress.message("resumed from \(resume) at step \(trainer.step)")
    }
    if let eval {
      progress.message("evaluation: \(eval.description)")
      trainer.evaluate = { model in try eval.score(model, batchSize: s.training.batchSize, pad: pad) }
    }
    try fm.createDirectory(at: out, withIntermediateDirectories: true)
    let writer = try s.metrics.map { try MetricsWriter(path: $0, append: s.resume != nil) }

    let flag = StopFlag()
    signal(SIGINT, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    source.setEventHandler {
      if flag.stop.exchange(true, ordering: .relaxed) { _exit(130) }  // a second Ctrl-C: now
    }
    source.resume()
    trainer.shouldStop = { flag.stop.load(ordering: .relaxed) }

    var saveError: Error?
    let summary = try trainer.run { event in
      switch event {
      case .step(let m):
        writer?.write(m)
        progress.step(m)
      case .evaluation(let r):
        progress.message("step \(r.step): \(eval?.describe(r.score, metrics: eval?.last?.metrics) ?? "")\(r.isBest ? " (best)" : "")")
        if r.isBest {
          do {
            try output.save(llama.parameters, to: output.best, overwrite: true)
          } catch { saveError = error }
        }
      }
    }
    progress.finish()
    if let saveError { throw saveError }
    source.cancel()

    if summary.interrupted {
      let checkpoint = output.checkpoint
      try trainer.saveCheckpoint(to: checkpoint, overwrite: true)
      progress.message("""
        interrupted at step \(summary.steps)/\(summary.totalSteps); saved \(checkpoint.path)
        resume with the same options plus: --resume \(checkpoint.path)
        """)
      throw ExitCode(130)
    }
    let saved = try output.save(llama.parameters, to: output.final, overwrite: s.overwrite || s.resume != nil)
    for missing in saved.missing { progress.message("warning: the saved model lacks \(missing)") }
    var models = [("final model", output.loadablePath(output.final))]
    if summary.bestScore != nil, fm.fileExists(atPath: output.best.path) {
      models.append(("best model", output.loadablePath(output.best)))
    }
    let kind = output.format == .gguf
      ? "GGUF \(TrainingOutput.ggufType(s.training.dtype))" : "safetensors \(s.training.dtype)"
    print(Self.summaryTable(summary, eval: eval, saved: models.map { ($0.0, "\($0.1)  (\(kind))") }))
    print("\nevaluate with: lomo eval --model \(output.loadablePath(output.final)) --data FILE")
  }

  static func summaryTable(_ s: TrainingSummary, eval: EvalData?, saved: [(String, String)]) -> String {
    var rows: [(String, String)] = [
      ("steps", "\(s.steps)"),
      ("time", String(format: "%.1f s", s.seconds)),
      ("tokens/s", String(format: "%.1f", s.tokensPerSecond)),
      ("final loss", s.finalLoss.map { String(format: "%.4f", $0) } ?? "-"),
    ]
    if let eval, let last = eval.last {
      rows.append(("final evaluation", eval.describe(last.score, metrics: last.metrics)))
      if let best = s.bestScore { rows.append(("best evaluation", eval.describe(best))) }
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

/// The evaluation data of `lomo train`: multiple-choice items scored by the `Evaluator`
/// (score = accuracy), or other examples scored by their mean loss (score = minus the loss).
final class EvalData {
  enum Kind {
    case choices([MultipleChoiceItem], SuperGLUETask?)
    case loss([TokenizedExample])
  }
  let kind: Kind
  let name: String
  /// The latest evaluation: its score and, for multiple choice, every metric.
  var last: (score: Double, metrics: EvaluationMetrics?)?

  init(path: String, settings s: TrainSettings, builder: ExampleBuilder,
       warn: (ExampleBuilder, Int, String) -> Void) throws {
    let data = try Dataset.load(path: path, format: s.format, task: s.task).sampled(s.evalLimit, seed: s.training.seed)
    var b = builder
    name = data.task?.rawValue ?? data.format.rawValue
    if data.isMultipleChoice {
      let items = try data.evaluationItems(&b)
      kind = .choices(items, data.task)
      warn(b, items.count, path)
    } else {
      let examples = try data.trainingExamples(&b)
      kind = .loss(examples)
      warn(b, examples.count, path)
    }
  }

  var description: String {
    switch kind {
    case .choices(let items, _): "\(name), \(items.count) multiple-choice items, scored by accuracy"
    case .loss(let examples): "\(name), \(examples.count) examples, scored by mean loss"
    }
  }

  /// The longest sequence the evaluation runs, in tokens.
  var maxSequenceLength: Int {
    switch kind {
    case .choices(let items, _): items.map { $0.prompt.count + ($0.candidates.map(\.count).max() ?? 1) - 1 }.max() ?? 0
    case .loss(let examples): examples.map(\.tokens.count).max() ?? 0
    }
  }

  /// Higher is better: accuracy, or minus the mean loss.
  func score(_ model: LlamaModel, batchSize: Int, pad: Int32) throws -> Double {
    switch kind {
    case .choices(let items, let task):
      let evaluator = Evaluator(model: model, options: EvaluationOptions(batchSize: batchSize, padToken: pad))
      let metrics = try evaluator.evaluate(items).metrics(task: task)
      last = (metrics.accuracy, metrics)
    case .loss(let examples):
      var total = 0.0, tokens = 0
      for start in stride(from: 0, to: examples.count, by: batchSize) {
        let batch = Batch(Array(examples[start..<min(start + batchSize, examples.count)]), padToken: pad)
        let r = model.loss(tokens: batch.tokens, targets: batch.targets, batch: batch.batch, time: batch.time)
        total += Double(r.meanLoss) * Double(r.tokenCount)
        tokens += r.tokenCount
      }
      last = (-total / Double(max(tokens, 1)), nil)
    }
    return last!.score
  }

  func describe(_ score: Double, metrics: EvaluationMetrics? = nil) -> String {
    switch kind {
    case .choices:
      var text = String(format: "eval accuracy %.2f%%", 100 * score)
      if let f1 = metrics?.macroF1 { text += String(format: ", macro-F1 %.2f%%", 100 * f1) }
      if let f1a = metrics?.f1a { text += String(format: ", F1a %.2f%%", 100 * f1a) }
      if let em = metrics?.exactMatch { text += String(format: ", exact match %.2f%%", 100 * em) }
      return text
    case .loss:
      return String(format: "eval loss %.4f", -score)
    }
  }
}
