import ArgumentParser
import Foundation
import LomoCore
import LomoKernels
import LomoModel
import LomoTokenizer
import LomoTrain

/// `lomo eval`: zero-shot (or fine-tuned) accuracy of a model on a multiple-choice data file.
struct Eval: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Score every answer choice of a data file by its negative log-likelihood and report accuracy.",
    discussion: """
      Each candidate answer (plus EOS) is scored by its summed negative log-likelihood given the \
      prompt, the LOMO paper's rule; the lowest wins. Data: SuperGLUE files with --task (the \
      paper's templates), or JSONL {"prompt", "choices", "label"}. Prints accuracy, plus macro-F1 \
      for CB and F1a and exact match for MultiRC. A progress line with an ETA goes to stderr \
      when stderr is a terminal.
      """)

  @Option(help: "A .gguf file, a Hugging Face folder, or '\(ModelSource.defaultName)' (the default).")
  var model: String?

  @Option(help: "A JSONL data file.")
  var data: String

  @Option(help: "SuperGLUE task of the file: \(SuperGLUETask.allCases.map(\.rawValue).joined(separator: ", ")). (default: detected from the fields)")
  var task: String?

  @Option(help: "Data format: \(DataFormat.allCases.map(\.rawValue).joined(separator: ", ")). (default: detected from the fields)")
  var format: String?

  @Option(help: "Evaluate at most this many examples, sampled with --seed. (default: all)")
  var limit: Int?

  @Option(help: "Seed of the sample taken by --limit.")
  var seed: UInt64 = 0

  @Option(help: "Longest scored sequence in tokens; longer prompts lose their start.")
  var maxSeqLen = 512

  @Flag(help: "Score by mean instead of summed NLL per candidate token.")
  var lengthNormalize = false

  @Option(help: "Sequences (example × choice) per forward pass.")
  var batchSize = 8

  @Option(help: "Write the metrics and every prediction as JSON to this file.")
  var report: String?

  @Option(help: "Weight storage: f32 or bf16.")
  var dtype: String = "f32"

  @Option(help: "Worker threads (default: all cores).")
  var threads: Int?

  func validate() throws {
    if let task, SuperGLUETask(name: task) == nil {
      throw ValidationError("unknown --task '\(task)'; known: \(SuperGLUETask.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    if let format, DataFormat(rawValue: format) == nil {
      throw ValidationError("unknown --format '\(format)'; known: \(DataFormat.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    if task != nil, let format, format != DataFormat.superglue.rawValue {
      throw ValidationError("--task needs --format superglue (or no --format)")
    }
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    if maxSeqLen < 2 { throw ValidationError("--max-seq-len must be at least 2") }
    if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    if DType(rawValue: dtype) == nil { throw ValidationError("--dtype must be f32, bf16 or f16") }
  }

  func run() throws {
    do {
      try evaluate()
    } catch let e as DatasetError {
      throw failure(e.description)
    } catch let e as EvaluationError {
      throw failure(e.description)
    } catch let e as ModelLoadError {
      throw failure(e.description)
    }
  }

  private func failure(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("lomo eval: error: \(message)\n".utf8))
    return ExitCode.failure
  }

  private func evaluate() throws {
    Runtime.setThreadCount(threads ?? Threads.hardwareCount)
    let task = task.flatMap(SuperGLUETask.init(name:))
    let dataset = try Dataset.load(path: data, format: format.flatMap(DataFormat.init(rawValue:)), task: task)
      .sampled(limit, seed: seed)
    guard dataset.isMultipleChoice else {
      throw failure("\(data): the \(dataset.format.rawValue) format has no answer choices to score; use a SuperGLUE file with --task or {\"prompt\", \"choices\", \"label\"}")
    }
    let loaded = try LoadedModel(model, dtype: DType(rawValue: dtype)!)
    var builder = ExampleBuilder(encoder: loaded.tokenizer, maxSequenceLength: maxSeqLen,
                                 chatTemplate: loaded.chatTemplate,
                                 vocabularySize: loaded.parameters.config.vocabSize)
    let items = try dataset.evaluationItems(&builder)
    if builder.truncatedCount > 0 {
      warn("\(builder.truncatedCount) of \(items.count) prompts were longer than --max-seq-len \(maxSeqLen) and lost their start")
    }
    let taskName = dataset.task?.rawValue ?? dataset.format.rawValue
    let sequences = items.map(\.candidates.count).reduce(0, +)
    warn("\(taskName): \(items.count) examples, \(sequences) sequences, model \(loaded.source.path)")
    let evaluator = Evaluator(
      model: LlamaModel(parameters: loaded.parameters),
      options: EvaluationOptions(batchSize: batchSize, lengthNormalize: lengthNormalize,
                                 padToken: loaded.tokenizer.padID ?? loaded.tokenizer.eosID ?? 0))
    let terminal = isatty(STDERR_FILENO) == 1
    let result = try evaluator.evaluate(items) { p in
      guard terminal else { return }
      let eta = p.etaSeconds.map(Self.duration) ?? "?"
      let rate = p.elapsedSeconds > 0 ? Double(p.tokens) / p.elapsedSeconds : 0
      FileHandle.standardError.write(Data(
        "\r\u{1B}[K\(taskName): \(p.sequencesDone)/\(p.sequencesTotal) sequences, \(Int(rate)) tokens/s, ETA \(eta)".utf8))
    }
    if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    let metrics = result.metrics(task: dataset.task)
    var line = "\(taskName): accuracy \(Self.percent(metrics.accuracy)) (\(zip(result.predictions, result.labels).filter { $0 == $1 }.count)/\(items.count))"
    if let f1 = metrics.macroF1 { line += ", macro-F1 \(Self.percent(f1))" }
    if let f1a = metrics.f1a { line += ", F1a \(Self.percent(f1a))" }
    if let em = metrics.exactMatch { line += ", exact match \(Self.percent(em))" }
    print(line)
    print("time \(Self.duration(result.seconds)), \(result.tokens) tokens, \(String(format: "%.1f", result.tokensPerSecond)) tokens/s")
    if let report {
      let r = EvaluationReport(
        model: loaded.source.path, data: data, format: dataset.format, task: dataset.task, result: result,
        lengthNormalized: lengthNormalize, maxSequenceLength: maxSeqLen, truncated: builder.truncatedCount,
        limit: limit, seed: seed)
      do { try r.write(to: report) } catch { throw failure("cannot write --report \(report): \(error.localizedDescription)") }
    }
  }

  private func warn(_ message: String) {
    FileHandle.standardError.write(Data("lomo eval: \(message)\n".utf8))
  }

  static func percent(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }

  static func duration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : String(format: "%.1fs", seconds)
  }
}
