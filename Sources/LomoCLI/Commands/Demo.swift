import ArgumentParser
import Foundation
import LomoCore
import LomoKernels
import LomoModel
import LomoOptim
import LomoTrain

/// `lomo demo`: fine-tune the default model with lomo's default optimizer (or --optimizer) on a
/// task lomo generates itself (the parity of 3-digit numbers), and show zero-shot vs
/// fine-tuned accuracy, memory and speed.
struct Demo: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Fine-tune a model on a generated task and show what it learned.",
    discussion: """
      The task: "Is 347 even or odd?\\nLast digit 7 is" with the answers " even" and " odd". lomo \
      generates --train training and --eval evaluation items from --seed (no download), scores \
      each evaluation item zero-shot by the summed negative log-likelihood of each answer plus \
      EOS (the LOMO paper's rule), fine-tunes every parameter with `lomo train`'s defaults \
      (AdaLomo unless --optimizer; the optimizer's learning rate and clipping unless --lr and \
      --clip-grad-norm), and scores again.
      """)

  @OptionGroup(title: "Model") var model: ModelOption

  @Option(parsing: .unconditional, help: "Generated training items.")
  var train = 320

  @Option(parsing: .unconditional, help: "Generated evaluation items (numbers disjoint from the training ones).")
  var eval = 100

  @Option(parsing: .unconditional, help: "Training steps.")
  var steps = 100

  @Option(parsing: .unconditional, help: "Examples per step.")
  var batchSize = 8

  @Option(help: "Optimizer, as for `lomo train`.")
  var optimizer: OptimizerKind = .recommended

  @Option(parsing: .unconditional, help: "Peak learning rate (linear decay, 10% warmup). (default: the optimizer's, as for `lomo train`)")
  var lr: Float?

  @Option(parsing: .unconditional, help: "Clip gradients to this global norm (0: off). (default: the optimizer's, as for `lomo train`)")
  var clipGradNorm: Float?

  @OptionGroup(title: "Storage") var storage: DTypeOption

  @Option(parsing: .unconditional, help: "Seed of the generated items and the data order.")
  var seed: UInt64 = 1

  @OptionGroup var threads: ThreadsOption

  func validate() throws {
    if train < batchSize || eval < 2 { throw ValidationError("need at least one batch and 2 eval items") }
    if steps < 1 { throw ValidationError("--steps must be at least 1") }
    let problems = trainingOptions.problems
    if !problems.isEmpty { throw ValidationError(problems.joined(separator: "; ")) }
  }

  /// The demo's run: `lomo train`'s defaults for --optimizer (linear decay after a 10% warmup),
  /// --steps steps of --batch-size.
  var trainingOptions: TrainingOptions {
    var options = TrainingOptions(optimizer: optimizer)
    if let lr { options.learningRate = lr }
    if let clipGradNorm { options.clipGradNorm = clipGradNorm }
    options.length = .maxSteps(steps)
    options.batchSize = batchSize
    options.dtype = storage.dtype
    options.seed = seed
    return options
  }

  func run() throws {
    threads.apply()
    let started = DispatchTime.now().uptimeNanoseconds
    func clock() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
    let storage = storage.dtype
    let loaded = try model.load(dtype: storage)
    guard let eos = loaded.tokenizer.eosID else { throw CommandError("\(loaded.source.path): the tokenizer has no EOS token, which the demo's answers end with") }
    let llama = LlamaModel(parameters: loaded.parameters)
    let (trainItems, evalItems) = ParityTask.items(train: train, eval: eval, seed: seed)
    let encode = { (text: String) in loaded.tokenizer.encode(text, addSpecial: true, parseSpecial: false) }
    let answers = ParityTask.answers.map { loaded.tokenizer.encode($0, addSpecial: false, parseSpecial: false) + [eos] }
    let trainSet = trainItems.map { TokenizedExample(prompt: encode($0.prompt), completion: answers[$0.label]) }
    let evalSet = evalItems.map {
      MultipleChoiceItem(prompt: encode($0.prompt), candidates: answers, label: $0.label)
    }
    note("model \(loaded.source.path) (\(storage)), \(train) train / \(eval) eval items, seed \(seed)")

    // The paper's rule, as `lomo eval` applies it: summed NLL of answer + EOS, lowest wins.
    let evaluator = Evaluator(model: llama, options: EvaluationOptions(batchSize: 32, padToken: eos))
    func accuracy() throws -> Double { try evaluator.evaluate(evalSet).metrics(task: nil).accuracy }
    let t0 = clock()
    let zeroShot = try accuracy()
    let zeroShotSeconds = clock() - t0
    note(String(format: "zero-shot accuracy %.1f%% (%.0f s)", zeroShot * 100, zeroShotSeconds))

    let options = trainingOptions
    let trainer = try Trainer(model: llama, examples: trainSet, padToken: eos, options: options)
    try Trainer.estimate(config: llama.config, options: options, maxSeqLen: trainer.maxSequenceLength).check()
    let progress = ProgressPrinter()
    let summary = try trainer.run { event in
      if case .step(let m) = event { progress.step(m) }
    }
    progress.finish()

    let t1 = clock()
    let tuned = try accuracy()
    let tunedSeconds = clock() - t1

    let usage = summary.peakMemory
    var rows: [(String, String)] = [
      ("zero-shot accuracy", String(format: "%.1f%%  (%d items, %.0f s)", zeroShot * 100, eval, zeroShotSeconds)),
      ("fine-tuned accuracy", String(format: "%.1f%%  (%.0f s)", tuned * 100, tunedSeconds)),
      ("training", "\(options.optimizer.rawValue), "
        + String(format: "%d steps × %d examples, lr %g", summary.steps, batchSize, options.learningRate)
        + (options.clipGradNorm > 0 ? String(format: ", clip %g", options.clipGradNorm) : "")
        + String(format: ", %.0f s, %.0f tokens/s", summary.seconds, summary.tokensPerSecond)),
      ("final training loss", summary.finalLoss.map { String(format: "%.4f", $0) } ?? "-"),
    ]
    for c in MemoryCategory.allCases where c.isReported(peak: usage[c] ?? 0) {
      rows.append(("peak \(c.rawValue)", Format.bytes(usage[c] ?? 0)))
    }
    rows.append(("peak ledger total", Format.bytes(summary.peakLedgerBytes)))
    rows.append(("peak RSS", Format.bytes(summary.peakRSSBytes)))
    rows.append(("wall time", String(format: "%.0f s", clock())))
    print("\nlomo demo: parity of 3-digit numbers, full-parameter fine-tuning\n")
    print(TextTable.keyValue(rows))
  }

  func note(_ s: String) { Diagnostics.note(s) }
}

/// The demo's task: is a 3-digit number even or odd?
enum ParityTask {
  static let answers = [" even", " odd"]

  struct Item {
    let prompt: String
    let label: Int
  }

  /// Disjoint train and eval numbers from 100...999, drawn with `seed`.
  static func items(train: Int, eval: Int, seed: UInt64) -> (train: [Item], eval: [Item]) {
    var rng = Xoshiro256(seed: seed)
    var numbers = Array(100...999)
    for i in stride(from: numbers.count - 1, to: 0, by: -1) {
      numbers.swapAt(i, Int(rng.next() % UInt64(i + 1)))
    }
    // The last digit is spelled out next to the answer: the rule to learn is local (digit ->
    // parity word), so LOMO picks it up within a few minutes on 2 cores.
    let make = { (n: Int) in Item(prompt: "Is \(n) even or odd?\nLast digit \(n % 10) is", label: n % 2) }
    let evalCount = min(eval, numbers.count / 2)
    let evalItems = numbers.prefix(evalCount).map(make)
    // Training items repeat numbers when more are asked for than remain.
    let rest = Array(numbers.dropFirst(evalCount))
    let trainItems = (0..<train).map { make(rest[$0 % rest.count]) }
    return (trainItems, evalItems)
  }
}
