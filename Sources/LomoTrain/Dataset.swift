import LomoCore

/// The records of one JSONL data file, validated line by line.
///
/// The format comes from `format` or is detected from the first record's fields; every later
/// record must have the same format. SuperGLUE files need `task` unless their fields name one
/// task alone (RTE and CB share theirs).
public struct Dataset: Sendable {
  public let file: String
  public let format: DataFormat
  public let task: SuperGLUETask?
  /// One record per example (MultiRC: per answer option; ReCoRD: per query).
  public var records: [DatasetRecord]
  /// The 1-based line each record came from.
  public var lines: [Int]

  public static func load(path: String, format: DataFormat? = nil, task: SuperGLUETask? = nil) throws -> Dataset {
    var format = format ?? (task == nil ? nil : .superglue)
    var task = task
    if task != nil && format != .superglue {
      throw DatasetError(file: path, .undetectedFormat("--task applies to SuperGLUE files, not the \(format!.rawValue) format"))
    }
    var records: [DatasetRecord] = []
    var lines: [Int] = []
    try JSONLReader(path: path).forEachObject { object, line in
      do {
        if format == nil || (format == .superglue && task == nil) {
          let detected = try DataFormat.detect(object)
          if format == .superglue && detected.0 != .superglue {
            throw RecordProblem(.undetectedFormat("the fields are not those of a SuperGLUE task; pass --task or another --format"))
          }
          format = detected.0
          task = detected.1
        }
        let parsed = try DatasetRecord.parse(object, format: format!, task: task)
        records += parsed
        lines += Array(repeating: line, count: parsed.count)
      } catch let e as RecordProblem {
        throw DatasetError(file: path, line: line, e.problem)
      } catch let e as JSONError {
        throw DatasetError(file: path, line: line, DatasetError.Problem(e))
      }
    }
    guard let format, !records.isEmpty else { throw DatasetError(file: path, .empty) }
    return Dataset(file: path, format: format, task: task, records: records, lines: lines)
  }

  /// Whether the records are choice items that an evaluator can score.
  public var isMultipleChoice: Bool {
    records.allSatisfy { if case .choice = $0 { true } else { false } }
  }

  /// At most `count` records chosen with `seed`, in file order.
  ///
  /// The choice is a partial Fisher–Yates shuffle driven by `Xoshiro256(seed:)`: deterministic
  /// for a seed and a record count, but not the sample of Python's `random.sample` that the
  /// LOMO paper's code draws with `random.seed(0)`. MultiRC is sampled by answer option, after
  /// flattening, as the paper's code does.
  public func sampled(_ count: Int?, seed: UInt64) -> Dataset {
    guard let count, count < records.count else { return self }
    let picked = Self.sampleIndices(count: count, from: records.count, seed: seed)
    var copy = self
    copy.records = picked.map { records[$0] }
    copy.lines = picked.map { lines[$0] }
    return copy
  }

  /// `count` distinct indices of 0..<n, sorted.
  public static func sampleIndices(count: Int, from n: Int, seed: UInt64) -> [Int] {
    precondition(count >= 0)
    guard count < n else { return Array(0..<n) }
    var rng = Xoshiro256(seed: seed)
    var all = Array(0..<n)
    for i in 0..<count {
      all.swapAt(i, Int.random(in: i..<n, using: &rng))
    }
    return all[..<count].sorted()
  }
}
