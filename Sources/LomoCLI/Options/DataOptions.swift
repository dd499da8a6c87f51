import ArgumentParser
import LomoTrain

/// The data a command reads: a JSONL file, its format, how much of it, how long a sequence.
struct DataOptions: ParsableArguments {
  @Option(help: "JSONL data, one example per line: a SuperGLUE file, {\"prompt\", \"completion\"}, {\"prompt\", \"choices\", \"label\"}, {\"messages\"}, {\"text\"} or {\"input_ids\"[, \"labels\"]}.")
  var data: String

  @Option(help: "SuperGLUE task of the data. (default: detected from the fields)")
  var task: SuperGLUETask?

  @Option(help: "Data format. (default: detected from the fields)")
  var format: DataFormat?

  @Option(parsing: .unconditional, help: "Use at most this many examples, sampled with --seed. (default: all)")
  var limit: Int?

  @Option(parsing: .unconditional, help: "Longest sequence in tokens; a longer example loses the start of its prompt, with a warning count.")
  var maxSeqLen: Int = ExampleBuilder.defaultMaxSequenceLength

  func validate() throws {
    if task != nil, let format, format != .superglue {
      throw ValidationError("--task needs --format superglue (or no --format)")
    }
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    if maxSeqLen < 2 { throw ValidationError("--max-seq-len must be at least 2") }
  }

  /// The records of --data, --limit of them sampled with `seed`.
  func load(seed: UInt64) throws -> Dataset { try load(data, limit: limit, seed: seed) }

  /// The records of another file in the same --format and --task (e.g. evaluation data),
  /// `limit` of them sampled with `seed`.
  func load(_ path: String, limit: Int?, seed: UInt64) throws -> Dataset {
    try Dataset.load(path: path, format: format, task: task).sampled(limit, seed: seed)
  }
}
