import ArgumentParser
import LomoDistributed
import Foundation
import LomoCore
import LomoKernels
import LomoModel
import LomoTokenizer
import LomoTrain

/// `lomo eval`: accuracy of a model on a multiple-choice data file, or its loss and perplexity
/// on data of any other training format.
struct Eval: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Score a model on a data file: accuracy on answer choices, or loss and perplexity.",
    discussion: """
      Multiple-choice data (SuperGLUE files with --task, with the paper's templates, or JSONL \
      {"prompt", "choices", "label"}): each candidate answer (plus EOS) is scored by its summed \
      negative log-likelihood given the prompt, the LOMO paper's rule; the lowest wins (with \
      --chat, prompt and answer go through the chat template as a user and an assistant turn). Prints \
      accuracy, plus macro-F1 for CB and F1a and exact match for MultiRC; --report keeps every \
      candidate's score. Any other format lomo trains on (messages, prompt-completion, text, \
      input_ids): the mean loss over the tokens training would learn, and its perplexity, so a \
      chat run's held-out conversations can be scored the way they were trained. A progress \
      line with an ETA goes to stderr when stderr is a terminal.
      """)

  @OptionGroup(title: "Model") var model: ModelOption
  @OptionGroup(title: "Data") var data: DataOptions

  @Option(parsing: .unconditional, help: "Seed of the sample taken by --limit.")
  var seed: UInt64 = 0

  @Flag(help: "Score by mean instead of summed NLL per candidate token.")
  var lengthNormalize = false

  @Flag(help: "Multiple choice: put each prompt through the model's chat template as a user turn and score each answer as the assistant's reply (its end-of-turn marker included), as a chat fine-tune is trained.")
  var chat = false

  @Option(help: "Sequences (example × choice) per forward pass.")
  var batchSize = EvaluationOptions().batchSize

  @Option(help: "Write the metrics, every prediction and every candidate's score (or the loss) as JSON to this file. (default: none)")
  var report: String?

  @OptionGroup(title: "Storage") var storage: DTypeOption
  @OptionGroup(title: "Models larger than memory") var streaming: StreamingOptions
  @OptionGroup var threads: ThreadsOption

  func validate() throws {
    if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
  }

  func run() throws {
    threads.apply()
    let dataset = try data.load(seed: seed)
    // Under mpirun the model is sharded over the ranks (for a model larger than one machine):
    // every rank scores every item (the layer gathers keep them in step), rank 0 reports.
    let world = Communicator.world
    if streaming.streamWeights {
      try StreamingPlan.check(optimizer: nil, ranks: world.size)
    } else if !world.isDistributed {
      try StreamingPlan.refuseWeightsThatCannotFit(model.model, dtype: storage.dtype)
    }
    let loaded = try model.load(dtype: storage.dtype, shardedOver: world, streamingLayersIn: streaming.folderOrCurrent)
    try StreamingPlan.planInference(loaded.parameters, batchSize: batchSize, maxSeqLen: data.maxSeqLen,
                                    streamBudget: streaming.streamBudget, from: "eval")
    var builder = try loaded.exampleBuilder(maxSequenceLength: data.maxSeqLen)
    builder.choicesUseChatTemplate = chat
    let evaluator = Evaluator(
      model: LlamaModel(parameters: loaded.parameters),
      options: EvaluationOptions(batchSize: batchSize, lengthNormalize: lengthNormalize,
                                 padToken: loaded.padToken))
    let taskName = dataset.task?.rawValue ?? dataset.format.rawValue
    let setup = { EvaluationReport.Setup(model: loaded.source.path, data: data.data, format: dataset.format,
                                         task: dataset.task, maxSequenceLength: data.maxSeqLen,
                                         truncated: builder.truncatedCount, limit: data.limit, seed: seed) }
    guard dataset.isMultipleChoice else {
      let examples = try dataset.trainingExamples(&builder)
      if builder.truncatedCount > 0 {
        warn("\(builder.truncatedCount) of \(examples.count) examples were longer than --max-seq-len \(data.maxSeqLen) and lost their start")
      }
      warn("\(taskName): \(examples.count) examples scored by their loss, model \(loaded.source.path)")
      let start = DispatchTime.now().uptimeNanoseconds
      let (loss, scored) = evaluator.meanLoss(examples)
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      guard world.rank == 0 else { return }
      let tokens = examples.map(\.tokens.count).reduce(0, +)
      print("\(taskName): loss \(String(format: "%.4f", loss)), perplexity \(String(format: "%.3f", exp(loss))) over \(scored) trained tokens of \(examples.count) examples")
      print("time \(Format.duration(seconds, .compact)), \(tokens) tokens, \(String(format: "%.1f", seconds > 0 ? Double(tokens) / seconds : 0)) tokens/s")
      if let report {
        try EvaluationReport(setup(), examples: examples.count, loss: loss, scoredTokens: scored, tokens: tokens,
                             seconds: seconds).write(to: report)
      }
      return
    }
    let items = try dataset.evaluationItems(&builder)
    if builder.truncatedCount > 0 {
      warn("\(builder.truncatedCount) of \(items.count) prompts were longer than --max-seq-len \(data.maxSeqLen) and lost their start")
    }
    let sequences = items.map(\.candidates.count).reduce(0, +)
    warn("\(taskName): \(items.count) examples, \(sequences) sequences, model \(loaded.source.path)")
    let result = try evaluator.evaluate(items) { p in
      guard Diagnostics.isTerminal, world.rank == 0 else { return }
      let eta = p.etaSeconds.map { Format.duration($0, .compact) } ?? "?"
      let rate = p.elapsedSeconds > 0 ? Double(p.tokens) / p.elapsedSeconds : 0
      Diagnostics.write("\r\u{1B}[K\(taskName): \(p.sequencesDone)/\(p.sequencesTotal) sequences, \(Int(rate)) tokens/s, ETA \(eta)")
    }
    guard world.rank == 0 else { return }
    if Diagnostics.isTerminal { Diagnostics.write("\r\u{1B}[K") }
    let metrics = result.metrics(task: dataset.task)
    let correct = zip(result.predictions, result.labels).filter { $0 == $1 }.count
    print("\(taskName): accuracy \(EvaluationMetrics.percent(metrics.accuracy)) (\(correct)/\(items.count))"
          + metrics.otherMetricsText)
    print("time \(Format.duration(result.seconds, .compact)), \(result.tokens) tokens, \(String(format: "%.1f", result.tokensPerSecond)) tokens/s")
    if let report {
      try EvaluationReport(setup(), result: result, lengthNormalized: lengthNormalize, chatTemplate: chat).write(to: report)
    }
  }

  private func warn(_ message: String) {
    guard Communicator.world.rank == 0 else { return }
    Diagnostics.note(message, from: "lomo eval")
  }


}
