import LomoCore

/// Failures of training and checkpointing, with the file and what went wrong (data files throw
/// `DatasetError`).
public enum TrainingError: Error, Equatable, CustomStringConvertible {
  case invalidOptions([String])
  case io(path: String, problem: String)
  case checkpoint(path: String, problem: String)
  case insufficientMemory(estimate: MemoryEstimate, availableBytes: Int)
  case noExamples

  public var description: String {
    switch self {
    case .invalidOptions(let p): "invalid training options: " + p.joined(separator: "; ")
    case .io(let path, let problem): "\(path): \(problem)"
    case .checkpoint(let path, let problem): "checkpoint \(path): \(problem)"
    case .insufficientMemory(let e, let available):
      "this run needs about \(Format.bytes(e.processBytes)) but only "
        + "\(Format.bytes(available)) is available:\n\(e.table)"
    case .noExamples: "no training examples"
    }
  }
}
